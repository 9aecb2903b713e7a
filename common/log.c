/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

static int max_level = LOG_INFO;

void log_set_max_level(int level)
{
        max_level = level;
}

void log_full(int level, const char *fmt, ...)
{
        static int to_journal = -1;
        va_list ap;

        if (level > max_level)
                return;
        if (to_journal < 0)
                to_journal = getenv("JOURNAL_STREAM") != NULL;
        if (to_journal)
                fprintf(stderr, "<%d>", level);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}
