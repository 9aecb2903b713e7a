/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-device.h>
#include <systemd/sd-event.h>

/* The kernel's uevents of one subsystem ("pci", "vfio"), as udev has
 * processed them, delivered to handler on the event loop. *ret may be NULL
 * on success: a machine without uevents (the fuzz target's fake) sends
 * none. */
int uevent_monitor_start(sd_event *event, const char *subsystem, sd_device_monitor_handler_t handler,
                         void *userdata, sd_device_monitor **ret);
