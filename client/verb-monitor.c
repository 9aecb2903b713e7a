/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "bus-names.h"
#include "client.h"
#include "macro.h"

/* vfioctl-client monitor: vfiod's signals as they come, one line each:
 * devices and groups changing state, leases granted and ended. */

static int print_properties(sd_bus_message *m)
{
        const char *interface, *name, *value;
        int first = 1, r;

        r = sd_bus_message_read(m, "s", &interface);
        if (r >= 0)
                r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &name);
                /* The strings are what people follow (State, Step, Driver). */
                if (r >= 0 && sd_bus_message_read(m, "v", "s", &value) > 0)
                        printf("%s%s=%s", first-- > 0 ? " " : ", ", name, value);
                else if (r >= 0)
                        r = sd_bus_message_skip(m, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        return r;
}

static int on_signal(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        const Client *c = userdata;
        const char *member = sd_bus_message_get_member(m), *path = sd_bus_message_get_path(m), *reason;

        if (c->json) {
                printf("{\"signal\":");
                json_string(stdout, member);
                printf(",\"path\":");
                json_string(stdout, path);
                if (streq(member, "Released") && sd_bus_message_read(m, "s", &reason) > 0) {
                        printf(",\"reason\":");
                        json_string(stdout, reason);
                }
                printf("}\n");
        } else {
                printf("%s %s", member, path);
                if (streq(member, "PropertiesChanged"))
                        (void)print_properties(m);
                else if (streq(member, "Released") && sd_bus_message_read(m, "s", &reason) > 0)
                        printf(" reason=%s", reason);
                else if (streq(member, "InterfacesAdded") || streq(member, "InterfacesRemoved")) {
                        const char *object;
                        if (sd_bus_message_read(m, "o", &object) > 0)
                                printf(" %s", object);
                }
                printf("\n");
        }
        fflush(stdout);
        return 0;
}

int verb_monitor(Client *c, int argc, char *argv[])
{
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        sd_bus *bus;
        sigset_t mask;
        int r;

        r = client_bus(c, &bus);
        if (r < 0)
                return r;
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        if ((r = sd_event_default(&event)) < 0 || (r = sd_event_add_signal(event, NULL, SIGINT, NULL, NULL)) < 0 ||
            (r = sd_event_add_signal(event, NULL, SIGTERM, NULL, NULL)) < 0 ||
            (r = sd_bus_attach_event(bus, event, 0)) < 0)
                return r;
        r = sd_bus_match_signal(bus, NULL, VFIOD_BUS_NAME, NULL, NULL, NULL, on_signal, c);
        if (r < 0) {
                fprintf(stderr, "vfioctl-client: cannot follow vfiod's signals: %s\n", strerror(-r));
                return r;
        }
        if (!c->json)
                fprintf(stderr, "Following vfiod's signals; Ctrl-C ends.\n");
        r = sd_event_loop(event);
        sd_bus_detach_event(bus);
        return r;
}
