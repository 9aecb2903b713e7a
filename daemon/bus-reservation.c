/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "authorization.h"
#include "bus-claim.h"
#include "bus-names.h"
#include "bus-reservation.h"
#include "bus-sender.h"
#include "bus-util.h"
#include "log.h"
#include "macro.h"
#include "manager-owners.h"
#include "manager-reservations.h"
#include "manager.h"
#include "quote.h"

/* Reservations on the bus: Reserve and Unreserve write the drop-ins of
 * vfiod.conf(5) and apply them at once, under the polkit action 'reserve';
 * ListReservations shows them to anyone. */

static int read_match(sd_bus_message *msg, ReservationMatch *ret, sd_bus_error *error)
{
        const char *text, *reason = "?";
        char quoted[QUOTE_BUFFER_SIZE];
        int r = sd_bus_message_read(msg, "s", &text);

        if (r < 0)
                return r;
        if (reservation_match_parse(text, ret, &reason) < 0)
                return bus_error_setf(error, VFIOD_ERROR_INVALID_MATCH, "Not a reservation match: '%s': %s.",
                                      quote_input(text, quoted), reason);
        return 0;
}

static int read_owner(sd_bus_message *msg, size_t key, void *userdata, sd_bus_error *error)
{
        Reservation *r = userdata;
        const char *owner;

        if (sd_bus_message_read(msg, "v", "s", &owner) < 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Option 'owner' takes a string.");
        if (!reservation_owner_is_valid(owner))
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                        "Option 'owner' takes a user name, or @ and a group name.");
        snprintf(r->owner, sizeof(r->owner), "%s", owner);
        return 0;
}

/* a{sv} with at most "owner" (s). */
static int read_reserve_options(sd_bus_message *msg, Reservation *r, sd_bus_error *error)
{
        return bus_read_options(msg, (const char *const[]){ "owner", NULL }, read_owner, r, error);
}

static int authorize_reserve(Manager *m, sd_bus_message *msg, const Reservation *reservation, sd_bus_error *error)
{
        _cleanup_(policy_decision_done) PolicyDecision decision = {};
        uid_t caller;
        int r;

        r = bus_sender_euid(msg, &caller);
        if (r >= 0)
                r = policy_reserve(caller, reservation, &decision);
        return r < 0 ? r : authorize(m->authorizer, msg, &decision, error);
}

/* Every line of the files with this match goes: polkit hears of each
 * one's owner. */
static int authorize_unreserve(Manager *m, sd_bus_message *msg, const ReservationSet *files,
                               const ReservationMatch *match, sd_bus_error *error)
{
        _cleanup_(policy_decision_done) PolicyDecision decision = {};
        _cleanup_free_ const Reservation **lines = calloc(files->n_entries ?: 1, sizeof(*lines));
        size_t n = 0;
        uid_t caller;
        int r;

        if (!lines)
                return -ENOMEM;
        for (size_t i = 0; i < files->n_entries; i++)
                if (reservation_match_equal(&files->entries[i].reservation.match, match))
                        lines[n++] = &files->entries[i].reservation;
        r = bus_sender_euid(msg, &caller);
        if (r >= 0)
                r = policy_unreserve(caller, lines, n, &decision);
        return r < 0 ? r : authorize(m->authorizer, msg, &decision, error);
}

/* A method call and its success reply, ready to send. */
typedef struct PendingAnswer {
        sd_bus_message *msg, *answer;
} PendingAnswer;

static void on_reservations_applied(const ReservationOutcome *o, void *userdata)
{
        PendingAnswer *p = userdata;
        const EngineResult *f = o->failed;

        if (f && o->taken_back)
                (void)bus_reply_errorf(p->msg, bus_failure_error_name(f->failure), "Not reserved: %s",
                                       f->message);
        else if (f)
                (void)bus_reply_errorf(p->msg, bus_failure_error_name(f->failure),
                                       "The reservations are saved, but %s", f->message);
        else
                (void)sd_bus_send(NULL, p->answer, NULL);
        sd_bus_message_unref(p->msg);
        sd_bus_message_unref(p->answer);
        free(p);
}

