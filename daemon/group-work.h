/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "loop-work.h"

/* Work on one IOMMU group's nodes in a worker (loop-work.h), one at a
 * time per group and in the order it was started. Two changes of a node's
 * owner that overtook each other would leave it as the earlier one meant:
 * a lease's end taking the node back before its grant's change had given
 * it away would leave it to the former lessee. Work on other groups runs
 * beside it. */

typedef struct GroupWorkQueue GroupWorkQueue;
typedef struct GroupWork GroupWork;

int group_work_queue_new(sd_event *event, WorkerPool *pool, GroupWorkQueue **ret);
/* At exit: work not begun is dropped (its free_fn runs now), work under
 * way is cancelled (loop_work_cancel()). */
GroupWorkQueue *group_work_queue_free(GroupWorkQueue *q);

/* As loop_work_start(), once every work on group started before has
 * ended. Where no worker can be had, the work is done on the loop, soon
 * after (never within this call): slower, never out of order. *ret is
 * valid until done is called or the work is cancelled; done must not
 * cancel it. -ENOMEM, or 0. */
int group_work_start(GroupWorkQueue *q, int group, WorkFn work, LoopWorkDoneFn done, LoopWorkFreeFn free_fn,
                     void *userdata, GroupWork **ret);
/* done is not called. Work not begun never begins; work under way runs to
 * its end, and the group's next work begins only then. */
void group_work_cancel(GroupWork *w);
/* Whether any work is queued or under way. */
bool group_work_queue_busy(const GroupWorkQueue *q);
