/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "fuzz-world.h"

/* Fuzz input read as calls to the daemon: each a method or property, its
 * caller, polkit's answer, what the machine does meanwhile, and the
 * arguments (mostly picked from what the machine and earlier answers
 * have, sometimes raw bytes). */

typedef struct FuzzInput {
        const uint8_t *data;
        size_t size;
} FuzzInput;

/* Makes one call of the input and checks its answer. */
void fuzz_call(FuzzWorld *w, FuzzInput *in);

/* After an input: every caller leaves, root takes back reservations and
 * releases what is left, and every device must then be where it started.
 * Aborts when the daemon does not come to rest. */
void fuzz_settle(FuzzWorld *w);
