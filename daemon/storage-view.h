/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "first-reason.h"
#include "mount-table.h"

/* What the host's own storage rests on: the filesystems at the critical
 * mount points of PID 1's mount table, and the active swaps, traced down
 * through every layer (overlay, btrfs, dm, md, bcache, loop) to block
 * devices and virtio filesystem transports. Where a layer cannot be traced
 * (ZFS, an overlay layer no mount table shows), the view says why, and the
 * checks then take whatever they cannot name for the host's own. */

/* Deeper stacks than this are taken for loops. */
#define STACK_DEPTH_MAX 16

/* The mount points whose filesystems the host cannot do without. */
bool storage_is_critical_mountpoint(const char *mountpoint);

/* How a filesystem type reaches its storage. */
typedef enum FsBacking {
        FS_BACKING_NONE,      /* no local storage: tmpfs, proc, NFS, FUSE ... */
        FS_BACKING_BLOCK,     /* the block device of its st_dev */
        FS_BACKING_BTRFS,     /* every device of the btrfs filesystem */
        FS_BACKING_LAYERS,    /* overlay: the filesystems of its layers */
        FS_BACKING_TRANSPORT, /* 9p, virtiofs: a virtio device, by its tag */
        FS_BACKING_UNKNOWN,   /* zfs and the like: vfiod cannot trace it */
} FsBacking;

FsBacking storage_fs_backing(const char *fstype, dev_t devnum);

/* The layer directories of an overlay mount, from its superblock options:
 * lowerdir (colon-separated, "\:" escaping a colon), lowerdir+, datadir+,
 * upperdir. A NULL-terminated array (strv_free), NULL without memory. */
char **storage_overlay_layers(const char *options);

typedef struct CriticalItem {
        dev_t devnum; /* a block device, or 0 */
        char *tag;    /* a filesystem transport's tag, or NULL */
        char *what;   /* what rests on it: "/ (ext4)", "an active swap (/dev/dm-1)" */
} CriticalItem;

/* A loop device bound to a file: what it rests on. */
typedef struct LoopDevice {
        char name[NAME_MAX + 1]; /* "loop0" */
        char *file;              /* its backing_file */
        int backing;             /* loop_backing_block() of file: 1 a block device, 0 a file, -errno */
        dev_t devnum;            /* backing 1: that block device */
} LoopDevice;

typedef struct StorageView {
        MountTable host; /* PID 1's: the host's own mounts */
        CriticalItem *items;
        size_t n_items;
        FirstReason untraced; /* why some critical storage could not be traced */
        LoopDevice *loops;
        size_t n_loops;
        int loops_error; /* -errno when the loop devices could not all be read */
} StorageView;

/* Reads PID 1's mount table, /proc/swaps and the loop devices, and traces
 * them. */
int storage_view_new(StorageView **ret);
StorageView *storage_view_free(StorageView *v);

/* What rests on the block device devnum (tag NULL) or on the transport
 * with that tag, or NULL when the host's critical storage does not. */
const char *storage_view_critical(const StorageView *v, dev_t devnum, const char *tag);

/* The block device that a loop device's backing file names (its sysfs
 * backing_file), when that is a node under /dev: the loop holds no
 * exclusive claim on it. Looked up beneath vfiod's /dev, following no
 * link, and never in /dev/shm or /dev/mqueue (nodev, and users write and
 * may mount FUSE there), so that no name leads vfiod into a filesystem
 * that can hang. 1 with *ret; 0: a file (not under /dev, in /dev/shm, a
 * regular file) or a removed node; -errno: under /dev, but vfiod cannot
 * tell which block device. */
int loop_backing_block(const char *backing, dev_t *ret);

/* An NVMe namespace that the kernel multipaths (its controller says it may
 * share the subsystem with others) shows below each controller as a
 * hidden path, nvme0c1n1, with no device node; the disk that is mounted
 * and held is its head, nvme0n1, below the subsystem. Whether name is such
 * a path, and its head's name in head. */
bool nvme_path_head(const char *name, char head[static NAME_MAX + 1]);

/* The loop device that block device devnum backs ("loop0"), or NULL; then
 * *ret_error is -errno when what some loop device rests on cannot be
 * told (it may be this device), else 0. */
const char *storage_view_loop_on(const StorageView *v, dev_t devnum, int *ret_error);

/* The device number of block device name, from sysfs. */
int block_devnum(const char *name, dev_t *ret);
