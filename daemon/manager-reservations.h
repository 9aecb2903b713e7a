/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "manager.h"

/* Groups kept on vfio-pci by the configuration (manager-reservations.c). */

/* How the moves that a change of reservations started went. */
typedef struct ReservationOutcome {
        const EngineResult *failed; /* the first move that failed; NULL: all went */
        bool taken_back;            /* the new reservation was taken out again */
} ReservationOutcome;
typedef void (*ReservationDoneFn)(const ReservationOutcome *o, void *userdata);

/* What a call changed: the reservation of a match added, or taken out. */
typedef enum ReservationChange {
        RESERVATION_ADDED,
        RESERVATION_REMOVED,
} ReservationChange;

/* Someone who waits for the moves of the groups that match names, those
 * it asked for (an added reservation's claims; a removed one's releases
 * and unholds): done is called once each of them that
 * manager_apply_reservations() starts has ended. Other moves go on too,
 * but not for the call. When one of its own fails (or cannot start), an
 * added reservation is taken out again. */
typedef struct ReservationCall ReservationCall;
int reservation_call_new(Manager *m, ReservationChange change, const ReservationMatch *match,
                         ReservationDoneFn done, void *userdata, ReservationCall **ret);
/* Reads the files into m->reservations; the set read before goes to
 * *ret_before (NULL: freed). */
int manager_load_reservations(Manager *m, ReservationSet *ret_before);
/* Reads the files again and applies them (SIGHUP), with what they no
 * longer hold as the change's before. */
int manager_reload_reservations(Manager *m);
/* Reserved groups to vfio-pci, unreserved ones back to the host unless
 * leased; answers call (NULL: none) when done. A group whose reservation
 * this change took away (by call, or by a line of before, the set in force
 * until now, that is gone) also gets back what vfiod-early still holds of
 * it, when vfiod has no claim of it. A group that moves (a claim, a
 * release) is left until the move ends, and call is not kept waiting
 * for it; of a group held open while nothing leases it only the claim's
 * reserved mark changes (manager-held.c decides at its close). */
void manager_apply_reservations(Manager *m, ReservationCall *call, const ReservationSet *before);
/* The same, for one group only: for a group that a restart found moving,
 * once it is at rest. */
void manager_apply_group_reservation(Manager *m, int group);
/* A group whose reservation went while a process had it open, now closed:
 * the reservations apply to it as to one that lost its reservation (what
 * vfiod-early holds of it goes to the host; reserved again meanwhile, it
 * is claimed). */
void manager_apply_lost_reservation(Manager *m, int group);
/* A move of the group ended (a claim, a release, ...): a change of
 * reservations that found it moving applies to it, once this dispatch is
 * over (its caller answered first). */
void manager_reservations_group_at_rest(Manager *m, int group);
void manager_free_awaited(Manager *m);
const ReservationEntry *manager_group_reservation(const Manager *m, const Group *g);
