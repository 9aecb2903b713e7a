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

#include "fs-util.h"
#include "macro.h"
#include "storage-use.h"
#include "strv.h"

/* ---- one block device below a function ---- */

/* Whether e is a mount of the block device devnum. A btrfs mount's st_dev
 * is its own; its source names the device. Only btrfs's is looked at:
 * whoever mounts a FUSE filesystem (fsname=) or, in a namespace of her
 * own, a tmpfs picks its source, and a path she picks may lead into a
 * filesystem that hangs, or name a device she does not use. */
static bool mount_is_of_block(const MountEntry *e, dev_t devnum)
{
        struct stat st;

        if (e->devnum == devnum)
                return true;
        return major(e->devnum) == 0 && streq(e->fstype, "btrfs") && strncmp(e->source, "/dev/", 5) == 0 &&
               stat(e->source, &st) == 0 && S_ISBLK(st.st_mode) && st.st_rdev == devnum;
}

/* The host's critical storage stacked on name or on anything above it
 * (its holders). Returns whether it found any. */
static bool check_critical_stack(StorageView *v, UseReport *u, const char *address, const char *base,
                                 const char *name, int depth)
{
        char path[PATH_MAX];
        const char *what;
        struct dirent *de;
        bool found = false;
        dev_t devnum;
        DIR *holders;

        if (depth > STACK_DEPTH_MAX || block_devnum(name, &devnum) < 0)
                return false;
        if ((what = storage_view_critical(v, devnum, NULL))) {
                if (streq(base, name))
                        use_report_add(u, DEVICE_USE_HOST_CRITICAL, "%s holds %s, which carries %s", address,
                                       name, what);
                else
                        use_report_add(u, DEVICE_USE_HOST_CRITICAL,
                                       "%s holds %s, below %s, which carries %s", address, base, name, what);
                return true;
        }
        snprintf(path, sizeof(path), "/sys/class/block/%s/holders", name);
        holders = opendir(path);
        if (!holders)
                return false;
        while ((de = readdir(holders)))
                if (de->d_name[0] != '.')
                        found |= check_critical_stack(v, u, address, base, de->d_name, depth + 1);
        closedir(holders);
        return found;
}

/* The kernel's answer: an exclusive open fails with EBUSY while anything
 * holds the device — a mounted filesystem in any mount namespace, swap,
 * dm, md, bcache, btrfs, ZFS. The open fd: free; -EBUSY; another -errno:
 * no answer. */
static int open_exclusive(const char *name)
{
        char path[PATH_MAX], node[PATH_MAX];
        _cleanup_free_ char *uevent = NULL;
        _cleanup_close_ int fd = -1;
        const char *devname;
        struct stat st;
        dev_t devnum;

        snprintf(path, sizeof(path), "/sys/class/block/%s/uevent", name);
        uevent = read_full_file(path);
        devname = uevent ? strstr(uevent, "DEVNAME=") : NULL;
        if (!devname || block_devnum(name, &devnum) < 0)
                return -ENOENT;
        devname += strlen("DEVNAME=");
        snprintf(node, sizeof(node), "/dev/%.*s", (int)strcspn(devname, "\n"), devname);
        fd = open(node, O_RDONLY | O_EXCL | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISBLK(st.st_mode) || st.st_rdev != devnum)
                return -ESTALE; /* not the node of this device */
        return TAKE_FD(fd);
}

void disk_holds_release(DiskHolds *h)
{
        for (size_t i = 0; i < h->n; i++)
                close(h->fds[i]);
        free(h->fds);
        *h = (DiskHolds){};
}

/* Whether this check holds the disk already: a multipathed NVMe namespace
 * is one disk (its head) below every controller that has a path to it,
 * and vfiod's own second exclusive open of it, or of a partition of it,
 * would fail as if someone else held it. */
static bool disk_holds_have(const DiskHolds *h, const char *name)
{
        struct stat st;
        dev_t devnum;

        if (!h || block_devnum(name, &devnum) < 0)
                return false;
        for (size_t i = 0; i < h->n; i++)
                if (fstat(h->fds[i], &st) == 0 && st.st_rdev == devnum)
                        return true;
        return false;
}

/* Without memory the disk goes unheld, as it would without holds: the
 * check's answer still stands, only the window until the unbind opens. */
static void disk_holds_add(DiskHolds *h, int fd)
{
        int *fds = h ? reallocarray(h->fds, h->n + 1, sizeof(*fds)) : NULL;

        if (!fds) {
                close(fd);
                return;
        }
        fds[h->n++] = fd;
        h->fds = fds;
}

/* The mount namespaces of other processes, each read once, for a mount
 * of devnum that the host's table does not show. */
