/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cdi-spec.h"
#include "log.h"
#include "macro.h"
#include "manager-held.h"
#include "manager-leases.h"
#include "manager-prepared.h"
#include "number.h"
#include "prepared-mark.h"
#include "strv.h"
#include "vfio-cdev.h"

/* Who waits for a Prepare's answer. */
typedef struct PrepareWaiter {
        PrepareReplyFn reply;
        void *userdata;
} PrepareWaiter;

/* A Prepare under way: its groups move one transaction each, at once; the
 * claim stands when all are there, and none of it does otherwise. A
 * Prepare of the same id and groups meanwhile waits for the same answer. */
struct Preparation {
        Manager *manager;
        char claim_id[CLAIM_ID_MAX];
        LeaseInfo *leases; /* one per group, granted as its group arrives */
        bool *granted;
        size_t n, pending;
        EngineResult failure; /* the first failure, its message a copy */
        char *failure_message;
        int error;
        PrepareWaiter *waiters; /* the first asked; others joined */
        size_t n_waiters;
        struct Preparation *next;
};
typedef struct Preparation Preparation;

/* One group's part, for the engine's answer. */
typedef struct PreparationSlot {
        Preparation *preparation;
        size_t index;
} PreparationSlot;

static bool is_claim_lease(const Lease *l, const char *claim_id)
{
        return l->info.lifetime == LEASE_LIFETIME_CLAIM_ID && (!claim_id || streq(l->info.holder, claim_id));
}

int manager_prepared_groups(const Manager *m, const char *claim_id, int **ret, size_t *n)
{
        int *groups = NULL;
        size_t count = 0;

        for (const Lease *l = leases_first(m->leases); l; l = l->next) {
                int *grown;
                if (!is_claim_lease(l, claim_id))
                        continue;
                grown = reallocarray(groups, count + 1, sizeof(*groups));
                if (!grown) {
                        free(groups);
                        return -ENOMEM;
                }
                groups = grown;
                groups[count++] = l->info.group;
        }
        *ret = groups;
        *n = count;
        return 0;
}

int manager_prepared_ids(const Manager *m, char ***ret, size_t *n)
{
        char **ids = NULL;
        size_t count = 0;
        int r = 0;

        for (const Lease *l = leases_first(m->leases); r >= 0 && l; l = l->next)
                if (is_claim_lease(l, NULL) && !strv_contains(ids, count, l->info.holder))
                        r = strv_push(&ids, &count, strdup(l->info.holder));
        if (r < 0) {
                strv_free(ids);
                return r;
        }
        *ret = ids;
        *n = count;
        return 0;
}

/* ---- the CDI spec ---- */

/* The claim's endpoints: their addresses, and their cdevs where the
 * kernel has them. */
