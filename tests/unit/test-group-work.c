/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <glib.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "group-work.h"

/* Work on a group's nodes, one at a time per group and in the order
 * started: a later work on the group begins only once the earlier one has
 * returned, even when that one was cancelled; work on another group runs
 * beside it; cancelled work not begun never begins; without workers, the
 * work is done on the loop, in the same order. */

/* worker_pool_run(), failing while workers_fail. */
int __real_worker_pool_run(WorkerPool *p, WorkFn fn, void *userdata);
int __wrap_worker_pool_run(WorkerPool *p, WorkFn fn, void *userdata);
static bool workers_fail;
static pthread_t loop_thread;

int __wrap_worker_pool_run(WorkerPool *p, WorkFn fn, void *userdata)
{
        return workers_fail ? -EAGAIN : __real_worker_pool_run(p, fn, userdata);
}

/* What happened, in order: 'b' a work began, 'e' it returned in its
 * worker, 'd' its done ran on the loop, 'f' it was freed; then its name. */
typedef struct Log {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        char text[256];
        sd_event *event;
        int done_to_exit; /* the loop exits after that many more dones */
} Log;

typedef struct Work {
        Log *log;
        char name;
        bool blocks, released; /* blocks until released (under log->lock) */
        bool on_loop;          /* it was done on the loop's thread */
        struct Work *then;     /* done starts it, on the same group */
        GroupWorkQueue *queue;
} Work;

static Log the_log = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static void note(Log *log, char what, char name)
{
        size_t n;

        pthread_mutex_lock(&log->lock);
        n = strlen(log->text);
        g_assert_cmpuint(n + 3, <, sizeof(log->text));
        log->text[n] = what;
        log->text[n + 1] = name;
        log->text[n + 2] = '\0';
        pthread_cond_broadcast(&log->cond);
        pthread_mutex_unlock(&log->lock);
}

static void do_work(void *userdata)
{
        Work *w = userdata;

        w->on_loop = pthread_equal(pthread_self(), loop_thread);
        note(w->log, 'b', w->name);
        pthread_mutex_lock(&w->log->lock);
        while (w->blocks && !w->released)
                pthread_cond_wait(&w->log->cond, &w->log->lock);
        pthread_mutex_unlock(&w->log->lock);
        note(w->log, 'e', w->name);
}

static void on_free(void *userdata);

static void on_done(void *userdata)
{
        Work *w = userdata;

        note(w->log, 'd', w->name);
        if (--w->log->done_to_exit == 0)
                sd_event_exit(w->log->event, 0);
}

static void on_done_then(void *userdata)
{
        Work *w = userdata;
        GroupWork *ignored;

        g_assert_cmpint(group_work_start(w->queue, 1, do_work, on_done, on_free, w->then, &ignored), ==, 0);
        on_done(w);
}

static void on_free(void *userdata)
{
        Work *w = userdata;

        note(w->log, 'f', w->name);
}

static void release(Work *w)
{
        pthread_mutex_lock(&w->log->lock);
        w->released = true;
        pthread_cond_broadcast(&w->log->cond);
        pthread_mutex_unlock(&w->log->lock);
}

/* Whether the log has that pair yet. */
static bool logged(Log *log, const char *pair)
{
        bool found = false;

        pthread_mutex_lock(&log->lock);
        for (size_t i = 0; log->text[i] && !found; i += 2)
                found = strncmp(log->text + i, pair, 2) == 0;
        pthread_mutex_unlock(&log->lock);
        return found;
}

/* Where a pair is in the log: its place among the pairs, -1 if missing. */
static int place(Log *log, const char *pair)
{
        int at = -1;

        pthread_mutex_lock(&log->lock);
        for (size_t i = 0; log->text[i] && at < 0; i += 2)
                if (strncmp(log->text + i, pair, 2) == 0)
                        at = (int)(i / 2);
        pthread_mutex_unlock(&log->lock);
        return at;
}

/* Runs the loop until pair is logged (by a worker, or by the loop). */
static void run_until(Log *log, const char *pair)
{
        for (int i = 0; i < 10000 && !logged(log, pair); i++)
                g_assert_cmpint(sd_event_run(log->event, 1000), >=, 0);
        g_assert_true(logged(log, pair));
}

