/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "manager.h"

/* The Lease objects (bus-lease.c). */

int bus_lease_register(Manager *m);
int bus_lease_path(const Lease *l, char **ret);
void bus_emit_lease_added(Manager *m, const Lease *l);
void bus_emit_lease_released(Manager *m, const Lease *l, const char *reason);
/* Ends the lease if the sender may: its owner, root, or release-any. */
int bus_release_lease(Manager *m, sd_bus_message *msg, Lease *l, sd_bus_error *error);
