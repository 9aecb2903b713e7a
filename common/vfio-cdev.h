/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "pci-address.h"

/* The kernel's per-device VFIO interface (CONFIG_VFIO_DEVICE_CDEV, Linux
 * 6.6 and later): each device bound to a VFIO driver has a node
 * /dev/vfio/devices/vfioN of its own, used through an iommufd, /dev/iommu
 * (CONFIG_IOMMUFD), instead of through its group's node and a container.
 * The group stays the kernel's unit of isolation: while any device of a
 * group is bound to an iommufd through its cdev, the group's node cannot
 * be opened, and while the node is open no cdev of the group can be
 * bound. A cdev itself can be opened any number of times, bound once. */

#define IOMMUFD_NODE "/dev/iommu"
#define VFIO_CDEV_DIR "/dev/vfio/devices"
#define VFIO_CDEV_PATH_MAX 48

/* Whether this kernel has device cdevs and iommufd: 1, 0, or -1 when it
 * cannot say yet (vfio is not loaded: both come with it). Read from
 * /proc/devices and /sys/class/misc, cheap, never waiting on a device. */
int vfio_cdev_supported(void);
int iommufd_supported(void);

/* The cdev node of the PCI function at address, bound to a VFIO driver:
 * its path and device number. -ENOENT when it has none (not on VFIO, or a
 * kernel without cdevs). */
int vfio_cdev_of_device(const char *address, char path[static VFIO_CDEV_PATH_MAX], dev_t *ret_devnum);
