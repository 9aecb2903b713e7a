# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The cdev hand-over, on the cdev kernel (IOMMUFD, VFIO device cdevs):
# alice's program gets edu's cdev and an iommufd over the bus and does
# what a VMM does with them (bind, address space, map, DMA, config space),
# charged to her own process's memlock; mallory gets nothing; the group
# stays the unit (busy while held, back when the holder dies, held and
# named when a process keeps a cdev past the lease); chown leases carry the
# cdev with the group node; a reserved group's node is looked at, and a
# lease's fds opened, in a worker while vfiod answers others; and the
# group mode still works here.
. "$VM_SRCDIR/tests/vm/guest/tap.sh"

edu=$VM_EDU_ADDR
g=$(pci_group "$edu")
group_leased() { [ "$(group_state "$g")" = claimed ]; }
group_back()   { [ "$(group_state "$g")" = unbound ] && [ "$(pci_driver "$edu")" = none ]; }
vfiod_pid()    { pgrep -x vfiod; }
edu_cdev()     { ls /sys/bus/pci/devices/$edu/vfio-dev 2>/dev/null | sed 's|^|/dev/vfio/devices/|'; }

install -m 644 /usr/share/doc/vfiod/examples/49-vfiod-vfio-group.rules /etc/polkit-1/rules.d/
systemctl restart polkit.service

# ---- the kernel, and the unit ----
diag "kernel $(uname -r)"
check "this kernel has VFIO device cdevs (vfio-dev in /proc/devices)" grep -qw vfio-dev /proc/devices
check "and iommufd (/dev/iommu)" test -c /dev/iommu
like "$(vfioctl-client --json doctor)" '"check":"vfio-cdev","severity":"ok"' \
    "doctor says the kernel has device cdevs and /dev/iommu"
check "vfiod runs hardened, under vfiod.service" test "$(systemctl show -P MainPID vfiod.service)" = "$(vfiod_pid)"

# ---- mallory gets nothing ----
out=$(as_mallory vfioctl-client --json claim "$edu" --cdev -- true 2>/dev/null)
like "$out" '"error":"io.github.vfiod1.Error.NotAuthorized"' "mallory's --cdev claim is refused"
is "$(pci_driver "$edu")" none "and edu did not move"

# ---- alice's program, with the fds alone ----
out=$(as_alice vfioctl-client claim "$edu" --cdev --memlock 64M -- sh -c \
    'echo "env iommu=$VFIOD_IOMMU_FD devices=$VFIOD_DEVICE_FDS"; exec "$0" "$1"' "$VM_IOMMUFD_CLIENT" "$edu" 2>&1)
status=$?
diag "$out"
is "$status" 0 "alice's program ran to the end"
like "$out" "env iommu=[0-9]+ devices=$edu=[0-9]+" "it finds the iommufd and edu's cdev in VFIOD_IOMMU_FD, VFIOD_DEVICE_FDS"
like "$out" "for QEMU: -object iommufd,id=iommufd0,fd=[0-9]+ -device vfio-pci,iommufd=iommufd0,fd=[0-9]+" \
    "vfioctl-client prints the QEMU options that take them"
like "$out" "for cloud-hypervisor: --platform iommufd_fd=[0-9]+ --device fd=[0-9]+" "  and cloud-hypervisor's"
json=$(as_alice vfioctl-client --json claim "$edu" --cdev -- true)
json_shape claim "$json" "--json: the claim's object, with the fds and both command lines, as the schema has it"
like "$json" '"iommu_fd":[0-9]+,"device_fds":\{"'"$edu"'":[0-9]+\},"qemu_args":"-object iommufd' \
    "  iommu_fd, device_fds by address, qemu_args"
like "$out" "bound devid [0-9]+ ioas [0-9]+" "the cdev binds to the iommufd and attaches to a new address space"
like "$out" "vendor 0x1234" "config space through the cdev: vendor 0x1234"
like "$out" "dma ok" "edu copies a mapped buffer through the IOMMU and back (DMA)"
like "$out" "memlock_limit $((64 << 20))" "her process got the 64 MiB of memlock it asked for"
like "$out" "map_within_limit ok" "a map within her process's limit succeeds"
like "$out" "vmlck_charged_kib 1024" "and is charged to her process (VmLck + 1 MiB: per-process accounting)"
like "$out" "map_over_limit Cannot allocate memory" "a map beyond her limit fails (ENOMEM)"
like "$out" "Returned IOMMU group $g" "the group went back when the program exited"
is "$(pci_driver "$edu")" none "edu is back with no driver"

