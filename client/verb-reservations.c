/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus-state.h"
#include "client.h"
#include "macro.h"
#include "reservation.h"

/* vfioctl-client reserve, unreserve, reservations: devices kept on vfio-pci
 * from boot on (vfiod.conf(5)). reserve and unreserve say what happened to
 * each device, as vfiod shows it afterwards. */

/* Moving a reserved group can take as long as a claim. */
#define RESERVE_CALL_TIMEOUT_USEC (300ULL * 1000000ULL)
/* Devices shown of one reservation: an id can match many identical cards,
 * and a row shows the first 64. */
#define ROW_DEVICES_MAX 64

/* One row of ListReservations, in the order vfiod applies them: the first
 * row that matches a device is the one in force for its group. The strings
 * live in the reply. */
typedef struct ReservationRow {
        const char *match, *owner, *file;
        uint32_t line;
        const char *devices[ROW_DEVICES_MAX];
        size_t n_devices;
} ReservationRow;

typedef struct ReservationList {
        sd_bus_message *reply;
        ReservationRow *rows;
        size_t n;
} ReservationList;

static void reservation_list_done(ReservationList *l)
{
        sd_bus_message_unref(l->reply);
        free(l->rows);
}

static int read_row(sd_bus_message *reply, ReservationRow *row)
{
        const char *address;
        int r = sd_bus_message_read(reply, "sssu", &row->match, &row->owner, &row->file, &row->line);

        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "s");
        row->n_devices = 0;
        while (r >= 0 && (r = sd_bus_message_read(reply, "s", &address)) > 0)
                if (row->n_devices < ROW_DEVICES_MAX)
                        row->devices[row->n_devices++] = address;
        return r < 0 ? r : sd_bus_message_exit_container(reply);
}

static int list_reservations(Client *c, ReservationList *ret)
{
        ReservationList l = {};
        int r = client_call_manager(c, "ListReservations", &l.reply, NULL);

        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(l.reply, 'a', "(sssuas)");
        while (r >= 0 && (r = sd_bus_message_enter_container(l.reply, 'r', "sssuas")) > 0) {
                ReservationRow *grown = reallocarray(l.rows, l.n + 1, sizeof(*l.rows));
                if (!grown) {
                        r = -ENOMEM;
                        break;
                }
                l.rows = grown;
                r = read_row(l.reply, &l.rows[l.n]);
                if (r >= 0) {
                        l.n++;
                        r = sd_bus_message_exit_container(l.reply);
                }
        }
        if (r < 0) {
                reservation_list_done(&l);
                return report_unreadable_answer(c, r);
        }
        *ret = l;
        return 0;
}

static bool row_has_device(const ReservationRow *row, const char *address)
{
        for (size_t i = 0; i < row->n_devices; i++)
                if (streq(row->devices[i], address))
                        return true;
        return false;
}

/* The row of match as vfiod writes it (01:00.0 is 0000:01:00.0); NULL
 * when there is none, or match does not parse (vfiod has said why). */
static const ReservationRow *find_row(const ReservationList *l, const char *match)
{
        char canonical[RESERVATION_MATCH_STRING_MAX];
        ReservationMatch parsed;
        const char *reason;

        if (reservation_match_parse(match, &parsed, &reason) < 0)
                return NULL;
        reservation_match_format(&parsed, canonical);
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->rows[i].match, canonical))
                        return &l->rows[i];
        return NULL;
}

/* The row in force for a device: the first that matches it. */
static const ReservationRow *row_in_force(const ReservationList *l, const char *address)
{
        for (size_t i = 0; i < l->n; i++)
                if (row_has_device(&l->rows[i], address))
                        return &l->rows[i];
        return NULL;
}

/* The command line checked as vfiod checks it, before any call. */
static int check_reservation_arguments(Client *c, const char *match)
{
        ReservationMatch parsed;
        const char *reason = "?";

        if (reservation_match_parse(match, &parsed, &reason) < 0)
                return client_usage_error(c, "Not a reservation match: '%s': %s.", match, reason);
        if (c->owner && !reservation_owner_is_valid(c->owner))
                return client_usage_error(c, "--owner takes a user name, or @ and a group name, not '%s'.",
                                          c->owner);
        return 0;
}

