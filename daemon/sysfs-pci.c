/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-device.h>
#include <systemd/sd-event.h>

#include "fs-util.h"
#include "macro.h"
#include "number.h"
#include "sysfs-pci.h"

extern char **environ;

bool sysfs_pci_device_exists(const char *address)
{
        char path[PATH_MAX];

        snprintf(path, sizeof(path), SYSFS_PCI_DEVICES "/%s", address);
        return access(path, F_OK) == 0;
}

int sysfs_pci_read_driver(const char *address, char **ret)
{
        char path[PATH_MAX];

        snprintf(path, sizeof(path), SYSFS_PCI_DEVICES "/%s/driver", address);
        return readlink_basename(path, ret);
}

int sysfs_pci_read_override(const char *address, char **ret)
{
        char path[PATH_MAX];
        char *value, *nl;

        snprintf(path, sizeof(path), SYSFS_PCI_DEVICES "/%s/driver_override", address);
        value = read_full_file(path);
        if (!value)
                return -errno;
        nl = strchr(value, '\n');
        if (nl)
                *nl = '\0';
        if (streq_null(value)) {
                free(value);
                value = NULL;
        }
        *ret = value;
        return 0;
}

int sysfs_pci_write_override(const char *address, const char *driver)
{
        char path[PATH_MAX];

        snprintf(path, sizeof(path), SYSFS_PCI_DEVICES "/%s/driver_override", address);
        /* A lone newline clears the override. */
        return write_attribute(path, driver ? driver : "\n");
}

int sysfs_pci_unbind(const char *address)
{
        char path[PATH_MAX];
        int r;

        /* Through the device's own driver link: whichever driver holds it now. */
        snprintf(path, sizeof(path), SYSFS_PCI_DEVICES "/%s/driver/unbind", address);
        r = write_attribute(path, address);
        return r == -ENOENT ? 0 : r; /* nothing was bound */
}

int sysfs_pci_probe(const char *address)
{
        return write_attribute(SYSFS_PCI_DRIVERS_PROBE, address);
}

int sysfs_pci_reset(const char *address)
{
        char path[PATH_MAX];

        snprintf(path, sizeof(path), SYSFS_PCI_DEVICES "/%s/reset", address);
        if (access(path, F_OK) < 0)
                return errno == ENOENT ? -ENOTTY : -errno;
        return write_attribute(path, "1");
}

int sysfs_pci_read_reset_methods(const char *address, char **ret)
{
        char path[PATH_MAX];
        char *text;

        snprintf(path, sizeof(path), SYSFS_PCI_DEVICES "/%s/reset_method", address);
        text = read_full_file(path);
        if (!text)
                return errno == ENOENT ? -ENOTTY : -errno;
        text[strcspn(text, "\n")] = '\0';
        if (!text[0]) { /* every method turned off by hand */
                free(text);
                return -ENOTTY;
        }
        *ret = text;
        return 0;
}

ResetMethods sysfs_pci_read_reset_method_set(const char *address)
{
        char dir[PATH_MAX];

        snprintf(dir, sizeof(dir), SYSFS_PCI_DEVICES "/%s", address);
        return reset_methods_read(dir);
}

int sysfs_pci_write_reset_methods(const char *address, const char *methods)
{
        char path[PATH_MAX];

        snprintf(path, sizeof(path), SYSFS_PCI_DEVICES "/%s/reset_method", address);
        return write_attribute(path, methods);
}

int sysfs_pci_read_d3cold_allowed(const char *address)
{
        char path[PATH_MAX];
        _cleanup_free_ char *value = NULL;

        snprintf(path, sizeof(path), SYSFS_PCI_DEVICES "/%s/d3cold_allowed", address);
        value = read_full_file(path);
        if (!value)
                return -errno;
        return value[0] == '1';
}

int sysfs_pci_write_d3cold_allowed(const char *address, bool allowed)
{
        char path[PATH_MAX];

        snprintf(path, sizeof(path), SYSFS_PCI_DEVICES "/%s/d3cold_allowed", address);
        return write_attribute(path, allowed ? "1" : "0");
}

int sysfs_pci_bind(const char *address, const char *driver)
{
        char path[PATH_MAX];

        snprintf(path, sizeof(path), SYSFS_PCI_DRIVERS "/%s/bind", driver);
        return write_attribute(path, address);
}

/* Polls, from 1 ms doubling to 32 ms: synchronous drivers are there at the
 * first look, asynchronous ones within a few polls. sysfs links offer no
 * notification to wait on. */
