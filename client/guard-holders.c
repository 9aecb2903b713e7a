/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs-util.h"
#include "guard-holders.h"
#include "macro.h"

int guard_link(int fd, char **ret)
{
        char path[32], target[PATH_MAX];
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        n = readlink(path, target, sizeof(target) - 1);
        if (n < 0)
                return -errno;
        target[n] = '\0';
        *ret = strdup(target);
        return *ret ? 0 : -ENOMEM;
}

/* Whether one of the fds below /proc/PID/fd links to link; a process whose
 * fds cannot be read (another user's, or gone) holds nothing seen. */
static bool holds(int proc_fd, const char *pid, const char *link)
{
        char path[32], target[PATH_MAX];
        struct dirent *de;
        bool found = false;
        DIR *fds;

        snprintf(path, sizeof(path), "%s/fd", pid);
        if (open_dir_at(proc_fd, path, &fds) < 0)
                return false;
        while (!found && read_dir_entry(fds, &de) > 0) {
                ssize_t n = readlinkat(dirfd(fds), de->d_name, target, sizeof(target) - 1);
                if (n < 0)
                        continue;
                target[n] = '\0';
                found = streq(target, link);
        }
        closedir(fds);
        return found;
}

int guard_find_holder(const char *link, pid_t *ret_pid)
{
        struct dirent *de;
        DIR *proc;
        int r;

        r = open_dir_at(AT_FDCWD, "/proc", &proc);
        if (r < 0)
                return r;
        while ((r = read_dir_entry(proc, &de)) > 0) {
                char *end;
                long pid = strtol(de->d_name, &end, 10);
                if (*end != '\0' || pid <= 0 || pid == getpid() || !holds(dirfd(proc), de->d_name, link))
                        continue;
                *ret_pid = (pid_t)pid;
                r = 1;
                break;
        }
        closedir(proc);
        return r;
}
