/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handover.h"
#include "log.h"
#include "macro.h"
#include "manager-held.h"
#include "manager-leases.h"
#include "manager-nodes.h"
#include "manager-owners.h"
#include "manager-prepared.h"
#include "manager-reservations.h"
#include "manager.h"
#include "number.h"
#include "uevent-monitor.h"
#include "vfio-cdev.h"

/* A lease from grant to end: handing the group over, taking it back when
 * the holder goes or releases it, and taking leases up after a restart. */

/* The lease's line in the group's claim record (lease-info.h), the copy a
 * restart reads back (resume_lease()); its end is drop_ended_lease()'s.
 * Answers as engine_set_lease() does. */
static int record_lease(Manager *m, int group, const LeaseInfo *info)
{
        _cleanup_free_ char *text = NULL;
        int r = lease_info_format(info, &text);

        return r < 0 ? r : engine_set_lease(m->engine, group, text);
}

/* A lease of a reserved group, waiting for the look at its node. */
typedef struct ReservedLease {
        Manager *manager;
        LeaseInfo info;
        EngineReplyFn done;
        void *userdata;
        char message[256];
} ReservedLease;

/* Answers as the engine answers a claim; on failure (nothing moved) with
 * a message for the caller. */
static void answer_reserved(ReservedLease *l, TransactionFailure failure, int error, const char *message)
{
        if (message)
                log_info("IOMMU group %d is not leased to uid %" PRIu32 ": %s", l->info.group, l->info.uid,
                         message);
        l->done(&(EngineResult){ .kind = TRANSACTION_CLAIM, .group = l->info.group, .failure = failure,
                                 .error = error, .message = message },
                l->userdata);
}

static void on_reserved_node_checked(int busy, void *userdata)
{
        _cleanup_free_ ReservedLease *l = userdata;
        Manager *m = l->manager;
        int group = l->info.group, r;

        if (busy != 0) {
                if (busy < 0)
                        log_warning_errno(busy, "Cannot tell whether a process has /dev/vfio/%d open", group);
                snprintf(l->message, sizeof(l->message),
                         "IOMMU group %d is reserved, and %s (its owner's VM, say): it can be leased once that "
                         "process has closed it.",
                         group,
                         busy < 0 ? "vfiod cannot tell whether a process has it open" : "a process has it open already");
                answer_reserved(l, FAILURE_GROUP_BUSY, busy < 0 ? busy : -EBUSY, l->message);
                return;
        }
        /* Others came first meanwhile: a lease, a move, an Unreserve. */
        if (!manager_group_reserved_and_free(m, group) || engine_lease_ended_open(m->engine, group) ||
            (r = record_lease(m, group, &l->info)) > 0) {
                snprintf(l->message, sizeof(l->message),
                         "IOMMU group %d was leased, moved or unreserved meanwhile: ask again.", group);
                answer_reserved(l, FAILURE_GROUP_BUSY, -EBUSY, l->message);
                return;
        }
        if (r < 0) {
                snprintf(l->message, sizeof(l->message), "Cannot write the lease into IOMMU group %d's claim record: %s.",
                         group, strerror(-r));
                answer_reserved(l, FAILURE_BIND, r, l->message);
                return;
        }
        log_info("Leasing reserved IOMMU group %d to uid %" PRIu32 ".", group, l->info.uid);
        answer_reserved(l, FAILURE_NONE, 0, NULL);
}

int manager_claim_for_lease(Manager *m, const Group *g, const LeaseInfo *info, bool force, EngineReplyFn done,
                            void *userdata)
{
        _cleanup_free_ char **addresses = NULL, *text = NULL;
        size_t n;
        int r;

        if (manager_group_reserved_and_free(m, g->id)) {
                _cleanup_free_ ReservedLease *l = NULL;
                /* Its last lease's end is noted until nobody holds it
                 * and, with cdevs, until it went through vfio-pci again
                 * (manager_keep_reserved()): a refresh that could not
                 * start, or a crash before it started, leaves it so. */
                if (engine_lease_ended_open(m->engine, g->id))
                        return -ESTALE;
                if (manager_checking_node(m, g->id))
                        return -EALREADY; /* for another claim: only one can have it */
                /* Its owner (vfiod.conf(5) owner=) may have the node open
                 * between leases: a lessee could not use the group. */
                l = malloc(sizeof(*l));
                if (!l)
                        return -ENOMEM;
                *l = (ReservedLease){ .manager = m, .info = *info, .done = done, .userdata = userdata };
                r = manager_check_node(m, g->id, on_reserved_node_checked, l);
                if (r < 0)
                        return r;
                TAKE_PTR(l);
                return LEASE_CLAIM_TAKING;
        }
        if ((r = lease_info_format(info, &text)) < 0 || (r = group_endpoint_addresses(g, &addresses, &n)) < 0)
                return r;
        r = engine_claim(m->engine, g->id, addresses, n,
                         &(EngineClaimOptions){ .force = force,
                                                .lease = text,
                                                .settle_node = info->mode == LEASE_MODE_CHOWN },
                         done, userdata);
        if (r != 0)
                return r < 0 ? r : LEASE_CLAIM_BUSY;
        log_info("Claiming IOMMU group %d for uid %" PRIu32 " (%s, %s)%s.", g->id, info->uid,
                 lease_mode_to_string(info->mode), lease_lifetime_to_string(info->lifetime), force ? ", forced" : "");
        return LEASE_CLAIM_TAKING;
}

