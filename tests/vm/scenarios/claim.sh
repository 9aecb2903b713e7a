# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The rebinding engine against the real kernel: whole groups to vfio-pci and
# back through vfiod, for a device without a driver (edu), with one (e1000),
# with one that probes asynchronously (nvme), and a group behind a bridge;
# and the safety rails that refuse what the host needs.
. "$VM_SRCDIR/tests/vm/guest/tap.sh"

net_ifaces() { ls "/sys/bus/pci/devices/$1/net" 2>/dev/null | xargs; }

# ---- edu: no original driver; vfio-pci is loaded on demand ----
modprobe -r vfio-pci 2>/dev/null
check "vfio-pci is not loaded before the first claim" test ! -e /sys/bus/pci/drivers/vfio-pci
g=$(pci_group "$VM_EDU_ADDR")
out=$(vfioctl-client claim "$VM_EDU_ADDR" 2>&1)
check "claim edu succeeds" test $? = 0
diag "$out"
is "$(pci_driver "$VM_EDU_ADDR")" vfio-pci "edu is on vfio-pci"
check "vfiod loaded vfio-pci" test -e /sys/bus/pci/drivers/vfio-pci
check "/dev/vfio/$g exists" test -c "/dev/vfio/$g"
is "$(group_state "$g")" claimed "group $g shows as claimed"
like "$(vfioctl-client --json show "$VM_EDU_ADDR")" '"state":"claimed"' "the device shows as claimed"
out=$(vfioctl-client --json claim "$g" 2>/dev/null); status=$?
like "$out" '"error":"io.github.vfiod1.Error.GroupBusy".*group '"$g"' is leased to uid 0 \(pid [0-9]+, persistent lease 1\)' \
    "a second claim is refused (GroupBusy)"
is "$status" 4 "vfioctl-client exits 4: busy"
json_shape error "$out" "its --json is one error object"
out=$(vfioctl-client --json release "$VM_EDU_ADDR")
is "$?" 0 "release edu succeeds"
json_shape claim "$out" "release --json: the group, its devices back"
is "$(pci_driver "$VM_EDU_ADDR")" none "edu is without a driver again, as it was"
is "$(cat /sys/bus/pci/devices/$VM_EDU_ADDR/driver_override)" "(null)" "its driver_override is cleared"
is "$(group_state "$g")" unbound "group $g shows as unbound"
out=$(vfioctl-client release "$g" 2>&1)
like "$out" "holds no claim of IOMMU group $g" "releasing it again: NotClaimed"

# ---- the caller leaves while its claim runs: nobody to hand the group to ----
# A chown claim waits for udev to be done with /dev/vfio/N before it hands
# the node over: with udevd stopped, the claim waits at that step.
at_node_step() { [ "$(group_state "$g" Step)" = "node" ]; }
settled_back() { [ "$(group_state "$g")" = unbound ] && [ "$(pci_driver "$VM_EDU_ADDR")" = none ]; }
udevadm settle
udevd=$(pgrep -o -x systemd-udevd)
kill -STOP "$udevd"
busctl --system call io.github.vfiod1 /io/github/vfiod1 io.github.vfiod1.Manager ClaimGroup 'ua{sv}' "$g" \
    1 mode s chown > /dev/null 2>&1 &
caller=$!
check "the claim has moved edu and waits for udev" wait_for 20 at_node_step
kill "$caller"; wait "$caller" 2>/dev/null
# Meanwhile vfiod waits; it must not spin on the name that left. Spinning
# takes a whole CPU, 200 ticks (USER_HZ 100) in these 2 s; waiting takes a
# few, more under TCG when the guest is busy with the caller's exit: half
# a CPU tells the two apart without racing the machine's speed.
vfiod_ticks() { awk '{ print $14 + $15 }' "/proc/$(pgrep -x vfiod)/stat"; }
ticks=$(vfiod_ticks); sleep 2
used=$(($(vfiod_ticks) - ticks))
check "vfiod idles while its claim waits ($used ticks of CPU in 2 s)" test "$used" -lt 100
kill -CONT "$udevd"
check "its caller gone, the group is released" wait_for 30 settled_back
is "$(vfioctl-client --json leases | grep -c "\"iommu_group\":$g,")" 0 "and nobody leases it"
check "and no claim record is left" test ! -e "/run/vfiod/claims/group-$g"

# ---- mallory has no polkit rule: refused, nothing moves ----
out=$(setpriv --reuid=mallory --regid=mallory --init-groups vfioctl-client --json claim "$VM_EDU_ADDR" -- true 2>/dev/null)
like "$out" '"error":"io.github.vfiod1.Error.NotAuthorized","message":"Not authorized for io.github.vfiod1.claim' \
    "mallory's claim is refused (NotAuthorized)"
is "$(pci_driver "$VM_EDU_ADDR")" none "and edu did not move"

