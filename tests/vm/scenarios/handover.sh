# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Handing groups to people without root, with the real dbus-daemon, polkitd
# and vfiod.service under systemd: polkit decides (alice is in group vfio,
# which the example rule lets claim; mallory is nobody), leases end with
# their holders, the group node's owner and the memlock limit follow, and
# the hardened unit does all of it.
. "$VM_SRCDIR/tests/vm/guest/tap.sh"

edu=$VM_EDU_ADDR
g=$(pci_group "$edu")
group_leased() { [ "$(group_state "$g")" = claimed ]; }
group_back()   { [ "$(group_state "$g")" = unbound ] && [ "$(pci_driver "$edu")" = none ]; }

# The administrator's part: the example rule, a memlock cap.
install -m 644 /usr/share/doc/vfiod/examples/49-vfiod-vfio-group.rules /etc/polkit-1/rules.d/
systemctl restart polkit.service
mkdir -p /etc/vfiod
echo "MemlockMax=1G" > /etc/vfiod/limits.conf
check "the polkit actions are installed" pkaction --action-id io.github.vfiod1.claim

# ---- the unit: least privilege ----
like "$(as_mallory vfioctl-client --json list)" "\"address\":\"$edu\"" "anyone may list the devices"
pid=$(systemctl show -P MainPID vfiod.service)
check "vfiod runs under vfiod.service (pid $pid)" test "$pid" -gt 0
is "$(ps -o user= -p "$pid")" vfiod "it runs as the user vfiod, not root"
caps=$(sed -n 's/^CapEff:\t//p' /proc/$pid/status)
# chown, dac_override, kill, sys_ptrace, sys_resource, perfmon, bpf
is "$caps" 000000c001080023 "vfiod's effective capabilities are just what it needs"
is "$(sed -n 's/^CapBnd:\t//p' /proc/$pid/status)" 000000c001080023 "and so is its bounding set"
is "$(sed -n 's/^NoNewPrivs:\t//p' /proc/$pid/status)" 1 "it runs with no_new_privs"
like "$(sed -n 's/^Seccomp:\t//p' /proc/$pid/status)" '^2$' "under a system call filter"
# Not root, it may start and stop units (a profile's StopUnits=) through
# vfiod's polkit rule: no other verb, no target, no root shell; and the rule
# is for its user alone.
as_vfiod() { timeout 60 setpriv --reuid=vfiod --regid=vfiod --clear-groups "$@"; }
printf '[Service]\nExecStart=sleep infinity\n' > /run/systemd/system/vmtest-stoppable.service
printf '[Unit]\nDescription=a harmless target\n' > /run/systemd/system/vmtest-harmless.target
systemctl daemon-reload
systemctl start vmtest-stoppable.service
check "vfiod's user may stop a unit" as_vfiod systemctl --no-ask-password stop vmtest-stoppable.service
check "  and start it" as_vfiod systemctl --no-ask-password start vmtest-stoppable.service
like "$(as_vfiod systemctl --no-ask-password restart vmtest-stoppable.service 2>&1)" "Access denied|Interactive authentication required" \
    "  but not restart it, a verb vfiod does not use"
like "$(as_vfiod systemctl --no-ask-password start vmtest-harmless.target 2>&1)" "Access denied|Interactive authentication required" \
    "  nor start a target"
like "$(as_vfiod systemctl --no-ask-password start debug-shell.service 2>&1)" "Access denied|Interactive authentication required" \
    "  nor open a root shell (debug-shell.service)"
like "$(as_mallory systemctl --no-ask-password stop vmtest-stoppable.service 2>&1)" "Access denied|Interactive authentication required" \
    "  and mallory may not stop it"
is "$(systemctl is-active vmtest-stoppable.service)" active "  which still runs"
systemctl stop vmtest-stoppable.service

# ---- mallory: no rule, no password prompt to answer ----
out=$(as_mallory vfioctl-client --json claim "$edu" -- true 2>/dev/null); status=$?
like "$out" '"error":"io.github.vfiod1.Error.NotAuthorized".*io.github.vfiod1.claim without authentication' \
    "mallory's claim is refused (NotAuthorized)"
