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
#include "mount-table.h"
#include "open-nodes.h"

int node_watch_add(NodeWatch *w, const WatchedNode *node)
{
        WatchedNode *a = reallocarray(w->nodes, w->n + 1, sizeof(*a));

        if (!a)
                return -ENOMEM;
        w->nodes = a;
        a[w->n++] = *node;
        return 0;
}

void node_watch_done(NodeWatch *w)
{
        free(w->nodes);
        *w = (NodeWatch){};
}

/* Filesystems where even a look at cached attributes may wait for a
 * server: following a link into them revalidates the dentry (NFS, 9p),
 * and overlay passes that on to its layers. */
static bool fs_may_hang(const char *fstype)
{
        static const char *const types[] = {"nfs",  "nfs4", "cifs", "smb3",  "9p",     "virtiofs",
                                            "ceph", "afs",  "gfs2", "ocfs2", "lustre", "overlay"};

        if (strncmp(fstype, "fuse", 4) == 0)
                return true;
        for (size_t i = 0; i < ELEMENTSOF(types); i++)
                if (streq(fstype, types[i]))
                        return true;
        return false;
}

/* The mount tables read so far during one scan; mount ids are unique
 * across namespaces, so any table that lists an id knows its filesystem. */
typedef struct MountCache {
        MountTable *tables;
        size_t n;
        ino_t *namespaces; /* the mount namespace each table was read from */
} MountCache;

static void mount_cache_done(MountCache *c)
{
        for (size_t i = 0; i < c->n; i++)
                mount_table_done(&c->tables[i]);
        free(c->tables);
        free(c->namespaces);
}

static const MountEntry *mount_cache_find(const MountCache *c, int id)
{
        const MountEntry *e = NULL;

        for (size_t i = 0; i < c->n && !e; i++)
                e = mount_table_find_id(&c->tables[i], id);
        return e;
}

/* Reads the table of pid's mount namespace unless one was read already. */
static void mount_cache_add_process(MountCache *c, int proc_fd, pid_t pid)
{
        char path[64];
        struct stat ns;
        MountTable t;
        MountTable *tables;
        ino_t *namespaces;

        snprintf(path, sizeof(path), "%d/ns/mnt", (int)pid);
        if (fstatat(proc_fd, path, &ns, 0) < 0)
                return;
        for (size_t i = 0; i < c->n; i++)
                if (c->namespaces[i] == ns.st_ino)
                        return;
        snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)pid);
        if (mount_table_read(path, &t) < 0)
                return;
        tables = reallocarray(c->tables, c->n + 1, sizeof(*tables));
        if (tables)
                c->tables = tables;
        namespaces = reallocarray(c->namespaces, c->n + 1, sizeof(*namespaces));
        if (namespaces)
                c->namespaces = namespaces;
        if (!tables || !namespaces) {
                mount_table_done(&t);
                return;
        }
        c->tables[c->n] = t;
        c->namespaces[c->n++] = ns.st_ino;
}

/* The filesystem type of fd of pid, from the mount id in its fdinfo. */
static const char *fd_fstype(MountCache *c, int proc_fd, pid_t pid, const char *fd)
{
        char path[64], buf[512];
        const MountEntry *e;
        const char *p;
        int id, info;
        ssize_t n;

        snprintf(path, sizeof(path), "%d/fdinfo/%s", (int)pid, fd);
        info = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
        if (info < 0)
                return NULL;
        n = read(info, buf, sizeof(buf) - 1);
        close(info);
        if (n <= 0)
                return NULL;
        buf[n] = '\0';
        p = strstr(buf, "mnt_id:");
        if (!p || sscanf(p, "mnt_id: %d", &id) != 1)
                return NULL;
        e = mount_cache_find(c, id);
        if (!e) {
                mount_cache_add_process(c, proc_fd, pid);
                e = mount_cache_find(c, id);
        }
        return e ? e->fstype : NULL;
}

static const WatchedNode *find_node(const NodeWatch *w, const struct statx *stx)
{
        dev_t rdev = makedev(stx->stx_rdev_major, stx->stx_rdev_minor);
        bool block = S_ISBLK(stx->stx_mode);

        if (!block && !S_ISCHR(stx->stx_mode))
                return NULL;
        for (size_t i = 0; i < w->n; i++)
                if (w->nodes[i].devnum != 0 && w->nodes[i].devnum == rdev && w->nodes[i].block == block)
                        return &w->nodes[i];
        return NULL;
}

static const WatchedNode *find_link(const NodeWatch *w, const char *target)
{
        for (size_t i = 0; i < w->n; i++)
                if (w->nodes[i].link[0] && streq(w->nodes[i].link, target))
                        return &w->nodes[i];
        return NULL;
}

/* One fd: its link says what it is without entering any filesystem;
 * sockets, pipes and anonymous inodes are no device nodes. */
static const WatchedNode *check_fd(const NodeWatch *w, MountCache *c, int proc_fd, int fd_dir, pid_t pid,
                                   const char *fd)
{
        char target[PATH_MAX];
        struct statx stx;
        const char *fstype;
        ssize_t n = readlinkat(fd_dir, fd, target, sizeof(target) - 1);

        if (n <= 0)
                return NULL;
        target[n] = '\0';
        if (target[0] != '/')
                return find_link(w, target);
        if (strncmp(target, "/dev/", 5) != 0) {
                fstype = fd_fstype(c, proc_fd, pid, fd);
                if (!fstype || fs_may_hang(fstype))
                        return NULL;
        }
        if (statx(fd_dir, fd, AT_STATX_DONT_SYNC | AT_NO_AUTOMOUNT, STATX_TYPE, &stx) < 0)
                return NULL;
        return find_node(w, &stx);
}

static void scan_process(const NodeWatch *w, MountCache *c, int proc_fd, pid_t pid, NodeHolderFn fn,
                         void *userdata)
{
        const WatchedNode *node = NULL;
        char path[32];
        struct dirent *de;
        DIR *fds;
        int fd_dir;

        snprintf(path, sizeof(path), "%d/fd", (int)pid);
        fd_dir = openat(proc_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd_dir < 0)
                return; /* gone, or a kernel thread */
        fds = fdopendir(fd_dir);
        if (!fds) {
                close(fd_dir);
                return;
        }
        while (!node && (de = readdir(fds)))
                if (de->d_name[0] != '.')
                        node = check_fd(w, c, proc_fd, fd_dir, pid, de->d_name);
        closedir(fds);
        if (node)
                fn(node, pid, userdata);
}

int node_watch_scan(const NodeWatch *w, pid_t skip, NodeHolderFn fn, void *userdata)
{
        _cleanup_close_ int proc_fd = -1;
        MountCache cache = {};
        struct dirent *de;
        DIR *proc;

        if (w->n == 0)
                return 0; /* nothing to look for: spare the scan of every process */
        proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        proc = proc_fd >= 0 ? opendir("/proc") : NULL;
        if (!proc)
                return -errno;
        while ((de = readdir(proc))) {
                char *end;
                long pid = strtol(de->d_name, &end, 10);
                if (*end == '\0' && pid > 0 && pid != skip)
                        scan_process(w, &cache, proc_fd, (pid_t)pid, fn, userdata);
        }
        closedir(proc);
        mount_cache_done(&cache);
        return 0;
}