/* A call that may ask for a password, and may wait for groups to move. */
static int call_reservation_method(Client *c, const char *method, const char *match, sd_bus_message **reply)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = NULL;
        int r;

        if ((r = client_bus(c, &c->bus)) < 0 || (r = client_new_manager_call(c, method, &msg)) < 0)
                return r;
        r = sd_bus_message_append(msg, "s", match);
        if (r >= 0 && c->owner)
                r = sd_bus_message_append(msg, "a{sv}", 1, "owner", "s", c->owner);
        else if (r >= 0)
                r = sd_bus_message_append(msg, "a{sv}", 0);
        if (r < 0)
                return client_fail(c, CLIENT_EXIT_FAILURE, "cannot make the call: %s", strerror(-r));
        return client_call_authorized(c, msg, RESERVE_CALL_TIMEOUT_USEC, reply);
}

/* A device the new reservation matches, whose group another one holds:
 * both lines stay, and the first in vfiod's order applies to the group. */
static void print_overlap(const Client *c, const ReservationRow *in_force, const char *address, size_t index)
{
        if (c->json) {
                printf("%s{\"address\":", index ? "," : "");
                json_string(stdout, address);
                printf(",\"in_force\":");
                json_string(stdout, in_force->match);
                printf(",\"file\":");
                json_string(stdout, in_force->file);
                printf(",\"line\":%u}", in_force->line);
                return;
        }
        printf("%s is reserved already, as %s (%s:%u): that reservation stays in force for its group%s%s.\n",
               address, in_force->match, in_force->file, in_force->line, in_force->owner[0] ? ", owner " : "",
               in_force->owner);
}

static void print_reserved(Client *c, const char *match, const char *file)
{
        ReservationList l = {};
        const ReservationRow *mine = NULL;
        size_t overlaps = 0;

        /* Reserved already: what cannot be listed now is left out, the
         * reservation is not a failure for it. */
        c->hold_error = true;
        if (list_reservations(c, &l) >= 0)
                mine = find_row(&l, match);
        c->hold_error = false;
        if (c->json) {
                printf("{\"reserved\":");
                json_string(stdout, mine ? mine->match : match);
                printf(",\"file\":");
                json_string(stdout, file);
                printf(",\"devices\":[");
                for (size_t i = 0; mine && i < mine->n_devices; i++) {
                        printf("%s", i ? "," : "");
                        json_string(stdout, mine->devices[i]);
                }
                printf("],\"overlaps\":[");
        } else
                printf("Reserved %s in %s: on vfio-pci now and from every boot on.\n", match, file);
        for (size_t i = 0; mine && i < mine->n_devices; i++) {
                const ReservationRow *in_force = row_in_force(&l, mine->devices[i]);
                if (in_force && in_force != mine)
                        print_overlap(c, in_force, mine->devices[i], overlaps++);
        }
        if (c->json)
                printf("]}\n");
        reservation_list_done(&l);
}

int verb_reserve(Client *c, int argc, char *argv[])
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *file;
        int r = check_reservation_arguments(c, argv[1]);

        if (r >= 0)
                r = call_reservation_method(c, "Reserve", argv[1], &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "s", &file);
        if (r < 0)
                return report_unreadable_answer(c, r);
        print_reserved(c, argv[1], file);
        return 0;
}

/* Where a device the reservation held is now, and why, in words. */
static const char *whereabouts(const DeviceRow *d, char *buf, size_t size)
{
        switch (bus_state_from_string(d->state)) {
        case BUS_STATE_HOST:
                snprintf(buf, size, "back on %s", d->driver);
                return buf;
        case BUS_STATE_UNBOUND:
                return "back without a driver, as before the reservation";
        case BUS_STATE_RESERVED:
                return "stays on vfio-pci: another reservation holds its group";
        case BUS_STATE_VFIO:
                return "stays on vfio-pci: it was there by its driver_override before vfiod reserved it";
        case BUS_STATE_CLAIMING:
        case BUS_STATE_RELEASING:
                /* A lease's move, or the reservation's own claim, which
                 * vfiod follows up once it ends. */
                snprintf(buf, size, "is moving right now: 'vfioctl-client show %s' says where it ends up",
                         d->address);
                return buf;
        case BUS_STATE_CLAIMED:
                return "stays on vfio-pci while its lease lasts, then goes back to its host driver";
        case BUS_STATE_HELD:
                snprintf(buf, size, "stays on vfio-pci while a process has its group open ('vfioctl-client show %s' "
                                    "names it), then goes back to the host", d->address);
                return buf;
        default:
                snprintf(buf, size, "did not go back (%s): see 'vfioctl-client show %s'", d->state, d->address);
                return buf;
        }
}

