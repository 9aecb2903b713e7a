# SPDX-License-Identifier: LGPL-2.1-or-later
#
# What the host needs, as the kernel knows it, under the hardened
# vfiod.service: storage stacked any way (a loop device over the disk
# too), deep below its controller (USB behind a hub), mounted in any
# namespace or held from a thread's own fd table; SR-IOV virtual
# functions; interfaces stacked under a default route in any table;
# platform functions; and the root filesystem as a live system has it (an
# overlay whose 9p lower layer no mount table shows). Every refusal names
# the user and changes nothing in sysfs.
. "$VM_SRCDIR/tests/vm/guest/tap.sh"

nvme=$VM_NVME_ADDR
nvme2=$VM_NVME2_ADDR
e1000=$VM_E1000_ADDR
disk_of() { ls "/sys/bus/pci/devices/$1/nvme/"*/ 2>/dev/null | grep -m1 '^nvme[0-9]*n1$'; }
# refused ADDRESS ERROR REGEX DESCRIPTION: a claim refused with that D-Bus
# error and a message matching REGEX, the device left on its driver.
refused() {
    local addr=$1 error=$2 regex=$3 desc=$4 before out
    before=$(pci_driver "$addr")
    out=$(vfioctl-client --json claim "$addr" 2>/dev/null)
    like "$out" "\"error\":\"io.github.vfiod1.Error.$error\".*$regex" "$desc"
    is "$(pci_driver "$addr")" "$before" "  and $addr stays on $before"
}

udevadm settle
modprobe -a btrfs dm-mod raid1 loop bridge bonding 8021q 2>/dev/null
blk=$(disk_of "$nvme")
blk2=$(disk_of "$nvme2")
check "both NVMe drives have their disks ($blk, $blk2)" test -b "/dev/$blk" -a -b "/dev/$blk2"
check "vfiod.service starts" systemctl start vfiod.service

# ---- the root filesystem: an overlay on 9p, its lower layer in no table ----
check "the guest's root is an overlay" test "$(findmnt -n -o FSTYPE /)" = overlay
check "no mount table shows the 9p lower layer" sh -c "! grep -q ' 9p vmroot ' /proc/1/mountinfo"
refused "$VM_ROOT9P_ADDR" HostCritical "9p filesystem 'vmroot'.*/ \\(overlay\\) rests on /lower, which is not in the host's mount table" \
    "the 9p device behind the root is host-critical, though no table shows it"

# ---- btrfs on NVMe, mounted ----
mkfs.btrfs -q -f "/dev/$blk2" > /dev/null
mkdir -p /mnt/btrfs && mount "/dev/$blk2" /mnt/btrfs
refused "$nvme2" DeviceBusy "$blk2, which is in use: mounted at /mnt/btrfs \\(btrfs\\)" "a mounted btrfs: DeviceBusy, named"
umount /mnt/btrfs

