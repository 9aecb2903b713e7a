/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>

#include "fault-injection.h"
#include "group-work.h"
#include "handover.h"
#include "log.h"
#include "manager-nodes.h"

typedef struct NodeChange {
        /* The loop's. */
        Manager *manager;
        NodesSetFn done;
        void *userdata;
        /* Set before the worker starts; read by it. */
        int group;
        NodesWanted wanted;
        const char *fault_step; /* of a lease (fault-injection.h), or NULL */
        /* The worker's, until the loop hears that it is done. */
        int result;
} NodeChange;

static void in_worker(void *userdata)
{
        NodeChange *c = userdata;
        const NodesWanted *w = &c->wanted;

        c->result = c->fault_step ? fault_inject("lease", c->fault_step, NULL) : 0;
        if (c->result >= 0)
                c->result = handover_set_owner(c->group, w->uid, w->gid, w->mode, w->cdevs);
}

static void on_done(void *userdata)
{
        NodeChange *c = userdata;

        if (c->done)
                c->done(c->manager, c->group, c->result, c->userdata);
        else if (c->result < 0 && c->result != -ENOENT) /* no node: nothing to own */
                log_error_errno(c->result, "Cannot set the owner of /dev/vfio/%d", c->group);
}

static int set_nodes(Manager *m, int group, NodesWanted wanted, const char *fault_step, NodesSetFn done,
                     void *userdata)
{
        NodeChange *c = malloc(sizeof(*c));
        GroupWork *w;
        int r;

        if (!c)
                return -ENOMEM;
        *c = (NodeChange){ .manager = m, .done = done, .userdata = userdata, .group = group, .wanted = wanted,
                           .fault_step = fault_step };
        r = group_work_start(m->group_work, group, in_worker, on_done, free, c, &w);
        if (r < 0)
                free(c);
        return r;
}

int manager_set_nodes(Manager *m, int group, NodesWanted wanted, NodesSetFn done, void *userdata)
{
        return set_nodes(m, group, wanted, NULL, done, userdata);
}

int manager_set_lease_nodes(Manager *m, const LeaseInfo *info, NodesSetFn done, void *userdata)
{
        NodesWanted wanted = NODES_ROOTS;

        if (info->mode == LEASE_MODE_CHOWN)
                wanted.uid = info->uid;
        return set_nodes(m, info->group, wanted, "owner", done, userdata);
}
