/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* RaiseMemlockLimit (bus-memlock.c). */

int bus_method_raise_memlock_limit(sd_bus_message *msg, void *userdata, sd_bus_error *error);
