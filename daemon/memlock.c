/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fs-util.h"
#include "macro.h"
#include "memlock.h"

/* When the process started, in CLOCK_BOOTTIME microseconds. */
static int process_start_usec(pid_t pid, uint64_t *ret)
{
        char path[64];
        _cleanup_free_ char *stat = NULL;
        const char *p;
        unsigned long long ticks;
        long hz = sysconf(_SC_CLK_TCK);

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        stat = read_full_file(path);
        if (!stat)
                return errno == ENOENT ? -ESRCH : -errno;
        /* The command may hold spaces and parentheses: fields count from
         * the last ')'. starttime is field 22, the 20th after it. */
        p = strrchr(stat, ')');
        if (!p)
                return -EIO;
        for (int field = 0; field < 20; field++) {
                p = strchr(p + 1, ' ');
                if (!p)
                        return -EIO;
        }
        if (sscanf(p + 1, "%llu", &ticks) != 1 || hz <= 0)
                return -EIO;
        *ret = ticks * (1000000ULL / (unsigned long long)hz);
        return 0;
}

static bool pidfd_alive(int pidfd)
{
        struct pollfd p = { .fd = pidfd, .events = POLLIN };
        return poll(&p, 1, 0) == 0;
}

int memlock_raise(pid_t pid, uint64_t started_before_usec, uint64_t bytes, uint64_t *ret_limit)
{
        _cleanup_close_ int pidfd = -1;
        struct rlimit old, want;
        uint64_t start = 0; /* process_start_usec() sets it; gcc -O2 cannot tell */
        int r;

        pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0)
                return -errno;
        /* Pinned now: this PID means this process until the pidfd says it
         * died. It must be the caller, who existed when the request came. */
        r = process_start_usec(pid, &start);
        if (r < 0)
                return r;
        if (start > started_before_usec)
                return -ESRCH;
        if (prlimit(pid, RLIMIT_MEMLOCK, NULL, &old) < 0)
                return -errno;
        want = old;
        if (want.rlim_max != RLIM_INFINITY && want.rlim_max < bytes)
                want.rlim_max = bytes;
        if (want.rlim_cur != RLIM_INFINITY && want.rlim_cur < bytes)
                want.rlim_cur = bytes;
        if (prlimit(pid, RLIMIT_MEMLOCK, &want, NULL) < 0)
                return -errno;
        if (!pidfd_alive(pidfd)) {
                /* It died meanwhile and the PID may be another's already:
                 * give whatever is there its old limit back. */
                (void)prlimit(pid, RLIMIT_MEMLOCK, &old, NULL);
                return -ESRCH;
        }
        *ret_limit = want.rlim_cur;
        return 0;
}
