/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "authorization.h"
#include "bus-names.h"
#include "bus-util.h"
#include "config.h"
#include "log.h"
#include "macro.h"
#include "number.h"

#define POLKIT_NAME "org.freedesktop.PolicyKit1"
#define POLKIT_PATH "/org/freedesktop/PolicyKit1/Authority"
#define POLKIT_INTERFACE "org.freedesktop.PolicyKit1.Authority"
#define POLKIT_ALLOW_USER_INTERACTION 1u

/* A person may take a while to type a password. */
#define INTERACTIVE_TIMEOUT_USEC (5 * 60 * 1000000ULL)
/* An answer its call never came back for (the handler refused it before
 * asking again, say a group turned busy) is dropped after this long. */
#define STALE_ANSWER_USEC (60 * 1000000ULL)
/* Questions to polkit, each holding its method call (and any fd in it)
 * from the question until the handler takes the answer, or for up to
 * STALE_ANSWER_USEC when it never does: a connection, a user (who may
 * open many connections) and everyone together may have this many. The
 * per-user cap is well below the total, so no one user can make vfiod turn
 * away the others. */
#define QUESTIONS_PER_CONNECTION 8
#define QUESTIONS_PER_USER 16
#define QUESTIONS_TOTAL 128

typedef enum QueryState {
        QUERY_PENDING,
        QUERY_ALLOWED,
        QUERY_DENIED,
} QueryState;

/* One question to polkit, for one method call and one action. */
typedef struct Query {
        Authorizer *authorizer;
        sd_bus_message *call; /* the method call that asked */
        uid_t uid;            /* of its sender */
        char *action;
        char *asked_about; /* the details polkit was told, as details_text() has them */
        char cancellation_id[32]; /* polkit's name for the question */
        sd_bus_slot *slot; /* the pending CheckAuthorization */
        QueryState state;
        uint64_t decided_usec; /* CLOCK_MONOTONIC */
        sd_bus_error error;    /* why, when denied */
        struct Query *next;
} Query;

struct Authorizer {
        sd_bus *bus;
        Query *queries;
        sd_bus_slot *name_owner_changed; /* to drop the questions of callers that left */
        uint64_t next_id;
};

static Query *query_free(Query *q)
{
        if (!q)
                return NULL;
        sd_bus_slot_unref(q->slot);
        sd_bus_message_unref(q->call);
        sd_bus_error_free(&q->error);
        free(q->action);
        free(q->asked_about);
        free(q);
        return NULL;
}

static void query_unlink(Query *q)
{
        for (Query **p = &q->authorizer->queries; *p; p = &(*p)->next)
                if (*p == q) {
                        *p = q->next;
                        return;
                }
}

/* Tells polkit to stop asking (an authentication agent may be showing a
 * prompt for it); nobody waits for the answer. */
static void cancel_at_polkit(Authorizer *a, const Query *q)
{
        (void)sd_bus_call_method_async(a->bus, NULL, POLKIT_NAME, POLKIT_PATH, POLKIT_INTERFACE,
                                       "CancelCheckAuthorization", NULL, NULL, "s", q->cancellation_id);
}

/* A caller that left the bus waits for nothing: its questions go. */
static int on_name_owner_changed(sd_bus_message *signal, void *userdata, sd_bus_error *ret_error)
{
        Authorizer *a = userdata;
        const char *name, *old_owner, *new_owner;

        if (sd_bus_message_read(signal, "sss", &name, &old_owner, &new_owner) < 0 || name[0] != ':' ||
            new_owner[0] != '\0')
                return 0;
        for (Query **p = &a->queries; *p;) {
                Query *q = *p;
                if (streq_ptr(sd_bus_message_get_sender(q->call), name)) {
                        *p = q->next;
                        if (q->state == QUERY_PENDING)
                                cancel_at_polkit(a, q);
                        log_debug("polkit: dropping the question of %s, which left the bus.", name);
                        query_free(q);
                } else
                        p = &q->next;
        }
        return 0;
}

