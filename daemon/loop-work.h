/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-event.h>

#include "worker-pool.h"

/* Work that may wait on the kernel (open a group node while an exiting
 * VMM's release holds the group's lock, say), done in a worker thread so
 * that the event loop goes on meanwhile, and its end handed back to the
 * loop. */

typedef struct LoopWork LoopWork;
typedef void (*LoopWorkDoneFn)(void *userdata);
typedef void (*LoopWorkFreeFn)(void *userdata);

/* Runs work(userdata) in a thread of pool, then done(userdata) on the
 * event loop. free_fn(userdata) (may be NULL) follows once both have let
 * go, on the loop or in the worker's thread. *ret is valid until done is
 * called or the work is cancelled; done must not cancel it. */
int loop_work_start(sd_event *event, WorkerPool *pool, WorkFn work, LoopWorkDoneFn done, LoopWorkFreeFn free_fn,
                    void *userdata, LoopWork **ret);
/* done is not called. The work runs to its end all the same (a thread in
 * the kernel cannot be called back), and free_fn then runs in its thread. */
void loop_work_cancel(LoopWork *w);