/* Waits until pair is logged by a worker, or was by the loop. */
static void wait_logged(Log *log, const char *pair)
{
        for (int i = 0; i < 1000 && !logged(log, pair); i++)
                g_usleep(10000);
        g_assert_true(logged(log, pair));
}

/* The works are the test's: a worker may still be about to free them. */
static void wait_freed(Log *log, const char *names)
{
        for (; *names; names++)
                wait_logged(log, (char[]){ 'f', *names, '\0' });
}

typedef struct Fixture {
        WorkerPool *pool;
        GroupWorkQueue *queue;
} Fixture;

static void setup(Fixture *f, gconstpointer data)
{
        memset(the_log.text, 0, sizeof(the_log.text));
        workers_fail = false;
        loop_thread = pthread_self();
        the_log.done_to_exit = 0;
        g_assert_cmpint(sd_event_new(&the_log.event), >=, 0);
        g_assert_cmpint(worker_pool_new(1000000, &f->pool), ==, 0);
        g_assert_cmpint(group_work_queue_new(the_log.event, f->pool, &f->queue), ==, 0);
}

static void teardown(Fixture *f, gconstpointer data)
{
        group_work_queue_free(f->queue);
        worker_pool_free(f->pool);
        the_log.event = sd_event_unref(the_log.event);
}

static void start(Fixture *f, int group, Work *w, GroupWork **ret)
{
        GroupWork *ignored;

        g_assert_cmpint(group_work_start(f->queue, group, do_work, on_done, on_free, w, ret ? ret : &ignored), ==, 0);
}

static void test_in_order_per_group(Fixture *f, gconstpointer data)
{
        Work a = { .log = &the_log, .name = 'A', .blocks = true }, b = { .log = &the_log, .name = 'B' }, c = { .log = &the_log, .name = 'C' },
             other = { .log = &the_log, .name = 'O' };

        start(f, 1, &a, NULL);
        start(f, 1, &b, NULL);
        start(f, 2, &other, NULL);
        start(f, 1, &c, NULL);
        run_until(&the_log, "dO"); /* another group's work ends while A blocks */
        wait_logged(&the_log, "bA");
        g_assert_false(logged(&the_log, "bB"));
        release(&a);
        the_log.done_to_exit = 3;
        g_assert_cmpint(sd_event_loop(the_log.event), ==, 0);
        g_assert_cmpint(place(&the_log, "eA"), <, place(&the_log, "bB"));
        g_assert_cmpint(place(&the_log, "dA"), <, place(&the_log, "bB"));
        g_assert_cmpint(place(&the_log, "eB"), <, place(&the_log, "bC"));
        g_assert_cmpint(place(&the_log, "dB"), <, place(&the_log, "bC"));
        g_assert_false(a.on_loop || b.on_loop || c.on_loop || other.on_loop);
        wait_freed(&the_log, "ABCO");
}

static void test_cancelled_not_begun_never_begins(Fixture *f, gconstpointer data)
{
        Work a = { .log = &the_log, .name = 'A', .blocks = true }, b = { .log = &the_log, .name = 'B' }, c = { .log = &the_log, .name = 'C' };
        GroupWork *gb;

        start(f, 1, &a, NULL);
        start(f, 1, &b, &gb);
        start(f, 1, &c, NULL);
        group_work_cancel(gb);
        g_assert_true(logged(&the_log, "fB")); /* at once */
        release(&a);
        the_log.done_to_exit = 2;
        g_assert_cmpint(sd_event_loop(the_log.event), ==, 0);
        g_assert_cmpint(place(&the_log, "bB"), ==, -1);
        g_assert_cmpint(place(&the_log, "dB"), ==, -1);
        g_assert_cmpint(place(&the_log, "eA"), <, place(&the_log, "bC"));
        wait_freed(&the_log, "AC");
}