is "$status" 3 "vfioctl-client exits 3: not authorized"
# At a terminal of her own (script gives her one), a password prompt would
# wait for her; --no-ask-password refuses at once, and says what to do.
out=$(as_mallory timeout 30 script -qec "vfioctl-client --no-ask-password claim $edu -- true" /dev/null 2>&1)
is "$?" 3 "at a terminal, --no-ask-password is refused at once (exit 3)"
unlike "$out" "AUTHENTICATING|Password:" "and no password is asked for"
like "$out" "49-vfiod-vfio-group.rules, copied to /etc/polkit-1/rules.d/, lets the members of the group 'vfio'" \
    "the refusal says how to become someone who may claim"
# A terminal for stdin but none of her own (a script under the console):
# nobody there can answer a prompt, so no agent starts and none complains.
out=$(as_mallory setsid -w vfioctl-client claim "$edu" -- true 2>&1 </dev/console)
unlike "$out" "[Aa]gent|AUTHENTICATING|Password:" "without a terminal of her own no polkit agent starts, nor complains"
is "$(pci_driver "$edu")" none "edu did not move"
out=$(as_mallory "$VM_FD_CLIENT" memlock $((64 << 20)))
like "$out" "NotAuthorized" "mallory may not raise her memlock limit either"

# ---- alice, chown mode, a guard-fd lease held by her command ----
out=$(as_alice vfioctl-client claim "$edu" -- sh -c \
    'stat -c "owner %U mode %a" /dev/vfio/$VFIOD_GROUP; echo "lease $VFIOD_LEASE"; exit 3' 2>&1)
status=$?
diag "$out"
like "$out" "owner alice mode 600" "alice's command finds /dev/vfio/$g hers, mode 0600, without a password"
like "$out" "lease /io/github/vfiod1/lease/[0-9]+" "it knows its lease"
is "$status" 3 "vfioctl-client exits with the command's status"
like "$out" "Returned IOMMU group $g" "and says the group went back"
is "$(pci_driver "$edu")" none "when the command exited, edu went back (no driver)"
check "/dev/vfio/$g is gone with it" test ! -e "/dev/vfio/$g"

# ---- a command that leaves a process behind, holding its guard fd ----
# The lease lives on with that process: the client says so and exits
# instead of waiting on, deaf to Ctrl-C and TERM.
out=$(timeout -k 5 20 setpriv --reuid=alice --regid=alice --init-groups vfioctl-client claim "$edu" -- \
    sh -c 'sleep 600 > /dev/null 2>&1 & echo "left $!"' 2>&1)
status=$?
diag "$out"
is "$status" 4 "a command that leaves a process with the guard fd: vfioctl-client exits 4 (busy), by itself"
like "$out" "a process it started still holds the lease of IOMMU group $g" "  saying the lease lives on"
check "  the group stays leased" group_leased
left=$(printf '%s\n' "$out" | sed -n 's/^left //p')
like "$out" "PID $left \\(sleep\\) holds the guard fd" "  and naming the process that holds it"
kill "$left"
check "  and goes back once that process exits" wait_for 15 group_back

