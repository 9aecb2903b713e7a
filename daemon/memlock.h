/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
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

/* Who a process is, for deciding whose limit may be raised. */
typedef struct ProcessCredentials {
        long uid, gid;     /* -1 when its four ids differ (a set-user-ID program) */
        bool thread;       /* a thread, not a process (a PIDFD_THREAD pidfd) */
        bool capabilities; /* any permitted capability, but those of a user namespace of its own */
} ProcessCredentials;

/* The credentials of the process pidfd refers to, whose PID
 * pidfd_get_pid() gave: read while the pidfd shows it alive, so the PID was
 * still its. -ESRCH when it has exited. */
int pidfd_get_credentials(int pidfd, pid_t pid, ProcessCredentials *ret);

/* Soft and hard limit of the process of pidfd (PID pid, from
 * pidfd_get_pid()) up to bytes; a limit already that high stays.
 * *ret_limit: the soft limit in force afterwards. The process must still
 * have the credentials it was judged by (expected) once raised, else the
 * raise is taken back: -ESTALE when they changed, -ESRCH when it is gone. */
int memlock_raise(int pidfd, pid_t pid, const ProcessCredentials *expected, uint64_t bytes, uint64_t *ret_limit);
