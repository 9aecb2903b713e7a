/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "loop-work.h"
#include "macro.h"

/* Shared by the loop and the worker; the last of the two out frees it.
 * The worker tells the loop through a pipe, whose read end stays open
 * until then: a cancelled work's write never meets a closed pipe. */
struct LoopWork {
        atomic_int refs;
        int pipe[2];
        sd_event_source *io;
        WorkFn work;
        LoopWorkDoneFn done;
        LoopWorkFreeFn free_fn;
        void *userdata;
};

static void loop_work_unref(LoopWork *w)
{
        if (atomic_fetch_sub(&w->refs, 1) != 1)
                return;
        if (w->free_fn)
                w->free_fn(w->userdata);
        closep(&w->pipe[0]);
        closep(&w->pipe[1]);
        free(w);
}

static void run_in_worker(void *userdata)
{
        LoopWork *w = userdata;

        w->work(w->userdata);
        (void)!write(w->pipe[1], "", 1);
        loop_work_unref(w);
}

/* The loop lets go of w: its event source first, which the worker never
 * touches. */
static void loop_let_go(LoopWork *w)
{
        w->io = sd_event_source_disable_unref(w->io);
        loop_work_unref(w);
}

static int on_work_done(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        LoopWork *w = userdata;
        char byte;

        /* Read, so that what the work wrote is seen here (as
         * ThreadSanitizer knows too): the worker wrote the byte after. */
        if (read(fd, &byte, 1) != 1)
                return 0;
        w->done(w->userdata);
        loop_let_go(w);
        return 0;
}

int loop_work_start(sd_event *event, WorkerPool *pool, WorkFn work, LoopWorkDoneFn done, LoopWorkFreeFn free_fn,
                    void *userdata, LoopWork **ret)
{
        LoopWork *w = calloc(1, sizeof(*w));
        int r;

        if (!w)
                return -ENOMEM;
        *w = (LoopWork){ .pipe = { -1, -1 }, .work = work, .done = done, .free_fn = free_fn, .userdata = userdata };
        atomic_init(&w->refs, 1);
        if (pipe2(w->pipe, O_CLOEXEC) < 0)
                r = -errno;
        else
                r = sd_event_add_io(event, &w->io, w->pipe[0], EPOLLIN, on_work_done, w);
        if (r >= 0) {
                atomic_fetch_add(&w->refs, 1); /* the worker's */
                r = worker_pool_run(pool, run_in_worker, w);
                if (r < 0)
                        atomic_fetch_sub(&w->refs, 1);
        }
        if (r < 0) {
                w->free_fn = NULL; /* userdata stays the caller's */
                loop_let_go(w);
                return r;
        }
        *ret = w;
        return 0;
}

void loop_work_cancel(LoopWork *w)
{
        if (w)
                loop_let_go(w);
}
