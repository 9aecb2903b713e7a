/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bus-util.h"
#include "macro.h"

int bus_open(const char *address, sd_bus **ret)
{
        _cleanup_(sd_bus_unrefp) sd_bus *bus = NULL;
        int r;

        if (!address)
                return sd_bus_open_system(ret);
        r = sd_bus_new(&bus);
        if (r < 0)
                return r;
        if ((r = sd_bus_set_address(bus, address)) < 0 || (r = sd_bus_set_bus_client(bus, true)) < 0 ||
            (r = sd_bus_start(bus)) < 0)
                return r;
        *ret = TAKE_PTR(bus);
        return 0;
}
