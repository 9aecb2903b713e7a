/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "claim-record.h"
#include "profile.h"

/* One IOMMU group moving to vfio-pci or back, as straight-line code that
 * blocks on sysfs: the engine runs it in a worker thread. Every step is
 * written to the group's claim record before it runs. */

typedef enum TransactionKind {
        TRANSACTION_CLAIM,   /* every endpoint to vfio-pci; undone on failure */
        TRANSACTION_RELEASE, /* every endpoint back to its original driver */
        TRANSACTION_RESTORE, /* the same, for a record left by a crash */
        TRANSACTION_REFRESH, /* a reserved group's endpoints off vfio-pci and on again */
        TRANSACTION_UNHOLD,  /* endpoints vfiod-early holds for a reservation that is gone, to the host */
        _TRANSACTION_KIND_MAX,
} TransactionKind;

typedef enum TransactionFailure {
        FAILURE_NONE,
        FAILURE_PLATFORM,      /* a platform function: never moves */
        FAILURE_HOST_CRITICAL, /* the host needs a device of the group */
        FAILURE_DEVICE_BUSY,   /* something uses a device of the group */
        FAILURE_BIND,          /* a sysfs step failed */
        FAILURE_TIMEOUT,       /* a step took too long */
        /* Not a transaction's: a reserved group that a process has open,
         * or that others took meanwhile, is not leased (manager-leases.c) */
        FAILURE_GROUP_BUSY,
} TransactionFailure;

typedef struct Transaction Transaction;
struct Transaction {
        TransactionKind kind;
        ClaimRecord *record; /* claim: the endpoints; release, restore: the saved record */
        int claims_dir_fd;
        bool force;                 /* claim even what the host uses */
        const ProfileSet *profiles; /* the hand-off profiles; may be NULL */
        bool settle_node;           /* claim: wait until udev is done with the node */
        uint64_t wait_timeout_usec; /* for a driver or a node to appear */
        /* The reset method for a device going back to driver (NULL: none),
         * NULL for the kernel's own order, RESET_NEVER for no reset.
         * Called in the worker. */
        const char *(*reset_method)(const char *driver, void *userdata);
        /* Called in the worker as each step starts, with "STEP ADDRESS". */
        void (*on_step)(Transaction *t, const char *step);
        void *userdata;
        /* Set by the engine when it stopped waiting: a claim then undoes
         * itself as soon as the blocked step returns. */
        atomic_bool abandoned;

        /* The outcome. */
        TransactionFailure failure;
        int error;     /* negative errno; 0 on success */
        char *message; /* what failed and what to do, for the caller */
        bool record_kept; /* the record stays: claimed, or undoing failed */
};

/* Runs it to the end: on return record, failure, error and message say
 * where the group is. */
void transaction_execute(Transaction *t);

const char *transaction_kind_to_string(TransactionKind k);