/* A release on its way through the engine, for whoever waits for it. */
typedef struct ReleaseWait {
        int group;
        ReleaseReplyFn reply;
        void *userdata;
} ReleaseWait;

static void on_released(const EngineResult *result, void *userdata)
{
        _cleanup_free_ ReleaseWait *w = userdata;

        /* A failure is in the log already (transaction.c, engine.c). */
        if (w->reply)
                w->reply(&(ReleaseOutcome){ .group = w->group, .result = result }, w->userdata);
}

int manager_release_group(Manager *m, int group, ReleaseReplyFn reply, void *userdata)
{
        ReleaseWait *w = malloc(sizeof(*w));
        int r;

        if (!w)
                return -ENOMEM;
        *w = (ReleaseWait){ .group = group, .reply = reply, .userdata = userdata };
        r = engine_release(m->engine, group, on_released, w);
        if (r != 0) {
                free(w);
                if (r < 0)
                        log_error_errno(r, "Cannot release IOMMU group %d", group);
                return r;
        }
        log_info("Releasing IOMMU group %d.", group);
        return 0;
}

static void reply_now(ReleaseReplyFn reply, void *userdata, const ReleaseOutcome *o)
{
        if (reply)
                reply(o, userdata);
}

static void on_refreshed(const EngineResult *result, void *userdata)
{
        Manager *m = userdata;

        if (engine_result_failed(result))
                return; /* in the log already */
        /* Its node was made anew, root's. */
        (void)manager_reset_node_owner(m, result->group, true);
        log_info("IOMMU group %d went through vfio-pci again: no fd of its last holder is left.", result->group);
}

/* On a kernel with cdevs: every endpoint off vfio-pci and on again
 * (engine_refresh()), so that no cdev a former holder kept can be bound
 * under the next lease; on_refreshed() then gives the node to the
 * reservation's owner. */
static void refresh_reserved(Manager *m, int group)
{
        int r = engine_refresh(m->engine, group, on_refreshed, m);

        if (r < 0)
                log_error_errno(r,
                                "Cannot put reserved IOMMU group %d through vfio-pci again; it cannot be leased "
                                "until it has been ('systemctl restart vfiod' tries again)",
                                group);
        else if (r > 0)
                log_error("Cannot put reserved IOMMU group %d through vfio-pci again: %s.", group,
                          r == ENGINE_MOVING ? "it is moving" : "vfiod does not hold it");
}

/* The ended lease leaves the record at once, also while a process holds
 * the group open (still_open): a restart before the close must not take
 * it up again, but wait for that process again. A group that nobody
 * reserves it finds claimed by nobody anyway; a reserved one, by the
 * record's note of it (only then: a reservation's owner may have the node
 * open with no lease). The close takes the note out. */
static int drop_ended_lease(Manager *m, int group, bool still_open)
{
        int r = engine_end_lease(m->engine, group, still_open);

        if (r != 0)
                log_error("Cannot drop the lease from the record of IOMMU group %d: %s", group,
                          r < 0                ? strerror(-r)
                          : r == ENGINE_MOVING ? "it is moving"
                                               : "vfiod does not hold it");
        return r;
}

void manager_keep_reserved(Manager *m, int group, bool held)
{
        /* Without cdevs, every fd of a device holds its group node open,
         * and the kernel's refusal to open it says all. With cdevs the
         * note stays until the refresh's end takes it out (transaction.c):
         * no lease before. */
        bool refresh = !held && vfio_cdev_supported() > 0;
        int r = drop_ended_lease(m, group, held || refresh);

        if (held)
                return; /* settled at the last close, which manager-held.c logs */
        log_info("IOMMU group %d is reserved: it stays on vfio-pci.", group);
        if (r != 0)
                return;
        if (refresh)
                refresh_reserved(m, group);
        else
                (void)manager_reset_node_owner(m, group, true);
}

