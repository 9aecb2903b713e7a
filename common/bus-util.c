/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdint.h>
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

/* "the one known is 'owner'", "the known ones are 'mode', 'lifetime' and
 * 'force'" */
static void describe_known(const char *const *known, char *buf, size_t size)
{
        size_t n = 0, len;

        while (known[n])
                n++;
        len = (size_t)snprintf(buf, size, n == 1 ? "the one known is " : "the known ones are ");
        for (size_t i = 0; i < n && len < size; i++)
                len += (size_t)snprintf(buf + len, size - len, "%s'%s'", i == 0 ? "" : i + 1 == n ? " and " : ", ",
                                        known[i]);
}

static int option_key(const char *const *known, const char *key, uint32_t *seen, sd_bus_error *error)
{
        char quoted[QUOTE_BUFFER_SIZE], list[256];

        for (size_t i = 0; known[i]; i++) {
                if (!streq(known[i], key))
                        continue;
                if (*seen & (UINT32_C(1) << i))
                        return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Option '%s' is given twice.", key);
                *seen |= UINT32_C(1) << i;
                return (int)i;
        }
        describe_known(known, list, sizeof(list));
        return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown option '%s': %s.", quote_input(key, quoted),
                              list);
}

int bus_read_options(sd_bus_message *msg, const char *const *known, BusOptionReader read_value, void *userdata,
                     sd_bus_error *error)
{
        uint32_t seen = 0;
        const char *key;
        int r = sd_bus_message_enter_container(msg, 'a', "{sv}");

        while (r >= 0 && (r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
                r = sd_bus_message_read(msg, "s", &key);
                if (r >= 0)
                        r = option_key(known, key, &seen, error);
                if (r >= 0)
                        r = read_value(msg, (size_t)r, userdata, error);
                if (r >= 0)
                        r = sd_bus_message_exit_container(msg);
        }
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
