/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus-names.h"
#include "bus-util.h"
#include "client.h"
#include "diagnosis.h"
#include "macro.h"

/* vfioctl-client doctor: is this host ready for VFIO, and if not, what to
 * do. Asks vfiod; when vfiod is not running, reads what it can itself. */

static int diagnosis_from_daemon(Client *c, Diagnosis **ret)
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(diagnosis_freep) Diagnosis *d = calloc(1, sizeof(*d));
        const char *check, *severity, *summary, *remedy;
        sd_bus *bus;
        int r;

        if (!d)
                return -ENOMEM;
        /* Without a bus, quietly: the client then looks by itself. */
        if (!c->bus && (r = bus_open(c->bus_address, &c->bus)) < 0)
                return r;
        bus = c->bus;
        r = sd_bus_call_method(bus, VFIOD_BUS_NAME, VFIOD_ROOT_PATH, VFIOD_MANAGER_INTERFACE, "Diagnose",
                               &error, &reply, NULL);
        if (r < 0)
                return client_error_is_absent(&error) ? -ESRCH : r;

        r = sd_bus_message_enter_container(reply, 'a', "(ssss)");
        while (r >= 0 &&
               (r = sd_bus_message_read(reply, "(ssss)", &check, &severity, &summary, &remedy)) > 0) {
                int s = finding_severity_from_string(severity);
                /* A severity from a newer daemon is shown, as information. */
                r = diagnosis_add(d, check, s < 0 ? FINDING_INFO : (FindingSeverity)s, summary, remedy);
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(d);
        return 0;
}

static void print_findings(const Client *c, const Diagnosis *d, bool from_daemon)
{
        static const struct {
                const char *mark;
                Color color;
        } look[] = {
                [FINDING_OK] = { "ok", COLOR_GREEN },
                [FINDING_INFO] = { "info", COLOR_BLUE },
                [FINDING_WARNING] = { "warn", COLOR_YELLOW },
                [FINDING_ERROR] = { "FAIL", COLOR_RED },
        };

        if (c->json) {
                printf("{\"daemon\":%s,\"findings\":[", from_daemon ? "true" : "false");
                for (size_t i = 0; i < d->n_findings; i++) {
                        const Finding *f = &d->findings[i];
                        printf("%s{\"check\":", i ? "," : "");
                        json_string(stdout, f->check);
                        printf(",\"severity\":\"%s\",\"summary\":", finding_severity_to_string(f->severity));
                        json_string(stdout, f->summary);
                        fputs(",\"remedy\":", stdout);
                        json_string(stdout, f->remedy);
                        fputc('}', stdout);
                }
                fputs("]}\n", stdout);
                return;
        }
        for (size_t i = 0; i < d->n_findings; i++) {
                const Finding *f = &d->findings[i];
                printf("%s%-4s%s %s\n", color_on(c, look[f->severity].color), look[f->severity].mark,
                       color_off(c), f->summary);
                if (f->remedy)
                        printf("     %s->%s %s\n", color_on(c, COLOR_BOLD), color_off(c), f->remedy);
        }
}

int verb_doctor(Client *c, int argc, char *argv[])
{
        _cleanup_(diagnosis_freep) Diagnosis *d = NULL;
        bool from_daemon;
        int r;

        r = diagnosis_from_daemon(c, &d);
        from_daemon = r >= 0;
        if (!from_daemon) {
                if (!c->json && r == -ESRCH)
                        fputs("vfiod is not running: showing what this client can read itself.\n", stderr);
                else if (!c->json)
                        fprintf(stderr,
                                "vfiod is not running or cannot be reached (%s): showing what this client can read "
                                "itself.\n",
                                strerror(-r));
                r = diagnosis_run(0, &d);
                if (r < 0) {
                        client_fail(c, CLIENT_EXIT_FAILURE, "cannot examine this host: %s", strerror(-r));
                        return r;
                }
        }
        print_findings(c, d, from_daemon);
        /* Errors found are the answer, not a failure of the tool: exit 1 quietly. */
        return diagnosis_has_errors(d) ? -EPROTO : 0;
}
