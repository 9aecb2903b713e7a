/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* What a hand-off profile (profile.h) asks of the host beyond sysfs: stop
 * and start systemd units, unload and load kernel modules. systemd does
 * all of it, asked over its bus API (org.freedesktop.systemd1): stopping a
 * display manager is its job, and vfiod's own unit may not load modules.
 * Modules load through systemd's modprobe@MODULE.service and unload
 * through vfiod's vfiod-unload-module@MODULE.service. Each call blocks
 * until systemd's job is done, or timeout_usec (but the unload, which
 * only queues its job): call them from a worker. */

/* 1 when the unit is active (or activating, or reloading), 0 when not. */
int host_unit_is_active(const char *unit);
/* 0 once the unit is inactive (or failed). */
int host_unit_stop(const char *unit, uint64_t timeout_usec);
/* 0 once the unit's start job is done and it is active. */
int host_unit_start(const char *unit, uint64_t timeout_usec);

/* Whether the module is loaded, and is a module (not built in). */
bool host_module_loaded(const char *module);
/* Has systemd unload the module; without wait only queues the job (the
 * devices are on vfio-pci already: nothing waits for the last unload).
 * -EBUSY, and nothing queued, while a driver of the module has a device,
 * or when the module stayed; 0 when it is not loaded. */
int host_module_unload(const char *module, bool wait, uint64_t timeout_usec);
/* 0 once it is loaded, after any unload queued before has run; -ENOPKG
 * when it is not, after modprobe ran. */
int host_module_load(const char *module, uint64_t timeout_usec);