# ---- a driver_override the claim record could not be read back with ----
# Root may write any text there; a record that a restart cannot read would
# leave the group untracked, so the claim is refused before anything moves.
echo "foo bar" > "/sys/bus/pci/devices/$VM_EDU_ADDR/driver_override"
out=$(vfioctl-client --json claim "$VM_EDU_ADDR" 2>/dev/null)
like "$out" "$VM_EDU_ADDR: driver 'none', driver_override 'foo bar': not drivers' names; clear the override" \
    "edu with driver_override 'foo bar': refused, saying so"
is "$(pci_driver "$VM_EDU_ADDR") $(cat "/sys/bus/pci/devices/$VM_EDU_ADDR/driver_override")" "none foo bar" \
    "  and edu did not move, its override untouched"
check "  and no claim record is left" test ! -e "/run/vfiod/claims/group-$g"
echo > "/sys/bus/pci/devices/$VM_EDU_ADDR/driver_override"

# ---- Debian's kernel has no device cdevs: --cdev is refused before anything moves ----
out=$(vfioctl-client --json claim "$VM_EDU_ADDR" --cdev -- true 2>/dev/null)
like "$out" '"error":"io.github.vfiod1.Error.NotSupported","message":"This kernel has no VFIO device cdevs \(CONFIG_VFIO_DEVICE_CDEV\) and iommufd \(CONFIG_IOMMUFD\)' \
    "a --cdev claim is refused (NotSupported), naming what the kernel lacks"
is "$(pci_driver "$VM_EDU_ADDR")" none "and edu did not move"
like "$(vfioctl-client --json doctor)" '"check":"vfio-cdev","severity":"info","summary":"This kernel has no VFIO device cdevs and no iommufd' \
    "doctor says this kernel has no device cdevs"

# ---- e1000: a host driver and a network interface ----
iface=$(net_ifaces "$VM_E1000_ADDR")
check "e1000 has a network interface ($iface)" test -n "$iface"
g=$(pci_group "$VM_E1000_ADDR")
check "claim e1000 succeeds" vfioctl-client claim "$VM_E1000_ADDR"
is "$(pci_driver "$VM_E1000_ADDR")" vfio-pci "e1000 is on vfio-pci"
is "$(net_ifaces "$VM_E1000_ADDR")" "" "its network interface is gone"
check "/dev/vfio/$g exists" test -c "/dev/vfio/$g"
out=$(vfioctl-client release "$g" 2>&1)
check "release e1000 succeeds" test $? = 0
like "$out" "$VM_E1000_ADDR +e1000 +host" "its answer already shows e1000 back on its driver"
is "$(pci_driver "$VM_E1000_ADDR")" e1000 "e1000 is back on e1000"
is "$(net_ifaces "$VM_E1000_ADDR")" "$iface" "its interface $iface is back"

# ---- the interface of the default route is the host's ----
ip link set "$iface" up
ip addr add 10.0.2.15/24 dev "$iface"
ip route add default via 10.0.2.2 dev "$iface"
out=$(vfioctl-client --json claim "$VM_E1000_ADDR" 2>/dev/null)
like "$out" '"error":"io.github.vfiod1.Error.HostCritical"' "the default route's NIC: HostCritical"
like "$out" "$iface, which carries a default route \\(table main\\)" "the default route's NIC is refused (HostCritical)"
is "$(pci_driver "$VM_E1000_ADDR")" e1000 "and stays on e1000"
out=$(vfioctl-client --json --force claim "$VM_E1000_ADDR")
is "$?" 0 "--force claims it anyway (root may)"
json_shape claim "$out" "claim --json: the group, its lease and devices"
is "$(pci_driver "$VM_E1000_ADDR")" vfio-pci "forced: e1000 is on vfio-pci"
check "and it is released" vfioctl-client release "$VM_E1000_ADDR"
is "$(pci_driver "$VM_E1000_ADDR")" e1000 "back on e1000"

# ---- behind the bridge: both endpoints move, the bridge stays ----
like "$(vfioctl-client show "${VM_BRIDGED_ADDRS%% *}")" "where: +${VM_BRIDGE_ADDR}/01.0, below root port ${VM_BRIDGE_ADDR}" \
    "show says where edu sits: its physical path, and the port it is below"
set -- $VM_BRIDGED_ADDRS
bridge_driver=$(pci_driver "$VM_BRIDGE_ADDR")
g=$(pci_group "$1")
is "$(pci_group "$VM_BRIDGE_ADDR")" "$g" "the bridge shares group $g with its endpoints"
out=$(vfioctl-client claim "$1" 2>&1)
check "claim of the bridged group succeeds" test $? = 0
like "$out" "$VM_BRIDGE_ADDR .*bridge, stays" "the client shows the bridge staying"
is "$(pci_driver "$1") $(pci_driver "$2")" "vfio-pci vfio-pci" "both endpoints are on vfio-pci"
is "$(pci_driver "$VM_BRIDGE_ADDR")" "$bridge_driver" "the bridge kept its driver ($bridge_driver)"
check "release of the bridged group succeeds" vfioctl-client release "$g"
is "$(pci_driver "$1") $(pci_driver "$2")" "none e1000" "edu is driverless, e1000 on e1000 again"

