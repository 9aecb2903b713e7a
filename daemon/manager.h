/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "device-model.h"

typedef struct ManagerOptions {
        const char *bus_address; /* NULL: the system bus */
        uint64_t idle_timeout_usec; /* 0: never exit when idle */
} ManagerOptions;

/* The daemon: its event loop, its bus connection and what it serves. */
typedef struct Manager {
        const char *version;  /* served as properties */
        uint32_t api_version;
        sd_event *event;
        sd_bus *bus;
        DeviceModel *model;
        sd_event_source *idle_timer;
        uint64_t idle_timeout_usec;
} Manager;

int manager_new(const ManagerOptions *options, Manager **ret);
Manager *manager_free(Manager *m);
static inline void manager_freep(Manager **m)
{
        manager_free(*m);
}

/* Reads the devices, serves them on the bus, takes the bus name. */
int manager_start(Manager *m);
int manager_run(Manager *m);

/* bus-manager.c, bus-device.c, bus-group.c: the objects on the bus. */
int bus_manager_register(Manager *m);
int bus_device_register(Manager *m);
int bus_group_register(Manager *m);
int bus_device_path(const Device *d, char **ret);
int bus_group_path(int id, char **ret);
/* Signals what a change of the device model means on the bus. */
void bus_emit_model_change(Manager *m, ModelChange change, void *object);