static void print_unreserved(Client *c, const char *match, const ReservationRow *before)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ DeviceRow *rows = NULL;
        size_t n = 0, shown = 0;
        char buf[256];

        c->hold_error = true; /* unreserved already: a listing that fails leaves the devices out */
        if (client_list_devices(c, &reply, &rows, &n) < 0)
                n = 0;
        c->hold_error = false;
        if (c->json) {
                printf("{\"unreserved\":");
                json_string(stdout, before ? before->match : match);
                printf(",\"devices\":[");
        } else
                printf("Unreserved %s.\n", match);
        for (size_t i = 0; i < n; i++) {
                if (!before || !row_has_device(before, rows[i].address) || rows[i].bridge)
                        continue;
                if (c->json) {
                        printf("%s{\"address\":", shown++ ? "," : "");
                        json_string(stdout, rows[i].address);
                        printf(",\"driver\":");
                        json_string(stdout, rows[i].driver[0] ? rows[i].driver : NULL);
                        printf(",\"state\":");
                        json_string(stdout, rows[i].state);
                        printf(",\"outcome\":");
                        json_string(stdout, whereabouts(&rows[i], buf, sizeof(buf)));
                        printf("}");
                } else
                        printf("  %s %s\n", rows[i].address, whereabouts(&rows[i], buf, sizeof(buf)));
        }
        if (c->json)
                printf("]}\n");
}

int verb_unreserve(Client *c, int argc, char *argv[])
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        ReservationList l = {};
        int r;

        if ((r = check_reservation_arguments(c, argv[1])) < 0)
                return r;
        /* Which devices it held, asked before they move. */
        if (list_reservations(c, &l) < 0)
                return -EIO;
        r = call_reservation_method(c, "Unreserve", argv[1], &reply);
        if (r >= 0)
                print_unreserved(c, argv[1], find_row(&l, argv[1]));
        reservation_list_done(&l);
        return r < 0 ? r : 0;
}

static void print_row(Client *c, const ReservationRow *row, size_t index)
{
        if (c->json) {
                printf("%s{\"match\":", index ? "," : "");
                json_string(stdout, row->match);
                printf(",\"owner\":");
                json_string(stdout, row->owner[0] ? row->owner : NULL);
                printf(",\"file\":");
                json_string(stdout, row->file);
                printf(",\"line\":%u,\"devices\":[", row->line);
                for (size_t i = 0; i < row->n_devices; i++) {
                        printf("%s", i ? "," : "");
                        json_string(stdout, row->devices[i]);
                }
                printf("]}");
                return;
        }
        printf("%-28s %-10s %s:%u\n  ", row->match, row->owner[0] ? row->owner : "root", row->file, row->line);
        for (size_t i = 0; i < row->n_devices; i++)
                printf("%s%s", i ? "," : "", row->devices[i]);
        printf("%s\n", row->n_devices ? "" : "(no such device now)");
}

int verb_reservations(Client *c, int argc, char *argv[])
{
        ReservationList l = {};
        int r = list_reservations(c, &l);

        if (r < 0)
                return r;
        print_list_start(c, "reservations");
        if (!c->json)
                printf("%-28s %-10s %s\n", "MATCH", "OWNER", "FILE:LINE / DEVICES");
        for (size_t i = 0; i < l.n; i++)
                print_row(c, &l.rows[i], i);
        reservation_list_done(&l);
        return print_list_end(c, l.n, "(nothing reserved)", 0);
}
