/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <pwd.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>

#include "bus-names.h"
#include "client.h"
#include "macro.h"

/* vfioctl-client leases: who holds which group, how, and since when. */

typedef struct LeaseRow {
        const char *path, *mode, *lifetime, *holder;
        uint32_t group, uid, pid;
        uint64_t since_usec;
} LeaseRow;

static void print_lease_json(const LeaseRow *l)
{
        const struct passwd *pw = getpwuid(l->uid);

        printf("{\"lease\":");
        json_string(stdout, l->path);
        printf(",\"iommu_group\":%u,\"uid\":%u,\"user\":", l->group, l->uid);
        json_string(stdout, pw ? pw->pw_name : NULL);
        printf(",\"pid\":%u,\"mode\":", l->pid);
        json_string(stdout, l->mode);
        printf(",\"lifetime\":");
        json_string(stdout, l->lifetime);
        printf(",\"holder\":");
        json_string(stdout, l->holder[0] ? l->holder : NULL);
        printf(",\"since_usec\":%llu}", (unsigned long long)l->since_usec);
}

static void print_lease_line(const LeaseRow *l)
{
        const struct passwd *pw = getpwuid(l->uid);
        time_t t = (time_t)(l->since_usec / 1000000);
        char since[32] = "?";
        struct tm tm;

        if (localtime_r(&t, &tm))
                strftime(since, sizeof(since), "%Y-%m-%d %H:%M:%S", &tm);
        printf("%-6s %5u  %-10s %7u  %-5s  %-10s  %s\n", strrchr(l->path, '/') + 1, l->group,
               pw ? pw->pw_name : "?", l->pid, l->mode, l->lifetime, since);
}

/* Groups that a process holds open while nothing leases them (the lease
 * ended, or the reservation that vfiod-early held them for went): not
 * leases any more, but not back either. */
static void print_held_groups(Client *c)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *state;
        uint32_t group;
        int viable, r;

        if (sd_bus_call_method(c->bus, VFIOD_BUS_NAME, VFIOD_ROOT_PATH, VFIOD_MANAGER_INTERFACE, "ListGroups", NULL,
                               &reply, NULL) < 0)
                return;
        r = sd_bus_message_enter_container(reply, 'a', "(uoasbs)");
        while (r >= 0 && (r = client_read_group_row(reply, &group, &viable, &state)) > 0) {
                _cleanup_free_ char *holders = NULL;
                if (bus_state_from_string(state) == BUS_STATE_HELD && (holders = client_group_holders(c, group)))
                        printf("IOMMU group %u: no lease, but %s still holds it open\n", group, holders);
        }
}

int verb_leases(Client *c, int argc, char *argv[])
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        LeaseRow l;
        size_t n = 0;
        int r;

        r = client_call_manager(c, "ListLeases", &reply, NULL);
        if (r < 0 || (r = check_answer_signature(c, reply, "a(ouuussst)")) < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(ouuussst)");
        print_list_start(c, "leases");
        if (!c->json)
                printf("%-6s %5s  %-10s %7s  %-5s  %-10s  %s\n", "LEASE", "GROUP", "OWNER", "PID", "MODE", "LIFETIME",
                       "SINCE");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ouuussst)", &l.path, &l.group, &l.uid, &l.pid, &l.mode,
                                                  &l.lifetime, &l.holder, &l.since_usec)) > 0) {
                if (c->json) {
                        printf(n ? "," : "");
                        print_lease_json(&l);
                } else
                        print_lease_line(&l);
                n++;
        }
        r = print_list_end(c, n, "(no leases)", r);
        if (r >= 0 && !c->json)
                print_held_groups(c);
        return r;
}
