/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "early-mark.h"
#include "handover.h"
#include "log.h"
#include "macro.h"
#include "manager-held.h"
#include "manager-owners.h"
#include "manager-reservations.h"
#include "manager.h"
#include "sysfs-paths.h"

/* Reservations (vfiod.conf(5)): the groups vfiod keeps on vfio-pci without
 * a lease, and who owns their nodes meanwhile. vfiod-early puts reserved
 * devices on vfio-pci at boot; here the daemon takes them over, moves what
 * a host driver took anyway, and gives back what is reserved no more. */

/* Someone who waits for the moves of the groups that a change of
 * reservations names. */
struct ReservationCall {
        Manager *manager;
        ReservationChange change;
        ReservationMatch match;
        ReservationDoneFn done;
        void *userdata;
        unsigned pending;
        EngineResult failed; /* the first failure, if any (message set) */
        char failure[1024];  /* its message: nothing to lose to a failed allocation */
};

/* What the reply to one move needs. */
typedef struct ReservationMove {
        Manager *manager;
        ReservationCall *call;
} ReservationMove;

int reservation_call_new(Manager *m, ReservationChange change, const ReservationMatch *match,
                         ReservationDoneFn done, void *userdata, ReservationCall **ret)
{
        ReservationCall *call = calloc(1, sizeof(*call));

        if (!call)
                return -ENOMEM;
        call->manager = m;
        call->change = change;
        call->match = *match;
        call->done = done;
        call->userdata = userdata;
        call->pending = 1; /* until manager_apply_reservations() has started every move */
        *ret = call;
        return 0;
}

static void call_note_failure(ReservationCall *call, const EngineResult *result)
{
        if (!call || call->failed.message || !engine_result_failed(result))
                return;
        snprintf(call->failure, sizeof(call->failure), "%s", result->message ?: "Moving a reserved group failed.");
        call->failed = *result;
        call->failed.message = call->failure;
}

static int reload_reservations(Manager *m, const ReservationMatch *undone);

/* A new reservation that could not be applied is taken out again, and
 * what it moved goes back: a device the host needs must not be taken from
 * it at the next boot. */
static int undo_reservation(ReservationCall *call)
{
        Manager *m = call->manager;
        size_t removed;
        int r = reservation_config_remove(m->config_dir, &call->match, &removed);

        if (r < 0)
                log_error_errno(r, "Cannot take back the reservation that failed");
        (void)reload_reservations(m, &call->match);
        return r;
}

static void call_unref(ReservationCall *call)
{
        ReservationOutcome o = {};

        if (!call || --call->pending > 0)
                return;
        if (call->failed.message) {
                o.failed = &call->failed;
                o.taken_back = call->change == RESERVATION_ADDED && undo_reservation(call) >= 0;
        }
        call->done(&o, call->userdata);
        free(call);
}

int manager_load_reservations(Manager *m, ReservationSet *ret_before)
{
        ReservationSet set;
        int r = reservation_set_load(m->config_dir, &set);

        if (r < 0)
                return r;
        if (ret_before)
                *ret_before = m->reservations;
        else
                reservation_set_clear(&m->reservations);
        m->reservations = set;
        return 0;
}

/* The first entry of s that names an endpoint of the group, or NULL. */
static const ReservationEntry *group_find(const ReservationSet *s, const Group *g)
{
        for (size_t i = 0; i < g->n_devices; i++) {
                char path[RESERVATION_MATCH_STRING_MAX];
                const ReservationEntry *e;
                PciIdentity id;

                if (device_is_bridge(g->devices[i]))
                        continue;
                pci_device_identity(g->devices[i]->pci, path, &id);
                e = reservation_set_find(s, &id);
                if (e)
                        return e;
        }
        return NULL;
}

const ReservationEntry *manager_group_reservation(const Manager *m, const Group *g)
{
        return group_find(&m->reservations, g);
}

/* An unhold refused because a process (a VM started by hand) has the
 * group open: it is tried again once the last fd closes. */
static void unhold_when_closed(Manager *m, int group)
{
        int r;

        if (manager_held_group(m, group))
                return; /* waited for already */
        r = manager_wait_for_holders(m, group, HELD_THEN_UNHOLD, false, NULL, NULL);
        if (r < 0)
                log_error_errno(r, "Cannot wait for the holders of IOMMU group %d; what vfiod-early holds of it stays "
                                   "until the next boot", group);
        else
                manager_tell_claim_changed(m, group); /* state "held" until the kernel answers */
}

