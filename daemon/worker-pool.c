/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "worker-pool.h"

typedef struct Worker Worker;

struct Worker {
        WorkerPool *pool;
        pthread_cond_t wake;
        WorkFn fn; /* the work handed to it, NULL while it waits */
        void *userdata;
        Worker *next; /* in the pool's idle list */
};

/* Everything but idle_usec is under lock. */
struct WorkerPool {
        pthread_mutex_t lock;
        uint64_t idle_usec;
        unsigned refs; /* the owner's, and one for each thread */
        bool closing;
        Worker *idle;
};

/* Drops a reference and the lock; the last reference frees the pool. */
static void pool_unref_unlock(WorkerPool *p)
{
        bool last = --p->refs == 0;

        pthread_mutex_unlock(&p->lock);
        if (!last)
                return;
        pthread_mutex_destroy(&p->lock);
        free(p);
}

static void idle_remove(WorkerPool *p, Worker *w)
{
        for (Worker **i = &p->idle; *i; i = &(*i)->next)
                if (*i == w) {
                        *i = w->next;
                        return;
                }
}

static struct timespec idle_deadline(const WorkerPool *p)
{
        struct timespec ts;
        uint64_t nsec;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        nsec = (uint64_t)ts.tv_nsec + p->idle_usec % 1000000 * 1000;
        ts.tv_sec += (time_t)(p->idle_usec / 1000000 + nsec / 1000000000);
        ts.tv_nsec = (long)(nsec % 1000000000);
        return ts;
}

/* Waits for work until the deadline or the pool's end; false: none came. */
static bool wait_for_work(Worker *w)
{
        WorkerPool *p = w->pool;
        struct timespec deadline = idle_deadline(p);

        w->next = p->idle;
        p->idle = w;
        while (!w->fn && !p->closing)
                if (pthread_cond_timedwait(&w->wake, &p->lock, &deadline) == ETIMEDOUT)
                        break;
        /* worker_pool_run() took it off the list when it handed it work. */
        if (!w->fn)
                idle_remove(p, w);
        return w->fn != NULL;
}

static void *worker_main(void *userdata)
{
        Worker *w = userdata;
        WorkerPool *p = w->pool;

        pthread_mutex_lock(&p->lock);
        do {
                WorkFn fn = w->fn;
                void *fn_userdata = w->userdata;

                w->fn = NULL;
                pthread_mutex_unlock(&p->lock);
                fn(fn_userdata);
                pthread_mutex_lock(&p->lock);
        } while (!p->closing && wait_for_work(w));
        pthread_cond_destroy(&w->wake);
        free(w);
        pool_unref_unlock(p);
        return NULL;
}

static int start_worker(WorkerPool *p, WorkFn fn, void *userdata)
{
        Worker *w = calloc(1, sizeof(*w));
        pthread_condattr_t cond_attr;
        pthread_attr_t attr;
        pthread_t thread;
        int r;

        if (!w)
                return -ENOMEM;
        *w = (Worker){ .pool = p, .fn = fn, .userdata = userdata };
        pthread_condattr_init(&cond_attr);
        pthread_condattr_setclock(&cond_attr, CLOCK_MONOTONIC);
        pthread_cond_init(&w->wake, &cond_attr);
        pthread_condattr_destroy(&cond_attr);

        pthread_mutex_lock(&p->lock);
        p->refs++;
        pthread_mutex_unlock(&p->lock);
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        r = -pthread_create(&thread, &attr, worker_main, w);
        pthread_attr_destroy(&attr);
        if (r < 0) {
                pthread_mutex_lock(&p->lock);
                p->refs--;
                pthread_mutex_unlock(&p->lock);
                pthread_cond_destroy(&w->wake);
                free(w);
        }
        return r;
}

int worker_pool_run(WorkerPool *p, WorkFn fn, void *userdata)
{
        Worker *w;

        pthread_mutex_lock(&p->lock);
        w = p->idle;
        if (w) {
                p->idle = w->next;
                w->fn = fn;
                w->userdata = userdata;
                pthread_cond_signal(&w->wake);
        }
        pthread_mutex_unlock(&p->lock);
        return w ? 0 : start_worker(p, fn, userdata);
}

int worker_pool_new(uint64_t idle_usec, WorkerPool **ret)
{
        WorkerPool *p = calloc(1, sizeof(*p));

        if (!p)
                return -ENOMEM;
        pthread_mutex_init(&p->lock, NULL);
        p->idle_usec = idle_usec;
        p->refs = 1;
        *ret = p;
        return 0;
}

WorkerPool *worker_pool_free(WorkerPool *p)
{
        if (!p)
                return NULL;
        pthread_mutex_lock(&p->lock);
        p->closing = true;
        for (Worker *w = p->idle; w; w = w->next)
                pthread_cond_signal(&w->wake);
        pool_unref_unlock(p);
        return NULL;
}
