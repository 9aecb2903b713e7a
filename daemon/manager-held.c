/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>

#include "fs-util.h"
#include "group-work.h"
#include "handover.h"
#include "log.h"
#include "macro.h"
#include "manager-held.h"
#include "manager-leases.h"
#include "manager-nodes.h"
#include "manager-reservations.h"
#include "manager.h"
#include "number.h"
#include "vfio-cdev.h"

/* A group whose lease ended while its holder still has it open: the kernel
 * would block the release until the last fd closes, and the group would
 * show as stuck with nobody named. Instead it shows as "held", with the
 * PIDs, and goes back once the group node's last fd closes (a device fd
 * holds the group open too), and the last of its devices' cdevs. So does
 * a group that vfiod-early holds for a reservation that went, when a
 * process (a VM started by hand) has it open. inotify, on the node and on
 * the cdevs' directory, tells of the last close of an open file, but before
 * the kernel has let the group go (fsnotify comes first in __fput): the
 * group is asked again shortly after, and every few seconds in case. A
 * holder that shares its open file with another (forked, or passed over a
 * socket) closes nothing when it exits: a named holder gone has the
 * holders named anew at the next ask. Every ask runs in a worker
 * (HeldAsk), and from a lease's end until the first answer the group
 * shows as held too, with nobody named. */

#define AFTER_CLOSE_USEC (20 * 1000ULL)
#define RECHECK_USEC (2 * 1000000ULL)
/* After the first ask: a holder that exits with the lease (a VMM with the
 * guard fd and the group fd) may be letting go right now. */
#define SOON_USEC (100 * 1000ULL)
/* An ask that waits this long in the kernel is said in the log, once. */
#define SLOW_ASK_USEC (10 * 1000000ULL)
/* The recheck fires this close to its time. sd-event's default (250 ms)
 * would let the ask after a close come up to 250 ms after AFTER_CLOSE_USEC. */
#define RECHECK_ACCURACY_USEC (1000ULL)

struct HeldGroup {
        Manager *manager;
        int group;
        HeldThen then;
        HeldFirstFn first; /* NULL once called, or when then is all */
        void *first_userdata;
        bool answered;  /* the kernel has answered once */
        bool take_node; /* the nodes are to be taken back, before the first ask */
        bool rescan;   /* a holder closed it: name who is left */
        bool polled;   /* a watch could not be had: every ask names them again */
        /* The last ask could not tell whether it is held, or the last look
         * who holds it: each said once a spell, not at every ask. */
        bool unknown, holders_unknown;
        sd_event_source *watch, *cdev_watch, *recheck;
        GroupWork *asking; /* an ask under way, in order with the changes of the group's nodes */
        uint64_t asked_since; /* CLOCK_MONOTONIC */
        bool slow_said;
        VfioHolder *holders;
        size_t n_holders;
        HeldGroup *next;
};

/* One ask of the kernel, made in a worker: opening the group node waits
 * for the group's lock, which the kernel holds while it lets go of a
 * closed group (a VMM's memory unpinned at its exit takes seconds, more
 * for a big one), and the look at the processes reads /proc. The loop
 * fills in what is asked; the worker, what is answered. */
typedef struct HeldAsk {
        HeldGroup *h; /* the loop's alone */
        int group;
        bool name;          /* name who holds it, if it is held */
        bool after_unknown; /* the last ask could not tell: if it is held, name them anew */
        pid_t *named;       /* those named last: one of them gone, they are named anew */
        size_t n_named;
        int held; /* as vfio_group_held() */
        bool named_again;
        int holders_error;
        VfioHolder *holders;
        size_t n_holders;
} HeldAsk;

static HeldGroup *held_free(HeldGroup *h)
{
        if (!h)
                return NULL;
        sd_event_source_disable_unref(h->watch);
        sd_event_source_disable_unref(h->cdev_watch);
        sd_event_source_disable_unref(h->recheck);
        group_work_cancel(h->asking);
        free(h->holders);
        free(h);
        return NULL;
}

