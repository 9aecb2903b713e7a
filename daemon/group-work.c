/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "group-work.h"

struct GroupWork {
        /* The loop's. */
        GroupWorkQueue *queue;
        GroupWork *next; /* in the order started, every group's */
        LoopWork *running; /* NULL until it begins */
        bool cancelled;
        LoopWorkDoneFn done;
        /* Set before it begins; read by the worker. */
        int group;
        WorkFn work;
        LoopWorkFreeFn free_fn;
        void *userdata;
};

struct GroupWorkQueue {
        sd_event *event;
        WorkerPool *pool;
        GroupWork *first;
        sd_event_source *stalled; /* a group's first work could not begin: begin it, or do it here */
};

static int on_stalled(sd_event_source *s, void *userdata);

int group_work_queue_new(sd_event *event, WorkerPool *pool, GroupWorkQueue **ret)
{
        GroupWorkQueue *q = calloc(1, sizeof(*q));
        int r;

        if (!q)
                return -ENOMEM;
        *q = (GroupWorkQueue){ .event = event, .pool = pool };
        r = sd_event_add_defer(event, &q->stalled, on_stalled, q);
        if (r >= 0)
                r = sd_event_source_set_enabled(q->stalled, SD_EVENT_OFF);
        if (r < 0) {
                group_work_queue_free(q);
                return r;
        }
        *ret = q;
        return 0;
}

static void unlink_work(GroupWork *w)
{
        for (GroupWork **p = &w->queue->first; *p; p = &(*p)->next)
                if (*p == w) {
                        *p = w->next;
                        return;
                }
}

static void work_free(GroupWork *w)
{
        if (w->free_fn)
                w->free_fn(w->userdata);
        free(w);
}

/* ---- in the worker ---- */

static void run(void *userdata)
{
        GroupWork *w = userdata;

        w->work(w->userdata);
}

/* Once both the loop and the worker let go, on either side. */
static void on_let_go(void *userdata)
{
        work_free(userdata);
}

/* ---- on the loop ---- */

static void on_done(void *userdata);

static int begin(GroupWork *w)
{
        return loop_work_start(w->queue->event, w->queue->pool, run, on_done, on_let_go, w, &w->running);
}

static GroupWork *first_of_group(GroupWorkQueue *q, int group)
{
        for (GroupWork *w = q->first; w; w = w->next)
                if (w->group == group)
                        return w;
        return NULL;
}

/* The group's next work begins. Where no worker can be had, it is done on
 * the loop: slower, never out of order. */
static void advance(GroupWorkQueue *q, int group)
{
        GroupWork *w;

        while ((w = first_of_group(q, group)) && !w->running && begin(w) < 0) {
                unlink_work(w);
                w->work(w->userdata);
                w->done(w->userdata);
                work_free(w);
        }
}

/* Every group whose first work has not begun: it begins now, or is done
 * here. */
static int on_stalled(sd_event_source *s, void *userdata)
{
        GroupWorkQueue *q = userdata;
        GroupWork *w = q->first;

        while (w)
                if (!w->running && first_of_group(q, w->group) == w) {
                        advance(q, w->group);
                        w = q->first; /* what advance() did may have changed the list */
                } else
                        w = w->next;
        return 0;
}

static void on_done(void *userdata)
{
        GroupWork *w = userdata;
        GroupWorkQueue *q = w->queue;

        unlink_work(w);
        if (!w->cancelled)
                w->done(w->userdata);
        advance(q, w->group);
        /* loop-work.c lets go of w next: on_let_go() frees it then, or
         * once the worker has. */
}

int group_work_start(GroupWorkQueue *q, int group, WorkFn work, LoopWorkDoneFn done, LoopWorkFreeFn free_fn,
                     void *userdata, GroupWork **ret)
{
        GroupWork *w = calloc(1, sizeof(*w)), **tail;
        bool waits;

        if (!w)
                return -ENOMEM;
        *w = (GroupWork){ .queue = q, .done = done, .group = group, .work = work, .free_fn = free_fn,
                          .userdata = userdata };
        waits = first_of_group(q, group) != NULL;
        for (tail = &q->first; *tail; tail = &(*tail)->next)
                ;
        *tail = w;
        /* Not on the caller's stack: it may not be ready for done yet. */
        if (!waits && begin(w) < 0)
                (void)sd_event_source_set_enabled(q->stalled, SD_EVENT_ONESHOT);
        *ret = w;
        return 0;
}

void group_work_cancel(GroupWork *w)
{
        if (!w)
                return;
        if (w->running) {
                w->cancelled = true; /* on_done() begins the next */
                return;
        }
        unlink_work(w);
        work_free(w);
}

bool group_work_queue_busy(const GroupWorkQueue *q)
{
        return q->first != NULL;
}

GroupWorkQueue *group_work_queue_free(GroupWorkQueue *q)
{
        if (!q)
                return NULL;
        sd_event_source_disable_unref(q->stalled);
        while (q->first) {
                GroupWork *w = q->first;

                q->first = w->next;
                if (w->running)
                        loop_work_cancel(w->running); /* the worker frees w */
                else
                        work_free(w);
        }
        free(q);
        return NULL;
}
