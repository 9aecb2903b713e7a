/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>

#include "use-report.h"

int use_report_init(UseReport *u)
{
        *u = (UseReport){};
        for (DeviceUse i = DEVICE_USE_BUSY; i < _DEVICE_USE_MAX; i++)
                if (!(u->out[i] = open_memstream(&u->text[i], &u->size[i])))
                        return -ENOMEM;
        return 0;
}

void use_report_add(UseReport *u, DeviceUse use, const char *fmt, ...)
{
        va_list ap;

        if (use == DEVICE_USE_NONE || !u->out[use])
                return;
        if (u->count[use]++ > 0)
                fputs("; ", u->out[use]);
        va_start(ap, fmt);
        vfprintf(u->out[use], fmt, ap);
        va_end(ap);
}

DeviceUse use_report_finish(UseReport *u, char **ret_reason)
{
        DeviceUse verdict = DEVICE_USE_NONE;

        for (DeviceUse i = DEVICE_USE_BUSY; i < _DEVICE_USE_MAX; i++) {
                if (u->out[i])
                        fclose(u->out[i]);
                if (u->count[i] > 0)
                        verdict = i;
        }
        *ret_reason = NULL;
        for (DeviceUse i = DEVICE_USE_BUSY; i < _DEVICE_USE_MAX; i++) {
                if (i == verdict)
                        *ret_reason = u->text[i];
                else
                        free(u->text[i]);
        }
        *u = (UseReport){};
        return verdict;
}
