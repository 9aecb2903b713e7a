# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Hand-off profiles under systemd: the host's only GPU (the std VGA on
# bochs-drm, with the console and a stand-in display manager on it) goes
# to vfio-pci and back with a profile that stops the display manager and
# unloads bochs; a crash in the middle is undone at restart; a profile's
# extra nodes make a device busy and their holders are asked to close
# them (e1000, with a stand-in node); and one
# keeps nvme out of D3cold and skips its reset.
. "$VM_SRCDIR/tests/vm/guest/tap.sh"

gpu=$VM_VGA_ADDR nic=$VM_E1000_ADDR
dm=$VMTEST_DM
profiles=/etc/vfiod/profiles.d
record() { cat "/run/vfiod/claims/group-$(pci_group "$gpu")" 2>/dev/null; }
unit_state() { systemctl show -P ActiveState "$1"; }
fbcon_bound() { grep -qs 1 $(grep -ls "frame buffer" /sys/class/vtconsole/vtcon*/name | sed 's/name$/bind/') /dev/null; }

# A display manager stand-in holds the GPU's DRM node while it runs.
setup_single_gpu_host "$gpu"
dm_holds_card() { [ "$(readlink /proc/$(systemctl show -P MainPID $dm)/fd/0)" = "/dev/dri/$card" ]; }
check "the stand-in display manager holds /dev/dri/$card" wait_for 5 dm_holds_card
is "$(pci_driver "$gpu")" bochs-drm "the GPU is on bochs-drm"
check "the console is on it" fbcon_bound

# ---- a profile's extra node makes its device busy; its holders are asked to close it ----
# /dev/full's numbers: nodes are matched by device number, and nothing
# here holds /dev/full.
mknod /dev/vmtest-nic-extra c 1 7
nic_user=vmtest-nic-user.service
cat > /run/systemd/system/$nic_user <<'UNIT'
[Service]
ExecStart=/bin/sh -c 'exec sleep infinity < /dev/vmtest-nic-extra'
UNIT
cat > $profiles/e1000.conf <<'PROFILE'
Drivers=e1000
Nodes=/dev/vmtest-nic-extra
StopUnits=vmtest-nic-user.service
AskHolders=yes
PROFILE
cat > $profiles/nvme.conf <<'PROFILE'
Drivers=nvme
IdleD3cold=no
ResetMethod=none
PROFILE
systemctl daemon-reload
systemctl restart vfiod 2>/dev/null || true # profiles are read at start
ip link set "$(ls /sys/bus/pci/devices/$nic/net)" down
systemctl start $nic_user
# Holders outside system.slice, as a user's programs are: vfiod asks
# those, and leaves the system's own processes to StopUnits=.
holder() { # holder NAME COMMAND: a transient unit in user.slice holding the node
    systemd-run --quiet --slice=user.slice --unit="$1" sh -c "$2 < /dev/vmtest-nic-extra"
    wait_for 5 eval '[ "$(systemctl show -P MainPID '"$1"')" != 0 ]'
    systemctl show -P MainPID "$1"
}
# A holder that ignores SIGTERM: asked, it stays, and is named.
stubborn=$(holder vmtest-stubborn "trap '' TERM; exec sleep 300")
out=$(vfioctl-client --json claim "$nic" 2>/dev/null)
like "$out" '"error":"io.github.vfiod1.Error.DeviceBusy"' "a holder of the profile's node makes the NIC busy"
like "$out" "/dev/vmtest-nic-extra of $nic is open in PID $stubborn \\(sleep\\)" \
    "  naming the node and the PID that is not the profile's to stop"
