/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "bus-device.h"
#include "bus-group.h"
#include "bus-lease.h"
#include "bus-manager.h"
#include "bus-names.h"
#include "bus-util.h"
#include "handover.h"
#include "macro.h"
#include "manager-held.h"
#include "manager-reservations.h"
#include "number.h"
#include "manager.h"

/* io.github.vfiod1.Group: one object per IOMMU group, path .../group/<id>. */

int bus_group_path(int id, char **ret)
{
        return asprintf(ret, VFIOD_GROUP_PATH_PREFIX "/%d", id) < 0 ? -ENOMEM : 0;
}

static int parse_group_path(const char *path, int *ret)
{
        const char *prefix = VFIOD_GROUP_PATH_PREFIX "/";

        if (strncmp(path, prefix, strlen(prefix)) != 0)
                return -EINVAL;
        return parse_group_id(path + strlen(prefix), ret);
}

static int find_group(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                      sd_bus_error *error)
{
        Manager *m = userdata;
        Group *g;
        int id;

        if (parse_group_path(path, &id) < 0)
                return 0;
        g = device_model_find_group(m->model, id);
        if (!g)
                return 0;
        *found = g;
        return 1;
}

typedef struct PathList {
        char **paths;
        size_t n;
        int error;
} PathList;

static void add_group_path(Group *g, void *userdata)
{
        PathList *l = userdata;
        if (l->error == 0 && bus_group_path(g->id, &l->paths[l->n]) >= 0)
                l->n++;
        else
                l->error = -ENOMEM;
}

static int enumerate_groups(sd_bus *bus, const char *prefix, void *userdata, char ***nodes, sd_bus_error *error)
{
        Manager *m = userdata;
        PathList l = { .paths = calloc(device_model_n_groups(m->model) + 1, sizeof(char *)) };

        if (!l.paths)
                return -ENOMEM;
        device_model_foreach_group(m->model, add_group_path, &l);
        if (l.error < 0) {
                strv_free(l.paths);
                return l.error;
        }
        *nodes = l.paths;
        return 0;
}

#define GROUP(userdata) ((Group *)(userdata))

static int property_id(sd_bus *bus, const char *path, const char *interface, const char *property,
                       sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        return sd_bus_message_append(reply, "u", (uint32_t)GROUP(userdata)->id);
}

static int property_devices(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        const Group *g = GROUP(userdata);
        int r = sd_bus_message_open_container(reply, 'a', "o");

        for (size_t i = 0; r >= 0 && i < g->n_devices; i++) {
                _cleanup_free_ char *device_path = NULL;
                r = bus_device_path(g->devices[i], &device_path);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "o", device_path);
        }
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int property_viable(sd_bus *bus, const char *path, const char *interface, const char *property,
                           sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        return sd_bus_message_append(reply, "b", group_is_viable(GROUP(userdata)));
}

static int property_state(sd_bus *bus, const char *path, const char *interface, const char *property,
                          sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        return sd_bus_message_append(reply, "s",
                                     bus_state_to_string(manager_group_state(bus_current_manager(bus), GROUP(userdata))));
}

static int property_step(sd_bus *bus, const char *path, const char *interface, const char *property,
                         sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        Manager *m = bus_current_manager(bus);
        const char *step = "";

        if (m)
                (void)engine_status(m->engine, GROUP(userdata)->id, &step);
        return sd_bus_message_append(reply, "s", step);
}

static int property_node(sd_bus *bus, const char *path, const char *interface, const char *property,
                         sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        char node[VFIO_NODE_PATH_MAX];

        vfio_group_node_path(GROUP(userdata)->id, node);
        return sd_bus_message_append(reply, "s", node);
}

static int property_lease(sd_bus *bus, const char *path, const char *interface, const char *property,
                          sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        Manager *m = bus_current_manager(bus);
        Lease *l = m ? leases_find_group(m->leases, GROUP(userdata)->id) : NULL;
        _cleanup_free_ char *lease_path = NULL;

        if (l && bus_lease_path(l, &lease_path) < 0)
                return -ENOMEM;
        return sd_bus_message_append(reply, "o", lease_path ?: "/");
}

/* The match of the reservation that keeps the group, or "". */
static int property_reservation(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        Manager *m = bus_current_manager(bus);
        const ReservationEntry *e = m ? manager_group_reservation(m, GROUP(userdata)) : NULL;
        char text[RESERVATION_MATCH_STRING_MAX] = "";

        if (e)
                reservation_match_format(&e->reservation.match, text);
        return sd_bus_message_append(reply, "s", text);
}

/* Who holds the group open while nothing leases it (state "held"). */
static int property_holders(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        Manager *m = bus_current_manager(bus);
        const HeldGroup *h = m ? manager_held_group(m, GROUP(userdata)->id) : NULL;
        const VfioHolder *holders = NULL;
        size_t n = 0;
        int r;

        if (h)
                holders = held_group_holders(h, &n);
        r = sd_bus_message_open_container(reply, 'a', "(us)");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, "(us)", (uint32_t)holders[i].pid, holders[i].comm);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static const sd_bus_vtable group_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "u", property_id, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Devices", "ao", property_devices, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Viable", "b", property_viable, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("State", "s", property_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Step", "s", property_step, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Node", "s", property_node, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Lease", "o", property_lease, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Reservation", "s", property_reservation, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Holders", "a(us)", property_holders, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_VTABLE_END,
};

int bus_group_register(Manager *m)
{
        return bus_add_object_tree(m->bus, VFIOD_GROUP_PATH_PREFIX, VFIOD_GROUP_INTERFACE, group_vtable,
                                   find_group, enumerate_groups, m);
}
