/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "first-reason.h"
#include "fs-util.h"
#include "macro.h"
#include "storage-view.h"
#include "strv.h"

static const char *const critical_mountpoints[] = {"/", "/usr", "/boot", "/var", "/home"};

bool storage_is_critical_mountpoint(const char *mountpoint)
{
        for (size_t i = 0; i < ELEMENTSOF(critical_mountpoints); i++)
                if (streq(mountpoint, critical_mountpoints[i]))
                        return true;
        return false;
}

/* Filesystems that have no local storage of their own. Anything not
 * named here or below is taken as one vfiod cannot trace. */
static const char *const storageless_types[] = {
        "tmpfs",   "ramfs",   "devtmpfs",  "proc",       "sysfs",       "devpts",   "mqueue",
        "cgroup",  "cgroup2", "pstore",    "securityfs", "debugfs",     "tracefs",  "configfs",
        "fusectl", "bpf",     "hugetlbfs", "autofs",     "binfmt_misc", "efivarfs", "rpc_pipefs",
        "nsfs",    "nfs",     "nfs4",      "cifs",       "smb3",        "ceph",     "afs",
};

FsBacking storage_fs_backing(const char *fstype, dev_t devnum)
{
        if (streq(fstype, "overlay"))
                return FS_BACKING_LAYERS;
        if (streq(fstype, "9p") || streq(fstype, "virtiofs"))
                return FS_BACKING_TRANSPORT;
        if (streq(fstype, "btrfs"))
                return FS_BACKING_BTRFS;
        if (major(devnum) != 0)
                return FS_BACKING_BLOCK; /* ext4, xfs, vfat, squashfs on a loop device ... */
        if (strncmp(fstype, "fuse", 4) == 0)
                return FS_BACKING_NONE; /* its storage is its server's: files a process holds */
        for (size_t i = 0; i < ELEMENTSOF(storageless_types); i++)
                if (streq(fstype, storageless_types[i]))
                        return FS_BACKING_NONE;
        return FS_BACKING_UNKNOWN;
}

/* "a:b\:c" into "a" and "b:c". */
static int split_lowerdir(const char *value, char ***list, size_t *n)
{
        size_t len = strlen(value);
        _cleanup_free_ char *cur = malloc(len + 1);
        size_t k = 0;
        int r;

        if (!cur)
                return -ENOMEM;
        for (size_t i = 0; i <= len; i++) {
                if (value[i] == '\\' && (value[i + 1] == ':' || value[i + 1] == '\\')) {
                        cur[k++] = value[++i];
                        continue;
                }
                if (value[i] != ':' && value[i] != '\0') {
                        cur[k++] = value[i];
                        continue;
                }
                cur[k] = '\0';
                if (k > 0 && (r = strv_push(list, n, strdup(cur))) < 0)
                        return r;
                k = 0;
        }
        return 0;
}

char **storage_overlay_layers(const char *options)
{
        static const char *const keys[] = {"lowerdir", "lowerdir+", "datadir+", "upperdir"};
        char **list = calloc(1, sizeof(char *));
        size_t n = 0;

        for (size_t k = 0; list && k < ELEMENTSOF(keys); k++) {
                size_t iter = 0;
                char *value;
                while ((value = mount_option_value(options, keys[k], &iter))) {
                        int r = streq(keys[k], "lowerdir") ? split_lowerdir(value, &list, &n)
                                                           : strv_push(&list, &n, strdup(value));
                        free(value);
                        if (r < 0) {
                                strv_free(list);
                                return NULL;
                        }
                }
        }
        return list;
}

/* ---- what the host's critical storage rests on ---- */

#define note_untraced(v, ...) first_reason_set(&(v)->untraced, __VA_ARGS__)

static const CriticalItem *find_critical(const StorageView *v, dev_t devnum, const char *tag)
{
        for (size_t i = 0; i < v->n_items; i++) {
                const CriticalItem *c = &v->items[i];
                if (tag ? c->tag && streq(c->tag, tag) : c->devnum == devnum)
                        return c;
        }
        return NULL;
}

