/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "macro.h"

/* Why something could not be proven, when the first reason is the one
 * worth telling. Once set it stays set, even when its text could not be
 * allocated: a check that failed must not pass for lack of memory. */
typedef struct FirstReason {
        bool set;
        char *text;
} FirstReason;

void first_reason_set(FirstReason *r, const char *fmt, ...) _printf_(2, 3);
/* The text, or a stand-in when it could not be allocated; NULL when unset. */
const char *first_reason_text(const FirstReason *r);
void first_reason_done(FirstReason *r);
