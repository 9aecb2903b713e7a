/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <systemd/sd-bus.h>

/* A VM manager's side of vfiod, for the vm suite, speaking D-Bus itself:
 *
 *   vfio-fd-client device ADDRESS
 *       ClaimDevice in fd mode on a connection lease; with the two fds it
 *       receives: the container, the type1 IOMMU, the device fd, and the
 *       vendor id read from config space through it. Prints "vendor 0xNNNN",
 *       then holds the fds until its stdin ends. The lease ends as the
 *       program exits.
 *   vfio-fd-client memlock BYTES [PID]
 *       RaiseMemlockLimit for itself, or with a pidfd of process PID
 *       instead; prints "memlock SOFT HARD" as the kernel then sees it for
 *       this process, or the error. */

static int fail(const char *what, int r)
{
        fprintf(stderr, "vfio-fd-client: %s: %s\n", what, strerror(r < 0 ? -r : r));
        return EXIT_FAILURE;
}

static int read_vendor(int group_fd, int container_fd, const char *address)
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
        while (getchar() != EOF)
                ;
        return EXIT_SUCCESS;
}

static int claim_device(sd_bus *bus, const char *address)
{
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        const char *lease, *group, *key;
        int fd, group_fd = -1, container_fd = -1, r;

        r = sd_bus_call_method(bus, "io.github.vfiod1", "/io/github/vfiod1", "io.github.vfiod1.Manager",
                               "ClaimDevice", &error, &reply, "sa{sv}", address, 1, "mode", "s", "fd");
        if (r < 0) {
                printf("error %s %s\n", error.name, error.message);
                return EXIT_FAILURE;
        }
        r = sd_bus_message_read(reply, "oo", &lease, &group);
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "{sh}");
        while (r >= 0 && (r = sd_bus_message_read(reply, "{sh}", &key, &fd)) > 0) {
                if (strcmp(key, "group") == 0)
                        group_fd = fd;
                else if (strcmp(key, "container") == 0)
                        container_fd = fd;
        }
        if (r < 0)
                return fail("reading the reply", r);
        if (group_fd < 0 || container_fd < 0)
                return fail("the reply lacks the group or container fd", EBADMSG);
        printf("lease %s\n", lease);
        return read_vendor(group_fd, container_fd, address);
}

static int raise_memlock(sd_bus *bus, const char *bytes, pid_t target)
{
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        struct rlimit rl;
        uint64_t limit;
        int r;

        int pidfd = (int)syscall(SYS_pidfd_open, target, 0);

        if (pidfd < 0)
                return fail("pidfd_open", errno);
        r = sd_bus_call_method(bus, "io.github.vfiod1", "/io/github/vfiod1", "io.github.vfiod1.Manager",
                               "RaiseMemlockLimit", &error, &reply, "ht", pidfd, strtoull(bytes, NULL, 10));
        close(pidfd);
        if (r < 0)
                printf("error %s %s\n", error.name, error.message);
        else if (sd_bus_message_read(reply, "t", &limit) < 0)
                return fail("reading the reply", EBADMSG);
        if (getrlimit(RLIMIT_MEMLOCK, &rl) < 0)
                return fail("getrlimit", errno);
        printf("memlock %llu %llu\n", (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

int main(int argc, char *argv[])
{
        sd_bus *bus = NULL;
        int r;

        if (argc != 3 && !(argc == 4 && strcmp(argv[1], "memlock") == 0)) {
                fprintf(stderr, "usage: vfio-fd-client device ADDRESS | memlock BYTES [PID]\n");
                return EXIT_FAILURE;
        }
        r = sd_bus_open_system(&bus);
        if (r < 0)
                return fail("connecting to the system bus", r);
        if (strcmp(argv[1], "device") == 0)
                return claim_device(bus, argv[2]);
        if (strcmp(argv[1], "memlock") == 0)
                return raise_memlock(bus, argv[2], argc == 4 ? (pid_t)atoi(argv[3]) : getpid());
        fprintf(stderr, "vfio-fd-client: unknown command '%s'\n", argv[1]);
        return EXIT_FAILURE;
}
