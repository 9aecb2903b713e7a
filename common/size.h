/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Sizes as people write them: "268435456", "256M", "1.5G", "16GiB";
 * K, M, G, T are powers of 1024. -EINVAL or -ERANGE otherwise. */
int parse_size(const char *s, uint64_t *ret);

/* "256 MiB", "1.5 GiB": for messages. */
#define SIZE_STRING_MAX 32
const char *format_size(uint64_t bytes, char buf[static SIZE_STRING_MAX]);