int authorizer_new(sd_bus *bus, Authorizer **ret)
{
        Authorizer *a = calloc(1, sizeof(*a));
        int r;

        if (!a)
                return -ENOMEM;
        a->bus = sd_bus_ref(bus);
        r = sd_bus_match_signal_async(bus, &a->name_owner_changed, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                      "org.freedesktop.DBus", "NameOwnerChanged", on_name_owner_changed, NULL, a);
        if (r < 0) {
                authorizer_free(a);
                return r;
        }
        *ret = a;
        return 0;
}

Authorizer *authorizer_free(Authorizer *a)
{
        if (!a)
                return NULL;
        while (a->queries) {
                Query *q = a->queries;
                a->queries = q->next;
                query_free(q);
        }
        sd_bus_slot_unref(a->name_owner_changed);
        sd_bus_unref(a->bus);
        free(a);
        return NULL;
}

/* What the example rule lets the group vfio do: a refusal of it says how
 * to become someone who may. */
#define EXAMPLE_RULE_HINT                                                                                      \
        ". The example rule " EXAMPLESDIR "/49-vfiod-vfio-group.rules, copied to /etc/polkit-1/rules.d/, lets " \
        "the members of the group 'vfio' do it without a password (usermod -aG vfio USER)."

static bool example_rule_covers(const Query *q)
{
        /* Not a claim that asks holders to close: they may be other users'. */
        bool asks_holders = q->asked_about && strstr(q->asked_about, "ask_holders=yes\n");

        return (streq(q->action, VFIOD_ACTION_CLAIM) && !asks_holders) || streq(q->action, VFIOD_ACTION_MEMLOCK) ||
               streq(q->action, VFIOD_ACTION_MEMLOCK_OTHER);
}

static void query_decide(Query *q, const sd_bus_error *polkit_error, int authorized, int challenge)
{
        if (polkit_error) {
                /* polkitd missing, or not answering: nobody can say yes. */
                bus_error_setf(&q->error, VFIOD_ERROR_NOT_AUTHORIZED,
                               "Not authorized for %s: polkit could not be asked (%s). Is polkitd installed "
                               "and running?",
                               q->action, polkit_error->message ?: polkit_error->name);
                q->state = QUERY_DENIED;
        } else if (authorized) {
                q->state = QUERY_ALLOWED;
        } else {
                bus_error_setf(&q->error, VFIOD_ERROR_NOT_AUTHORIZED, "Not authorized for %s%s%s", q->action,
                               challenge ? " without authentication: allow interactive authorization, or ask an "
                                              "administrator for a polkit rule"
                                            : ": the polkit policy says no",
                               example_rule_covers(q) ? EXAMPLE_RULE_HINT : ".");
                q->state = QUERY_DENIED;
        }
}

static int on_polkit_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
        Query *q = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        int authorized = 0, challenge = 0, r;

        q->slot = sd_bus_slot_unref(q->slot);
        q->decided_usec = now_usec(CLOCK_MONOTONIC);
        if (!e) {
                r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
                if (r >= 0)
                        r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
                if (r < 0) {
                        _cleanup_(sd_bus_error_free) sd_bus_error bad = SD_BUS_ERROR_NULL;
                        sd_bus_error_set_errno(&bad, r);
                        query_decide(q, &bad, 0, 0);
                } else
                        query_decide(q, NULL, authorized, challenge);
        } else
                query_decide(q, e, 0, 0);

        log_debug("polkit: %s %s for %s.", q->action, q->state == QUERY_ALLOWED ? "allowed" : "denied",
                  strna(sd_bus_message_get_sender(q->call)));
        /* The method's handler runs again and takes the answer. */
        r = sd_bus_enqueue_for_read(q->authorizer->bus, q->call);
        if (r < 0) {
                log_error_errno(r, "Cannot requeue a method call after polkit answered");
                (void)bus_reply_errorf(q->call, SD_BUS_ERROR_FAILED,
                                       "vfiod cannot go on with the call after polkit answered: %s.", strerror(-r));
                query_unlink(q);
                query_free(q);
        }
        return 0;
}