/* Once vfiod knows whether a process still holds the group open (held:
 * or cannot tell). A reserved group stays on vfio-pci (only the lease
 * leaves its record; on a kernel with cdevs it goes through vfio-pci
 * again) and its node goes to the reservation's owner, any other goes
 * back to the host; if held, once whoever holds it has closed it. */
static void group_returned(Manager *m, int group, bool held, ReleaseReplyFn reply, void *userdata)
{
        ReleaseOutcome o = { .group = group };
        const HeldGroup *h;
        int r;

        if (engine_is_reserved(m->engine, group)) {
                manager_keep_reserved(m, group, held);
                reply_now(reply, userdata, &o);
                return;
        }
        if (held) {
                o.held = true;
                if ((h = manager_held_group(m, group)))
                        o.holders = held_group_holders(h, &o.n_holders);
                reply_now(reply, userdata, &o);
                return;
        }
        r = manager_release_group(m, group, reply, userdata);
        if (r != 0) {
                /* ENGINE_NOT_CLAIMED: nothing left to move */
                o.moving = r == ENGINE_MOVING;
                o.error = r < 0 ? r : 0;
                reply_now(reply, userdata, &o);
        }
}

static void on_first_answer(Manager *m, int group, bool held, void *userdata)
{
        _cleanup_free_ ReleaseWait *w = userdata;

        group_returned(m, group, held, w->reply, w->userdata);
}

/* Nobody leases the group any more. The lease leaves its record at once,
 * noted as perhaps still open: a restart before the kernel answers must
 * not give the group back to the lessee, but wait for its holders again.
 * Its nodes become root's, 0600 (the lessee opens them no more, and a
 * reservation's owner gets them back only after), and the kernel is asked
 * whether a process still holds the group, both in a worker: both may
 * wait for the group's lock while an exiting VMM's release holds it. */
static void return_group(Manager *m, int group, ReleaseReplyFn reply, void *userdata)
{
        ReleaseWait *w;
        /* A group vfiod holds nothing of, or one on the move, has no lease
         * in a record to drop: only a failed write is worth a word. */
        int r = engine_end_lease(m->engine, group, true);

        if (r < 0)
                log_error_errno(r, "Cannot drop the lease from the record of IOMMU group %d", group);
        w = malloc(sizeof(*w));
        if (!w)
                r = -ENOMEM;
        else {
                *w = (ReleaseWait){ .group = group, .reply = reply, .userdata = userdata };
                r = manager_wait_for_holders(m, group, HELD_THEN_RETURN, true, on_first_answer, w);
        }
        if (r >= 0)
                return;
        free(w);
        /* No memory: the lessee must not keep the node all the same. Out
         * of order only when even the queue has no memory. */
        log_error_errno(r, "Cannot wait for the holders of IOMMU group %d", group);
        if (manager_set_nodes(m, group, NODES_ROOTS, NULL, NULL) < 0 && handover_set_owner(group, 0, 0, 0600, true) < 0)
                log_error("Cannot take /dev/vfio/%d back from its lessee.", group);
        group_returned(m, group, false, reply, userdata);
}

void manager_end_lease_leaving_spec(Manager *m, Lease *l, const char *reason, ReleaseReplyFn reply,
                                    void *userdata)
{
        int group = l->info.group;

        /* The group is taken back first (a worker asks the kernel): the
         * bus hears of the lease's end meanwhile. */
        return_group(m, group, reply, userdata);
        manager_tell_lease_released(m, l, reason);
        lease_remove(l);
        manager_tell_claim_changed(m, group);
}

void manager_end_lease(Manager *m, Lease *l, const char *reason, ReleaseReplyFn reply, void *userdata)
{
        char claim_id[LEASE_HOLDER_MAX] = "";

        if (l->info.lifetime == LEASE_LIFETIME_CLAIM_ID)
                snprintf(claim_id, sizeof(claim_id), "%s", l->info.holder);
        manager_end_lease_leaving_spec(m, l, reason, reply, userdata);
        if (claim_id[0])
                manager_prepared_lease_ended(m, claim_id);
}

static void on_lease_gone(Lease *l, const char *reason, void *userdata)
{
        manager_end_lease(userdata, l, reason, NULL, NULL);
}

