/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "lease-info.h"

/* Leases in the daemon: who holds which group, and for how long. A
 * connection lease follows its holder's bus name (sd_bus_track); a guard-fd
 * lease follows a FIFO in <state dir>/guards whose write end the caller
 * got: the kernel tells the read end when the last copy closes. Both can be
 * taken up again after a restart, as the name and the FIFO outlive the
 * daemon. */

typedef struct Leases Leases;
typedef struct Lease Lease;

struct Lease {
        LeaseInfo info;
        Leases *leases;
        sd_bus_track *track;    /* connection leases */
        sd_event_source *guard; /* guard-fd leases: the FIFO's read end */
        Lease *next;
};

/* The holder is gone: its connection closed, or its guard fd. Called once;
 * the callee ends the lease. */
typedef void (*LeaseGoneFn)(Lease *l, const char *reason, void *userdata);

int leases_new(sd_event *event, sd_bus *bus, const char *state_dir, LeaseGoneFn on_gone, void *userdata,
               Leases **ret);
Leases *leases_free(Leases *ls);

/* A fresh id, never one of a lease taken up after a restart. */
uint64_t leases_next_id(Leases *ls);

/* Starts following a connection holder before its lease exists. Adding a
 * name costs a blocking round trip to the bus: a claim pays it while its
 * devices move, then hands the track to lease_add(). */
int leases_follow_holder(Leases *ls, const char *holder, sd_bus_track **ret);

/* What lease_add() and lease_resume() answer: the lease holds, or its
 * holder is gone already and no lease was made. Failures are negative
 * errno values, and nothing is kept then either. */
typedef enum LeaseStart {
        LEASE_STARTED,
        LEASE_HOLDER_LEFT,  /* the connection holder has left the bus */
        LEASE_GUARD_CLOSED, /* the guard fd's FIFO is gone */
} LeaseStart;

/* Follows the holder of a new lease: a connection holder through
 * followed, when the caller follows it already (may be NULL). For a
 * guard-fd lease, *ret_guard_fd is the fd for the caller (close it once
 * sent). */
int lease_add(Leases *ls, const LeaseInfo *info, sd_bus_track *followed, int *ret_guard_fd, Lease **ret);
/* The same for a lease read from a record at start: no new guard fd. */
int lease_resume(Leases *ls, const LeaseInfo *info, Lease **ret);
/* Stops following the holder, removes the guard FIFO, frees the lease. */
void lease_remove(Lease *l);

Lease *leases_first(const Leases *ls);
Lease *leases_find_id(const Leases *ls, uint64_t id);
Lease *leases_find_group(const Leases *ls, int group);
/* Whether some lease ends when its holder goes: the daemon must stay. */
bool leases_follow_holders(const Leases *ls);
