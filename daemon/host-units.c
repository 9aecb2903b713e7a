/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-bus.h>

#include "host-units.h"
#include "macro.h"
#include "number.h"

#define SYSTEMD_NAME "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER SYSTEMD_NAME ".Manager"
#define SYSTEMD_UNIT SYSTEMD_NAME ".Unit"

/* Each call has a connection of its own: a worker thread may not share
 * the event loop's. */
static int open_systemd(sd_bus **ret)
{
        return sd_bus_open_system(ret);
}

/* The unit's object path, loading the unit if need be. */
static int unit_path(sd_bus *bus, const char *unit, char **ret)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *path;
        int r;

        r = sd_bus_call_method(bus, SYSTEMD_NAME, SYSTEMD_PATH, SYSTEMD_MANAGER, "LoadUnit", NULL, &reply, "s",
                               unit);
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return r;
        *ret = strdup(path);
        return *ret ? 0 : -ENOMEM;
}

static int unit_state(sd_bus *bus, const char *path, char **ret_active, uint32_t *ret_job)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *job_path;
        int r;

        r = sd_bus_get_property_string(bus, SYSTEMD_NAME, path, SYSTEMD_UNIT, "ActiveState", NULL, ret_active);
        if (r < 0 || !ret_job)
                return r;
        r = sd_bus_get_property(bus, SYSTEMD_NAME, path, SYSTEMD_UNIT, "Job", NULL, &reply, "(uo)");
        if (r >= 0)
                r = sd_bus_message_read(reply, "(uo)", ret_job, &job_path);
        return r;
}

static bool state_is_active(const char *s)
{
        return streq(s, "active") || streq(s, "activating") || streq(s, "reloading");
}

int host_unit_is_active(const char *unit)
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *path = NULL, *state = NULL;
        int r = open_systemd(&bus);

        if (r >= 0)
                r = unit_path(bus, unit, &path);
        if (r >= 0)
                r = unit_state(bus, path, &state, NULL);
        return r < 0 ? r : state_is_active(state);
}

/* Runs StartUnit or StopUnit and polls the unit until no job of it is
 * left: systemd's signals would need a subscription and a filter for the
 * one job, and the jobs last long enough that polls every 20 ms cost
 * nothing. The unit's state after the job, in *ret_state. */
static int run_job(const char *method, const char *unit, uint64_t timeout_usec, char **ret_state)
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *path = NULL;
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + timeout_usec;
        int r = open_systemd(&bus);

        if (r >= 0)
                r = unit_path(bus, unit, &path);
        if (r >= 0)
                r = sd_bus_call_method(bus, SYSTEMD_NAME, SYSTEMD_PATH, SYSTEMD_MANAGER, method, NULL, NULL, "ss",
                                       unit, "replace");
        while (r >= 0) {
                _cleanup_free_ char *state = NULL;
                uint32_t job = 0;

                r = unit_state(bus, path, &state, &job);
                if (r >= 0 && job == 0) {
                        *ret_state = TAKE_PTR(state);
                        return 0;
                }
                if (r >= 0 && now_usec(CLOCK_MONOTONIC) >= deadline)
                        r = -ETIMEDOUT;
                if (r >= 0)
                        usleep(20000);
        }
        return r;
}

int host_unit_stop(const char *unit, uint64_t timeout_usec)
{
        _cleanup_free_ char *state = NULL;
        int r = run_job("StopUnit", unit, timeout_usec, &state);
        return r < 0 ? r : state_is_active(state) ? -EBUSY : 0;
}

int host_unit_start(const char *unit, uint64_t timeout_usec)
{
        _cleanup_free_ char *state = NULL;
        int r = run_job("StartUnit", unit, timeout_usec, &state);
        return r < 0 ? r : state_is_active(state) ? 0 : -EIO;
}

bool host_module_loaded(const char *module)
{
        char path[PATH_MAX];

        /* Only a loadable module has an initstate. */
        snprintf(path, sizeof(path), "/sys/module/%s/initstate", module);
        return access(path, F_OK) == 0;
}

/* The oneshot unit that runs modprobe (-r) for module; its own outcome
 * says little (modprobe@ ignores failures): /sys/module says it all. */
static int run_module_unit(const char *template, const char *module, uint64_t timeout_usec)
{
        char unit[256];
        _cleanup_free_ char *state = NULL;

        snprintf(unit, sizeof(unit), "%s@%s.service", template, module);
        return run_job("StartUnit", unit, timeout_usec, &state);
}

/* Whether any driver of the module has a device bound: unloading it would
 * unbind them all (a bound device takes no reference on its module). The
 * module's drivers are links in /sys/module/M/drivers ("pci:bochs-drm");
 * a driver's devices are the links in its directory but "module". */
static bool module_drives_devices(const char *module)
{
        char dir[PATH_MAX];
        DIR *drivers;
        struct dirent *de;
        bool found = false;

        snprintf(dir, sizeof(dir), "/sys/module/%s/drivers", module);
        drivers = opendir(dir);
        if (!drivers)
                return false;
        while (!found && (de = readdir(drivers))) {
                char path[PATH_MAX + 256];
                DIR *d;
                struct dirent *e;

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                d = opendir(path);
                while (d && !found && (e = readdir(d)))
                        found = e->d_type == DT_LNK && !streq(e->d_name, "module");
                if (d)
                        closedir(d);
        }
        closedir(drivers);
        return found;
}

int host_module_unload(const char *module, uint64_t timeout_usec)
{
        int r;

        if (!host_module_loaded(module))
                return 0;
        if (module_drives_devices(module))
                return -EBUSY;
        r = run_module_unit("vfiod-unload-module", module, timeout_usec);
        return r < 0 ? r : host_module_loaded(module) ? -EBUSY : 0;
}

int host_module_load(const char *module, uint64_t timeout_usec)
{
        int r;

        if (host_module_loaded(module))
                return 0;
        r = run_module_unit("modprobe", module, timeout_usec);
        return r < 0 ? r : host_module_loaded(module) ? 0 : -ENOPKG;
}
