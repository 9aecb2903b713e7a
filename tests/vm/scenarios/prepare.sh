# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Prepared claims, as a Kubernetes node agent makes them: a group prepared
# under a claim id, with a CDI spec that podman gives a container (an image
# made here from local files, no registry), where a program reaches the
# device through VFIO: Debian 13's podman 5 with the default spec, CDI
# 0.6.0; Debian 12's podman 4.3, which reads no later than 0.5.0, once
# cdi.conf asks for it. Idempotent both ways, and asked again while it
# moves, the same answer; the same after SIGKILL and a restart of vfiod, a
# stale spec removed; all or nothing; bad input refused with nothing
# changed.
. "$VM_SRCDIR/tests/vm/guest/tap.sh"

edu=$VM_EDU_ADDR nic=$VM_E1000_ADDR
g=$(pci_group "$edu")
spec=/run/cdi/vfiod-pod-1.json
net_ifaces() { ls "/sys/bus/pci/devices/$1/net" 2>/dev/null | xargs; }
edu_back() { [ "$(group_state "$g")" = unbound ] && [ "$(pci_driver "$edu")" = none ]; }
claim_leases() { vfioctl-client --json leases | grep -o '"lifetime":"claim-id"' | wc -l; }
vfiod_running() { systemctl -q is-active vfiod.service; }

# ---- prepare, and again ----
out=$(vfioctl-client --json prepare pod-1 "$edu")
diag "$out"
json_shape prepare "$out" "prepare answers with the claim's object"
like "$out" '"cdi_device":"vfiod.github.io/vfio=pod-1","iommu_groups":\['"$g"'\],"nodes":\["/dev/vfio/vfio","/dev/vfio/'"$g"'"\]' \
    "  its CDI device, group and nodes"
is "$(pci_driver "$edu")" vfio-pci "edu is on vfio-pci"
check "the CDI spec is in /run/cdi" test -s "$spec"
diag "$(cat "$spec")"
check "  and is JSON of CDI 0.6.0 naming the nodes, its annotations the devices" \
    python3 - "$spec" "$g" "$edu" <<'PY'
import json, sys
spec = json.load(open(sys.argv[1]))
assert spec["cdiVersion"] == "0.6.0" and spec["kind"] == "vfiod.github.io/vfio"
dev, = spec["devices"]
assert dev["name"] == "pod-1"
paths = [n["path"] for n in dev["containerEdits"]["deviceNodes"]]
assert paths == ["/dev/vfio/vfio", "/dev/vfio/" + sys.argv[2]], paths
assert dev["annotations"] == {"vfiod.github.io/pci-addresses": sys.argv[3],
                              "vfiod.github.io/iommu-groups": sys.argv[2]}, dev["annotations"]
PY
out2=$(vfioctl-client --json prepare pod-1 "$edu")
is "$out2" "$out" "prepare again with the same id: the same answer"
is "$(claim_leases)" 1 "  and still one lease"
out=$(vfioctl-client --json prepare pod-1 "$nic" 2>/dev/null)
like "$out" '"error":"io.github.vfiod1.Error.AlreadyPrepared"' "the same id with another device: AlreadyPrepared"
is "$(pci_driver "$nic")" e1000 "  and e1000 did not move"
like "$(vfioctl-client prepared)" "pod-1 +vfiod.github.io/vfio=pod-1 +$g" "prepared lists the claim"

# ---- podman gives a container the nodes ----
rootfs=$(mktemp -d)
cp "$VM_GROUP_READ" "$rootfs/vfio-group-read"
# Each podman keeps its images on a tmpfs: the guest's root is an overlay.
# A chrooted podman runs in a mount namespace whose mounts are private: its
# runtime's pivot_root refuses a root whose parent mount is shared.
podman_in() {
    local root=$1; shift
    timeout 300 unshare --mount --propagation private \
        chroot "$root" podman --storage-driver vfs --events-backend none --cgroup-manager cgroupfs "$@"
}
image_into() {
    tar -C "$rootfs" -c . | podman_in "$1" import - vfiod-test
}
run_group_read() {
    local root=$1; shift
    podman_in "$root" run --rm --network none "$@" vfiod-test /vfio-group-read "$g" "$edu" 2>&1
}

# Debian 13's podman, in a root of its own that sees the guest's kernel
# interfaces, devices and CDI specs. The root is a mount point, as a
# container's is: podman remounts it when it unpacks an image.
newer=$VM_NEWER_PODMAN_ROOT
mount --bind "$newer" "$newer"
mount -t proc proc "$newer/proc"
mount --rbind /sys "$newer/sys"
mount --rbind /dev "$newer/dev"
for dir in run tmp var/lib/containers; do
    check "a tmpfs on /$dir of Debian 13's root" mount -t tmpfs tmpfs "$newer/$dir"
