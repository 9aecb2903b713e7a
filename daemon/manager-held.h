/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "manager.h"
#include "vfio-holders.h"

/* A group that a process holds open while nothing leases it: its lease
 * ended (also before a restart: a reserved group found so at start), or
 * the reservation that vfiod-early held it for went (manager-held.c). */

typedef struct HeldGroup HeldGroup;

/* What becomes of a held group once its last fd closes. */
typedef enum HeldThen {
        HELD_THEN_RETURN, /* nobody leases it: back to the host drivers, or, if a
                           * reservation holds it by then, manager_keep_reserved() */
        HELD_THEN_UNHOLD, /* reserved no more, and vfiod has no claim of it: the
                           * reservations apply (what vfiod-early holds goes to
                           * the host, unless it is reserved again by then) */
} HeldThen;

/* 1: the group is held open (or vfiod cannot tell whether it is), and then
 * does what then says once its last fd closes; 0: nobody holds it; a
 * negative errno when it cannot be waited for (no memory, no timer). */
int manager_wait_for_holders(Manager *m, int group, HeldThen then);
const HeldGroup *manager_held_group(const Manager *m, int group);
const VfioHolder *held_group_holders(const HeldGroup *h, size_t *n);
void manager_free_held(Manager *m);