#define DETAILS_MAX 14

/* The details polkit is told, as key and value; a NULL value is not told. */
static void details_pairs(const PolicyDetails *d, const char *pairs[static DETAILS_MAX][2])
{
        const char *all[DETAILS_MAX][2] = {
                { "device", d->device },
                { "vendor", d->vendor },
                { "model", d->model },
                { "ids", d->ids },
                { "names", d->names },
                { "group", d->group },
                { "match", d->match },
                { "owner", d->owner },
                { "lease_owner", d->lease_owner },
                { "process", d->process },
                { "claim", d->claim },
                { "stop_units", d->stop_units },
                { "unload_modules", d->unload_modules },
                { "ask_holders", d->ask_holders },
        };

        memcpy(pairs, all, sizeof(all));
}

/* The details as one text, to tell whether a call asks about what polkit
 * was asked about: "key=value\n" each. NULL when out of memory. */
static char *details_text(const PolicyDetails *d)
{
        const char *pairs[DETAILS_MAX][2];
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        if (!f)
                return NULL;
        details_pairs(d, pairs);
        for (size_t i = 0; i < DETAILS_MAX; i++)
                if (pairs[i][1])
                        fprintf(f, "%s=%s\n", pairs[i][0], pairs[i][1]);
        if (fclose(f) != 0) {
                free(text);
                return NULL;
        }
        return text;
}

static int append_details(sd_bus_message *m, const PolicyDetails *d)
{
        const char *pairs[DETAILS_MAX][2];
        int r = sd_bus_message_open_container(m, 'a', "{ss}");

        details_pairs(d, pairs);
        for (size_t i = 0; r >= 0 && i < DETAILS_MAX; i++)
                if (pairs[i][1])
                        r = sd_bus_message_append(m, "{ss}", pairs[i][0], pairs[i][1]);
        return r < 0 ? r : sd_bus_message_close_container(m);
}

static int ask_polkit(Authorizer *a, Query *q, const PolicyDetails *details)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        bool interactive = sd_bus_message_get_allow_interactive_authorization(q->call) > 0;
        int r;

        r = sd_bus_message_new_method_call(a->bus, &call, POLKIT_NAME, POLKIT_PATH, POLKIT_INTERFACE,
                                           "CheckAuthorization");
        if (r >= 0)
                r = sd_bus_message_append(call, "(sa{sv})s", "system-bus-name", 1, "name", "s",
                                          sd_bus_message_get_sender(q->call), q->action);
        if (r >= 0)
                r = append_details(call, details);
        if (r >= 0)
                r = sd_bus_message_append(call, "us", interactive ? POLKIT_ALLOW_USER_INTERACTION : 0u,
                                          q->cancellation_id);
        if (r < 0)
                return r;
        return sd_bus_call_async(a->bus, &q->slot, call, on_polkit_reply, q,
                                 interactive ? INTERACTIVE_TIMEOUT_USEC : 0);
}

static void drop_stale_answers(Authorizer *a)
{
        uint64_t now = now_usec(CLOCK_MONOTONIC);

        for (Query **p = &a->queries; *p;) {
                Query *q = *p;
                if (q->state != QUERY_PENDING && now - q->decided_usec > STALE_ANSWER_USEC) {
                        *p = q->next;
                        query_free(q);
                } else
                        p = &q->next;
        }
}

/* Refuses a new question when its connection, its user or everyone
 * together already have as many open as they may. An answer that its
 * call has not taken counts too: a handler that refuses before it asks
 * again (the caller's process died, a group turned busy) leaves its call
 * with vfiod until the answer goes stale, and a caller must not pile those
 * up without limit. */