/* A lease started: its nodes change hands in a worker, then, for a mode
 * that hands fds over, another worker opens them. */
typedef struct Grant {
        Manager *manager;
        uint64_t lease_id;
        int group;
        LeaseMode mode;
        int guard_fd; /* a guard-fd lease's end for its holder */
        GrantDoneFn done;
        void *userdata;
} Grant;

/* The lease, unless its holder left the bus or released it meanwhile
 * (*r becomes -ESRCH), or the step failed (*r), which ends it. */
static Lease *lease_still_granted(Grant *g, int *r, const char *step)
{
        Lease *l = leases_find_id(g->manager->leases, g->lease_id);

        if (!l) {
                *r = -ESRCH;
                return NULL;
        }
        if (*r >= 0)
                return l;
        log_error_errno(*r, "Cannot %s IOMMU group %d for its lease", step, g->group);
        manager_end_lease(g->manager, l, "handover-failed", NULL, NULL);
        return NULL;
}

static void grant_answer(Grant *g, int r, Lease *l, LeaseHandles *h)
{
        h->guard_fd = TAKE_FD(g->guard_fd);
        if (!l)
                lease_handles_close(h);
        g->done(r, l, h, g->userdata);
        free(g);
}

static void on_handles_opened(int r, LeaseHandles *h, void *userdata)
{
        Grant *g = userdata;
        Lease *l = lease_still_granted(g, &r, "open");

        grant_answer(g, r, l, h);
}

static void on_nodes_set(Manager *m, int group, int r, void *userdata)
{
        Grant *g = userdata;
        LeaseHandles h = LEASE_HANDLES_NONE;
        Lease *l = lease_still_granted(g, &r, "set the owner of the nodes of");

        if (l && lease_mode_opens(g->mode)) {
                r = manager_open_handles(m, group, g->mode, on_handles_opened, g);
                if (r >= 0)
                        return; /* on_handles_opened() answers */
                l = lease_still_granted(g, &r, "open");
        }
        grant_answer(g, r, l, &h);
}

int manager_grant_lease(Manager *m, const LeaseInfo *info, sd_bus_track *followed, GrantDoneFn done,
                        void *userdata)
{
        _cleanup_free_ Grant *g = malloc(sizeof(*g));
        Lease *l;
        int r;

        if (!g)
                return -ENOMEM;
        *g = (Grant){ .manager = m, .lease_id = info->id, .group = info->group, .mode = info->mode, .guard_fd = -1,
                      .done = done, .userdata = userdata };
        r = lease_add(m->leases, info, followed, info->lifetime == LEASE_LIFETIME_GUARD_FD ? &g->guard_fd : NULL, &l);
        if (r == LEASE_HOLDER_LEFT)
                log_info("IOMMU group %d: its caller left the bus during the claim; releasing it.", info->group);
        if (r != LEASE_STARTED) {
                return_group(m, info->group, NULL, NULL);
                return r;
        }
        manager_tell_lease_added(m, l);
        manager_tell_claim_changed(m, l->info.group);
        r = manager_set_lease_nodes(m, info, on_nodes_set, g);
        if (r < 0) {
                log_error_errno(r, "Cannot hand IOMMU group %d over", info->group);
                closep(&g->guard_fd);
                manager_end_lease(m, l, "handover-failed", NULL, NULL);
                return r;
        }
        log_info("Lease %" PRIu64 ": IOMMU group %d to uid %" PRIu32 " (pid %" PRIu32 "), %s, %s.", l->info.id,
                 l->info.group, l->info.uid, l->info.pid, lease_mode_to_string(l->info.mode),
                 lease_lifetime_to_string(l->info.lifetime));
        TAKE_PTR(g); /* on_nodes_set() goes on */
        return LEASE_STARTED;
}

/* ---- after a restart ---- */

/* A reserved group whose lease ended while a process had it open: it
 * waits for that process again, as at the lease's end (held, its node
 * root's, settled at the last close, which the start-up's reading of the
 * reservations leaves to manager-held.c); closed while vfiod was away, it
 * is settled at the first answer. */
static void wait_again(Manager *m, int group)
{
        int r = manager_wait_for_holders(m, group, HELD_THEN_RETURN, true, NULL, NULL);

        if (r < 0)
                log_error_errno(r, "Cannot wait for the holders of IOMMU group %d", group);
}

