/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "macro.h"

/* vfioctl-client list: every PCI device, by IOMMU group. */

static int compare_rows(const void *a, const void *b)
{
        const DeviceRow *x = a, *y = b;
        /* Devices without a group go last. */
        uint32_t gx = (uint32_t)x->group, gy = (uint32_t)y->group;

        if (gx != gy)
                return gx < gy ? -1 : 1;
        return strcmp(x->address, y->address);
}

static Color state_color(const DeviceRow *d)
{
        if (d->bridge)
                return COLOR_DIM;
        switch (bus_state_from_string(d->state)) {
        case BUS_STATE_VFIO:
                return COLOR_GREEN;
        case BUS_STATE_UNBOUND:
                return COLOR_DIM;
        default:
                return COLOR_NONE;
        }
}

static void print_table(const Client *c, const DeviceRow *rows, size_t n)
{
        printf("%s%-6s %-13s %-9s %-14s %-8s %s%s\n", color_on(c, COLOR_BOLD), "GROUP", "ADDRESS", "IDS",
               "DRIVER", "STATE", "DEVICE", color_off(c));
        for (size_t i = 0; i < n; i++) {
                const DeviceRow *d = &rows[i];
                char group[16] = "-", ids[16];

                if (d->group >= 0 && (i == 0 || rows[i - 1].group != d->group))
                        snprintf(group, sizeof(group), "%d", d->group);
                else if (d->group >= 0)
                        group[0] = '\0';
                snprintf(ids, sizeof(ids), "%04x:%04x", d->vendor_id, d->device_id);
                printf("%-6s %-13s %-9s %-14s %s%-8s%s %s%s%s\n", group, d->address, ids,
                       d->driver[0] ? d->driver : "-", color_on(c, state_color(d)),
                       d->bridge ? "bridge" : d->state, color_off(c), d->vendor_name,
                       d->vendor_name[0] && d->model_name[0] ? " " : "", d->model_name);
        }
}

static void print_json(const DeviceRow *rows, size_t n)
{
        fputs("{\"devices\":[", stdout);
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        fputc(',', stdout);
                print_device_json(stdout, &rows[i]);
        }
        fputs("]}\n", stdout);
}

int verb_list(Client *c, int argc, char *argv[])
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ DeviceRow *rows = NULL;
        size_t n;
        int r;

        r = client_list_devices(c, &reply, &rows, &n);
        if (r < 0)
                return r;
        qsort(rows, n, sizeof(*rows), compare_rows);
        if (c->json)
                print_json(rows, n);
        else
                print_table(c, rows, n);
        return 0;
}
