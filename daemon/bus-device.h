/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "manager.h"

/* The Device objects, and the signals of what changes on them and their
 * groups (bus-device.c). */

int bus_device_register(Manager *m);
int bus_device_path(const Device *d, char **ret);
/* Signals what a change of the device model means on the bus. */
void bus_emit_model_change(Manager *m, ModelChange change, void *object);
/* Signals a change of a group's claim: its state, step, and its devices'. */
void bus_emit_claim_change(Manager *m, int group);