# ---- a lease that outlives its command, held by nobody alice can see ----
# To alice's client this is vfiod not yet done with the lease's end (a
# loaded host): root holds the guard a while after the command ended
# (opened anew through the command's fd), and the client waits on.
guard_of() { # PID: the command's guard fd, as /proc/PID/fd/N
    local fd
    for fd in /proc/"$1"/fd/*; do
        case $(readlink "$fd") in */guards/*) echo "$fd"; return 0 ;; esac
    done
    return 1
}
# 'outlive SECONDS': alice claims edu with a command that waits for root to
# open its guard; root keeps it SECONDS after the command ended. Sets
# status and out, the client's.
outlive() {
    local client cmd ready=/tmp/outlive.ready go=/tmp/outlive.go
    status=1 out="the command did not start, or root could not open its guard"
    rm -f "$ready" "$go"
    setpriv --reuid=alice --regid=alice --init-groups vfioctl-client claim "$edu" -- \
        sh -c "echo \$\$ > $ready; while [ ! -e $go ]; do sleep 0.1; done" > /tmp/outlive.out 2>&1 &
    client=$!
    wait_for 30 test -s "$ready" || { kill "$client"; return 1; }
    cmd=$(cat "$ready")
    exec 9> "$(guard_of "$cmd")" || { kill "$client"; return 1; }
    touch "$go"
    sleep "$1"
    exec 9>&-
    wait "$client"
    status=$?
    out=$(cat /tmp/outlive.out)
    diag "$out"
}
outlive 6
is "$status" 0 "a lease held 6 s after its command by nobody alice sees: the client waits for it, and exits 0"
like "$out" "Returned IOMMU group $g" "  once the group went back"
check "  which it did" group_back
# Held out of her sight for longer: passed to another user's process, as
# far as she can tell.
outlive 35
is "$status" 4 "a lease held by nobody alice sees for over 30 s: the client exits 4 (busy)"
like "$out" "a process it started still holds the lease of IOMMU group $g" "  saying the lease lives on"
check "  the group goes back once that holder closes it" wait_for 15 group_back

# ---- alice's nested QEMU, with the memlock it needs ----
out=$(printf 'info pci\nquit\n' | as_alice timeout 300 vfioctl-client claim "$edu" --memlock 256M -- \
    qemu-system-x86_64 -M q35 -S -m 64 -nodefaults -display none -monitor stdio \
    -device "vfio-pci,host=${edu#0000:}" 2>&1)
printf '%s\n' "$out" | grep -B1 -A2 '1234:11e8' | sed 's/^/# /'
like "$out" "PCI device 1234:11e8" "alice's QEMU sees edu"
is "$(pci_driver "$edu")" none "when QEMU exited, edu went back"

# ---- fd mode: a VM manager's own D-Bus call ----
vfiod_pid=$(systemctl show -P MainPID vfiod.service)
sleep 3 | as_alice "$VM_FD_CLIENT" device "$edu" > /tmp/fd.out 2>&1 &
check "alice's program holds the fds" wait_for 30 grep -q vendor /tmp/fd.out
diag "$(cat /tmp/fd.out)"
like "$(cat /tmp/fd.out)" "vendor 0x1234" "the fds alone reach edu's config space: vendor 0x1234"
is "$(ls -l /proc/$vfiod_pid/fd | grep -c /dev/vfio/)" 0 "vfiod kept no copy of the fds it handed over"
check "the connection lease ended with the program" wait_for 10 group_back

# ---- memlock: the caller's processes and no one else's ----
spawn_alice sleep 60; bystander=$!
setpriv --reuid=mallory --regid=mallory --init-groups sleep 60 & strangers=$!
sleep 0.2
before=$(grep 'Max locked memory' /proc/$bystander/limits)
out=$(as_alice "$VM_FD_CLIENT" memlock $((256 << 20)))
is "$out" "memlock $((256 << 20)) $((256 << 20))" "alice's process gets 256 MiB of memlock"
is "$(grep 'Max locked memory' /proc/$bystander/limits)" "$before" "her other process keeps its limit"
out=$(as_alice vfioctl-client memlock "$bystander" --memlock 512M 2>&1)
check "alice raises the limit of another process of hers (as for a session libvirtd)" test $? = 0
diag "$out"
like "$(grep 'Max locked memory' /proc/$bystander/limits)" "Max locked memory +536870912 +536870912 +bytes" \
    "  to 512 MiB"
like "$(journalctl -u vfiod --no-pager | tail -3)" "for process $bystander \\(sleep\\) raised" "  and the journal names it"
before=$(grep 'Max locked memory' /proc/$strangers/limits)
out=$(as_alice "$VM_FD_CLIENT" memlock $((256 << 20)) "$strangers")
like "$out" "NotAuthorized.*The pidfd is of pid $strangers \\(uid $(id -u mallory)\\), not of a process of the caller's" \
    "a pidfd of mallory's process is refused"
is "$(grep 'Max locked memory' /proc/$strangers/limits)" "$before" "  and that process keeps its limit"
out=$(as_alice vfioctl-client --json memlock "$strangers" --memlock 64M)
is "$?" 3 "  vfioctl-client memlock exits 3"
json_shape error "$out" "  with one error object"
kill $strangers; wait $strangers 2>/dev/null
# The bus names the PID a caller connected from, which by now another
# process may have: a set-group-ID program is refused even for itself.
install -m 2755 -g mallory "$VM_FD_CLIENT" /usr/local/bin/fd-client-sgid
out=$(as_alice /usr/local/bin/fd-client-sgid memlock $((128 << 20)))
like "$out" "NotAuthorized.*more than a process of uid $(id -u alice) \\(a set-group-ID program\\)" \
    "a set-group-ID program of hers is refused, even for its own limit"
unlike "$out" "memlock $((128 << 20)) " "  and its limit stays the one it inherited"
rm /usr/local/bin/fd-client-sgid
# Root of a user namespace of its own (a rootless container's VMM): its
# capabilities stop there, and it is no more than a process of hers.
spawn_alice unshare --user --map-root-user sleep 60; userns=$!
check "a process of hers runs in a user namespace, with its capabilities" \
    wait_for 5 sh -c "grep -q '^CapPrm:.*[1-9a-f]' /proc/$userns/status && [ \"\$(readlink /proc/$userns/ns/user)\" != \"\$(readlink /proc/1/ns/user)\" ]"
out=$(as_alice vfioctl-client memlock "$userns" --memlock 64M 2>&1)
check "  alice raises its limit" test $? = 0
diag "$out"
like "$(grep 'Max locked memory' /proc/$userns/limits)" "Max locked memory +67108864 +67108864 +bytes" "  to 64 MiB"
kill $userns; wait $userns 2>/dev/null
out=$(as_alice "$VM_FD_CLIENT" memlock $((2 << 30)))
like "$out" "LimitExceeded.*2 GiB of locked memory is more than the 1 GiB" "2 GiB, above the 1 GiB cap: refused"
like "$out" "memlock [0-9]+ " "and the limit did not move"
kill $bystander
wait $bystander 2>/dev/null

# ---- leases end with their holders, within a second ----
spawn_alice vfioctl-client claim "$edu" --wait > /tmp/wait.out 2>&1; holder=$!
check "alice holds edu by her connection" wait_for 30 group_leased
like "$(vfioctl-client --json leases)" "\"iommu_group\":$g,\"uid\":$(id -u alice),.*\"lifetime\":\"connection\"" \
    "leases lists alice's connection lease"
out=$(vfioctl-client --json claim "$edu" 2>/dev/null)
like "$out" "GroupBusy.*leased to uid $(id -u alice)" "a second claim is busy, naming alice"
out=$(as_mallory busctl --system call io.github.vfiod1 /io/github/vfiod1 io.github.vfiod1.Manager \
    ReleaseGroup 'ua{sv}' "$g" 0 2>&1)
like "$out" "Not authorized for io.github.vfiod1.release-any" "mallory may not release alice's lease"
check "it is still held" group_leased
kill -9 $holder
ms=$(ms_until group_back)
check "SIGKILL of the connection holder: edu comes back (in $ms ms)" test "$ms" -lt 9999

# ---- what the guard's holder writes into it stays unread ----
# Reading it would let the holder keep vfiod's loop busy: the FIFO fills
# (its write end is non-blocking: the write fails), and 2 s later it is
# full still. The lease goes on.
spawn_alice vfioctl-client claim "$edu" -- sh -c '
    for f in /proc/$$/fd/*; do case $(readlink "$f") in */guards/lease-*) guard=${f##*/} ;; esac; done
    timeout -s INT 5 dd if=/dev/zero bs=4096 count=64 2> /tmp/guard-dd.err >&"$guard"
    sleep 2
    timeout -s INT 5 dd if=/dev/zero bs=4096 count=64 2> /tmp/guard-dd2.err >&"$guard"
    exec sleep 60' > /tmp/guard-writes.out 2>&1
client=$!
check "alice holds edu by a guard fd, and writes into it" wait_for 30 group_leased
check "  her writes stop when the FIFO is full" wait_for 20 grep -q '^16+0 records out' /tmp/guard-dd.err
check "  and 2 s later it is full still: vfiod read none of it" \
    wait_for 20 grep -q '^0+0 records out' /tmp/guard-dd2.err
diag "$(cat /tmp/guard-dd.err /tmp/guard-dd2.err)"
check "  and the lease goes on" group_leased
kill -9 $(pgrep -u alice -x sleep)
ms=$(ms_until group_back)
check "  until her command dies, unread bytes and all: edu comes back (in $ms ms)" test "$ms" -lt 9999
wait "$client"

vfioctl-client monitor > /tmp/monitor.out 2>&1 & monitor=$!
vfioctl-client --json monitor > /tmp/monitor.json 2>&1 & json_monitor=$!
spawn_alice vfioctl-client claim "$edu" -- sleep 60 > /tmp/guard.out 2>&1; client=$!
check "alice holds edu by a guard fd" wait_for 30 group_leased
kill -9 $(pgrep -u alice -x sleep)
ms=$(ms_until group_back)
check "SIGKILL of the guard-fd holder: edu comes back (in $ms ms)" test "$ms" -lt 9999
check "and vfioctl-client reports it and exits" wait_for 10 sh -c "! kill -0 $client"
sleep 0.3
kill $monitor $json_monitor
like "$(cat /tmp/monitor.out)" "^lease [0-9]+ Released reason=guard-closed" \
    "monitor showed the lease end, with its reason"
like "$(cat /tmp/monitor.out)" "^group $g PropertiesChanged .*State=claimed" "and the group's state, by number"
like "$(cat /tmp/monitor.out)" "^device $edu PropertiesChanged .*Driver=vfio-pci" "and the device's driver, by address"
like "$(cat /tmp/monitor.json)" "\"signal\":\"PropertiesChanged\",\"from\":\"group $g\",\"path\":\"/io/github/vfiod1/group/$g\",\"interface\":\"io.github.vfiod1.Group\",\"changed\":\\{[^}]*\"State\":\"claimed\"" \
    "monitor --json gives the whole change"
json_shape monitor-event "$(cat /tmp/monitor.json)" "monitor --json: each line a monitor event"

# ---- a lease that ends while a process still holds the group open ----
# The process names itself with bytes that are not UTF-8 and a terminal
# escape (its name is that of the link it runs as): vfiod names it escaped,
# and every answer that names it is still sent.
spawn_alice vfioctl-client claim "$edu" --wait > /tmp/waiter.out 2>&1; waiter=$!
check "alice holds edu by her connection once more" wait_for 30 group_leased
odd_name=$(printf 'sl\377\033p')
odd_shown='sl\\+xff\\+x1bp' # escaped: a backslash each, two in JSON
ln -sf "$(command -v sleep)" "/tmp/$odd_name"
spawn_alice sh -c 'exec "$0" 600 3<>"$1"' "/tmp/$odd_name" "/dev/vfio/$g"; keeper=$!
check "another process of hers, named sl\\xff\\x1bp, opens the group" \
    wait_for 10 sh -c "ls -l /proc/$keeper/fd 2>/dev/null | grep -q /dev/vfio/$g"
out=$(as_alice vfioctl-client release "$edu" 2>&1)
like "$out" "has ended, but PID $keeper \\($odd_shown\\) still holds /dev/vfio/$g open" \
    "releasing says the lease ended and who still holds the group, the name escaped"
check "alice's claim --wait ends with its lease" wait_for 10 sh -c "! kill -0 $waiter"
like "$(cat /tmp/waiter.out)" "vfiod ended the lease of IOMMU group $g \\(released\\)" "and says that vfiod ended it"
wait $waiter
is "$?" 1 "and exits 1"
is "$(group_state "$g")" held "the group shows as held, not stuck"
like "$(vfioctl-client show "$g")" "held open by PID $keeper \\($odd_shown\\)" "show names the holder"
like "$(vfioctl-client leases)" "IOMMU group $g: no lease, but PID $keeper \\($odd_shown\\) still holds it open" \
    "so do the leases"
like "$(busctl --system get-property io.github.vfiod1 /io/github/vfiod1/group/$g io.github.vfiod1.Group Holders)" \
    "$keeper \"$odd_shown\"" "and so does the group's Holders property"
check "and the group's objects are all listed" \
    busctl --system call io.github.vfiod1 /io/github/vfiod1 org.freedesktop.DBus.ObjectManager GetManagedObjects
is "$(pci_driver "$edu")" vfio-pci "edu stays on vfio-pci while it is open"
like "$(vfioctl-client --json claim "$edu" 2>/dev/null)" "GroupBusy.*is held open by PID $keeper \\($odd_shown\\)" \
    "a new claim of it is busy, naming the holder"
kill $keeper; wait $keeper 2>/dev/null
ms=$(ms_until group_back)
check "once the holder closes it, edu goes back (in $ms ms)" test "$ms" -lt 9999
kill $waiter 2>/dev/null; wait $waiter 2>/dev/null

# ---- the same when inotify's limits leave vfiod no watch ----
# (an administrator's sysctl; the watches of every process of vfiod's
# user count against it): vfiod asks every few seconds instead.
spawn_alice vfioctl-client claim "$edu" --wait > /dev/null 2>&1; waiter=$!
check "alice holds edu again" wait_for 30 group_leased
# Two processes of hers share the group's fd: a shell's child and the
# shell itself, which then becomes another sleep.
spawn_alice sh -c 'exec 3<>"$0"; sleep 600 & exec sleep 601' "/dev/vfio/$g"; keeper=$!
child() { pgrep -P "$keeper" -x sleep; }
check "and two processes of hers have the group open" \
    wait_for 10 sh -c "child=\$(pgrep -P $keeper -x sleep) && ls -l /proc/\$child/fd | grep -q /dev/vfio/$g"
keeper2=$(child)
watches=$(sysctl -n fs.inotify.max_user_watches)
sysctl -qw fs.inotify.max_user_watches=0
out=$(as_alice vfioctl-client release "$edu" 2>&1)
sysctl -qw fs.inotify.max_user_watches="$watches"
like "$out" "still holds /dev/vfio/$g open" "with no inotify watch to be had, releasing still names the holders"
is "$(group_state "$g")" held "the group shows as held"
check "the journal says why it is asked every 2 s" wait_for 10 sh -c "journalctl -u vfiod --no-pager |
    grep -q 'Cannot watch /dev/vfio/$g for closes (inotify: No space left on device). IOMMU group $g is asked every 2 s'"
like "$(vfioctl-client show "$g")" "PID $keeper2 " "show names the one holder"
like "$(vfioctl-client show "$g")" "PID $keeper " "  and the other"
kill $keeper2
names_one() { vfioctl-client show "$g" | grep -q "PID $keeper " && ! vfioctl-client show "$g" | grep -q "PID $keeper2 "; }
check "once one has closed it, show names only the other" wait_for 10 names_one
is "$(group_state "$g")" held "  the group is still held"
kill $keeper; wait $keeper 2>/dev/null
check "once the holder closes it, edu goes back all the same" wait_for 15 group_back
kill $waiter 2>/dev/null; wait $waiter 2>/dev/null

# ---- holders that share the group's open file, watched ----
# inotify tells only of the file's last close: a holder that exits while
# others keep the file is noticed by its PID being gone, or a zombie.
spawn_alice vfioctl-client claim "$edu" --wait > /dev/null 2>&1; waiter=$!
check "alice holds edu once more" wait_for 30 group_leased
since=$(date '+%Y-%m-%d %H:%M:%S')
# The shell reaps sleep 600; sleep 603 never reaps sleep 602.
spawn_alice sh -c 'exec 3<>"$0"; sleep 600 & (sleep 602 & exec sleep 603) & wait' "/dev/vfio/$g"; keeper=$!
sleeper() { pgrep -u alice -f "^sleep $1\$"; }
check "four processes of hers share the group's fd" \
    wait_for 10 sh -c "pgrep -u alice -f '^sleep 60[023]\$' | wc -l | grep -qx 3"
reaped=$(sleeper 600) zombie=$(sleeper 602)
out=$(as_alice vfioctl-client release "$edu" 2>&1)
like "$out" "still holds /dev/vfio/$g open" "released while they hold it"
like "$(vfioctl-client show "$g")" "PID $reaped .*PID $zombie |PID $zombie .*PID $reaped " "  show names each"
names_not() { ! vfioctl-client show "$g" | grep -q "PID $1 " && vfioctl-client show "$g" | grep -q "PID $keeper "; }
kill "$reaped"
check "once one has exited (its parent reaps it), show no longer names it" wait_for 10 names_not "$reaped"
kill "$zombie"
check "nor one that has exited unreaped (a zombie)" wait_for 10 names_not "$zombie"
is "$(group_state "$g")" held "  the group is still held"
check "  watched all along" sh -c "! journalctl -u vfiod --no-pager --since '$since' | grep -q 'Cannot watch'"
kill $(sleeper 603) "$keeper"; wait $keeper 2>/dev/null
check "once all have exited, edu goes back" wait_for 15 group_back
kill $waiter 2>/dev/null; wait $waiter 2>/dev/null

# ---- leases outlive a restart of vfiod ----
spawn_alice vfioctl-client claim "$edu" -- sleep 60 > /tmp/guard2.out 2>&1
check "alice holds edu by a guard fd again" wait_for 30 group_leased
spawn_alice vfioctl-client claim "$VM_E1000_ADDR" --wait > /tmp/e1000.out 2>&1; holder=$!
ge=$(pci_group "$VM_E1000_ADDR")
e1000_leased() { [ "$(group_state "$ge")" = claimed ]; }
check "and e1000 by her connection" wait_for 30 e1000_leased || diag "$(cat /tmp/e1000.out)"
systemctl restart vfiod.service
check "vfiod restarted" test "$(systemctl show -P ActiveState vfiod.service)" = active
like "$(vfioctl-client --json leases)" '"lifetime":"guard-fd".*"lifetime":"connection"|"lifetime":"connection".*"lifetime":"guard-fd"' \
    "both leases are taken up again"
is "$(stat -c %U /dev/vfio/$g)" alice "alice still owns /dev/vfio/$g"

# A node made anew (the group left vfio-pci and came back) is hers again.
echo "$edu" > "/sys/bus/pci/devices/$edu/driver/unbind"
echo "$edu" > /sys/bus/pci/drivers_probe
check "edu's node is back" wait_for 5 test -c "/dev/vfio/$g"
alice_owns() { [ "$(stat -c %U "/dev/vfio/$g")" = alice ]; }
check "and alice owns it again" wait_for 5 alice_owns || diag "$(journalctl -u vfiod --no-pager | tail -5)"

kill -9 "$(pgrep -u alice -x sleep)"
ms=$(ms_until group_back)
check "after the restart, the guard fd still ends the lease: edu comes back (in $ms ms)" test "$ms" -lt 9999
kill -9 $holder
e1000_back() { [ "$(pci_driver "$VM_E1000_ADDR")" = e1000 ]; }
check "and the connection lease too: e1000 back on e1000" wait_for 10 e1000_back

# ---- bad input at the bus edge: an error, no crash, nothing changed ----
bad() {
    local expect=$1; shift
    local out
    out=$(as_alice busctl --timeout=30 --system call io.github.vfiod1 /io/github/vfiod1 io.github.vfiod1.Manager "$@" 2>&1)
    like "$out" "$expect" "bad input refused: $1 $2 ${3:0:20}..."
}
long=$(head -c 100000 /dev/zero | tr '\0' 'a')
bad "not a PCI address" ClaimDevice 'sa{sv}' "../../$edu" 0
bad "not a PCI address" ClaimDevice 'sa{sv}' "$long" 0
bad "Unknown option" ClaimDevice 'sa{sv}' "$edu" 1 "mode/../x" s fd
bad "Option 'mode' is one of" ClaimDevice 'sa{sv}' "$edu" 1 mode s "../../etc/passwd"
bad "Option 'lifetime' is one of" ClaimDevice 'sa{sv}' "$edu" 1 lifetime u 3
bad "Option 'force' takes a boolean" ClaimGroup 'ua{sv}' "$g" 1 force s yes
bad "Persistent leases are for root" ClaimGroup 'ua{sv}' "$g" 1 lifetime s persistent
bad "No IOMMU group" ClaimGroup 'ua{sv}' 4294967295 0
bad "InvalidArgs|Invalid" ClaimGroup 's' "$g"
bad "knows no options" ReleaseGroup 'ua{sv}' "$g" 1 force b true
# busctl passes no fds: RaiseMemlockLimit goes through the helper.
like "$(as_alice "$VM_FD_CLIENT" memlock 0)" "InvalidArgs A memlock limit of 0 bytes" "bad input refused: RaiseMemlockLimit 0"
like "$(as_alice "$VM_FD_CLIENT" memlock 18446744073709551615)" "16 EiB of locked memory is more than the 1 GiB" \
    "bad input refused: RaiseMemlockLimit 16 EiB"
for path in /io/github/vfiod1/lease/0 /io/github/vfiod1/lease/99999999999999999999999 \
            /io/github/vfiod1/lease/1_2 /io/github/vfiod1/lease; do
    out=$(as_alice busctl --timeout=30 --system call io.github.vfiod1 $path io.github.vfiod1.Lease Release 2>&1)
    like "$out" "Unknown object|Unknown method" "$path is no lease"
done
is "$(systemctl show -P NRestarts vfiod.service)" 0 "vfiod never crashed"
is "$(pci_driver "$edu")" none "and edu never moved"

# ---- polkit is told of every device that would move ----
set -- $VM_BRIDGED_ADDRS # an edu (1234:11e8) and an e1000 (8086:100e) behind a bridge, one group
vendor_rule() {
    cat > /etc/polkit-1/rules.d/10-vfiod-test-vendor.rules <<RULES
polkit.addRule(function(action, subject) {
    if (action.id == "io.github.vfiod1.claim" && subject.user == "mallory" && $1)
        return polkit.Result.YES;
});
RULES
    systemctl restart polkit.service
}
vendor_rule 'action.lookup("vendor") == "1234"'
out=$(as_mallory vfioctl-client --json claim "$1" -- true 2>/dev/null)
like "$out" '"error":"io.github.vfiod1.Error.NotAuthorized"' \
    "a rule for edu's vendor does not hand out the e1000 that shares its group"
is "$(pci_driver "$1") $(pci_driver "$2")" "none e1000" "and neither moved"
vendor_rule "action.lookup(\"device\") == \"$1 $2\" && action.lookup(\"vendor\") == \"1234 8086\" &&
             action.lookup(\"model\") == \"11e8 100e\" && action.lookup(\"ids\") == \"1234:11e8 8086:100e\" &&
             action.lookup(\"group\") == \"$(pci_group "$1")\""
check "a rule that names both devices, as polkit is told of them, lets mallory claim the group" \
    as_mallory vfioctl-client claim "$1" -- true
is "$(pci_driver "$1") $(pci_driver "$2")" "none e1000" "and both went back"
vendor_rule 'action.lookup("vendor") == "1234"'
check "the same rule lets mallory claim an edu alone in its group" as_mallory vfioctl-client claim "$edu" -- true
is "$(pci_driver "$edu")" none "and it went back"
rm /etc/polkit-1/rules.d/10-vfiod-test-vendor.rules
systemctl restart polkit.service

# ---- a flood of questions polkit does not answer starves nobody ----
polkitd=$(systemctl show -P MainPID polkit.service)
kill -STOP "$polkitd"
flood=$(mktemp -d)
for i in $(seq 20); do
    as_mallory busctl --system --timeout=120 call io.github.vfiod1 /io/github/vfiod1 io.github.vfiod1.Manager \
        ClaimDevice 'sa{sv}' "$edu" 0 > "$flood/$i" 2>&1 &
done
limited() { grep -l "questions to polkit open" "$flood"/[0-9]* 2>/dev/null | wc -l; }
at_least_limited() { [ "$(limited)" -ge "$1" ]; }
check "mallory's questions beyond 16 are turned away at once" wait_for 30 at_least_limited 4
is "$(limited)" 4 "  exactly those beyond 16"
like "$(cat "$flood"/[0-9]*)" "uid $(id -u mallory) already has 16 questions to polkit open" "  saying why"
as_alice vfioctl-client claim "$edu" -- true > "$flood/alice" 2>&1 &
alice_claim=$!
pkill -u mallory -x busctl
sleep 1
out=$(as_mallory busctl --system --timeout=3 call io.github.vfiod1 /io/github/vfiod1 io.github.vfiod1.Manager \
    ClaimDevice 'sa{sv}' "$edu" 0 2>&1)
like "$out" "Connection timed out|Timeout" "mallory's questions went with her connections: a new one waits again"
kill -CONT "$polkitd"
wait $alice_claim
check "alice's claim, asked during the flood, went through" test $? = 0
diag "$(cat "$flood/alice")"
is "$(pci_driver "$edu")" none "and edu went back"
rm -rf "$flood"

# ---- no polkitd: nobody but root gets anything ----
timeout 30 systemctl mask --runtime polkit.service > /dev/null 2>&1
timeout 30 systemctl stop polkit.service
out=$(as_alice vfioctl-client --json claim "$edu" -- true 2>/dev/null)
like "$out" '"error":"io.github.vfiod1.Error.NotAuthorized".*polkit could not be asked' \
    "without polkitd, alice is refused, and told why"
is "$(pci_driver "$edu")" none "and edu did not move"

done_testing
