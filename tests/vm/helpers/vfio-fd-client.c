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

#include "vfio-vendor.h"

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

/* Then holds the fds until stdin ends. */
static int read_vendor(int group_fd, int container_fd, const char *address)
{
        int r = print_vendor(group_fd, container_fd, address);

        while (r == EXIT_SUCCESS && getchar() != EOF)
                ;
        return r;
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
