/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "bus-names.h"
#include "client.h"
#include "macro.h"
#include "strv.h"

/* vfioctl-client show ADDRESS|GROUP: one device, or one IOMMU group. */

/* The device's reset methods: an empty list when it has none, NULL when
 * they could not be read (an older vfiod). */
static char **read_reset_methods(Client *c, const DeviceRow *d)
{
        char **methods = NULL;

        if (sd_bus_get_property_strv(c->bus, VFIOD_BUS_NAME, d->path, VFIOD_DEVICE_INTERFACE, "ResetMethods", NULL,
                                     &methods) < 0)
                return NULL;
        return methods ?: calloc(1, sizeof(char *)); /* sd-bus reads an empty array as NULL */
}

static void print_reset_methods(const DeviceRow *d)
{
        if (!d->reset_methods || d->bridge)
                return;
        if (!d->reset_methods[0]) {
                printf("  reset:     none: a guest can leave it in a state its host driver cannot recover from\n");
                return;
        }
        printf("  reset:     ");
        for (char **m = d->reset_methods; *m; m++)
                printf("%s%s", m == d->reset_methods ? "" : ", ", *m);
        putchar('\n');
}

static char *device_string(Client *c, const DeviceRow *d, const char *property)
{
        char *v = NULL;

        if (sd_bus_get_property_string(c->bus, VFIOD_BUS_NAME, d->path, VFIOD_DEVICE_INTERFACE, property, NULL, &v) < 0)
                return NULL;
        return v;
}

static void topology_free(DeviceTopology *t)
{
        if (!t)
                return;
        free(t->physical_path);
        free(t->root_port);
        free(t->physical_function);
        strv_free(t->virtual_functions);
        free(t->cdev);
        free(t);
}

/* NULL from an older vfiod, without these properties. */
static DeviceTopology *read_topology(Client *c, const DeviceRow *d)
{
        DeviceTopology *t = calloc(1, sizeof(*t));

        if (!t)
                return NULL;
        t->numa_node = -1;
        t->physical_path = device_string(c, d, "PhysicalPath");
        t->root_port = device_string(c, d, "RootPort");
        t->physical_function = device_string(c, d, "PhysicalFunction");
        t->cdev = device_string(c, d, "Cdev");
        (void)sd_bus_get_property_trivial(c->bus, VFIOD_BUS_NAME, d->path, VFIOD_DEVICE_INTERFACE, "NumaNode", NULL,
                                          'i', &t->numa_node);
        /* sd-bus reads an empty array as NULL: known, and none. */
        t->virtual_functions_known = sd_bus_get_property_strv(c->bus, VFIOD_BUS_NAME, d->path, VFIOD_DEVICE_INTERFACE,
                                                              "VirtualFunctions", NULL, &t->virtual_functions) >= 0;
        if (!t->physical_path || !t->root_port || !t->physical_function || !t->cdev) {
                topology_free(t);
                return NULL;
        }
        return t;
}

static void print_topology(const DeviceTopology *t)
{
        if (!t)
                return;
        printf("  where:     %s", t->physical_path[0] ? t->physical_path : "?");
        if (t->root_port[0])
                printf(", below root port %s", t->root_port);
        if (t->numa_node >= 0)
                printf(", NUMA node %d", (int)t->numa_node);
        putchar('\n');
        if (t->physical_function[0])
                printf("  SR-IOV:    a virtual function of %s\n", t->physical_function);
        for (char **vf = t->virtual_functions; vf && *vf; vf++)
                printf("%s%s", vf == t->virtual_functions ? "  SR-IOV:    virtual functions " : ", ", *vf);
        if (t->virtual_functions && t->virtual_functions[0])
                putchar('\n');
        if (t->cdev[0])
                printf("  cdev:      %s\n", t->cdev);
}

static void print_device(Client *c, const DeviceRow *d)
{
        bool named = d->vendor_name[0] || d->model_name[0];

        printf("%s%s%s  %s%s%s\n", color_on(c, COLOR_BOLD), d->address, color_off(c),
               named ? d->vendor_name : "(unknown device)", d->vendor_name[0] && d->model_name[0] ? " " : "",
               d->model_name);
        printf("  ids:       %04x:%04x (subsystem %04x:%04x)\n", d->vendor_id, d->device_id,
               d->subsystem_vendor_id, d->subsystem_device_id);
        printf("  class:     %06x%s%s\n", d->class_code, d->bridge ? ", bridge" : "",
               d->boot_vga ? ", boot VGA" : "");
        printf("  driver:    %s\n", d->driver[0] ? d->driver : "none");
        printf("  state:     %s\n", d->state);
        if (d->group >= 0)
                printf("  group:     %d (/dev/vfio/%d)\n", d->group, d->group);
        else
                printf("  group:     none (no IOMMU)\n");
        print_reset_methods(d);
        print_topology(d->topology);
}

