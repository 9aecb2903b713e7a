/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* Threads that run work off the event loop. A thread that has finished
 * waits a while for more: starting one costs more than the steps of a
 * short claim. Work never waits for a thread: when none is idle, a new one
 * starts, so that work stuck in the kernel holds up nothing else. */

typedef struct WorkerPool WorkerPool;
typedef void (*WorkFn)(void *userdata);

/* Idle threads end after idle_usec without work. */
int worker_pool_new(uint64_t idle_usec, WorkerPool **ret);
/* Runs fn(userdata) in an idle thread, or in a new one. */
int worker_pool_run(WorkerPool *p, WorkFn fn, void *userdata);
/* Idle threads end now, busy ones once their work returns; the last one
 * out frees the pool. */
WorkerPool *worker_pool_free(WorkerPool *p);
