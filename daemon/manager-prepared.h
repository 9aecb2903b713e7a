/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "claim-id.h"
#include "engine.h"
#include "manager.h"

/* Prepared claims (manager-prepared.c): groups held on vfio-pci for an
 * orchestrator under its claim id (Prepare), one lease of lifetime
 * "claim-id" per group, and a CDI spec in /run/cdi that names their nodes
 * for container runtimes, until Unprepare. Both are idempotent. The
 * leases' lines in the claim records keep a claim across restarts; at
 * start its spec is written again and every spec of no claim removed. */

/* How a Prepare went, for whoever waits for it. */
typedef struct PrepareOutcome {
        const char *claim_id;
        const int *groups; /* prepared: the claim's groups */
        size_t n_groups;
        const EngineResult *failure; /* the first group that could not move; NULL if none */
        int error;                   /* a negative errno: prepared nothing for another reason */
} PrepareOutcome;
typedef void (*PrepareReplyFn)(const PrepareOutcome *o, void *userdata);

/* What manager_prepare() answers besides a negative errno. */
typedef enum PrepareStart {
        PREPARE_MOVING,       /* the groups move (for this call or one before it with the same id and
                                 groups); reply is called when all are there, or none */
        PREPARE_DONE,         /* prepared already with these groups, or reserved ones: reply was called */
        PREPARE_OTHER_GROUPS, /* the id is prepared already, or being prepared, with other groups */
        PREPARE_WAITERS_FULL, /* being prepared, and too many calls wait for it already */
        PREPARE_BUSY,         /* *ret_busy_group is leased, held or moving */
} PrepareStart;

int manager_prepare(Manager *m, const char *claim_id, const Group *const *groups, size_t n_groups, uid_t uid,
                    pid_t pid, PrepareReplyFn reply, void *userdata, int *ret_busy_group);

/* Ends the claim's leases (their groups go back as any lease's do) and
 * removes its spec; reply (may be NULL) is called once every group is
 * back or held. 0 when the id has nothing prepared: done, reply not
 * called; -EBUSY while a Prepare of it is under way. */
typedef void (*UnprepareReplyFn)(const char *claim_id, int error, void *userdata);
int manager_unprepare(Manager *m, const char *claim_id, UnprepareReplyFn reply, void *userdata);
/* Whether a Prepare of the claim is under way. */
bool manager_preparing(const Manager *m, const char *claim_id);

/* A lease of the claim has ended (Unprepare, or a ReleaseGroup of one of
 * its groups): its spec names what is left of it, or goes with the last. */
void manager_prepared_lease_ended(Manager *m, const char *claim_id);

/* The groups of a prepared claim, in lease order; 0 groups when none. */
int manager_prepared_groups(const Manager *m, const char *claim_id, int **ret, size_t *n);
/* Every prepared claim id, once each (strv_free). */
int manager_prepared_ids(const Manager *m, char ***ret, size_t *n);

/* At start, after the leases: the spec and mark directories; a claim cut
 * short (no mark, prepared-mark.h) goes back, every other's spec is made
 * true. */
int manager_start_prepared(Manager *m);
