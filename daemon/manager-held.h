/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

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

/* Whether a process still holds the group open is known at the first
 * answer of the kernel, asked in a worker: held is true when it is held
 * (or vfiod cannot tell whether it is), and the group is then waited for;
 * false when nobody holds it. */
typedef void (*HeldFirstFn)(Manager *m, int group, bool held, void *userdata);

/* Waits for the group's holders, if it has any: the group shows as held
 * from now until nobody holds it, and then does what then says. First,
 * take_node: its nodes become root's, 0600, whatever the lessee made of
 * them. first (may be NULL) is called at the first answer instead of
 * what then says, if nobody holds it then; it is not called if vfiod
 * exits before. Without a thread to ask in, the group is held until the
 * next ask. 0, or a negative errno when it cannot be waited for (no
 * memory, no timer). */
int manager_wait_for_holders(Manager *m, int group, HeldThen then, bool take_node, HeldFirstFn first,
                             void *userdata);
const HeldGroup *manager_held_group(const Manager *m, int group);
const VfioHolder *held_group_holders(const HeldGroup *h, size_t *n);
/* Whether the kernel has answered once; until then nobody is named. */
bool held_group_answered(const HeldGroup *h);
void manager_free_held(Manager *m);
