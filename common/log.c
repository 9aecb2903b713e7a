/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static int max_level = LOG_INFO;

void log_set_max_level(int level)
{
        max_level = level;
}

_printf_(2, 0) static void log_va(int level, const char *fmt, va_list ap, const char *suffix)
{
        static int to_journal = -1;

        if (level > max_level)
                return;
        if (to_journal < 0)
                to_journal = getenv("JOURNAL_STREAM") != NULL;
        if (to_journal)
                fprintf(stderr, "<%d>", level);
        vfprintf(stderr, fmt, ap);
        if (suffix)
                fprintf(stderr, ": %s", suffix);
        fputc('\n', stderr);
}

void log_full(int level, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        log_va(level, fmt, ap, NULL);
        va_end(ap);
}

int log_full_errno(int level, int error, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        log_va(level, fmt, ap, strerror(error < 0 ? -error : error));
        va_end(ap);
        return error;
}