done
mkdir -p "$newer/run/cdi"
mount --bind /run/cdi "$newer/run/cdi"
diag "$(podman_in "$newer" --version)"
check "Debian 13's podman: an image made from local files (podman import)" image_into "$newer"
out=$(run_group_read "$newer" --device vfiod.github.io/vfio=pod-1)
diag "$out"
like "$out" "vendor 0x1234" "  podman run --device vfiod.github.io/vfio=pod-1: the container reaches edu through VFIO"
out=$(run_group_read "$newer")
like "$out" "/dev/vfio/$g: No such file or directory" "  (without the device, the container has no such node)"

# ---- vfiod killed and started again, asked for CDI 0.5.0 ----
echo '{}' > /run/cdi/vfiod-stale.json
mkdir -p /etc/vfiod
echo 'SpecVersion=0.5.0' > /etc/vfiod/cdi.conf
# A slow podman run above may outlast vfiod's idle timeout: a call starts it.
vfioctl-client prepared > /dev/null
pid=$(systemctl show -P MainPID vfiod.service)
check "vfiod runs (pid $pid)" test "$pid" -gt 0
[ "$pid" -gt 0 ] && kill -9 "$pid"
restarted() { p=$(systemctl show -P MainPID vfiod.service); [ "$p" -gt 0 ] && [ "$p" != "$pid" ]; }
check "systemd starts vfiod again after SIGKILL (Restart=on-failure)" wait_for 15 restarted
is "$(systemctl show -P NRestarts vfiod.service)" 1 "  and counts one restart"
like "$(vfioctl-client prepared)" "pod-1 +vfiod.github.io/vfio=pod-1 +$g" "after SIGKILL and a restart, the same claim"
check "  its spec is there" test -s "$spec"
like "$(cat "$spec")" '"cdiVersion": "0.5.0"' "  written again as CDI 0.5.0 (cdi.conf)"
check "  without annotations, which 0.5.0 lacks" sh -c "! grep -q annotations $spec"
check "  a spec of no claim is removed" test ! -e /run/cdi/vfiod-stale.json
is "$(pci_driver "$edu")" vfio-pci "  and edu stayed on vfio-pci"

mkdir -p /var/lib/containers
mount -t tmpfs tmpfs /var/lib/containers
check "Debian 12's podman: an image made from local files" image_into /
out=$(run_group_read / --device vfiod.github.io/vfio=pod-1)
diag "$out"
like "$out" "vendor 0x1234" "  podman run --device vfiod.github.io/vfio=pod-1: the container reaches edu through VFIO"

# ---- unprepare, and again ----
out=$(vfioctl-client unprepare pod-1)
check "unprepare" test $? = 0
check "  edu is back with no driver" edu_back
check "  the spec is gone" test ! -e "$spec"
is "$(claim_leases)" 0 "  no lease is left"
out=$(vfioctl-client unprepare pod-1)
check "unprepare again: nothing to do, no error" test $? = 0

# ---- a claim that a stop cut short goes back whole ----
# A Prepare moves each group in a transaction of its own; a SIGKILL between
# two groups' commits leaves one group leased to the claim, and neither the
# mark that the claim stands whole (written before the spec) nor the spec.
vfioctl-client prepare pod-1 "$edu" > /dev/null
mark=/run/vfiod/prepared/pod-1
check "prepared again, the claim is marked whole" test -e "$mark"
systemctl stop vfiod.service
rm "$mark" "$spec"
out=$(vfioctl-client --json prepared)
diag "$out"
is "$(printf '%s\n' "$out" | grep -c pod-1)" 0 \
    "  restarted without the mark or the spec, the claim was cut short: it is prepared no more"
check "  edu goes back with no driver" wait_for 30 edu_back
is "$(claim_leases)" 0 "  no lease is left"
like "$(journalctl -u vfiod --no-pager | grep 'pod-1')" "Claim pod-1 was cut short" "  the journal says why"
# An Unprepare that a stop cut short between taking the mark and removing
# the spec leaves the spec without the mark: the claim goes back whole.
vfioctl-client prepare pod-1 "$edu" > /dev/null
check "every claim is marked (an earlier start said so)" test -e /run/vfiod/prepared/.complete
systemctl stop vfiod.service
rm "$mark"
out=$(vfioctl-client --json prepared)
check "  vfioctl-client prepared" test $? = 0
diag "$out"
is "$(printf '%s\n' "$out" | grep -c pod-1)" 0 \
    "a claim with its spec but no mark, its Unprepare cut short: it is prepared no more"
