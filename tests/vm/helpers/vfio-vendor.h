/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A VMM's first steps with a VFIO group, for the vm suite's helpers: the
 * container, the type1 IOMMU, the device fd, and the vendor id read from
 * config space through it, printed as "vendor 0xNNNN". */

#include <errno.h>
#include <linux/vfio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int fail(const char *what, int r)
{
        fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what, strerror(r < 0 ? -r : r));
        return EXIT_FAILURE;
}

static int print_vendor(int group_fd, int container_fd, const char *address)
{
        struct vfio_group_status status = { .argsz = sizeof(status) };
        struct vfio_region_info region = { .argsz = sizeof(region), .index = VFIO_PCI_CONFIG_REGION_INDEX };
        uint16_t vendor;
        int device_fd;

        if (ioctl(group_fd, VFIO_GROUP_GET_STATUS, &status) < 0)
                return fail("VFIO_GROUP_GET_STATUS", errno);
        if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE))
                return fail("the group is not viable", EINVAL);
        if (ioctl(group_fd, VFIO_GROUP_SET_CONTAINER, &container_fd) < 0)
                return fail("VFIO_GROUP_SET_CONTAINER", errno);
        if (ioctl(container_fd, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU) < 0)
                return fail("VFIO_SET_IOMMU", errno);
        device_fd = ioctl(group_fd, VFIO_GROUP_GET_DEVICE_FD, address);
        if (device_fd < 0)
                return fail("VFIO_GROUP_GET_DEVICE_FD", errno);
        if (ioctl(device_fd, VFIO_DEVICE_GET_REGION_INFO, &region) < 0)
                return fail("VFIO_DEVICE_GET_REGION_INFO", errno);
        if (pread(device_fd, &vendor, sizeof(vendor), (off_t)region.offset) != sizeof(vendor))
                return fail("reading config space", errno);
        printf("vendor 0x%04x\n", vendor);
        fflush(stdout);
        return EXIT_SUCCESS;
}
