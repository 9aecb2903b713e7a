/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* A number as vfiod (or the kernel) writes it, and nothing else: decimal
 * digits only, no sign, no space, no leading zero, at most max. -EINVAL
 * otherwise. */
int parse_canonical_u64(const char *s, uint64_t max, uint64_t *ret);
/* The same for an IOMMU group number: 0 to INT32_MAX. */
int parse_group_id(const char *s, int *ret);

/* Exactly n (at most 8) hex digits at s, in either case; -EINVAL otherwise. */
int parse_hex_fixed(const char *s, size_t n, uint32_t *ret);
/* How many hex digits s starts with. */
size_t count_hex_digits(const char *s);

/* The index of s in a table of names (NULL entries never match), or -EINVAL. */
int string_table_lookup(const char *const *table, size_t n, const char *s);

/* The clock's time in microseconds. */
uint64_t now_usec(clockid_t clock);
