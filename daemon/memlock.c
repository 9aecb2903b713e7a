/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "fs-util.h"
#include "macro.h"
#include "memlock.h"

/* The value of the line "key:\tVALUE" of a /proc file. */
static int proc_field(const char *path, const char *key, long *ret)
{
        _cleanup_free_ char *text = read_full_file(path);
        size_t n = strlen(key);

        if (!text)
                return -errno;
        for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
                if (strncmp(line, key, n) == 0 && line[n] == ':')
                        return sscanf(line + n + 1, "%ld", ret) == 1 ? 0 : -EIO;
        return -ENOENT;
}

/* A pidfd polls readable once its process has exited. */
static bool pidfd_alive(int pidfd)
{
        struct pollfd p = { .fd = pidfd, .events = POLLIN };
        return poll(&p, 1, 0) == 0;
}

int pidfd_get_pid(int pidfd, pid_t *ret)
{
        char path[64];
        long pid;
        int r;

        snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
        r = proc_field(path, "Pid", &pid);
        if (r == -ENOENT)
                return -EBADF; /* an fd, but no pidfd */
        if (r < 0)
                return r;
        if (pid <= 0) /* -1: exited; 0: in no PID namespace vfiod sees */
                return -ESRCH;
        *ret = (pid_t)pid;
        return 0;
}

/* "Uid:\treal\teffective\tsaved\tfilesystem": one uid when all four are. */
static int status_uid(const char *path, uid_t *ret)
{
        _cleanup_free_ char *text = read_full_file(path);
        unsigned long uids[4];
        const char *line;

        if (!text)
                return -errno;
        line = strstr(text, "\nUid:");
        if (!line || sscanf(line + 5, "%lu %lu %lu %lu", &uids[0], &uids[1], &uids[2], &uids[3]) != 4)
                return -EIO;
        if (uids[1] != uids[0] || uids[2] != uids[0] || uids[3] != uids[0])
                return -EPERM;
        *ret = (uid_t)uids[0];
        return 0;
}

int pidfd_get_uid(int pidfd, pid_t pid, uid_t *ret)
{
        char path[64];
        uid_t uid;
        int r;

        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        r = status_uid(path, &uid);
        /* Read while the pidfd says the process lives: the PID was still its. */
        if (r == -ENOENT || !pidfd_alive(pidfd))
                return -ESRCH;
        if (r < 0)
                return r;
        *ret = uid;
        return 0;
}

int memlock_raise(int pidfd, pid_t pid, uint64_t bytes, uint64_t *ret_limit)
{
        struct rlimit old, want;

        if (prlimit(pid, RLIMIT_MEMLOCK, NULL, &old) < 0)
                return errno == ESRCH ? -ESRCH : -errno;
        want = old;
        if (want.rlim_max != RLIM_INFINITY && want.rlim_max < bytes)
                want.rlim_max = bytes;
        if (want.rlim_cur != RLIM_INFINITY && want.rlim_cur < bytes)
                want.rlim_cur = bytes;
        if (prlimit(pid, RLIMIT_MEMLOCK, &want, NULL) < 0)
                return errno == ESRCH ? -ESRCH : -errno;
        if (!pidfd_alive(pidfd)) {
                /* It exited meanwhile and its PID may be another's already:
                 * give whatever holds it now its old limit back. */
                (void)prlimit(pid, RLIMIT_MEMLOCK, &old, NULL);
                return -ESRCH;
        }
        *ret_limit = want.rlim_cur;
        return 0;
}
