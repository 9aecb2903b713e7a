/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "macro.h"
#include "manager-held.h"
#include "manager-nodes.h"
#include "manager-owners.h"
#include "manager-reservations.h"
#include "manager.h"

/* A reservation's owner (vfiod.conf(5) owner=) is a name in the user
 * database, and NSS may ask a directory server (sssd, nslcd), which takes
 * seconds, or hangs while it cannot be reached. So a name is looked up when
 * a node first needs it, in a worker (owner-lookup.h), one lookup at a
 * time, and the answer is kept in the book until the reservations are read
 * anew: every reset of a node after that is a plain change of its owner
 * (manager-nodes.h). A
 * node whose owner is not known yet waits for the answer; the event loop
 * goes on meanwhile. A failed answer is kept too, and asked again later
 * (OWNER_RETRY_FIRST_USEC, doubling to OWNER_RETRY_MAX_USEC): a directory
 * server comes back, a user is added, and nobody has to reload vfiod. */

/* One lookup under way: its answer goes to every node reserved for it. */
typedef struct PendingName {
        Manager *manager;
        char name[RESERVATION_OWNER_MAX];
} PendingName;

static OwnerAnswer *find_answer(OwnerBook *b, const char *name)
{
        for (size_t i = 0; i < b->n_answers; i++)
                if (streq(b->answers[i].name, name))
                        return &b->answers[i];
        return NULL;
}

static OwnerAnswer *add_answer(OwnerBook *b, const char *name)
{
        OwnerAnswer *answers = reallocarray(b->answers, b->n_answers + 1, sizeof(*answers));
        OwnerAnswer *a;

        if (!answers)
                return NULL;
        b->answers = answers;
        a = &b->answers[b->n_answers++];
        *a = (OwnerAnswer){ .ids = OWNER_IDS_ROOT };
        snprintf(a->name, sizeof(a->name), "%s", name);
        return a;
}

/* Moves the last entry into a's place. */
static void drop_answer(OwnerBook *b, OwnerAnswer *a)
{
        *a = b->answers[--b->n_answers];
}

/* The first line of the reservations that names the owner, or NULL. */
static const ReservationEntry *first_naming(const Manager *m, const char *name)
{
        for (size_t i = 0; i < m->reservations.n_entries; i++)
                if (streq(m->reservations.entries[i].reservation.owner, name))
                        return &m->reservations.entries[i];
        return NULL;
}

/* The reservation whose owner has the group's node now: the group reserved
 * and claimed at rest (not failed, not stuck), with no lease, and nobody
 * holding it past one. */
static const ReservationEntry *node_reservation(Manager *m, int group)
{
        const Group *g = device_model_find_group(m->model, group);

        if (!g || !engine_is_reserved(m->engine, group) || engine_status(m->engine, group, NULL) != CLAIM_STATUS_CLAIMED ||
            engine_is_moving(m->engine, group) || leases_find_group(m->leases, group) || manager_held_group(m, group))
                return NULL;
        return manager_group_reservation(m, g);
}

/* The node as the answer says: the owner's, or root's when the database
 * did not name them. The group node only: a cdev opened between leases
 * could be kept where no look finds it, and bound under the next lease. */
static int give_node(Manager *m, int group, const OwnerAnswer *a)
{
        NodesWanted wanted = { .uid = a->ids.uid, .gid = a->ids.gid, .mode = a->ids.mode, .cdevs = false };
        int r = manager_set_nodes(m, group, wanted, NULL, NULL);

        if (r < 0)
                return log_error_errno(r, "Cannot set the owner of /dev/vfio/%d", group);
        return 0;
}

/* The first failed answer, with the first line that names the owner; the
 * retries that fail as well are not logged. */
