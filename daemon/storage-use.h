/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "storage-view.h"
#include "use-report.h"

/* Storage below a PCI function that would move. Whether a block device is
 * in use is the kernel's answer to an exclusive open, which sees every
 * mount namespace and every kind of holder; whether the host needs it is
 * the storage view's. Mount tables only name the user (docs/safety.md). */

/* Exclusive opens of the disks found free, kept from the check until the
 * functions have left their drivers: while vfiod has a disk open so,
 * nothing can mount, swap on, assemble or otherwise claim it or any of its
 * partitions, and the check's answer stays true until the unbind takes
 * the disk away (which an open fd does not hold up). A loop device set up
 * over it takes no claim, and is not kept out. */
typedef struct DiskHolds {
        int *fds;
        size_t n;
} DiskHolds;

void disk_holds_release(DiskHolds *h);

/* A disk (with its partitions) below the function at address, and
 * whatever is stacked on it. A disk found free is added to holds, unless
 * holds is NULL. */
void storage_check_block(StorageView *v, UseReport *u, DiskHolds *holds, const char *address, const char *name);
/* A virtio device of a filesystem transport (driver 9pnet_virtio or
 * virtiofs), by its mount tag. */
void storage_check_transport(StorageView *v, UseReport *u, const char *address, const char *driver,
                             const char *tag);
