# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The systemd boot mode: the host's systemd is PID 1, booted into
# vmtest.target, with the system bus and polkit available through it and
# the host's unrelated services left off.
. "$VM_SRCDIR/tests/vm/guest/tap.sh"

is "$(readlink /proc/1/exe)" /usr/lib/systemd/systemd "systemd is PID 1"
is "$(systemctl show -P ActiveState vmtest-scenario.service)" activating \
    "the scenario runs as vmtest-scenario.service"
is "$(systemctl show -P ActiveState systemd-udevd.service)" active "udevd runs"
is "$(systemctl show -P ActiveState dbus.socket)" active "the system bus socket is up"
check "polkitd is bus-activated by systemd" \
    busctl --system call org.freedesktop.PolicyKit1 /org/freedesktop/PolicyKit1/Authority \
        org.freedesktop.DBus.Properties Get ss org.freedesktop.PolicyKit1.Authority BackendName
is "$(systemctl show -P ActiveState polkit.service)" active "polkit.service is active"
for unit in multi-user.target postgresql.service systemd-timesyncd.service getty@tty1.service; do
    is "$(systemctl show -P ActiveState $unit)" inactive "the host's $unit stays off"
done
check "the test users exist" id alice
like "$(id -nG alice)" '\bvfio\b' "alice is in group vfio"
is "$(id -nG mallory)" mallory "mallory is in no other group"
groups=$(ls /sys/kernel/iommu_groups | wc -l)
check "the IOMMU groups are populated ($groups groups)" test "$groups" -gt 0

# Nothing reserved: the boot unit of reservations is skipped, and vfiod
# waits for its first caller.
is "$(systemctl show -P ConditionResult vfiod-early.service)" no "vfiod-early.service is skipped at boot"
is "$(systemctl show -P ActiveState vfiod.service)" inactive "vfiod does not start at boot"

# Right after an install, before a reboot: modules-load.d has not loaded
# vfio-pci yet, nor vfio with it. The unit loads them before vfiod starts,
# so that its device policy covers /dev/vfio.
modprobe -r vfio_pci vfio_iommu_type1 vfio 2>/dev/null
check "vfio-pci is not loaded before vfiod starts" test ! -e /sys/module/vfio_pci
check "nor is vfio" test ! -e /sys/module/vfio

# vfiod started by bus activation through its unit, as on a real system.
like "$(vfioctl-client --json list)" "\"address\":\"$VM_EDU_ADDR\"" "vfioctl-client list activates vfiod"
check "the unit loaded vfio-pci before vfiod" test -d /sys/bus/pci/drivers/vfio-pci
like "$(vfioctl-client --json doctor)" '"check":"vfio-pci","severity":"ok"' "doctor, asking vfiod, finds vfio-pci"
is "$(systemctl show -P ActiveState vfiod.service)" active "vfiod runs as vfiod.service"
like "$(systemctl show -P StatusText vfiod.service)" "^Serving [0-9]+ PCI devices in $groups IOMMU groups\.$" \
    "its status line reaches systemd"
is "$(systemctl show -P NRestarts vfiod.service)" 0 "the watchdog never fired"

# Under the unit's sandbox it still hears the kernel.
edu_on_vfio() { [ "$(device_state "$VM_EDU_ADDR")" = vfio ]; }
modprobe vfio-pci
echo vfio-pci > /sys/bus/pci/devices/$VM_EDU_ADDR/driver_override
echo $VM_EDU_ADDR > /sys/bus/pci/drivers_probe
check "vfiod under its unit follows edu onto vfio-pci" wait_for 10 edu_on_vfio
echo > /sys/bus/pci/devices/$VM_EDU_ADDR/driver_override
echo $VM_EDU_ADDR > /sys/bus/pci/devices/$VM_EDU_ADDR/driver/unbind

