# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Smoke test of the bench itself: the emulated IOMMU groups devices the way
# each topology promises, and real VFIO works — edu bound to vfio-pci by
# plain sysfs writes is usable by a nested QEMU.
. "$VM_SRCDIR/tests/vm/guest/tap.sh"

groups=$(ls /sys/kernel/iommu_groups | wc -l)
check "the IOMMU groups are populated ($groups groups)" test "$groups" -gt 0
like "$(dmesg)" "DMAR: IOMMU enabled" "the kernel enabled the Intel IOMMU"

root_group=$(pci_group $VM_ROOT9P_ADDR)
is "$(group_members $root_group)" "$VM_ROOT9P_ADDR" "the 9p root device is alone in its group"
is "$(pci_driver $VM_ROOT9P_ADDR)" virtio-pci "the 9p root device is on virtio-pci"

if topology_enabled edu; then
    is "$(group_members $(pci_group $VM_EDU_ADDR))" "$VM_EDU_ADDR" "edu is alone in its group"
    is "$(pci_driver $VM_EDU_ADDR)" none "edu has no host driver"
fi
if topology_enabled e1000; then
    is "$(group_members $(pci_group $VM_E1000_ADDR))" "$VM_E1000_ADDR" "e1000 is alone in its group"
    is "$(pci_driver $VM_E1000_ADDR)" e1000 "e1000 is bound to its host driver"
    check "e1000 has a network interface" test -d "/sys/bus/pci/devices/$VM_E1000_ADDR/net"
fi
if topology_enabled multifunction; then
    set -- $VM_MF_ADDRS
    is "$(group_members $(pci_group $1))" "$VM_MF_ADDRS" "the two functions of the multifunction slot share one group"
fi
if topology_enabled bridge; then
    is "$(group_members $(pci_group $VM_BRIDGE_ADDR))" "$VM_BRIDGE_ADDR $VM_BRIDGED_ADDRS" \
        "the conventional bridge and both endpoints behind it share one group"
fi
if topology_enabled vga; then
    is "$(cat /sys/bus/pci/devices/$VM_VGA_ADDR/boot_vga)" 1 "the std VGA is the boot VGA"
fi
if topology_enabled nvme; then
    is "$(pci_driver $VM_NVME_ADDR)" nvme "nvme is bound to its host driver"
    check "the nvme namespace is a block device" wait_for 10 test -b /dev/nvme0n1
fi

# (b) edu on vfio-pci by hand, as in the manual procedure, and a nested QEMU.
if topology_enabled edu; then
    dev=/sys/bus/pci/devices/$VM_EDU_ADDR
    group=$(pci_group $VM_EDU_ADDR)
    check "vfio-pci loads" modprobe vfio-pci
    echo vfio-pci > $dev/driver_override
    echo $VM_EDU_ADDR > /sys/bus/pci/drivers_probe
    is "$(pci_driver $VM_EDU_ADDR)" vfio-pci "edu binds to vfio-pci through driver_override"
    check "/dev/vfio/$group appears" wait_for 5 test -c /dev/vfio/$group

    pci=$(printf 'info pci\nquit\n' | timeout 120 qemu-system-x86_64 -M q35 -S -m 64 \
        -nodefaults -display none -monitor stdio \
        -device vfio-pci,host=${VM_EDU_ADDR#0000:} 2>&1)
    like "$pci" "PCI device 1234:11e8" "a nested QEMU sees edu (1234:11e8) through vfio-pci"

    echo > $dev/driver_override
    echo $VM_EDU_ADDR > $dev/driver/unbind
    echo $VM_EDU_ADDR > /sys/bus/pci/drivers_probe
    is "$(pci_driver $VM_EDU_ADDR)" none "edu is driverless again after release"
    check "/dev/vfio/$group is gone" wait_for 5 test ! -e /dev/vfio/$group
fi

done_testing
