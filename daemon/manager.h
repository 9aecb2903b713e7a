/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "cdi-config.h"
#include "device-model.h"
#include "engine.h"
#include "lease.h"
#include "limits-config.h"
#include "manager-owners.h"
#include "owner-lookup.h"
#include "profile.h"
#include "reservation-config.h"
#include "worker-pool.h"

typedef struct ManagerOptions {
        const char *bus_address; /* NULL: the system bus */
        uint64_t idle_timeout_usec; /* 0: never exit when idle */
        const char *state_dir;      /* claim records; survives restarts */
        uint64_t step_timeout_usec; /* a sysfs step longer than this is stuck */
        const char *config_dir;     /* limits.conf, cdi.conf, reservations.d, profiles.d */
        const char *cdi_dir;        /* prepared claims' CDI specs (/run/cdi) */
} ManagerOptions;

typedef struct Manager Manager;
/* The bus layer's, made and freed by it (bus_manager_serve()). */
typedef struct Authorizer Authorizer;
typedef struct BusChanges BusChanges;

/* What the layer above is told of, as it happens; set by it
 * (bus_manager_serve()), NULL until then. */
typedef struct ManagerEvents {
        void (*model_changed)(Manager *m, ModelChange change, void *object);
        void (*claim_changed)(Manager *m, int group); /* a group's state or step */
        void (*lease_added)(Manager *m, const Lease *l);
        void (*lease_released)(Manager *m, const Lease *l, const char *reason);
        bool (*bus_waiting)(Manager *m); /* callers wait on the bus layer (for polkit, say) */
} ManagerEvents;

/* The daemon: its event loop, its bus connection and what it serves. */
struct Manager {
        const char *version;  /* served as properties */
        uint32_t api_version;
        sd_event *event;
        sd_bus *bus;
        BusChanges *changes; /* PropertiesChanged, gathered; the bus layer's */
        DeviceModel *model;
        Engine *engine;
        /* What else may wait: asks of held groups (manager-held.c), the
         * user database (owner-lookup.h), group nodes opened for leases
         * (manager-handover.h), changes of their owner (manager-nodes.h). */
        WorkerPool *workers;
        struct GroupWorkQueue *group_work; /* a group's node changes, in order (group-work.h) */
        Authorizer *authorizer; /* the bus layer's */
        Leases *leases;
        sd_device_monitor *vfio_monitor;      /* group nodes, for chown leases */
        sd_device_monitor *vfio_cdev_monitor; /* the devices' cdevs, for chown leases */
        Limits limits;
        ProfileSet *profiles; /* the hand-off profiles, read at start */
        ReservationSet reservations;
        sd_event_source *apply_later; /* reservations after a hotplug */
        struct AwaitedGroup *awaited;   /* groups a change of reservations found moving */
        size_t n_awaited;
        sd_event_source *apply_awaited; /* to them, once at rest */
        const char *state_dir, *config_dir;
        sd_event_source *idle_timer;
        uint64_t idle_timeout_usec;
        struct HeldGroup *held; /* groups open while nothing leases them (manager-held.c) */
        OwnerBook owners;           /* reservations' owners, as NSS named them (manager-owners.c) */
        OwnerLookup *owner_lookups; /* asked of NSS now (owner-lookup.h) */
        struct Handover *handovers; /* group nodes opened now (manager-handover.h) */
        const char *cdi_dir;
        CdiConfig cdi;                  /* read at start */
        int cdi_dir_fd;                 /* -1 until opened: no Prepare can succeed */
        int prepared_dir_fd;            /* the marks of whole claims (prepared-mark.h); -1 as cdi_dir_fd */
        struct Preparation *preparing; /* Prepare calls under way */
        ManagerEvents events;
};

int manager_new(const ManagerOptions *options, Manager **ret);
Manager *manager_free(Manager *m);
static inline void manager_freep(Manager **m)
{
        manager_free(*m);
}

/* Reads the devices, finishes what a crash interrupted, takes up the
 * leases and applies the reservations; then the bus layer serves it
 * (bus_manager_serve()). */
int manager_start(Manager *m);
int manager_run(Manager *m);
/* A call came: the idle timer starts again. */
int manager_note_activity(Manager *m);

/* Tell the layer above (ManagerEvents). */
void manager_tell_claim_changed(Manager *m, int group);
void manager_tell_lease_added(Manager *m, const Lease *l);
void manager_tell_lease_released(Manager *m, const Lease *l, const char *reason);

/* A device's or a group's state: vfiod's claim when it holds or moves the
 * group, otherwise what its drivers say. */
BusState manager_device_state(const Manager *m, const Device *d);
BusState manager_group_state(const Manager *m, const Group *g);
/* Whether a reservation keeps the group on vfio-pci and nobody leases it
 * (state "reserved"): a claim then only leases it, nothing moves. */
bool manager_group_reserved_and_free(const Manager *m, int group);
