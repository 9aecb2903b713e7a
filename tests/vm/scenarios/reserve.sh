# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Reservations, over two boots with systemd as PID 1 and the configuration
# of tests/vm/fixtures/etc-vfiod kept between them (run --boots 2
# --etc-vfiod): the first e1000 reserved by address (in a file with a broken
# line), the first of two identical edu devices by id narrowed to its
# address, owned by alice. Boot 1: both came up on vfio-pci before any host
# driver; reserve and unreserve through vfiod; a reservation's claim cut
# short gives back vfiod-early's hold, not the host driver; one unreserved
# while its claim runs goes back once the claim is done; and one refused
# leaves it to the unreserve (or a reload after a hand edit) to give back,
# and fails no other reservation made meanwhile. Boot 2: what boot 1
# unreserved boots on its driver; a driver that took a reserved device anyway
# loses it when vfiod starts; a reserved device hotplugged lands on vfio-pci;
# initramfs-tools and dracut images built with vfiod's hooks hold what they
# need, and their early scripts, run from the unpacked images, reserve.
. "$VM_SRCDIR/tests/vm/guest/tap.sh"

nic=$VM_E1000_ADDR nic2=$VM_E1000B_ADDR edu=$VM_EDU_ADDR edu2=$VM_EDU2_ADDR
mf_nic=${VM_MF_ADDRS% *} mf_edu=${VM_MF_ADDRS#* } # an e1000 and an edu, one group
conf=/etc/vfiod/reservations.d
has_netdev() { ls "/sys/bus/pci/devices/$1/net" 2> /dev/null | grep -q .; }
on_driver()  { [ "$(pci_driver "$1")" = "$2" ]; }
group_reserved() { [ "$(group_state "$(pci_group "$1")")" = reserved ]; }
node_owner() { stat -c %U "/dev/vfio/$(pci_group "$1")"; }
node_owned_by() { [ "$(node_owner "$1")" = "$2" ]; }
device_is() { [ "$(device_state "$1")" = "$2" ]; }
group_is() { [ "$(group_state "$1")" = "$2" ]; }
# Kernel log lines of the e1000 driver about one device: it prints one as it
# binds a device and registers its interface.
e1000_lines() { dmesg | grep -c "e1000 $1" || true; }
bus_reserve() {
    busctl --system call io.github.vfiod1 /io/github/vfiod1 io.github.vfiod1.Manager Reserve 'sa{sv}' "$1" 0 2>&1
}

install -m 644 /usr/share/doc/vfiod/examples/49-vfiod-vfio-group.rules /etc/polkit-1/rules.d/
systemctl restart polkit.service

if [ "$VM_BOOT" = 1 ]; then
    # ---- boot: before any host driver ----
    is "$(systemctl show -P Result vfiod-early.service)" success "vfiod-early.service ran at boot"
    is "$(pci_driver "$nic")" vfio-pci "the reserved e1000 booted on vfio-pci"
    check "vfiod-early marked it as put there by the reservation" test -e "/run/vfiod-early/$nic"
    check "no network interface ever appeared for it" test ! -e "/sys/bus/pci/devices/$nic/net"
    is "$(e1000_lines "$nic")" 0 "the e1000 driver never bound it (kernel log)"
    is "$(pci_driver "$nic2")" e1000 "the unreserved e1000 came up on e1000"
    check "with its network interface" has_netdev "$nic2"
    like "$(dmesg | grep "e1000 $nic2")" "Intel\(R\) PRO/1000 Network Connection" \
        "and the kernel log shows e1000 binding it"
    is "$(pci_driver "$edu")" vfio-pci "edu reserved by id@address is on vfio-pci"
    is "$(pci_driver "$edu2")" none "its identical twin at another address is not"

    # ---- the daemon takes them over ----
    check "vfiod.service is started with the reservations" wait_for 30 systemctl is-active -q vfiod.service
    check "the e1000's group is reserved" wait_for 10 group_reserved "$nic"
    is "$(group_state "$(pci_group "$nic")" Reservation)" "$nic" "and says by what"
    check "edu's group node is alice's, as reserved" wait_for 10 node_owned_by "$edu" alice
    # Her VM has the node open with no lease, as a reservation's owner may:
    # a restart of vfiod leaves the group reserved, and the node hers (root's
    # while vfiod looks her name up anew: manager-owners.c).
    spawn_alice sh -c 'exec sleep 600 3<>"$0"' "/dev/vfio/$(pci_group "$edu")"; owner_vm=$!
    check "alice opens her reserved group's node" \
        wait_for 10 sh -c "ls -l /proc/$owner_vm/fd 2>/dev/null | grep -q /dev/vfio/"
    systemctl restart vfiod.service
    check "  restarted meanwhile, vfiod finds the group reserved, not held" wait_for 10 group_reserved "$edu"
    check "  the node hers" wait_for 10 node_owned_by "$edu" alice
    kill "$owner_vm"; wait "$owner_vm" 2>/dev/null
    like "$(journalctl -b -u vfiod --no-pager)" "$conf/10-nic.conf:3: .*skipped" \
        "the broken line is logged with file and line"
    out=$(vfioctl-client --json reservations)
    json_shape reservations "$out" "reservations --json"
    like "$out" "\"match\":\"$nic\",\"owner\":null,\"file\":\"$conf/10-nic.conf\",\"line\":4,\"devices\":\\[\"$nic\"\\]" \
        "the valid line of that file applies (reservations)"
    like "$out" "\"match\":\"1234:11e8@$edu\",\"owner\":\"alice\".*\"devices\":\\[\"$edu\"\\]" \
        "the narrowed id matches one edu only"

    # ---- a lease on a reserved group ----
    # Her command opens the node to everyone, mode and ACL: the lease's end
    # takes that back.
    node=/dev/vfio/$(pci_group "$edu")
    check "alice claims the reserved edu and runs a command with it, which opens the node to all" \
        as_alice vfioctl-client claim "$edu" -- \
        sh -c "test -w $node && chmod 0666 $node && setfacl -m u:mallory:rw $node"
    is "$(pci_driver "$edu")" vfio-pci "when her lease ends, edu stays on vfio-pci"
    is "$(group_state "$(pci_group "$edu")")" reserved "reserved again, with no lease"
    is "$(stat -c '%U:%G %a' "$node")" "alice:root 600" "the node goes back to the reservation's owner, mode 0600"
    is "$(getfacl -cp "$node" 2>/dev/null | grep -c mallory)" 0 "and no ACL entry of the lessee's is left"
    check "mallory cannot open it" \
        bash -c "! timeout 10 setpriv --reuid=mallory --regid=mallory --init-groups sh -c 'exec 3<>$node'"
    # The owner opens her node to all, as she may; a lease that hands over
    # no node (fd mode: vfiod opens it) takes it from her while it lasts.
    check "alice, its owner, opens her node to everyone" \
        as_alice sh -c "chmod 0666 $node && setfacl -m u:mallory:rw $node"
    vfioctl-client claim --fd "$edu" -- \
        sh -c "{ stat -c '%U:%G %a' $node; getfacl -cp $node | grep -c mallory; } > /tmp/fd-lease.out" \
        > /dev/null 2>&1
    is "$(cat /tmp/fd-lease.out)" "root:root 600
0" "a root fd lease of her reserved group: the node is root's, 0600, no ACL, while it lasts"
    is "$(stat -c '%U:%G %a' "$node")" "alice:root 600" "  and alice's again after it, mode 0600"
    is "$(getfacl -cp "$node" 2>/dev/null | grep -c mallory)" 0 "  with no ACL entry for mallory"
    spawn_alice sh -c 'exec sleep 600 3<>"$0"' "$node"; owner_vm=$!
    check "  alice's VM opens the node" \
        wait_for 10 sh -c "ls -l /proc/$owner_vm/fd 2>/dev/null | grep -q /dev/vfio/"
    out=$(vfioctl-client --json claim "$edu" 2>&1)
    like "$out" '"error":"io.github.vfiod1.Error.GroupBusy".*a process has it open already' \
        "  a lease that hands over no node, while her VM has it: GroupBusy"
    is "$(group_state "$(pci_group "$edu")")" reserved "  and the group stays reserved, with no lease"
    kill "$owner_vm"; wait "$owner_vm" 2>/dev/null
    # A site's udev rule opening every VFIO node to a group applies at
    # "change" too ('udevadm trigger'): vfiod sets the owner again after it.
    groupadd -f vfiokvm
    echo 'SUBSYSTEM=="vfio", GROUP="vfiokvm", MODE="0660"' > /etc/udev/rules.d/70-vfiokvm.rules
    udevadm control --reload
    node_is() { [ "$(stat -c '%U:%G %a' "$node")" = "$1" ]; }
    udevadm trigger --action=change --settle "$node"
    check "a udev rule's change to her reserved node is undone: alice's, 0600" wait_for 10 node_is "alice:root 600"
    vfioctl-client claim --fd "$edu" -- sh -c "udevadm trigger --action=change --settle $node
        for i in \$(seq 50); do [ \"\$(stat -c '%U:%G %a' $node)\" = 'root:root 600' ] && break; sleep 0.2; done
        stat -c '%U:%G %a' $node > /tmp/udev-lease.out" > /dev/null 2>&1
    is "$(cat /tmp/udev-lease.out)" "root:root 600" "  and during a root fd lease: root's, 0600"
    rm /etc/udev/rules.d/70-vfiokvm.rules
    udevadm control --reload
    check "  alice's after it" wait_for 10 node_is "alice:root 600"

    # ---- reserve and unreserve through vfiod ----
    out=$(as_mallory vfioctl-client --json reserve "$edu2" 2>/dev/null)
    like "$out" '"error":"io.github.vfiod1.Error.NotAuthorized"' "mallory may not reserve"
    is "$(pci_driver "$edu2")" none "and edu2 did not move"
    out=$(vfioctl-client reserve 1234:11e8 2>&1)
    is "$?" 0 "root reserves by id alone" || diag "$out"
    like "$out" "$edu is reserved already, as 1234:11e8@$edu \\($conf/20-edu.conf:[0-9]+\\): that reservation stays in force for its group, owner alice" \
        "and is told that edu's own reservation stays in force"
    is "$(pci_driver "$edu2"),$(pci_driver "$edu")" vfio-pci,vfio-pci "an id alone takes both edu devices"
    is "$(pci_driver "$mf_edu"),$(pci_driver "$mf_nic")" vfio-pci,vfio-pci \
        "and the third edu, with the e1000 of its group (down: not in use)"
    check "the reservation is a drop-in" test -s "$conf/vfioctl-1234:11e8.conf"
    out=$(vfioctl-client unreserve 1234:11e8 2>&1)
    is "$?" 0 "unreserve the id" || diag "$out"
    like "$out" "$edu2 back without a driver" "unreserve says edu2 is back without a driver"
    like "$out" "$edu stays on vfio-pci: another reservation holds its group" "and why edu stays"
    is "$(pci_driver "$edu2"),$(pci_driver "$edu")" none,vfio-pci \
        "edu2 goes back to no driver, edu keeps its own reservation"
    is "$(pci_driver "$mf_edu"),$(pci_driver "$mf_nic")" none,e1000 "the third edu and its e1000 go back too"
    check "and the drop-in is gone" test ! -e "$conf/vfioctl-1234:11e8.conf"

    # ---- what someone else put on vfio-pci stays there ----
    echo vfio-pci > "/sys/bus/pci/devices/$edu2/driver_override"
    echo "$edu2" > /sys/bus/pci/drivers_probe
    is "$(pci_driver "$edu2")" vfio-pci "edu2 is put on vfio-pci by its override, as driverctl does"
    out=$(vfioctl-client --json reserve "$edu2")
    is "$?" 0 "root reserves it"
    json_shape reserve "$out" "reserve --json: the match, its file and devices"
    out=$(vfioctl-client unreserve "$edu2" 2>&1)
    like "$out" "$edu2 stays on vfio-pci: it was there by its driver_override before vfiod reserved it" \
        "and unreserves it, told that it stays and why"
    is "$(pci_driver "$edu2"),$(cat "/sys/bus/pci/devices/$edu2/driver_override")" vfio-pci,vfio-pci \
        "it stays on vfio-pci, override and all: vfiod-early did not put it there"
    echo > "/sys/bus/pci/devices/$edu2/driver_override"
    echo "$edu2" > /sys/bus/pci/drivers/vfio-pci/unbind

    out=$(vfioctl-client reserve 12:34 2>&1)
    like "$out" "Not a reservation match: '12:34': expected a PCI address" "a bad match gets a clear error"
    like "$(bus_reserve ../../etc/passwd)" "InvalidMatch|Not a reservation match" "a path with .. is no match"
    like "$(bus_reserve "$(head -c 5000 /dev/zero | tr '\0' 0)")" "too long" "nor are 5000 characters"
    out=$(vfioctl-client reserve "$edu2" --owner nosuchuser 2>&1)
    like "$out" "There is no user 'nosuchuser'" "an unknown owner is refused"
    out=$(vfioctl-client --json reserve "$VM_ROOT9P_ADDR" 2>/dev/null)
    like "$out" '"error":"io.github.vfiod1.Error.HostCritical".*Not reserved' \
        "the device behind the root filesystem cannot be reserved"
    check "and no drop-in is left for it" test ! -e "$conf/vfioctl-$VM_ROOT9P_ADDR.conf"
    is "$(pci_driver "$VM_ROOT9P_ADDR")" virtio-pci "it stays on its driver"
    is "$(ls $conf)" "10-nic.conf
20-edu.conf" "nothing else was written"

    out=$(vfioctl-client --json unreserve "$nic")
    like "$out" "^\\{\"unreserved\":\"$nic\",\"devices\":\\[\\{\"address\":\"$nic\",\"driver\":\"e1000\",\"state\":\"host\",\"outcome\":\"back on e1000\"\\}\\]\\}$" \
        "unreserve the e1000: --json says it is back on e1000"
    json_shape unreserve "$out" "unreserve --json: where each device is now"
    is "$(pci_driver "$nic")" e1000 "it is back on e1000 at once"
    check "its network interface comes" wait_for 10 has_netdev "$nic"
    is "$(grep -v '^#' $conf/10-nic.conf)" this-is-not-a-match \
        "its line left the file; the administrator's comments and other lines stay"
    out=$(vfioctl-client --json unreserve "$nic" 2>/dev/null)
    like "$out" '"error":"io.github.vfiod1.Error.NoSuchReservation"' "unreserving it twice says so"
    is "$(systemctl show -P NRestarts vfiod.service)" 0 "vfiod never restarted"

    # ---- a reserved claim cut short: what vfiod-early held stays off the host ----
    # The second e1000 added while reserved and before its driver is loaded,
    # as at boot: vfiod-early holds it on vfio-pci (udev then loads e1000,
    # which the override keeps off it). vfiod is killed as it claims the
    # reservation; started again, it undoes the claim back to that hold,
    # not to e1000 (whose interface would come up on the host), and then
    # takes the reservation up again; unreserving hands it to the host.
    systemctl stop vfiod.service
    echo "$nic2" > "$conf/30-cut.conf"
    echo 1 > "/sys/bus/pci/devices/$nic2/remove"
    modprobe -r e1000
    echo 1 > /sys/bus/pci/rescan
    check "the second e1000, added while reserved, lands on vfio-pci" wait_for 20 on_driver "$nic2" vfio-pci
    check "  held there by vfiod-early" test -e "/run/vfiod-early/$nic2"
    dropin=/run/systemd/system/vfiod.service.d
    mkdir -p "$dropin"
    # One crash, not a loop of them: systemd would restart vfiod at once.
    printf '[Service]\nEnvironment=VFIOD_FAULT=crash,claim,probe,%s\nRestart=no\n' "$nic2" > "$dropin/fault.conf"
    systemctl daemon-reload
    systemctl start vfiod.service 2> /dev/null
    check "vfiod is killed as it claims the reservation" \
        wait_for 30 sh -c '! systemctl is-active -q vfiod.service'
    rm "$dropin/fault.conf"
    systemctl daemon-reload
    systemctl reset-failed vfiod.service
    binds=$(e1000_lines "$nic2")
    since=$(date '+%Y-%m-%d %H:%M:%S')
    systemctl start vfiod.service
    check "started again, vfiod takes the reservation up again" wait_for 30 group_reserved "$nic2"
    log=$(journalctl -u vfiod --no-pager --since "$since")
    like "$log" "a claiming was interrupted at step 'probe $nic2'; returning its devices" \
        "  after undoing the claim it found cut short"
    is "$(pci_driver "$nic2")" vfio-pci "  the e1000 stayed held off the host"
    is "$(e1000_lines "$nic2")" "$binds" "  the e1000 driver never bound it (kernel log)"
    check "  with no network interface" test ! -e "/sys/bus/pci/devices/$nic2/net"
    out=$(vfioctl-client unreserve "$nic2" 2>&1)
    like "$out" "$nic2 back on e1000" "unreserving it hands it to the host's choice, e1000" || diag "$out"
    check "  with its network interface" wait_for 10 has_netdev "$nic2"
    check "  and the drop-in that held its one line is gone" test ! -e "$conf/30-cut.conf"
    rm -f "$conf/30-cut.conf" # as the next boot expects, should the unreserve have failed
    check "  and vfiod-early's mark of it is gone with its hold" test ! -e "/run/vfiod-early/$nic2"
    # Later in this boot the administrator puts it on vfio-pci herself
    # (as driverctl does), then reserves and unreserves it: it is hers
    # to keep there, not vfiod-early's hold to hand to the host.
    echo vfio-pci > "/sys/bus/pci/devices/$nic2/driver_override"
    echo "$nic2" > "/sys/bus/pci/devices/$nic2/driver/unbind"
    echo "$nic2" > /sys/bus/pci/drivers_probe
    is "$(pci_driver "$nic2")" vfio-pci "put on vfio-pci by its override, by hand"
    out=$(vfioctl-client reserve "$nic2" 2>&1)
    is "$?" 0 "  reserved" || diag "$out"
    out=$(vfioctl-client unreserve "$nic2" 2>&1)
    like "$out" "$nic2 stays on vfio-pci: it was there by its driver_override" "  and unreserved, it stays on vfio-pci" || diag "$out"
    is "$(cat "/sys/bus/pci/devices/$nic2/driver_override")" vfio-pci "  with the override she wrote"
    echo > "/sys/bus/pci/devices/$nic2/driver_override"
    echo "$nic2" > "/sys/bus/pci/devices/$nic2/driver/unbind"
    echo "$nic2" > /sys/bus/pci/drivers_probe
    is "$(pci_driver "$nic2")" e1000 "  (back on e1000 by hand)"

    # ---- unreserved while its claim runs ----
    # The test build's VFIOD_FAULT holds the reservation's bind 10 s; an
    # Unreserve meanwhile finds the group moving and leaves it. Once the
    # claim is done, the group goes back: nothing reserves it any more.
    printf '[Service]\nEnvironment=VFIOD_FAULT=stall,claim,probe,%s\n' "$edu2" > "$dropin/stall.conf"
    systemctl daemon-reload
    systemctl restart vfiod.service
    edu2_claiming() { [ "$(group_state "$(pci_group "$edu2")")" = claiming ]; }
    vfioctl-client reserve "$edu2" > /tmp/reserve-edu2 2>&1 &
    check "a reservation of edu2 starts its claim" wait_for 20 edu2_claiming
    out=$(vfioctl-client unreserve "$edu2" 2>&1)
    is "$?" 0 "  unreserved while the claim runs" || diag "$out"
    like "$out" "$edu2 is moving right now: 'vfioctl-client show $edu2' says where it ends up" \
        "  and told that edu2 is moving"
    wait
    check "once the claim is done, edu2 goes back without a driver" wait_for 30 on_driver "$edu2" none
    check "  and vfiod keeps no claim of it" \
        wait_for 10 test ! -e "/run/vfiod/claims/group-$(pci_group "$edu2")"

    # ---- reserved while a lease's claim runs ----
    # The same stall, under a claim of root's: a Reserve meanwhile is
    # answered at once and taken up once the claim is done, so that edu2
    # stays on vfio-pci when the lease ends.
    systemctl restart vfiod.service # the fault fires once per start
    vfioctl-client claim "$edu2" > /tmp/claim-edu2 2>&1 &
    check "a claim of edu2 runs" wait_for 20 edu2_claiming
    out=$(vfioctl-client reserve "$edu2" 2>&1)
    is "$?" 0 "  reserved meanwhile" || diag "$out"
    wait
    rm "$dropin/stall.conf"
    systemctl daemon-reload
    is "$(pci_driver "$edu2")" vfio-pci "once the claim is done, edu2 is on vfio-pci"
    check "  and its claim is held for the reservation too" \
        wait_for 10 grep -qx reserved "/run/vfiod/claims/group-$(pci_group "$edu2")"
    out=$(vfioctl-client release "$edu2" 2>&1)
    is "$?" 0 "the lease is released" || diag "$out"
    is "$(pci_driver "$edu2")" vfio-pci "  and edu2 stays on vfio-pci"
    check "  its group reserved" wait_for 10 group_reserved "$edu2"
    out=$(vfioctl-client --json release "$edu2" 2>/dev/null)
    like "$out" "\"error\":\"io.github.vfiod1.Error.AlreadyReserved\".*is reserved \\($edu2, in .*\\): 'vfioctl-client unreserve $edu2' gives it back" \
        "  a release of the reserved group without its lease is refused, pointing to unreserve"
    is "$(pci_driver "$edu2")" vfio-pci "  and edu2 stays on vfio-pci"
    out=$(vfioctl-client unreserve "$edu2" 2>&1)
    is "$?" 0 "unreserving it succeeds" || diag "$out"
    is "$(pci_driver "$edu2")" none "  edu2 is back without a driver"

    # ---- reserved while a process has it open after its lease ----
    # The lease ends, the group is held until the process closes it; a
    # Reserve meanwhile decides where it goes then: it stays, reserved.
    g2=$(pci_group "$edu2")
    check "claim edu2" vfioctl-client claim "$edu2"
    sleep 600 9<>"/dev/vfio/$g2" &
    keeper=$!
    vfioctl-client release "$edu2" > /dev/null 2>&1
    check "released while a process has its group open, edu2's group is held" wait_for 10 group_is "$g2" held
    is "$(device_state "$edu2")" held "  and so is edu2"
    check "  the ended lease is out of its record at once" \
        eval "test -s /run/vfiod/claims/group-$g2 && ! grep -q '^lease ' /run/vfiod/claims/group-$g2"
    check "  which notes that it ended while open" grep -qx lease-ended-open "/run/vfiod/claims/group-$g2"
    out=$(vfioctl-client reserve "$edu2" 2>&1)
    is "$?" 0 "  reserved meanwhile" || diag "$out"
    systemctl restart vfiod.service
    check "  restarted, vfiod finds the reserved group held again" wait_for 10 group_is "$g2" held
    like "$(vfioctl-client show "$g2")" "held open by PID $keeper \\(sleep\\)" "  by the same process"
    kill "$keeper"
    wait "$keeper" 2> /dev/null
    check "  once the process has closed it, edu2's group stays, reserved" wait_for 20 group_reserved "$edu2"
    is "$(pci_driver "$edu2")" vfio-pci "  on vfio-pci"
    check "  and the lease is not back in its record" \
        eval "test -s /run/vfiod/claims/group-$g2 && ! grep -q '^lease ' /run/vfiod/claims/group-$g2"
    check "  nor the note" eval "! grep -q lease-ended-open /run/vfiod/claims/group-$g2"
    # And the other way: a reserved lease ends while the group is open;
    # unreserved meanwhile, it goes back at the close.
    check "claim reserved edu2" vfioctl-client claim "$edu2"
    sleep 600 9<>"/dev/vfio/$g2" &
    keeper=$!
    vfioctl-client release "$edu2" > /dev/null 2>&1
    check "released while a process has its group open, edu2's group is held" wait_for 10 group_is "$g2" held
    out=$(vfioctl-client unreserve "$edu2" 2>&1)
    like "$out" "$edu2 stays on vfio-pci while a process has its group open" "  unreserved meanwhile, it waits" ||
        diag "$out"
    kill "$keeper"
    wait "$keeper" 2> /dev/null
    check "  once the process has closed it, edu2 goes back without a driver" wait_for 20 on_driver "$edu2" none
    check "  and vfiod keeps no claim of it" wait_for 10 test ! -e "/run/vfiod/claims/group-$g2"
    out=$(vfioctl-client reserve "$edu2" 2>&1)
    is "$?" 0 "reserved again" || diag "$out"

    # ---- reserved again while its release runs ----
    # VFIOD_FAULT holds the release's probe 10 s: the Reserve meanwhile is
    # answered at once, and applies once the release is done.
    printf '[Service]\nEnvironment=VFIOD_FAULT=stall,release,probe,%s\n' "$edu2" > "$dropin/stall.conf"
    systemctl daemon-reload
    systemctl restart vfiod.service
    vfioctl-client unreserve "$edu2" > /tmp/unreserve-edu2 2>&1 &
    unreserver=$!
    check "unreserving edu2 starts its release" wait_for 20 group_is "$g2" releasing ||
        diag "$(cat /tmp/unreserve-edu2)" "$(group_state "$g2")" "$(journalctl -u vfiod --no-pager | tail -25)"
    out=$(vfioctl-client reserve "$edu2" 2>&1)
    is "$?" 0 "  reserved again meanwhile" || diag "$out"
    wait "$unreserver"
    is "$?" 0 "  the Unreserve succeeds once its release is done" || diag "$(cat /tmp/unreserve-edu2)"
    rm "$dropin/stall.conf"
    systemctl daemon-reload
    check "once the release is done, edu2 is taken again, reserved" wait_for 30 group_reserved "$edu2"
    is "$(pci_driver "$edu2")" vfio-pci "  on vfio-pci"
    out=$(vfioctl-client unreserve "$edu2" 2>&1)
    is "$?" 0 "  and unreserving it succeeds" || diag "$out"
    is "$(pci_driver "$edu2")" none "  edu2 is back without a driver"

    # ---- a reservation's claim refused: what vfiod-early holds goes back with it ----
    # The edu at 05.1 shares its group with an e1000 that the host uses (up,
    # with an address). Reserved while vfiod is stopped, and announced again
    # (an add uevent: a function removed and added would get a group of its
    # own) so that vfiod-early holds it; vfiod refuses the claim, and the
    # edu sits on vfio-pci by vfiod-early's override, with no claim.
    # Unreserving it hands it back, as the end of a reservation does.
    iface=$(ls "/sys/bus/pci/devices/$mf_nic/net")
    is "$(pci_group "$mf_edu")" "$(pci_group "$mf_nic")" "an edu and an e1000 share a group"
    ip link set "$iface" up
    ip addr add 192.0.2.5/24 dev "$iface"
    systemctl stop vfiod.service
    echo "$mf_edu" > "$conf/50-refused.conf"
    udevadm trigger --action=add --settle "/sys/bus/pci/devices/$mf_edu"
    check "the edu beside a busy e1000, announced while reserved, lands on vfio-pci" \
        wait_for 20 on_driver "$mf_edu" vfio-pci
    check "  held there by vfiod-early" test -e "/run/vfiod-early/$mf_edu"
    since=$(date '+%Y-%m-%d %H:%M:%S')
    systemctl start vfiod.service
    check "vfiod refuses the reservation's claim: the e1000 in its group is in use" wait_for 30 \
        sh -c "journalctl -u vfiod --no-pager --since '$since' | grep -q 'Cannot claim IOMMU group $(pci_group "$mf_edu"): .*$iface'"
    check "  the refused claim ends" wait_for 10 device_is "$mf_edu" vfio
    is "$(journalctl -u vfiod --no-pager --since "$since" | grep -c 'Cannot claim IOMMU group')" 1 \
        "  and the refusal is logged once"
    is "$(pci_driver "$mf_edu")" vfio-pci "  the edu stays held, with no claim"
    # Each change of reservations applies the files whole, and so tries
    # that claim again; a call is answered by the moves of its own groups.
    out=$(vfioctl-client reserve "$edu2" 2>&1)
    is "$?" 0 "meanwhile, reserving edu2 succeeds: the refused claim is not its own" || diag "$out"
    is "$(pci_driver "$edu2")" vfio-pci "  edu2 is on vfio-pci"
    check "  its drop-in stays" test -s "$conf/vfioctl-$edu2.conf"
    out=$(vfioctl-client unreserve "$edu2" 2>&1)
    is "$?" 0 "  and unreserving it succeeds" || diag "$out"
    is "$(pci_driver "$edu2")" none "  edu2 is back without a driver"
    check "  the refused claim, tried again meanwhile, ends" wait_for 10 device_is "$mf_edu" vfio
    out=$(vfioctl-client unreserve "$mf_edu" 2>&1)
    like "$out" "$mf_edu back without a driver" "unreserving it hands it back, to no driver as before" || diag "$out"
    check "  vfiod-early's mark of it gone" test ! -e "/run/vfiod-early/$mf_edu"
    is "$(cat "/sys/bus/pci/devices/$mf_edu/driver_override")" "(null)" "  its override cleared"
    is "$(pci_driver "$mf_nic")" e1000 "  the e1000 beside it untouched"
    check "  with its address" sh -c "ip -4 addr show dev $iface | grep -q 192.0.2.5"
    check "  the drop-in is gone" test ! -e "$conf/50-refused.conf"
    check "  and no claim record is left" test ! -e "/run/vfiod/claims/group-$(pci_group "$mf_edu")"
    # The same, with the reservation taken out of the files by hand: the
    # reload that reads them gives the hold back. Each time, it is first
    # written by hand and announced: vfiod-early holds the edu, and the
    # claim that vfiod makes once it reads the files is refused (the
    # e1000 beside it is in use) and ends.
    reserve_refused_by_hand() {
        local since
        echo "$mf_edu" > "$conf/50-refused.conf"
        udevadm trigger --action=add --settle "/sys/bus/pci/devices/$mf_edu"
        check "reserved again by hand and announced, the edu is held again" wait_for 20 on_driver "$mf_edu" vfio-pci
        since=$(date '+%Y-%m-%d %H:%M:%S')
        systemctl reload vfiod.service
        check "  and once vfiod reads the files, its claim is refused again" wait_for 30 \
            sh -c "journalctl -u vfiod --no-pager --since '$since' | grep -q 'Cannot claim IOMMU group $(pci_group "$mf_edu"):'"
        check "  the refused claim ends" wait_for 10 device_is "$mf_edu" vfio
    }
    reserve_refused_by_hand
    # A process (a VM started by hand, as root) has the group open: the
    # hold goes back once that process has closed it.
    g=$(pci_group "$mf_edu")
    sleep 600 9<>"/dev/vfio/$g" &
    keeper=$!
    # unreserve_by_hand_leaves_held WHILE WHY: the reservation taken out of
    # the file by hand, the reload leaves the group held, and the journal
    # says WHY; since is when the reload began.
    unreserve_by_hand_leaves_held() {
        since=$(date '+%Y-%m-%d %H:%M:%S')
        rm "$conf/50-refused.conf"
        systemctl reload vfiod.service
        check "taken out of the file by hand while $1, the reload leaves it held" \
            wait_for 20 sh -c "journalctl -u vfiod --no-pager --since '$since' | grep -q '$2'"
        check "  the group shows as held" wait_for 10 group_is "$g" held
    }
    unreserve_by_hand_leaves_held "a process has the group open" \
        "a process has IOMMU group $g open (EBUSY). It goes to the host once every process has closed it"
    like "$(vfioctl-client show "$g")" "held open by PID $keeper \\(sleep\\)" "  by that process"
    is "$(pci_driver "$mf_edu")" vfio-pci "  the edu stays on vfio-pci meanwhile"
    kill "$keeper"
    wait "$keeper" 2>/dev/null
    check "once it closes the group, the edu goes back, to no driver" wait_for 20 on_driver "$mf_edu" none
    is "$(cat "/sys/bus/pci/devices/$mf_edu/driver_override")" "(null)" "  its override cleared"
    is "$(pci_driver "$mf_nic")" e1000 "  the e1000 beside it untouched"
    # A group node that vfiod cannot open (here another device's node in
    # its place, which vfiod.service's DevicePolicy denies; an LSM's denial
    # is the same to vfiod): not knowing whether a process has the group
    # open, it keeps the hold until it can tell.
    reserve_refused_by_hand
    mv "/dev/vfio/$g" "/dev/vfio-$g.real"
    mknod "/dev/vfio/$g" c 1 250
    unreserve_by_hand_leaves_held "vfiod cannot tell whether the group is open" \
        "cannot tell whether a process has IOMMU group $g open (E[A-Z]*). vfiod asks again every 2 s, and hands it to the host once it can tell"
    sleep 5
    is "$(journalctl -u vfiod --no-pager --since "$since" | grep -c "Cannot tell whether IOMMU group $g is still held")" 1 \
        "  asked every 2 s meanwhile, the journal says so once"
    is "$(pci_driver "$mf_edu")" vfio-pci "  the edu stays on vfio-pci"
    rm "/dev/vfio/$g"
    mv "/dev/vfio-$g.real" "/dev/vfio/$g"
    check "once vfiod can tell that nobody has it open, the edu goes back, to no driver" \
        wait_for 20 on_driver "$mf_edu" none
    is "$(cat "/sys/bus/pci/devices/$mf_edu/driver_override")" "(null)" "  its override cleared"
    ip addr del 192.0.2.5/24 dev "$iface"
    ip link set "$iface" down
fi

if [ "$VM_BOOT" = 2 ]; then
    # ---- the next boot ----
    is "$(pci_driver "$nic")" e1000 "unreserved, the e1000 boots on e1000"
    check "with its network interface" has_netdev "$nic"
    is "$(pci_driver "$edu")" vfio-pci "edu is still reserved"
    is "$(pci_driver "$edu2")" none "edu2 still is not"

    # ---- a host driver took a reserved device anyway ----
    systemctl stop vfiod.service
    echo "$nic" > "$conf/30-late.conf"
    systemctl start vfiod.service
    check "vfiod takes it from e1000 as it starts" wait_for 20 on_driver "$nic" vfio-pci
    check "its network interface is gone" test ! -e "/sys/bus/pci/devices/$nic/net"
    is "$(group_state "$(pci_group "$nic")")" reserved "its group is reserved"

    # ---- hotplug: the udev rule ----
    echo 1 > "/sys/bus/pci/devices/$edu2/remove"
    echo "$edu2" > "$conf/40-hotplug.conf"
    echo 1 > /sys/bus/pci/rescan
    check "a reserved device added later lands on vfio-pci" wait_for 20 on_driver "$edu2" vfio-pci
    is "$(group_state "$(pci_group "$edu2")")" vfio \
        "through the udev rule: vfiod has not read the new file yet"
    systemctl reload vfiod.service
    check "vfiod reads the files again on reload" wait_for 10 group_reserved "$edu2"

    # ---- the initramfs (initramfs-tools): what it holds, in which order ----
    # Small and fast to build: only the modules asked for, gzip.
    mkdir -p /tmp/initramfs-conf /tmp/initramfs
    cp -a /etc/initramfs-tools/. /tmp/initramfs-conf/
    sed -i 's/^MODULES=.*/MODULES=list/; s/^COMPRESS=.*/COMPRESS=gzip/' /tmp/initramfs-conf/initramfs.conf
    check "mkinitramfs runs with vfiod's hook" mkinitramfs -d /tmp/initramfs-conf -o /tmp/initrd.img
    files=$(lsinitramfs /tmp/initrd.img)
    for f in usr/libexec/vfiod-early usr/lib/udev/rules.d/70-vfiod.rules scripts/init-top/early-vfiod \
             etc/vfiod/reservations.d/20-edu.conf etc/vfiod/reservations.d/40-hotplug.conf; do
        like "$files" "(^|\s)$f(\s|$)" "the initramfs holds $f"
    done
    like "$files" "/vfio-pci\.ko" "and the vfio-pci module"
    unmkinitramfs /tmp/initrd.img /tmp/initramfs
    order=$(grep -o 'init-top/[a-z_-]*' /tmp/initramfs/scripts/init-top/ORDER | xargs)
    like "$order" "early-vfiod .*udev" "vfiod-early runs before udev's coldplug ($order)"
    # Its init-top script, run from the unpacked image against this
    # machine's devices: edu2, reserved in the image, freed first.
    echo > "/sys/bus/pci/devices/$edu2/driver_override"
    echo "$edu2" > "/sys/bus/pci/devices/$edu2/driver/unbind"
    mkdir -p /tmp/initramfs/sys /tmp/initramfs/proc  # the initramfs's init makes them
    mount --bind /sys /tmp/initramfs/sys
    mount --bind /proc /tmp/initramfs/proc
    # The script exits 0 whatever happens (it must never stop a boot): its
    # words and the driver are what tell.
    like "$(chroot /tmp/initramfs /bin/sh /scripts/init-top/early-vfiod 2>&1)" "$edu2 reserved for vfio-pci" \
        "the initramfs's init-top script reserves edu2"
    umount /tmp/initramfs/sys /tmp/initramfs/proc
    is "$(pci_driver "$edu2")" vfio-pci "and puts the reserved edu2 on vfio-pci"

    # ---- the initramfs (dracut): the same, through the 90vfiod module ----
    check "dracut builds an image with the vfiod module" \
        dracut --no-hostonly --no-compress --force -m "base vfiod" --kver "$(uname -r)" /tmp/dracut.img
    files=$(lsinitrd /tmp/dracut.img)
    for f in usr/libexec/vfiod-early usr/lib/udev/rules.d/70-vfiod.rules \
             usr/lib/dracut/hooks/pre-trigger/10-vfiod-early.sh etc/vfiod/reservations.d/40-hotplug.conf; do
        like "$files" "\s$f(\s|$)" "the dracut image holds $f"
    done
    like "$files" "/vfio-pci\.ko" "and the vfio-pci module"
    mkdir /tmp/dracut && (cd /tmp/dracut && lsinitrd --unpack /tmp/dracut.img)
    echo > "/sys/bus/pci/devices/$edu2/driver_override"
    echo "$edu2" > "/sys/bus/pci/devices/$edu2/driver/unbind"
    mkdir -p /tmp/dracut/sys /tmp/dracut/proc
    mount --bind /sys /tmp/dracut/sys
    mount --bind /proc /tmp/dracut/proc
    like "$(chroot /tmp/dracut /bin/sh /usr/lib/dracut/hooks/pre-trigger/10-vfiod-early.sh 2>&1)" \
        "$edu2 reserved for vfio-pci" "its pre-trigger hook reserves edu2"
    umount /tmp/dracut/sys /tmp/dracut/proc
    is "$(pci_driver "$edu2")" vfio-pci "and puts the reserved edu2 on vfio-pci"
fi

done_testing
