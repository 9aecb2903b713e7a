/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>

#include "client.h"
#include "macro.h"
#include "pci-address.h"

static bool all_digits(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

/* Checked here as vfiod checks it: a command line that cannot name a
 * device is a usage error, with or without vfiod. */
int client_check_address(Client *c, const char *arg)
{
        PciAddress address;

        if (pci_address_parse(arg, &address) < 0)
                return client_usage_error(c, "'%s' is not a PCI address: " PCI_ADDRESS_FORMS ".", arg);
        return 0;
}

int client_parse_target(Client *c, const char *arg, uint32_t *group)
{
        unsigned long id;

        if (!all_digits(arg))
                return client_check_address(c, arg);
        errno = 0;
        id = strtoul(arg, NULL, 10);
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

        /* vfiod says whether there is a device at the address. */
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
