/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

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