# Claims work under the sandbox, and their records outlive the service.
check "the sandboxed vfiod hands a group's fds over" vfioctl-client claim --fd "$VM_EDU_ADDR" -- true
is "$(pci_driver "$VM_EDU_ADDR")" none "edu is back without a driver after the command"
# A process the command leaves behind, holding the group fd alone (not the
# lease's guard): the lease ends with the command, the group stays held.
hold='import os, subprocess; subprocess.Popen(["sleep", "3"], pass_fds=[int(os.environ["VFIOD_GROUP_FD"])])'
out=$(vfioctl-client claim --fd "$VM_EDU_ADDR" -- python3 -c "$hold" 2>&1); status=$?
is "$status" 4 "a process left holding the group: claim exits 4 (busy)"
like "$out" "a process it left behind still holds IOMMU group" "and says so"
edu_unbound() { [ "$(pci_driver "$VM_EDU_ADDR")" = none ]; }
check "once that process exits, edu goes back" wait_for 15 edu_unbound
check "claim edu through vfiod.service" vfioctl-client claim "$VM_EDU_ADDR"
is "$(pci_driver "$VM_EDU_ADDR")" vfio-pci "edu is on vfio-pci"
systemctl restart vfiod.service
is "$(stat -c %a /run/vfiod)" 700 "/run/vfiod is root's alone"
check "the claim record outlives a restart" test -s /run/vfiod/claims/group-$(pci_group "$VM_EDU_ADDR")
like "$(vfioctl-client --json show "$VM_EDU_ADDR")" '"state":"claimed"' "the restarted vfiod keeps the claim"
check "release edu through vfiod.service" vfioctl-client release "$VM_EDU_ADDR"
is "$(pci_driver "$VM_EDU_ADDR")" none "edu is back without a driver"

# A reservation's owner is a name in the user database, which may be a
# directory server's (sssd, nslcd): the unit starts after them, and while
# one cannot be reached and NSS hangs, vfiod asks it off its event loop.
# libnss_slow.so.2 (tests/vm/helpers/nss-slow.c) knows "slowpoke" and
# "slowpokes" (4242), and answers only once /run/nss-slow-go exists.
like "$(systemctl show -P After vfiod.service)" '\bnss-user-lookup\.target\b' \
    "vfiod.service starts after the user database's services"
install -m 644 "$VM_NSS_SLOW" /usr/lib/x86_64-linux-gnu/libnss_slow.so.2
sed -i -E 's/^(passwd|group):.*/& slow/' /etc/nsswitch.conf
install -m 644 /usr/share/doc/vfiod/examples/49-vfiod-vfio-group.rules /etc/polkit-1/rules.d/
systemctl restart polkit.service
invocation=$(systemctl show -P InvocationID vfiod.service)
node=/dev/vfio/$(pci_group "$VM_EDU_ADDR")
dropin=/etc/vfiod/reservations.d/vfioctl-$VM_EDU_ADDR.conf
node_is() { [ "$(stat -c %u:%g:%a "$node" 2>/dev/null)" = "$1" ]; }
edu_is() { [ "$(group_state "$(pci_group "$VM_EDU_ADDR")")" = "$1" ]; }
out=$(vfioctl-client reserve "$VM_EDU_ADDR" --owner slowpoke 2>&1)
like "$out" "did not say within 20 s whether 'slowpoke' exists .*nothing was reserved" \
    "reserve while NSS hangs: after 20 s, vfiod says so"
check "  and writes no drop-in" test ! -e "$dropin"
is "$(pci_driver "$VM_EDU_ADDR")" none "  edu stays without a driver"
vfioctl-client reserve "$VM_EDU_ADDR" --owner slowpoke > /tmp/reserve.out 2>&1 &
reserve=$!
sleep 3
check "reserve with an owner NSS hangs on: the call waits for NSS" kill -0 "$reserve"
check "  while vfiod answers others" timeout 10 vfioctl-client list
touch /run/nss-slow-go
wait "$reserve"
is "$?" 0 "  once NSS answers, the reservation is made" || diag "$(cat /tmp/reserve.out)"
is "$(stat -c %u:%g:%a "$node")" 4242:0:600 "  and the node is slowpoke's, mode 0600, by then"
sleep 1
is "$(journalctl -b -u vfiod.service | grep -c "Reserved: $dropin")" 1 \
    "  the first call's lookup, answered now too, reserves nothing"