static void held_freep(HeldGroup **h)
{
        held_free(*h);
}

static void held_unlink(HeldGroup *h)
{
        for (HeldGroup **p = &h->manager->held; *p; p = &(*p)->next)
                if (*p == h) {
                        *p = h->next;
                        return;
                }
}

const HeldGroup *manager_held_group(const Manager *m, int group)
{
        for (const HeldGroup *h = m->held; h; h = h->next)
                if (h->group == group)
                        return h;
        return NULL;
}

const VfioHolder *held_group_holders(const HeldGroup *h, size_t *n)
{
        *n = h->n_holders;
        return h->holders;
}

bool held_group_answered(const HeldGroup *h)
{
        return h->answered;
}

static bool has_holder(const HeldGroup *h, pid_t pid)
{
        for (size_t i = 0; i < h->n_holders; i++)
                if (h->holders[i].pid == pid)
                        return true;
        return false;
}

/* The same PIDs, in whichever order the scan's threads found them. */
static bool same_holders(const HeldGroup *h, const VfioHolder *holders, size_t n)
{
        if (n != h->n_holders)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!has_holder(h, holders[i].pid))
                        return false;
        return true;
}

/* Whether error (< 0 for one) begins a spell of not knowing, which is
 * logged once; *unknown says whether one is under way. */
static bool first_not_knowing(bool *unknown, int error)
{
        bool first = error < 0 && !*unknown;

        *unknown = error < 0;
        return first;
}

/* Not knowing is not free (a release would wait on the kernel): the group
 * is asked again, and the log says so once, not at every ask. */
static void note_not_knowing(HeldGroup *h, int held)
{
        if (first_not_knowing(&h->unknown, held))
                log_warning_errno(held, "Cannot tell whether IOMMU group %d is still held open; asking every %llu s",
                                  h->group, (unsigned long long)(RECHECK_USEC / 1000000));
}

/* ---- in the worker ---- */

/* Gone, or dead and not yet reaped (a zombie has closed its fds). */
static bool holder_gone(pid_t pid)
{
        char path[32], state;
        int r;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        r = proc_stat_state(AT_FDCWD, path, &state);
        if (r < 0)
                return r == -ENOENT || r == -ESRCH; /* otherwise named until the next look */
        return state == 'Z' || state == 'X';
}

static bool any_gone(const HeldAsk *a)
{
        for (size_t i = 0; i < a->n_named; i++)
                if (holder_gone(a->named[i]))
                        return true;
        return false;
}

static void ask_in_worker(void *userdata)
{
        HeldAsk *a = userdata;

        a->held = vfio_group_held(a->group);
        if (a->held == 0 || !(a->name || (a->after_unknown && a->held > 0) || any_gone(a)))
                return;
        a->named_again = true;
        a->holders_error = vfio_group_holders(a->group, &a->holders, &a->n_holders);
}

/* ---- on the loop ---- */

static void held_ask_free(void *userdata)
{
        HeldAsk *a = userdata;

        free(a->named);
        free(a->holders);
        free(a);
}

static void arm_recheck(HeldGroup *h, uint64_t usec)
{
        (void)sd_event_source_set_time_relative(h->recheck, usec);
        (void)sd_event_source_set_enabled(h->recheck, SD_EVENT_ONESHOT);
}

static void log_new_holder(const HeldGroup *h, const VfioHolder *holder)
{
        log_warning("IOMMU group %d: %s, but PID %d (%s) still holds it open; it %s when every such fd is closed.",
                    h->group,
                    h->then == HELD_THEN_UNHOLD ? "vfiod-early holds it for a reservation that went"
                                                : "nobody leases it",
                    (int)holder->pid, holder->comm,
                    h->then == HELD_THEN_UNHOLD                      ? "goes to the host"
                    : engine_is_reserved(h->manager->engine, h->group) ? "is free"
                                                                       : "goes back to its drivers");
}

