/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

/* A mount namespace's mount table, as /proc/PID/mountinfo gives it. vfiod
 * names what uses a device from it; it never decides from it alone that a
 * device is unused (docs/safety.md). */

typedef struct MountEntry {
        dev_t devnum;     /* st_dev of the filesystem; major 0 for device-less ones (btrfs too) */
        char *mountpoint; /* unescaped */
        char *fstype;
        char *source;     /* unescaped: "/dev/nvme0n1p2", a 9p tag, "pool/home" */
        char *options;    /* the superblock's options, still escaped */
} MountEntry;

typedef struct MountTable {
        MountEntry *entries;
        size_t n;
} MountTable;

int mount_table_parse(FILE *f, MountTable *ret);
/* -errno when the file cannot be read. */
int mount_table_read(const char *path, MountTable *ret);
void mount_table_done(MountTable *t);

/* The mount that path lies on in this table: the last of the longest
 * mount points that contain it (a later mount hides an earlier one). */
const MountEntry *mount_table_find_path(const MountTable *t, const char *path);

/* Whether path is top or lies below it: "/boot/efi" is below "/boot",
 * "/bootstrap" is not. */
bool path_is_at_or_below(const char *path, const char *top);

/* The value of option key in a superblock option string such as
 * "rw,lowerdir=/a:/b,upperdir=/u", unescaped, or NULL. Every occurrence
 * when the kernel repeats a key ("lowerdir+=" since Linux 6.8) is returned
 * in turn through *iter (start with 0). */
char *mount_option_value(const char *options, const char *key, size_t *iter);
