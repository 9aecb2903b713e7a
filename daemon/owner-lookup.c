/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "loop-work.h"
#include "owner-lookup.h"
#include "reservation.h"

struct OwnerLookup {
        /* The loop's. */
        OwnerLookup **list, *next;
        LoopWork *work;
        OwnerLookupDoneFn done;
        void *userdata;
        /* Set before the worker starts; read by it. */
        char owner[RESERVATION_OWNER_MAX];
        /* The worker's, until the loop hears that it is done. */
        int result;
        OwnerIds ids;
};

static void look_up(void *userdata)
{
        OwnerLookup *l = userdata;

        l->result = reservation_owner_resolve(l->owner, &l->ids.uid, &l->ids.gid, &l->ids.mode);
}

static void unlink_lookup(OwnerLookup *l)
{
        for (OwnerLookup **p = l->list; *p; p = &(*p)->next)
                if (*p == l) {
                        *p = l->next;
                        return;
                }
}

static void on_looked_up(void *userdata)
{
        OwnerLookup *l = userdata;

        unlink_lookup(l);
        l->done(l->result, l->result < 0 ? &OWNER_IDS_ROOT : &l->ids, l->userdata);
}

int owner_lookup_start(OwnerLookup **list, sd_event *event, WorkerPool *pool, const char *owner,
                       OwnerLookupDoneFn done, void *userdata)
{
        OwnerLookup *l = calloc(1, sizeof(*l));
        int r;

        if (!l)
                return -ENOMEM;
        *l = (OwnerLookup){ .list = list, .done = done, .userdata = userdata, .ids = OWNER_IDS_ROOT };
        snprintf(l->owner, sizeof(l->owner), "%s", owner);
        r = loop_work_start(event, pool, look_up, on_looked_up, free, l, &l->work);
        if (r < 0) {
                free(l);
                return r;
        }
        l->next = *list;
        *list = l;
        return 0;
}

void owner_lookups_cancel(OwnerLookup **list)
{
        while (*list) {
                OwnerLookup *l = *list;
                OwnerLookupDoneFn done = l->done;
                void *userdata = l->userdata;

                *list = l->next;
                /* The worker may free l as soon as the work is cancelled. */
                loop_work_cancel(l->work);
                done(-ECANCELED, &OWNER_IDS_ROOT, userdata);
        }
}