static void on_move_done(const EngineResult *result, void *userdata)
{
        _cleanup_free_ ReservationMove *move = userdata;

        /* A failure is in the log already (transaction.c, engine.c). */
        if (!engine_result_failed(result) && result->kind == TRANSACTION_CLAIM)
                (void)manager_reset_node_owner(move->manager, result->group, true);
        if (result->kind == TRANSACTION_UNHOLD && result->failure == FAILURE_DEVICE_BUSY)
                unhold_when_closed(move->manager, result->group);
        call_note_failure(move->call, result);
        call_unref(move->call);
}

static ReservationMove *move_new(Manager *m, ReservationCall *call)
{
        ReservationMove *move = calloc(1, sizeof(*move));

        if (move) {
                *move = (ReservationMove){ .manager = m, .call = call };
                if (call)
                        call->pending++;
        }
        return move;
}

/* r: what the engine said to the move that was to answer move; one
 * that did not start is no longer waited for. */
static int move_started(ReservationMove *move, int r)
{
        if (r != 0) {
                if (move->call)
                        move->call->pending--;
                free(move);
        }
        return r;
}

static int claim_reserved(Manager *m, const Group *g, const ReservationEntry *e, ReservationCall *call)
{
        _cleanup_free_ char **addresses = NULL;
        EngineClaimOptions o;
        ReservationMove *move;
        size_t n;
        int r;

        r = group_endpoint_addresses(g, &addresses, &n);
        if (r < 0 || n == 0)
                return r;
        move = move_new(m, call);
        if (!move)
                return -ENOMEM;
        o = (EngineClaimOptions){ .reserved = true, .settle_node = e->reservation.owner[0] != '\0' };
        r = move_started(move, engine_claim(m->engine, g->id, addresses, n, &o, on_move_done, move));
        if (r != 0)
                return r;
        log_info("IOMMU group %d is reserved (%s:%u): taking it.", g->id, e->file, e->line);
        return 0;
}

static int unreserve(Manager *m, const Group *g, ReservationCall *call)
{
        ReservationMove *move;
        int r;

        /* A lease keeps it; the host gets it when the lease ends. */
        if (leases_find_group(m->leases, g->id))
                return engine_set_reserved(m->engine, g->id, false);
        move = move_new(m, call);
        if (!move)
                return -ENOMEM;
        r = move_started(move, engine_release(m->engine, g->id, on_move_done, move));
        if (r != 0)
                return r;
        log_info("IOMMU group %d is reserved no more: returning it to the host.", g->id);
        return 0;
}

/* The endpoints that vfiod-early holds on vfio-pci (by the model, and its
 * marks: a look that waits for no device lock); *ret is malloc'ed. */
static int early_held_addresses(const Group *g, char ***ret, size_t *ret_n)
{
        char **addresses = calloc(g->n_devices ?: 1, sizeof(char *));
        size_t n = 0;

        if (!addresses)
                return -ENOMEM;
        for (size_t i = 0; i < g->n_devices; i++) {
                PciDevice *pci = g->devices[i]->pci;
                if (!device_is_bridge(g->devices[i]) && streq_ptr(pci->driver, VFIO_PCI_DRIVER) &&
                    early_mark_present(pci->address))
                        addresses[n++] = pci->address;
        }
        *ret = addresses;
        *ret_n = n;
        return 0;
}

/* Whether match names an endpoint of the group. */
static bool group_matches(const Group *g, const ReservationMatch *match)
{
        ReservationEntry entry = { .reservation.match = *match };

        return group_find(&(ReservationSet){ .entries = &entry, .n_entries = 1 }, g);
}

/* A group just unreserved that vfiod holds nothing of, while vfiod-early
 * still holds some of it on vfio-pci (its reservation's claim was refused
 * or failed): those go to the host, as at the end of a reservation. Only
 * then: a mark of vfiod-early's outlives the hold it was for, and a device
 * that someone else (driverctl) put on vfio-pci since must stay there. */
static int unhold(Manager *m, const Group *g, ReservationCall *call)
{
        _cleanup_free_ char **addresses = NULL;
        ReservationMove *move;
        size_t n;
        int r;

        r = early_held_addresses(g, &addresses, &n);
        if (r < 0 || n == 0)
                return r;
        move = move_new(m, call);
        if (!move)
                return -ENOMEM;
        r = move_started(move, engine_unhold(m->engine, g->id, addresses, n, on_move_done, move));
        if (r != 0)
                return r;
        log_info("IOMMU group %d is reserved no more, but vfiod-early holds it on vfio-pci: returning it to the "
                 "host.", g->id);
        return 0;
}

