/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdio.h>

#include "macro.h"

/* How much the host needs a device, in rising order: a check's verdict is
 * the highest it found. */
typedef enum DeviceUse {
        DEVICE_USE_NONE,
        DEVICE_USE_BUSY,          /* something uses it: claimed only with force */
        DEVICE_USE_HOST_CRITICAL, /* the host itself needs it: force needs claim-host-critical */
        DEVICE_USE_PLATFORM,      /* a platform function: never moves, whoever asks */
        _DEVICE_USE_MAX,
} DeviceUse;

/* The reasons found so far, one sentence list per level. */
typedef struct UseReport {
        FILE *out[_DEVICE_USE_MAX];
        char *text[_DEVICE_USE_MAX];
        size_t size[_DEVICE_USE_MAX];
        size_t count[_DEVICE_USE_MAX];
} UseReport;

int use_report_init(UseReport *u);
void use_report_add(UseReport *u, DeviceUse use, const char *fmt, ...) _printf_(3, 4);
/* The verdict and its reasons ("a; b"), which the caller frees; NULL for
 * DEVICE_USE_NONE. Frees everything else. */
DeviceUse use_report_finish(UseReport *u, char **ret_reason);
