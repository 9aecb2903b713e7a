/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "loop-work.h"

/* Work off the event loop, its end back on the loop: the loop runs while
 * the work blocks, done runs on the loop after the work, and a cancelled
 * work never calls done but is freed once it returns. */

typedef struct Work {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool blocks, released; /* blocks until released */
        bool worked, done_called, freed;
        bool worked_before_done; /* as seen by done */
        sd_event *event;
} Work;

static void work_init(Work *w, bool blocks, sd_event *event)
{
        *w = (Work){ .blocks = blocks, .event = event };
        pthread_mutex_init(&w->lock, NULL);
        pthread_cond_init(&w->cond, NULL);
}

static void set_flag(Work *w, bool *flag)
{
        pthread_mutex_lock(&w->lock);
        *flag = true;
        pthread_cond_broadcast(&w->cond);
        pthread_mutex_unlock(&w->lock);
}

static void do_work(void *userdata)
{
        Work *w = userdata;

        pthread_mutex_lock(&w->lock);
        while (w->blocks && !w->released)
                pthread_cond_wait(&w->cond, &w->lock);
        pthread_mutex_unlock(&w->lock);
        set_flag(w, &w->worked);
}

static void on_done(void *userdata)
{
        Work *w = userdata;

        pthread_mutex_lock(&w->lock);
        w->worked_before_done = w->worked && !w->freed;
        pthread_mutex_unlock(&w->lock);
        set_flag(w, &w->done_called);
        sd_event_exit(w->event, 0);
}

static void on_free(void *userdata)
{
        Work *w = userdata;

        set_flag(w, &w->freed);
}

static void wait_flag(Work *w, const bool *flag)
{
        struct timespec deadline;

        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += 10;
        pthread_mutex_lock(&w->lock);
        while (!*flag)
                g_assert_cmpint(pthread_cond_timedwait(&w->cond, &w->lock, &deadline), ==, 0);
        pthread_mutex_unlock(&w->lock);
}

typedef struct Tick {
        Work *work;
        bool ticked;
} Tick;

/* A timer on the loop, due while the work still blocks: it lets it go. */
static int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
        Tick *t = userdata;

        t->ticked = true;
        pthread_mutex_lock(&t->work->lock);
        t->work->released = true;
        pthread_cond_broadcast(&t->work->cond);
        pthread_mutex_unlock(&t->work->lock);
        return 0;
}

static void test_done_on_loop_after_work(void)
{
        sd_event *event = NULL;
        WorkerPool *pool = NULL;
        LoopWork *lw = NULL;
        Tick tick = {};
        Work w;

        g_assert_cmpint(sd_event_new(&event), >=, 0);
        g_assert_cmpint(worker_pool_new(1000000, &pool), ==, 0);
        work_init(&w, true, event);
        tick.work = &w;
        g_assert_cmpint(loop_work_start(event, pool, do_work, on_done, on_free, &w, &lw), ==, 0);
        g_assert_cmpint(sd_event_add_time_relative(event, NULL, CLOCK_MONOTONIC, 10 * 1000, 0, on_tick, &tick), >=, 0);
        g_assert_cmpint(sd_event_loop(event), ==, 0);
        g_assert_true(tick.ticked); /* the loop ran while the work blocked */
        g_assert_true(w.done_called);
        g_assert_true(w.worked_before_done);
        wait_flag(&w, &w.freed); /* after done, by whichever of the two let go last */
        worker_pool_free(pool);
        sd_event_unref(event);
}

static void test_cancelled_never_done(void)
{
        sd_event *event = NULL;
        WorkerPool *pool = NULL;
        LoopWork *lw = NULL;
        Work w;

        g_assert_cmpint(sd_event_new(&event), >=, 0);
        g_assert_cmpint(worker_pool_new(1000000, &pool), ==, 0);
        work_init(&w, true, event);
        g_assert_cmpint(loop_work_start(event, pool, do_work, on_done, on_free, &w, &lw), ==, 0);
        loop_work_cancel(lw);
        g_assert_false(w.freed); /* the worker still has it */
        pthread_mutex_lock(&w.lock);
        w.released = true;
        pthread_cond_broadcast(&w.cond);
        pthread_mutex_unlock(&w.lock);
        wait_flag(&w, &w.freed);
        g_assert_true(w.worked);
        /* Nothing is left on the loop for it. */
        for (int i = 0; i < 10; i++)
                g_assert_cmpint(sd_event_run(event, 1000), >=, 0);
        g_assert_false(w.done_called);
        worker_pool_free(pool);
        sd_event_unref(event);
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/loop-work/done-on-loop-after-work", test_done_on_loop_after_work);
        g_test_add_func("/loop-work/cancelled-never-done", test_cancelled_never_done);
        return g_test_run();
}
