/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "transaction.h"

/* The rebinding engine: runs claims and releases of IOMMU groups in worker
 * threads, one at a time per group and any number of groups at once, each
 * step under a timeout, and keeps the claims that succeeded. Their records
 * live in <state dir>/claims; at start the engine finishes or undoes what a
 * crash interrupted. */

typedef enum ClaimStatus {
        CLAIM_STATUS_NONE,      /* vfiod holds nothing of the group */
        CLAIM_STATUS_CLAIMING,  /* moving to vfio-pci */
        CLAIM_STATUS_CLAIMED,   /* on vfio-pci, held by vfiod */
        CLAIM_STATUS_RELEASING, /* returning to the host drivers */
        CLAIM_STATUS_STUCK,     /* a step has not returned within the timeout */
        CLAIM_STATUS_FAILED,    /* undoing or releasing failed: the record is kept */
        _CLAIM_STATUS_MAX,
} ClaimStatus;

typedef struct Engine Engine;

typedef struct EngineResult {
        TransactionKind kind;
        int group;
        TransactionFailure failure;
        int error;           /* negative errno, 0 on success */
        const char *message; /* NULL on success */
} EngineResult;

static inline bool engine_result_failed(const EngineResult *r)
{
        return r->error < 0 || r->failure != FAILURE_NONE;
}

/* The answer to one claim or release: called once, when it ends or when a
 * step times out (the transaction then goes on in the background). */
typedef void (*EngineReplyFn)(const EngineResult *result, void *userdata);
/* A group's status or step changed; ended: its transaction is over, so the
 * kernel is done with its devices. */
typedef void (*EngineChangeFn)(Engine *e, int group, bool ended, void *userdata);

/* profiles (may be NULL) must outlive the engine and any worker it leaves
 * running at engine_free(). */
int engine_new(sd_event *event, const char *state_dir, uint64_t step_timeout_usec, const ProfileSet *profiles,
               EngineChangeFn on_change, void *userdata, Engine **ret);
Engine *engine_free(Engine *e);

/* A transaction that engine_recover() started has ended (also one whose
 * step timed out, when it finally returns); the group is at rest. */
typedef void (*EngineRecoveredFn)(Engine *e, int group, void *userdata);

/* Loads the records: keeps the claims, finishes or undoes the rest, and
 * calls on_recovered (may be NULL) as each of those ends. */
int engine_recover(Engine *e, EngineRecoveredFn on_recovered, void *userdata);

typedef struct EngineClaimOptions {
        bool force;        /* past the safety checks */
        const char *lease; /* who holds it, kept in the record; NULL: nobody */
        bool settle_node;  /* wait until udev is done with /dev/vfio/<group> */
        bool reserved;     /* for a reservation: it holds the group too */
} EngineClaimOptions;

/* What an operation answers when the group is not in the state it needs:
 * a positive value, beside 0 (done) and a negative errno (failed). */
typedef enum EngineRefusal {
        ENGINE_NOT_CLAIMED = 1, /* vfiod holds nothing of the group */
        ENGINE_MOVING,          /* a transaction of the group runs */
        ENGINE_ALREADY_CLAIMED, /* engine_claim() of a group vfiod holds */
} EngineRefusal;

/* 0 once it starts moving, an EngineRefusal, or a negative errno.
 * addresses: its endpoints. */
int engine_claim(Engine *e, int group, char *const *addresses, size_t n, const EngineClaimOptions *o,
                 EngineReplyFn reply, void *userdata);
/* Endpoints that vfiod-early holds on vfio-pci for a reservation that is
 * gone, in a group vfiod holds nothing of, to the host (TRANSACTION_UNHOLD):
 * addresses are those the caller found there; the worker looks again,
 * and moves only what is held so and what no process has open. 0 once it
 * starts, ENGINE_MOVING or ENGINE_ALREADY_CLAIMED, or a negative errno. */
int engine_unhold(Engine *e, int group, char *const *addresses, size_t n, EngineReplyFn reply, void *userdata);
/* 0 once it starts moving, ENGINE_NOT_CLAIMED or ENGINE_MOVING, or a
 * negative errno. */
int engine_release(Engine *e, int group, EngineReplyFn reply, void *userdata);

/* A reserved group whose lease ended: every endpoint off vfio-pci and on
 * again (TRANSACTION_REFRESH). 0 once it starts moving, ENGINE_NOT_CLAIMED
 * or ENGINE_MOVING, or a negative errno. */
int engine_refresh(Engine *e, int group, EngineReplyFn reply, void *userdata);

/* Calls fn for every group that is claimed and not moving, with the lease
 * its record names (NULL for none). */
void engine_foreach_claimed(const Engine *e, void (*fn)(int group, const char *lease, void *userdata),
                            void *userdata);

/* Who holds a claimed group, changed without moving it: the lease (NULL:
 * none) or the reservation; what is so already changes nothing. 0,
 * ENGINE_NOT_CLAIMED or ENGINE_MOVING, or a negative errno. */
int engine_set_lease(Engine *e, int group, const char *lease);
int engine_set_reserved(Engine *e, int group, bool reserved);
/* The lease leaves the record, noting whether a process still has the
 * group open (engine_lease_ended_open() then says so, across restarts,
 * until the next engine_end_lease() or engine_set_lease()). Returns as
 * engine_set_lease(). */
int engine_end_lease(Engine *e, int group, bool still_open);
bool engine_lease_ended_open(const Engine *e, int group);
/* Whether a reservation holds the group (claimed, or moving for one). */
bool engine_is_reserved(const Engine *e, int group);

/* The group's status and, while it moves or is stuck, its step. */
ClaimStatus engine_status(const Engine *e, int group, const char **ret_step);
/* Whether a transaction runs: the daemon must not exit on idle then. */
bool engine_busy(const Engine *e);
/* Whether a transaction runs on the group's devices (stuck or not). */
bool engine_is_moving(const Engine *e, int group);
