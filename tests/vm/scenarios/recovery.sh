# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The engine's promises under failure, against the real kernel: vfiod killed
# at every step of a claim and of a release finishes or undoes the work when
# it starts again; a step that fails midway rolls back the devices already
# moved; a lease that ends while a VMM still holds the device leaves the
# group "held", naming it; a step that blocks in the kernel leaves the
# group "stuck", and a claim so abandoned is undone; the bus keeps answering. vfiod runs by hand here, built with
# -Dfault_injection=true so that VFIOD_FAULT can stop it at a named step.
. "$VM_SRCDIR/tests/vm/guest/tap.sh"

VFIOD=/usr/libexec/vfiod
set -- $VM_BRIDGED_ADDRS
edu=$1 e1000=$2
g=$(pci_group "$edu")
record=/run/vfiod/claims/group-$g
originals="none e1000"
drivers() { echo "$(pci_driver "$edu") $(pci_driver "$e1000")"; }

vfiod_on_bus() {
    busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
        NameHasOwner s io.github.vfiod1 | grep -q true
}
# start_vfiod [FAULT [STEP_TIMEOUT [IDLE_TIMEOUT]]]: vfiod in the
# background; a step is stuck after STEP_TIMEOUT seconds (default 10: under
# TCG on a loaded machine, udev may take seconds to settle a new group
# node); it exits when idle for IDLE_TIMEOUT seconds (default 0: never).
start_vfiod() {
    VFIOD_FAULT=$1 "$VFIOD" --idle-timeout="${3:-0}" --step-timeout="${2:-10}" >> /tmp/vfiod.log 2>&1 &
    vfiod_pid=$!
    wait_for 20 vfiod_on_bus || diag "vfiod did not come up: $(tail -5 /tmp/vfiod.log)"
}
stop_vfiod() { kill "$vfiod_pid"; wait "$vfiod_pid"; }
settled() { case $(group_state "$1") in claiming|releasing|stuck|"") return 1 ;; esac; }

like "$("$VFIOD" --version)" "fault injection" "vfiod is built with -Dfault_injection=true"
modprobe vfio-pci
is "$(drivers)" "$originals" "the bridged group starts on its drivers: $originals"

# kill_and_restart claim|release FAULT: vfiod killed at the step FAULT of a
# claim or release of the group; started again, it must put every device
# back on its original driver and drop the record.
kill_and_restart() {
    local verb=$1 fault=$2 left
    start_vfiod "crash,$verb,$fault"
    vfioctl-client "$verb" "$g" > /dev/null 2>&1
    wait "$vfiod_pid"
    is "$?" 137 "vfiod killed by SIGKILL at $verb step $fault"
    # The journal is written before each step (nothing comes before "record").
    [ "$fault" = record ] ||
        is "$(grep '^step ' "$record" | tail -n 1)" "step ${fault/,/ }" "the record names the step it died at"
    left=$(drivers)
    start_vfiod ""
    wait_for 30 settled "$g"
    is "$(drivers)" "$originals" "$verb killed at $fault (left: $left): restart puts every device back"
    check "and drops the record" test ! -e "$record"
    stop_vfiod
}

# ---- killed during a claim: restarting undoes it ----
for fault in record "override,$edu" "probe,$edu" "override,$e1000" "unbind,$e1000" "probe,$e1000" \
             "verify,$e1000" node commit; do
    kill_and_restart claim "$fault"
done

# ---- killed during a release: restarting finishes it ----
for fault in "override,$e1000" "unbind,$e1000" "probe,$e1000" "verify,$e1000" "unbind,$edu" "verify,$edu"; do
    start_vfiod ""
    vfioctl-client claim "$g" > /dev/null
    stop_vfiod
    is "$(drivers)" "vfio-pci vfio-pci" "claimed, and the claim outlives vfiod ($fault)"
    kill_and_restart release "$fault"
done

