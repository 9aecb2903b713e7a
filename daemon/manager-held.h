/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "manager.h"
#include "vfio-holders.h"

/* A group whose lease ended while its holder still has it open
 * (manager-held.c). */

typedef struct HeldGroup HeldGroup;

/* What becomes of a held group once its last fd closes. */
typedef enum HeldThen {
        HELD_THEN_RELEASE, /* its lease ended: back to the host drivers */
        HELD_THEN_SETTLE,  /* its lease ended, and it is reserved: manager_settle_reserved() */
        HELD_THEN_UNHOLD,  /* reserved no more, and vfiod has no claim of it: what
                            * vfiod-early holds goes to the host */
} HeldThen;

/* 1: the group is held open, and then does what then says once its last
 * fd closes; 0: nobody holds it. */
int manager_wait_for_holders(Manager *m, int group, HeldThen then);
const HeldGroup *manager_held_group(const Manager *m, int group);
const VfioHolder *held_group_holders(const HeldGroup *h, size_t *n);
void manager_free_held(Manager *m);
