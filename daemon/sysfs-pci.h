/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "macro.h"
#include "reset-method.h"
#include "sysfs-paths.h"

/* The kernel's driver binding interface for one PCI function. Errors are
 * the kernel's negative errno.
 *
 * Whether a device or a driver is there and which driver a device is on
 * are read from directories and links, which take no device lock: those
 * calls never wait (the device model reads the driver on the event loop).
 * The rest take the device lock (driver_override, unbind, probe, bind),
 * run modprobe, or wait, and block for as long as the kernel takes (a
 * driver's remove() or probe()): the transactions call them from a
 * worker. */

/* Whether the function is there at all (it may have been removed). */
bool sysfs_pci_device_exists(const char *address);
/* The bound driver's name, or NULL when none is bound. */
int sysfs_pci_read_driver(const char *address, char **ret);
/* Whether the device is on driver (NULL: on none) right now; the driver it
 * is on goes to *ret_current when that is not NULL. */
static inline int sysfs_pci_driver_is(const char *address, const char *driver, char **ret_current)
{
        _cleanup_free_ char *current = NULL;
        int r = sysfs_pci_read_driver(address, &current);

        if (r < 0)
                return r;
        r = streq_ptr(current, driver);
        if (ret_current)
                *ret_current = TAKE_PTR(current);
        return r;
}
/* driver_override, or NULL when it is unset. */
int sysfs_pci_read_override(const char *address, char **ret);
/* Sets driver_override, or clears it when driver is NULL. */
int sysfs_pci_write_override(const char *address, const char *driver);
/* Unbinds the device from whatever driver holds it. */
int sysfs_pci_unbind(const char *address);
/* Asks the PCI bus to find a driver for the device (drivers_probe). */
int sysfs_pci_probe(const char *address);
/* Resets the function through its reset attribute: the kernel tries the
 * methods of reset_method in order until one works. -ENOTTY when the
 * function cannot be reset (so). */
int sysfs_pci_reset(const char *address);
/* reset_method: the methods the kernel tries, in order ("flr bus"), without
 * the newline; -ENOTTY when the function has none. */
int sysfs_pci_read_reset_methods(const char *address, char **ret);
/* -EINVAL for a method the function does not support. */
int sysfs_pci_write_reset_methods(const char *address, const char *methods);
/* reset_method as a set: 0 when the function cannot be reset (or it
 * cannot be read). */
ResetMethods sysfs_pci_read_reset_method_set(const char *address);
/* d3cold_allowed: whether the PCI core may put the idle device into
 * D3cold. 1, 0, or -errno. */
int sysfs_pci_read_d3cold_allowed(const char *address);
int sysfs_pci_write_d3cold_allowed(const char *address, bool allowed);
/* Binds the device to this driver explicitly. */
int sysfs_pci_bind(const char *address, const char *driver);
/* Waits until the device's driver is driver (NULL: none), which drivers that
 * probe asynchronously (nvme) need; -ETIMEDOUT after timeout_usec. */
int sysfs_pci_wait_for_driver(const char *address, const char *driver, uint64_t timeout_usec);

/* Whether the PCI driver is registered, and loading its module if not. */
bool sysfs_pci_driver_registered(const char *driver);
int sysfs_pci_load_driver(const char *driver);

/* Sends the device's "add" uevent again and waits until udev has handled
 * it (its rules load the driver's module); 0 at once without udev. */
int sysfs_pci_trigger_add(const char *address, uint64_t timeout_usec);
/* Waits for a path to exist: the group's node that udev or devtmpfs makes. */
int wait_for_path(const char *path, uint64_t timeout_usec);
/* Waits until udev has handled the device's uevent (when udev runs): it
 * sets a new node's owner and mode, which must not undo a hand-over. */
int wait_for_udev(const char *subsystem, const char *sysname, uint64_t timeout_usec);