check "  edu goes back with no driver" wait_for 30 edu_back
check "  the spec is gone" test ! -e "$spec"
# An older vfiod made no marks at all: a claim of its with a spec stands.
vfioctl-client prepare pod-1 "$edu" > /dev/null
systemctl stop vfiod.service
rm -r /run/vfiod/prepared
like "$(vfioctl-client prepared)" "pod-1 +vfiod.github.io/vfio=pod-1 +$g" \
    "a claim with its spec and no marks at all (an older vfiod's) is kept"
check "  and marked whole now" test -e "$mark"
check "  every claim is marked now" test -e /run/vfiod/prepared/.complete
vfioctl-client unprepare pod-1 > /dev/null
check "  unprepared, the mark is gone" test ! -e "$mark"
check "  and edu is back" edu_back

# ---- the same claim asked for four times while it moves, and unprepared ----
# The test build's VFIOD_FAULT holds the first Prepare's bind 10 s
# (stall): the others come while it moves, for certain.
like "$(/usr/libexec/vfiod --version)" "fault injection" "vfiod is built with -Dfault_injection=true"
dropin=/run/systemd/system/vfiod.service.d/stall.conf
mkdir -p "${dropin%/*}"
printf '[Service]\nEnvironment=VFIOD_FAULT=stall,claim,probe,%s\n' "$edu" > "$dropin"
systemctl daemon-reload
systemctl restart vfiod.service
vfioctl-client --json prepare pod-c "$edu" > /tmp/pod-c.1 2>&1 &
claiming() { [ "$(group_state "$g")" = claiming ]; }
check "a Prepare of pod-c moves its group" wait_for 20 claiming
out=$(vfioctl-client --json unprepare pod-c 2>&1)
like "$out" '"error":"io.github.vfiod1.Error.GroupBusy".*being prepared right now' \
    "  Unprepare meanwhile: GroupBusy, ask again"
for i in 2 3 4; do
    vfioctl-client --json prepare pod-c "$edu" > "/tmp/pod-c.$i" 2>&1 &
done
wait
# Only now: a daemon-reload can take seconds of the stall on a slow machine.
rm "$dropin"
systemctl daemon-reload
like "$(journalctl -u vfiod --no-pager)" "Fault injection: stalling at step 'probe $edu'" "  (its bind was held)"
like "$(cat /tmp/pod-c.1)" '"cdi_device":"vfiod.github.io/vfio=pod-c"' "  prepared"
is "$(cat /tmp/pod-c.[1-4] | sort -u | wc -l)" 1 "  the three asked meanwhile have the same answer"
is "$(journalctl -u vfiod --no-pager | grep -c 'Claim pod-c asked for again while being prepared')" 3 \
    "  having waited for it"
is "$(claim_leases)" 1 "  one lease"
vfioctl-client unprepare pod-c > /dev/null
check "  unprepared, edu is back" edu_back

# ---- all or nothing ----
# In use, not host-critical: no router advertisement of QEMU's network
# may give the interface an IPv6 default route once it is up.
sysctl -qw "net.ipv6.conf.$(net_ifaces "$nic").accept_ra=0"
ip link set "$(net_ifaces "$nic")" up
ip addr add 192.0.2.1/24 dev "$(net_ifaces "$nic")"
out=$(vfioctl-client --json prepare pod-2 "$edu" "$nic" 2>/dev/null)
like "$out" '"error":"io.github.vfiod1.Error.DeviceBusy"' "a claim with a device in use (e1000, up with an address): DeviceBusy"
check "  edu, which could move, is back" wait_for 30 edu_back
is "$(pci_driver "$nic")" e1000 "  e1000 stayed on its driver"
check "  no spec was written" test ! -e /run/cdi/vfiod-pod-2.json
is "$(claim_leases)" 0 "  no lease is left"

# ---- bad input ----
for id in '../etc' '.hidden' 'a b' ''; do
    out=$(busctl --system call io.github.vfiod1 /io/github/vfiod1 io.github.vfiod1.Manager Prepare 'sasa{sv}' \
          "$id" 1 "$edu" 0 2>&1)
    like "$out" "is not a claim id" "claim id '$id': refused"
done
out=$(vfioctl-client --json prepare pod-3 0000:00:1f.7 2>/dev/null)
like "$out" '"error":"io.github.vfiod1.Error.NoSuchDevice"' "an unknown address: NoSuchDevice"
out=$(as_mallory vfioctl-client --json prepare pod-4 "$edu" 2>/dev/null)
like "$out" '"error":"io.github.vfiod1.Error.NotAuthorized"' "mallory may not prepare"
check "polkit knows the action of Unprepare" pkaction --action-id io.github.vfiod1.unprepare
out=$(as_mallory vfioctl-client --json unprepare pod-4 2>/dev/null)
like "$out" '"error":"io.github.vfiod1.Error.NotAuthorized"' "  and mallory may not unprepare"
is "$(ls /run/cdi)" "" "nothing of it left a spec"
is "$(pci_driver "$edu")" none "and edu did not move"

done_testing
