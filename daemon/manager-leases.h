/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "manager-handover.h"
#include "manager-held.h"
#include "manager.h"

/* A lease from grant to end (manager-leases.c). */

int manager_start_leases(Manager *m);

/* A reserved group that nobody leases any more: the lease leaves its
 * record, and once nobody holds it, it is settled: on a kernel with
 * device cdevs its devices go through vfio-pci again, so that no cdev a
 * former holder kept can be bound under the next lease; then, or at once
 * on other kernels, its node goes to the reservation's owner.
 * The record notes that the lease ended (lease-ended-open) while held,
 * and on a kernel with cdevs until the group went through vfio-pci
 * again; no lease is granted while it does. */
void manager_keep_reserved(Manager *m, int group, bool held);

/* What manager_claim_for_lease() answers besides a negative errno. */
typedef enum LeaseClaim {
        LEASE_CLAIM_TAKING, /* done is called once the group is the lease's, or cannot be */
        LEASE_CLAIM_BUSY,   /* vfiod holds it already, or it is moving */
} LeaseClaim;
/* Takes the group for a lease: moves it to vfio-pci with the lease in its
 * claim record (force: past the safety checks), or, when a reservation
 * holds it and nobody leases it, writes the lease into its record once a
 * worker has seen that no process has its node open (its owner's VM may;
 * done then fails with FAILURE_GROUP_BUSY). done is not called at exit,
 * as the engine calls it for no move then. A LeaseClaim, or a negative
 * errno: -ESTALE when the group is reserved and its last lease's end is
 * not settled (manager_keep_reserved()); -EALREADY when it is reserved
 * and another claim's look at its node is under way. */
int manager_claim_for_lease(Manager *m, const Group *g, const LeaseInfo *info, bool force, EngineReplyFn done,
                            void *userdata);
/* r: 0, and l is the lease and h what its holder is sent (the callee's to
 * send and close); -ESRCH when the lease ended before it was handed over
 * (its holder left the bus, or released it); another -errno when its nodes
 * could not be set or its fds opened: the lease has ended, and the group
 * goes back. */
typedef void (*GrantDoneFn)(int r, Lease *l, LeaseHandles *h, void *userdata);
/* The claim succeeded: starts the lease (ManagerEvents.lease_added),
 * following a connection holder through followed when the claim follows
 * it already (may be NULL), and calls done once a worker has set the
 * group's nodes as the lease has them (manager_set_lease_nodes()), and,
 * for a mode that hands fds over, another has opened them
 * (manager_open_handles()).
 * LEASE_STARTED; or LEASE_HOLDER_LEFT or LEASE_GUARD_CLOSED (its holder is
 * gone) or a negative errno, and then the group is given back and done is
 * not called. done is not called at exit either. */
int manager_grant_lease(Manager *m, const LeaseInfo *info, sd_bus_track *followed, GrantDoneFn done,
                        void *userdata);
/* How the end of a lease or a release went, for whoever waits for it. */
typedef struct ReleaseOutcome {
        int group;
        const EngineResult *result; /* the engine's answer, when the devices moved (or failed to) */
        bool held;                  /* the lease ended; its devices go back once holders close it */
        const VfioHolder *holders;  /* who holds it open, when held and known */
        size_t n_holders;
        bool moving;                /* it cannot go back now: it is moving */
        int error;                  /* negative errno: the release could not start */
} ReleaseOutcome;
/* Called once, when the devices are back, stay (reserved), wait for their
 * holders, or cannot move. */
typedef void (*ReleaseReplyFn)(const ReleaseOutcome *o, void *userdata);

/* Ends the lease (ManagerEvents.lease_released), gives the node back and
 * releases the group; reply (if any) is called as ReleaseReplyFn says.
 * The CDI spec of a prepared claim that the lease was part of is written
 * again for the groups it has left, or removed with its last. */
void manager_end_lease(Manager *m, Lease *l, const char *reason, ReleaseReplyFn reply, void *userdata);
/* The same, the CDI spec left alone: Unprepare, which removes it first. */
void manager_end_lease_leaving_spec(Manager *m, Lease *l, const char *reason, ReleaseReplyFn reply,
                                    void *userdata);

/* Returns the group to its host drivers; reply (if any) is called when
 * the devices are back. 0, or ENGINE_NOT_CLAIMED or ENGINE_MOVING
 * (engine.h) or a negative errno, and then reply is not called. */
int manager_release_group(Manager *m, int group, ReleaseReplyFn reply, void *userdata);