# ---- the group stays the unit ----
spawn_alice vfioctl-client claim "$edu" --cdev -- sleep 600 > /tmp/hold.out 2>&1; client=$!
check "alice's command holds edu's cdev" wait_for 30 group_leased
sleep 0.5
holder=$(pgrep -P "$client" -x sleep)
check "the command holds the cdev and the iommufd" \
    sh -c "ls -l /proc/$holder/fd | grep -q /dev/vfio/devices/ && ls -l /proc/$holder/fd | grep -q /dev/iommu"
like "$(vfioctl-client show "$edu")" "cdev: +$(edu_cdev)" "show names edu's cdev (the Device's Cdev)"
is "$(ls -l /proc/$(vfiod_pid)/fd | grep -c '/dev/vfio/devices/\|/dev/iommu')" 0 \
    "vfiod kept no copy of the fds it handed over"
out=$(vfioctl-client --json claim "$edu" -- true 2>/dev/null)
like "$out" '"error":"io.github.vfiod1.Error.GroupBusy".*leased to uid' "a second claim of the group is busy"
kill -9 "$holder"
# Not timed: how soon depends on how busy the machine is.
check "the holder killed: edu is back" wait_for 30 group_back
wait $client 2>/dev/null

# ---- a cdev kept past the lease: held, named, back when closed ----
# Bound to an iommufd, a cdev keeps the group node closed; merely open, it
# does not, but the device cannot leave vfio-pci while it is open.
for how in --leave-holder --leave-unbound-holder; do
    out=$(as_alice vfioctl-client claim "$edu" --cdev -- "$VM_IOMMUFD_CLIENT" "$edu" $how 2>&1)
    diag "$out"
    left=$(sed -n 's/^holder //p' <<< "$out")
    check "$how: alice's program left a process with edu's cdev open (PID $left)" test -n "$left"
    like "$out" "still holds IOMMU group $g open" "  vfioctl-client says a process it left behind holds the group"
    is "$(group_state "$g")" held "  the lease ended, the group shows as held"
    like "$(vfioctl-client show "$g")" "held open by PID $left \\(iommufd-client\\)" "  show names the process"
    if [ $how = --leave-holder ]; then
        out=$(python3 -c "import os; os.open('/dev/vfio/$g', os.O_RDWR)" 2>&1)
        like "$out" "Device or resource busy" "  (the kernel keeps the group node closed while a cdev of it is bound)"
    fi
    kill "$left"
    ms=$(ms_until group_back)
    check "  when it closes the cdev, edu goes back (in $ms ms)" test "$ms" -lt 9999
done

# ---- chown leases carry the cdev ----
edu_reserved() { [ "$(group_state "$g")" = reserved ]; }
vfioctl-client reserve "$edu" > /dev/null
check "edu reserved (it stays on vfio-pci between leases)" wait_for 30 edu_reserved
cdev=$(edu_cdev)
out=$(as_alice vfioctl-client claim "$edu" -- sh -c \
    'stat -c "cdev %U %a" '"$cdev"'; chmod 0666 '"$cdev"'; setfacl -m u:mallory:rw '"$cdev"'; echo tampered' 2>&1)
