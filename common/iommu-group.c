/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "iommu-group.h"
#include "pci-address.h"
#include "sysfs-paths.h"

int iommu_group_foreach_member(int group, int (*fn)(const char *address, void *userdata), void *userdata)
{
        char dir[PATH_MAX];
        struct dirent **names;
        int n, r = 0;

        snprintf(dir, sizeof(dir), SYSFS_IOMMU_GROUPS "/%d/devices", group);
        n = scandir(dir, &names, NULL, alphasort);
        if (n < 0)
                return -errno;
        for (int i = 0; i < n; i++) {
                char address[PCI_ADDRESS_STRING_MAX];
                if (r >= 0 && pci_address_normalize(names[i]->d_name, address) >= 0)
                        r = fn(address, userdata);
                free(names[i]);
        }
        free(names);
        return r;
}
