/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-device.h>

#include "pci-device.h"

/* What sysfs says of a PCI function: every read of the kernel's device
 * tree that builds a PciDevice. */

/* Reads the device at d, which must be on the pci subsystem. */
int pci_device_new_from_sd_device(sd_device *d, PciDevice **ret);
int pci_device_new_from_address(const char *address, PciDevice **ret);
/* Called with each device read, which it takes; a negative return stops. */
typedef int (*PciDeviceFoundFn)(PciDevice *p, void *userdata);
/* Reads every PCI function of the system, in no order; one that cannot be
 * read is logged and left out. */
int pci_device_enumerate(PciDeviceFoundFn fn, void *userdata);
