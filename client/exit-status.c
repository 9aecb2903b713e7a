/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-names.h"
#include "client.h"
#include "macro.h"
#include "quote.h"

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
                                   VFIOD_ERROR_INVALID_CLAIM_ID, SD_BUS_ERROR_INVALID_ARGS))
                return CLIENT_EXIT_USAGE;
        return CLIENT_EXIT_FAILURE;
}

/* The error's name with --json, for failures vfiod did not name. */
static const char *const client_error_names[] = {
        [CLIENT_EXIT_FAILURE] = "io.github.vfiod1.Client.Failed",
        [CLIENT_EXIT_USAGE] = "io.github.vfiod1.Client.Usage",
        [CLIENT_EXIT_NOT_AUTHORIZED] = "io.github.vfiod1.Client.NotAuthorized",
        [CLIENT_EXIT_BUSY] = "io.github.vfiod1.Client.Busy",
        [CLIENT_EXIT_NOT_FOUND] = "io.github.vfiod1.Client.NotFound",
};

void client_report(Client *c, ClientExit status, const char *name, const char *message)
{
        c->failure_exit = status;
        if (c->hold_error) {
                free(c->held_error_name);
                free(c->held_error_message);
                c->held_error_name = strdup(name ? name : client_error_names[status]);
                c->held_error_message = strdup(message);
                return;
        }
        if (c->json) {
                /* One object on stdout, and nothing on stderr: scripts
                 * branch on the name, people read the message. */
                fputs("{\"error\":", stdout);
                json_string(stdout, name ? name : client_error_names[status]);
                fputs(",\"message\":", stdout);
                json_string(stdout, message);
                printf(",\"exit_status\":%d}\n", status);
                fflush(stdout);
                return;
        }
        fprintf(stderr, "vfioctl-client: %s%s\n", message,
                status == CLIENT_EXIT_USAGE ? " See 'vfioctl-client --help'." : "");
}

int client_fail(Client *c, ClientExit status, const char *fmt, ...)
{
        static const int errors[] = {
                [CLIENT_EXIT_FAILURE] = -EIO,   [CLIENT_EXIT_USAGE] = -EINVAL, [CLIENT_EXIT_NOT_AUTHORIZED] = -EPERM,
                [CLIENT_EXIT_BUSY] = -EBUSY,    [CLIENT_EXIT_NOT_FOUND] = -ENOENT,
        };
        _cleanup_free_ char *message = NULL, *printable = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&message, fmt, ap) < 0)
                message = NULL;
        va_end(ap);
        /* The message may quote the command line, which may be anything:
         * it goes out printable and valid UTF-8 (JSON must be), what vfiod
         * escaped already left as it is. */
        if (message)
                printable = sendable_text(message);
        client_report(c, status, NULL, printable ? printable : fmt);
        return errors[status];
}
