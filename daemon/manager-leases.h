/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "manager.h"

/* A lease from grant to end (manager-leases.c). */

int manager_start_leases(Manager *m);
/* The claim succeeded: follow the holder (through followed, when the claim
 * follows it already; may be NULL), hand the group over, answer msg. */
int manager_grant_lease(Manager *m, sd_bus_message *msg, const LeaseInfo *info, sd_bus_track *followed,
                        sd_bus_error *error);
/* Signals Released, gives the node back, releases the group; reply_to (if
 * any) is answered when the devices are back. */
int manager_end_lease(Manager *m, Lease *l, const char *reason, sd_bus_message *reply_to);

/* Returns the group to its host drivers; reply_to (if any) is answered
 * when the devices are back. -ENOENT: vfiod holds nothing of it. */
int manager_release_group(Manager *m, int group, sd_bus_message *reply_to);
