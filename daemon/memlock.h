/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/* Raising RLIMIT_MEMLOCK of a caller's process, which VFIO needs to pin a
 * guest's memory, without ever hitting another process that got the same
 * PID: the process must have started before started_before_usec
 * (CLOCK_BOOTTIME, taken when its request arrived), is pinned by a pidfd,
 * and after the change the pidfd must still be alive, or the change is
 * undone on whatever holds the PID now.
 *
 * Soft and hard limit go up to bytes; a limit already that high stays.
 * *ret_limit: the soft limit in force afterwards. -ESRCH: the process is
 * gone. */
int memlock_raise(pid_t pid, uint64_t started_before_usec, uint64_t bytes, uint64_t *ret_limit);
