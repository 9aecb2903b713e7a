/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "client.h"
#include "macro.h"

/* vfioctl-client reserve, unreserve, reservations: devices kept on vfio-pci
 * from boot on (vfiod.conf(5)). */

/* Moving a reserved group can take as long as a claim. */
#define RESERVE_CALL_TIMEOUT_USEC (300ULL * 1000000ULL)

/* A call that may ask for a password, and may wait for groups to move. */
static int call_reservation_method(Client *c, const char *method, const char *match, sd_bus_message **reply)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = NULL;
        pid_t agent;
        int r;

        if ((r = client_bus(c, &c->bus)) < 0 || (r = client_new_manager_call(c, method, &msg)) < 0)
                return r;
        r = sd_bus_message_append(msg, "s", match);
        if (r >= 0 && c->owner)
                r = sd_bus_message_append(msg, "a{sv}", 1, "owner", "s", c->owner);
        else if (r >= 0)
                r = sd_bus_message_append(msg, "a{sv}", 0);
        if (r < 0)
                return r;
        (void)polkit_agent_open(c, &agent);
        c->call_timeout_usec = RESERVE_CALL_TIMEOUT_USEC;
        r = client_call(c, msg, reply);
        polkit_agent_close(agent);
        return r;
}

int verb_reserve(Client *c, int argc, char *argv[])
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *file;
        int r = call_reservation_method(c, "Reserve", argv[1], &reply);

        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "s", &file);
        if (r < 0)
                return r;
        if (c->json) {
                printf("{\"reserved\":");
                json_string(stdout, argv[1]);
                printf(",\"file\":");
                json_string(stdout, file);
                printf("}\n");
        } else
                printf("Reserved %s in %s: on vfio-pci now and from every boot on.\n", argv[1], file);
        return 0;
}

int verb_unreserve(Client *c, int argc, char *argv[])
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = call_reservation_method(c, "Unreserve", argv[1], &reply);

        if (r < 0)
                return r;
        if (c->json) {
                printf("{\"unreserved\":");
                json_string(stdout, argv[1]);
                printf("}\n");
        } else
                printf("Unreserved %s: back to its host driver (a leased group when its lease ends).\n", argv[1]);
        return 0;
}

typedef struct ReservationRow {
        const char *match, *owner, *file;
        uint32_t line;
} ReservationRow;

/* The matched addresses, as a JSON array or comma-separated text. */
static int print_matched(Client *c, sd_bus_message *reply)
{
        const char *address;
        size_t n = 0;
        int r = sd_bus_message_enter_container(reply, 'a', "s");

        printf(c->json ? ",\"devices\":[" : "  ");
        while (r >= 0 && (r = sd_bus_message_read(reply, "s", &address)) > 0) {
                printf("%s", n++ ? "," : "");
                if (c->json)
                        json_string(stdout, address);
                else
                        printf("%s", address);
        }
        if (!c->json && n == 0)
                printf("(no such device now)");
        printf(c->json ? "]}" : "\n");
        return r < 0 ? r : sd_bus_message_exit_container(reply);
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
                printf(",\"line\":%u", row->line);
        } else
                printf("%-28s %-10s %s:%u\n", row->match, row->owner[0] ? row->owner : "root", row->file, row->line);
}

int verb_reservations(Client *c, int argc, char *argv[])
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        ReservationRow row;
        size_t n = 0;
        int r;

        r = client_call_manager(c, "ListReservations", &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(sssuas)");
        if (c->json)
                printf("[");
        else
                printf("%-28s %-10s %s\n", "MATCH", "OWNER", "FILE:LINE / DEVICES");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'r', "sssuas")) > 0) {
                r = sd_bus_message_read(reply, "sssu", &row.match, &row.owner, &row.file, &row.line);
                if (r >= 0)
                        print_row(c, &row, n++);
                if (r >= 0)
                        r = print_matched(c, reply);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
        }
        return print_list_end(c, n, "(nothing reserved)", r);
}
