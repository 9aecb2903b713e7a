/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "macro.h"

/* PropertiesChanged, gathered: a claim's end changes a device's driver,
 * its state and its group's state at once, and the lease that follows
 * changes them again. Each object's changed properties are collected and
 * go out in one signal per object once the event loop has handled what
 * is pending, instead of one signal for every change. */

typedef struct BusChanges BusChanges;

int bus_changes_new(sd_event *event, sd_bus *bus, BusChanges **ret);
BusChanges *bus_changes_free(BusChanges *c);

/* Notes that the properties, a NULL-terminated list of names that must
 * outlive the call (string literals), changed on path's interface. */
void bus_changes_add(BusChanges *c, const char *path, const char *interface, ...) _sentinel_;
/* The object at path is gone: nothing more to tell of it. */
void bus_changes_forget(BusChanges *c, const char *path);