static void add_critical(StorageView *v, dev_t devnum, const char *tag, const char *what)
{
        CriticalItem *a = reallocarray(v->items, v->n_items + 1, sizeof(*a));

        if (!a) {
                note_untraced(v, "vfiod ran out of memory tracing %s", what);
                return;
        }
        v->items = a;
        a[v->n_items] =
                (CriticalItem){.devnum = devnum, .tag = tag ? strdup(tag) : NULL, .what = strdup(what)};
        if (!a[v->n_items].what || (tag && !a[v->n_items].tag)) {
                free(a[v->n_items].what);
                free(a[v->n_items].tag);
                note_untraced(v, "vfiod ran out of memory tracing %s", what);
                return;
        }
        v->n_items++;
}

static int read_devnum(const char *path, dev_t *ret)
{
        _cleanup_free_ char *s = read_full_file(path);
        unsigned maj, min;

        if (!s || sscanf(s, "%u:%u", &maj, &min) != 2)
                return -ENOENT;
        *ret = makedev(maj, min);
        return 0;
}

int block_devnum(const char *name, dev_t *ret)
{
        char path[PATH_MAX];

        snprintf(path, sizeof(path), "/sys/class/block/%s/dev", name);
        return read_devnum(path, ret);
}

static void trace_mount(StorageView *v, const MountEntry *e, const char *what, int depth);

static void trace_path(StorageView *v, const char *path, const char *what, const MountEntry *within,
                       int depth)
{
        const MountEntry *e = mount_table_find_path(&v->host, path);

        if (!e || e == within || path[0] != '/') {
                note_untraced(v, "%s rests on %s, which is not in the host's mount table", what, path);
                return;
        }
        trace_mount(v, e, what, depth + 1);
}

/* What lies at path (below /dev/), found without following any link:
 * no name leads vfiod out of /dev into a filesystem that can hang. A
 * loop's backing_file is the path of what it opened, which has none. */
