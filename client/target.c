/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>

#include "client.h"
#include "macro.h"

int client_parse_target(Client *c, const char *arg, uint32_t *group)
{
        unsigned long id;
        char *end;

        /* All digits: a group number. Addresses always contain ':'. */
        if (arg[0] < '0' || arg[0] > '9')
                return 0;
        errno = 0;
        id = strtoul(arg, &end, 10);
        if (*end != '\0')
                return 0;
        if (errno != 0 || id > INT32_MAX)
                return client_usage_error(c, "%s is not an IOMMU group number.", arg);
        *group = (uint32_t)id;
        return 1;
}

int client_lookup_device(Client *c, const char *address, sd_bus_message **reply, DeviceRow *ret)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *found = NULL;
        _cleanup_free_ DeviceRow *rows = NULL;
        const char *path;
        size_t n;
        int r;

        /* vfiod validates the address and names what is wrong with it. */
        r = client_call_manager(c, "GetDevice", &found, "s", address);
        if (r < 0)
                return r;
        r = sd_bus_message_read(found, "o", &path);
        if (r >= 0)
                r = client_list_devices(c, reply, &rows, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (streq(rows[i].path, path)) {
                        *ret = rows[i];
                        return 0;
                }
        return client_fail(c, CLIENT_EXIT_NOT_FOUND, "%s went away.", address);
}
