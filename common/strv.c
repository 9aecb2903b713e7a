/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"

void strv_free(char **l)
{
        for (char **s = l; s && *s; s++)
                free(*s);
        free(l);
}

int strv_push(char ***l, size_t *n, char *s)
{
        char **a;

        if (!s)
                return -ENOMEM;
        a = reallocarray(*l, *n + 2, sizeof(char *));
        if (!a) {
                free(s);
                return -ENOMEM;
        }
        a[(*n)++] = s;
        a[*n] = NULL;
        *l = a;
        return 0;
}

bool strv_contains(char *const *l, size_t n, const char *s)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(l[i], s) == 0)
                        return true;
        return false;
}