# ---- a USB disk behind a hub: its disk lies 9 levels below the xHCI ----
usb=$VM_USB_ADDR
usb_disk() { find "/sys/bus/pci/devices/$usb/" -path '*/block/sd*' -name 'sd[a-z]' -printf '%f\n' 2>/dev/null | head -n1; }
usb_disk_here() { [ -n "$(usb_disk)" ]; }
check "the USB disk behind the hub is there" wait_for 30 usb_disk_here
sdx=$(usb_disk)
below=$(readlink -f "/sys/class/block/$sdx"); below=${below#*/"$usb"/}
like "$below" '^usb[0-9]+/[0-9]+-1/[0-9]+-1\.1/.*/block/sd[a-z]$' "  $sdx lies behind the hub: $below"
mkfs.ext4 -q -F "/dev/$sdx"
mkdir -p /mnt/usb && mount "/dev/$sdx" /mnt/usb
refused "$usb" DeviceBusy "$sdx, which is in use: mounted at /mnt/usb \\(ext4\\)" \
    "a mounted USB disk behind a hub: DeviceBusy, named"
umount /mnt/usb
check "unmounted, the xHCI is claimed" vfioctl-client claim "$usb"
check "and released" vfioctl-client release "$usb"

# ---- a multipathed NVMe namespace: its disk is the head, below the subsystem ----
mp=$VM_NVME_MPATH_ADDR
mp_path=$(ls "/sys/bus/pci/devices/$mp/nvme/"*/ | grep -m1 '^nvme[0-9]*c[0-9]*n1$')
mp_head=$(echo "$mp_path" | sed 's/c[0-9]*n/n/')
check "the multipath NVMe has a hidden path ($mp_path) and a head disk ($mp_head)" \
    test -n "$mp_path" -a ! -e "/dev/$mp_path" -a -b "/dev/$mp_head"
mp_paths() { ls -d /sys/bus/pci/devices/${mp%.0}.[01]/nvme/nvme*/nvme*c*n1 2>/dev/null | wc -l; }
is "$(mp_paths) $(pci_group "${mp%.0}.1")" "2 $(pci_group "$mp")" \
    "  a path from each of two controllers, both in one IOMMU group"
mkfs.ext4 -q -F "/dev/$mp_head"
mkdir -p /mnt/mpath && mount "/dev/$mp_head" /mnt/mpath
refused "$mp" DeviceBusy "$mp_head, which is in use: mounted at /mnt/mpath \\(ext4\\)" \
    "a mounted multipathed namespace: DeviceBusy, naming its head disk"
umount /mnt/mpath
exec 3< "/dev/$mp_head"
refused "$mp" DeviceBusy "/dev/$mp_head of $mp is open in PID $$" "its head disk held open: DeviceBusy, naming the process"
exec 3<&-
# Held by a thread, in an fd table that /proc/PID/fd does not show: one
# the thread unshared, or the one whose main thread has exited.
for kind in own-table main-exits; do
    "$VM_THREAD_HOLDER" "$kind" "/dev/$mp_head" > /tmp/thread-holder.out &
    holder=$!
    check "a thread holds /dev/$mp_head ($kind)" wait_for 10 grep -qx "holder $holder" /tmp/thread-holder.out
    refused "$mp" DeviceBusy "/dev/$mp_head of $mp is open in PID $holder" \
        "so held: DeviceBusy, naming the process"
    kill $holder; wait $holder 2>/dev/null
done
like "$(journalctl -u vfiod --no-pager)" "Open device nodes are found by the kernel's walk over every process's files" \
    "  the kernel walked every process's files (a BPF iterator): no look through /proc"
# A node made outside /dev, where no look through /proc would go: the
# kernel's walk compares the file's device number, wherever it lies.
mkdir -p /mnt/nodes && mount -t tmpfs -o dev nodes /mnt/nodes
mknod /mnt/nodes/elsewhere b $(stat -c '0x%t 0x%T' "/dev/$mp_head")
exec 3< /mnt/nodes/elsewhere
refused "$mp" DeviceBusy "/dev/$mp_head of $mp is open in PID $$" "its head disk held through a node outside /dev: DeviceBusy"
exec 3<&-
umount /mnt/nodes
# Found free through the first path, the head is held by vfiod until the
# unbind: the second path's look finds it held by vfiod itself, not busy.
# An fd opened with O_PATH, which any user may hold of any node, has not
# opened the disk, and does not make it busy.
setpriv --reuid=nobody --regid=nogroup --clear-groups python3 -c '
import os, sys, time
os.open(sys.argv[1], os.O_PATH)
print("ready", flush=True)
time.sleep(600)' "/dev/$mp_head" > /tmp/o-path.out &
o_path=$!
check "nobody holds /dev/$mp_head with O_PATH" wait_for 10 grep -qx ready /tmp/o-path.out
out=$(vfioctl-client claim "$mp" 2>&1)
is "$?" 0 "unused, the multipath NVMe is claimed, both controllers at once" || diag "$out"
check "and released" vfioctl-client release "$mp"
kill $o_path; wait $o_path 2>/dev/null

# ---- a physical function whose SR-IOV virtual functions are enabled ----
# They do not outlive its move (nvme leaves them enabled when it lets go,
# but vfio-pci disables them at release, and a reset of the PF resets them).
pf=$VM_NVME_SRIOV_ADDR
echo 2 > "/sys/bus/pci/devices/$pf/sriov_numvfs"
udevadm settle
vfs=$(for v in /sys/bus/pci/devices/$pf/virtfn*; do basename "$(readlink -f "$v")"; done | tr '\n' ' ')
check "the SR-IOV NVMe has two virtual functions ($vfs)" test -e "/sys/bus/pci/devices/$pf/virtfn1"
refused "$pf" DeviceBusy "$pf has 2 SR-IOV virtual functions enabled, which its move would take" \
    "a PF with virtual functions enabled: DeviceBusy, saying why"
check "  and both virtual functions are still there" test -e "/sys/bus/pci/devices/$pf/virtfn1"
echo 0 > "/sys/bus/pci/devices/$pf/sriov_numvfs"
check "with them disabled, the PF is claimed" vfioctl-client claim "$pf"
check "and released" vfioctl-client release "$pf"
is "$(pci_driver "$pf")" nvme "  back on nvme"

# ---- mounted only in another mount namespace ----
# Before it there, a tmpfs whose source names the disk (anyone may pick a
# tmpfs's source in a namespace of her own): it is not what uses the disk.
mkfs.ext4 -q -F "/dev/$blk2"
mkdir -p /mnt/private /mnt/fake
unshare --mount --propagation private \
    sh -c "mount -t tmpfs /dev/$blk2 /mnt/fake && mount /dev/$blk2 /mnt/private && exec sleep 600" &
ns_holder=$!
check "the filesystem is mounted in the other namespace only" \
    wait_for 10 sh -c "grep -q ' /mnt/private ' /proc/$ns_holder/mountinfo && ! grep -q ' /mnt/private ' /proc/1/mountinfo"
refused "$nvme2" DeviceBusy "$blk2, which is in use: mounted at /mnt/private \\(ext4\\) in the mount namespace of PID $ns_holder" \
    "a mount in another namespace: DeviceBusy, named with its namespace"
kill $ns_holder; wait $ns_holder 2>/dev/null

# ---- ext4 on device-mapper over NVMe, then mounted at /home ----
dmsetup create vfiodtest --table "0 $(blockdev --getsz /dev/$blk2) linear /dev/$blk2 0"
dm=$(basename "$(readlink -f /dev/mapper/vfiodtest)")
mkfs.ext4 -q -F /dev/mapper/vfiodtest
mkdir -p /mnt/dm && mount /dev/mapper/vfiodtest /mnt/dm
refused "$nvme2" DeviceBusy "$blk2, which is in use: held by $dm" "ext4 on dm: DeviceBusy, naming the dm device"
umount /mnt/dm
mount /dev/mapper/vfiodtest /home
refused "$nvme2" HostCritical "holds $blk2, which carries /home \\(ext4\\) through $dm" \
    "/home on dm over NVMe: HostCritical, through the stack"
umount /home
dmsetup remove vfiodtest

# ---- a loop device whose backing file is on the NVMe, carrying /var ----
mount "/dev/$blk2" /mnt/dm
truncate -s 8M /mnt/dm/var.img
mkfs.ext4 -q -F /mnt/dm/var.img
loopdev=$(losetup --find --show /mnt/dm/var.img)
mount "$loopdev" /var
refused "$nvme2" HostCritical "holds $blk2, which carries /var \\(ext4\\) through loop[0-9]+" \
    "/var on a loop device whose file is on the NVMe: HostCritical"
umount /var
losetup -d "$loopdev"
umount /mnt/dm

# ---- a loop device over the NVMe disk itself: no exclusive claim, no fd ----
loopdev=$(losetup --find --show "/dev/$blk2")
mkfs.ext4 -q -F "$loopdev"
mount "$loopdev" /mnt/dm
refused "$nvme2" DeviceBusy "$blk2, which backs the loop device ${loopdev#/dev/}" \
    "ext4 on a loop device over the disk: DeviceBusy, naming the loop device"
umount /mnt/dm
mount "$loopdev" /var
refused "$nvme2" HostCritical "holds $blk2, which carries /var \\(ext4\\) through ${loopdev#/dev/}" \
    "/var on it: HostCritical, through the loop device"
umount /var
losetup -d "$loopdev"

# ---- md RAID1 over both NVMe drives ----
mdadm --create /dev/md/vfiodtest --run --quiet --level=1 --raid-devices=2 --metadata=1.2 \
    "/dev/$blk" "/dev/$blk2" 2>/dev/null
md=$(basename "$(readlink -f /dev/md/vfiodtest)")
check "the RAID1 is assembled ($md)" test -b "/dev/$md"
refused "$nvme" DeviceBusy "$blk, which is in use: held by $md" "a RAID1 member: DeviceBusy, naming the array"
mkswap -q "/dev/$md" > /dev/null && swapon "/dev/$md"
refused "$nvme2" HostCritical "holds $blk2, which carries an active swap \\(/dev/$md\\) through $md" \
    "swap on the RAID1: HostCritical for either drive"
swapoff "/dev/$md"
# A partitioned array (Intel RST sets come so): /home on its first partition.
echo ',,L' | sfdisk -q "/dev/$md" > /dev/null 2>&1
udevadm settle
check "the RAID1 is partitioned (${md}p1)" test -b "/dev/${md}p1"
mkfs.ext4 -q -F "/dev/${md}p1"
mount "/dev/${md}p1" /home
refused "$nvme" HostCritical "holds $blk, which carries /home \\(ext4\\) through ${md}p1 through $md" \
    "/home on a partition of the RAID1: HostCritical, through the partition and the array"
umount /home
wipefs -q -a "/dev/$md" > /dev/null # it says it re-read the partition table
mdadm --stop "/dev/$md" --quiet
mdadm --zero-superblock "/dev/$blk" "/dev/$blk2"

# ---- swap directly on the NVMe ----
mkswap -q "/dev/$blk2" > /dev/null && swapon "/dev/$blk2"
refused "$nvme2" HostCritical "holds $blk2, which carries an active swap \\(/dev/$blk2\\)" "an active swap: HostCritical"
swapoff "/dev/$blk2"
wipefs -q -a "/dev/$blk2"
check "unused again, the NVMe is claimed" vfioctl-client claim "$nvme2"
check "and released" vfioctl-client release "$nvme2"
is "$(pci_driver "$nvme2")" nvme "back on nvme"

# ---- the network: default routes through stacked devices, in any table ----
udevadm settle
iface=$(ls "/sys/bus/pci/devices/$e1000/net" | head -1)
check "e1000 has an interface ($iface)" test -n "$iface"
# The routes are the ones each case adds: no router advertisement of QEMU's
# network may add an IPv6 default route to an interface once it is up.
sysctl -qw net.ipv6.conf.default.accept_ra=0 "net.ipv6.conf.$iface.accept_ra=0"
net_reset() {
    ip link del br0 2>/dev/null; ip link del bond0 2>/dev/null; ip link del "$iface.10" 2>/dev/null
    ip link del br10 2>/dev/null
    ip route flush table 100 2>/dev/null
    ip addr flush dev "$iface"; ip link set "$iface" down
}

ip link add br0 type bridge
ip link set "$iface" master br0
ip link set "$iface" up; ip link set br0 up
refused "$e1000" DeviceBusy "is $iface, enslaved to br0" "a bridge port: DeviceBusy"
ip addr add 10.0.2.15/24 dev br0
ip route add default via 10.0.2.2 dev br0
refused "$e1000" HostCritical "is $iface, below br0, which carries a default route \\(table main\\)" \
    "the default route through a bridge: HostCritical"
net_reset

ip link add bond0 type bond
ip link set "$iface" master bond0
ip link set bond0 up
ip addr add 10.0.2.15/24 dev bond0
ip route add default via 10.0.2.2 dev bond0
refused "$e1000" HostCritical "is $iface, below bond0, which carries a default route" \
    "the default route through a bond: HostCritical"
net_reset

ip link set "$iface" up
ip link add link "$iface" name "$iface.10" type vlan id 10
ip link set "$iface.10" up
ip addr add 10.0.3.15/24 dev "$iface.10"
ip -6 route add default via fe80::1 dev "$iface.10"
refused "$e1000" HostCritical "is $iface, below $iface.10, which carries a default route" \
    "an IPv6 default route through a VLAN: HostCritical"
net_reset

ip link set "$iface" up
ip addr add 10.0.2.15/24 dev "$iface"
refused "$e1000" DeviceBusy "is $iface, which is up with addresses" "up with an address: DeviceBusy"
ip route add default via 10.0.2.2 dev "$iface" table 100
refused "$e1000" HostCritical "is $iface, which carries a default route \\(table 100\\)" \
    "a default route in another table: HostCritical"
net_reset
# An interface handed to a container: its namespace's routes are not vfiod's to see.
ip netns add vfiodtest
ip link set "$iface" netns vfiodtest
check "the interface is out of the host's namespace" test ! -e "/sys/class/net/$iface"
refused "$e1000" DeviceBusy "has a network interface in another network namespace" \
    "an interface in another network namespace: DeviceBusy"
ip -n vfiodtest link set "$iface" netns 1
ip netns del vfiodtest
check "the interface is back" wait_for 5 test -e "/sys/class/net/$iface"
# More devices stacked on it than the walk used to list: 20 macvlans (as
# libvirt's direct mode makes) beside a VLAN whose bridge has the route.
ip link set "$iface" up
for i in $(seq 20); do ip link add "vfiodmv$i" link "$iface" type macvlan mode bridge; done
ip link add link "$iface" name "$iface.10" type vlan id 10
ip link add br10 type bridge
ip link set "$iface.10" master br10
ip link set "$iface.10" up; ip link set br10 up
ip addr add 10.0.4.15/24 dev br10
ip route add default via 10.0.4.2 dev br10 table 100
refused "$e1000" HostCritical "is $iface, below br10, which carries a default route \\(table 100\\)" \
    "the default route on a bridge over a VLAN, beside 20 macvlans: HostCritical"
for i in $(seq 20); do ip link del "vfiodmv$i"; done
net_reset
check "a quiet interface is claimed" vfioctl-client claim "$e1000"
check "and released" vfioctl-client release "$e1000"

# ---- virtio-net: its interface lives below the virtio device ----
vnet=$VM_VIRTIO_NET_ADDR
viface=$(ls /sys/bus/pci/devices/$vnet/virtio*/net 2>/dev/null | head -1)
check "virtio-net has an interface ($viface)" test -n "$viface"
ip netns add vfiodtest
ip link set "$viface" netns vfiodtest
refused "$vnet" DeviceBusy "has a network interface in another network namespace" \
    "a virtio-net interface in another network namespace: DeviceBusy"
ip -n vfiodtest link set "$viface" netns 1
ip netns del vfiodtest
check "its interface is back" wait_for 5 test -e "/sys/class/net/$viface"
check "quiet, virtio-net is claimed" vfioctl-client claim "$vnet"
check "and released" vfioctl-client release "$vnet"
is "$(pci_driver "$vnet")" virtio-pci "virtio-net is back on virtio-pci"

# ---- platform functions never move, not even with force ----
for addr in 0000:00:00.0 0000:00:1f.0 0000:00:1f.3; do
    class=$(cat "/sys/bus/pci/devices/$addr/class")
    before=$(pci_driver "$addr")
    out=$(vfioctl-client --json --force claim "$addr" 2>/dev/null)
    like "$out" '"error":"io.github.vfiod1.Error.PlatformDevice".*never moves' "$addr (class $class) is refused, even with force"
    is "$(pci_driver "$addr")" "$before" "  and stays on $before"
done

done_testing
