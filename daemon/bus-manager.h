/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "manager.h"

/* The Manager object on the bus (bus-manager.c). */

int bus_manager_register(Manager *m);
/* Serves a started Manager: its objects, its signals (ManagerEvents), its
 * name, with polkit for authorization; then tells systemd it is ready. */
int bus_manager_serve(Manager *m);
/* Frees what bus_manager_serve() made (also after it failed), before
 * manager_free(). */
void bus_manager_stop(Manager *m);
/* Normalises a caller's address and finds the device, or sets the error a
 * user can act on. */
int bus_lookup_device(Manager *m, const char *input, Device **ret, sd_bus_error *error);

/* In a property getter of an object found by a fallback vtable, whose own
 * userdata is the device or group: the Manager the vtable was registered
 * with. */
static inline Manager *bus_current_manager(sd_bus *bus)
{
        return sd_bus_slot_get_userdata(sd_bus_get_current_slot(bus));
}
