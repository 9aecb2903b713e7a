/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "first-reason.h"

void first_reason_set(FirstReason *r, const char *fmt, ...)
{
        va_list ap;

        if (r->set)
                return;
        r->set = true;
        va_start(ap, fmt);
        if (vasprintf(&r->text, fmt, ap) < 0)
                r->text = NULL;
        va_end(ap);
}

const char *first_reason_text(const FirstReason *r)
{
        if (!r->set)
                return NULL;
        return r->text ? r->text : "vfiod ran out of memory";
}

void first_reason_done(FirstReason *r)
{
        free(r->text);
        *r = (FirstReason){};
}
