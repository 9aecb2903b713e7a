# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The demonstration: a PCI device found, claimed, handed to an unprivileged
# user, used by her nested QEMU, and released. Each step is checked.
#
# vfiod finds the device, checks the host, claims the whole group and
# releases it; handing it to alice (the node's owner, her memlock limit) is
# still the manual procedure of vfio-notes.md until vfiod can do it.
. "$VM_SRCDIR/tests/vm/guest/tap.sh"

say() { printf '\n# ==> %s\n' "$*"; }
run() { printf '# $ %s\n' "$*"; "$@" 2>&1 | sed 's/^/#   /'; return "${PIPESTATUS[0]}"; }

addr=$VM_EDU_ADDR
dev=/sys/bus/pci/devices/$addr

say "1. Find the device with vfiod: QEMU's edu test device (1234:11e8)"
run vfioctl-client list
like "$(vfioctl-client --json show "$addr")" '"vendor_id":"1234","device_id":"11e8"' "vfiod finds edu at $addr"

say "2. Is the host ready? Which IOMMU group is edu in?"
run vfioctl-client doctor
run vfioctl-client show "$addr"
group=$(pci_group "$addr")
like "$(vfioctl-client --json show "$addr")" "\"iommu_group\":$group," "vfiod puts edu in IOMMU group $group"

say "3. Claim the group with vfiod: every device of it moves to vfio-pci"
run vfioctl-client claim "$addr"
run readlink "$dev/driver"
is "$(pci_driver "$addr")" vfio-pci "edu is on vfio-pci"
like "$(vfioctl-client --json show "$addr")" '"state":"claimed"' "vfiod holds the claim"

say "4. Hand the group to alice: own /dev/vfio/$group, raise her locked-memory limit"
chown alice "/dev/vfio/$group"
run ls -l "/dev/vfio/$group"
is "$(stat -c %U "/dev/vfio/$group")" alice "alice owns /dev/vfio/$group"

say "5. alice starts QEMU with the device, as herself"
out=$(printf 'info pci\nquit\n' |
    prlimit --memlock=$((256 << 20)) setpriv --reuid=alice --regid=alice --init-groups \
        timeout 120 qemu-system-x86_64 -M q35 -S -m 64 -nodefaults -display none \
        -monitor stdio -device "vfio-pci,host=${addr#0000:}" 2>&1)
printf '%s\n' "$out" | grep -A3 '1234:11e8' | sed 's/^/#   /'
like "$out" "PCI device 1234:11e8" "alice's QEMU sees edu"

say "6. Release: give the node back to root, and vfiod returns the group to its drivers"
chown root "/dev/vfio/$group"
run vfioctl-client release "$addr"
is "$(pci_driver "$addr")" none "edu is back without a driver, as it was"

done_testing
