/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "macro.h"
#include "uevent-monitor.h"

int uevent_monitor_start(sd_event *event, const char *subsystem, sd_device_monitor_handler_t handler,
                         void *userdata, sd_device_monitor **ret)
{
        _cleanup_(sd_device_monitor_unrefp) sd_device_monitor *monitor = NULL;
        int r = sd_device_monitor_new(&monitor);

        if (r >= 0)
                r = sd_device_monitor_filter_add_match_subsystem_devtype(monitor, subsystem, NULL);
        if (r >= 0)
                r = sd_device_monitor_attach_event(monitor, event);
        if (r >= 0)
                r = sd_device_monitor_start(monitor, handler, userdata);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(monitor);
        return 0;
}
