/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "lease-info.h"
#include "manager.h"

/* The owner of the groups' nodes, changed in a worker: a change opens the
 * group node when someone else owns it (handover_set_owner()), and that
 * open waits for the group's lock, which the release of an exiting VMM's
 * fd holds while it unpins the VM's memory (seconds, for a large VM).
 * Every change of a group's nodes goes through here, queued with the
 * group's other work (group-work.h) in the order asked. Only when there is
 * no memory even for that does a lease's end take them back on the loop
 * (manager-leases.c). */

/* What handover_set_owner() is to make of them. */
typedef struct NodesWanted {
        uid_t uid;
        gid_t gid;
        mode_t mode;
        bool cdevs; /* the cdevs too; otherwise root's, 0600 */
} NodesWanted;
#define NODES_ROOTS ((NodesWanted){ .uid = 0, .gid = 0, .mode = 0600, .cdevs = true })

/* r as handover_set_owner() answers: 1 when the nodes changed, 0 when
 * they were so already, -errno when they could not be set. */
typedef void (*NodesSetFn)(Manager *m, int group, int r, void *userdata);
/* Sets group's nodes as wanted, once every change of them asked before
 * has been made, then calls done on the loop (exactly once, unless this
 * fails, or vfiod stops first). NULL done: a failure is logged, unless
 * there was no node to own. */
int manager_set_nodes(Manager *m, int group, NodesWanted wanted, NodesSetFn done, void *userdata);

/* As manager_set_nodes(), as the lease has them: a chown lease's
 * holder's, and for every other mode root's, 0600, no ACL, whatever they
 * were: a reserved group's are its owner's between leases, with whatever
 * mode or ACL the owner gave them, and a site's udev rule may have opened
 * them to a group. VFIOD_FAULT's step "owner" of a lease: at its start,
 * and when its nodes are set again. */
int manager_set_lease_nodes(Manager *m, const LeaseInfo *info, NodesSetFn done, void *userdata);
