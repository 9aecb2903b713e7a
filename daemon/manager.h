/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "authorization.h"
#include "bus-changes.h"
#include "device-model.h"
#include "engine.h"
#include "lease.h"
#include "limits-config.h"
#include "reservation-config.h"
#include "vfio-holders.h"

typedef struct ManagerOptions {
        const char *bus_address; /* NULL: the system bus */
        uint64_t idle_timeout_usec; /* 0: never exit when idle */
        const char *state_dir;      /* claim records; survives restarts */
        uint64_t step_timeout_usec; /* a sysfs step longer than this is stuck */
        const char *config_dir;     /* limits.conf, reservations.d */
} ManagerOptions;

/* The daemon: its event loop, its bus connection and what it serves. */
typedef struct Manager {
        const char *version;  /* served as properties */
        uint32_t api_version;
        sd_event *event;
        sd_bus *bus;
        BusChanges *changes; /* PropertiesChanged, gathered */
        DeviceModel *model;
        Engine *engine;
        Authorizer *authorizer;
        Leases *leases;
        sd_device_monitor *vfio_monitor; /* group nodes, for chown leases */
        Limits limits;
        ReservationSet reservations;
        sd_event_source *apply_later; /* reservations after a hotplug */
        const char *state_dir, *config_dir;
        sd_event_source *idle_timer;
        uint64_t idle_timeout_usec;
        struct HeldGroup *held; /* groups whose lease ended while still open */
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

/* A device's or a group's state: vfiod's claim when it holds or moves the
 * group, otherwise what its drivers say. */
BusState manager_device_state(const Manager *m, const Device *d);
BusState manager_group_state(const Manager *m, const Group *g);
/* Whether a reservation keeps the group on vfio-pci and nobody leases it
 * (state "reserved"): a claim then only leases it, nothing moves. */
bool manager_group_reserved_and_free(const Manager *m, int group);

/* In a property getter of an object found by a fallback vtable, whose own
 * userdata is the device or group: the Manager the vtable was registered
 * with. */
static inline Manager *bus_current_manager(sd_bus *bus)
{
        return sd_bus_slot_get_userdata(sd_bus_get_current_slot(bus));
}

/* bus-manager.c, bus-device.c, bus-group.c: the objects on the bus. */
int bus_manager_register(Manager *m);
int bus_device_register(Manager *m);
int bus_group_register(Manager *m);
int bus_device_path(const Device *d, char **ret);
/* Normalises a caller's address and finds the device, or sets the error a
 * user can act on. */
int bus_lookup_device(Manager *m, const char *input, Device **ret, sd_bus_error *error);
int bus_group_path(int id, char **ret);
/* Signals what a change of the device model means on the bus. */
void bus_emit_model_change(Manager *m, ModelChange change, void *object);
/* Signals a change of a group's claim: its state, step, and its devices'. */
void bus_emit_claim_change(Manager *m, int group);

/* bus-claim.c: the Manager's claim and release methods. */
int bus_method_claim_group(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int bus_method_claim_device(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int bus_method_release_group(sd_bus_message *msg, void *userdata, sd_bus_error *error);
/* The engine's answer to a release, for the call in userdata (or none). */
void bus_reply_release(const EngineResult *result, void *userdata);
/* The D-Bus error a failed claim or release answers with. */
const char *bus_failure_error_name(TransactionFailure f);

/* bus-memlock.c */
int bus_method_raise_memlock_limit(sd_bus_message *msg, void *userdata, sd_bus_error *error);

/* bus-lease.c: the lease objects. */
int bus_lease_register(Manager *m);
int bus_lease_path(const Lease *l, char **ret);
void bus_emit_lease_added(Manager *m, const Lease *l);
void bus_emit_lease_released(Manager *m, const Lease *l, const char *reason);
/* Ends the lease if the sender may: its owner, root, or release-any. */
int bus_release_lease(Manager *m, sd_bus_message *msg, Lease *l, sd_bus_error *error);

/* manager-leases.c: a lease from grant to end. */
int manager_start_leases(Manager *m);
/* The claim succeeded: follow the holder (through followed, when the claim
 * follows it already; may be NULL), hand the group over, answer msg. */
int manager_grant_lease(Manager *m, sd_bus_message *msg, const LeaseInfo *info, sd_bus_track *followed,
                        sd_bus_error *error);
/* Signals Released, gives the node back, releases the group; reply_to (if
 * any) is answered when the devices are back. */
int manager_end_lease(Manager *m, Lease *l, const char *reason, sd_bus_message *reply_to);

/* Returns the group to its host drivers; reply_to (if any) is answered
 * when the devices are back. -ENOENT: vfiod holds nothing of it. */
int manager_release_group(Manager *m, int group, sd_bus_message *reply_to);

/* manager-held.c: a group whose lease ended while its holder still has it
 * open. */
typedef struct HeldGroup HeldGroup;
/* 1: the group is held open, and is released (when release) once its last
 * fd closes; 0: nobody holds it. */
int manager_wait_for_holders(Manager *m, int group, bool release);
const HeldGroup *manager_held_group(const Manager *m, int group);
const VfioHolder *held_group_holders(const HeldGroup *h, size_t *n);
void manager_free_held(Manager *m);

/* manager-reservations.c: groups kept on vfio-pci by the configuration. */
typedef struct ReservationCall ReservationCall;
/* The method call msg, answered with answer (its prepared reply) once every
 * move that manager_apply_reservations(m, call) starts has ended, or with
 * the first failure. */
int reservation_call_new(sd_bus_message *msg, sd_bus_message *answer, ReservationCall **ret);
/* When a move fails, the reservation of match is taken out again. */
void reservation_call_undo_on_failure(ReservationCall *call, Manager *m, const ReservationMatch *match);
int manager_load_reservations(Manager *m);
/* Reads the files again and applies them: SIGHUP, and at start. */
int manager_reload_reservations(Manager *m);
/* Reserved groups to vfio-pci, unreserved ones back to the host unless
 * leased; answers call (NULL: none) when done. */
void manager_apply_reservations(Manager *m, ReservationCall *call);
const ReservationEntry *manager_group_reservation(const Manager *m, const Group *g);
/* The group node's owner at rest: the reservation's owner, or root. */
int manager_reset_node_owner(Manager *m, int group);

/* bus-reservation.c: Reserve, Unreserve, ListReservations. */
int bus_method_reserve(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int bus_method_unreserve(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int bus_method_list_reservations(sd_bus_message *msg, void *userdata, sd_bus_error *error);
