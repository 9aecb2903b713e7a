/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "firmware-fb.h"
#include "fs-util.h"
#include "macro.h"
#include "sysfs-platform.h"

#define PLATFORM_BUS "/sys/bus/platform"

/* The device's driver now, in *ret (NULL: none); -ENODEV when it is gone. */
static int read_driver(const char *device, char **ret)
{
        char path[PATH_MAX];

        snprintf(path, sizeof(path), PLATFORM_BUS "/devices/%s", device);
        if (access(path, F_OK) < 0)
                return errno == ENOENT ? -ENODEV : -errno;
        snprintf(path, sizeof(path), PLATFORM_BUS "/devices/%s/driver", device);
        return readlink_basename(path, ret);
}

static int write_driver_attribute(const char *driver, const char *attribute, const char *device)
{
        char path[PATH_MAX];

        snprintf(path, sizeof(path), PLATFORM_BUS "/drivers/%s/%s", driver, attribute);
        return write_attribute(path, device);
}

static bool names_valid(const char *device, const char *driver)
{
        return firmware_fb_device_name_valid(device) && driver[0] && !strchr(driver, '/') && !streq(driver, ".") &&
               !streq(driver, "..");
}

int sysfs_platform_unbind(const char *device, const char *driver)
{
        _cleanup_free_ char *current = NULL;
        int r;

        if (!names_valid(device, driver))
                return -EPERM;
        r = read_driver(device, &current);
        if (r == -ENODEV || (r >= 0 && !streq_ptr(current, driver)))
                return 0;
        return r < 0 ? r : write_driver_attribute(driver, "unbind", device);
}

int sysfs_platform_bind(const char *device, const char *driver)
{
        _cleanup_free_ char *current = NULL;
        int r;

        if (!names_valid(device, driver))
                return -EPERM;
        r = read_driver(device, &current);
        if (r < 0)
                return r;
        if (current)
                return streq(current, driver) ? 0 : -EBUSY;
        return write_driver_attribute(driver, "bind", device);
}