diag "$out"
like "$out" "cdev alice 600" "a chown lease gives alice edu's cdev ($cdev), mode 0600"
like "$out" "tampered" "she widens its mode and adds an ACL entry for mallory"
check "the reserved group is back, and free" wait_for 30 edu_reserved
is "$(stat -c '%U %a' "$(edu_cdev)")" "root 600" "when the lease ends the cdev is root's again, 0600"
is "$(getfacl -cp "$(edu_cdev)" 2>/dev/null | grep -c mallory)" 0 "and mallory's ACL entry is gone"
# A cdev hidden where no look at /proc finds it (in flight in a socket):
# the reserved group goes through vfio-pci again at the lease's end, and
# the kernel lets it leave vfio-pci only once that fd is closed.
cdev=$(edu_cdev)
out=$(as_alice vfioctl-client claim "$edu" -- "$VM_SRCDIR/tests/vm/guest/hide-fd.py" "$cdev" 2>&1)
diag "$out"
hider=$(sed -n 's/^holder //p' <<< "$out")
check "alice's command left a process with edu's cdev in flight in a socket (PID $hider)" test -n "$hider"
check "  no process shows the cdev among its fds" sh -c "! ls -l /proc/[0-9]*/fd 2>/dev/null | grep -q '$cdev\$'"
like "$out" "returning IOMMU group $g is stuck" "  vfioctl-client says the group could not be returned (stuck)"
is "$(group_state "$g")" stuck "  the group shows as stuck"
is "$(group_state "$g" Step)" "unbind $edu" \
    "  at unbinding edu from vfio-pci, which the kernel allows only once every fd of it is closed"
out=$(as_alice vfioctl-client --json claim "$edu" -- true 2>/dev/null)
like "$out" '"error":"io.github.vfiod1.Error.GroupBusy"' "  nobody can lease the group meanwhile"
kill "$hider"
check "when the hidden fd closes, edu is back on vfio-pci, reserved and free" wait_for 30 edu_reserved
is "$(stat -c '%U %a' "$(edu_cdev)")" "root 600" "  its new cdev is root's, 0600"
out=$(as_alice vfioctl-client claim "$edu" -- true 2>&1)
check "  and alice can lease it again" test $? = 0
# An administrator clears the override (driverctl unset-override) while
# the group is reserved: the lease's end puts it back before the probe.
echo > "/sys/bus/pci/devices/$edu/driver_override"
out=$(as_alice vfioctl-client claim "$edu" -- true 2>&1)
check "with its override cleared, edu is leased and back on vfio-pci, reserved" wait_for 30 edu_reserved
is "$(cat "/sys/bus/pci/devices/$edu/driver_override")" vfio-pci "  its override is vfio-pci again"

# vfiod killed while the group goes through vfio-pci again: until that is
# done the record notes the lease's end, which keeps the next lease out
# across the restart (the test build's VFIOD_FAULT stalls the refresh 10 s).
like "$(/usr/libexec/vfiod --version)" "fault injection" "vfiod is built with -Dfault_injection=true"
record=/run/vfiod/claims/group-$g
dropin=/run/systemd/system/vfiod.service.d
mkdir -p "$dropin"
printf '[Service]\nEnvironment=VFIOD_FAULT=stall,refresh,override,%s\n' "$edu" > "$dropin/fault.conf"
systemctl daemon-reload
systemctl restart vfiod.service
check "vfiod restarted with a stall in the refresh; edu is reserved and free" wait_for 30 edu_reserved
# The client waits for the group to be reserved again, after the refresh.
as_alice vfioctl-client claim "$edu" -- true > /tmp/refresh.out 2>&1 &
client=$!
check "a lease ended; the refresh stalls at 'override'" wait_for 10 grep -qx 'phase refreshing' "$record" ||
    diag "$(cat /tmp/refresh.out "$record")" "$(journalctl -u vfiod.service -n 20 --no-pager)"
check "  meanwhile the record still notes the lease's end" grep -qx lease-ended-open "$record"
rm "$dropin/fault.conf"
systemctl daemon-reload
kill -9 "$(vfiod_pid)"
check "vfiod killed in the refresh: systemd restarts it, and edu is reserved and free again" wait_for 60 edu_reserved
check "  the refresh was done again: the note is gone" sh -c "! grep -qx lease-ended-open '$record'"
is "$(pci_driver "$edu")" vfio-pci "  edu is on vfio-pci"
out=$(as_alice vfioctl-client claim "$edu" -- true 2>&1)
check "  and alice can lease it" test $? = 0
wait "$client" 2> /dev/null # the first client, which outlived the crash

