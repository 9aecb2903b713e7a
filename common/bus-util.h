/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "macro.h"
#include "strv.h"

#include <systemd/sd-bus.h>

/* Connects to the bus at address, or to the system bus when it is NULL. */
int bus_open(const char *address, sd_bus **ret);

/* Objects under prefix with one interface: a fallback vtable whose find
 * callback picks the object, and the enumerator that lists them. */
int bus_add_object_tree(sd_bus *bus, const char *prefix, const char *interface, const sd_bus_vtable *vtable,
                        sd_bus_object_find_t find, sd_bus_node_enumerator_t enumerate, void *userdata);

/* Ends a reply built as one array, and sends it. */
int bus_close_and_send(sd_bus_message *reply);

/* An a{sv} of options kept for the future, which must be empty for now;
 * InvalidArgs naming method otherwise. */
int bus_read_no_options(sd_bus_message *msg, const char *method, sd_bus_error *error);

/* sd_bus_error_setf() and sd_bus_reply_method_errorf() for every error vfiod
 * sends: the text made printable and valid UTF-8 (sendable_text()), for it
 * may name what the host or a caller chose (a process, a mount point), and a
 * message that is not UTF-8 is never sent, leaving its caller waiting. A
 * part already quoted (quote_input()) is not escaped twice. */
int bus_error_setf(sd_bus_error *error, const char *name, const char *fmt, ...) _printf_(3, 4);
int bus_reply_errorf(sd_bus_message *call, const char *name, const char *fmt, ...) _printf_(3, 4);