static int stat_beneath_dev(const char *path, struct stat *ret)
{
        _cleanup_close_ int dir = open("/dev", O_PATH | O_DIRECTORY | O_CLOEXEC);
        char name[PATH_MAX];
        char *component = name, *slash;

        if (dir < 0)
                return -errno;
        snprintf(name, sizeof(name), "%s", path);
        while ((slash = strchr(component, '/'))) {
                int next;
                *slash = '\0';
                if (streq(component, "..") || streq(component, ".") || !component[0])
                        return -EINVAL;
                next = openat(dir, component, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0)
                        return -errno; /* a link too: ENOTDIR */
                close(dir);
                dir = next;
                component = slash + 1;
        }
        return fstatat(dir, component, ret, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

bool nvme_path_head(const char *name, char head[static NAME_MAX + 1])
{
        unsigned subsystem, controller, namespace;
        int end = 0;

        if (sscanf(name, "nvme%uc%un%u%n", &subsystem, &controller, &namespace, &end) != 3 || name[end])
                return false;
        snprintf(head, NAME_MAX + 1, "nvme%un%u", subsystem, namespace);
        return true;
}

int loop_backing_block(const char *backing, dev_t *ret)
{
        /* Users write there, and may mount FUSE on a directory of theirs
         * there; systemd mounts both nodev, so no block device is opened
         * through them: what a loop opened there is a file. */
        static const char *const nodev_dirs[] = { "/dev/shm/", "/dev/mqueue/" };
        const char *deleted = " (deleted)";
        size_t len = strlen(backing);
        struct stat st;
        int r;

        if (strncmp(backing, "/dev/", 5) != 0)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(nodev_dirs); i++)
                if (strncmp(backing, nodev_dirs[i], strlen(nodev_dirs[i])) == 0)
                        return 0;
        /* Its node was removed: a device that is gone, not one present. */
        if (len > strlen(deleted) && streq(backing + len - strlen(deleted), deleted))
                return 0;
        r = stat_beneath_dev(backing + 5, &st);
        if (r < 0)
                return r;
        if (S_ISREG(st.st_mode))
                return 0;
        if (!S_ISBLK(st.st_mode))
                return -ENOTBLK;
        *ret = st.st_rdev;
        return 1;
}

/* The disk that partition name is of: its parent in sysfs. */
static int partition_disk(const char *name, dev_t *ret)
{
        char path[PATH_MAX], target[PATH_MAX];
        char *slash, *disk;
        ssize_t n;

        snprintf(path, sizeof(path), "/sys/class/block/%s", name);
        n = readlink(path, target, sizeof(target) - 1);
        if (n < 0)
                return -errno;
        target[n] = '\0';
        if (!(slash = strrchr(target, '/')))
                return -EINVAL;
        *slash = '\0';
        disk = strrchr(target, '/');
        return block_devnum(disk ? disk + 1 : target, ret);
}

/* A block device and everything below it: a partition's disk, the devices
 * it is made of (slaves: dm, md, bcache) and a loop device's backing
 * file, or the device that backs it. */
static void trace_block(StorageView *v, dev_t devnum, const char *what, int depth)
{
        char path[PATH_MAX];
        _cleanup_free_ char *name = NULL, *below_what = NULL;
        struct dirent *de;
        dev_t below;
        DIR *slaves;

        if (find_critical(v, devnum, NULL))
                return;
        if (depth > STACK_DEPTH_MAX) {
                note_untraced(v, "%s rests on a stack deeper than vfiod follows", what);
                return;
        }
        add_critical(v, devnum, NULL, what);
        snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", major(devnum), minor(devnum));
        if (readlink_basename(path, &name) < 0 || !name) {
                note_untraced(v, "%s rests on block device %u:%u, which sysfs does not show", what,
                              major(devnum), minor(devnum));
                return;
        }
        /* What lies below says through what it carries the filesystem. */
        if (asprintf(&below_what, "%s through %s", what, name) < 0) {
                below_what = NULL;
                note_untraced(v, "vfiod ran out of memory tracing %s", what);
                return;
        }
        /* md126p2, loop0p1: the disk has the slaves or the backing file. */
        snprintf(path, sizeof(path), "/sys/class/block/%s/partition", name);
        if (access(path, F_OK) == 0) {
                if (partition_disk(name, &below) < 0)
                        note_untraced(v, "%s rests on %s, whose disk sysfs does not show", what, name);
                else
                        trace_block(v, below, below_what, depth + 1);
                return;
        }
        snprintf(path, sizeof(path), "/sys/class/block/%s/slaves", name);
        if ((slaves = opendir(path))) {
                while ((de = readdir(slaves))) {
                        if (de->d_name[0] == '.')
                                continue;
                        if (block_devnum(de->d_name, &below) < 0)
                                note_untraced(v, "%s rests on %s, whose device number sysfs does not show",
                                              what, de->d_name);
                        else
                                trace_block(v, below, below_what, depth + 1);
                }
                closedir(slaves);
        }
        for (size_t i = 0; i < v->n_loops; i++) {
                const LoopDevice *l = &v->loops[i];
                if (!streq(l->name, name))
                        continue;
                if (l->backing > 0)
                        trace_block(v, l->devnum, below_what, depth + 1);
                else if (l->backing < 0)
                        note_untraced(v, "%s rests on %s, a device vfiod cannot see (%s)", below_what, l->file,
                                      strerror(-l->backing));
                else
                        trace_path(v, l->file, below_what, NULL, depth);
        }
}

/* The btrfs filesystem whose devices include the one named sysname:
 * /sys/fs/btrfs/FSID/devices/ lists them all. */
static int btrfs_devices_dir(const char *sysname, char *buf, size_t size)
{
        DIR *dir = opendir("/sys/fs/btrfs");
        struct dirent *de;
        int r = -ENOENT;

        if (!dir)
                return -errno;
        while (r < 0 && (de = readdir(dir))) {
                char probe[PATH_MAX];
                if (de->d_name[0] == '.')
                        continue;
                snprintf(probe, sizeof(probe), "/sys/fs/btrfs/%s/devices/%s", de->d_name, sysname);
                if (access(probe, F_OK) == 0) {
                        snprintf(buf, size, "/sys/fs/btrfs/%s/devices", de->d_name);
                        r = 0;
                }
        }
        closedir(dir);
        return r;
}

static void trace_btrfs(StorageView *v, const MountEntry *e, const char *what, int depth)
{
        char path[PATH_MAX], dir[PATH_MAX];
        _cleanup_free_ char *sysname = NULL;
        struct dirent *de;
        struct stat st;
        DIR *devices;

        /* The source names one of its devices; sysfs knows the others. */
        if (strncmp(e->source, "/dev/", 5) != 0 || stat(e->source, &st) < 0 || !S_ISBLK(st.st_mode)) {
                note_untraced(v, "%s is btrfs on %s, which is no block device vfiod can see", what,
                              e->source);
                return;
        }
        snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", major(st.st_rdev), minor(st.st_rdev));
        if (readlink_basename(path, &sysname) < 0 || !sysname ||
            btrfs_devices_dir(sysname, dir, sizeof(dir)) < 0 || !(devices = opendir(dir))) {
                trace_block(v, st.st_rdev, what, depth);
                note_untraced(v, "%s is btrfs, and sysfs does not list its devices", what);
                return;
        }
        while ((de = readdir(devices))) {
                dev_t devnum;
                if (de->d_name[0] == '.')
                        continue;
                if (block_devnum(de->d_name, &devnum) < 0)
                        note_untraced(v, "%s is btrfs on %s, whose device number sysfs does not show", what,
                                      de->d_name);
                else
                        trace_block(v, devnum, what, depth + 1);
        }
        closedir(devices);
}

static void trace_mount(StorageView *v, const MountEntry *e, const char *what, int depth)
{
        char **layers;

        if (depth > STACK_DEPTH_MAX) {
                note_untraced(v, "%s rests on a stack deeper than vfiod follows", what);
                return;
        }
        switch (storage_fs_backing(e->fstype, e->devnum)) {
        case FS_BACKING_NONE:
                return;
        case FS_BACKING_BLOCK:
                trace_block(v, e->devnum, what, depth);
                return;
        case FS_BACKING_BTRFS:
                trace_btrfs(v, e, what, depth);
                return;
        case FS_BACKING_TRANSPORT:
                if (!find_critical(v, 0, e->source))
                        add_critical(v, 0, e->source, what);
                return;
        case FS_BACKING_LAYERS:
                layers = storage_overlay_layers(e->options);
                if (!layers || !layers[0])
                        note_untraced(v, "%s is an overlay whose layers vfiod cannot read", what);
                for (char **l = layers; l && *l; l++)
                        trace_path(v, *l, what, e, depth);
                strv_free(layers);
                return;
        case FS_BACKING_UNKNOWN:
        default:
                note_untraced(v, "%s is %s, which vfiod cannot trace to its devices", what, e->fstype);
                return;
        }
}

/* /proc/swaps: "Filename Type Size Used Priority", the name escaped as in
 * mountinfo. A swap partition is a block device; a swap file rests on the
 * filesystem that holds it. */
static void trace_swaps(StorageView *v)
{
        _cleanup_(fclosep) FILE *f = fopen("/proc/swaps", "re");
        _cleanup_free_ char *line = NULL;
        size_t size = 0;

        if (!f) {
                note_untraced(v, "/proc/swaps cannot be read (%s)", strerror(errno));
                return;
        }
        while (getline(&line, &size, f) > 0) {
                char name[PATH_MAX / 4], type[16], what[PATH_MAX / 4 + 32];
                struct stat st;
                if (sscanf(line, "%1023s %15s", name, type) != 2 || name[0] != '/')
                        continue; /* the header */
                snprintf(what, sizeof(what), "an active swap (%s)", name);
                if (streq(type, "partition") && stat(name, &st) == 0 && S_ISBLK(st.st_mode))
                        trace_block(v, st.st_rdev, what, 0);
                else if (streq(type, "file"))
                        trace_path(v, name, what, NULL, 0);
                else
                        note_untraced(v, "%s cannot be traced to its device", what);
        }
}

/* Every loop device bound to a file, read once for the whole check. */
static void read_loops(StorageView *v)
{
        DIR *dir = opendir("/sys/class/block");
        struct dirent *de;
        int r;

        if (!dir) {
                v->loops_error = -errno;
                return;
        }
        while ((r = read_dir_entry(dir, &de)) > 0) {
                char path[PATH_MAX];
                LoopDevice l = {}, *a;
                if (strncmp(de->d_name, "loop", 4) != 0)
                        continue;
                snprintf(path, sizeof(path), "/sys/class/block/%s/loop/backing_file", de->d_name);
                if (!(l.file = read_full_file(path))) {
                        if (errno != ENOENT) /* ENOENT: bound to nothing, or a partition of a loop device */
                                v->loops_error = -errno;
                        continue;
                }
                l.file[strcspn(l.file, "\n")] = '\0';
                snprintf(l.name, sizeof(l.name), "%s", de->d_name);
                l.backing = loop_backing_block(l.file, &l.devnum);
                if (!(a = reallocarray(v->loops, v->n_loops + 1, sizeof(*a)))) {
                        free(l.file);
                        v->loops_error = -ENOMEM;
                        break;
                }
                v->loops = a;
                a[v->n_loops++] = l;
        }
        if (r < 0)
                v->loops_error = r;
        closedir(dir);
}

const char *storage_view_loop_on(const StorageView *v, dev_t devnum, int *ret_error)
{
        *ret_error = v->loops_error;
        for (size_t i = 0; i < v->n_loops; i++) {
                if (v->loops[i].backing > 0 && v->loops[i].devnum == devnum)
                        return v->loops[i].name;
                if (v->loops[i].backing < 0 && *ret_error == 0)
                        *ret_error = v->loops[i].backing;
        }
        return NULL;
}

int storage_view_new(StorageView **ret)
{
        StorageView *v = calloc(1, sizeof(*v));
        int r;

        if (!v)
                return -ENOMEM;
        /* PID 1's table, not vfiod's: the unit gives vfiod mounts of its
         * own (ProtectHome= hides /home behind an empty tmpfs). */
        read_loops(v);
        r = mount_table_read("/proc/1/mountinfo", &v->host);
        if (r < 0)
                note_untraced(v, "the host's mount table cannot be read (%s)", strerror(-r));
        for (size_t i = 0; i < v->host.n; i++) {
                const MountEntry *e = &v->host.entries[i];
                char what[PATH_MAX / 4 + 64];
                if (!storage_is_critical_mountpoint(e->mountpoint))
                        continue;
                snprintf(what, sizeof(what), "%s (%s)", e->mountpoint, e->fstype);
                trace_mount(v, e, what, 0);
        }
        trace_swaps(v);
        *ret = v;
        return 0;
}

StorageView *storage_view_free(StorageView *v)
{
        if (!v)
                return NULL;
        mount_table_done(&v->host);
        for (size_t i = 0; i < v->n_items; i++) {
                free(v->items[i].tag);
                free(v->items[i].what);
        }
        free(v->items);
        for (size_t i = 0; i < v->n_loops; i++)
                free(v->loops[i].file);
        free(v->loops);
        first_reason_done(&v->untraced);
        free(v);
        return NULL;
}

const char *storage_view_critical(const StorageView *v, dev_t devnum, const char *tag)
{
        const CriticalItem *c = find_critical(v, devnum, tag);
        return c ? c->what : NULL;
}
