/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "owner-lookup.h"
#include "reservation.h"

typedef struct Manager Manager;

/* What the user database said of each reservation owner's name since vfiod
 * last read the reservations anew (manager-owners.c). */
typedef struct OwnerAnswer {
        char name[RESERVATION_OWNER_MAX];
        bool answered; /* result and ids hold */
        bool asking;   /* a lookup is under way */
        bool stale;    /* it began before the reservations were read anew */
        int result;    /* 0, or -errno (ids root's) */
        OwnerIds ids;
        uint64_t retry_delay_usec; /* since the first failed answer: the wait before the next ask */
        uint64_t retry_at_usec;    /* CLOCK_MONOTONIC; while answered with a failure */
} OwnerAnswer;

typedef struct OwnerBook {
        OwnerAnswer *answers;
        size_t n_answers;
        sd_event_source *retry_timer; /* asks again about names that failed */
} OwnerBook;

/* The group node's owner at rest: the reservation's owner, or root; its
 * cdevs root's. An owner the book has an answer for gets the node now; one
 * it has none for is looked up off the loop, and gets it once the answer is
 * in, if the group is still reserved for them, claimed at rest and
 * unleased. Meanwhile the node is root's, 0600, if revoke (it may be
 * someone else's now), or else stays as it is (an unchanged owner's VM
 * can open it anew). 0, or a negative errno (logged). */
int manager_reset_node_owner(Manager *m, int group, bool revoke);
/* An answer Reserve had from the user database (owner-lookup.h): the
 * reservation's node goes to that owner without asking again. */
void manager_note_owner(Manager *m, const char *name, const OwnerIds *ids);
/* A name the database did not know, or could not look up, is asked again
 * after OWNER_RETRY_FIRST_USEC, then after twice as long each time, at
 * most every OWNER_RETRY_MAX_USEC: a directory server that was offline, or
 * a user added since, gets the node without a reload. */
#define OWNER_RETRY_FIRST_USEC (5 * 1000 * 1000ULL)
#define OWNER_RETRY_MAX_USEC (10 * 60 * 1000 * 1000ULL)

/* The reservations are read anew (reload): every name is looked up again
 * when a node needs it, so that one the database did not know, or whose id
 * changed, is seen. A lookup under way is not started twice: once it
 * answers, it is made anew. */
void manager_forget_owners(Manager *m);
void manager_free_owners(Manager *m);
