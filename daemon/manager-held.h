/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "manager.h"
#include "vfio-holders.h"

/* A group whose lease ended while its holder still has it open
 * (manager-held.c). */

typedef struct HeldGroup HeldGroup;
/* 1: the group is held open, and is released (when release; else, being
 * reserved, settled: manager_settle_reserved()) once its last fd
 * closes; 0: nobody holds it. */
int manager_wait_for_holders(Manager *m, int group, bool release);
const HeldGroup *manager_held_group(const Manager *m, int group);
const VfioHolder *held_group_holders(const HeldGroup *h, size_t *n);
void manager_free_held(Manager *m);
