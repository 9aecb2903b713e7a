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
static int write_value_text(FILE *f, sd_bus_message *m)
{
        const char *contents, *text;
        int r = sd_bus_message_peek_type(m, NULL, &contents);

        if (r <= 0)
                return r < 0 ? r : -EBADMSG;
        if (streq(contents, "s") || streq(contents, "o")) {
                r = sd_bus_message_read(m, "v", contents, &text);
                if (r >= 0 && contents[0] == 'o') {
                        _cleanup_free_ char *name = client_object_name(text);
                        fputs(name ? name : text, f);
                } else if (r >= 0)
                        fputs(text[0] ? text : "\"\"", f);
                return r;
        }
        return json_write_value(f, m);
}

/* PropertiesChanged(s interface, a{sv} changed, as invalidated). */
static int write_properties_changed(const Client *c, FILE *f, sd_bus_message *m)
{
        const char *interface, *name;
        size_t n = 0;
        int r = sd_bus_message_read(m, "s", &interface);

        if (r >= 0 && c->json) {
                fputs(",\"interface\":", f);
                json_string(f, interface);
                fputs(",\"changed\":", f);
                r = json_write_value(f, m);
                fputs(",\"invalidated\":", f);
                return r < 0 ? r : json_write_value(f, m);
        }
        if (r >= 0)
                r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &name);
                if (r >= 0) {
                        fprintf(f, "%s%s=", n++ ? ", " : " ", name);
                        r = write_value_text(f, m);
                }
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        return r;
}

/* InterfacesAdded(o, a{sa{sv}}) and InterfacesRemoved(o, as). */
static int write_interfaces(const Client *c, FILE *f, sd_bus_message *m, bool added)
{
        _cleanup_free_ char *name = NULL;
        const char *object;
        int r = sd_bus_message_read(m, "o", &object);

        if (r < 0)
                return r;
        name = client_object_name(object);
        if (!c->json) {
                fprintf(f, " %s %s", name ? name : object, added ? "appeared" : "went away");
                return 0;
        }
        fprintf(f, ",\"added\":%s,\"object\":", added ? "true" : "false");
        json_string(f, name);
        fputs(",\"object_path\":", f);
        json_string(f, object);
        fputs(",\"interfaces\":", f);
        return json_write_value(f, m);
}

static int write_signal_body(const Client *c, FILE *f, sd_bus_message *m)
{
        const char *member = sd_bus_message_get_member(m), *reason;
        int r;

        if (streq(member, "PropertiesChanged"))
                return write_properties_changed(c, f, m);
        if (streq(member, "InterfacesAdded") || streq(member, "InterfacesRemoved"))
                return write_interfaces(c, f, m, streq(member, "InterfacesAdded"));
        if (streq(member, "Released")) {
                r = sd_bus_message_read(m, "s", &reason);
                if (r < 0)
                        return r;
                fputs(c->json ? ",\"reason\":" : " reason=", f);
                if (c->json)
                        json_string(f, reason);
                else
                        fputs(reason, f);
        }
        return 0;
}

/* One line a signal: in text "group 5 PropertiesChanged State=claimed",
 * with --json an object with the whole change. A signal that cannot be
 * read is said as such, never printed half. */
static int on_signal(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        const Client *c = userdata;
        const char *member = sd_bus_message_get_member(m), *path = sd_bus_message_get_path(m);
        _cleanup_free_ char *name = client_object_name(path), *body = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&body, &size);
        int r = f ? write_signal_body(c, f, m) : -ENOMEM;

        if (f)
                fclose(f);
        if (c->json) {
                printf("{\"signal\":");
                json_string(stdout, member);
                printf(",\"from\":");
                json_string(stdout, name);
                printf(",\"path\":");
                json_string(stdout, path);
                if (r >= 0)
                        fputs(body, stdout);
                else
                        printf(",\"unreadable\":true");
                printf("}\n");
        } else
                printf("%s %s%s\n", name ? name : path, member, r >= 0 ? body : " (unreadable)");
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
        r = sd_event_default(&event);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGINT, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_bus_attach_event(bus, event, 0);
        if (r >= 0)
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
