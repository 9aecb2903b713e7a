/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* NULL-terminated arrays of strings. */

void strv_free(char **l);
/* Appends s (taken over; NULL counts as out of memory) to *l, which has *n
 * entries and stays NULL-terminated. */
int strv_push(char ***l, size_t *n, char *s);
/* Whether the first n entries of l hold s. */
bool strv_contains(char *const *l, size_t n, const char *s);