# ---- killed again while recovering ----
start_vfiod "crash,claim,unbind,$e1000"
vfioctl-client claim "$g" > /dev/null 2>&1
wait "$vfiod_pid"
# It recovers before it takes its bus name, so it may die before it is on
# the bus: no waiting for the name here.
VFIOD_FAULT="crash,restore,probe,$e1000" timeout 60 "$VFIOD" --idle-timeout=0 --step-timeout=10 >> /tmp/vfiod.log 2>&1
is "$?" 137 "vfiod killed again while restoring"
start_vfiod ""
wait_for 30 settled "$g"
is "$(drivers)" "$originals" "the third start puts every device back"
stop_vfiod

# ---- a claimed group survives restarts as claimed ----
start_vfiod ""
vfioctl-client claim "$g" > /dev/null
stop_vfiod
start_vfiod ""
is "$(group_state "$g")" claimed "a committed claim is kept at restart"
is "$(drivers)" "vfio-pci vfio-pci" "with its devices on vfio-pci"
check "and released later" vfioctl-client release "$g"
is "$(drivers)" "$originals" "back on $originals"
stop_vfiod

# ---- a failure in the middle of the group rolls back ----
start_vfiod "fail,claim,probe,$e1000"
out=$(vfioctl-client --json claim "$g" 2>/dev/null)
like "$out" '"error":"io.github.vfiod1.Error.BindFailed"' "a failed step: BindFailed"
like "$out" "step 'probe $e1000' failed: Input/output error \(EIO\)" "naming the step, the device and errno"
like "$out" "Every device is back on its original driver" "saying it was undone"
is "$(drivers)" "$originals" "edu, moved before the failure, is back too"
check "no record is left" test ! -e "$record"
stop_vfiod

# ---- a lease that ends while a VMM still holds the device: held, named ----
ge=$(pci_group "$VM_EDU_ADDR")
hold_edu() {
    python3 "$VM_SRCDIR/tests/vm/guest/vfio-hold.py" "$VM_EDU_ADDR" "$ge" > /tmp/hold.out 2>&1 &
    holder=$!
    wait_for 10 grep -q holding /tmp/hold.out
    like "$(cat /tmp/hold.out)" "^holding" "a process holds edu's VFIO device fd ($1)"
}
start_vfiod ""
check "claim edu" vfioctl-client claim "$VM_EDU_ADDR"
hold_edu "after the claim"
# Again with a 3 s idle timeout (time for the release to reach it under
# TCG): the claim outlives the restart.
stop_vfiod
start_vfiod "" 10 3
out=$(vfioctl-client --json release "$ge" 2>/dev/null)
like "$out" "\"error\":\"io.github.vfiod1.Error.GroupBusy\".*has ended, but PID $holder \\(python3\\) still holds" \
    "release answers at once that the lease ended and who still holds the group"
is "$(group_state "$ge")" held "the group shows as held, not stuck"
out=$(vfioctl-client --json release "$ge" 2>/dev/null)
like "$out" "\"error\":\"io.github.vfiod1.Error.GroupBusy\".*is held open by PID $holder \\(python3\\): vfiod settles it once" \
    "a release again while it is held: GroupBusy, naming the holder"
is "$(group_state "$ge")" held "  and it stays held, not stuck"
check "vfiod answers list meanwhile" vfioctl-client list
is "$(pci_driver "$VM_EDU_ADDR")" vfio-pci "edu stays on vfio-pci while it is held"
sleep 5
check "vfiod stays up while the group is held, past its idle timeout" vfiod_on_bus
kill "$holder"; wait "$holder" 2>/dev/null
check "once the holder is gone the release goes on" wait_for 30 settled "$ge"
is "$(pci_driver "$VM_EDU_ADDR")" none "edu is back without a driver"
check "then, idle, vfiod exits" wait_for 10 sh -c "! busctl --system call org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus NameHasOwner s io.github.vfiod1 | grep -q true"
stop_vfiod

