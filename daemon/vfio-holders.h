/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Who still has a VFIO group open: its group fd, a device fd got through
 * it (a device fd holds the group open too), or the cdev of one of its
 * devices. The kernel lets one open of a group at a time, and none while
 * a cdev of it is open, which is its answer to "is it held". */

/* 1: held; 0: free, or no node; -errno when the node cannot be opened, or
 * the processes cannot be looked at. */
int vfio_group_held(int group);

typedef struct VfioHolder {
        pid_t pid;
        char comm[16];
} VfioHolder;

/* The processes that hold the group node open; when none does, those that
 * hold a cdev of its devices open; when none does, those that hold a VFIO
 * device fd got through a group (which can be of another group: the
 * kernel does not say which). */
int vfio_group_holders(int group, VfioHolder **ret, size_t *n);
