/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "size.h"

static const char units[] = "KMGTPE";

static int unit_shift(const char *suffix, unsigned *ret)
{
        const char *u;

        if (*suffix == '\0' || streq(suffix, "B")) {
                *ret = 0;
                return 0;
        }
        u = strchr(units, suffix[0]);
        if (!u || suffix[0] == '\0')
                return -EINVAL;
        if (suffix[1] != '\0' && !streq(suffix + 1, "iB") && !streq(suffix + 1, "B"))
                return -EINVAL;
        *ret = 10 * (unsigned)(u - units + 1);
        return 0;
}

int parse_size(const char *s, uint64_t *ret)
{
        char *end;
        double v;
        unsigned shift;

        /* Digits first: strtod alone would take "inf", "0x10" or "-1". */
        if (*s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtod(s, &end);
        if (errno != 0 || end == s || unit_shift(end, &shift) < 0)
                return -EINVAL;
        v = ldexp(v, (int)shift);
        if (v >= 18446744073709551616.0)
                return -ERANGE;
        if (shift == 0 && v != floor(v))
                return -EINVAL; /* a fraction of a byte */
        *ret = (uint64_t)v;
        return 0;
}

const char *format_size(uint64_t bytes, char buf[static SIZE_STRING_MAX])
{
        unsigned i = 0;
        double v = (double)bytes;

        while (v >= 1024 && i < sizeof(units) - 1) {
                v /= 1024;
                i++;
        }
        if (i == 0)
                snprintf(buf, SIZE_STRING_MAX, "%" PRIu64 " B", bytes);
        else
                snprintf(buf, SIZE_STRING_MAX, "%.*f %ciB", v == floor(v) ? 0 : 1, v, units[i - 1]);
        return buf;
}
