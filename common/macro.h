/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Scope-bound cleanup, in the manner of systemd's own code. */

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _sentinel_ __attribute__((sentinel))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

static inline void freep(void *p)
{
        free(*(void **)p);
}

static inline void closep(int *fd)
{
        if (*fd >= 0) {
                int saved_errno = errno;
                close(*fd);
                errno = saved_errno;
        }
}
#include <stdio.h>
static inline void fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

/* Hand a pointer or fd out of a cleanup scope. */
#define TAKE_PTR(p)                                 \
        ({                                          \
                __typeof__(p) _taken_ = (p);        \
                (p) = NULL;                         \
                _taken_;                            \
        })
#define TAKE_FD(fd)                                 \
        ({                                          \
                int _taken_ = (fd);                 \
                (fd) = -1;                          \
                _taken_;                            \
        })

#include <stdbool.h>
#include <string.h>

static inline bool streq(const char *a, const char *b)
{
        return strcmp(a, b) == 0;
}

/* sysfs prints "(null)" for an unset string attribute such as driver_override. */
static inline bool streq_null(const char *s)
{
        return !s || s[0] == '\0' || streq(s, "(null)") || streq(s, "(null)\n");
}

/* Equal strings, or both NULL. */
static inline bool streq_ptr(const char *a, const char *b)
{
        return a && b ? streq(a, b) : a == b;
}

static inline const char *strna(const char *s)
{
        return s ? s : "n/a";
}

static inline const char *strempty(const char *s)
{
        return s ? s : "";
}
