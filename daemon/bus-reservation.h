/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* Reserve, Unreserve, ListReservations (bus-reservation.c). */

int bus_method_reserve(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int bus_method_unreserve(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int bus_method_list_reservations(sd_bus_message *msg, void *userdata, sd_bus_error *error);
