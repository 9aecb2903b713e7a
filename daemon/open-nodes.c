/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kcmp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fs-util.h"
#include "log.h"
#include "macro.h"
#include "open-nodes.h"
#include "task-files.h"

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

/* Device nodes live under /dev, in whichever mount namespace: devtmpfs, or
 * a tmpfs of a container's or a service's own (only root may make device
 * nodes, and a user namespace's mounts cannot open them). A look at a file
 * there never waits for a server; nowhere else is vfiod sure of that (NFS
 * and 9p revalidate a file reached through its /proc link, overlay passes
 * that on to its layers, FUSE asks its daemon), so it looks nowhere else.
 * ptys and POSIX shared memory are never a PCI function's nodes. */
static bool may_be_device_node(const char *path)
{
        return strncmp(path, "/dev/", 5) == 0 && strncmp(path, "/dev/pts/", 9) != 0 &&
               strncmp(path, "/dev/shm/", 9) != 0;
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

/* What a failed look at a process's fds means: ENOENT and ESRCH that it
 * (or the fd) is gone; anything else that vfiod cannot see them. */
static int unless_gone(int error)
{
        return error == ENOENT || error == ESRCH ? 0 : -error;
}

/* Whether fd, of the table of the /proc/.../fd at fd_dir, was opened with
 * O_PATH, as the flags of its fdinfo say: such an fd has not opened the
 * device, and any user may hold one of any node. What cannot be read
 * counts as an open. */
static bool opened_with_o_path(int fd_dir, const char *fd)
{
        char path[64], info[256];
        const char *flags;
        _cleanup_close_ int info_fd = -EBADF;
        ssize_t n;

        snprintf(path, sizeof(path), "../fdinfo/%s", fd);
        info_fd = openat(fd_dir, path, O_RDONLY | O_CLOEXEC);
        if (info_fd < 0 || (n = read(info_fd, info, sizeof(info) - 1)) < 0)
                return false;
        info[n] = '\0';
        flags = strstr(info, "\nflags:");
        return flags && (strtoul(flags + strlen("\nflags:"), NULL, 8) & O_PATH);
}

/* One fd: its link says what it is without entering any filesystem;
 * sockets, pipes and anonymous inodes are no device nodes. */
static int check_fd(const NodeWatch *w, int fd_dir, const char *fd, const WatchedNode **ret)
{
        char target[PATH_MAX];
        struct statx stx;
        ssize_t n = readlinkat(fd_dir, fd, target, sizeof(target) - 1);

        *ret = NULL;
        /* A path longer than PATH_MAX: any user can hold a file that deep
         * open, and no node vfiod watches lies there (only root makes
         * device nodes, and they live in a /dev). */
        if (n < 0 && errno == ENAMETOOLONG)
                return 0;
        if (n < 0)
                return unless_gone(errno);
        target[n] = '\0';
        if (target[0] != '/') {
                *ret = find_link(w, target);
                return 0;
        }
        if (!may_be_device_node(target))
                return 0;
        if (statx(fd_dir, fd, AT_STATX_DONT_SYNC | AT_NO_AUTOMOUNT, STATX_TYPE, &stx) < 0)
                return unless_gone(errno);
        *ret = find_node(w, &stx);
        if (*ret && opened_with_o_path(fd_dir, fd))
                *ret = NULL;
        return 0;
}

/* Every fd of one fd table (a /proc/.../fd below dir_fd), not only up to
 * the first node found: a process that holds nodes of several uses counts
 * with the highest, kept in *held. -errno when the fds cannot be read (an
 * LSM's denial, a /proc without the permission): then the process cannot
 * be proven not to hold a node. */
static int scan_fd_table(const NodeWatch *w, int dir_fd, const char *path, const WatchedNode **held)
{
        struct dirent *de;
        DIR *fds;
        int r = open_dir_at(dir_fd, path, &fds);

        if (r < 0)
                return unless_gone(-r); /* a kernel thread's is there, and empty */
        while ((r = read_dir_entry(fds, &de)) > 0) {
                const WatchedNode *node;
                if (de->d_name[0] == '.')
                        continue;
                r = check_fd(w, dirfd(fds), de->d_name, &node);
                if (node && (!*held || node->use > (*held)->use))
                        *held = node;
                if (r < 0)
                        break;
        }
        closedir(fds);
        return r < 0 ? unless_gone(-r) : 0;
}

/* Whether thread tid of process pid has an fd table of its own, which
 * /proc/PID/fd does not show. Where kcmp() cannot tell (a kernel without
 * it), it has: its table is read once more rather than missed. */
static bool own_fd_table(pid_t pid, pid_t tid)
{
        return syscall(SYS_kcmp, pid, tid, KCMP_FILES, 0, 0) != 0;
}

/* The fd tables of pid's threads that are not the one /proc/PID/fd shows:
 * a thread may have unshared its table (unshare(CLONE_FILES)), and once
 * the main thread has exited /proc/PID/fd shows nothing while the others
 * go on with theirs. */
static int scan_thread_fd_tables(const NodeWatch *w, int proc_fd, pid_t pid, const WatchedNode **held)
{
        char path[32];
        struct dirent *de;
        DIR *tasks;
        int r;

        snprintf(path, sizeof(path), "%d/task", (int)pid);
        r = open_dir_at(proc_fd, path, &tasks);
        if (r < 0)
                return unless_gone(-r);
        while ((r = read_dir_entry(tasks, &de)) > 0) {
                char *end;
                long tid = strtol(de->d_name, &end, 10);
                if (*end != '\0' || tid <= 0 || tid == pid || !own_fd_table(pid, (pid_t)tid))
                        continue;
                snprintf(path, sizeof(path), "%ld/fd", tid);
                r = scan_fd_table(w, dirfd(tasks), path, held);
                if (r < 0)
                        break;
        }
        closedir(tasks);
        return r < 0 ? unless_gone(-r) : 0;
}

/* Every fd table of pid; fn is called once, with the node of the highest
 * use among all it holds. */
static int scan_process(const NodeWatch *w, int proc_fd, pid_t pid, NodeHolderFn fn, void *userdata)
{
        const WatchedNode *held = NULL;
        char path[32];
        int r;

        snprintf(path, sizeof(path), "%d/fd", (int)pid);
        r = scan_fd_table(w, proc_fd, path, &held);
        if (r >= 0)
                r = scan_thread_fd_tables(w, proc_fd, pid, &held);
        if (held)
                fn(held, pid, userdata);
        return r;
}

/* The processes are shared out among threads: the scan costs a system
 * call or two an fd, and a busy desktop has some 100000 of them. */
#define SCAN_THREADS_MAX 4

typedef struct Scan {
        const NodeWatch *watch;
        int proc_fd;
        pid_t *pids;
        size_t n_pids;
        atomic_size_t next; /* the next pid to take */
        atomic_int error;   /* the first process whose fds could not be read */
        pthread_mutex_t lock; /* around fn */
        NodeHolderFn fn;
        void *userdata;
} Scan;

static void on_found(const WatchedNode *node, pid_t pid, void *userdata)
{
        Scan *s = userdata;

        pthread_mutex_lock(&s->lock);
        s->fn(node, pid, s->userdata);
        pthread_mutex_unlock(&s->lock);
}

static void *scan_some(void *userdata)
{
        Scan *s = userdata;

        for (size_t i; (i = atomic_fetch_add(&s->next, 1)) < s->n_pids;) {
                int r = scan_process(s->watch, s->proc_fd, s->pids[i], on_found, s), none = 0;
                if (r < 0)
                        (void)atomic_compare_exchange_strong(&s->error, &none, r);
        }
        return NULL;
}

/* A /proc that hides other users' processes (hidepid=, ProtectProc=)
 * shows no PID 1, and then nobody can be proven not to hold a node. */
static int list_pids(DIR *proc, pid_t skip, pid_t **ret, size_t *n)
{
        bool init_seen = false;
        struct dirent *de;

        int r;

        while ((r = read_dir_entry(proc, &de)) > 0) {
                char *end;
                long pid = strtol(de->d_name, &end, 10);
                pid_t *a;
                if (*end != '\0' || pid <= 0)
                        continue;
                init_seen = init_seen || pid == 1;
                if (pid == skip)
                        continue;
                a = reallocarray(*ret, *n + 1, sizeof(*a));
                if (!a)
                        return -ENOMEM;
                *ret = a;
                a[(*n)++] = (pid_t)pid;
        }
        if (r < 0)
                return r;
        return init_seen ? 0 : -EACCES;
}

/* ---- The kernel's walk (task-files.c) ---- */

typedef struct KernelFind {
        pid_t pid;
        size_t index; /* into the watch's nodes */
} KernelFind;

typedef struct KernelFinds {
        KernelFind *finds;
        size_t n;
        int error;
} KernelFinds;

static void on_kernel_find(pid_t pid, size_t index, void *userdata)
{
        KernelFinds *k = userdata;
        KernelFind *a;

        if (k->error < 0)
                return;
        a = reallocarray(k->finds, k->n + 1, sizeof(*a));
        if (!a) {
                k->error = -ENOMEM;
                return;
        }
        k->finds = a;
        a[k->n++] = (KernelFind){ .pid = pid, .index = index };
}

static int by_pid(const void *a, const void *b)
{
        pid_t x = ((const KernelFind *)a)->pid, y = ((const KernelFind *)b)->pid;

        return (x > y) - (x < y);
}

/* Which way the scans go is said once, the first time. */
static void log_scan_way(int r)
{
        static atomic_bool said;

        if (atomic_exchange(&said, true))
                return;
        if (r >= 0)
                log_info("Open device nodes are found by the kernel's walk over every process's files "
                         "(a BPF task_file iterator).");
        else
                log_full_errno(LOG_NOTICE, r,
                               "The kernel will not walk the processes' files for vfiod (BPF task_file iterator): "
                               "open device nodes are looked for through /proc instead, a system call or two an fd");
}

/* Whether the main thread of pid has exited while other threads go on: a
 * zombie ('Z') in its own /proc/PID/task/PID/stat (the process's stat sums
 * over every thread). 1 or 0; -errno when it cannot be read. */
static int main_thread_exited(int proc_fd, pid_t pid)
{
        char path[32], state;
        int r;

        snprintf(path, sizeof(path), "%d/task/%d/stat", (int)pid, (int)pid);
        r = proc_stat_state(proc_fd, path, &state);
        if (r < 0)
                return unless_gone(-r);
        return state == 'Z';
}

/* The kernel's walk passes over a thread whose fd table is its process's,
 * since it reads that table with the process's main thread. Should the
 * main thread exit during the walk, after such a thread was passed over
 * and before its own turn, the table is never read. Such a process is left
 * with an exited main thread and threads that go on: their tables are read
 * through /proc. (Unless one of those threads has exec()ed meanwhile and
 * taken the process's id: like an fd passed into a table already read,
 * that escapes a scan of either way, which sees each table once.) */
static int add_exited_main_threads(const NodeWatch *w, pid_t skip, KernelFinds *k)
{
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        DIR *proc = opendir("/proc");
        int r;

        if (!proc)
                return -errno;
        r = list_pids(proc, skip, &pids, &n);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                const WatchedNode *held = NULL;
                r = main_thread_exited(dirfd(proc), pids[i]);
                if (r > 0)
                        r = scan_thread_fd_tables(w, dirfd(proc), pids[i], &held);
                if (held)
                        on_kernel_find(pids[i], (size_t)(held - w->nodes), k);
        }
        closedir(proc);
        return r < 0 ? r : k->error;
}

