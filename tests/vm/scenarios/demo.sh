# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The demonstration: a PCI device found, claimed, handed to an unprivileged
# user, used by her nested QEMU, and released. Each step is checked.
#
# vfiod finds the device and checks the host; alice, who is in group vfio,
# claims it without root, for as long as her QEMU runs: vfiod moves the
# group to vfio-pci, gives her /dev/vfio/GROUP, raises her locked-memory
# limit, and takes it all back when QEMU exits.
. "$VM_SRCDIR/tests/vm/guest/tap.sh"

say() { printf '\n# ==> %s\n' "$*"; }
run() { printf '# $ %s\n' "$*"; "$@" 2>&1 | sed 's/^/#   /'; return "${PIPESTATUS[0]}"; }

addr=$VM_EDU_ADDR

say "1. Find the device with vfiod: QEMU's edu test device (1234:11e8)"
run vfioctl-client list
like "$(vfioctl-client --json show "$addr")" '"vendor_id":"1234","device_id":"11e8"' "vfiod finds edu at $addr"

say "2. Is the host ready? Which IOMMU group is edu in?"
run vfioctl-client doctor
run vfioctl-client show "$addr"
group=$(pci_group "$addr")
like "$(vfioctl-client --json show "$addr")" "\"iommu_group\":$group," "vfiod puts edu in IOMMU group $group"

say "3. Once, as root: let the group vfio claim devices (polkit), cap memlock"
run install -m 644 /usr/share/doc/vfiod/examples/49-vfiod-vfio-group.rules /etc/polkit-1/rules.d/
mkdir -p /etc/vfiod && echo "MemlockMax=4G" > /etc/vfiod/limits.conf
run id alice

say "4. alice claims edu for her QEMU, as herself: claimed, handed over, used, released"
cat > /tmp/alice-vm <<'SCRIPT'
#!/bin/sh
echo "--- while alice's lease lasts:"
ls -l "/dev/vfio/$VFIOD_GROUP"
grep 'Max locked memory' /proc/self/limits
vfioctl-client leases
vfioctl-client show "$1"
echo "--- alice's QEMU:"
printf 'info pci\nquit\n' | qemu-system-x86_64 -M q35 -S -m 64 -nodefaults -display none \
    -monitor stdio -device "vfio-pci,host=${1#0000:}"
SCRIPT
chmod 755 /tmp/alice-vm
printf '# $ %s\n' "vfioctl-client claim $addr --memlock 256M -- /tmp/alice-vm $addr   (as alice)"
out=$(setpriv --reuid=alice --regid=alice --init-groups timeout 300 \
    vfioctl-client claim "$addr" --memlock 256M -- /tmp/alice-vm "$addr" 2>&1)
status=$?
printf '%s\n' "$out" | grep -v '^QEMU\|^(qemu)' | sed -e '/\x1b/d' -e 's/^/#   /'
is "$status" 0 "alice's claim and her QEMU succeed"
like "$out" "crw------- 1 alice root .* /dev/vfio/$group" "alice owns /dev/vfio/$group while she holds it"
like "$out" "Max locked memory +268435456 +268435456 +bytes" "her locked-memory limit is 256 MiB"
like "$out" "\"?$addr\"? .*claimed|$addr +vfio-pci +claimed" "vfiod shows edu claimed, on vfio-pci"
like "$out" "PCI device 1234:11e8" "alice's QEMU sees edu"
like "$out" "Returned IOMMU group $group" "when QEMU exits, the group goes back"

say "5. Afterwards: edu is where it was, the node is gone"
run vfioctl-client show "$addr"
is "$(pci_driver "$addr")" none "edu is back without a driver, as it was"
check "/dev/vfio/$group is gone" test ! -e "/dev/vfio/$group"

done_testing