# ---- a lease that ends while the kernel still lets go of the group ----
# A VMM's exit closes its group fd, and the release holds the group's lock
# while the kernel unpins the VM's memory: seconds, minutes for a big VM.
# At the lease's end vfiod takes the node back and asks whether the group
# is still open, and both wait for that lock. The bus must answer
# meanwhile. vfio-stall.py holds the lock for as long as a suspended dm
# device leaves the read of the pages it maps for DMA waiting.
modprobe -a dm-mod loop 2>/dev/null
truncate -s 4M /tmp/slow.img
loopdev=$(losetup --find --show /tmp/slow.img)
dmsetup create vfiodslow --table "0 8192 linear $loopdev 0"
udevadm settle 2>/dev/null
# stall_edu: edu claimed, and its group closed by a process whose release
# waits in the kernel with the group's lock held.
stall_edu() {
    blockdev --flushbufs /dev/mapper/vfiodslow # its pages are read anew
    dmsetup suspend vfiodslow
    check "claim edu" vfioctl-client claim "$VM_EDU_ADDR"
    python3 "$VM_SRCDIR/tests/vm/guest/vfio-stall.py" "$ge" /dev/mapper/vfiodslow > /tmp/stall.out 2>&1 &
    staller=$!
    check "a closed group's release waits in the kernel with the group's lock held" \
        wait_for 20 sh -c "grep -q closing /tmp/stall.out && [ \"\$(cut -d' ' -f3 /proc/$staller/stat)\" = D ]"
}
# unstall: the read is answered, and the kernel lets go of the group.
unstall() {
    dmsetup resume vfiodslow
    check "once the read is answered the kernel lets go of the group" wait_for 30 grep -q closed /tmp/stall.out
    wait $staller
}
vfiod_thread_in_kernel() { grep -q '^State:.*D' /proc/$vfiod_pid/task/*/status; }
edu_held() { [ "$(group_state "$ge")" = held ]; }
edu_back() { [ "$(pci_driver "$VM_EDU_ADDR")" = none ]; }
start_vfiod ""
stall_edu
vfioctl-client release "$ge" > /tmp/release-stalled.out 2>&1 &
releaser=$!
check "the lease ends; vfiod's ask of the kernel waits for the group's lock" wait_for 20 vfiod_thread_in_kernel
check "  and meanwhile vfiod answers" timeout 20 vfioctl-client list
check "  and shows the group as held" wait_for 20 edu_held
like "$(vfioctl-client claim "$VM_EDU_ADDR" 2>&1)" "may still be held open: vfiod is asking the kernel" \
    "  a claim meanwhile is told that vfiod is asking"
check "  and the release waits" kill -0 $releaser
check "  an ask that waits long is said in the log" \
    wait_for 30 grep -q "IOMMU group $ge: the kernel has not said for 1[0-9] s whether" /tmp/vfiod.log
unstall
check "  then the release ends" wait_for 30 sh -c "! kill -0 $releaser"
wait $releaser
is "$?" 0 "  successfully"
diag "$(cat /tmp/release-stalled.out /tmp/stall.out)"
like "$(grep "IOMMU group $ge: the kernel answered after" /tmp/vfiod.log)" "answered after [0-9]+ s" \
    "  and so is its answer"
check "  edu goes back" wait_for 30 settled "$ge"
is "$(pci_driver "$VM_EDU_ADDR")" none "  without a driver, as before"

# The same, and vfiod is killed before the kernel answers: the lease has
# left the record, so the restart waits for the group's holders again
# instead of giving the group back to its lessee.
stall_edu
vfioctl-client release "$ge" > /dev/null 2>&1 &
releaser=$!
check "the lease ends; vfiod waits for the group's lock" wait_for 20 vfiod_thread_in_kernel
kill -9 "$vfiod_pid"
unstall
wait "$vfiod_pid" 2>/dev/null
wait $releaser 2>/dev/null
start_vfiod ""
check "  restarted, vfiod puts edu back" wait_for 30 edu_back
like "$(vfioctl-client --json leases)" '^\{"leases":\[\],' "  and has no lease of it"
stop_vfiod
dmsetup remove vfiodslow
losetup -d "$loopdev"

# ---- release --all: a group still in use outweighs a later failure ----
# The package's prerm stops a removal on exit 4 alone: a group in use must
# not be hidden by another group's failure after it. Leases are listed, and
# released, newest first: the bridged group's (in use), then edu's (fails).
start_vfiod "fail,release,probe,$VM_EDU_ADDR"
check "claim edu" vfioctl-client claim "$VM_EDU_ADDR"
check "then the bridged group" vfioctl-client claim "$g"
python3 "$VM_SRCDIR/tests/vm/guest/vfio-hold.py" "$edu" "$g" > /tmp/hold.out 2>&1 &
holder=$!
check "a process holds the bridged edu's device fd" wait_for 10 grep -q holding /tmp/hold.out
out=$(vfioctl-client release --all 2>&1)
status=$?
diag "$out"
like "$out" "PID $holder \\(python3\\) still holds /dev/vfio/$g" "release --all says the bridged group is still in use"
like "$out" "step 'probe $VM_EDU_ADDR' failed" "  and that edu's release failed after it"
is "$status" 4 "  and exits 4 (in use), not the later failure's 1"
# Its lease is gone now, but the group is not back.
out=$(vfioctl-client release --all 2>&1)
status=$?
diag "$out"
like "$out" "IOMMU group $g has no lease, but a process still holds it open" \
    "release --all again: no lease left, but the held group is named"
is "$status" 4 "  and it exits 4, which stops a removal of the package"
kill "$holder"; wait "$holder" 2>/dev/null
stop_vfiod
start_vfiod ""
check "  restarted, vfiod puts the bridged group back" wait_for 30 settled "$g"
check "  and edu's" wait_for 30 settled "$ge"
is "$(drivers)" "$originals" "  the bridged group is on $originals"
is "$(pci_driver "$VM_EDU_ADDR")" none "  edu is back without a driver"
stop_vfiod

# ---- a step that never returns: stuck, and the bus answers ----
# A release cut short by a crash, then a VMM that opens the device before
# vfiod is back: the restore's unbind blocks in the kernel.
start_vfiod "crash,release,unbind,$VM_EDU_ADDR"
check "claim edu again" vfioctl-client claim "$VM_EDU_ADDR"
vfioctl-client release "$ge" > /dev/null 2>&1
wait "$vfiod_pid" 2>/dev/null
check "vfiod crashed at the release's unbind" grep -q "^phase releasing" "/run/vfiod/claims/group-$ge"
hold_edu "while vfiod is away"
start_vfiod "" 2
wait_for 10 sh -c "[ \"\$(busctl --system get-property io.github.vfiod1 /io/github/vfiod1/group/$ge io.github.vfiod1.Group State)\" = 's \"stuck\"' ]"
is "$(group_state "$ge")" stuck "the restore's group shows as stuck"
is "$(group_state "$ge" Step)" "unbind $VM_EDU_ADDR" "at its step: unbind $VM_EDU_ADDR"
check "vfiod answers list meanwhile" vfioctl-client list
kill "$holder"; wait "$holder" 2>/dev/null
check "once the holder is gone the restore goes on" wait_for 30 settled "$ge"
is "$(pci_driver "$VM_EDU_ADDR")" none "edu is back without a driver"
stop_vfiod

# ---- a record vfiod cannot read: never written over ----
printf 'vfiod-claim-record 1\ngroup %s\nphase claimed\nstep -\ndevice garbled\n' "$g" > "$record"
cp "$record" /tmp/garbled-record
start_vfiod ""
like "$(vfioctl-client claim "$g" 2>&1)" "a claim record vfiod cannot read is in the way: remove claims/group-$g" \
    "a claim of a group whose record vfiod could not read at start is refused, saying so"
is "$(drivers)" "$originals" "  nothing moved"
check "  and the record is as it was" cmp -s "$record" /tmp/garbled-record
check "  the log says why" grep -q "Cannot read the claim record of group $g" /tmp/vfiod.log
stop_vfiod
rm "$record"

# ---- /run full when the claim commits: the claim is undone all the same ----
# Only the record's phase decides what a restart does; the steps that put
# devices back go on without noting themselves in it.
mkdir -p /run/vfiod/claims
mount -t tmpfs -o size=8k,mode=0700 vfiod-full /run/vfiod/claims
start_vfiod "stall,claim,node" 60
vfioctl-client claim "$g" > /tmp/claim-full.out 2>&1 &
claimer=$!
at_node() { [ "$(group_state "$g" Step)" = node ]; }
check "a claim of the bridged group waits at its node step" wait_for 20 at_node
dd if=/dev/zero of=/run/vfiod/claims/fill bs=4k 2> /dev/null
wait "$claimer"
like "$(cat /tmp/claim-full.out)" "step 'commit' failed: cannot write the claim record: No space left on device" \
    "/run filled meanwhile: the claim fails at commit, saying why"
is "$(drivers)" "$originals" "  and every device is back on its original driver"
check "  and the record is gone" test ! -e "$record"
stop_vfiod
umount /run/vfiod/claims

# ---- a claim's last step outlasts the step timeout: undone, as its caller is told ----
start_vfiod "stall,claim,node" 2
like "$(vfioctl-client claim "$VM_EDU_ADDR" 2>&1)" "Step 'node' .* has not returned.*then the claim is undone" \
    "a claim stalled at its node step: the caller hears that it will be undone"
edu_undone() { settled "$ge" && [ "$(pci_driver "$VM_EDU_ADDR")" = none ] && [ ! -e "/run/vfiod/claims/group-$ge" ]; }
check "and it is, once the step returns: edu without a driver, no record" wait_for 30 edu_undone
is "$(group_state "$ge")" unbound "  the group shows as unbound"
stop_vfiod

# ---- a claim's first step outlasts the step timeout: no later step runs ----
# The caller heard that the claim is undone; steps after the one that
# stalled would still stop units, signal processes, unbind devices.
VFIOD_FAULT="stall,claim,check" "$VFIOD" --debug --idle-timeout=0 --step-timeout=2 > /tmp/vfiod-abandoned.log 2>&1 &
vfiod_pid=$!
wait_for 20 vfiod_on_bus
like "$(vfioctl-client claim "$VM_EDU_ADDR" 2>&1)" "Step 'check' .* has not returned.*then the claim is undone" \
    "a claim stalled at its check: the caller hears that it will be undone"
check "  once the check returns, the claim ends" wait_for 30 edu_undone
diag "$(grep "Group $ge: step" /tmp/vfiod-abandoned.log)"
check "  the check ran" grep -q "Group $ge: step 'check'" /tmp/vfiod-abandoned.log
check "  and no step after it: not even the record" \
    sh -c "! grep -q \"Group $ge: step '\(record\|override\|unbind\|probe\)\" /tmp/vfiod-abandoned.log"
stop_vfiod

# ---- a profile's reset method, and a crash while it is in force ----
# The nvme alone behind its bridge can be reset by FLR and by the bridge's
# bus reset. A profile's ResetMethod=bus goes to its reset_method for the
# reset at the release, and the kernel's list comes back after it; killed
# in between, vfiod gives it back at the restart, from the record.
nvme=$(basename "$(ls -d /sys/bus/pci/devices/$VM_NVME_BRIDGE_ADDR/0000:*)")
gn=$(pci_group "$nvme")
methods() { cat "/sys/bus/pci/devices/$nvme/reset_method"; }
is "$(methods)" "flr bus" "the nvme behind its own bridge can be reset by flr and bus"
mkdir -p /etc/vfiod/profiles.d
printf 'Drivers=nvme\nResetMethod=bus\n' > /etc/vfiod/profiles.d/nvme-bus.conf
start_vfiod ""
check "claim the bridged nvme" vfioctl-client claim "$nvme"
check "  and release it" vfioctl-client release "$nvme"
is "$(pci_driver "$nvme") $(methods)" "nvme flr bus" "  back on nvme, with every reset method the kernel gave it"
like "$(cat /tmp/vfiod.log)" "Reset $nvme by bus before returning it to nvme" "  reset by the profile's method"
stop_vfiod
start_vfiod "crash,release,reset-methods,$nvme"
check "claim it again" vfioctl-client claim "$nvme"
vfioctl-client release "$nvme" > /dev/null 2>&1
vfiod_gone() { ! kill -0 "$vfiod_pid" 2> /dev/null; }
if wait_for 30 vfiod_gone; then wait "$vfiod_pid"; status=$?; else stop_vfiod; status="still running"; fi
is "$status" 137 "vfiod killed after the reset, before the methods go back"
is "$(methods)" bus "  which leaves reset_method narrowed to the profile's"
like "$(cat "/run/vfiod/claims/group-$gn")" "reset-methods $nvme flr bus" "  and the kernel's list in the record"
start_vfiod ""
wait_for 30 settled "$gn"
is "$(pci_driver "$nvme") $(methods)" "nvme flr bus" "restarted, vfiod finishes the release and gives the methods back"
like "$(vfioctl-client --json show "$nvme")" '"reset_methods":\["flr","bus"\]' "  and says so, though it read them narrowed"
check "  and drops the record" test ! -e "/run/vfiod/claims/group-$gn"
stop_vfiod
rm /etc/vfiod/profiles.d/nvme-bus.conf

# ---- the disk stays vfiod's from its check to its unbind ----
# The check found the nvme's disk free; a mount in the time before the
# unbind (here 10 s, stalled at the override) would leave a filesystem on
# a disk about to go. vfiod holds the disk open exclusively meanwhile, so
# the mount is refused, and the claim goes on.
nvme_disk() { ls "/sys/bus/pci/devices/$nvme/nvme/"*/ 2>/dev/null | grep -m1 '^nvme[0-9]*n1$'; }
check "the bridged nvme has its disk" wait_for 20 nvme_disk
disk=$(nvme_disk)
check "  with ext4 on its disk" mkfs.ext4 -q -F "/dev/$disk"
mkdir -p /mnt/hold
start_vfiod "stall,claim,override,$nvme" 30
vfioctl-client claim "$nvme" > /tmp/claim-held.out 2>&1 &
claim_pid=$!
stalled() { grep -q "Fault injection: stalling at step 'override $nvme'" /tmp/vfiod.log; }
check "a claim of the nvme stalls after its check" wait_for 20 stalled
out=$(mount -t ext4 "/dev/$disk" /mnt/hold 2>&1)
status=$?
umount /mnt/hold 2>/dev/null
is "$status" 32 "  a mount of its disk meanwhile is refused"
like "$out" "busy" "  as busy"
diag "$out"
wait "$claim_pid"
is "$?" 0 "  and the claim goes on"
diag "$(cat /tmp/claim-held.out)"
is "$(pci_driver "$nvme")" vfio-pci "  the nvme is on vfio-pci"
check "release it" vfioctl-client release "$nvme"
is "$(pci_driver "$nvme")" nvme "  back on nvme"
disk_mounts() { [ -n "$(nvme_disk)" ] && mount -t ext4 "/dev/$(nvme_disk)" /mnt/hold 2>/dev/null; }
check "  where its disk mounts again" wait_for 20 disk_mounts
umount /mnt/hold
stop_vfiod

done_testing
