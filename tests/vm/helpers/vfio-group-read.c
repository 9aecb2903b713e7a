/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfio-group-read GROUP ADDRESS: open /dev/vfio/GROUP and /dev/vfio/vfio as
 * a VMM in a container would, with the nodes a CDI spec put there, and
 * print the device's vendor id read through VFIO. Static: the container's
 * image holds nothing else.
 */
#include <fcntl.h>

#include "vfio-vendor.h"

int main(int argc, char *argv[])
{
        char node[32];
        int group_fd, container_fd;

        if (argc != 3)
                return fprintf(stderr, "usage: %s GROUP ADDRESS\n", argv[0]), 2;
        snprintf(node, sizeof(node), "/dev/vfio/%s", argv[1]);
        group_fd = open(node, O_RDWR | O_CLOEXEC);
        if (group_fd < 0)
                return fail(node, errno);
        container_fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
        if (container_fd < 0)
                return fail("/dev/vfio/vfio", errno);
        return print_vendor(group_fd, container_fd, argv[2]);
}
