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
#define UNLOAD_TEMPLATE "vfiod-unload-module"
#define LOAD_TEMPLATE "modprobe"

/* One connection to systemd per call (a worker may not share the event
 * loop's), subscribed to JobRemoved, so a job's end is a signal to wait
 * for. systemd sends it to subscribers, and to whoever made the job. */
typedef struct Systemd {
        sd_bus *bus;
        char *job;    /* the job waited for: its object path */
        char *result; /* its JobRemoved result: "done", "failed", ... */
} Systemd;

static void systemd_done(Systemd *s)
{
        sd_bus_flush_close_unref(s->bus);
        free(s->job);
        free(s->result);
        *s = (Systemd){};
}

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Systemd *s = userdata;
        const char *path, *unit, *result;
        uint32_t id;

        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) >= 0 && s->job && streq(path, s->job) &&
            !s->result)
                s->result = strdup(result);
        return 0;
}

static int systemd_open(Systemd *s)
{
        int r = sd_bus_open_system(&s->bus);

        if (r >= 0)
                r = sd_bus_match_signal(s->bus, NULL, SYSTEMD_NAME, SYSTEMD_PATH, SYSTEMD_MANAGER, "JobRemoved",
                                        on_job_removed, s);
        if (r >= 0)
                r = sd_bus_call_method(s->bus, SYSTEMD_NAME, SYSTEMD_PATH, SYSTEMD_MANAGER, "Subscribe", NULL, NULL,
                                       NULL);
        return r;
}

/* The unit's object path, loading the unit if need be. */
static int unit_path(Systemd *s, const char *unit, char **ret)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *path;
        int r;

        r = sd_bus_call_method(s->bus, SYSTEMD_NAME, SYSTEMD_PATH, SYSTEMD_MANAGER, "LoadUnit", NULL, &reply, "s",
                               unit);
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return r;
        *ret = strdup(path);
        return *ret ? 0 : -ENOMEM;
}

static int unit_active_state(Systemd *s, const char *unit, char **ret)
{
        _cleanup_free_ char *path = NULL;
        int r = unit_path(s, unit, &path);

        if (r >= 0)
                r = sd_bus_get_property_string(s->bus, SYSTEMD_NAME, path, SYSTEMD_UNIT, "ActiveState", NULL, ret);
        return r;
}

/* The unit's pending job into s->job; NULL when it has none. */
static int unit_pending_job(Systemd *s, const char *unit)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *path = NULL;
        const char *job;
        uint32_t id;
        int r = unit_path(s, unit, &path);

        if (r >= 0)
                r = sd_bus_get_property(s->bus, SYSTEMD_NAME, path, SYSTEMD_UNIT, "Job", NULL, &reply, "(uo)");
        if (r >= 0)
                r = sd_bus_message_read(reply, "(uo)", &id, &job);
        if (r < 0 || id == 0)
                return r;
        s->job = strdup(job);
        return s->job ? 0 : -ENOMEM;
}

/* StartUnit or StopUnit; the job into s->job. */
static int start_job(Systemd *s, const char *method, const char *unit)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *job;
        int r;

        r = sd_bus_call_method(s->bus, SYSTEMD_NAME, SYSTEMD_PATH, SYSTEMD_MANAGER, method, NULL, &reply, "ss", unit,
                               "replace");
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &job);
        if (r < 0)
                return r;
        s->job = strdup(job);
        return s->job ? 0 : -ENOMEM;
}

/* Until s->job's JobRemoved, or timeout (none to wait for: at once). */
static int wait_job(Systemd *s, uint64_t timeout_usec)
{
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + timeout_usec;
        int r = 0;

        while (s->job && !s->result) {
                uint64_t now = now_usec(CLOCK_MONOTONIC);

                r = sd_bus_process(s->bus, NULL);
                if (r < 0)
                        return r; /* the connection is gone, say */
                if (r > 0)
                        continue; /* processed one; more may be queued */
                if (now >= deadline)
                        return -ETIMEDOUT;
                r = sd_bus_wait(s->bus, deadline - now);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool state_is_active(const char *s)
{
        return streq(s, "active") || streq(s, "activating") || streq(s, "reloading");
}

int host_unit_is_active(const char *unit)
{
        _cleanup_(systemd_done) Systemd s = {};
        _cleanup_free_ char *state = NULL;
        int r = sd_bus_open_system(&s.bus);

        if (r >= 0)
                r = unit_active_state(&s, unit, &state);
        return r < 0 ? r : state_is_active(state);
}

/* Runs the job to its end; the unit's state after it in *ret_state. */
static int run_job(const char *method, const char *unit, uint64_t timeout_usec, char **ret_state)
{
        _cleanup_(systemd_done) Systemd s = {};
        int r = systemd_open(&s);

        if (r >= 0)
                r = start_job(&s, method, unit);
        if (r >= 0)
                r = wait_job(&s, timeout_usec);
        return r < 0 ? r : unit_active_state(&s, unit, ret_state);
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

static void module_unit(const char *template, const char *module, char buf[static 256])
{
        snprintf(buf, 256, "%s@%s.service", template, module);
}

int host_module_unload(const char *module, bool wait, uint64_t timeout_usec)
{
        _cleanup_(systemd_done) Systemd s = {};
        char unit[256];
        int r;

        if (!host_module_loaded(module))
                return 0;
        if (module_drives_devices(module))
                return -EBUSY;
        module_unit(UNLOAD_TEMPLATE, module, unit);
        r = wait ? systemd_open(&s) : sd_bus_open_system(&s.bus);
        if (r >= 0)
                r = start_job(&s, "StartUnit", unit);
        if (r < 0 || !wait)
                return r;
        r = wait_job(&s, timeout_usec);
        return r < 0 ? r : host_module_loaded(module) ? -EBUSY : 0;
}

int host_module_load(const char *module, uint64_t timeout_usec)
{
        _cleanup_(systemd_done) Systemd s = {};
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + timeout_usec;
        char unit[256];
        int r = systemd_open(&s);

        /* An unload that has not run yet would undo the load. */
        module_unit(UNLOAD_TEMPLATE, module, unit);
        if (r >= 0)
                r = unit_pending_job(&s, unit);
        if (r >= 0)
                r = wait_job(&s, timeout_usec);
        if (r < 0 || host_module_loaded(module))
                return r;
        free(s.job);
        free(s.result);
        s.job = s.result = NULL;
        /* modprobe@ ignores modprobe's failure: /sys/module says it all. */
        module_unit(LOAD_TEMPLATE, module, unit);
        r = start_job(&s, "StartUnit", unit);
        if (r >= 0) {
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                r = wait_job(&s, deadline > now ? deadline - now : 0);
        }
        return r < 0 ? r : host_module_loaded(module) ? 0 : -ENOPKG;
}
