/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "storage-use.h"
#include "use-report.h"

/* Who on the host uses the PCI functions of a group about to move: the one
 * place that decides which devices a claim refuses (docs/safety.md). It
 * asks the kernel (exclusive opens, holders, routes, the transports'
 * users) and fails safe: what it cannot prove unused is in use. Reads
 * sysfs, procfs and netlink and may take a while: call it from a worker. */

typedef enum DeviceUseScope {
        DEVICE_USE_SCOPE_ALL,      /* every rule */
        DEVICE_USE_SCOPE_PLATFORM, /* only what never moves: a forced claim */
} DeviceUseScope;

/* *ret_reason is a sentence naming each device and what uses it (for busy
 * nodes the PIDs and commands), or NULL when the use is DEVICE_USE_NONE.
 * ret_holds, when not NULL and the use is DEVICE_USE_NONE, gets the disks
 * below the functions held exclusively (storage-use.h): the caller
 * releases them once the functions have left their drivers. */
/* node_patterns, when not NULL, has for each address the device nodes
 * (glob patterns) that its driver's hand-off profile names beyond the
 * device's own: a process that holds one makes the device busy. */
int device_use_check(char *const *addresses, char **const *node_patterns, size_t n, DeviceUseScope scope,
                     DiskHolds *ret_holds, DeviceUse *ret_use, char **ret_reason);

/* The processes that device_use_check() would find holding a node that
 * makes a device busy (not a node the host needs, such as the boot VGA's
 * display node), each once: those a profile's AskHolders= may ask to close
 * it. *ret is malloc'ed. */
int device_use_busy_holders(char *const *addresses, char **const *node_patterns, size_t n, pid_t **ret,
                            size_t *ret_n);