static bool name_foreign_mount(dev_t devnum, FILE *out)
{
        DIR *proc = opendir("/proc");
        ino_t *seen = NULL;
        size_t n_seen = 0;
        struct dirent *de;
        bool found = false;

        while (proc && !found && (de = readdir(proc))) {
                char path[sizeof(de->d_name) + 32];
                _cleanup_(mount_table_done) MountTable t = {};
                struct stat ns;
                bool known = false;
                ino_t *a;
                if (de->d_name[0] < '1' || de->d_name[0] > '9')
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/ns/mnt", de->d_name);
                if (stat(path, &ns) < 0)
                        continue;
                for (size_t i = 0; i < n_seen && !known; i++)
                        known = seen[i] == ns.st_ino;
                if (known || !(a = reallocarray(seen, n_seen + 1, sizeof(*a))))
                        continue;
                seen = a;
                seen[n_seen++] = ns.st_ino;
                snprintf(path, sizeof(path), "/proc/%s/mountinfo", de->d_name);
                if (mount_table_read(path, &t) < 0)
                        continue;
                for (size_t i = 0; i < t.n && !found; i++)
                        if (mount_is_of_block(&t.entries[i], devnum)) {
                                fprintf(out, "mounted at %s (%s) in the mount namespace of PID %s",
                                        t.entries[i].mountpoint, t.entries[i].fstype, de->d_name);
                                found = true;
                        }
        }
        if (proc)
                closedir(proc);
        free(seen);
        return found;
}

/* Names what holds name: its mounts, the devices stacked on it. Returns
 * whether anything was named. */
static bool name_holders(const StorageView *v, const char *name, FILE *out)
{
        char path[PATH_MAX];
        struct dirent *de;
        size_t n = 0;
        dev_t devnum;
        DIR *holders;

        if (block_devnum(name, &devnum) < 0)
                return false;
        for (size_t i = 0; i < v->host.n; i++)
                if (mount_is_of_block(&v->host.entries[i], devnum))
                        fprintf(out, "%smounted at %s (%s)", n++ ? ", " : "", v->host.entries[i].mountpoint,
                                v->host.entries[i].fstype);
        snprintf(path, sizeof(path), "/sys/class/block/%s/holders", name);
        if ((holders = opendir(path))) {
                while ((de = readdir(holders)))
                        if (de->d_name[0] != '.')
                                fprintf(out, "%sheld by %s", n++ ? ", " : "", de->d_name);
                closedir(holders);
        }
        if (n == 0 && name_foreign_mount(devnum, out))
                n++;
        return n > 0;
}

static void report_busy(StorageView *v, UseReport *u, const char *address, const char *name)
{
        _cleanup_free_ char *users = NULL;
        size_t size = 0;
        FILE *out = open_memstream(&users, &size);
        bool named;

        if (!out) {
                use_report_add(u, DEVICE_USE_BUSY, "%s holds %s, which is in use", address, name);
                return;
        }
        named = name_holders(v, name, out);
        fclose(out);
        if (named)
                use_report_add(u, DEVICE_USE_BUSY, "%s holds %s, which is in use: %s", address, name, users);
        else if (v->untraced.set)
                /* What holds it might be what vfiod could not trace. */
                use_report_add(u, DEVICE_USE_HOST_CRITICAL,
                               "%s holds %s, which something vfiod cannot name holds, and %s: it may be the "
                               "host's own",
                               address, name, first_reason_text(&v->untraced));
        else
                use_report_add(
                        u, DEVICE_USE_BUSY,
                        "%s holds %s, which something holds exclusively that vfiod cannot name (a mount "
                        "in a namespace it cannot read, a device-mapper or md set, a ZFS pool)",
                        address, name);
}

/* A loop device set up over a block device holds no exclusive claim on
 * it, and no process holds its fd: only the loop device says so. Returns
 * whether it found one, or could not prove there is none. */
static bool report_loop_backing(const StorageView *v, UseReport *u, const char *address, const char *name)
{
        const char *loop = NULL;
        dev_t devnum;
        int r = block_devnum(name, &devnum);

        if (r >= 0)
                loop = storage_view_loop_on(v, devnum, &r);
        if (loop)
                use_report_add(u, DEVICE_USE_BUSY, "%s holds %s, which backs the loop device %s", address, name,
                               loop);
        else if (r < 0)
                use_report_add(u, DEVICE_USE_BUSY,
                               "%s holds %s, and vfiod cannot tell whether it backs a loop device (%s)", address,
                               name, strerror(-r));
        return loop || r < 0;
}

/* The partitions of disk, then the disk: a held partition makes the whole
 * disk refuse an exclusive open too, and saying so twice helps no one.
 * Held last, the disk keeps every partition from being claimed after its
 * own look. */
