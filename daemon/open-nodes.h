/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "pci-address.h"
#include "use-report.h"

/* Which processes hold device nodes open. Where the kernel runs it, its
 * own walk over every process's files finds them (task-files.c): it
 * compares each file's device number, wherever the node lies, and costs no
 * system call per fd. Otherwise, and for a node known only by its fd's link,
 * they are found from /proc/PID/fd and the fd tables of its threads that
 * differ from that one (kcmp()). That look reads each fd's link, which
 * never enters the filesystem the file is on, and looks at the file itself
 * (statx, cached attributes only) only under /dev, where device nodes live
 * in any mount namespace and a look never waits for a server. A node kept
 * elsewhere (only root can make one) is not seen then (docs/safety.md). */

typedef struct WatchedNode {
        dev_t devnum;     /* 0: match by link instead */
        bool block;
        char link[32];    /* an fd whose link reads so: "anon_inode:[vfio-device]" */
        char devname[64]; /* "/dev/dri/card1" */
        char address[PCI_ADDRESS_STRING_MAX]; /* of the PCI function it belongs to */
        DeviceUse use;    /* what an open fd of it means */
} WatchedNode;

typedef struct NodeWatch {
        WatchedNode *nodes;
        size_t n;
} NodeWatch;

int node_watch_add(NodeWatch *w, const WatchedNode *node);
void node_watch_done(NodeWatch *w);

/* Called once for each process that holds a watched node open, with the
 * one of the highest use among those it holds. */
typedef void (*NodeHolderFn)(const WatchedNode *node, pid_t pid, void *userdata);

/* Every process but skip. -errno when /proc, or the fds of a process,
 * cannot be read: then nobody can be proven not to hold a node (the
 * holders found are still named). */
int node_watch_scan(const NodeWatch *w, pid_t skip, NodeHolderFn fn, void *userdata);
