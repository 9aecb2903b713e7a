/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* Who on the host uses a PCI device: the safety rails of a claim
 * (DESIGN.md §4). Reads sysfs and procfs and may take milliseconds: call it
 * from a worker. */

typedef enum DeviceUse {
        DEVICE_USE_NONE,
        DEVICE_USE_BUSY,          /* processes hold its device nodes open */
        DEVICE_USE_HOST_CRITICAL, /* the host itself needs it */
} DeviceUse;

/* Checks the functions about to leave their host drivers. *ret_reason is a
 * sentence naming each device and what uses it (for busy nodes the PIDs
 * and commands), or NULL when the use is DEVICE_USE_NONE. */
int device_use_check(char *const *addresses, size_t n, DeviceUse *ret_use, char **ret_reason);
