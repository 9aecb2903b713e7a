# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Booted without intel_iommu=on and without an emulated IOMMU: doctor says
# the IOMMU is disabled, and what to do about it.
. "$VM_SRCDIR/tests/vm/guest/tap.sh"

is "$(ls /sys/kernel/iommu_groups | wc -l)" 0 "the kernel made no IOMMU groups"
doctor=$(vfioctl-client --json doctor)
like "$doctor" '"check":"iommu-enabled","severity":"error","summary":"The IOMMU is disabled' \
    "doctor reports the IOMMU disabled"
# QEMU's TCG CPU says it is AMD's: AMD-Vi needs no kernel option, only the
# firmware's (amd_iommu=on is no valid value); VT-d needs intel_iommu=on.
if grep -q AuthenticAMD /proc/cpuinfo; then
    like "$doctor" '"remedy":"Enable the IOMMU \(AMD-Vi[^"]*in the firmware setup, and reboot' \
        "doctor says to enable AMD-Vi in the firmware setup"
    unlike "$doctor" 'amd_iommu=on' "and does not advise amd_iommu=on"
else
    like "$doctor" '"remedy":"Enable VT-d in the firmware setup; add intel_iommu=on to ' \
        "doctor gives the firmware and kernel command-line fix"
fi
text=$(vfioctl-client doctor 2>&1); status=$?
is "$status" 1 "doctor exits 1 when something must be fixed"
like "$text" "FAIL The IOMMU is disabled" "doctor's text output marks it"
is "$(busctl --system get-property io.github.vfiod1 /io/github/vfiod1 io.github.vfiod1.Manager IommuState)" \
    's "disabled"' "vfiod reports the IOMMU disabled"
like "$(vfioctl-client --json list)" '"iommu_group":null' "devices are listed without a group"

out=$(vfioctl-client claim "$VM_EDU_ADDR" 2>&1); status=$?
is "$status" 1 "claim without an IOMMU fails"
like "$out" "in no IOMMU group: VFIO needs the IOMMU on" "and says why (NoIommu)"
is "$(pci_driver "$VM_EDU_ADDR")" none "edu stays where it was"

# Without vfiod, doctor reads the host itself.
pkill -x vfiod; sleep 0.5
chmod 0 /usr/libexec/vfiod  # no bus activation either
text=$(vfioctl-client doctor 2>&1)
like "$text" "vfiod is not running" "doctor says when vfiod is not running"
like "$text" "FAIL The IOMMU is disabled" "and still finds the IOMMU disabled itself"

done_testing