static int check_open_limits(const Authorizer *a, sd_bus_message *msg, uid_t uid, sd_bus_error *error)
{
        const char *sender = sd_bus_message_get_sender(msg);
        size_t connection = 0, user = 0, total = 0;

        for (const Query *q = a->queries; q; q = q->next) {
                total++;
                user += q->uid == uid;
                connection += streq_ptr(sd_bus_message_get_sender(q->call), sender);
        }
        if (connection >= QUESTIONS_PER_CONNECTION)
                return bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
                                      "This connection already has %zu questions to polkit open: wait for their "
                                      "answers.",
                                      connection);
        if (user >= QUESTIONS_PER_USER)
                return bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
                                      "uid %u already has %zu questions to polkit open: wait for their answers.",
                                      (unsigned)uid, user);
        if (total >= QUESTIONS_TOTAL)
                return bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
                                      "vfiod already has %zu questions to polkit open: try again shortly.", total);
        return 0;
}

static Query *find_query(Authorizer *a, sd_bus_message *msg, const char *action)
{
        for (Query *q = a->queries; q; q = q->next)
                if (q->call == msg && streq(q->action, action))
                        return q;
        return NULL;
}

/* The answer polkit gave for this call, taken out of the registry. */
static int take_answer(Query *q, sd_bus_error *error)
{
        int r = 1;

        if (q->state == QUERY_DENIED)
                r = sd_bus_error_copy(error, &q->error);
        query_unlink(q);
        query_free(q);
        return r < 0 ? r : 1;
}

int authorize(Authorizer *a, sd_bus_message *msg, const PolicyDecision *decision, sd_bus_error *error)
{
        const char *action = decision->action;
        _cleanup_free_ Query *q = NULL;
        Query *asked;
        int r;

        if (decision->verdict == POLICY_ALLOW)
                return 1;
        if (decision->verdict == POLICY_REFUSE)
                return sd_bus_error_set(error, VFIOD_ERROR_NOT_AUTHORIZED, decision->refusal);
        drop_stale_answers(a);
        asked = find_query(a, msg, action);
        if (asked && asked->state != QUERY_PENDING) {
                _cleanup_free_ char *now = details_text(&decision->details);
                if (now && streq_ptr(now, asked->asked_about))
                        return take_answer(asked, error);
                /* What the call would touch changed while polkit was
                 * asked (a device came, a claim grew): ask again. */
                query_unlink(asked);
                query_free(asked);
        } else if (asked)
                return 0;

        if (!sd_bus_message_get_sender(msg))
                return sd_bus_error_set(error, VFIOD_ERROR_NOT_AUTHORIZED,
                                        "Not authorized: a caller without a bus name cannot be asked about.");
        r = check_open_limits(a, msg, decision->caller, error);
        if (r < 0)
                return r;

        q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        q->action = strdup(action);
        q->asked_about = details_text(&decision->details);
        if (!q->action || !q->asked_about) {
                query_free(TAKE_PTR(q));
                return -ENOMEM;
        }
        q->authorizer = a;
        q->call = sd_bus_message_ref(msg);
        q->uid = decision->caller;
        snprintf(q->cancellation_id, sizeof(q->cancellation_id), "vfiod-%" PRIu64, ++a->next_id);
        r = ask_polkit(a, q, &decision->details);
        if (r < 0) {
                query_free(TAKE_PTR(q));
                return bus_error_setf(error, VFIOD_ERROR_NOT_AUTHORIZED,
                                      "Not authorized for %s: polkit could not be asked (%s).", action,
                                      strerror(-r));
        }
        q->next = a->queries;
        a->queries = TAKE_PTR(q);
        return 0;
}

bool authorizer_waiting(const Authorizer *a)
{
        for (const Query *q = a ? a->queries : NULL; q; q = q->next)
                if (q->state == QUERY_PENDING)
                        return true;
        return false;
}
