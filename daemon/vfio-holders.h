/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "fs-util.h"

/* Who still has a VFIO group open: its group fd, a device fd got through
 * it (a device fd holds the group open too), or the cdev of one of its
 * devices. The kernel lets one open of a group at a time, and none while
 * a cdev of it is bound, which is its answer to "is it held"; a cdev open
 * but not bound only a look at the processes finds. */

/* The kernel's answer alone: 1 when it will not open the group node (it is
 * open, or a cdev of the group is bound), 0 when it would or there is no
 * node, -errno when it cannot be asked. Cheap. */
int vfio_group_node_busy(int group);
/* 1: held; 0: free as far as can be seen, or no node nor cdev; -errno
 * when the node cannot be opened, or the processes cannot be looked at. */
int vfio_group_held(int group);

typedef struct VfioHolder {
        pid_t pid;
        char comm[PROC_COMM_SIZE];
} VfioHolder;

/* The processes that hold the group node open; when none does, those that
 * hold a cdev of its devices open; when none does, those that hold a VFIO
 * device fd got through a group (which can be of another group: the
 * kernel does not say which). */
int vfio_group_holders(int group, VfioHolder **ret, size_t *n);
