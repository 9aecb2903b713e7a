/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* Connects to the bus at address, or to the system bus when it is NULL. */
int bus_open(const char *address, sd_bus **ret);
