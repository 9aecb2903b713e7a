/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "bus-names.h"
#include "client.h"
#include "macro.h"

/* vfioctl-client monitor: vfiod's signals as they come, one line each:
 * devices and groups changing state, leases granted and ended. Objects
 * are named as people know them (device 0000:01:00.0, group 5, lease 3). */

/* One property's value as people read it: strings bare, objects by name. */
static int print_value_text(sd_bus_message *m)
{
        const char *contents, *text;
        int r = sd_bus_message_peek_type(m, NULL, &contents);

        if (r <= 0)
                return r < 0 ? r : -EBADMSG;
        if (streq(contents, "s") || streq(contents, "o")) {
                r = sd_bus_message_read(m, "v", contents, &text);
                if (r >= 0 && contents[0] == 'o') {
                        _cleanup_free_ char *name = client_object_name(text);
                        fputs(name ? name : text, stdout);
                } else if (r >= 0)
                        fputs(text[0] ? text : "\"\"", stdout);
                return r;
        }
        return json_write_value(stdout, m);
}

/* PropertiesChanged(s interface, a{sv} changed, as invalidated). */
static int print_properties_changed(const Client *c, sd_bus_message *m)
{
        const char *interface, *name;
        size_t n = 0;
        int r = sd_bus_message_read(m, "s", &interface);

        if (c->json) {
                printf(",\"interface\":");
                json_string(stdout, interface);
                printf(",\"changed\":");
                r = r < 0 ? r : json_write_value(stdout, m);
                printf(",\"invalidated\":");
                return r < 0 ? r : json_write_value(stdout, m);
        }
        if (r >= 0)
                r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &name);
                if (r >= 0) {
                        printf("%s%s=", n++ ? ", " : " ", name);
                        r = print_value_text(m);
                }
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        return r;
}

/* InterfacesAdded(o, a{sa{sv}}) and InterfacesRemoved(o, as). */
static int print_interfaces(const Client *c, sd_bus_message *m, bool added)
{
        _cleanup_free_ char *name = NULL;
        const char *object;
        int r = sd_bus_message_read(m, "o", &object);

        if (r < 0)
                return r;
        name = client_object_name(object);
        if (!c->json) {
                printf(" %s %s", name ? name : object, added ? "appeared" : "went away");
                return 0;
        }
        printf(",\"added\":%s,\"object\":", added ? "true" : "false");
        json_string(stdout, name);
        printf(",\"object_path\":");
        json_string(stdout, object);
        printf(",\"interfaces\":");
        return json_write_value(stdout, m);
}

static int print_signal_body(const Client *c, sd_bus_message *m)
{
        const char *member = sd_bus_message_get_member(m), *reason;
        int r;

        if (streq(member, "PropertiesChanged"))
                return print_properties_changed(c, m);
        if (streq(member, "InterfacesAdded") || streq(member, "InterfacesRemoved"))
                return print_interfaces(c, m, streq(member, "InterfacesAdded"));
        if (streq(member, "Released") && (r = sd_bus_message_read(m, "s", &reason)) >= 0) {
                if (c->json) {
                        printf(",\"reason\":");
                        json_string(stdout, reason);
                } else
                        printf(" reason=%s", reason);
                return 0;
        }
        return 0;
}

/* One line a signal: in text "group 5 PropertiesChanged State=claimed",
 * with --json an object with the whole change. */
static int on_signal(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        const Client *c = userdata;
        const char *member = sd_bus_message_get_member(m), *path = sd_bus_message_get_path(m);
        _cleanup_free_ char *name = client_object_name(path);

        if (c->json) {
                printf("{\"signal\":");
                json_string(stdout, member);
                printf(",\"from\":");
                json_string(stdout, name);
                printf(",\"path\":");
                json_string(stdout, path);
        } else
                printf("%s %s", name ? name : path, member);
        if (print_signal_body(c, m) < 0 && !c->json)
                printf(" (unreadable)");
        printf(c->json ? "}\n" : "\n");
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
                client_fail(c, CLIENT_EXIT_FAILURE, "cannot follow vfiod's signals: %s", strerror(-r));
                return r;
        }
        if (!c->json)
                fprintf(stderr, "Following vfiod's signals; Ctrl-C ends.\n");
        r = sd_event_loop(event);
        sd_bus_detach_event(bus);
        return r;
}
