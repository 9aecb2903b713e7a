/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Driver binding on the platform bus, for the one kind of platform device
 * vfiod touches: a firmware framebuffer (firmware-fb.h), which must let go
 * of a GPU's BAR before vfio-pci takes the GPU. Both calls refuse any
 * other device (-EPERM), block while the driver's remove() or probe()
 * runs, and are called from a worker. */

/* 0 when the device is not on driver (any more). */
int sysfs_platform_unbind(const char *device, const char *driver);
/* 0 when it is on driver already; -ENODEV when the device is gone. */
int sysfs_platform_bind(const char *device, const char *driver);
