/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* Most lines fit; a longer one is formatted again on the heap. */
#define LOG_LINE_STACK 1024

static int max_level = LOG_INFO;

void log_set_max_level(int level)
{
        max_level = level;
}

/* Whether stderr is journald's: read once, by whichever thread logs first
 * (each would read the same). */
static bool to_journal(void)
{
        static int cached = -1;
        int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);

        if (v < 0) {
                v = getenv("JOURNAL_STREAM") != NULL;
                __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
        }
        return v;
}

static void write_all(const char *p, size_t n)
{
        while (n > 0) {
                ssize_t k = write(STDERR_FILENO, p, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return; /* nowhere to tell of it */
                p += k;
                n -= (size_t)k;
        }
}

/* "<N>" when journald reads it, the message, ": suffix": its length, as
 * snprintf() tells (the line is cut when size is less), or -1. size holds
 * the prefix at least. */
_printf_(4, 0) static int format_line(char *buf, size_t size, int level, const char *fmt, va_list ap,
                                      const char *suffix)
{
        int prefix = to_journal() ? snprintf(buf, size, "<%d>", level) : 0;
        int message = vsnprintf(buf + prefix, size - (size_t)prefix, fmt, ap);
        size_t end = (size_t)prefix + (size_t)message;

        if (message < 0)
                return -1;
        if (!suffix)
                return prefix + message;
        if (end >= size)
                end = size - 1; /* the message was cut: its NUL is last */
        return prefix + message + snprintf(buf + end, size - end, ": %s", suffix);
}

/* The whole line in one write: worker threads log too, and a line written
 * in pieces could be cut by another's (journald would then read one line's
 * "<N>" as text of another's). A pipe keeps a write of up to PIPE_BUF
 * (4 KiB) whole, and a stream socket one that fits a single buffer; a
 * longer line may still be cut, as any writer's may. */
_printf_(2, 0) static void write_line(int level, const char *fmt, va_list ap, const char *suffix)
{
        char stack_line[LOG_LINE_STACK];
        _cleanup_free_ char *heap_line = NULL;
        char *line = stack_line;
        va_list copy;
        int n;

        va_copy(copy, ap);
        n = format_line(stack_line, sizeof(stack_line), level, fmt, copy, suffix);
        va_end(copy);
        if (n < 0)
                return;
        if ((size_t)n >= sizeof(stack_line)) {
                /* Longer than most: once more, on the heap; cut short when
                 * there is no memory for it. */
                heap_line = malloc((size_t)n + 1);
                if (heap_line && format_line(heap_line, (size_t)n + 1, level, fmt, ap, suffix) == n)
                        line = heap_line;
                else
                        n = sizeof(stack_line) - 1;
        }
        line[n] = '\n'; /* over the closing NUL: the line is written by its length */
        write_all(line, (size_t)n + 1);
}

_printf_(2, 0) static void log_va(int level, const char *fmt, va_list ap, const char *suffix)
{
        int saved_errno = errno; /* a caller may log, then read errno */

        if (level <= max_level)
                write_line(level, fmt, ap, suffix);
        errno = saved_errno;
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