/* The answer goes when the groups that match names have moved. */
static int apply_and_answer(Manager *m, sd_bus_message *msg, sd_bus_message *answer, ReservationChange change,
                            const ReservationMatch *match)
{
        _cleanup_(reservation_set_clear) ReservationSet before = {};
        ReservationCall *call;
        PendingAnswer *p;
        int r = manager_load_reservations(m, &before);

        if (r < 0)
                return r;
        p = malloc(sizeof(*p));
        r = p ? reservation_call_new(m, change, match, on_reservations_applied, p, &call) : -ENOMEM;
        if (r < 0) {
                /* The files are read: they apply, with nobody to answer. */
                free(p);
                manager_apply_reservations(m, NULL, &before);
                return r;
        }
        *p = (PendingAnswer){ sd_bus_message_ref(msg), sd_bus_message_ref(answer) };
        manager_apply_reservations(m, call, &before);
        return 1;
}

static int config_error(const char *what, int r, sd_bus_error *error)
{
        return bus_error_setf(error, SD_BUS_ERROR_FAILED, "Cannot %s the reservations in " RESERVATIONS_DIR ": %s.",
                              what, strerror(-r));
}

static int refuse_reserved(Manager *m, const ReservationMatch *match, sd_bus_error *error)
{
        const ReservationEntry *existing = reservation_set_find_match(&m->reservations, match);

        if (!existing)
                return 0;
        return bus_error_setf(error, VFIOD_ERROR_ALREADY_RESERVED,
                              "This is reserved already, in %s:%u; unreserve it first to change it.", existing->file,
                              existing->line);
}

/* Writes the drop-in and applies it; the answer goes once the groups have
 * moved. */
static int add_reservation(Manager *m, sd_bus_message *msg, const Reservation *res, sd_bus_error *error)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *answer = NULL;
        _cleanup_free_ char *file = NULL;
        int r = refuse_reserved(m, &res->match, error); /* again: one may have come while the owner was looked up */

        if (r < 0)
                return r;
        r = reservation_config_add(m->config_dir, res, &file);
        if (r < 0)
                return config_error("write", r, error);
        log_info("Reserved: %s.", file);
        r = sd_bus_message_new_method_return(msg, &answer);
        if (r >= 0)
                r = sd_bus_message_append(answer, "s", file);
        return r < 0 ? r : apply_and_answer(m, msg, answer, RESERVATION_ADDED, &res->match);
}

/* How long Reserve waits for the user database: less than a D-Bus
 * caller's default timeout (25 s), so that the caller hears the outcome,
 * and no drop-in is written after it gave up. */
#define OWNER_CHECK_USEC (20 * 1000000ULL)

/* A Reserve call while the user database is asked whether its owner
 * exists. Answered by the lookup or by the deadline, whichever comes
 * first; freed when the lookup is done (or cancelled). */
typedef struct OwnerCheck {
        Manager *manager;
        sd_bus_message *msg; /* NULL once answered */
        sd_event_source *deadline;
        Reservation reservation;
} OwnerCheck;

static void owner_check_free(OwnerCheck *c)
{
        sd_event_source_disable_unref(c->deadline);
        sd_bus_message_unref(c->msg);
        free(c);
}

static int on_owner_check_late(sd_event_source *s, uint64_t usec, void *userdata)
{
        OwnerCheck *c = userdata;
        char quoted[QUOTE_BUFFER_SIZE];

        (void)bus_reply_errorf(c->msg, SD_BUS_ERROR_FAILED,
                               "The user database did not say within %llu s whether '%s' exists (a directory "
                               "server that cannot be reached?): nothing was reserved.",
                               OWNER_CHECK_USEC / 1000000ULL, quote_input(c->reservation.owner, quoted));
        c->msg = sd_bus_message_unref(c->msg);
        return 0;
}

static void on_owner_checked(int r, const OwnerIds *ids, void *userdata)
{
        OwnerCheck *c = userdata;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *owner = c->reservation.owner;
        char quoted[QUOTE_BUFFER_SIZE];

        /* Cancelled (vfiod exits: its caller hears that its name went), or
         * answered already by the deadline. */
        if (r == -ECANCELED || !c->msg) {
                owner_check_free(c);
                return;
        }
        if (r == -ESRCH)
                r = bus_error_setf(&error, SD_BUS_ERROR_INVALID_ARGS, "There is no %s '%s'.",
                                   owner[0] == '@' ? "group" : "user", quote_input(owner + (owner[0] == '@'), quoted));
        else if (r < 0)
                r = bus_error_setf(&error, SD_BUS_ERROR_FAILED, "The user database cannot look up '%s': %s.",
                                   quote_input(owner, quoted), strerror(-r));
        else {
                /* Its node goes to that owner without asking again. */
                manager_note_owner(c->manager, owner, ids);
                r = add_reservation(c->manager, c->msg, &c->reservation, &error);
        }
        if (r < 0)
                (void)sd_bus_reply_method_errno(c->msg, r, &error);
        owner_check_free(c);
}

