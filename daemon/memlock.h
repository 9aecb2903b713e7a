/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/* Raising RLIMIT_MEMLOCK of a process, which VFIO needs to pin a guest's
 * memory. The process is named by a pidfd, never by a bare PID: a PID is
 * only used while the pidfd shows its process alive, so it cannot have
 * passed to another. */

/* The PID (in vfiod's PID namespace) of the process pidfd refers to: from
 * /proc/self/fdinfo. -EBADF when fd is no pidfd, -ESRCH when its process
 * has exited. */
int pidfd_get_pid(int pidfd, pid_t *ret);

/* The uid of the process pidfd refers to, whose PID pidfd_get_pid() gave:
 * read while the pidfd shows it alive, so the PID was still its. -EPERM
 * when its uids differ (real, effective, saved, filesystem: a set-user-ID
 * program), which has no one uid to be judged by. */
int pidfd_get_uid(int pidfd, pid_t pid, uid_t *ret);

/* Soft and hard limit of the process of pidfd (PID pid, from
 * pidfd_get_pid()) up to bytes; a limit already that high stays.
 * *ret_limit: the soft limit in force afterwards. -ESRCH: the process is
 * gone (a limit set on its PID meanwhile is undone). */
int memlock_raise(int pidfd, pid_t pid, uint64_t bytes, uint64_t *ret_limit);