rm /run/nss-slow-go
sed -i 's/owner=slowpoke/owner=@slowpokes/' "$dropin"
systemctl reload vfiod.service
check "its owner changed by hand and reloaded: the node is root's while NSS hangs" wait_for 10 node_is 0:0:600
check "  while vfiod answers others" timeout 10 vfioctl-client list
# Threads of vfiod in the sleep of libnss_slow (clock_nanosleep, 230).
in_nss() { grep -l '^230 ' /proc/"$(systemctl show -P MainPID vfiod.service)"/task/*/syscall 2>/dev/null | wc -l; }
systemctl reload vfiod.service
systemctl reload vfiod.service
sleep 2
is "$(in_nss)" 1 "  reloaded twice more, vfiod waits on one lookup of the name, not three"
# A lease meanwhile: the answer, when it comes, leaves her node alone.
as_alice vfioctl-client claim "$VM_EDU_ADDR" -- sh -c "sleep 8; stat -c %u:%a $node" > /tmp/lease.out 2>&1 &
lease=$!
check "  alice leases edu meanwhile" wait_for 10 edu_is claimed
touch /run/nss-slow-go
wait "$lease"
like "$(cat /tmp/lease.out)" "^$(id -u alice):600\$" "  NSS answering during her lease leaves the node hers"
is "$(stat -c %u:%g:%a "$node")" 0:4242:660 "  her lease over, the node is the group slowpokes', mode 0660"
# A directory client that gives up instead of hanging: vfiod asks again
# later, and the owner gets the node once the database answers.
touch /run/nss-slow-down
systemctl reload vfiod.service
check "the user database failing at a reload: the node is root's" wait_for 10 node_is 0:0:600
check "  and the journal says so, with file and line" wait_for 10 sh -c \
    "journalctl -b -u vfiod.service | grep -q \"$dropin:[0-9]*: the user database cannot look up '@slowpokes'\""
rm /run/nss-slow-down
check "  once it answers, vfiod asks again: the node is the group slowpokes', with no reload" \
    wait_for 20 node_is 0:4242:660
check "  and the journal says so" wait_for 10 sh -c \
    "journalctl -b -u vfiod.service | grep -q \"$dropin:[0-9]*: the user database names '@slowpokes' now\""

sed -i 's/owner=@slowpokes/owner=lateuser/' "$dropin"
systemctl reload vfiod.service
check "an owner NSS does not know: the node is root's" wait_for 10 node_is 0:0:600
check "  and the journal says so, with file and line" wait_for 10 sh -c \
    "journalctl -b -u vfiod.service | grep -q \"$dropin:[0-9]*: no user or group 'lateuser'\""
useradd --no-create-home lateuser
check "  the user added, vfiod asks again and gives them the node, with no reload" \
    wait_for 20 node_is "$(id -u lateuser):0:600"
check "unreserve edu" vfioctl-client unreserve "$VM_EDU_ADDR"
is "$(pci_driver "$VM_EDU_ADDR")" none "edu is back without a driver"
is "$(systemctl show -P InvocationID vfiod.service)" "$invocation" "the same vfiod throughout: no watchdog kill"
userdel lateuser
sed -i -E 's/^((passwd|group):.*) slow$/\1/' /etc/nsswitch.conf
rm -f /usr/lib/x86_64-linux-gnu/libnss_slow.so.2 /etc/polkit-1/rules.d/49-vfiod-vfio-group.rules /run/nss-slow-go

systemctl stop vfiod.service
is "$(systemctl show -P Result vfiod.service)" success "vfiod stops cleanly"

done_testing