/* Each process once, with the node of the highest use. */
static void report_kernel_finds(const NodeWatch *w, KernelFinds *k, pid_t skip, NodeHolderFn fn, void *userdata)
{
        qsort(k->finds, k->n, sizeof(*k->finds), by_pid);
        for (size_t i = 0, j; i < k->n; i = j) {
                const WatchedNode *held = &w->nodes[k->finds[i].index];
                for (j = i + 1; j < k->n && k->finds[j].pid == k->finds[i].pid; j++)
                        if (w->nodes[k->finds[j].index].use > held->use)
                                held = &w->nodes[k->finds[j].index];
                if (k->finds[i].pid != skip)
                        fn(held, k->finds[i].pid, userdata);
        }
}

/* 1 when the kernel walked every process's files, 0 when the look through
 * /proc must do it: a node known by its fd's link only, or a walk that did
 * not run or did not end. */
static int scan_in_kernel(const NodeWatch *w, pid_t skip, NodeHolderFn fn, void *userdata)
{
        FileDevice devices[TASK_FILES_DEVICES_MAX];
        KernelFinds k = {};
        int r;

        if (w->n > TASK_FILES_DEVICES_MAX)
                return 0;
        for (size_t i = 0; i < w->n; i++) {
                if (w->nodes[i].devnum == 0)
                        return 0;
                devices[i] = (FileDevice){ .devnum = w->nodes[i].devnum, .block = w->nodes[i].block };
        }
        r = task_files_find_devices(devices, w->n, on_kernel_find, &k);
        if (r >= 0)
                r = k.error;
        if (r >= 0)
                r = add_exited_main_threads(w, skip, &k);
        log_scan_way(r);
        if (r >= 0)
                report_kernel_finds(w, &k, skip, fn, userdata);
        free(k.finds);
        return r == -ENOMEM ? r : r >= 0;
}