typedef struct ApplyContext {
        Manager *manager;
        ReservationCall *call;        /* NULL: none */
        const ReservationSet *before; /* the reservations before this change; NULL: none went */
        bool lost;                    /* the group's reservation went while it moved, or was open */
} ApplyContext;

/* A group that a change of reservations found moving, and so left; the
 * change applies to it once it is at rest. lost: a change took its
 * reservation away meanwhile. */
typedef struct AwaitedGroup {
        int group;
        bool lost;
} AwaitedGroup;

static void apply_at_rest(Manager *m, int group, bool lost);

static int on_apply_awaited(sd_event_source *s, void *userdata)
{
        Manager *m = userdata;

        for (size_t i = 0; i < m->n_awaited;) {
                AwaitedGroup a = m->awaited[i];

                if (engine_is_moving(m->engine, a.group)) {
                        i++;
                        continue;
                }
                m->awaited[i] = m->awaited[--m->n_awaited];
                apply_at_rest(m, a.group, a.lost);
        }
        return 0;
}

/* The group's note, or NULL. */
static AwaitedGroup *find_awaited(Manager *m, int group)
{
        for (size_t i = 0; i < m->n_awaited; i++)
                if (m->awaited[i].group == group)
                        return &m->awaited[i];
        return NULL;
}

static int await_rest(Manager *m, int group, bool lost)
{
        AwaitedGroup *awaited = find_awaited(m, group);
        int r;

        if (awaited) {
                awaited->lost |= lost;
                return 0;
        }
        if (!m->apply_awaited) {
                r = sd_event_add_defer(m->event, &m->apply_awaited, on_apply_awaited, m);
                if (r < 0)
                        return r;
                (void)sd_event_source_set_enabled(m->apply_awaited, SD_EVENT_OFF);
        }
        awaited = reallocarray(m->awaited, m->n_awaited + 1, sizeof(*awaited));
        if (!awaited)
                return -ENOMEM;
        m->awaited = awaited;
        m->awaited[m->n_awaited++] = (AwaitedGroup){ .group = group, .lost = lost };
        return 0;
}

/* Whether a change noted the group while it moved, and that it lost its
 * reservation then; the note is gone after: the decision being made now
 * is the one it waited for. */
static bool take_awaited(Manager *m, int group, bool *ret_lost)
{
        AwaitedGroup *a = find_awaited(m, group);

        if (!a)
                return false;
        *ret_lost = a->lost;
        *a = m->awaited[--m->n_awaited];
        return true;
}

void manager_reservations_group_at_rest(Manager *m, int group)
{
        if (find_awaited(m, group))
                (void)sd_event_source_set_enabled(m->apply_awaited, SD_EVENT_ONESHOT);
}

void manager_free_awaited(Manager *m)
{
        m->apply_awaited = sd_event_source_disable_unref(m->apply_awaited);
        free(m->awaited);
        m->awaited = NULL;
        m->n_awaited = 0;
}

/* Whether this change took the group's reservation away: a line that
 * named it went, or the call took out a match that names it (one written
 * since the files were last read), or it went while the group moved. */
static bool reservation_lost(const ApplyContext *ctx, const Group *g, const ReservationCall *removing)
{
        return ctx->lost || (ctx->before && group_find(ctx->before, g)) || removing;
}

/* A move that could not even start (no memory, no worker) fails the call
 * it is for as a failed move would. */
static void note_start_failure(ReservationCall *call, int group, int error)
{
        char message[128];

        snprintf(message, sizeof(message), "Cannot apply the reservations to IOMMU group %d: %s.", group,
                 strerror(-error));
        log_error("%s", message);
        call_note_failure(call, &(EngineResult){ .group = group, .failure = FAILURE_BIND, .error = error,
                                                 .message = message });
}

/* Whether the reservations now give the group's node to someone else
 * than before this change, or what they said before is not known (at
 * start). (At a hotplug, before is the set in force: a group that a new
 * device makes match another line is not seen to change owner.) */
static bool owner_may_have_changed(const ApplyContext *ctx, const Group *g, const ReservationEntry *e)
{
        const ReservationEntry *was = ctx->before ? group_find(ctx->before, g) : NULL;

        return !was || !streq(was->reservation.owner, e->reservation.owner);
}

