/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "bus-names.h"
#include "bus-util.h"
#include "cdi-spec.h"
#include "config.h"
#include "group-work.h"
#include "log.h"
#include "macro.h"
#include "manager-handover.h"
#include "manager-held.h"
#include "manager-leases.h"
#include "manager-owners.h"
#include "manager-prepared.h"
#include "manager-reservations.h"
#include "manager.h"

/* How long a thread for an ask of a held group waits for the next: asks
 * come every few seconds while a group is held. */
#define WORKER_IDLE_USEC (5 * 1000000ULL)

static int on_apply_later(sd_event_source *s, void *userdata)
{
        Manager *m = userdata;

        /* Nothing changed in the reservations: before is what is in force. */
        manager_apply_reservations(m, NULL, &m->reservations);
        return 0;
}

static void on_model_change(DeviceModel *model, ModelChange change, void *object, void *userdata)
{
        Manager *m = userdata;

        if (m->events.model_changed)
                m->events.model_changed(m, change, object);
        /* A device added may be reserved: once this batch of uevents is in. */
        if ((change == MODEL_DEVICE_ADDED || change == MODEL_GROUP_ADDED) && m->reservations.n_entries > 0)
                (void)sd_event_source_set_enabled(m->apply_later, SD_EVENT_ONESHOT);
}

/* A group that a restart found moving is at rest again: its reservation,
 * if it has one, holds it again, as at boot. Only this group, and only
 * now: a reserved claim that fails is not tried over and over. */
static void on_recovered(Engine *e, int group, void *userdata)
{
        manager_apply_group_reservation(userdata, group);
}

static bool is_group_moving(int group, void *userdata)
{
        Manager *m = userdata;
        return engine_is_moving(m->engine, group);
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        log_info("SIGHUP: reading the reservations again.");
        (void)manager_reload_reservations(userdata);
        return 0;
}

static void on_claim_change(Engine *e, int group, bool ended, void *userdata)
{
        Manager *m = userdata;
        Group *g = device_model_find_group(m->model, group);
        size_t n = ended && g ? g->n_devices : 0;
        _cleanup_free_ char(*addresses)[PCI_ADDRESS_STRING_MAX] = calloc(n, sizeof(*addresses));

        /* When a move ends, its uevents may still be on their way: read the
         * group's drivers now, so that the answer that follows is already
         * true. While it moves, the bus is spared the steps in between
         * (unbound, then bound). Copies of the addresses, as re-reading may
         * change the group. */
        for (size_t i = 0; addresses && i < n; i++)
                memcpy(addresses[i], g->devices[i]->pci->address, sizeof(addresses[i]));
        for (size_t i = 0; addresses && i < n; i++)
                (void)device_model_reread_binding(m->model, addresses[i]);
        manager_tell_claim_changed(m, group);
        if (ended)
                manager_reservations_group_at_rest(m, group);
}

void manager_tell_claim_changed(Manager *m, int group)
{
        if (m->events.claim_changed)
                m->events.claim_changed(m, group);
}

void manager_tell_lease_added(Manager *m, const Lease *l)
{
        if (m->events.lease_added)
                m->events.lease_added(m, l);
}

void manager_tell_lease_released(Manager *m, const Lease *l, const char *reason)
{
        if (m->events.lease_released)
                m->events.lease_released(m, l, reason);
}

bool manager_group_reserved_and_free(const Manager *m, int group)
{
        return engine_status(m->engine, group, NULL) == CLAIM_STATUS_CLAIMED && engine_is_reserved(m->engine, group) &&
               !leases_find_group(m->leases, group);
}

/* vfiod's word on a group, or _BUS_STATE_INVALID when it holds nothing
 * of it. */
static BusState claim_state(const Manager *m, int group)
{
        static const BusState by_status[_CLAIM_STATUS_MAX] = {
                [CLAIM_STATUS_NONE] = _BUS_STATE_INVALID,    [CLAIM_STATUS_CLAIMING] = BUS_STATE_CLAIMING,
                [CLAIM_STATUS_CLAIMED] = BUS_STATE_CLAIMED,  [CLAIM_STATUS_RELEASING] = BUS_STATE_RELEASING,
                [CLAIM_STATUS_STUCK] = BUS_STATE_STUCK,      [CLAIM_STATUS_FAILED] = BUS_STATE_FAILED,
        };
        ClaimStatus s = m ? engine_status(m->engine, group, NULL) : CLAIM_STATUS_NONE;

        if (s == CLAIM_STATUS_NONE) /* also when no Manager is at hand */
                return _BUS_STATE_INVALID;
        return manager_group_reserved_and_free(m, group) ? BUS_STATE_RESERVED : by_status[s];
}