static int poll_until(int (*test)(const void *arg), const void *arg, uint64_t timeout_usec)
{
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + timeout_usec, delay = 1000;
        int r;

        for (;;) {
                r = test(arg);
                if (r != 0)
                        return r < 0 ? r : 0;
                if (now_usec(CLOCK_MONOTONIC) >= deadline)
                        return -ETIMEDOUT;
                usleep(delay);
                if (delay < 32000)
                        delay *= 2;
        }
}

typedef struct DriverWait {
        const char *address;
        const char *driver;
} DriverWait;

static int driver_is(const void *arg)
{
        const DriverWait *w = arg;
        return sysfs_pci_driver_is(w->address, w->driver, NULL);
}

int sysfs_pci_wait_for_driver(const char *address, const char *driver, uint64_t timeout_usec)
{
        DriverWait w = { address, driver };
        return poll_until(driver_is, &w, timeout_usec);
}

static int path_exists(const void *arg)
{
        return access(arg, F_OK) == 0 ? 1 : (errno == ENOENT ? 0 : -errno);
}

int wait_for_path(const char *path, uint64_t timeout_usec)
{
        return poll_until(path_exists, path, timeout_usec);
}

typedef struct UdevDevice {
        const char *subsystem, *sysname;
} UdevDevice;

static int udev_has_handled(const void *arg)
{
        const UdevDevice *u = arg;
        _cleanup_(sd_device_unrefp) sd_device *d = NULL;
        int r = sd_device_new_from_subsystem_sysname(&d, u->subsystem, u->sysname);

        if (r == -ENODEV || r == -ENOENT)
                return 0;
        return r < 0 ? r : sd_device_get_is_initialized(d);
}

int wait_for_udev(const char *subsystem, const char *sysname, uint64_t timeout_usec)
{
        if (access("/run/udev/control", F_OK) < 0)
                return 0; /* no udev: nobody else touches the node */
        return poll_until(udev_has_handled, &(UdevDevice){ subsystem, sysname }, timeout_usec);
}

bool sysfs_pci_driver_registered(const char *driver)
{
        char path[PATH_MAX];

        snprintf(path, sizeof(path), SYSFS_PCI_DRIVERS "/%s", driver);
        return access(path, F_OK) == 0;
}

int sysfs_pci_load_driver(const char *driver)
{
        static const char *const modprobe_paths[] = { "/usr/sbin/modprobe", "/sbin/modprobe" };
        char *argv[] = { (char *)"modprobe", (char *)"-q", (char *)driver, NULL };
        int status, r = -ENOENT;
        pid_t pid;

        if (sysfs_pci_driver_registered(driver))
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(modprobe_paths) && r == -ENOENT; i++)
                r = -posix_spawn(&pid, modprobe_paths[i], NULL, NULL, argv, environ);
        if (r < 0)
                return r;
        if (waitpid(pid, &status, 0) < 0)
                return -errno;
        /* modprobe's status says little; the driver directory says it all. */
        return sysfs_pci_driver_registered(driver) ? 0 : -ENOPKG;
}

typedef struct TriggerWait {
        sd_id128_t uuid;
        bool handled;
} TriggerWait;

static int on_udev_event(sd_device_monitor *m, sd_device *device, void *userdata)
{
        TriggerWait *w = userdata;
        sd_id128_t uuid;

        if (sd_device_get_trigger_uuid(device, &uuid) >= 0 && sd_id128_equal(uuid, w->uuid))
                w->handled = true;
        return 0;
}

int sysfs_pci_trigger_add(const char *address, uint64_t timeout_usec)
{
        _cleanup_(sd_device_monitor_unrefp) sd_device_monitor *monitor = NULL;
        _cleanup_(sd_device_unrefp) sd_device *device = NULL;
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + timeout_usec;
        TriggerWait w = {};
        int r;

        if (access("/run/udev/control", F_OK) < 0)
                return 0; /* no udev: nobody would load a module */
        /* A private loop: this runs in a worker thread. The monitor listens
         * before the uevent goes out, so its answer cannot be missed. */
        if ((r = sd_event_new(&event)) < 0 || (r = sd_device_monitor_new(&monitor)) < 0 ||
            (r = sd_device_monitor_filter_add_match_subsystem_devtype(monitor, "pci", NULL)) < 0 ||
            (r = sd_device_monitor_attach_event(monitor, event)) < 0 ||
            (r = sd_device_monitor_start(monitor, on_udev_event, &w)) < 0 ||
            (r = sd_device_new_from_subsystem_sysname(&device, "pci", address)) < 0 ||
            (r = sd_device_trigger_with_uuid(device, SD_DEVICE_ADD, &w.uuid)) < 0)
                return r;
        while (!w.handled) {
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                if (now >= deadline)
                        return -ETIMEDOUT;
                r = sd_event_run(event, deadline - now);
                if (r < 0)
                        return r;
        }
        return 0;
}
