/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-names.h"
#include "macro.h"
#include "policy.h"

void policy_decision_done(PolicyDecision *d)
{
        free(d->details.device);
        free(d->details.vendor);
        free(d->details.model);
        free(d->details.ids);
        free(d->details.names);
        free(d->details.group);
        free(d->details.match);
        free(d->details.owner);
        free(d->details.lease_owner);
        free(d->details.process);
        free(d->details.claim);
        free(d->details.stop_units);
        free(d->details.unload_modules);
        free(d->details.ask_holders);
        *d = (PolicyDecision){};
}

/* Root may do anything vfiod offers, without polkit: it could do all of it
 * by hand anyway. */
static int decide(uid_t caller, const char *action, PolicyDecision *ret)
{
        *ret = (PolicyDecision){ .caller = caller, .verdict = caller == 0 ? POLICY_ALLOW : POLICY_ASK, .action = action };
        return 0;
}

static int group_detail(int group, PolicyDecision *d)
{
        return asprintf(&d->details.group, "%d", group) < 0 ? -ENOMEM : 0;
}

/* Several groups: their numbers, space-separated. */
static int groups_detail(const Group *const *groups, size_t n, PolicyDecision *d)
{
        size_t size;
        FILE *f = open_memstream(&d->details.group, &size);

        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                fprintf(f, "%s%d", i > 0 ? " " : "", groups[i]->id);
        return fclose(f) != 0 ? -ENOMEM : 0;
}

/* Appends word to the space-separated list that f writes to *buffer (its
 * open_memstream() buffer, which a flush may move) unless it has it. */