static int collect_endpoints(Manager *m, const int *groups, size_t n_groups, CdiDevice *d)
{
        for (size_t k = 0; k < n_groups; k++) {
                const Group *g = device_model_find_group(m->model, groups[k]);
                _cleanup_free_ char **addresses = NULL;
                size_t n = 0;
                int r = g ? group_endpoint_addresses(g, &addresses, &n) : 0;

                for (size_t i = 0; r >= 0 && i < n; i++) {
                        char cdev[VFIO_CDEV_PATH_MAX];
                        dev_t devnum;
                        r = strv_push(&d->addresses, &d->n_addresses, strdup(addresses[i]));
                        if (r >= 0 && vfio_cdev_of_device(addresses[i], cdev, &devnum) >= 0)
                                r = strv_push(&d->cdevs, &d->n_cdevs, strdup(cdev));
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

static int write_spec(Manager *m, const char *claim_id)
{
        _cleanup_free_ int *groups = NULL;
        _cleanup_free_ char *text = NULL;
        CdiDevice d = { .version = m->cdi.spec_version, .claim_id = claim_id };
        size_t n;
        int r = manager_prepared_groups(m, claim_id, &groups, &n);

        if (r >= 0) {
                d.groups = groups;
                d.n_groups = n;
                r = collect_endpoints(m, groups, n, &d);
        }
        if (r >= 0)
                r = cdi_spec_format(&d, &text);
        if (r >= 0)
                r = cdi_spec_write(m->cdi_dir_fd, claim_id, text);
        strv_free(d.cdevs);
        strv_free(d.addresses);
        if (r < 0)
                log_error_errno(r, "Cannot write the CDI spec of claim %s", claim_id);
        return r;
}

void manager_prepared_lease_ended(Manager *m, const char *claim_id)
{
        _cleanup_free_ int *groups = NULL;
        size_t n = 0;

        /* A claim being prepared gets its spec once it stands whole. */
        if (manager_preparing(m, claim_id))
                return;
        if (manager_prepared_groups(m, claim_id, &groups, &n) < 0 || n > 0) {
                (void)write_spec(m, claim_id);
                return;
        }
        (void)prepared_mark_clear(m->prepared_dir_fd, claim_id);
        if (cdi_spec_remove(m->cdi_dir_fd, claim_id) > 0)
                log_info("Claim %s has no group left: its CDI spec is removed.", claim_id);
}

static int unprepare_claim(Manager *m, const char *claim_id, UnprepareReplyFn reply, void *userdata);

/* ---- Prepare ---- */

static void preparation_free(Preparation *p)
{
        for (Preparation **q = &p->manager->preparing; *q; q = &(*q)->next)
                if (*q == p) {
                        *q = p->next;
                        break;
                }
        free(p->leases);
        free(p->granted);
        free(p->failure_message);
        free(p->waiters);
        free(p);
}

static int preparation_add_waiter(Preparation *p, PrepareReplyFn reply, void *userdata)
{
        PrepareWaiter *grown = reallocarray(p->waiters, p->n_waiters + 1, sizeof(*p->waiters));

        if (!grown)
                return -ENOMEM;
        p->waiters = grown;
        p->waiters[p->n_waiters++] = (PrepareWaiter){ reply, userdata };
        return 0;
}

static void note_failure(Preparation *p, const EngineResult *result, int error)
{
        if (p->failure_message || p->error < 0)
                return;
        if (result) {
                p->failure = *result;
                p->failure_message = strdup(result->message ?: "The transaction failed.");
                p->failure.message = p->failure_message;
        } else
                p->error = error;
}

/* All groups have answered: the claim stands whole, or goes. */
static void preparation_finish(Preparation *p)
{
        Manager *m = p->manager;
        _cleanup_free_ int *groups = NULL;
        size_t n = 0;
        int r = 0;

        /* Marked whole before the spec tells runtimes of it: a crash
         * before the mark gives the groups back at start. */
        if (!p->failure_message && p->error == 0 && (r = prepared_mark_set(m->prepared_dir_fd, p->claim_id)) < 0)
                log_error_errno(r, "Cannot mark claim %s as prepared", p->claim_id);
        if (r >= 0 && !p->failure_message && p->error == 0)
                r = write_spec(m, p->claim_id);
        if (r < 0)
                note_failure(p, NULL, r);
        if (p->failure_message || p->error < 0) {
                log_warning("Claim %s: not every group could be prepared; giving the others back.", p->claim_id);
                (void)unprepare_claim(m, p->claim_id, NULL, NULL);
        } else {
                log_info("Claim %s prepared: %zu IOMMU group(s), CDI device " CDI_KIND "=%s.", p->claim_id, p->n,
                         p->claim_id);
                r = manager_prepared_groups(m, p->claim_id, &groups, &n);
                if (r < 0)
                        note_failure(p, NULL, r);
        }
        for (size_t i = 0; i < p->n_waiters; i++)
                p->waiters[i].reply(&(PrepareOutcome){ .claim_id = p->claim_id,
                                                       .groups = groups,
                                                       .n_groups = n,
                                                       .failure = p->failure_message ? &p->failure : NULL,
                                                       .error = p->error },
                                    p->waiters[i].userdata);
        preparation_free(p);
}

/* One group less to wait for. */
static void group_answered(Preparation *p)
{
        if (--p->pending == 0)
                preparation_finish(p);
}

static void on_group_granted(int r, Lease *l, LeaseHandles *h, void *userdata)
{
        _cleanup_free_ PreparationSlot *slot = userdata;
        Preparation *p = slot->preparation;

        lease_handles_close(h); /* none: the lease hands nothing over */
        if (r < 0)
                note_failure(p, NULL, r);
        else
                p->granted[slot->index] = true;
        group_answered(p);
}

static void on_group_done(const EngineResult *result, void *userdata)
{
        _cleanup_free_ PreparationSlot *slot = userdata;
        Preparation *p = slot->preparation;
        int r;

        if (engine_result_failed(result)) {
                note_failure(p, result, 0);
                group_answered(p);
                return;
        }
        r = manager_grant_lease(p->manager, &p->leases[slot->index], NULL, on_group_granted, slot);
        if (r != LEASE_STARTED) {
                note_failure(p, NULL, r < 0 ? r : -EIO);
                group_answered(p);
                return;
        }
        TAKE_PTR(slot); /* on_group_granted answers */
}

/* The same groups as requested, in any order. */
static bool same_groups(const int *a, size_t n_a, const Group *const *b, size_t n_b)
{
        if (n_a != n_b)
                return false;
        for (size_t i = 0; i < n_b; i++) {
                bool found = false;
                for (size_t j = 0; j < n_a && !found; j++)
                        found = a[j] == b[i]->id;
                if (!found)
                        return false;
        }
        return true;
}

/* Calls that may wait for one Prepare: a retry that comes while a group
 * is stuck must not pile up forever. */
#define PREPARE_WAITERS_MAX 16

/* The same claim asked for again while it is being prepared: the same
 * answer, when it comes. */
static int preparation_join(Preparation *p, const Group *const *groups, size_t n_groups, PrepareReplyFn reply,
                            void *userdata)
{
        _cleanup_free_ int *ids = calloc(p->n, sizeof(int));
        int r;

        if (!ids)
                return -ENOMEM;
        for (size_t i = 0; i < p->n; i++)
                ids[i] = p->leases[i].group;
        if (!same_groups(ids, p->n, groups, n_groups))
                return PREPARE_OTHER_GROUPS;
        if (p->n_waiters >= PREPARE_WAITERS_MAX)
                return PREPARE_WAITERS_FULL;
        r = preparation_add_waiter(p, reply, userdata);
        if (r < 0)
                return r;
        log_info("Claim %s asked for again while being prepared: the same answer follows.", p->claim_id);
        return PREPARE_MOVING;
}

static bool group_busy(Manager *m, int group)
{
        return manager_held_group(m, group) ||
               (engine_status(m->engine, group, NULL) != CLAIM_STATUS_NONE && !manager_group_reserved_and_free(m, group));
}

/* Starts each group's move; one that fails to start is a failure of the
 * whole, answered once the others have answered. */
static int start_groups(Preparation *p, const Group *const *groups, uid_t uid, pid_t pid)
{
        Manager *m = p->manager;

        p->pending = p->n + 1; /* held until every group has started */
        for (size_t i = 0; i < p->n; i++) {
                PreparationSlot *slot = malloc(sizeof(*slot));
                LeaseInfo *info = &p->leases[i];
                int r;

                *info = (LeaseInfo){ .id = leases_next_id(m->leases), .group = groups[i]->id, .uid = uid, .pid = pid,
                                     .mode = LEASE_MODE_NONE, .lifetime = LEASE_LIFETIME_CLAIM_ID,
                                     .since_usec = now_usec(CLOCK_REALTIME) };
                snprintf(info->holder, sizeof(info->holder), "%s", p->claim_id);
                if (!slot) {
                        note_failure(p, NULL, -ENOMEM);
                        p->pending--;
                        continue;
                }
                *slot = (PreparationSlot){ .preparation = p, .index = i };
                r = manager_claim_for_lease(m, groups[i], info, false, on_group_done, slot);
                if (r == LEASE_CLAIM_TAKING)
                        continue; /* on_group_done answers */
                free(slot);
                p->pending--;
                note_failure(p, NULL, r < 0 ? r : -EBUSY);
        }
        if (--p->pending == 0) {
                preparation_finish(p);
                return PREPARE_DONE;
        }
        return PREPARE_MOVING;
}

int manager_prepare(Manager *m, const char *claim_id, const Group *const *groups, size_t n_groups, uid_t uid,
                    pid_t pid, PrepareReplyFn reply, void *userdata, int *ret_busy_group)
{
        _cleanup_free_ int *prepared = NULL;
        Preparation *p;
        size_t n;
        int r;

        if (!claim_id_is_valid(claim_id) || n_groups == 0)
                return -EINVAL;
        for (p = m->preparing; p; p = p->next)
                if (streq(p->claim_id, claim_id))
                        return preparation_join(p, groups, n_groups, reply, userdata);
        r = manager_prepared_groups(m, claim_id, &prepared, &n);
        if (r < 0)
                return r;
        if (n > 0) {
                if (!same_groups(prepared, n, groups, n_groups))
                        return PREPARE_OTHER_GROUPS;
                /* Again: the same answer, and a spec made true. */
                r = write_spec(m, claim_id);
                reply(&(PrepareOutcome){ .claim_id = claim_id, .groups = prepared, .n_groups = n, .error = r < 0 ? r : 0 },
                      userdata);
                return PREPARE_DONE;
        }
        for (size_t i = 0; i < n_groups; i++)
                if (group_busy(m, groups[i]->id)) {
                        *ret_busy_group = groups[i]->id;
                        return PREPARE_BUSY;
                }
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        *p = (Preparation){ .manager = m, .n = n_groups, .next = m->preparing };
        snprintf(p->claim_id, sizeof(p->claim_id), "%s", claim_id);
        p->leases = calloc(n_groups, sizeof(*p->leases));
        p->granted = calloc(n_groups, sizeof(*p->granted));
        if (!p->leases || !p->granted || preparation_add_waiter(p, reply, userdata) < 0) {
                free(p->leases);
                free(p->granted);
                free(p->waiters);
                free(p);
                return -ENOMEM;
        }
        m->preparing = p;
        log_info("Preparing claim %s: %zu IOMMU group(s) for uid %" PRIu32 ".", claim_id, n_groups, (uint32_t)uid);
        return start_groups(p, groups, uid, pid);
}

/* ---- Unprepare ---- */

typedef struct Unpreparation {
        char claim_id[CLAIM_ID_MAX];
        size_t pending;
        int error;
        UnprepareReplyFn reply;
        void *userdata;
} Unpreparation;

static void unpreparation_done(Unpreparation *u)
{
        if (--u->pending > 0)
                return;
        if (u->reply)
                u->reply(u->claim_id, u->error, u->userdata);
        free(u);
}

static void on_group_returned(const ReleaseOutcome *o, void *userdata)
{
        Unpreparation *u = userdata;

        if ((o->result && engine_result_failed(o->result)) || o->moving || o->error < 0)
                u->error = o->error < 0 ? o->error : -EIO;
        unpreparation_done(u);
}

static int unprepare_claim(Manager *m, const char *claim_id, UnprepareReplyFn reply, void *userdata)
{
        Unpreparation *u;
        Lease *l, *next;
        int r;

        u = calloc(1, sizeof(*u));
        if (!u)
                return -ENOMEM;
        *u = (Unpreparation){ .pending = 1, .reply = reply, .userdata = userdata };
        snprintf(u->claim_id, sizeof(u->claim_id), "%s", claim_id);
        /* The mark goes first, then the spec: no container is started with
         * a claim whose devices are leaving, and a crash before the leases
         * end gives them back at start. */
        r = prepared_mark_clear(m->prepared_dir_fd, claim_id);
        if (r < 0)
                log_error_errno(r, "Cannot take the prepared mark of claim %s", claim_id);
        r = cdi_spec_remove(m->cdi_dir_fd, claim_id);
        if (r < 0)
                log_error_errno(r, "Cannot remove the CDI spec of claim %s", claim_id);
        for (l = leases_first(m->leases); l; l = next) {
                next = l->next;
                if (!is_claim_lease(l, claim_id))
                        continue;
                u->pending++;
                manager_end_lease_leaving_spec(m, l, "unprepared", on_group_returned, u);
        }
        if (u->pending == 1) {
                free(u);
                return 0;
        }
        log_info("Claim %s unprepared.", claim_id);
        unpreparation_done(u);
        return 1;
}

bool manager_preparing(const Manager *m, const char *claim_id)
{
        for (const Preparation *p = m->preparing; p; p = p->next)
                if (streq(p->claim_id, claim_id))
                        return true;
        return false;
}

int manager_unprepare(Manager *m, const char *claim_id, UnprepareReplyFn reply, void *userdata)
{
        if (!claim_id_is_valid(claim_id))
                return -EINVAL;
        if (manager_preparing(m, claim_id))
                return -EBUSY;
        return unprepare_claim(m, claim_id, reply, userdata);
}

/* ---- at start ---- */

/* Whether a claim whose groups are leased stands whole: marked so, or,
 * until every whole claim has its mark (prepared_marks_complete()), with
 * a spec, as an older vfiod's claim may be: one that cannot be told is
 * kept (and marked now). 1, 0, or -errno when that cannot be told. */
static int claim_is_whole(Manager *m, const char *claim_id, char *const *specs, size_t n_specs,
                          bool marks_complete)
{
        int r = prepared_mark_exists(m->prepared_dir_fd, claim_id);

        if (r != 0)
                return r;
        if (marks_complete || !strv_contains(specs, n_specs, claim_id))
                return 0;
        r = prepared_mark_set(m->prepared_dir_fd, claim_id);
        return r < 0 ? r : 1;
}

/* A claim cut short by a crash goes back: its Prepare was never answered
 * (a retry prepares it anew), or its Unprepare was asked for. One that
 * cannot be told stays: it may be a running container's; false for it. */
static bool settle_claim(Manager *m, const char *claim_id, char *const *specs, size_t n_specs,
                         bool marks_complete)
{
        int r = claim_is_whole(m, claim_id, specs, n_specs, marks_complete);

        if (r == 0) {
                log_warning("Claim %s was cut short by a stop of vfiod during its Prepare or Unprepare: its "
                            "groups go back.", claim_id);
                (void)unprepare_claim(m, claim_id, NULL, NULL);
                return true;
        }
        if (r < 0)
                log_error_errno(r, "Cannot tell whether claim %s was prepared whole; it is kept", claim_id);
        (void)write_spec(m, claim_id);
        return r > 0;
}

/* Once every claim an older vfiod left is marked; until then, the next
 * start reads a claim with a spec but no mark as one of those again. */
static void note_marks_complete(Manager *m)
{
        int r = prepared_marks_set_complete(m->prepared_dir_fd);

        if (r < 0)
                log_warning_errno(r, "Cannot note that every prepared claim is marked");
}

int manager_start_prepared(Manager *m)
{
        char **specs = NULL, **ids = NULL, **marks = NULL;
        size_t n_specs = 0, n_ids = 0, n_marks = 0;
        bool marks_complete, settled = true;
        int r;

        /* Runtimes look in /run/cdi; it is made, world-readable, if missing. */
        if (mkdir(m->cdi_dir, 0755) < 0 && errno != EEXIST)
                log_warning_errno(-errno, "Cannot make %s", m->cdi_dir);
        m->cdi_dir_fd = open(m->cdi_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (m->cdi_dir_fd < 0)
                return log_error_errno(-errno, "Cannot open %s: no claim can be prepared", m->cdi_dir);
        m->prepared_dir_fd = prepared_marks_open(m->state_dir);
        if (m->prepared_dir_fd < 0)
                return log_error_errno(m->prepared_dir_fd, "Cannot open %s/prepared: no claim can be prepared",
                                       m->state_dir);
        /* Not told: claims with specs may be an older vfiod's, and stay. */
        r = prepared_marks_complete(m->prepared_dir_fd);
        if (r < 0)
                log_warning_errno(r, "Cannot tell whether every prepared claim is marked; claims with a spec are "
                                     "kept");
        marks_complete = r > 0;
        r = cdi_spec_list(m->cdi_dir_fd, &specs, &n_specs);
        if (r >= 0)
                r = manager_prepared_ids(m, &ids, &n_ids);
        if (r >= 0)
                r = prepared_marks_list(m->prepared_dir_fd, &marks, &n_marks);
        /* A spec or a mark of no claim is left from a crash: it goes. */
        for (size_t i = 0; r >= 0 && i < n_specs; i++)
                if (!strv_contains(ids, n_ids, specs[i]) && cdi_spec_remove(m->cdi_dir_fd, specs[i]) > 0)
                        log_info("Removed the CDI spec of claim %s, which is prepared no more.", specs[i]);
        for (size_t i = 0; r >= 0 && i < n_marks; i++)
                if (!strv_contains(ids, n_ids, marks[i]))
                        (void)prepared_mark_clear(m->prepared_dir_fd, marks[i]);
        for (size_t j = 0; r >= 0 && j < n_ids; j++)
                settled = settle_claim(m, ids[j], specs, n_specs, marks_complete) && settled;
        if (r >= 0 && settled && !marks_complete)
                note_marks_complete(m);
        strv_free(specs);
        strv_free(ids);
        strv_free(marks);
        return r;
}