/* ---- Both ---- */

int node_watch_scan(const NodeWatch *w, pid_t skip, NodeHolderFn fn, void *userdata)
{
        Scan s = { .watch = w, .fn = fn, .userdata = userdata, .lock = PTHREAD_MUTEX_INITIALIZER };
        pthread_t threads[SCAN_THREADS_MAX - 1];
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        size_t n_threads = 0, want = cpus < 1 ? 1 : cpus > SCAN_THREADS_MAX ? SCAN_THREADS_MAX : (size_t)cpus;
        DIR *proc;
        int r;

        if (w->n == 0)
                return 0; /* nothing to look for: spare the scan of every process */
        r = scan_in_kernel(w, skip, fn, userdata);
        if (r != 0)
                return r < 0 ? r : 0;
        proc = opendir("/proc");
        if (!proc)
                return -errno;
        s.proc_fd = dirfd(proc);
        r = list_pids(proc, skip, &s.pids, &s.n_pids);
        /* Threads beyond the first only help; without them the scan is
         * slower, never wrong. */
        while (r >= 0 && n_threads + 1 < want && pthread_create(&threads[n_threads], NULL, scan_some, &s) == 0)
                n_threads++;
        if (r >= 0)
                scan_some(&s);
        for (size_t i = 0; i < n_threads; i++)
                pthread_join(threads[i], NULL);
        closedir(proc);
        free(s.pids);
        return r < 0 ? r : s.error;
}
