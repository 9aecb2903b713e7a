/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "fs-util.h"
#include "macro.h"
#include "memlock.h"

/* The line "key:\tVALUE..." of a /proc file's text: what follows the
 * colon, or NULL. */
static const char *text_field(const char *text, const char *key)
{
        size_t n = strlen(key);

        for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
                if (strncmp(line, key, n) == 0 && line[n] == ':')
                        return line + n + 1;
        return NULL;
}

/* The number of the line "key:\tVALUE" of a /proc file. */
static int proc_field(const char *path, const char *key, long *ret)
{
        _cleanup_free_ char *text = read_full_file(path);
        const char *value;

        if (!text)
                return -errno;
        value = text_field(text, key);
        if (!value)
                return -ENOENT;
        return sscanf(value, "%ld", ret) == 1 ? 0 : -EIO;
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

/* The four ids of a "Uid" or "Gid" line: one id when all four are (real,
 * effective, saved, filesystem), else -1. */
static long uniform_ids(const char *text, const char *key)
{
        unsigned long ids[4];
        const char *value = text_field(text, key);

        if (!value || sscanf(value, "%lu %lu %lu %lu", &ids[0], &ids[1], &ids[2], &ids[3]) != 4)
                return -1;
        return ids[1] == ids[0] && ids[2] == ids[0] && ids[3] == ids[0] ? (long)ids[0] : -1;
}

/* Whether pid lives in a user namespace other than vfiod's: a descendant
 * of it, where its capabilities stop (rootless podman's root). False when
 * that cannot be told: its capabilities then count. */
static bool in_other_user_namespace(pid_t pid)
{
        struct stat own, its;
        char path[64];

        snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
        return stat("/proc/self/ns/user", &own) == 0 && stat(path, &its) == 0 &&
               (own.st_ino != its.st_ino || own.st_dev != its.st_dev);
}

static int read_credentials(pid_t pid, ProcessCredentials *ret)
{
        _cleanup_free_ char *text = NULL;
        char path[64];
        const char *tgid_line, *caps;
        long tgid;

        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        text = read_full_file(path);
        if (!text)
                return errno == ENOENT ? -ESRCH : -errno;
        tgid_line = text_field(text, "Tgid");
        caps = text_field(text, "CapPrm");
        if (!tgid_line || !caps || sscanf(tgid_line, "%ld", &tgid) != 1)
                return -EIO;
        *ret = (ProcessCredentials){
                .uid = uniform_ids(text, "Uid"),
                .gid = uniform_ids(text, "Gid"),
                .thread = tgid != pid,
                /* CapPrm: 0000000000000000 when it holds none. Those of a
                 * user namespace of its own give no power over the host. */
                .capabilities = strspn(caps, "\t 0") < strcspn(caps, "\n") && !in_other_user_namespace(pid),
        };
        return 0;
}

int pidfd_get_credentials(int pidfd, pid_t pid, ProcessCredentials *ret)
{
        int r = read_credentials(pid, ret);

        /* Read while the pidfd says the process lives: the PID was still its. */
        if (r == -ESRCH || !pidfd_alive(pidfd))
                return -ESRCH;
        return r;
}

static bool same_credentials(const ProcessCredentials *a, const ProcessCredentials *b)
{
        return a->uid == b->uid && a->gid == b->gid && a->thread == b->thread && a->capabilities == b->capabilities;
}

int memlock_raise(int pidfd, pid_t pid, const ProcessCredentials *expected, uint64_t bytes, uint64_t *ret_limit)
{
        struct rlimit old, want, now;
        ProcessCredentials after;
        int r;

        if (prlimit(pid, RLIMIT_MEMLOCK, NULL, &old) < 0)
                return errno == ESRCH ? -ESRCH : -errno;
        want = old;
        if (want.rlim_max != RLIM_INFINITY && want.rlim_max < bytes)
                want.rlim_max = bytes;
        if (want.rlim_cur != RLIM_INFINITY && want.rlim_cur < bytes)
                want.rlim_cur = bytes;
        if (prlimit(pid, RLIMIT_MEMLOCK, &want, NULL) < 0)
                return errno == ESRCH ? -ESRCH : -errno;
        /* Judged before the raise, it may have become another meanwhile: an
         * exec of a set-user-ID program, an exit and its PID reused. */
        r = pidfd_get_credentials(pidfd, pid, &after);
        if (r >= 0 && same_credentials(&after, expected)) {
                *ret_limit = want.rlim_cur;
                return 0;
        }
        /* Take back what was set, and only that: whatever holds the PID now
         * keeps a limit it set itself. */
        if (prlimit(pid, RLIMIT_MEMLOCK, NULL, &now) == 0 && now.rlim_cur == want.rlim_cur &&
            now.rlim_max == want.rlim_max)
                (void)prlimit(pid, RLIMIT_MEMLOCK, &old, NULL);
        return r < 0 ? r : -ESTALE;
}
