/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <systemd/sd-device.h>
#include <systemd/sd-event.h>
#include <systemd/sd-hwdb.h>

#include "bus-state.h"
#include "diagnosis.h"
#include "pci-device.h"

/* The host's PCI functions and IOMMU groups, as sysfs shows them, kept in
 * step with the kernel by an sd-device monitor. */

typedef struct Device {
        PciDevice *pci;
        const char *vendor_name; /* from the hwdb, NULL when unknown; */
        const char *model_name;  /* pointers into the mapped hwdb */
} Device;

typedef struct Group {
        int id;
        Device **devices; /* sorted by address */
        size_t n_devices;
} Group;

typedef struct DeviceModel DeviceModel;

typedef enum ModelChange {
        MODEL_DEVICE_ADDED,
        MODEL_DEVICE_REMOVED, /* called before the device is freed */
        MODEL_DEVICE_CHANGED,
        MODEL_GROUP_ADDED,
        MODEL_GROUP_REMOVED, /* called once out of the model, before it is freed */
        MODEL_GROUP_CHANGED,
} ModelChange;

/* Told of every change the monitor brings: object is a Device * or a Group *. */
typedef void (*ModelChangeFn)(DeviceModel *m, ModelChange change, void *object, void *userdata);
/* Whether someone is moving the group's devices between drivers. */
typedef bool (*GroupMovingFn)(int group, void *userdata);

int device_model_new(DeviceModel **ret);
DeviceModel *device_model_free(DeviceModel *m);
static inline void device_model_freep(DeviceModel **m)
{
        device_model_free(*m);
}

/* Reads every PCI device of the system. */
int device_model_enumerate(DeviceModel *m);
/* Follows add, remove, bind, unbind and change events from then on. The
 * bind and unbind events of a group that is_moving says is moving are not
 * read: the bus is spared the steps in between, and the mover re-reads
 * the group with device_model_reread_binding() when it is done. Nothing
 * the model reads waits for a device lock (driver_override would: a stuck
 * unbind holds it forever), at start-up or later. */
int device_model_start_monitor(DeviceModel *m, sd_event *event, ModelChangeFn on_change, GroupMovingFn is_moving,
                               void *userdata);

/* Reads the driver of a device again, what a bind or an
 * unbind changes, and tells of it only when it changed: vfiod re-reads
 * a group when it has moved it, so that the answer to the caller is already
 * true, and the uevents of the move arrive after that. A device unknown or
 * gone is read whole, or forgotten. */
int device_model_reread_binding(DeviceModel *m, const char *address);

size_t device_model_n_devices(const DeviceModel *m);
Device *device_model_device_at(const DeviceModel *m, size_t i); /* in address order */
Device *device_model_find_device(const DeviceModel *m, const char *normalized_address);
Group *device_model_find_group(const DeviceModel *m, int id);
/* Calls fn for every group, in id order. */
void device_model_foreach_group(const DeviceModel *m, void (*fn)(Group *g, void *userdata), void *userdata);
size_t device_model_n_groups(const DeviceModel *m);

/* By its driver: BUS_STATE_HOST, _VFIO (vfio-pci or pci-stub, which holds
 * it for VFIO) or _UNBOUND. */
BusState device_state(const Device *d);
bool device_is_bridge(const Device *d);

/* Adds the groups and the boot VGA to facts for diagnosis.c. */
int device_model_describe(const DeviceModel *m, HostFacts *facts);

/* Viable: every endpoint is unbound or held for VFIO (vfio-pci, pci-stub). */
bool group_is_viable(const Group *g);
/* The addresses of the endpoints, the devices that move (not the bridges);
 * *ret (malloc'ed) points into the devices. */
int group_endpoint_addresses(const Group *g, char ***ret, size_t *n);
/* By its endpoints' drivers: BUS_STATE_HOST (some endpoint is on a host
 * driver), _VFIO (every one on vfio-pci), _UNBOUND (none has a driver) or
 * _MIXED (viable, partly on vfio-pci). */
BusState group_state(const Group *g);
