/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "authorization.h"
#include "bus-claim.h"
#include "bus-lease.h"
#include "bus-manager.h"
#include "bus-names.h"
#include "bus-sender.h"
#include "bus-util.h"
#include "macro.h"
#include "manager-leases.h"
#include "number.h"
#include "manager.h"

/* io.github.vfiod1.Lease: one object per lease, path .../lease/<id>. */

int bus_lease_path(const Lease *l, char **ret)
{
        return asprintf(ret, VFIOD_LEASE_PATH_PREFIX "/%" PRIu64, l->info.id) < 0 ? -ENOMEM : 0;
}

static int find_lease(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                      sd_bus_error *error)
{
        const char *prefix = VFIOD_LEASE_PATH_PREFIX "/";
        Manager *m = userdata;
        uint64_t id;
        Lease *l;

        if (strncmp(path, prefix, strlen(prefix)) != 0 ||
            parse_canonical_u64(path + strlen(prefix), UINT64_MAX, &id) < 0)
                return 0;
        l = leases_find_id(m->leases, id);
        if (!l)
                return 0;
        *found = l;
        return 1;
}

static int enumerate_leases(sd_bus *bus, const char *prefix, void *userdata, char ***nodes, sd_bus_error *error)
{
        Manager *m = userdata;
        size_t n = 0;
        char **paths;

        for (Lease *l = leases_first(m->leases); l; l = l->next)
                n++;
        paths = calloc(n + 1, sizeof(char *));
        if (!paths)
                return -ENOMEM;
        n = 0;
        for (Lease *l = leases_first(m->leases); l; l = l->next)
                if (bus_lease_path(l, &paths[n++]) < 0) {
                        strv_free(paths);
                        return -ENOMEM;
                }
        *nodes = paths;
        return 0;
}

#define LEASE(userdata) ((Lease *)(userdata))

static int property_group(sd_bus *bus, const char *path, const char *interface, const char *property,
                          sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        return sd_bus_message_append(reply, "u", (uint32_t)LEASE(userdata)->info.group);
}

static int property_mode(sd_bus *bus, const char *path, const char *interface, const char *property,
                         sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        return sd_bus_message_append(reply, "s", lease_mode_to_string(LEASE(userdata)->info.mode));
}

static int property_lifetime(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        return sd_bus_message_append(reply, "s", lease_lifetime_to_string(LEASE(userdata)->info.lifetime));
}

static int property_holder(sd_bus *bus, const char *path, const char *interface, const char *property,
                           sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        return sd_bus_message_append(reply, "s", LEASE(userdata)->info.holder);
}

/* Lease.Release() and Manager.ReleaseGroup() of a leased group: the owner
 * may, root may, anyone else needs release-any. */
int bus_release_lease(Manager *m, sd_bus_message *msg, Lease *l, sd_bus_error *error)
{
        _cleanup_(policy_decision_done) PolicyDecision decision = {};
        uid_t caller;
        int r;

        r = bus_sender_euid(msg, &caller);
        if (r >= 0)
                r = policy_release(caller, l->info.group, &l->info.uid, &decision);
        if (r >= 0)
                r = authorize(m->authorizer, msg, &decision, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        manager_end_lease(m, l, caller == l->info.uid ? "released" : "released-by-admin", bus_reply_release,
                          sd_bus_message_ref(msg));
        return 1;
}

static int method_release(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        return bus_release_lease(bus_current_manager(sd_bus_message_get_bus(msg)), msg, LEASE(userdata), error);
}

static const sd_bus_vtable lease_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Group", "u", property_group, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("OwnerUID", "u", NULL, offsetof(Lease, info.uid), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("OwnerPID", "u", NULL, offsetof(Lease, info.pid), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Mode", "s", property_mode, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Lifetime", "s", property_lifetime, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Holder", "s", property_holder, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Since", "t", NULL, offsetof(Lease, info.since_usec), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD("Release", "", "", method_release, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_NAMES("Released", "s", SD_BUS_PARAM(reason), 0),
        SD_BUS_VTABLE_END,
};

int bus_lease_register(Manager *m)
{
        return bus_add_object_tree(m->bus, VFIOD_LEASE_PATH_PREFIX, VFIOD_LEASE_INTERFACE, lease_vtable, find_lease,
                                   enumerate_leases, m);
}

void bus_emit_lease_added(Manager *m, const Lease *l)
{
        _cleanup_free_ char *path = NULL;

        if (bus_lease_path(l, &path) >= 0)
                (void)sd_bus_emit_interfaces_added(m->bus, path, VFIOD_LEASE_INTERFACE, NULL);
}

/* Released first, while the object still exists, then its removal. */
void bus_emit_lease_released(Manager *m, const Lease *l, const char *reason)
{
        _cleanup_free_ char *path = NULL;

        if (bus_lease_path(l, &path) < 0)
                return;
        (void)sd_bus_emit_signal(m->bus, path, VFIOD_LEASE_INTERFACE, "Released", "s", reason);
        (void)sd_bus_emit_interfaces_removed(m->bus, path, VFIOD_LEASE_INTERFACE, NULL);
}