check "  which was asked to close (SIGTERM) and never killed" kill -0 $stubborn
like "$(journalctl -u vfiod --no-pager)" "Asked PID $stubborn \\(sleep\\) to close group" "  as the journal says"
is "$(unit_state $nic_user)" active "  and the unit the claim stopped to check again runs again"
is "$(pci_driver "$nic")" e1000 "  and the NIC stayed"
systemctl kill -s KILL vmtest-stubborn; systemctl stop vmtest-stubborn 2>/dev/null
# A holder that closes when asked.
polite=$(holder vmtest-polite "exec sleep 300")
check "with the unit stopped and the other holder asked to close, the claim succeeds" vfioctl-client claim "$nic"
check "  the holder was asked and left" wait_for 5 eval "! kill -0 $polite 2>/dev/null"
is "$(unit_state $nic_user)" inactive "  and the unit is stopped"
check "the release succeeds" vfioctl-client release "$nic"
is "$(unit_state $nic_user)" active "  and starts the unit again"
# The example rule lets the group vfio claim without a password, but not
# where holders, who may be other users, would be asked to close.
install -m 644 /usr/share/doc/vfiod/examples/49-vfiod-vfio-group.rules /etc/polkit-1/rules.d/
check "polkit has read the example rule: alice raises a memlock limit of hers" \
    wait_for 10 as_alice sh -c 'vfioctl-client memlock $$ --memlock 64M'
polite=$(holder vmtest-polite2 "exec sleep 300")
out=$(as_alice vfioctl-client --json claim "$nic" -- true 2>/dev/null)
like "$out" '"error":"io.github.vfiod1.Error.NotAuthorized".*io.github.vfiod1.claim' \
    "alice (group vfio) may not claim it under the example rule: its profile asks holders to close"
unlike "$out" "lets the members of the group 'vfio' do it" "  and the refusal does not point her to that rule"
check "  and the holder was not asked" kill -0 $polite
is "$(pci_driver "$nic")" e1000 "  and the NIC stayed"
rm /etc/polkit-1/rules.d/49-vfiod-vfio-group.rules
systemctl stop vmtest-polite2 2>/dev/null
# A system service the profile does not name: never asked, only named.
systemd-run --quiet --unit=vmtest-system-holder sh -c 'exec sleep 300 < /dev/vmtest-nic-extra'
wait_for 5 eval '[ "$(systemctl show -P MainPID vmtest-system-holder)" != 0 ]'
service=$(systemctl show -P MainPID vmtest-system-holder)
out=$(vfioctl-client --json claim "$nic" 2>/dev/null)
like "$out" "/dev/vmtest-nic-extra of $nic is open in PID $service \\(sleep\\)" \
    "a system service's holder the profile does not stop makes the NIC busy"
check "  and is left alone: not asked" kill -0 $service
like "$(journalctl -u vfiod --no-pager)" "PID $service \\(sleep\\) of vmtest-system-holder.service holds group [0-9]+'s nodes: not asked" \
    "  as the journal says"
systemctl stop vmtest-system-holder

# ---- D3cold and the reset, as the profile says ----
nvme=$VM_NVME_ADDR
nvme_record() { cat "/run/vfiod/claims/group-$(pci_group "$nvme")" 2>/dev/null; }
is "$(cat /sys/bus/pci/devices/$nvme/d3cold_allowed)" 1 "nvme may enter D3cold"
check "claim nvme succeeds" vfioctl-client claim "$nvme"
is "$(cat /sys/bus/pci/devices/$nvme/d3cold_allowed)" 0 "IdleD3cold=no keeps it out of D3cold while it is claimed"
like "$(nvme_record)" "d3cold-off $nvme" "  which the record notes"
check "tracing the kernel's reset functions" trace_resets_start
check "release nvme succeeds" vfioctl-client release "$nvme"
trace_resets_stop
unlike "$(cat /tmp/resets.trace)" "pcie_flr" "ResetMethod=none: no reset on the way back"
is "$(pci_driver "$nvme") $(cat /sys/bus/pci/devices/$nvme/d3cold_allowed)" "nvme 1" \
    "nvme is back on its driver and may enter D3cold again"