/* Who holds the group open, as the ask found; those not named before, in
 * the log too. True when that changed. */
static bool take_holders(HeldGroup *h, HeldAsk *a)
{
        if (first_not_knowing(&h->holders_unknown, a->holders_error))
                log_warning_errno(a->holders_error, "Cannot tell who holds IOMMU group %d open", h->group);
        if (a->holders_error < 0 || same_holders(h, a->holders, a->n_holders))
                return false;
        for (size_t i = 0; i < a->n_holders; i++)
                if (!has_holder(h, a->holders[i].pid))
                        log_new_holder(h, &a->holders[i]);
        free(h->holders);
        h->holders = TAKE_PTR(a->holders);
        h->n_holders = a->n_holders;
        return true;
}

/* Nobody holds it any more: what then says, as things are now (the
 * reservations may have changed meanwhile). */
static void settle_free(Manager *m, int group, HeldThen then)
{
        if (then == HELD_THEN_UNHOLD)
                manager_apply_lost_reservation(m, group);
        else if (engine_is_reserved(m->engine, group))
                manager_keep_reserved(m, group, false);
        else
                (void)manager_release_group(m, group, NULL, NULL);
}

static void on_answer(void *userdata)
{
        HeldAsk *a = userdata;
        HeldGroup *h = a->h;
        Manager *m = h->manager;
        HeldFirstFn first = TAKE_PTR(h->first);
        void *first_userdata = h->first_userdata;
        int group = h->group;
        HeldThen then = h->then;
        bool was_answered = h->answered;

        h->asking = NULL;
        h->answered = true;
        if (h->slow_said)
                log_info("IOMMU group %d: the kernel answered after %llu s.", group,
                         (unsigned long long)((now_usec(CLOCK_MONOTONIC) - h->asked_since) / 1000000));
        note_not_knowing(h, a->held);
        if (a->held != 0) {
                bool named = a->named_again && take_holders(h, a);
                arm_recheck(h, !was_answered ? SOON_USEC : h->rescan ? AFTER_CLOSE_USEC : RECHECK_USEC);
                if (first)
                        first(m, group, true, first_userdata);
                if (named || !was_answered)
                        manager_tell_claim_changed(m, group);
                return;
        }
        if (was_answered)
                log_info("IOMMU group %d: its last holder closed it.", group);
        held_unlink(h);
        held_free(h);
        if (first)
                first(m, group, false, first_userdata);
        else
                settle_free(m, group, then);
        manager_tell_claim_changed(m, group);
}

/* Asks the kernel, in a worker, whether the group is still held, and
 * settles it by the answer. name: name its holders too. */
static int ask(HeldGroup *h, bool name)
{
        HeldAsk *a;
        int r;

        /* The nodes root's, 0600, queued before the ask: the lessee opens
         * them no more. Until that is queued, every ask tries again. */
        if (h->take_node) {
                r = manager_set_nodes(h->manager, h->group, NODES_ROOTS, NULL, NULL);
                if (r < 0)
                        return r;
                h->take_node = false;
        }
        a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        *a = (HeldAsk){ .h = h, .group = h->group, .name = name, .after_unknown = h->unknown };
        if (h->n_holders > 0) {
                a->named = calloc(h->n_holders, sizeof(*a->named));
                if (!a->named) {
                        held_ask_free(a);
                        return -ENOMEM;
                }
                for (size_t i = 0; i < h->n_holders; i++)
                        a->named[a->n_named++] = h->holders[i].pid;
        }
        r = group_work_start(h->manager->group_work, h->group, ask_in_worker, on_answer, held_ask_free, a,
                             &h->asking);
        if (r < 0) {
                held_ask_free(a);
                return r;
        }
        h->asked_since = now_usec(CLOCK_MONOTONIC);
        h->slow_said = false;
        arm_recheck(h, SLOW_ASK_USEC); /* the answer arms it anew */
        return 0;
}