static void test_cancelled_under_way_still_first(Fixture *f, gconstpointer data)
{
        Work a = { .log = &the_log, .name = 'A', .blocks = true }, b = { .log = &the_log, .name = 'B' };
        GroupWork *ga;

        start(f, 1, &a, &ga);
        start(f, 1, &b, NULL);
        run_until(&the_log, "bA");
        group_work_cancel(ga);
        for (int i = 0; i < 20; i++)
                g_assert_cmpint(sd_event_run(the_log.event, 1000), >=, 0);
        g_assert_false(logged(&the_log, "bB")); /* A has not returned */
        release(&a);
        the_log.done_to_exit = 1;
        g_assert_cmpint(sd_event_loop(the_log.event), ==, 0);
        g_assert_cmpint(place(&the_log, "eA"), <, place(&the_log, "bB"));
        g_assert_cmpint(place(&the_log, "dA"), ==, -1);
        wait_freed(&the_log, "AB");
}

static void test_free_at_exit(Fixture *f, gconstpointer data)
{
        Work a = { .log = &the_log, .name = 'A', .blocks = true }, b = { .log = &the_log, .name = 'B' };

        start(f, 1, &a, NULL);
        start(f, 1, &b, NULL);
        run_until(&the_log, "bA");
        f->queue = group_work_queue_free(f->queue);
        g_assert_true(logged(&the_log, "fB"));
        g_assert_false(logged(&the_log, "fA")); /* its worker still has it */
        release(&a);
        wait_freed(&the_log, "A");
        g_assert_cmpint(place(&the_log, "bB"), ==, -1);
        g_assert_cmpint(place(&the_log, "dA"), ==, -1);
}

/* Work a done starts on its own group comes after what was queued
 * before it (a grant's open after a node change asked meanwhile). */
static void test_done_starts_more(Fixture *f, gconstpointer data)
{
        Work d = { .log = &the_log, .name = 'D' }, b = { .log = &the_log, .name = 'B' },
             a = { .log = &the_log, .name = 'A', .blocks = true, .then = &d, .queue = f->queue };

        g_assert_cmpint(group_work_start(f->queue, 1, do_work, on_done_then, on_free, &a, &(GroupWork *){ NULL }),
                        ==, 0);
        start(f, 1, &b, NULL);
        wait_logged(&the_log, "bA");
        release(&a);
        the_log.done_to_exit = 3;
        g_assert_cmpint(sd_event_loop(the_log.event), ==, 0);
        g_assert_cmpint(place(&the_log, "dA"), <, place(&the_log, "bB"));
        g_assert_cmpint(place(&the_log, "eB"), <, place(&the_log, "bD"));
        wait_freed(&the_log, "ABD");
}

/* No worker can be had: each work is done on the loop, after the call
 * that started it, in the same order. */
static void test_without_workers(Fixture *f, gconstpointer data)
{
        Work a = { .log = &the_log, .name = 'A' }, b = { .log = &the_log, .name = 'B' },
             other = { .log = &the_log, .name = 'O' };

        workers_fail = true;
        start(f, 1, &a, NULL);
        start(f, 1, &b, NULL);
        start(f, 2, &other, NULL);
        g_assert_cmpstr(the_log.text, ==, ""); /* nothing within the calls */
        g_assert_true(group_work_queue_busy(f->queue));
        the_log.done_to_exit = 3;
        g_assert_cmpint(sd_event_loop(the_log.event), ==, 0);
        g_assert_true(a.on_loop && b.on_loop && other.on_loop);
        g_assert_cmpint(place(&the_log, "dA"), <, place(&the_log, "bB"));
        g_assert_false(group_work_queue_busy(f->queue));
        wait_freed(&the_log, "ABO");
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add("/group-work/in-order-per-group", Fixture, NULL, setup, test_in_order_per_group, teardown);
        g_test_add("/group-work/cancelled-not-begun-never-begins", Fixture, NULL, setup,
                   test_cancelled_not_begun_never_begins, teardown);
        g_test_add("/group-work/cancelled-under-way-still-first", Fixture, NULL, setup,
                   test_cancelled_under_way_still_first, teardown);
        g_test_add("/group-work/free-at-exit", Fixture, NULL, setup, test_free_at_exit, teardown);
        g_test_add("/group-work/done-starts-more", Fixture, NULL, setup, test_done_starts_more, teardown);
        g_test_add("/group-work/without-workers", Fixture, NULL, setup, test_without_workers, teardown);
        return g_test_run();
}