/* Whether the owner exists is asked of the user database (NSS), which may
 * be a directory server that takes its time: in a worker, and only once
 * polkit has said yes, so that a caller who may not reserve can neither
 * keep vfiod's threads waiting nor learn from it which users exist. */
static int check_owner_then_add(Manager *m, sd_bus_message *msg, const Reservation *res)
{
        OwnerCheck *c = calloc(1, sizeof(*c));
        int r;

        if (!c)
                return -ENOMEM;
        *c = (OwnerCheck){ .manager = m, .msg = sd_bus_message_ref(msg), .reservation = *res };
        r = sd_event_add_time_relative(m->event, &c->deadline, CLOCK_MONOTONIC, OWNER_CHECK_USEC, 0,
                                       on_owner_check_late, c);
        if (r >= 0)
                r = owner_lookup_start(&m->owner_lookups, m->event, m->workers, res->owner, on_owner_checked, c);
        if (r < 0) {
                owner_check_free(c);
                return r;
        }
        return 1;
}

int bus_method_reserve(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;
        Reservation res = {};
        int r;

        if ((r = read_match(msg, &res.match, error)) < 0 || (r = read_reserve_options(msg, &res, error)) < 0 ||
            (r = refuse_reserved(m, &res.match, error)) < 0)
                return r;
        r = authorize_reserve(m, msg, &res, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        return res.owner[0] ? check_owner_then_add(m, msg, &res) : add_reservation(m, msg, &res, error);
}

int bus_method_unreserve(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *answer = NULL;
        _cleanup_(reservation_set_clear) ReservationSet files = {};
        Manager *m = userdata;
        ReservationMatch match;
        char text[RESERVATION_MATCH_STRING_MAX];
        size_t removed;
        int r;

        if ((r = read_match(msg, &match, error)) < 0 ||
            (r = bus_read_no_options(msg, "Unreserve", error)) < 0)
                return r;
        /* The files as they are now, not as vfiod last read them: an
         * administrator may have edited them since, and every line with
         * the match goes. */
        r = reservation_set_load(m->config_dir, &files);
        if (r < 0)
                return config_error("read", r, error);
        if (!reservation_set_find_match(&files, &match))
                return bus_error_setf(error, VFIOD_ERROR_NO_SUCH_RESERVATION,
                                      "Nothing is reserved as '%s': 'vfioctl-client reservations' lists them.",
                                      reservation_match_format(&match, text));
        r = authorize_unreserve(m, msg, &files, &match, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = reservation_config_remove(m->config_dir, &match, &removed);
        if (r < 0)
                return config_error("change", r, error);
        log_info("Unreserved %s (%zu line%s).", reservation_match_format(&match, text), removed,
                 removed == 1 ? "" : "s");
        r = sd_bus_message_new_method_return(msg, &answer);
        return r < 0 ? r : apply_and_answer(m, msg, answer, RESERVATION_REMOVED, &match);
}

/* The present devices a reservation matches. */
static int append_matched(sd_bus_message *reply, Manager *m, const ReservationMatch *match)
{
        int r = sd_bus_message_open_container(reply, 'a', "s");

        for (size_t i = 0; r >= 0 && i < device_model_n_devices(m->model); i++) {
                const Device *d = device_model_device_at(m->model, i);
                char path[RESERVATION_MATCH_STRING_MAX];
                PciIdentity id;

                pci_device_identity(d->pci, path, &id);
                if (reservation_matches(match, &id))
                        r = sd_bus_message_append(reply, "s", d->pci->address);
        }
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

int bus_method_list_reservations(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        int r;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sssuas)");
        for (size_t i = 0; r >= 0 && i < m->reservations.n_entries; i++) {
                const ReservationEntry *e = &m->reservations.entries[i];
                char text[RESERVATION_MATCH_STRING_MAX];

                r = sd_bus_message_open_container(reply, 'r', "sssuas");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "sssu", reservation_match_format(&e->reservation.match, text),
                                                  e->reservation.owner, e->file, e->line);
                if (r >= 0)
                        r = append_matched(reply, m, &e->reservation.match);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        return r < 0 ? r : bus_close_and_send(reply);
}
