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

/* Reads the value of option known[key] (msg is at its variant). */
typedef int (*BusOptionReader)(sd_bus_message *msg, size_t key, void *userdata, sd_bus_error *error);
/* An a{sv} of options whose keys are among known (NULL-terminated, at most
 * 32), each at most once, each value read by read_value: a key not known,
 * or given twice, is InvalidArgs, so that a misspelt option never silently
 * does nothing and of two values for one key neither silently wins. */
int bus_read_options(sd_bus_message *msg, const char *const *known, BusOptionReader read_value, void *userdata,
                     sd_bus_error *error);

/* sd_bus_error_setf() and sd_bus_reply_method_errorf() for every error vfiod
 * sends: the text made printable and valid UTF-8 (sendable_text()), for it
 * may name what the host or a caller chose (a process, a mount point), and a
 * message that is not UTF-8 is never sent, leaving its caller waiting. A
 * part already quoted (quote_input()) is not escaped twice. */
int bus_error_setf(sd_bus_error *error, const char *name, const char *fmt, ...) _printf_(3, 4);
int bus_reply_errorf(sd_bus_message *call, const char *name, const char *fmt, ...) _printf_(3, 4);
