/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claim-id.h"
#include "client.h"
#include "macro.h"

/* vfioctl-client prepare, unprepare, prepared: an orchestrator's claims
 * (Prepare, Unprepare, ListPrepared), for node agents' scripts and for a
 * person looking at what an agent holds. */

/* Moving groups takes as long as a claim does. */
#define PREPARE_CALL_TIMEOUT_USEC (300ULL * 1000000ULL)

static int check_claim_id(Client *c, const char *id)
{
        if (claim_id_is_valid(id))
                return 0;
        return client_usage_error(c, "'%s' is not a claim id: 1 to 63 letters, digits, '.', '_' and '-', starting "
                                     "with a letter or digit.", id);
}

/* A Manager call with the claim id first, checked before it is made. */
static int new_claim_call(Client *c, const char *method, const char *id, sd_bus_message **ret)
{
        int r;

        if ((r = check_claim_id(c, id)) < 0 || (r = client_bus(c, &c->bus)) < 0 ||
            (r = client_new_manager_call(c, method, ret)) < 0)
                return r;
        r = sd_bus_message_append(*ret, "s", id);
        return r < 0 ? client_fail(c, CLIENT_EXIT_FAILURE, "cannot make the call: %s", strerror(-r)) : 0;
}

static int print_prepared(Client *c, const char *id, sd_bus_message *reply)
{
        const char *cdi_device, *node;
        const uint32_t *groups;
        size_t size;
        int r = check_answer_signature(c, reply, "sauas");

        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "s", &cdi_device);
        if (r >= 0)
                r = sd_bus_message_read_array(reply, 'u', (const void **)&groups, &size);
        if (r < 0)
                return report_unreadable_answer(c, r);
        if (c->json) {
                printf("{\"claim_id\":");
                json_string(stdout, id);
                printf(",\"cdi_device\":");
                json_string(stdout, cdi_device);
                printf(",\"iommu_groups\":[");
                for (size_t i = 0; i < size / sizeof(*groups); i++)
                        printf("%s%u", i > 0 ? "," : "", groups[i]);
                printf("],\"nodes\":[");
        } else {
                printf("Prepared claim %s: CDI device %s, IOMMU group(s)", id, cdi_device);
                for (size_t i = 0; i < size / sizeof(*groups); i++)
                        printf(" %u", groups[i]);
                printf("\n  nodes:");
        }
        r = sd_bus_message_enter_container(reply, 'a', "s");
        for (size_t i = 0; r >= 0 && (r = sd_bus_message_read(reply, "s", &node)) > 0; i++) {
                if (c->json) {
                        fputs(i > 0 ? "," : "", stdout);
                        json_string(stdout, node);
                } else
                        printf(" %s", node);
        }
        if (r < 0)
                return report_unreadable_answer(c, r);
        puts(c->json ? "]}" : "");
        return 0;
}

int verb_prepare(Client *c, int argc, char *argv[])
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = NULL, *reply = NULL;
        int r = 0;

        for (int i = 2; i < argc && r >= 0; i++)
                r = client_check_address(c, argv[i]);
        if (r >= 0)
                r = new_claim_call(c, "Prepare", argv[1], &msg);
        if (r < 0)
                return r;
        r = sd_bus_message_append_strv(msg, argv + 2);
        if (r >= 0)
                r = sd_bus_message_append(msg, "a{sv}", 0);
        if (r < 0)
                return client_fail(c, CLIENT_EXIT_FAILURE, "cannot make the call: %s", strerror(-r));
        r = client_call_authorized(c, msg, PREPARE_CALL_TIMEOUT_USEC, &reply);
        return r < 0 ? r : print_prepared(c, argv[1], reply);
}

int verb_unprepare(Client *c, int argc, char *argv[])
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = NULL, *reply = NULL;
        int r = new_claim_call(c, "Unprepare", argv[1], &msg);

        if (r < 0)
                return r;
        r = sd_bus_message_append(msg, "a{sv}", 0);
        if (r < 0)
                return client_fail(c, CLIENT_EXIT_FAILURE, "cannot make the call: %s", strerror(-r));
        r = client_call_authorized(c, msg, PREPARE_CALL_TIMEOUT_USEC, &reply);
        if (r < 0)
                return r;
        if (c->json) {
                printf("{\"claim_id\":");
                json_string(stdout, argv[1]);
                puts(",\"unprepared\":true}");
        } else
                printf("Claim %s is unprepared: its groups are back, its CDI spec gone.\n", argv[1]);
        return 0;
}

static void print_claim_row(Client *c, size_t i, const char *id, const char *cdi_device, const uint32_t *groups,
                            size_t n_groups)
{
        if (!c->json) {
                printf("%-40s %-50s", id, cdi_device);
                for (size_t k = 0; k < n_groups; k++)
                        printf(" %u", groups[k]);
                putchar('\n');
                return;
        }
        printf("%s{\"claim_id\":", i > 0 ? "," : "");
        json_string(stdout, id);
        printf(",\"cdi_device\":");
        json_string(stdout, cdi_device);
        printf(",\"iommu_groups\":[");
        for (size_t k = 0; k < n_groups; k++)
                printf("%s%u", k > 0 ? "," : "", groups[k]);
        printf("]}");
}

int verb_prepared(Client *c, int argc, char *argv[])
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *id, *cdi_device;
        const uint32_t *groups;
        size_t n = 0, size;
        int r = client_call_manager(c, "ListPrepared", &reply, NULL);

        if (r < 0 || (r = check_answer_signature(c, reply, "a(ssau)")) < 0)
                return r;
        print_list_start(c, "prepared");
        r = sd_bus_message_enter_container(reply, 'a', "(ssau)");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'r', "ssau")) > 0) {
                r = sd_bus_message_read(reply, "ss", &id, &cdi_device);
                if (r >= 0)
                        r = sd_bus_message_read_array(reply, 'u', (const void **)&groups, &size);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r >= 0)
                        print_claim_row(c, n++, id, cdi_device, groups, size / sizeof(*groups));
        }
        return print_list_end(c, n, "(nothing prepared)", r);
}