static int show_device(Client *c, const char *address)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        DeviceRow row;
        int r = client_lookup_device(c, address, &reply, &row);

        if (r < 0)
                return r;
        row.reset_methods = read_reset_methods(c, &row);
        row.topology = read_topology(c, &row);
        if (c->json) {
                print_device_json(stdout, &row);
                fputc('\n', stdout);
        } else
                print_device(c, &row);
        strv_free(row.reset_methods);
        topology_free(row.topology);
        return 0;
}

static int group_status(Client *c, uint32_t id, sd_bus_message **reply, int *viable, const char **state)
{
        uint32_t gid;
        int r = client_call_manager(c, "ListGroups", reply, NULL);

        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(*reply, 'a', "(uoasbs)");
        while (r >= 0 && (r = client_read_group_row(*reply, &gid, viable, state)) > 0)
                if (gid == id)
                        return 0;
        if (r < 0)
                return report_unreadable_answer(c, r);
        return client_fail(c, CLIENT_EXIT_NOT_FOUND, "IOMMU group %u went away.", id);
}

/* "  leased to alice (uid 1000, pid 4242): chown, guard-fd, lease 7" */
static void print_lease_line_of_group(const LeaseRow *l)
{
        const struct passwd *pw = getpwuid(l->uid);

        printf("  leased to %s (uid %u, pid %u): %s, %s%s%s, lease %s\n", pw ? pw->pw_name : "?", l->uid, l->pid,
               l->mode, l->lifetime, l->holder[0] ? " " : "", l->holder, strrchr(l->path, '/') + 1);
}

static int show_group(Client *c, uint32_t id)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *found = NULL, *groups = NULL, *reply = NULL, *leases = NULL;
        _cleanup_free_ DeviceRow *rows = NULL;
        _cleanup_free_ char *holders = NULL;
        const char *state;
        LeaseRow lease;
        int viable, leased;
        size_t n;
        int r;

        r = client_call_manager(c, "GetGroup", &found, "u", id);
        if (r < 0)
                return r;
        holders = client_group_holders(c, id);
        leased = client_group_lease(c, id, &leases, &lease);
        if (leased < 0)
                return leased;
        r = group_status(c, id, &groups, &viable, &state);
        if (r < 0)
                return r;
        r = client_list_devices(c, &reply, &rows, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (rows[i].group == (int32_t)id) {
                        rows[i].reset_methods = read_reset_methods(c, &rows[i]);
                        rows[i].topology = read_topology(c, &rows[i]);
                }
        if (c->json) {
                printf("{\"iommu_group\":%u,\"viable\":%s,\"state\":", id, viable ? "true" : "false");
                json_string(stdout, state);
                printf(",\"node\":\"/dev/vfio/%u\",\"holders\":%s,\"lease\":", id, holders ?: "[]");
                if (leased)
                        print_lease_json(&lease);
                else
                        fputs("null", stdout);
                print_group_devices_json(stdout, rows, n, (int32_t)id);
        } else {
                printf("%sIOMMU group %u%s: %s, %s, /dev/vfio/%u\n", color_on(c, COLOR_BOLD), id, color_off(c),
                       state, viable ? "viable" : "not viable (a device is on a host driver)", id);
                if (leased)
                        print_lease_line_of_group(&lease);
                if (holders)
                        printf("  held open by %s: it goes back once they close it\n", holders);
                for (size_t i = 0; i < n; i++)
                        if (rows[i].group == (int32_t)id)
                                print_device(c, &rows[i]);
        }
        for (size_t i = 0; i < n; i++) {
                strv_free(rows[i].reset_methods);
                topology_free(rows[i].topology);
        }
        return 0;
}

int verb_show(Client *c, int argc, char *argv[])
{
        uint32_t group;
        int r = client_parse_target(c, argv[1], &group);

        if (r < 0)
                return r;
        return r > 0 ? show_group(c, group) : show_device(c, argv[1]);
}