static void apply_to_group(Group *g, void *userdata)
{
        ApplyContext *ctx = userdata;
        Manager *m = ctx->manager;
        const ReservationEntry *e = manager_group_reservation(m, g);
        ClaimStatus status = engine_status(m->engine, g->id, NULL);
        bool held = engine_is_reserved(m->engine, g->id);
        /* A move is the call's only when its match names the group and it
         * is what the call asked for: the files are applied whole, and
         * another reservation whose claim keeps failing (a busy device)
         * must neither fail the call nor have its reservation taken out. */
        ReservationCall *call = ctx->call && group_matches(g, &ctx->call->match) ? ctx->call : NULL;
        ReservationCall *adding = call && call->change == RESERVATION_ADDED ? call : NULL;
        ReservationCall *removing = call && call->change == RESERVATION_REMOVED ? call : NULL;
        bool lost = !e && reservation_lost(ctx, g, removing), lost_meanwhile = false;
        int r = 0;

        /* A move decides nothing of the reservations: the group is applied
         * them again once the move is over (where a release of a reserved
         * group leaves it is known only then). The call is answered now. */
        if (engine_is_moving(m->engine, g->id)) {
                if ((e || lost) && (r = await_rest(m, g->id, lost)) < 0)
                        log_error_errno(r, "Cannot note that IOMMU group %d is to be applied the reservations once it "
                                           "is at rest; the next reading of them does", g->id);
                return;
        }
        if (take_awaited(m, g->id, &lost_meanwhile))
                lost = lost || (!e && lost_meanwhile);
        if (manager_held_group(m, g->id)) {
                /* Open while nothing leases it: once the last fd closes,
                 * manager-held.c returns or settles it as the claim's mark
                 * says then, or gives back vfiod-early's hold as the
                 * reservations say then. Only the mark changes now. */
                if (status == CLAIM_STATUS_CLAIMED && (e != NULL) != held)
                        r = engine_set_reserved(m->engine, g->id, e != NULL);
        } else if (e && status == CLAIM_STATUS_NONE)
                r = claim_reserved(m, g, e, adding);
        else if (e && status == CLAIM_STATUS_CLAIMED && !held)
                r = engine_set_reserved(m->engine, g->id, true);
        else if (e && status == CLAIM_STATUS_CLAIMED && !leases_find_group(m->leases, g->id))
                r = manager_reset_node_owner(m, g->id, owner_may_have_changed(ctx, g, e));
        else if (!e && held && status == CLAIM_STATUS_CLAIMED)
                r = unreserve(m, g, removing);
        else if (!e && status == CLAIM_STATUS_NONE && lost)
                r = unhold(m, g, removing);
        /* The engine refuses only a group that moves or that it does not
         * hold: the statuses above rule both out. */
        assert(r <= 0);
        if (r < 0)
                note_start_failure(call, g->id, r);
}

void manager_apply_reservations(Manager *m, ReservationCall *call, const ReservationSet *before)
{
        ApplyContext ctx = { .manager = m, .call = call, .before = before };

        device_model_foreach_group(m->model, apply_to_group, &ctx);
        call_unref(call);
}

static void apply_at_rest(Manager *m, int group, bool lost)
{
        ApplyContext ctx = { .manager = m, .lost = lost };
        Group *g = device_model_find_group(m->model, group);

        if (g)
                apply_to_group(g, &ctx);
}

void manager_apply_lost_reservation(Manager *m, int group)
{
        apply_at_rest(m, group, true);
}

void manager_apply_group_reservation(Manager *m, int group)
{
        apply_at_rest(m, group, false);
}

/* undone: a match whose lines this reading takes out because the call
 * that added them failed; vfiod-early never held anything for them, and
 * so nothing is given back for their going (NULL: none). */
static int reload_reservations(Manager *m, const ReservationMatch *undone)
{
        _cleanup_(reservation_set_clear) ReservationSet before = {};
        int r = manager_load_reservations(m, &before);

        if (r < 0)
                return log_error_errno(r, "Cannot read the reservations");
        manager_forget_owners(m); /* each owner is looked up anew */
        if (undone)
                reservation_set_drop_match(&before, undone);
        log_info("%zu reservation%s.", m->reservations.n_entries, m->reservations.n_entries == 1 ? "" : "s");
        manager_apply_reservations(m, NULL, &before);
        return 0;
}

int manager_reload_reservations(Manager *m)
{
        return reload_reservations(m, NULL);
}
