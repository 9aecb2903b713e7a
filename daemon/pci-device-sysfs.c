/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs-util.h"
#include "log.h"
#include "macro.h"
#include "number.h"
#include "pci-device-sysfs.h"
#include "sysfs-paths.h"

/* Through sd-device. (The fuzz target of the bus methods replaces this
 * file with its in-process fake.) */

static int read_hex_attr(sd_device *d, const char *attr, uint32_t max, uint32_t *ret)
{
        const char *v;
        char *end;
        unsigned long n;
        int r;

        r = sd_device_get_sysattr_value(d, attr, &v);
        if (r < 0)
                return r;
        errno = 0;
        n = strtoul(v, &end, 16);
        if (errno != 0 || end == v || (*end != '\0' && *end != '\n') || n > max)
                return -EBADMSG;
        *ret = (uint32_t)n;
        return 0;
}

static int read_u16_attr(sd_device *d, const char *attr, uint16_t *ret)
{
        uint32_t v;
        int r = read_hex_attr(d, attr, UINT16_MAX, &v);
        if (r < 0)
                return r;
        *ret = (uint16_t)v;
        return 0;
}

/* The basename of the symlink attr (the driver's or the group's name), or
 * NULL when there is no such link. */
static int read_link_basename(sd_device *d, const char *attr, char **ret)
{
        _cleanup_free_ char *path = NULL;
        const char *syspath;

        if (sd_device_get_syspath(d, &syspath) < 0 || asprintf(&path, "%s/%s", syspath, attr) < 0)
                return -ENOMEM;
        return readlink_basename(path, ret);
}

/* -1 where the kernel says -1 (no NUMA, or the firmware is silent), or
 * nothing. */
static int read_numa_node(sd_device *d)
{
        const char *v;
        uint64_t node;

        if (sd_device_get_sysattr_value(d, "numa_node", &v) < 0 || parse_canonical_u64(v, 4095, &node) < 0)
                return -1;
        return (int)node;
}

static int read_iommu_group(sd_device *d, int *ret)
{
        _cleanup_free_ char *group = NULL;
        int r;

        r = read_link_basename(d, "iommu_group", &group);
        if (r < 0)
                return r;
        if (!group) {
                *ret = PCI_IOMMU_GROUP_NONE;
                return 0;
        }
        return parse_group_id(group, ret) < 0 ? -EBADMSG : 0;
}

int pci_device_new_from_sd_device(sd_device *d, PciDevice **ret)
{
        _cleanup_(pci_device_freep) PciDevice *p = NULL;
        const char *subsystem, *sysname, *syspath, *boot_vga;
        int r;

        if (sd_device_get_subsystem(d, &subsystem) < 0 || !streq(subsystem, "pci"))
                return -ENODEV;
        r = sd_device_get_sysname(d, &sysname);
        if (r < 0)
                return r;
        r = sd_device_get_syspath(d, &syspath);
        if (r < 0)
                return r;

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        if (pci_address_normalize(sysname, p->address) < 0)
                return -ENODEV;
        p->syspath = strdup(syspath);
        if (!p->syspath)
                return -ENOMEM;

        if ((r = read_u16_attr(d, "vendor", &p->vendor_id)) < 0 ||
            (r = read_u16_attr(d, "device", &p->device_id)) < 0 ||
            (r = read_hex_attr(d, "class", 0xffffff, &p->class_code)) < 0)
                return r;
        /* Absent on some devices (SR-IOV VFs of some drivers): not an error. */
        (void)read_u16_attr(d, "subsystem_vendor", &p->subsystem_vendor_id);
        (void)read_u16_attr(d, "subsystem_device", &p->subsystem_device_id);

        r = read_link_basename(d, "driver", &p->driver);
        if (r < 0)
                return r;
        r = read_iommu_group(d, &p->iommu_group);
        if (r < 0)
                return r;
        p->boot_vga = sd_device_get_sysattr_value(d, "boot_vga", &boot_vga) >= 0 && boot_vga[0] == '1';
        p->reset_methods = reset_methods_read(syspath);
        p->numa_node = read_numa_node(d);
        r = read_link_basename(d, "physfn", &p->physfn);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(p);
        return 0;
}

int pci_device_new_from_address(const char *address, PciDevice **ret)
{
        _cleanup_(sd_device_unrefp) sd_device *d = NULL;
        char normalized[PCI_ADDRESS_STRING_MAX];
        int r;

        r = pci_address_normalize(address, normalized);
        if (r < 0)
                return r;
        r = sd_device_new_from_subsystem_sysname(&d, "pci", normalized);
        if (r < 0)
                return r;
        return pci_device_new_from_sd_device(d, ret);
}

/* Reads one device; one that cannot be read is logged and left out. */
static int enumerate_one(const char *sysname, PciDeviceFoundFn fn, void *userdata)
{
        _cleanup_(sd_device_unrefp) sd_device *sd = NULL;
        PciDevice *p;
        int r;

        r = sd_device_new_from_subsystem_sysname(&sd, "pci", sysname);
        if (r >= 0)
                r = pci_device_new_from_sd_device(sd, &p);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                log_warning_errno(r, "Ignoring PCI device %s: cannot read it", sysname);
                return 0;
        }
        return fn(p, userdata);
}

int pci_device_enumerate(PciDeviceFoundFn fn, void *userdata)
{
        struct dirent *de;
        DIR *dir;
        int r = 0;

        /* One sd_device at a time, not sd_device_enumerator: that holds every
         * device with its caches until the end (about 2 KiB each), and the
         * model's own small objects, allocated in between, would pin that
         * memory for good on a host with thousands of functions. */
        dir = opendir(SYSFS_PCI_DEVICES);
        if (!dir)
                return errno == ENOENT ? 0 : -errno; /* no PCI bus at all */
        while (r >= 0 && (de = readdir(dir)))
                if (de->d_name[0] != '.')
                        r = enumerate_one(de->d_name, fn, userdata);
        closedir(dir);
        return r;
}
