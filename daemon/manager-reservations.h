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

/* Someone who waits for the moves of a change of reservations: done is
 * called once every move that manager_apply_reservations(m, call) starts
 * has ended. */
typedef struct ReservationCall ReservationCall;
int reservation_call_new(ReservationDoneFn done, void *userdata, ReservationCall **ret);
/* When a move fails, the reservation of match is taken out again. */
void reservation_call_undo_on_failure(ReservationCall *call, Manager *m, const ReservationMatch *match);
int manager_load_reservations(Manager *m);
/* Reads the files again and applies them: SIGHUP, and at start. */
int manager_reload_reservations(Manager *m);
/* Reserved groups to vfio-pci, unreserved ones back to the host unless
 * leased; answers call (NULL: none) when done. unreserved: the match an
 * Unreserve just took out (NULL: none), whose groups that vfiod has no
 * claim of give back what vfiod-early still holds of them. */
void manager_apply_reservations(Manager *m, ReservationCall *call, const ReservationMatch *unreserved);
/* The same, for one group only: for a group that a restart found moving,
 * once it is at rest. */
void manager_apply_group_reservation(Manager *m, int group);
const ReservationEntry *manager_group_reservation(const Manager *m, const Group *g);
/* The group node's owner at rest: the reservation's owner, or root; its
 * cdevs root's. 0, or a negative errno (logged). */
int manager_reset_node_owner(Manager *m, int group);