static void resume_lease(int group, const char *text, void *userdata)
{
        Manager *m = userdata;
        LeaseInfo info = { .group = group };
        Lease *l;
        int r;

        if (!text && engine_is_reserved(m->engine, group)) { /* a reservation holds it, nobody leases it */
                if (engine_lease_ended_open(m->engine, group))
                        wait_again(m, group);
                return;
        }
        if (!text || lease_info_parse(text, &info) < 0) {
                log_warning("IOMMU group %d is claimed %s: releasing it.", group,
                            text ? "under a lease that cannot be read" : "by nobody");
                return_group(m, group, NULL, NULL);
                return;
        }
        r = lease_resume(m->leases, &info, &l);
        if (r != LEASE_STARTED) {
                log_info("Lease %" PRIu64 " of IOMMU group %d: %s; releasing the group.", info.id, group,
                         r == LEASE_GUARD_CLOSED  ? "its guard fd was closed while vfiod was away"
                         : r == LEASE_HOLDER_LEFT ? "its holder left the bus while vfiod was away"
                                                  : strerror(-r));
                return_group(m, group, NULL, NULL);
                return;
        }
        /* The node may have been made anew meanwhile. */
        r = manager_set_lease_nodes(m, &info, NULL, NULL);
        if (r < 0)
                log_error("Cannot set the owner of /dev/vfio/%d for its lease: %s", group, strerror(-r));
        log_info("Lease %" PRIu64 " of IOMMU group %d taken up again.", info.id, group);
}

/* The group of a node that was just added, or changed by udev: a group
 * node's name is its group; a cdev's parent is its PCI function. -1 for
 * none. */
static int group_of_node(Manager *m, sd_device *device)
{
        sd_device_action_t action;
        const char *sysname, *subsystem;
        sd_device *parent;
        const Device *d;
        int group;

        if (sd_device_get_action(device, &action) < 0 || (action != SD_DEVICE_ADD && action != SD_DEVICE_CHANGE) ||
            sd_device_get_subsystem(device, &subsystem) < 0)
                return -1;
        if (streq(subsystem, "vfio"))
                return sd_device_get_sysname(device, &sysname) >= 0 && parse_group_id(sysname, &group) >= 0 ? group
                                                                                                           : -1;
        if (sd_device_get_parent(device, &parent) < 0 || sd_device_get_sysname(parent, &sysname) < 0)
                return -1;
        d = device_model_find_device(m->model, sysname);
        return d ? d->pci->iommu_group : -1;
}

/* A node of a group vfiod holds, made anew by udev (the group left
 * vfio-pci and came back) or changed by it (a site's rule, GROUP="kvm"
 * MODE="0660", applies at every "change" too, as 'udevadm trigger'
 * sends), is set again: as its lease has it; root's while the group is
 * held past its lease or moves; its reservation owner's at rest
 * (manager-owners.c). The node of every claim comes by here too, already
 * handed over: then nothing changes. */
static void on_node_set_again(Manager *m, int group, int r, void *userdata)
{
        if (r < 0)
                log_error("Cannot set the owner of /dev/vfio/%d again: %s", group, strerror(-r));
        else if (r > 0)
                log_info("A node of IOMMU group %d was made or changed by udev: its owner is set again.", group);
}

static int on_vfio_node(sd_device_monitor *mon, sd_device *device, void *userdata)
{
        Manager *m = userdata;
        int group = group_of_node(m, device), r;
        Lease *l;

        if (group < 0)
                return 0;
        l = leases_find_group(m->leases, group);
        if (l)
                r = manager_set_lease_nodes(m, &l->info, on_node_set_again, NULL);
        else if (manager_held_group(m, group) || engine_is_moving(m->engine, group))
                r = manager_set_nodes(m, group, NODES_ROOTS, on_node_set_again, NULL);
        else {
                if (engine_status(m->engine, group, NULL) == CLAIM_STATUS_CLAIMED)
                        (void)manager_reset_node_owner(m, group, true); /* logs its failure */
                return 0; /* or not vfiod's */
        }
        if (r < 0)
                on_node_set_again(m, group, r, NULL);
        return 0;
}

int manager_start_leases(Manager *m)
{
        int r = leases_new(m->event, m->bus, m->state_dir, on_lease_gone, m, &m->leases);

        if (r < 0)
                return r;
        r = uevent_monitor_start(m->event, "vfio", on_vfio_node, m, &m->vfio_monitor);
        if (r >= 0)
                r = uevent_monitor_start(m->event, "vfio-dev", on_vfio_node, m, &m->vfio_cdev_monitor);
        if (r < 0)
                return r;
        engine_foreach_claimed(m->engine, resume_lease, m);
        return 0;
}
