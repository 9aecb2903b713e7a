/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* A number as vfiod writes it, and nothing else: decimal digits only, no
 * sign, no space, no leading zero, at most max. -EINVAL otherwise. */
int parse_canonical_u64(const char *s, uint64_t max, uint64_t *ret);
