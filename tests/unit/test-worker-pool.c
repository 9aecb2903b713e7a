/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib.h>
#include <pthread.h>
#include <time.h>
#include <stdbool.h>
#include <unistd.h>

#include "worker-pool.h"

/* The worker threads of the engine: work runs off the caller's thread,
 * idle threads are reused, and work that blocks holds up nothing else. */

typedef struct Work {
        pthread_mutex_t lock; /* pthread's, which ThreadSanitizer understands */
        pthread_cond_t cond;
        bool done, release; /* release: blocking work may return */
        bool blocks;
        pid_t tid; /* the thread it ran in */
} Work;

static void work_init(Work *w, bool blocks)
{
        *w = (Work){ .blocks = blocks };
        pthread_mutex_init(&w->lock, NULL);
        pthread_cond_init(&w->cond, NULL);
}

static void work_clear(Work *w)
{
        pthread_mutex_destroy(&w->lock);
        pthread_cond_destroy(&w->cond);
}

static void run_work(void *userdata)
{
        Work *w = userdata;

        pthread_mutex_lock(&w->lock);
        while (w->blocks && !w->release)
                pthread_cond_wait(&w->cond, &w->lock);
        w->tid = gettid();
        w->done = true;
        pthread_cond_broadcast(&w->cond);
        pthread_mutex_unlock(&w->lock);
}

static void wait_done(Work *w)
{
        struct timespec deadline;

        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += 10;
        pthread_mutex_lock(&w->lock);
        while (!w->done)
                g_assert_cmpint(pthread_cond_timedwait(&w->cond, &w->lock, &deadline), ==, 0);
        pthread_mutex_unlock(&w->lock);
}

static void release(Work *w)
{
        pthread_mutex_lock(&w->lock);
        w->release = true;
        pthread_cond_broadcast(&w->cond);
        pthread_mutex_unlock(&w->lock);
}

/* Runs two works gap_usec apart in a pool whose threads idle idle_usec;
 * the threads they ran in, neither the caller's. */
static void run_two_apart(uint64_t idle_usec, uint64_t gap_usec, pid_t *ret_first, pid_t *ret_second)
{
        WorkerPool *p = NULL;
        Work a, b;

        work_init(&a, false);
        work_init(&b, false);
        g_assert_cmpint(worker_pool_new(idle_usec, &p), ==, 0);
        g_assert_cmpint(worker_pool_run(p, run_work, &a), ==, 0);
        wait_done(&a);
        g_usleep(gap_usec);
        g_assert_cmpint(worker_pool_run(p, run_work, &b), ==, 0);
        wait_done(&b);
        g_assert_cmpint(a.tid, !=, gettid());
        g_assert_cmpint(b.tid, !=, gettid());
        *ret_first = a.tid;
        *ret_second = b.tid;
        worker_pool_free(p);
        work_clear(&a);
        work_clear(&b);
}

/* The next work after one runs in the same thread. The thread goes back to
 * the idle list once run_work() has returned: the gap gives it the moment
 * it needs. */
static void test_reuses_idle_thread(void)
{
        pid_t first, second;

        run_two_apart(10 * G_TIME_SPAN_SECOND, 100 * 1000, &first, &second);
        g_assert_cmpint(second, ==, first);
}

/* An idle thread ends after the idle time: the next work gets a new one. */
static void test_idle_thread_ends(void)
{
        pid_t first, second;

        run_two_apart(20 * 1000, 300 * 1000, &first, &second);
        g_assert_cmpint(second, !=, first);
}

/* Work that blocks (a sysfs write the kernel holds) does not hold up the
 * next; freeing the pool meanwhile leaves the blocked thread to end on its
 * own (ASan would see it touch freed memory). */
static void test_blocked_work_holds_up_nothing(void)
{
        WorkerPool *p = NULL;
        Work stuck, next;

        work_init(&stuck, true);
        work_init(&next, false);
        g_assert_cmpint(worker_pool_new(10 * G_TIME_SPAN_SECOND, &p), ==, 0);
        g_assert_cmpint(worker_pool_run(p, run_work, &stuck), ==, 0);
        g_assert_cmpint(worker_pool_run(p, run_work, &next), ==, 0);
        wait_done(&next);
        g_assert_false(stuck.done);
        worker_pool_free(p);
        release(&stuck);
        wait_done(&stuck);
        g_assert_cmpint(stuck.tid, !=, next.tid);
        g_usleep(100 * 1000); /* the thread's own end, after the work */
        work_clear(&stuck);
        work_clear(&next);
}

int main(int argc, char *argv[])
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/worker-pool/reuses-idle-thread", test_reuses_idle_thread);
        g_test_add_func("/worker-pool/idle-thread-ends", test_idle_thread_ends);
        g_test_add_func("/worker-pool/blocked-work-holds-up-nothing", test_blocked_work_holds_up_nothing);
        return g_test_run();
}