static int list_partitions(const char *disk, char ***ret, size_t *n)
{
        char path[PATH_MAX];
        struct dirent *de;
        DIR *dir;

        snprintf(path, sizeof(path), "/sys/class/block/%s", disk);
        dir = opendir(path);
        if (!dir)
                return -errno;
        while ((de = readdir(dir))) {
                char part[PATH_MAX];
                if (de->d_name[0] == '.' ||
                    (size_t)snprintf(part, sizeof(part), "%s/%s/partition", path, de->d_name) >=
                            sizeof(part) ||
                    access(part, F_OK) < 0)
                        continue;
                if (strv_push(ret, n, strdup(de->d_name)) < 0) {
                        closedir(dir);
                        return -ENOMEM;
                }
        }
        closedir(dir);
        return strv_push(ret, n, strdup(disk));
}

void storage_check_block(StorageView *v, UseReport *u, DiskHolds *holds, const char *address, const char *name)
{
        char **devices = NULL;
        size_t n = 0;
        bool critical = false, busy_part = false;

        if (disk_holds_have(holds, name))
                return; /* checked through another path, and found free */
        if (list_partitions(name, &devices, &n) < 0) {
                use_report_add(u, DEVICE_USE_BUSY, "%s holds %s, which vfiod cannot inspect", address, name);
                strv_free(devices);
                return;
        }
        /* The first found says it: a disk rests under its partitions' load. */
        for (size_t i = 0; !critical && i < n; i++)
                critical = check_critical_stack(v, u, address, devices[i], devices[i], 0);
        for (size_t i = 0; !critical && i < n; i++) {
                bool is_disk = i == n - 1;
                int fd;
                if (is_disk && busy_part)
                        continue;
                fd = open_exclusive(devices[i]);
                if (fd >= 0) {
                        busy_part = report_loop_backing(v, u, address, devices[i]) || busy_part;
                        if (is_disk && !busy_part)
                                disk_holds_add(holds, fd);
                        else
                                close(fd);
                        continue;
                }
                if (fd == -EBUSY)
                        report_busy(v, u, address, devices[i]);
                else
                        use_report_add(u, DEVICE_USE_BUSY,
                                       "%s holds %s, which vfiod cannot open to prove it unused (%s)",
                                       address, devices[i], strerror(-fd));
                busy_part = true;
        }
        strv_free(devices);
}

/* ---- a virtio filesystem transport ---- */

/* How many filesystems use the transport driver: every 9p client and every
 * virtiofs superblock holds a reference to its module. -errno when the
 * driver is built in (no count) or the count cannot be read. */
static int transport_users(const char *driver)
{
        char path[PATH_MAX];
        _cleanup_free_ char *s = NULL;
        int n;

        snprintf(path, sizeof(path), "/sys/module/%s/refcnt", driver);
        s = read_full_file(path);
        if (!s)
                return -errno;
        return sscanf(s, "%d", &n) == 1 && n >= 0 ? n : -EINVAL;
}

void storage_check_transport(StorageView *v, UseReport *u, const char *address, const char *driver,
                             const char *tag)
{
        const char *fstype = streq(driver, "virtiofs") ? "virtiofs" : "9p";
        const char *what = tag ? storage_view_critical(v, 0, tag) : NULL;
        _cleanup_free_ char *where = NULL, *name = NULL;
        size_t size = 0, named = 0;
        FILE *out;
        int users;

        if (asprintf(&name, tag ? "the %s filesystem '%s'" : "a %s filesystem", fstype, tag) < 0)
                name = NULL;
        if (what) {
                use_report_add(u, DEVICE_USE_HOST_CRITICAL, "%s carries %s, on which %s rests", address,
                               strna(name), what);
                return;
        }
        users = transport_users(driver);
        if (users == 0)
                return; /* no filesystem of this kind is mounted, in any namespace */
        out = open_memstream(&where, &size);
        for (size_t i = 0; out && tag && i < v->host.n; i++) {
                const MountEntry *e = &v->host.entries[i];
                if (streq(e->fstype, fstype) && streq(e->source, tag))
                        fprintf(out, "%s%s", named++ ? ", " : " mounted at ", e->mountpoint);
        }
        if (out)
                fclose(out);
        if (v->untraced.set)
                use_report_add(
                        u, DEVICE_USE_HOST_CRITICAL,
                        "%s carries %s%s; %s filesystems are in use, and %s: it may be the host's own",
                        address, strna(name), strempty(where), fstype, first_reason_text(&v->untraced));
        else if (named > 0)
                use_report_add(u, DEVICE_USE_BUSY, "%s carries %s%s", address, strna(name), where);
        else
                use_report_add(
                        u, DEVICE_USE_BUSY,
                        "%s carries %s, and %s filesystems are mounted%s: vfiod cannot prove that none of "
                        "them is this one",
                        address, strna(name), fstype,
                        users > 0 ? " in some mount namespace" : " (or may be)");
}
