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

static int read_lease_row(sd_bus_message *reply, LeaseRow *l)
{
        return sd_bus_message_read(reply, "(ouuussst)", &l->path, &l->group, &l->uid, &l->pid, &l->mode, &l->lifetime,
                                   &l->holder, &l->since_usec);
}

int client_group_lease(Client *c, uint32_t group, sd_bus_message **reply, LeaseRow *ret)
{
        int r = client_call_manager(c, "ListLeases", reply, NULL);

        if (r < 0 || (r = check_answer_signature(c, *reply, "a(ouuussst)")) < 0)
                return r;
        r = sd_bus_message_enter_container(*reply, 'a', "(ouuussst)");
        while (r >= 0 && (r = read_lease_row(*reply, ret)) > 0)
                if (ret->group == group)
                        return 1;
        return r < 0 ? report_unreadable_answer(c, r) : 0;
}

void print_lease_json(const LeaseRow *l)
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

static int print_held_group(Client *c, uint32_t group, void *userdata)
{
        _cleanup_free_ char *holders = client_group_holders(c, group);
        size_t *n = userdata;

        if (!holders)
                return 0;
        if (c->json)
                printf("%s{\"iommu_group\":%u,\"holders\":%s}", *n ? "," : "", group, holders);
        else
                printf("IOMMU group %u: no lease, but %s still holds it open\n", group, holders);
        (*n)++;
        return 0;
}

/* Groups that a process holds open while nothing leases them (the lease
 * ended, or the reservation that vfiod-early held them for went): not
 * leases any more, but not back either. With --json, the "held" array.
 * What cannot be listed is left out: the leases are the answer. */
static void print_held_groups(Client *c)
{
        size_t n = 0;

        if (c->json)
                fputs(",\"held\":[", stdout);
        (void)client_foreach_held_group(c, print_held_group, &n);
        if (c->json)
                fputs("]", stdout);
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
        if (c->json)
                fputs("{\"leases\":[", stdout);
        else
                printf("%-6s %5s  %-10s %7s  %-5s  %-10s  %s\n", "LEASE", "GROUP", "OWNER", "PID", "MODE", "LIFETIME",
                       "SINCE");
        while (r >= 0 && (r = read_lease_row(reply, &l)) > 0) {
                if (c->json) {
                        printf(n ? "," : "");
                        print_lease_json(&l);
                } else
                        print_lease_line(&l);
                n++;
        }
        if (r < 0) {
                if (c->json)
                        puts("]}"); /* what was read, whole; the error follows as its own object */
                return report_unreadable_answer(c, r);
        }
        if (c->json)
                fputs("]", stdout);
        else if (n == 0)
                puts("(no leases)");
        print_held_groups(c);
        if (c->json)
                puts("}");
        return 0;
}
