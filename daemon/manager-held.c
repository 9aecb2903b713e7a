/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>

#include "fs-util.h"
#include "handover.h"
#include "log.h"
#include "macro.h"
#include "manager-held.h"
#include "manager-leases.h"
#include "manager-reservations.h"
#include "manager.h"
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
 * holders named anew at the next ask. */

#define AFTER_CLOSE_USEC (20 * 1000ULL)
#define RECHECK_USEC (2 * 1000000ULL)

struct HeldGroup {
        Manager *manager;
        int group;
        HeldThen then;
        bool rescan;  /* a holder closed it: name who is left */
        bool polled;  /* a watch could not be had: every ask names them again */
        /* The last ask could not tell whether it is held, or the last look
         * who holds it: each said once a spell, not at every ask. */
        bool unknown, holders_unknown;
        sd_event_source *watch, *cdev_watch, *recheck;
        VfioHolder *holders;
        size_t n_holders;
        HeldGroup *next;
};

static HeldGroup *held_free(HeldGroup *h)
{
        if (!h)
                return NULL;
        sd_event_source_disable_unref(h->watch);
        sd_event_source_disable_unref(h->cdev_watch);
        sd_event_source_disable_unref(h->recheck);
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

/* Names who holds the group open, in the log too; true when that changed. */
static bool find_holders(HeldGroup *h)
{
        VfioHolder *holders = NULL;
        size_t n = 0;
        int r = vfio_group_holders(h->group, &holders, &n);

        if (first_not_knowing(&h->holders_unknown, r))
                log_warning_errno(r, "Cannot tell who holds IOMMU group %d open", h->group);
        if (r < 0)
                return false;
        if (same_holders(h, holders, n)) {
                free(holders);
                return false;
        }
        free(h->holders);
        h->holders = holders;
        h->n_holders = n;
        for (size_t i = 0; i < n; i++)
                log_warning("IOMMU group %d: %s, but PID %d (%s) still holds it open; it %s when every such fd "
                            "is closed.",
                            h->group,
                            h->then == HELD_THEN_UNHOLD ? "vfiod-early holds it for a reservation that went"
                                                        : "nobody leases it",
                            (int)holders[i].pid, holders[i].comm,
                            h->then == HELD_THEN_UNHOLD                      ? "goes to the host"
                            : engine_is_reserved(h->manager->engine, h->group) ? "is free"
                                                                               : "goes back to its drivers");
        return true;
}

/* Gone, or dead and not yet reaped (a zombie has closed its fds). */
static bool holder_gone(pid_t pid)
{
        _cleanup_free_ char *stat = NULL;
        const char *state;
        char path[32];

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        stat = read_full_file(path);
        if (!stat)
                return errno == ENOENT || errno == ESRCH; /* otherwise named until the next look */
        state = strrchr(stat, ')'); /* after the command, which may hold anything */
        return state && state[1] == ' ' && (state[2] == 'Z' || state[2] == 'X');
}

static bool any_holder_gone(const HeldGroup *h)
{
        for (size_t i = 0; i < h->n_holders; i++)
                if (holder_gone(h->holders[i].pid))
                        return true;
        return false;
}

/* Not knowing is not free (a release would wait on the kernel): the group
 * is asked again, and the log says so once, not at every ask. */
static void note_not_knowing(HeldGroup *h, int held)
{
        if (first_not_knowing(&h->unknown, held))
                log_warning_errno(held, "Cannot tell whether IOMMU group %d is still held open; asking every %llu s",
                                  h->group, (unsigned long long)(RECHECK_USEC / 1000000));
}

/* Asks the kernel whether the group is still held; releases it if not.
 * rescan: name the holders again, when one of them has closed it. */
static void check_held(HeldGroup *h, bool rescan)
{
        Manager *m = h->manager;
        int group = h->group, r = vfio_group_held(group);
        HeldThen then = h->then;
        bool was_unknown = h->unknown;

        note_not_knowing(h, r);
        /* After a spell of not knowing, who holds it is looked up anew. */
        rescan = rescan || (was_unknown && r > 0) || any_holder_gone(h);
        if (r != 0) {
                if (rescan && find_holders(h))
                        manager_tell_claim_changed(m, group);
                (void)sd_event_source_set_time_relative(h->recheck, RECHECK_USEC);
                (void)sd_event_source_set_enabled(h->recheck, SD_EVENT_ONESHOT);
                return;
        }
        log_info("IOMMU group %d: its last holder closed it.", group);
        held_unlink(h);
        held_free(h);
        /* As things are now: the reservations may have changed meanwhile. */
        if (then == HELD_THEN_UNHOLD)
                manager_apply_lost_reservation(m, group);
        else if (engine_is_reserved(m->engine, group))
                manager_keep_reserved(m, group, false);
        else
                (void)manager_release_group(m, group, NULL, NULL);
        manager_tell_claim_changed(m, group);
}

static int on_recheck(sd_event_source *s, uint64_t usec, void *userdata)
{
        HeldGroup *h = userdata;
        bool rescan = h->rescan || h->polled;

        h->rescan = false;
        check_held(h, rescan); /* may free h */
        return 0;
}

static int on_node_closed(sd_event_source *s, const struct inotify_event *event, void *userdata)
{
        HeldGroup *h = userdata;

        h->rescan = true;
        (void)sd_event_source_set_time_relative(h->recheck, AFTER_CLOSE_USEC);
        (void)sd_event_source_set_enabled(h->recheck, SD_EVENT_ONESHOT);
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

int manager_wait_for_holders(Manager *m, int group, HeldThen then)
{
        _cleanup_(held_freep) HeldGroup *h = calloc(1, sizeof(*h));
        char path[VFIO_NODE_PATH_MAX];
        int r;

        if (!h)
                return -ENOMEM;
        *h = (HeldGroup){ .manager = m, .group = group, .then = then };
        /* Watching first: a holder that closes right after the look below
         * is still seen. The node, and any device's cdev: a close of one of
         * them has the group asked again. */
        vfio_group_node_path(group, path);
        watch_closes(h, path, &h->watch);
        watch_closes(h, VFIO_CDEV_DIR, &h->cdev_watch);
        /* Soon first: a holder that exits with the lease (a VMM with the
         * guard fd and the group fd) may be letting go right now. */
        r = sd_event_add_time_relative(m->event, &h->recheck, CLOCK_MONOTONIC, 100 * 1000ULL, 0, on_recheck, h);
        if (r < 0)
                return r;
        r = vfio_group_held(group);
        if (r == 0)
                return 0;
        note_not_knowing(h, r);
        if (r > 0)
                (void)find_holders(h);
        h->next = m->held;
        m->held = TAKE_PTR(h);
        return 1;
}

void manager_free_held(Manager *m)
{
        while (m->held) {
                HeldGroup *h = m->held;
                m->held = h->next;
                held_free(h);
        }
}

