/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

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
/* Signals Released, gives the node back, releases the group; reply_to (if
 * any) is answered when the devices are back. */
int manager_end_lease(Manager *m, Lease *l, const char *reason, sd_bus_message *reply_to);

/* Returns the group to its host drivers; reply_to (if any) is answered
 * when the devices are back. -ENOENT: vfiod holds nothing of it. */
int manager_release_group(Manager *m, int group, sd_bus_message *reply_to);
