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
#include "macro.h"
#include "open-nodes.h"
#include "vfio-holders.h"

#define VFIO_DEVICE_LINK "anon_inode:[vfio-device]"

int vfio_group_held(int group)
{
        char path[VFIO_NODE_PATH_MAX];
        int fd;

        vfio_group_node_path(group, path);
        fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd >= 0) {
                close(fd);
                return 0;
        }
        return errno == EBUSY ? 1 : errno == ENOENT ? 0 : -errno;
}

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
        proc_comm(pid, a[f->n].comm, sizeof(a[f->n].comm));
        f->n++;
}

static int scan(const WatchedNode *node, Found *f)
{
        NodeWatch w = {};
        int r = node_watch_add(&w, node);

        if (r >= 0)
                r = node_watch_scan(&w, getpid(), on_holder, f);
        node_watch_done(&w);
        return r < 0 ? r : f->error;
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
        r = scan(&node, &f);
        if (r >= 0 && f.n == 0) {
                node = (WatchedNode){ .use = DEVICE_USE_BUSY, .link = VFIO_DEVICE_LINK };
                r = scan(&node, &f);
        }
        if (r < 0) {
                free(f.holders);
                return r;
        }
        *ret = f.holders;
        *n = f.n;
        return 0;
}
