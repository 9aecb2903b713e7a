/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fs-util.h"
#include "macro.h"
#include "sysfs-paths.h"
#include "vfio-cdev.h"

/* The char device region the cdevs live in: registered only by a kernel
 * built with them. */
#define VFIO_CDEV_REGION "vfio-dev"
/* The vfio module is there: it brings the cdevs when the kernel has them. */
#define VFIO_LOADED "/sys/class/vfio"
#define IOMMUFD_SYSFS "/sys/class/misc/iommu"

static bool char_region_registered(const char *name)
{
        _cleanup_free_ char *text = read_full_file("/proc/devices");
        char *line, *save = NULL;
        size_t len = strlen(name);

        if (!text)
                return false;
        /* "Character devices:" lines "NNN name", then "Block devices:". */
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (strncmp(line, "Block devices:", 14) == 0)
                        break;
                line += strspn(line, " 0123456789");
                if (strncmp(line, name, len) == 0 && line[len] == '\0')
                        return true;
        }
        return false;
}

int vfio_cdev_supported(void)
{
        if (char_region_registered(VFIO_CDEV_REGION))
                return 1;
        return access(VFIO_LOADED, F_OK) == 0 ? 0 : -1;
}

int iommufd_supported(void)
{
        if (access(IOMMUFD_SYSFS, F_OK) == 0)
                return 1;
        return access(VFIO_LOADED, F_OK) == 0 ? 0 : -1;
}

/* The one entry of the device's vfio-dev directory: "vfioN". */
static int cdev_name(const char *address, char *buf, size_t size)
{
        char dir[PATH_MAX];
        struct dirent *de;
        DIR *d;
        int r = -ENOENT;

        snprintf(dir, sizeof(dir), SYSFS_PCI_DEVICES "/%s/vfio-dev", address);
        d = opendir(dir);
        if (!d)
                return -errno;
        while (r < 0 && (de = readdir(d)))
                if (strncmp(de->d_name, "vfio", 4) == 0 && strlen(de->d_name) < size) {
                        snprintf(buf, size, "%s", de->d_name);
                        r = 0;
                }
        closedir(d);
        return r;
}

int vfio_cdev_of_device(const char *address, char path[static VFIO_CDEV_PATH_MAX], dev_t *ret_devnum)
{
        char normal[PCI_ADDRESS_STRING_MAX], name[24], attr[PATH_MAX];
        _cleanup_free_ char *text = NULL;
        unsigned major, minor;
        int r;

        /* A path component: only ever an address. */
        r = pci_address_normalize(address, normal);
        if (r < 0 || !streq(normal, address))
                return -EINVAL;
        r = cdev_name(address, name, sizeof(name));
        if (r < 0)
                return r;
        /* A kernel without cdevs has vfio-dev devices too, with no number. */
        snprintf(attr, sizeof(attr), SYSFS_PCI_DEVICES "/%s/vfio-dev/%s/dev", address, name);
        text = read_full_file(attr);
        if (!text)
                return -ENOENT;
        if (sscanf(text, "%u:%u", &major, &minor) != 2)
                return -EBADMSG;
        snprintf(path, VFIO_CDEV_PATH_MAX, VFIO_CDEV_DIR "/%s", name);
        *ret_devnum = makedev(major, minor);
        return 0;
}
