#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# vfiod's libvirt hook against a stand-in vfioctl-client that logs its
# calls and answers as told: which groups it claims and releases, once
# each, in order; a refusal fails the hook with vfiod's reason and gives
# back what it claimed. The real thing, with libvirtd, is vm-libvirt.
# libvirt-hook.sh SRCDIR BUILDDIR
set -u
src=$1 build=$2
n=0 failed=0
ok()  { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; printf '# %s\n' "${@:2}"; }
is()  { if [ "$1" = "$2" ]; then ok "$3"; else nok "$3" "got:  $1" "want: $2"; fi; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The stand-in: logs "claim 0000:41:00.0" or "release 7", refuses what
# REFUSE names, and keeps root's leases (one per claimed target) in a file,
# which "leases" lists.
cat > "$work/vfioctl-client" <<'STUB'
#!/bin/sh
[ "$1 $2" = "--json --no-ask-password" ] || { echo "stub: called with $*" >> "$STUB_LOG"; exit 9; }
shift 2
case $1 in
leases)
    echo leases >> "$STUB_LOG"
    printf '{"leases":['
    sed 's|.*|{"lease":"/io/github/vfiod1/lease/&","uid":0}|' "$STUB_LEASES" | paste -sd, -
    printf ']}\n'
    exit 0 ;;
claim)
    [ "$3" = --persistent ] || { echo "stub: claim without --persistent" >> "$STUB_LOG"; exit 9; } ;;
esac
echo "$1 $2" >> "$STUB_LOG"
if [ "$2" = "${REFUSE:-}" ]; then
    echo '{"error":"io.github.vfiod1.Error.HostCritical","message":"The host needs it.","exit_status":4}'
    exit 4
fi
case $1 in
claim) echo "$2" >> "$STUB_LEASES"; echo "{\"lease\":\"/io/github/vfiod1/lease/$2\"}" ;;
release) sed -i "\|^$2\$|d" "$STUB_LEASES"; echo '{}' ;;
esac
STUB
chmod +x "$work/vfioctl-client"
export STUB_LOG=$work/log STUB_LEASES=$work/leases PATH=$work:$PATH VFIOD_HOOK_STATE=$work/state
: > "$STUB_LEASES"

hostdev() { # MANAGED BUS SLOT FUNCTION
    echo "<hostdev mode='subsystem' type='pci' managed='$1'><source><address domain='0x0000' bus='$2' slot='$3' function='$4'/></source></hostdev>"
}
domain() { echo "<domain type='qemu'><name>vm</name><uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid><devices>$*</devices></domain>"; }
# Addresses that are no device here stand for themselves (no IOMMU group
# to read): vfiod then answers for them.
xml=$(domain "$(hostdev no 0x41 0x00 0x0)" "$(hostdev yes 0x42 0x00 0x0)" "$(hostdev no 0x43 0x1f 0x7)" \
    "<interface type='network'/>")
hook() { python3 "$src/libvirt/libvirt-hook.py" "$@"; }

: > "$STUB_LOG"
hook vm prepare begin - <<< "$xml"
is "$?" 0 "prepare succeeds when vfiod claims every group"
is "$(cat "$STUB_LOG" | xargs)" "claim 0000:41:00.0 claim 0000:43:1f.7" \
    "it claims the managed='no' devices only, in order, as persistent leases"

: > "$STUB_LOG"
hook vm release end - <<< "$xml"
is "$?" 0 "release succeeds"
is "$(cat "$STUB_LOG" | xargs)" "leases release 0000:41:00.0 release 0000:43:1f.7" \
    "and releases what prepare claimed, its leases still held"
: > "$STUB_LOG"
hook vm release end - <<< "$xml"
is "$(cat "$STUB_LOG")" "" "a second release touches nothing"

: > "$STUB_LOG"
err=$(REFUSE=0000:43:1f.7 hook vm prepare begin - 2>&1 <<< "$xml")
is "$?" 1 "a refusal fails prepare, so the domain does not start"
case $err in
*"vfiod refuses the device(s) of domain 'vm' (IOMMU group 0000:43:1f.7): The host needs it. [io.github.vfiod1.Error.HostCritical]"*)
    ok "with vfiod's reason and error" ;;
*) nok "with vfiod's reason and error" "got: $err" ;;
esac
is "$(cat "$STUB_LOG" | xargs)" "claim 0000:41:00.0 claim 0000:43:1f.7 leases release 0000:41:00.0" \
    "what it claimed before is given back"
# libvirt then releases the domain that did not start: the refused group
# may be someone else's lease, which must stay.
: > "$STUB_LOG"
hook vm release end - <<< "$xml"
is "$(cat "$STUB_LOG")" "" "the release of a domain that never started releases nothing"

# A lease of the domain's that ended meanwhile (an administrator's
# release): its group may be someone else's now, and stays theirs.
hook vm prepare begin - <<< "$xml"
sed -i '/0000:41:00.0/d' "$STUB_LEASES"
: > "$STUB_LOG"
hook vm release end - <<< "$xml"
is "$(cat "$STUB_LOG" | xargs)" "leases release 0000:43:1f.7" "a group whose lease changed is left alone"

: > "$STUB_LOG"
for op in "start begin" "started begin" "stopped end" "reconnect begin"; do
    hook vm $op - <<< "$xml"
done
is "$(cat "$STUB_LOG")" "" "the other operations touch nothing"

# Two functions of one card, in one IOMMU group: the group is claimed
# once, by its number (read from a fake sysfs).
mkdir -p "$work/sys/kernel/iommu_groups/7" "$work/sys/bus/pci/devices/0000:41:00.0" "$work/sys/bus/pci/devices/0000:41:00.1"
ln -s ../../../../kernel/iommu_groups/7 "$work/sys/bus/pci/devices/0000:41:00.0/iommu_group"
ln -s ../../../../kernel/iommu_groups/7 "$work/sys/bus/pci/devices/0000:41:00.1/iommu_group"
: > "$STUB_LOG"
VFIOD_HOOK_SYSFS=$work/sys hook vm prepare begin - <<< "$(domain "$(hostdev no 0x41 0x00 0x0)" "$(hostdev no 0x41 0x00 0x1)")"
is "$(cat "$STUB_LOG" | xargs)" "claim 7" "two devices of one group: the group is claimed once"

# The shell front, where there is no python3: a domain without unmanaged
# devices passes at once, one with them fails saying what is missing.
mkdir "$work/bin"
ln -s "$(command -v sh)" "$work/bin/sh"
ln -s "$(command -v cat)" "$work/bin/cat"
front() { PATH=$work/bin "$work/bin/sh" "$build/libvirt/libvirt-hook" vm prepare begin - <<< "$1" 2>&1; }
out=$(front "$(domain "$(hostdev yes 0x41 0x00 0x0)")")
is "$?" 0 "the hook passes a domain without managed='no' devices at once"
out=$(front "$xml")
is "$?" 1 "one with them, without python3, does not start"
case $out in *"apt-get install python3"*) ok "saying what to install" ;; *) nok "saying what to install" "$out" ;; esac
check_syntax=$(sh -n "$build/libvirt/libvirt-hook" 2>&1) && ok "the hook is valid sh" || nok "the hook is valid sh" "$check_syntax"

echo "1..$n"
exit $failed
