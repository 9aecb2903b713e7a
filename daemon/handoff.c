/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/pidfd.h>
#include <time.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "device-use.h"
#include "fs-util.h"
#include "handoff.h"
#include "host-units.h"
#include "log.h"
#include "macro.h"
#include "number.h"
#include "strv.h"
#include "sysfs-pci.h"

static int add_once(const char ***l, size_t *n, const char *s)
{
        const char **a;

        for (size_t i = 0; i < *n; i++)
                if (streq((*l)[i], s))
                        return 0;
        a = reallocarray(*l, *n + 1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        a[(*n)++] = s;
        *l = a;
        return 0;
}

int handoff_plan(const ProfileSet *profiles, const ClaimRecord *rec, HandoffPlan *ret)
{
        HandoffPlan p = {};
        int r = 0;

        p.node_patterns = calloc(rec->n_devices ?: 1, sizeof(char **));
        p.no_idle_d3cold = calloc(rec->n_devices ?: 1, sizeof(bool));
        if (!p.node_patterns || !p.no_idle_d3cold) {
                handoff_plan_done(&p);
                return -ENOMEM;
        }
        for (size_t i = 0; r >= 0 && i < rec->n_devices; i++) {
                _cleanup_free_ char *driver = NULL;
                const Profile *profile;

                r = sysfs_pci_read_driver(rec->devices[i].address, &driver);
                profile = r >= 0 ? profile_set_find(profiles, driver) : NULL;
                if (!profile)
                        continue;
                log_debug("%s is on %s: hand-off profile '%s'.", rec->devices[i].address, driver, profile->name);
                p.node_patterns[i] = profile->nodes;
                p.ask_holders = p.ask_holders || profile->ask_holders;
                p.no_idle_d3cold[i] = profile->no_idle_d3cold;
                for (char **u = profile->stop_units; r >= 0 && u && *u; u++)
                        r = add_once(&p.units, &p.n_units, *u);
                for (char **m = profile->unload_modules; r >= 0 && m && *m; m++)
                        r = add_once(&p.modules, &p.n_modules, *m);
        }
        if (r < 0) {
                handoff_plan_done(&p);
                return r;
        }
        *ret = p;
        return 0;
}

void handoff_plan_done(HandoffPlan *p)
{
        free(p->node_patterns);
        free(p->no_idle_d3cold);
        free(p->units);
        free(p->modules);
        *p = (HandoffPlan){};
}

int handoff_stop_unit(ClaimRecord *rec, const char *unit, HandoffSaveFn save, void *userdata,
                      uint64_t timeout_usec)
{
        int r = host_unit_is_active(unit);

        if (r < 0)
                return log_warning_errno(r, "Cannot ask systemd about %s", unit);
        if (r == 0)
                return 0; /* not running: nothing to stop, nothing to start again */
        r = claim_record_add_stopped_unit(rec, unit);
        if (r >= 0)
                r = save(userdata);
        if (r >= 0)
                r = host_unit_stop(unit, timeout_usec);
        if (r < 0)
                return log_warning_errno(r, "Cannot stop %s for the claim of group %d", unit, rec->group);
        log_info("Stopped %s for the claim of group %d.", unit, rec->group);
        return 0;
}

/* Until every pidfd is readable (its process exited) or the deadline. */
static void wait_for_exits(struct pollfd *fds, size_t n, uint64_t timeout_usec)
{
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + timeout_usec;

        for (;;) {
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                size_t left = 0;

                for (size_t i = 0; i < n; i++)
                        if (fds[i].fd >= 0 && !(fds[i].revents & POLLIN))
                                left++;
                if (left == 0 || now >= deadline)
                        return;
                if (poll(fds, n, (int)((deadline - now + 999) / 1000)) < 0 && errno != EINTR)
                        return;
        }
}

static bool contains_pid(const pid_t *pids, size_t n, pid_t pid)
{
        for (size_t i = 0; i < n; i++)
                if (pids[i] == pid)
                        return true;
        return false;
}

/* Whether the process belongs to the system itself: PID 1, or a system
 * service (its cgroup under /system.slice), whose unit goes in *ret_unit.
 * Those are never asked: a profile names the units to stop instead, and
 * systemd, logind and the like hold device nodes on everyone's behalf. */
static bool is_system_process(pid_t pid, char *ret_unit, size_t size)
{
        char path[64];
        _cleanup_free_ char *cgroup = NULL;
        const char *p;

        snprintf(ret_unit, size, "-");
        if (pid == 1)
                return true;
        snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
        cgroup = read_full_file(path);
        if (!cgroup)
                return true; /* cannot tell: leave it alone */
        /* cgroup v2: "0::/system.slice/gdm.service"; v1 keeps systemd's as "name=systemd:". */
        p = strstr(cgroup, "0::/");
        if (!p)
                p = strstr(cgroup, "name=systemd:/");
        if (!p)
                return true;
        p = strchr(p, '/');
        if (strncmp(p, "/init.scope", 11) == 0)
                return true;
        if (strncmp(p, "/system.slice/", 14) != 0)
                return false;
        p += 14;
        snprintf(ret_unit, size, "%.*s", (int)strcspn(p, "/\n"), p);
        return true;
}

static bool pidfd_exited(int pidfd)
{
        struct pollfd p = { .fd = pidfd, .events = POLLIN };
        return poll(&p, 1, 0) != 0;
}

/* A PID from the scan may have been reused by the time it is signalled:
 * the holders are found twice, around opening their pidfds, and only a
 * process found the second time whose pidfd shows it still alive is asked
 * (the PID the second scan saw was then the pidfd's process). */
int handoff_ask_holders(const HandoffPlan *p, const ClaimRecord *rec, uint64_t timeout_usec)
{
        _cleanup_free_ char **addresses = calloc(rec->n_devices ?: 1, sizeof(char *));
        _cleanup_free_ struct pollfd *fds = NULL;
        _cleanup_free_ pid_t *pids = NULL, *again = NULL;
        size_t n = 0, n_again = 0;
        int r;

        if (!addresses)
                return -ENOMEM;
        for (size_t i = 0; i < rec->n_devices; i++)
                addresses[i] = (char *)rec->devices[i].address;
        r = device_use_busy_holders(addresses, p->node_patterns, rec->n_devices, &pids, &n);
        if (r < 0 || n == 0)
                return r;
        fds = calloc(n, sizeof(*fds));
        if (!fds)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                fds[i] = (struct pollfd){ .fd = pidfd_open(pids[i], 0), .events = POLLIN };
        r = device_use_busy_holders(addresses, p->node_patterns, rec->n_devices, &again, &n_again);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                char comm[PROC_COMM_SIZE], unit[128];

                if (fds[i].fd < 0)
                        continue;
                (void)proc_comm(pids[i], comm);
                if (is_system_process(pids[i], unit, sizeof(unit)))
                        log_info("PID %d (%s) of %s holds group %d's nodes: not asked; a profile's StopUnits= "
                                 "may stop its unit.",
                                 (int)pids[i], comm, unit, rec->group);
                else if (contains_pid(again, n_again, pids[i]) && !pidfd_exited(fds[i].fd) &&
                    pidfd_send_signal(fds[i].fd, SIGTERM, NULL, 0) >= 0) {
                        log_info("Asked PID %d (%s) to close group %d's nodes (SIGTERM).", (int)pids[i], comm,
                                 rec->group);
                        continue;
                }
                closep(&fds[i].fd); /* gone, or not to be asked: nothing to wait for */
                fds[i].fd = -1;
        }
        if (r >= 0)
                wait_for_exits(fds, n, timeout_usec);
        for (size_t i = 0; i < n; i++)
                if (fds[i].fd >= 0)
                        close(fds[i].fd);
        return r;
}

