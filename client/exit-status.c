/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

#include "bus-names.h"
#include "client.h"

/* What a failure makes vfioctl-client exit with, so that scripts can tell
 * "you may not" from "not now" from "no such thing" without reading the
 * message (vfioctl-client(1), EXIT STATUS). */

int client_exit_for_error(const sd_bus_error *e)
{
        if (sd_bus_error_has_names(e, VFIOD_ERROR_NOT_AUTHORIZED, SD_BUS_ERROR_ACCESS_DENIED,
                                   SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED))
                return CLIENT_EXIT_NOT_AUTHORIZED;
        if (sd_bus_error_has_names(e, VFIOD_ERROR_GROUP_BUSY, VFIOD_ERROR_DEVICE_BUSY, VFIOD_ERROR_HOST_CRITICAL))
                return CLIENT_EXIT_BUSY;
        if (sd_bus_error_has_names(e, VFIOD_ERROR_NO_SUCH_DEVICE, VFIOD_ERROR_NO_SUCH_GROUP, VFIOD_ERROR_NOT_CLAIMED,
                                   VFIOD_ERROR_NO_SUCH_RESERVATION, VFIOD_ERROR_NO_SUCH_PROCESS))
                return CLIENT_EXIT_NOT_FOUND;
        if (sd_bus_error_has_names(e, VFIOD_ERROR_INVALID_ADDRESS, VFIOD_ERROR_INVALID_MATCH,
                                   SD_BUS_ERROR_INVALID_ARGS))
                return CLIENT_EXIT_USAGE;
        return CLIENT_EXIT_FAILURE;
}

int client_fail(Client *c, ClientExit status, const char *fmt, ...)
{
        static const int errors[] = {
                [CLIENT_EXIT_FAILURE] = -EIO,   [CLIENT_EXIT_USAGE] = -EINVAL, [CLIENT_EXIT_NOT_AUTHORIZED] = -EPERM,
                [CLIENT_EXIT_BUSY] = -EBUSY,    [CLIENT_EXIT_NOT_FOUND] = -ENOENT,
        };
        va_list ap;

        c->failure_exit = status;
        fputs("vfioctl-client: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        if (status == CLIENT_EXIT_USAGE)
                fputs(" See 'vfioctl-client --help'.", stderr);
        fputc('\n', stderr);
        return errors[status];
}