static void log_failed_answer(const Manager *m, const OwnerAnswer *a)
{
        const ReservationEntry *e = first_naming(m, a->name);

        if (!e)
                return; /* named no more */
        if (a->result == -ESRCH)
                log_error("%s:%u: no user or group '%s' (a group is written @NAME); the group nodes reserved for it "
                          "stay root's until the user database names it. vfiod asks again, at most every %llu "
                          "minutes, and at a reload (systemctl reload vfiod).",
                          e->file, e->line, a->name, (unsigned long long)(OWNER_RETRY_MAX_USEC / 60000000));
        else
                log_error("%s:%u: the user database cannot look up '%s': %s; the group nodes reserved for it stay "
                          "root's until it can. vfiod asks again, at most every %llu minutes, and at a reload "
                          "(systemctl reload vfiod).",
                          e->file, e->line, a->name, strerror(-a->result),
                          (unsigned long long)(OWNER_RETRY_MAX_USEC / 60000000));
}

static void log_known_now(const Manager *m, const OwnerAnswer *a)
{
        const ReservationEntry *e = first_naming(m, a->name);

        if (e)
                log_info("%s:%u: the user database names '%s' now; the group nodes reserved for it go to it.", e->file,
                         e->line, a->name);
}

typedef struct Answered {
        Manager *manager;
        const OwnerAnswer *answer;
} Answered;

static void give_if_reserved_for(Group *g, void *userdata)
{
        const Answered *x = userdata;
        const ReservationEntry *e = node_reservation(x->manager, g->id);

        if (e && streq(e->reservation.owner, x->answer->name))
                (void)give_node(x->manager, g->id, x->answer);
}

static int look_up(Manager *m, OwnerAnswer *a);
static void note_retry(Manager *m, OwnerAnswer *a);
static void arm_retry_timer(Manager *m);

static void on_name_looked_up(int r, const OwnerIds *ids, void *userdata)
{
        _cleanup_free_ PendingName *p = userdata;
        Manager *m = p->manager;
        OwnerAnswer *a;

        if (r == -ECANCELED)
                return;
        a = find_answer(&m->owners, p->name);
        if (!a)
                return; /* cannot be: an entry asking stays */
        a->asking = false;
        if (a->stale) {
                /* Asked before the reservations were read anew: ask again,
                 * if they still name it. */
                a->stale = false;
                if (!first_naming(m, a->name) || look_up(m, a) < 0)
                        drop_answer(&m->owners, a);
                return;
        }
        if (!a->answered) { /* not noted meanwhile by Reserve, which asked later */
                bool failed_before = a->retry_delay_usec > 0;

                a->answered = true;
                a->result = r;
                a->ids = *ids;
                if (r < 0 && !failed_before)
                        log_failed_answer(m, a);
                if (r < 0) {
                        note_retry(m, a);
                        arm_retry_timer(m);
                }
                else if (failed_before) {
                        a->retry_delay_usec = 0;
                        log_known_now(m, a);
                }
        }
        device_model_foreach_group(m->model, give_if_reserved_for, &(Answered){ m, a });
}

static int look_up(Manager *m, OwnerAnswer *a)
{
        PendingName *p = malloc(sizeof(*p));
        int r;

        if (!p)
                return -ENOMEM;
        *p = (PendingName){ .manager = m };
        snprintf(p->name, sizeof(p->name), "%s", a->name);
        r = owner_lookup_start(&m->owner_lookups, m->event, m->workers, p->name, on_name_looked_up, p);
        if (r < 0) {
                free(p);
                return r;
        }
        a->asking = true;
        return 0;
}

/* ---- asking again about names that failed ---- */

static bool waits_for_retry(const OwnerAnswer *a)
{
        return a->answered && a->result < 0;
}

static int on_retry_timer(sd_event_source *s, uint64_t now, void *userdata);

/* The timer at the earliest retry (made the first time one is due), or
 * off when there is none. */
static void arm_retry_timer(Manager *m)
{
        OwnerBook *b = &m->owners;
        uint64_t next = UINT64_MAX;
        int r;

        for (size_t i = 0; i < b->n_answers; i++)
                if (waits_for_retry(&b->answers[i]) && b->answers[i].retry_at_usec < next)
                        next = b->answers[i].retry_at_usec;
        if (next == UINT64_MAX) {
                (void)sd_event_source_set_enabled(b->retry_timer, SD_EVENT_OFF);
                return;
        }
        if (!b->retry_timer)
                r = sd_event_add_time(m->event, &b->retry_timer, CLOCK_MONOTONIC, next, 0, on_retry_timer, m);
        else if ((r = sd_event_source_set_time(b->retry_timer, next)) >= 0)
                r = sd_event_source_set_enabled(b->retry_timer, SD_EVENT_ONESHOT);
        if (r < 0)
                log_warning_errno(r, "Cannot set the timer that asks the user database again; a reload does: %m");
}

