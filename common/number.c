/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "number.h"

int parse_canonical_u64(const char *s, uint64_t max, uint64_t *ret)
{
        unsigned long long v;
        char *end;

        if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] != '\0'))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || *end != '\0' || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

static int hex_digit(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int parse_hex_fixed(const char *s, size_t n, uint32_t *ret)
{
        uint32_t v = 0;

        if (n == 0 || n > 8)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                int d = hex_digit(s[i]);
                if (d < 0)
                        return -EINVAL;
                v = (v << 4) | (uint32_t)d;
        }
        *ret = v;
        return 0;
}

size_t count_hex_digits(const char *s)
{
        size_t n = 0;

        while (hex_digit(s[n]) >= 0)
                n++;
        return n;
}

int parse_group_id(const char *s, int *ret)
{
        uint64_t v;
        int r = parse_canonical_u64(s, INT32_MAX, &v);

        if (r >= 0)
                *ret = (int)v;
        return r;
}

int string_table_lookup(const char *const *table, size_t n, const char *s)
{
        for (size_t i = 0; i < n; i++)
                if (table[i] && strcmp(table[i], s) == 0)
                        return (int)i;
        return -EINVAL;
}

uint64_t now_usec(clockid_t clock)
{
        struct timespec ts;

        clock_gettime(clock, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}
