/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "macro.h"

/* vfioctl-client claim|release ADDRESS|GROUP: move a whole IOMMU group to
 * vfio-pci and back. */

/* vfiod answers a stuck step itself; this only bounds a vanished daemon. */
#define CLAIM_CALL_TIMEOUT_USEC (300ULL * 1000000ULL)

static int group_of_path(const char *path, uint32_t *ret)
{
        const char *slash = strrchr(path, '/');
        return slash ? client_parse_target(slash + 1, ret) : -EINVAL;
}

/* The group's devices after the move, for the user to see where they are. */
static int print_group(Client *c, const char *verb, uint32_t group)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ DeviceRow *rows = NULL;
        size_t n;
        int r = client_list_devices(c, &reply, &rows, &n);

        if (r < 0)
                return r;
        if (c->json) {
                printf("{\"iommu_group\":%u,\"node\":\"/dev/vfio/%u\"", group, group);
                print_group_devices_json(stdout, rows, n, (int32_t)group);
                return 0;
        }
        printf("%s IOMMU group %u (/dev/vfio/%u):\n", verb, group, group);
        for (size_t i = 0; i < n; i++)
                if (rows[i].group == (int32_t)group)
                        printf("  %s  %-10s %s%s\n", rows[i].address, rows[i].driver[0] ? rows[i].driver : "no driver",
                               rows[i].state, rows[i].bridge ? " (bridge, stays)" : "");
        return 0;
}

int verb_claim(Client *c, int argc, char *argv[])
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *path;
        uint32_t group;
        int r = client_target_argument(argc, argv, &group);

        if (r < 0)
                return r;
        c->call_timeout_usec = CLAIM_CALL_TIMEOUT_USEC;
        if (r > 0)
                r = client_call_manager(c, "ClaimGroup", &reply, "ua{sv}", group, c->force ? 1 : 0, "force", "b",
                                        1);
        else
                r = client_call_manager(c, "ClaimDevice", &reply, "sa{sv}", argv[1], c->force ? 1 : 0, "force",
                                        "b", 1);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0 || group_of_path(path, &group) <= 0) {
                fprintf(stderr, "vfioctl-client: vfiod's reply names no group.\n");
                return -EBADMSG;
        }
        return print_group(c, "Claimed", group);
}

int verb_release(Client *c, int argc, char *argv[])
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *devices = NULL;
        uint32_t group;
        DeviceRow row;
        int r = client_target_argument(argc, argv, &group);

        if (r == 0) {
                r = client_lookup_device(c, argv[1], &devices, &row);
                if (r >= 0 && row.group < 0) {
                        fprintf(stderr, "vfioctl-client: %s is in no IOMMU group: vfiod holds nothing of it.\n",
                                argv[1]);
                        r = -ENOENT;
                }
                group = (uint32_t)row.group;
        }
        if (r < 0)
                return r;
        c->call_timeout_usec = CLAIM_CALL_TIMEOUT_USEC;
        r = client_call_manager(c, "ReleaseGroup", &reply, "ua{sv}", group, 0);
        if (r < 0)
                return r;
        return print_group(c, "Released", group);
}
