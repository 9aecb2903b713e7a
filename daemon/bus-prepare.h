/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* The Manager's methods for orchestrators (bus-prepare.c): Prepare,
 * Unprepare and ListPrepared, on top of manager-prepared.c. */

int bus_method_prepare(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int bus_method_unprepare(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int bus_method_list_prepared(sd_bus_message *msg, void *userdata, sd_bus_error *error);