int handoff_unload_module(ClaimRecord *rec, const char *module, bool wait, HandoffSaveFn save, void *userdata,
                          uint64_t timeout_usec)
{
        int r;

        if (!host_module_loaded(module))
                return 0;
        r = claim_record_add_unloaded_module(rec, module);
        if (r >= 0)
                r = save(userdata);
        if (r < 0)
                return r;
        r = host_module_unload(module, wait, timeout_usec);
        if (r >= 0) {
                log_info("%s %s for the claim of group %d.", wait ? "Unloaded" : "Unloading", module, rec->group);
                return 0;
        }
        if (r == -EBUSY)
                log_info("%s stays loaded: something else uses it.", module);
        else
                log_warning_errno(r, "Cannot unload %s", module);
        if (host_module_loaded(module)) {
                claim_record_drop_last_unloaded_module(rec);
                (void)save(userdata);
        }
        return 0;
}

int handoff_keep_out_of_d3cold(const HandoffPlan *p, ClaimRecord *rec, HandoffSaveFn save, void *userdata)
{
        for (size_t i = 0; i < rec->n_devices; i++) {
                ClaimedDevice *d = &rec->devices[i];
                int r;

                if (!p->no_idle_d3cold[i] || sysfs_pci_read_d3cold_allowed(d->address) <= 0)
                        continue; /* not asked, or off already (then not ours to turn on) */
                d->d3cold_off = true;
                r = save(userdata);
                if (r < 0)
                        return r;
                r = sysfs_pci_write_d3cold_allowed(d->address, false);
                if (r < 0) {
                        log_warning_errno(r, "Cannot keep %s out of D3cold", d->address);
                        d->d3cold_off = false;
                        (void)save(userdata);
                } else
                        log_info("%s stays out of D3cold while vfio-pci holds it.", d->address);
        }
        return 0;
}

void handoff_allow_d3cold(ClaimRecord *rec)
{
        for (size_t i = 0; i < rec->n_devices; i++) {
                ClaimedDevice *d = &rec->devices[i];
                int r;

                if (!d->d3cold_off)
                        continue;
                r = sysfs_pci_write_d3cold_allowed(d->address, true);
                if (r < 0 && r != -ENOENT)
                        log_warning_errno(r, "Cannot allow %s into D3cold again", d->address);
                d->d3cold_off = false;
        }
}

void handoff_load_module(const char *module, uint64_t timeout_usec)
{
        int r = host_module_load(module, timeout_usec);

        if (r < 0)
                log_warning_errno(r, "Cannot load %s again: 'modprobe %s' as root says why", module, module);
        else
                log_info("Loaded %s again.", module);
}

void handoff_start_unit(const char *unit, uint64_t timeout_usec)
{
        int r = host_unit_start(unit, timeout_usec);

        if (r < 0)
                log_warning_errno(r, "Cannot start %s again: 'systemctl status %s' says why", unit, unit);
        else
                log_info("Started %s again.", unit);
}