# ---- the group's node is opened in a worker ----
# An exiting VMM's release holds the group's lock while it unpins the VM's
# memory, and an open of the node waits for it (seconds, for a large VM):
# vfiod changes the node's owner (which holds the group open while the
# node is someone else's), looks at a reserved group's node, and opens the
# fds a lease hands over, in a worker, and answers everyone meanwhile. The
# test build's VFIOD_FAULT stalls each in turn, 10 s. edu is reserved for
# mallory here: her node goes to root for alice's lease.
vfioctl-client unreserve "$edu" > /dev/null
check "edu unreserved" wait_for 30 group_back
vfioctl-client reserve "$edu" --owner mallory > /dev/null
node_owner() { stat -c '%U %a' "/dev/vfio/$g"; }
mallorys_at_rest() { edu_reserved && [ "$(node_owner)" = "mallory 600" ]; }
check "edu reserved for mallory: her node at rest" wait_for 30 mallorys_at_rest
# The journal since the last restart_with_fault.
stalled() { journalctl -u vfiod.service --after-cursor="$cursor" --no-pager | grep -q "Fault injection: stalling at step '$1' of a lease"; }
restart_with_fault() {
    cursor=$(journalctl -u vfiod.service -n 0 --show-cursor --no-pager | sed -n 's/^-- cursor: //p')
    systemctl restart vfiod.service
}
answers_at_once() { timeout 4 vfioctl-client list > /dev/null; }
for step in owner check open; do
    printf '[Service]\nEnvironment=VFIOD_FAULT=stall,lease,%s\n' "$step" > "$dropin/fault.conf"
    systemctl daemon-reload
    restart_with_fault
    check "vfiod restarted with a stall in a lease's $step; edu is reserved and free" wait_for 30 edu_reserved
    as_alice vfioctl-client claim "$edu" --cdev -- true > /tmp/stall.out 2>&1 &
    client=$!
    check "  alice's claim: the $step stalls" wait_for 20 stalled "$step"
    check "  meanwhile vfiod answers others at once" answers_at_once
    check "  and alice's claim waits" kill -0 "$client"
    wait "$client"
    is "$?" 0 "  then alice gets edu's cdev" || diag "$(cat /tmp/stall.out)"
    check "  and the reserved group is free again, mallory's" wait_for 30 mallorys_at_rest
done
# A lease that ends while its fds are opened (root releases it): what
# the worker opens is closed, and the group comes back to its owner.
restart_with_fault
check "vfiod restarted with a stall in a lease's open" wait_for 30 edu_reserved
as_alice vfioctl-client claim "$edu" --cdev -- true > /tmp/left.out 2>&1 &
client=$!
check "  alice's claim: the open stalls" wait_for 20 stalled open
out=$(timeout 60 vfioctl-client release "$g" 2>&1)
check "  root releases her lease meanwhile" test $? = 0 || diag "$out"
wait "$client"
check "  her claim fails" test $? != 0
like "$(cat /tmp/left.out)" "ended while vfiod handed the group over" "  told that its lease ended while vfiod handed the group over"
check "  the reserved group is free again, its node mallory's" wait_for 30 mallorys_at_rest
is "$(ls -l /proc/$(vfiod_pid)/fd | grep -c '/dev/vfio/devices/\|/dev/iommu')" 0 "  and vfiod closed what it opened"
rm "$dropin/fault.conf"
systemctl daemon-reload
systemctl restart vfiod.service

vfioctl-client unreserve "$edu" > /dev/null
check "unreserved: edu is back" wait_for 30 group_back

# ---- the group mode still works here ----
out=$(sleep 3 | as_alice "$VM_FD_CLIENT" device "$edu" 2>&1)
diag "$out"
like "$out" "vendor 0x1234" "fd mode on the cdev kernel: the group and container fds reach edu"
check "and the group went back" wait_for 10 group_back

# This kernel has no BTF (tests/vm/kernel/cdev.config), so the kernel does
# not walk the files: the looks for open cdevs above went through /proc.
like "$(journalctl -u vfiod --no-pager)" "open device nodes are looked for through /proc instead" \
    "without the kernel's BTF, vfiod looks for open nodes through /proc"

done_testing
