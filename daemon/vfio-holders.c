/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "handover.h"
#include "iommu-group.h"
#include "macro.h"
#include "open-nodes.h"
#include "vfio-cdev.h"
#include "vfio-holders.h"

#define VFIO_DEVICE_LINK "anon_inode:[vfio-device]"

typedef struct Found {
        VfioHolder *holders;
        size_t n;
        int error;
} Found;

static void on_holder(const WatchedNode *node, pid_t pid, void *userdata)
{
        Found *f = userdata;
        VfioHolder *a = reallocarray(f->holders, f->n + 1, sizeof(*a));

        if (!a) {
                f->error = -ENOMEM;
                return;
        }
        f->holders = a;
        a[f->n] = (VfioHolder){ .pid = pid };
        proc_comm(pid, a[f->n].comm);
        f->n++;
}

static int scan(const NodeWatch *w, Found *f)
{
        int r = node_watch_scan(w, getpid(), on_holder, f);

        return r < 0 ? r : f->error;
}

static int scan_node(const WatchedNode *node, Found *f)
{
        NodeWatch w = {};
        int r = node_watch_add(&w, node);

        if (r >= 0)
                r = scan(&w, f);
        node_watch_done(&w);
        return r;
}

/* A member's cdev, when it has one, to the watch. */
static int add_cdev(const char *address, void *userdata)
{
        WatchedNode node = { .use = DEVICE_USE_BUSY };

        if (vfio_cdev_of_device(address, node.devname, &node.devnum) < 0)
                return 0;
        snprintf(node.address, sizeof(node.address), "%s", address);
        return node_watch_add(userdata, &node);
}

/* Who holds the cdev of a member of the group open. */
static int scan_cdevs(int group, Found *f)
{
        NodeWatch w = {};
        int r = iommu_group_foreach_member(group, add_cdev, &w);

        if (r >= 0 && w.n > 0)
                r = scan(&w, f);
        node_watch_done(&w);
        return r;
}

int vfio_group_node_busy(int group)
{
        char path[VFIO_NODE_PATH_MAX];
        int fd;

        vfio_group_node_path(group, path);
        fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) /* no node: a kernel without group nodes may have cdevs */
                return errno == EBUSY ? 1 : errno == ENOENT ? 0 : -errno;
        close(fd);
        return 0;
}

int vfio_group_held(int group)
{
        Found f = {};
        int r = vfio_group_node_busy(group);

        if (r != 0)
                return r;
        /* A cdev closes the group node only once bound to an iommufd; one
         * that is merely open keeps the device from leaving vfio-pci all
         * the same. Only a look at the processes finds it, and not one
         * hidden where no look reaches (in flight in a socket): a reserved
         * group goes through vfio-pci again for that (transaction.c). */
        r = scan_cdevs(group, &f);
        free(f.holders);
        return r < 0 ? r : f.n > 0;
}

int vfio_group_holders(int group, VfioHolder **ret, size_t *n)
{
        WatchedNode node = { .use = DEVICE_USE_BUSY };
        Found f = {};
        struct stat st;
        int r;

        vfio_group_node_path(group, node.devname);
        if (stat(node.devname, &st) < 0)
                return -errno;
        node.devnum = st.st_rdev;
        r = scan_node(&node, &f);
        if (r >= 0 && f.n == 0)
                r = scan_cdevs(group, &f);
        if (r >= 0 && f.n == 0) {
                node = (WatchedNode){ .use = DEVICE_USE_BUSY, .link = VFIO_DEVICE_LINK };
                r = scan_node(&node, &f);
        }
        if (r < 0 && f.n == 0) { /* those found are named, whatever else could not be seen */
                free(f.holders);
                return r;
        }
        *ret = f.holders;
        *n = f.n;
        return 0;
}
