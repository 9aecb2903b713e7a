/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "manager-held.h"
#include "manager.h"

/* A lease from grant to end (manager-leases.c). */

int manager_start_leases(Manager *m);

/* What manager_claim_for_lease() answers besides a negative errno. */
typedef enum LeaseClaim {
        LEASE_CLAIM_MOVING,   /* the group moves; done is called when it is there */
        LEASE_CLAIM_RESERVED, /* a reservation holds it on vfio-pci: leased at once */
} LeaseClaim;
/* Takes the group for a lease: moves it to vfio-pci with the lease in its
 * claim record (force: past the safety checks), or, when a reservation
 * holds it and nobody leases it, only writes the lease into its record.
 * -EBUSY: vfiod holds or moves it. */
int manager_claim_for_lease(Manager *m, const Group *g, const LeaseInfo *info, bool force, EngineReplyFn done,
                            void *userdata);
/* The claim succeeded: follow the holder (through followed, when the claim
 * follows it already; may be NULL), hand the group over, answer msg. */
int manager_grant_lease(Manager *m, sd_bus_message *msg, const LeaseInfo *info, sd_bus_track *followed,
                        sd_bus_error *error);
/* How the end of a lease or a release went, for whoever waits for it. */
typedef struct ReleaseOutcome {
        int group;
        const EngineResult *result; /* the engine's answer, when the devices moved (or failed to) */
        bool held;                  /* the lease ended; its devices go back once holders close it */
        const VfioHolder *holders;  /* who holds it open, when held and known */
        size_t n_holders;
        int error; /* negative errno: the release could not start */
} ReleaseOutcome;
/* Called once, when the devices are back, stay (reserved), wait for their
 * holders, or cannot move. */
typedef void (*ReleaseReplyFn)(const ReleaseOutcome *o, void *userdata);

/* Signals Released, gives the node back, releases the group; reply (if
 * any) is called as ReleaseReplyFn says. */
int manager_end_lease(Manager *m, Lease *l, const char *reason, ReleaseReplyFn reply, void *userdata);

/* Returns the group to its host drivers; reply (if any) is called when
 * the devices are back. -ENOENT: vfiod holds nothing of it; -EBUSY: it
 * moves. reply is not called then. */
int manager_release_group(Manager *m, int group, ReleaseReplyFn reply, void *userdata);
