/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Where the kernel shows PCI functions, their drivers and the IOMMU groups,
 * and the names of the drivers that hold a device for VFIO: every path of
 * the PCI bus and of the IOMMU groups that vfiod and vfioctl-client use
 * starts with one of these. (What a device is used by, under /sys/class,
 * is read by the file that judges it: storage-view.c, net-use.c...) */

#define SYSFS_PCI_DEVICES "/sys/bus/pci/devices"
#define SYSFS_PCI_DRIVERS "/sys/bus/pci/drivers"
#define SYSFS_PCI_DRIVERS_PROBE "/sys/bus/pci/drivers_probe"
#define SYSFS_IOMMU_GROUPS "/sys/kernel/iommu_groups"

#define VFIO_PCI_DRIVER "vfio-pci"
/* Holds a device so that no other driver takes it; VFIO can use it too. */
#define PCI_STUB_DRIVER "pci-stub"