# ---- the only GPU, forced, with the display manager stopped ----
out=$(vfioctl-client claim --force "$gpu" 2>&1)
check "a forced claim of the GPU succeeds" test $? = 0 || diag "$out" "$(journalctl -u vfiod --no-pager | tail -8)"
is "$(pci_driver "$gpu")" vfio-pci "the GPU is on vfio-pci"
is "$(unit_state $dm)" inactive "the profile stopped the display manager"
check "and had systemd unload bochs" wait_for 10 test ! -e /sys/module/bochs
like "$(record)" "stopped-unit $dm" "the claim record names the unit"
like "$(record)" "unloaded-module bochs" "  and the module"
check "the release succeeds" vfioctl-client release "$gpu"
is "$(pci_driver "$gpu")" bochs-drm "the GPU is back on bochs-drm"
is "$(unit_state $dm)" active "the display manager runs again"
check "  and holds the GPU's DRM node again" wait_for 5 dm_holds_card
check "the console is back on the GPU" wait_for 5 fbcon_bound
like "$(journalctl -u vfiod --no-pager)" "Reset $gpu|$gpu has no reset method" "the release tried a reset first"

# ---- the same for alice, her VM run from a unit, as vfiod.conf(5) says ----
# The display manager's stop ends a desktop session, so the claim comes
# from a unit, outside any session: a polkit rule names alice, the GPU and
# what its profile stops and unloads.
cat > /etc/polkit-1/rules.d/40-vmtest-single-gpu.rules <<RULE
polkit.addRule(function(action, subject) {
    if (action.id == "io.github.vfiod1.claim-host-critical" && subject.user == "alice" &&
        action.lookup("device") == "$gpu" && action.lookup("stop_units") == "$dm" &&
        action.lookup("unload_modules") == "bochs") {
        return polkit.Result.YES;
    }
});
RULE
sleep 1 # polkitd reads its rules again when the directory changes
state=/run/vmtest-alice/vm.state
mkdir -p /run/vmtest-alice && chown alice /run/vmtest-alice && rm -f $state
systemd-run --quiet --wait --uid=alice --unit=vmtest-gpu-vm \
    vfioctl-client claim --force --no-ask-password "$gpu" -- \
    sh -c "basename \$(readlink /sys/bus/pci/devices/$gpu/driver) > $state; systemctl is-active $dm >> $state"
is "$(xargs < $state 2>/dev/null)" "vfio-pci inactive" \
    "alice's VM ran with the GPU on vfio-pci and the display manager stopped" ||
    diag "$(journalctl -u vmtest-gpu-vm -u vfiod --no-pager | tail -10)"
check "when it ended, the display manager came back" wait_for 20 eval '[ "$(unit_state $dm)" = active ]'
is "$(pci_driver "$gpu")" bochs-drm "  and the GPU is on bochs-drm"
check "  and the console" wait_for 5 fbcon_bound

# ---- a crash in the middle of the hand-off ----
systemctl stop vfiod
VFIOD=/usr/libexec/vfiod
vfiod_on_bus() {
    busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
        NameHasOwner s io.github.vfiod1 | grep -q true
}
VFIOD_FAULT=crash,claim,node "$VFIOD" --idle-timeout=0 > /tmp/vfiod-crash.log 2>&1 &
crashing=$!
wait_for 20 vfiod_on_bus || diag "vfiod did not come up: $(tail -5 /tmp/vfiod-crash.log)"
vfioctl-client claim --force "$gpu" > /dev/null 2>&1
wait $crashing
is "$?" 137 "vfiod crashed (SIGKILL) when the claim reached the node step"
is "$(unit_state $dm) $(pci_driver "$gpu")" "inactive vfio-pci" "  with the display manager stopped and the GPU moved"
check "  and bochs unloaded" wait_for 10 test ! -e /sys/module/bochs
systemctl start vfiod
no_record() { test -z "$(record)"; }
check "vfiod restarts and recovers" wait_for 30 no_record || diag "$(journalctl -u vfiod --no-pager | tail -20)"
is "$(pci_driver "$gpu")" bochs-drm "after recovery the GPU is on bochs-drm"
is "$(unit_state $dm)" active "  and the display manager runs"
check "  and the console is on the GPU" wait_for 5 fbcon_bound

done_testing