# ---- nvme: the driver probes asynchronously ----
udevadm settle
blk=$(ls "/sys/bus/pci/devices/$VM_NVME_ADDR/nvme/"*/ 2>/dev/null | grep -m1 '^nvme[0-9]*n1$')
check "nvme has a block device ($blk)" test -b "/dev/$blk"
check "claim nvme succeeds" vfioctl-client claim "$VM_NVME_ADDR"
is "$(pci_driver "$VM_NVME_ADDR")" vfio-pci "nvme is on vfio-pci"
check "its block device is gone" test ! -e "/sys/class/block/$blk"
like "$(vfioctl-client show "$VM_NVME_ADDR")" "reset: +flr" "show names nvme's reset method (FLR)"
like "$(vfioctl-client --json show "$VM_NVME_ADDR")" '"reset_methods":\["flr"\]' "  and so does its --json"
like "$(vfioctl-client show "$VM_EDU_ADDR")" "reset: +none: a guest can leave it" "show flags edu, which has no reset method"
check "tracing the kernel's reset functions" trace_resets_start
check "release nvme succeeds" vfioctl-client release "$VM_NVME_ADDR"
trace_resets_stop
like "$(cat /tmp/resets.trace)" "pcie_flr" "release reset nvme (FLR) before nvme took it back" ||
    diag "$(dmesg | tail -5)"
is "$(pci_driver "$VM_NVME_ADDR")" nvme "release returned with nvme bound (it waited for the probe)"
check "the block device comes back" wait_for 10 test -b "/dev/$blk"

# ---- who uses it: open nodes, mounts, swap ----
udevadm settle
sleep 300 < "/dev/$blk" &
holder=$!
out=$(vfioctl-client --json claim "$VM_NVME_ADDR" 2>/dev/null)
like "$out" '"error":"io.github.vfiod1.Error.DeviceBusy"' "an open node: DeviceBusy"
like "$out" "/dev/$blk of $VM_NVME_ADDR is open in PID $holder \(sleep\)" "an open node is refused (DeviceBusy) naming the PID"
is "$(pci_driver "$VM_NVME_ADDR")" nvme "and nvme stays"
kill $holder; wait $holder 2>/dev/null
mkfs.ext4 -q -F "/dev/$blk"
mkdir -p /mnt/nvme && mount "/dev/$blk" /mnt/nvme
out=$(vfioctl-client --json claim "$VM_NVME_ADDR" 2>/dev/null)
like "$out" '"error":"io.github.vfiod1.Error.DeviceBusy"' "a mounted filesystem (not the host's own): DeviceBusy"
like "$out" "holds $blk, which is in use: mounted at /mnt/nvme \\(ext4\\)" "a mounted filesystem is refused, naming the mount"
umount /mnt/nvme
mkswap -q "/dev/$blk" > /dev/null && swapon "/dev/$blk"
out=$(vfioctl-client --json claim "$VM_NVME_ADDR" 2>/dev/null)
like "$out" "HostCritical.*holds $blk, which carries an active swap" "an active swap is refused (HostCritical)"
swapoff "/dev/$blk"
is "$(pci_driver "$VM_NVME_ADDR")" nvme "nvme never moved"

# ---- the root filesystem's own device ----
out=$(vfioctl-client --json claim "$VM_ROOT9P_ADDR" 2>/dev/null)
like "$out" '"error":"io.github.vfiod1.Error.HostCritical"' "the 9p device of the root filesystem: HostCritical"
like "$out" "carries the 9p filesystem 'vmroot'; .* / \\(overlay\\) rests on /lower" "naming the root's 9p tag and why it may be the root's"
is "$(pci_driver "$VM_ROOT9P_ADDR")" virtio-pci "and stays on virtio-pci"

# ---- the boot VGA while the console is on it ----
vga_driver=$(pci_driver "$VM_VGA_ADDR")
if grep -qs 1 /sys/class/vtconsole/vtcon*/bind && ! grep -qs dummy $(grep -ls 1 /sys/class/vtconsole/vtcon*/bind | sed 's/bind$/name/'); then
    out=$(vfioctl-client --json claim "$VM_VGA_ADDR" 2>/dev/null)
    like "$out" '"error":"io.github.vfiod1.Error.HostCritical"' "claiming the boot VGA: HostCritical"
    like "$out" "is the boot VGA and shows the console" "the boot VGA with the console is refused (HostCritical)"
else
    diag "no console bound to the VGA in this VM:" "$(grep . /sys/class/vtconsole/vtcon*/{name,bind})"
    not_ok "the boot VGA carries a console in this VM"
fi
is "$(pci_driver "$VM_VGA_ADDR")" "$vga_driver" "the VGA stays on $vga_driver"

done_testing