BusState manager_group_state(const Manager *m, const Group *g)
{
        BusState s;

        if (m && manager_held_group(m, g->id))
                return BUS_STATE_HELD;
        s = claim_state(m, g->id);
        return s != _BUS_STATE_INVALID ? s : group_state(g);
}

BusState manager_device_state(const Manager *m, const Device *d)
{
        BusState s = _BUS_STATE_INVALID;

        /* Bridges never move with their group. */
        if (!device_is_bridge(d) && d->pci->iommu_group >= 0)
                s = m && manager_held_group(m, d->pci->iommu_group) ? BUS_STATE_HELD
                                                                    : claim_state(m, d->pci->iommu_group);
        return s != _BUS_STATE_INVALID ? s : device_state(d);
}

static int rearm_idle_timer(Manager *m);

/* Exit when idle: no bus traffic for the timeout and no claim or release
 * under way (held claims live on in their records). Release the name first,
 * so that a caller arriving meanwhile activates a new instance instead of
 * being lost. */
static int on_idle_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        Manager *m = userdata;

        /* Connection and guard-fd leases need the daemon to see them end;
         * reservations, to see reserved devices come; a group held past
         * its lease, to see its last holder close it; a caller typing a
         * password for polkit, or waiting for the user database or for a
         * group's nodes to change hands, to get its answer. */
        if (engine_busy(m->engine) || leases_follow_holders(m->leases) || m->reservations.n_entries > 0 ||
            m->held || m->owner_lookups || group_work_queue_busy(m->group_work) ||
            (m->events.bus_waiting && m->events.bus_waiting(m)))
                return rearm_idle_timer(m);

        log_info("Idle for %" PRIu64 " s, exiting.", m->idle_timeout_usec / 1000000);
        (void)sd_bus_release_name(m->bus, VFIOD_BUS_NAME);
        (void)sd_bus_flush(m->bus);
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

static int rearm_idle_timer(Manager *m)
{
        uint64_t now;

        if (m->idle_timeout_usec == 0)
                return 0;
        (void)sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        if (!m->idle_timer)
                return sd_event_add_time(m->event, &m->idle_timer, CLOCK_MONOTONIC, now + m->idle_timeout_usec,
                                         0, on_idle_timeout, m);
        (void)sd_event_source_set_time(m->idle_timer, now + m->idle_timeout_usec);
        return sd_event_source_set_enabled(m->idle_timer, SD_EVENT_ONESHOT);
}

int manager_note_activity(Manager *m)
{
        return rearm_idle_timer(m);
}

