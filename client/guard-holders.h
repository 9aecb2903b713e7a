/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

/* Who else holds a lease's guard fd: once its command has ended, a lease
 * that lives on is held either by a process the command left behind (a
 * daemon it forked), or by nobody yet noticed by vfiod, which on a loaded
 * host may take a while. The guard is known by its link in /proc/PID/fd
 * (a FIFO of vfiod's): comparing links never enters a filesystem. */

/* fd's link (/proc/self/fd/FD), to find it in other processes by. */
int guard_link(int fd, char **ret);

/* The first process but this one found holding a file whose link is link:
 * 1 with *ret_pid, 0 when none is seen. Only the fds of processes this one
 * may read are seen (its user's), so 0 does not prove that nobody holds
 * it. */
int guard_find_holder(const char *link, pid_t *ret_pid);
