/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "bus-util.h"
#include "macro.h"
#include "quote.h"

int bus_open(const char *address, sd_bus **ret)
{
        _cleanup_(sd_bus_unrefp) sd_bus *bus = NULL;
        int r;

        if (!address)
                return sd_bus_open_system(ret);
        r = sd_bus_new(&bus);
        if (r < 0)
                return r;
        if ((r = sd_bus_set_address(bus, address)) < 0 || (r = sd_bus_set_bus_client(bus, true)) < 0 ||
            (r = sd_bus_start(bus)) < 0)
                return r;
        *ret = TAKE_PTR(bus);
        return 0;
}

int bus_add_object_tree(sd_bus *bus, const char *prefix, const char *interface, const sd_bus_vtable *vtable,
                        sd_bus_object_find_t find, sd_bus_node_enumerator_t enumerate, void *userdata)
{
        int r = sd_bus_add_fallback_vtable(bus, NULL, prefix, interface, vtable, find, userdata);

        return r < 0 ? r : sd_bus_add_node_enumerator(bus, NULL, prefix, enumerate, userdata);
}

int bus_read_no_options(sd_bus_message *msg, const char *method, sd_bus_error *error)
{
        int r = sd_bus_message_enter_container(msg, 'a', "{sv}");

        if (r >= 0 && (r = sd_bus_message_at_end(msg, false)) == 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "%s knows no options yet.", method);
        return r < 0 ? r : sd_bus_message_exit_container(msg);
}

int bus_close_and_send(sd_bus_message *reply)
{
        int r = sd_bus_message_close_container(reply);
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

_printf_(3, 0) static int bus_error_setv(sd_bus_error *error, const char *name, const char *fmt, va_list ap)
{
        _cleanup_free_ char *text = NULL, *printable = NULL;

        if (vasprintf(&text, fmt, ap) >= 0)
                printable = sendable_text(text);
        /* Without its text the error is still sent, and still means what it says. */
        return sd_bus_error_set(error, name, printable);
}

int bus_error_setf(sd_bus_error *error, const char *name, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = bus_error_setv(error, name, fmt, ap);
        va_end(ap);
        return r;
}

int bus_reply_errorf(sd_bus_message *call, const char *name, const char *fmt, ...)
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        va_list ap;

        va_start(ap, fmt);
        (void)bus_error_setv(&error, name, fmt, ap);
        va_end(ap);
        return sd_bus_reply_method_error(call, &error);
}
