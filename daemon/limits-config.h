/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* What the administrator allows, from <config dir>/limits.conf:
 *
 *   # the most RLIMIT_MEMLOCK vfiod raises a process to
 *   MemlockMax=64G
 *
 * A line that is not understood is logged with file, line and reason and
 * skipped; a missing file means the defaults. */

typedef struct Limits {
        uint64_t memlock_max; /* bytes; default: the machine's RAM */
} Limits;

void limits_load(const char *config_dir, Limits *ret);
/* One line of the file; -EINVAL with *ret_reason set when it is wrong. */
int limits_parse_line(Limits *l, const char *line, const char **ret_reason);