/* The recheck came while an ask waits: one that waits long says so. */
static void note_slow_ask(HeldGroup *h)
{
        uint64_t waited = now_usec(CLOCK_MONOTONIC) - h->asked_since;

        if (waited < SLOW_ASK_USEC) {
                arm_recheck(h, SLOW_ASK_USEC - waited);
                return;
        }
        if (!h->slow_said)
                log_warning("IOMMU group %d: the kernel has not said for %llu s whether a process still holds it "
                            "open; it may still be letting go of a group that was closed (an exiting VM's memory "
                            "is unpinned then). The group stays held until it answers.",
                            h->group, (unsigned long long)(waited / 1000000));
        h->slow_said = true;
}

static int on_recheck(sd_event_source *s, uint64_t usec, void *userdata)
{
        HeldGroup *h = userdata;
        int r;

        if (h->asking) {
                note_slow_ask(h); /* its answer sets the next ask */
                return 0;
        }
        r = ask(h, h->rescan || h->polled || !h->answered);
        h->rescan = false;
        if (r < 0) {
                note_not_knowing(h, r);
                arm_recheck(h, RECHECK_USEC);
        }
        return 0;
}

static int on_node_closed(sd_event_source *s, const struct inotify_event *event, void *userdata)
{
        HeldGroup *h = userdata;

        h->rescan = true;
        arm_recheck(h, AFTER_CLOSE_USEC);
        return 0;
}

/* No node at path is nothing to watch (a kernel without group nodes may
 * have cdevs, one without cdevs has no such directory). A watch that
 * cannot be had (inotify's limits, fs.inotify.max_user_*, set low, or
 * used up by another process of vfiod's user) is only slower: the group
 * is asked every few seconds all the same. */
static void watch_closes(HeldGroup *h, const char *path, sd_event_source **ret)
{
        int r = sd_event_add_inotify(h->manager->event, ret, path, IN_CLOSE_WRITE | IN_CLOSE_NOWRITE,
                                     on_node_closed, h);

        if (r == -ENOENT)
                return;
        if (r < 0) {
                log_warning("Cannot watch %s for closes (inotify: %s). IOMMU group %d is asked every %llu s "
                            "whether it is still held open, and by whom.",
                            path, strerror(-r), h->group, (unsigned long long)(RECHECK_USEC / 1000000));
                h->polled = true;
        }
}

int manager_wait_for_holders(Manager *m, int group, HeldThen then, bool take_node, HeldFirstFn first,
                             void *userdata)
{
        _cleanup_(held_freep) HeldGroup *h = calloc(1, sizeof(*h));
        char path[VFIO_NODE_PATH_MAX];
        int r;

        if (!h)
                return -ENOMEM;
        *h = (HeldGroup){ .manager = m, .group = group, .then = then, .first = first, .first_userdata = userdata,
                          .take_node = take_node };
        /* Watching first: a holder that closes right after the ask below
         * is still seen. The node, and any device's cdev: a close of one
         * of them has the group asked again. */
        vfio_group_node_path(group, path);
        watch_closes(h, path, &h->watch);
        watch_closes(h, VFIO_CDEV_DIR, &h->cdev_watch);
        r = sd_event_add_time_relative(m->event, &h->recheck, CLOCK_MONOTONIC, RECHECK_USEC, RECHECK_ACCURACY_USEC,
                                       on_recheck, h);
        if (r < 0)
                return r;
        /* Without a worker (no memory, no thread: threads stuck in the
         * kernel use them up), it is held as far as vfiod knows, and asked
         * again at the recheck. */
        r = ask(h, true);
        if (r < 0)
                note_not_knowing(h, r);
        h->next = m->held;
        m->held = TAKE_PTR(h);
        return 0;
}

void manager_free_held(Manager *m)
{
        while (m->held) {
                HeldGroup *h = m->held;
                m->held = h->next;
                held_free(h);
        }
}