static void append_once(FILE *f, char *const *buffer, const char *word)
{
        size_t n = strlen(word);
        const char *text;

        fflush(f);
        text = *buffer;
        for (const char *p = text; p && (p = strstr(p, word)); p += n)
                if ((p == text || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
                        return;
        fprintf(f, "%s%s", text && text[0] ? " " : "", word);
}

/* One endpoint, the n-th, into the details' streams. */
static void describe_endpoint(FILE *f[static 5], PolicyDetails *ret, const Device *d, size_t n)
{
        char id[8];

        fprintf(f[0], "%s%s", n ? " " : "", d->pci->address);
        snprintf(id, sizeof(id), "%04x", d->pci->vendor_id);
        append_once(f[1], &ret->vendor, id);
        snprintf(id, sizeof(id), "%04x", d->pci->device_id);
        append_once(f[2], &ret->model, id);
        fprintf(f[3], "%s%04x:%04x", n ? " " : "", d->pci->vendor_id, d->pci->device_id);
        fprintf(f[4], "%s%s %s", n ? "; " : "", d->vendor_name ?: "unknown vendor", d->model_name ?: "unknown device");
}

/* Every endpoint of the groups that would move; bridges stay where they are. */
static int describe_endpoints(const Group *const *groups, size_t n_groups, PolicyDetails *ret)
{
        size_t sizes[5], n = 0;
        FILE *f[5] = {
                open_memstream(&ret->device, &sizes[0]), open_memstream(&ret->vendor, &sizes[1]),
                open_memstream(&ret->model, &sizes[2]),  open_memstream(&ret->ids, &sizes[3]),
                open_memstream(&ret->names, &sizes[4]),
        };
        int r = 0;

        for (size_t i = 0; i < ELEMENTSOF(f); i++)
                if (!f[i])
                        r = -ENOMEM;
        for (size_t k = 0; r >= 0 && k < n_groups; k++)
                for (size_t i = 0; i < groups[k]->n_devices; i++)
                        if (!device_is_bridge(groups[k]->devices[i]))
                                describe_endpoint(f, ret, groups[k]->devices[i], n++);
        for (size_t i = 0; i < ELEMENTSOF(f); i++)
                if (f[i] && fclose(f[i]) != 0)
                        r = -ENOMEM;
        return r;
}

static void drop_if_empty(char **s)
{
        if (*s && !(*s)[0]) {
                free(*s);
                *s = NULL;
        }
}

/* What one endpoint's hand-off profile does beside the move. */
static int describe_device_handoff(FILE *f[static 2], PolicyDetails *ret, const Device *d, const ProfileSet *profiles)
{
        const Profile *p = device_is_bridge(d) ? NULL : profile_set_find(profiles, d->pci->driver);

        for (char **u = p ? p->stop_units : NULL; u && *u; u++)
                append_once(f[0], &ret->stop_units, *u);
        for (char **m = p ? p->unload_modules : NULL; m && *m; m++)
                append_once(f[1], &ret->unload_modules, *m);
        if (p && p->ask_holders && !ret->ask_holders && !(ret->ask_holders = strdup("yes")))
                return -ENOMEM;
        return 0;
}

/* What the endpoints' hand-off profiles do beside the move. */
static int describe_handoff(const Group *const *groups, size_t n_groups, const ProfileSet *profiles,
                            PolicyDetails *ret)
{
        size_t sizes[2];
        FILE *f[2] = { open_memstream(&ret->stop_units, &sizes[0]), open_memstream(&ret->unload_modules, &sizes[1]) };
        int r = f[0] && f[1] ? 0 : -ENOMEM;

        for (size_t k = 0; r >= 0 && k < n_groups; k++)
                for (size_t i = 0; r >= 0 && i < groups[k]->n_devices; i++)
                        r = describe_device_handoff(f, ret, groups[k]->devices[i], profiles);
        for (size_t i = 0; i < ELEMENTSOF(f); i++)
                if (f[i] && fclose(f[i]) != 0)
                        r = -ENOMEM;
        /* Nothing to tell: not given at all, so rules can test for it. */
        drop_if_empty(&ret->stop_units);
        drop_if_empty(&ret->unload_modules);
        return r;
}

int policy_claim(uid_t caller, const Group *g, bool force, LeaseLifetime lifetime, const ProfileSet *profiles,
                 PolicyDecision *ret)
{
        int r;

        if (lifetime == LEASE_LIFETIME_PERSISTENT && caller != 0) {
                *ret = (PolicyDecision){
                        .caller = caller,
                        .verdict = POLICY_REFUSE,
                        .refusal = "Persistent leases are for root: hold the lease by your connection "
                                   "('vfioctl-client claim --wait ADDR') or by a guard fd "
                                   "('vfioctl-client claim ADDR -- COMMAND').",
                };
                return 0;
        }
        decide(caller, force ? VFIOD_ACTION_CLAIM_HOST_CRITICAL : VFIOD_ACTION_CLAIM, ret);
        if (ret->verdict != POLICY_ASK)
                return 0;
        r = describe_endpoints(&g, 1, &ret->details);
        if (r >= 0)
                r = describe_handoff(&g, 1, profiles, &ret->details);
        if (r >= 0)
                r = group_detail(g->id, ret);
        if (r < 0)
                policy_decision_done(ret);
        return r;
}

/* A prepared claim: its id, its groups and their endpoints. */
static int describe_claim(const char *claim_id, const Group *const *groups, size_t n_groups, PolicyDecision *d)
{
        int r;

        d->details.claim = strdup(claim_id);
        r = d->details.claim ? describe_endpoints(groups, n_groups, &d->details) : -ENOMEM;
        return r < 0 ? r : groups_detail(groups, n_groups, d);
}

int policy_prepare(uid_t caller, const char *claim_id, const Group *const *groups, size_t n_groups,
                   const ProfileSet *profiles, PolicyDecision *ret)
{
        int r;

        decide(caller, VFIOD_ACTION_PREPARE, ret);
        if (ret->verdict != POLICY_ASK)
                return 0;
        r = describe_claim(claim_id, groups, n_groups, ret);
        if (r >= 0)
                r = describe_handoff(groups, n_groups, profiles, &ret->details);
        if (r < 0)
                policy_decision_done(ret);
        return r;
}

int policy_unprepare(uid_t caller, const char *claim_id, const Group *const *groups, size_t n_groups,
                     PolicyDecision *ret)
{
        int r;

        decide(caller, VFIOD_ACTION_UNPREPARE, ret);
        if (ret->verdict != POLICY_ASK)
                return 0;
        r = describe_claim(claim_id, groups, n_groups, ret);
        if (r < 0)
                policy_decision_done(ret);
        return r;
}

int policy_release(uid_t caller, int group, const uid_t *owner, PolicyDecision *ret)
{
        int r;

        if (owner && *owner == caller) {
                *ret = (PolicyDecision){ .caller = caller, .verdict = POLICY_ALLOW };
                return 0;
        }
        decide(caller, VFIOD_ACTION_RELEASE_ANY, ret);
        if (ret->verdict != POLICY_ASK)
                return 0;
        r = group_detail(group, ret);
        if (r >= 0 && owner && asprintf(&ret->details.lease_owner, "%u", (unsigned)*owner) < 0)
                r = -ENOMEM;
        if (r < 0)
                policy_decision_done(ret);
        return r;
}

/* Whom the group node goes to: a rule that lets one reserve a device may
 * not mean to let one hand it to anyone. */
static const char *owner_name(const Reservation *r)
{
        return r->owner[0] ? r->owner : "root";
}

/* "alice @vfio root": each owner once, in the order the lines come. */
static char *join_owners(const Reservation *const *lines, size_t n)
{
        size_t size = 1;
        char *text;

        for (size_t i = 0; i < n; i++)
                size += strlen(owner_name(lines[i])) + 1;
        text = calloc(size, 1);
        if (!text)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                bool seen = false;
                for (size_t j = 0; j < i && !seen; j++)
                        seen = streq(owner_name(lines[i]), owner_name(lines[j]));
                if (!seen)
                        sprintf(text + strlen(text), "%s%s", text[0] ? " " : "", owner_name(lines[i]));
        }
        return text;
}

/* lines: one match, each line that has it. */
static int decide_reservation(uid_t caller, const Reservation *const *lines, size_t n, PolicyDecision *ret)
{
        char text[RESERVATION_MATCH_STRING_MAX];

        assert(n > 0);
        decide(caller, VFIOD_ACTION_RESERVE, ret);
        if (ret->verdict != POLICY_ASK)
                return 0;
        ret->details.match = strdup(reservation_match_format(&lines[0]->match, text));
        ret->details.owner = join_owners(lines, n);
        if (!ret->details.match || !ret->details.owner) {
                policy_decision_done(ret);
                return -ENOMEM;
        }
        return 0;
}

int policy_reserve(uid_t caller, const Reservation *reservation, PolicyDecision *ret)
{
        return decide_reservation(caller, &reservation, 1, ret);
}

int policy_unreserve(uid_t caller, const Reservation *const *lines, size_t n, PolicyDecision *ret)
{
        return decide_reservation(caller, lines, n, ret);
}

int policy_memlock(uid_t caller, const char *process, PolicyDecision *ret)
{
        decide(caller, process ? VFIOD_ACTION_MEMLOCK_OTHER : VFIOD_ACTION_MEMLOCK, ret);
        if (ret->verdict != POLICY_ASK || !process)
                return 0;
        ret->details.process = strdup(process);
        return ret->details.process ? 0 : -ENOMEM;
}
