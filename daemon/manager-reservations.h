/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "manager.h"

/* Groups kept on vfio-pci by the configuration (manager-reservations.c). */

typedef struct ReservationCall ReservationCall;
/* The method call msg, answered with answer (its prepared reply) once every
 * move that manager_apply_reservations(m, call) starts has ended, or with
 * the first failure. */
int reservation_call_new(sd_bus_message *msg, sd_bus_message *answer, ReservationCall **ret);
/* When a move fails, the reservation of match is taken out again. */
void reservation_call_undo_on_failure(ReservationCall *call, Manager *m, const ReservationMatch *match);
int manager_load_reservations(Manager *m);
/* Reads the files again and applies them: SIGHUP, and at start. */
int manager_reload_reservations(Manager *m);
/* Reserved groups to vfio-pci, unreserved ones back to the host unless
 * leased; answers call (NULL: none) when done. */
void manager_apply_reservations(Manager *m, ReservationCall *call);
const ReservationEntry *manager_group_reservation(const Manager *m, const Group *g);
/* The group node's owner at rest: the reservation's owner, or root. */
int manager_reset_node_owner(Manager *m, int group);