/* The first retry after OWNER_RETRY_FIRST_USEC, each next one after twice
 * the wait before; arm_retry_timer() then. */
static void note_retry(Manager *m, OwnerAnswer *a)
{
        uint64_t now;

        if (a->retry_delay_usec == 0)
                a->retry_delay_usec = OWNER_RETRY_FIRST_USEC;
        else if (a->retry_delay_usec < OWNER_RETRY_MAX_USEC / 2)
                a->retry_delay_usec *= 2;
        else
                a->retry_delay_usec = OWNER_RETRY_MAX_USEC;
        (void)sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        a->retry_at_usec = now + a->retry_delay_usec;
}

static int on_retry_timer(sd_event_source *s, uint64_t now, void *userdata)
{
        Manager *m = userdata;
        OwnerBook *b = &m->owners;

        for (size_t i = 0; i < b->n_answers;) {
                OwnerAnswer *a = &b->answers[i];

                if (!waits_for_retry(a) || a->retry_at_usec > now) {
                        i++;
                        continue;
                }
                if (!first_naming(m, a->name)) {
                        drop_answer(b, a); /* its reservations are gone */
                        continue;
                }
                /* Its nodes stay root's while the database is asked. */
                a->answered = false;
                if (look_up(m, a) < 0) {
                        a->answered = true;
                        note_retry(m, a);
                }
                i++;
        }
        arm_retry_timer(m);
        return 0;
}

int manager_reset_node_owner(Manager *m, int group, bool revoke)
{
        const Group *g = device_model_find_group(m->model, group);
        const ReservationEntry *e = g && engine_is_reserved(m->engine, group) ? manager_group_reservation(m, g) : NULL;
        OwnerAnswer *a = e ? find_answer(&m->owners, e->reservation.owner) : NULL;
        const OwnerAnswer root = { .ids = OWNER_IDS_ROOT };
        int r;

        if (!e || !e->reservation.owner[0])
                return give_node(m, group, &root);
        if (a && a->answered)
                return give_node(m, group, a); /* a failure was said when it was answered */
        if (revoke && (r = give_node(m, group, &root)) < 0)
                return r;
        if (a)
                return 0; /* asked already: its answer comes here too */
        a = add_answer(&m->owners, e->reservation.owner);
        r = a ? look_up(m, a) : -ENOMEM;
        if (a && r < 0)
                drop_answer(&m->owners, a);
        if (r < 0)
                return log_error_errno(r, "Cannot look up %s, the owner of /dev/vfio/%d, which %s", e->reservation.owner,
                                       group, revoke ? "stays root's" : "stays as it is");
        return 0;
}

void manager_note_owner(Manager *m, const char *name, const OwnerIds *ids)
{
        OwnerAnswer *a = find_answer(&m->owners, name);

        if (!a)
                a = add_answer(&m->owners, name);
        if (!a)
                return; /* it is looked up again when needed */
        a->answered = true;
        a->stale = false; /* this answer is newer than any reading */
        a->result = 0;
        a->ids = *ids;
        a->retry_delay_usec = 0;
}

void manager_forget_owners(Manager *m)
{
        OwnerBook *b = &m->owners;

        for (size_t i = 0; i < b->n_answers;)
                if (b->answers[i].asking) {
                        b->answers[i].answered = false;
                        b->answers[i].stale = true;
                        b->answers[i].retry_delay_usec = 0; /* a new reading starts afresh */
                        i++;
                } else
                        drop_answer(b, &b->answers[i]);
}

void manager_free_owners(Manager *m)
{
        owner_lookups_cancel(&m->owner_lookups);
        sd_event_source_disable_unref(m->owners.retry_timer);
        free(m->owners.answers);
        m->owners = (OwnerBook){};
}