/* The loop, its watchdog and signals, and the deferred reservations. */
static int new_event_loop(Manager *m)
{
        sigset_t mask;
        int r = sd_event_default(&m->event);

        if (r < 0)
                return r;
        (void)sd_event_set_watchdog(m->event, true);
        /* SIGTERM and SIGINT end the loop cleanly. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        if ((r = sd_event_add_signal(m->event, NULL, SIGTERM, NULL, NULL)) < 0 ||
            (r = sd_event_add_signal(m->event, NULL, SIGINT, NULL, NULL)) < 0 ||
            (r = sd_event_add_signal(m->event, NULL, SIGHUP, on_sighup, m)) < 0)
                return r;
        r = sd_event_add_defer(m->event, &m->apply_later, on_apply_later, m);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(m->apply_later, SD_EVENT_OFF);
}

/* The shipped profiles, then the administrator's, which replace them by
 * name. Read once: a transaction in a worker reads them as it runs. */
static int load_profiles(Manager *m)
{
        char admin[PATH_MAX];
        const char *dirs[] = { PROFILESDIR, admin };

        snprintf(admin, sizeof(admin), "%s/profiles.d", m->config_dir);
        return profile_set_load(dirs, ELEMENTSOF(dirs), &m->profiles);
}

int manager_new(const ManagerOptions *options, Manager **ret)
{
        _cleanup_(manager_freep) Manager *m = calloc(1, sizeof(*m));
        int r;

        if (!m)
                return -ENOMEM;
        m->idle_timeout_usec = options->idle_timeout_usec;
        m->state_dir = options->state_dir;
        m->config_dir = options->config_dir;
        m->cdi_dir = options->cdi_dir ?: CDI_SPEC_DIR;
        m->cdi_dir_fd = -1;
        m->prepared_dir_fd = -1;
        limits_load(m->config_dir, &m->limits);
        cdi_config_load(m->config_dir, &m->cdi);
        m->version = PACKAGE_VERSION;
        m->api_version = VFIOD_API_VERSION;

        r = new_event_loop(m);
        if (r < 0)
                return r;

        r = bus_open(options->bus_address, &m->bus);
        if (r < 0)
                return log_error_errno(r, "Cannot connect to the %s bus",
                                       options->bus_address ? "given" : "system");
        /* Receive times: the memlock check needs to know when a call came. */
        (void)sd_bus_negotiate_timestamp(m->bus, true);
        r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return r;
        r = device_model_new(&m->model);
        if (r < 0)
                return r;
        r = load_profiles(m);
        if (r < 0)
                return r;
        r = worker_pool_new(WORKER_IDLE_USEC, &m->workers);
        if (r >= 0)
                r = group_work_queue_new(m->event, m->workers, &m->group_work);
        if (r < 0)
                return log_error_errno(r, "Cannot make a pool of worker threads");
        r = engine_new(m->event, options->state_dir, options->step_timeout_usec, m->profiles, on_claim_change, m,
                       &m->engine);
        if (r < 0)
                return log_error_errno(r, "Cannot use the state directory %s", options->state_dir);
        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m)
{
        if (!m)
                return NULL;
        sd_event_source_unref(m->idle_timer);
        sd_event_source_unref(m->apply_later);
        manager_cancel_handovers(m); /* its callers' leases and calls go next */
        manager_free_awaited(m);
        reservation_set_clear(&m->reservations);
        sd_device_monitor_unref(m->vfio_monitor);
        sd_device_monitor_unref(m->vfio_cdev_monitor);
        leases_free(m->leases);
        manager_free_held(m);
        manager_free_owners(m);
        group_work_queue_free(m->group_work); /* after the held groups, whose asks are there */
        worker_pool_free(m->workers);
        closep(&m->cdi_dir_fd);
        closep(&m->prepared_dir_fd);
        /* A worker still moving a group at exit reads the profiles until it
         * ends: they stay, as its job does (engine_free()). */
        if (!m->engine || !engine_busy(m->engine))
                profile_set_free(m->profiles);
        engine_free(m->engine);
        device_model_free(m->model);
        sd_bus_flush_close_unref(m->bus);
        sd_event_unref(m->event);
        free(m);
        return NULL;
}

int manager_start(Manager *m)
{
        int r;

        r = device_model_enumerate(m->model);
        if (r < 0)
                return log_error_errno(r, "Cannot enumerate PCI devices");
        /* Subscribe before serving, so no event between the two is lost. */
        r = device_model_start_monitor(m->model, m->event, on_model_change, is_group_moving, m);
        if (r < 0)
                return log_error_errno(r, "Cannot monitor PCI devices");
        /* Finish or undo what a crash interrupted, before anyone can ask. */
        r = engine_recover(m->engine, on_recovered, m);
        if (r < 0)
                return log_error_errno(r, "Cannot recover the claims");
        /* Then take up the leases of the claims that are kept. */
        r = manager_start_leases(m);
        if (r < 0)
                return log_error_errno(r, "Cannot take up the leases");
        /* The prepared claims' specs, true to the leases (not fatal:
         * Prepare says so). */
        (void)manager_start_prepared(m);
        /* Then what the reservations say: reserved groups stay or move to
         * vfio-pci, groups reserved no more go back to the host. */
        r = manager_load_reservations(m, NULL);
        if (r < 0)
                return log_error_errno(r, "Cannot read the reservations");
        manager_apply_reservations(m, NULL, NULL);
        return rearm_idle_timer(m);
}

int manager_run(Manager *m)
{
        int r = sd_event_loop(m->event);
        (void)sd_notify(false, "STOPPING=1");
        return r;
}
