/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <umockdev.h>

/* One PCI function of a fixture. parent is NULL for a device on the root
 * bus, else the sysfs devpath of its bridge; driver and group may be
 * NULL / -1 for "unbound" and "no IOMMU". */
typedef struct PciFixture {
        const char *address;
        const char *parent;
        const char *vendor, *device, *class;
        const char *driver;
        int group;
        const char *boot_vga;
} PciFixture;

/* A testbed for the tests of this tier, which run the daemon as root:
 * only inside umockdev (umockdev-wrapper, as meson test runs them), where
 * /sys and /dev are the testbed's, else the test fails before anything is
 * touched. vfio-pci is registered in it, so that no claim reaches the
 * host's modprobe. */
UMockdevTestbed *pci_testbed_new(void);

/* Adds the function with its sysfs attributes and the driver and
 * iommu_group links the kernel makes; returns its devpath (/sys/devices/...). */
char *pci_testbed_add(UMockdevTestbed *tb, const PciFixture *f);

/* Points the device's driver link at driver (NULL: unbound), as a bind or
 * unbind would; the caller sends the uevent. */
void pci_testbed_set_driver(UMockdevTestbed *tb, const char *devpath, const char *driver);
