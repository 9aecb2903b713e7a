/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device-model.h"
#include "log.h"
#include "macro.h"
#include "pci-device-sysfs.h"
#include "sysfs-paths.h"
#include "uevent-monitor.h"

struct DeviceModel {
        Device **devices; /* sorted by address */
        size_t n_devices;
        size_t allocated_devices;

        Group **groups; /* indexed by group id, NULL where there is none */
        size_t allocated_groups;
        size_t n_groups;

        sd_hwdb *hwdb; /* NULL when the system has none: names stay unknown */
        sd_device_monitor *monitor;
        ModelChangeFn on_change;
        GroupMovingFn is_moving;
        void *userdata;
};

static void notify(DeviceModel *m, ModelChange change, void *object)
{
        if (m->on_change)
                m->on_change(m, change, object, m->userdata);
}

/* ---- names ---- */

static void device_lookup_names(DeviceModel *m, Device *d)
{
        char key[64];
        const PciDevice *p = d->pci;

        d->vendor_name = d->model_name = NULL;
        if (!m->hwdb)
                return;
        /* The modalias prefix: the hwdb's most specific match wins, so a
         * subsystem-specific model name is found when there is one. */
        snprintf(key, sizeof(key), "pci:v%08Xd%08Xsv%08Xsd%08X", p->vendor_id, p->device_id,
                 p->subsystem_vendor_id, p->subsystem_device_id);
        (void)sd_hwdb_get(m->hwdb, key, "ID_VENDOR_FROM_DATABASE", &d->vendor_name);
        (void)sd_hwdb_get(m->hwdb, key, "ID_MODEL_FROM_DATABASE", &d->model_name);
}

/* ---- devices ---- */

static Device *device_free(Device *d)
{
        if (d) {
                pci_device_free(d->pci);
                free(d);
        }
        return NULL;
}

static int compare_devices(const void *a, const void *b)
{
        const Device *x = *(Device *const *)a, *y = *(Device *const *)b;
        return strcmp(x->pci->address, y->pci->address);
}

/* The index where address is, or would be inserted. */
static size_t device_index(const DeviceModel *m, const char *address, bool *found)
{
        size_t lo = 0, hi = m->n_devices;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(address, m->devices[mid]->pci->address);
                if (c == 0) {
                        *found = true;
                        return mid;
                }
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        *found = false;
        return lo;
}

static int ensure_device_capacity(DeviceModel *m, size_t n)
{
        Device **a;
        size_t want;

        if (n <= m->allocated_devices)
                return 0;
        want = m->allocated_devices ? m->allocated_devices * 2 : 64;
        while (want < n)
                want *= 2;
        a = reallocarray(m->devices, want, sizeof(*a));
        if (!a)
                return -ENOMEM;
        m->devices = a;
        m->allocated_devices = want;
        return 0;
}

Device *device_model_find_device(const DeviceModel *m, const char *normalized_address)
{
        bool found;
        size_t i = device_index(m, normalized_address, &found);
        return found ? m->devices[i] : NULL;
}

size_t device_model_n_devices(const DeviceModel *m)
{
        return m->n_devices;
}

Device *device_model_device_at(const DeviceModel *m, size_t i)
{
        return i < m->n_devices ? m->devices[i] : NULL;
}

BusState device_state(const Device *d)
{
        const char *driver = d->pci->driver;

        if (!driver)
                return BUS_STATE_UNBOUND;
        if (streq(driver, VFIO_PCI_DRIVER) || streq(driver, PCI_STUB_DRIVER))
                return BUS_STATE_VFIO;
        return BUS_STATE_HOST;
}

bool device_is_bridge(const Device *d)
{
        return pci_device_is_bridge(d->pci);
}

/* ---- groups ---- */

static Group *group_free(Group *g)
{
        if (g) {
                free(g->devices);
                free(g);
        }
        return NULL;
}

Group *device_model_find_group(const DeviceModel *m, int id)
{
        if (id < 0 || (size_t)id >= m->allocated_groups)
                return NULL;
        return m->groups[id];
}

size_t device_model_n_groups(const DeviceModel *m)
{
        return m->n_groups;
}

void device_model_foreach_group(const DeviceModel *m, void (*fn)(Group *g, void *userdata), void *userdata)
{
        for (size_t i = 0; i < m->allocated_groups; i++)
                if (m->groups[i])
                        fn(m->groups[i], userdata);
}

static int group_get_or_add(DeviceModel *m, int id, Group **ret, bool *created)
{
        Group *g;

        *created = false;
        if ((size_t)id >= m->allocated_groups) {
                size_t want = m->allocated_groups ? m->allocated_groups : 64;
                Group **a;
                while (want <= (size_t)id)
                        want *= 2;
                a = reallocarray(m->groups, want, sizeof(*a));
                if (!a)
                        return -ENOMEM;
                memset(a + m->allocated_groups, 0, (want - m->allocated_groups) * sizeof(*a));
                m->groups = a;
                m->allocated_groups = want;
        }
        g = m->groups[id];
        if (!g) {
                g = calloc(1, sizeof(*g));
                if (!g)
                        return -ENOMEM;
                g->id = id;
                m->groups[id] = g;
                m->n_groups++;
                *created = true;
        }
        *ret = g;
        return 0;
}

static int group_add_device(Group *g, Device *d)
{
        Device **a = reallocarray(g->devices, g->n_devices + 1, sizeof(*a));
        size_t i = 0;

        if (!a)
                return -ENOMEM;
        g->devices = a;
        while (i < g->n_devices && strcmp(g->devices[i]->pci->address, d->pci->address) < 0)
                i++;
        memmove(g->devices + i + 1, g->devices + i, (g->n_devices - i) * sizeof(*a));
        g->devices[i] = d;
        g->n_devices++;
        return 0;
}

static void group_remove_device(Group *g, Device *d)
{
        for (size_t i = 0; i < g->n_devices; i++)
                if (g->devices[i] == d) {
                        memmove(g->devices + i, g->devices + i + 1, (g->n_devices - i - 1) * sizeof(Device *));
                        g->n_devices--;
                        return;
                }
}

/* Puts d into its IOMMU group; tells of a new group or a changed one. */
static int attach_to_group(DeviceModel *m, Device *d, bool announce)
{
        Group *g;
        bool created;
        int r;

        if (d->pci->iommu_group == PCI_IOMMU_GROUP_NONE)
                return 0;
        r = group_get_or_add(m, d->pci->iommu_group, &g, &created);
        if (r < 0)
                return r;
        r = group_add_device(g, d);
        if (r < 0)
                return r;
        if (announce)
                notify(m, created ? MODEL_GROUP_ADDED : MODEL_GROUP_CHANGED, g);
        return 0;
}

static void detach_from_group(DeviceModel *m, Device *d, int group_id)
{
        Group *g = device_model_find_group(m, group_id);

        if (!g)
                return;
        group_remove_device(g, d);
        if (g->n_devices > 0) {
                notify(m, MODEL_GROUP_CHANGED, g);
                return;
        }
        /* Out of the model first, so that what listeners read is the new state. */
        m->groups[group_id] = NULL;
        m->n_groups--;
        notify(m, MODEL_GROUP_REMOVED, g);
        group_free(g);
}

/* Viable: no endpoint is on a host driver. */
bool group_is_viable(const Group *g)
{
        return group_state(g) != BUS_STATE_HOST;
}

BusState group_state(const Group *g)
{
        size_t endpoints = 0, vfio = 0, unbound = 0;

        for (size_t i = 0; i < g->n_devices; i++) {
                if (device_is_bridge(g->devices[i]))
                        continue;
                endpoints++;
                BusState s = device_state(g->devices[i]);
                if (s == BUS_STATE_HOST)
                        return BUS_STATE_HOST;
                if (s == BUS_STATE_VFIO)
                        vfio++;
                else
                        unbound++;
        }
        if (vfio == endpoints && endpoints > 0)
                return BUS_STATE_VFIO;
        if (unbound == endpoints)
                return BUS_STATE_UNBOUND;
        return BUS_STATE_MIXED;
}

/* ---- facts for the diagnosis ---- */

int device_model_describe(const DeviceModel *m, HostFacts *facts)
{
        for (size_t i = 0; i < m->n_devices; i++) {
                const PciDevice *p = m->devices[i]->pci;
                if (!p->boot_vga)
                        continue;
                snprintf(facts->boot_vga, sizeof(facts->boot_vga), "%s", p->address);
                if (p->driver && !(facts->boot_vga_driver = strdup(p->driver)))
                        return -ENOMEM;
                break;
        }
        for (size_t id = 0; id < m->allocated_groups; id++) {
                const Group *g = m->groups[id];
                GroupFacts *gf;
                int r;

                if (!g)
                        continue;
                r = host_facts_add_group(facts, g->id, &gf);
                for (size_t i = 0; r >= 0 && i < g->n_devices; i++)
                        r = group_facts_add_member(gf, g->devices[i]->pci->address,
                                                   g->devices[i]->pci->class_code);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- the model ---- */

int device_model_new(DeviceModel **ret)
{
        DeviceModel *m = calloc(1, sizeof(*m));
        int r;

        if (!m)
                return -ENOMEM;
        r = sd_hwdb_new(&m->hwdb);
        if (r < 0)
                log_warning("No hardware database (%s): devices will have no vendor or model names.",
                            strerror(-r));
        *ret = m;
        return 0;
}

DeviceModel *device_model_free(DeviceModel *m)
{
        if (!m)
                return NULL;
        sd_device_monitor_unref(m->monitor);
        for (size_t i = 0; i < m->n_devices; i++)
                device_free(m->devices[i]);
        free(m->devices);
        for (size_t i = 0; i < m->allocated_groups; i++)
                group_free(m->groups[i]);
        free(m->groups);
        sd_hwdb_unref(m->hwdb);
        free(m);
        return NULL;
}

static int device_new(DeviceModel *m, PciDevice *p, Device **ret)
{
        Device *d = calloc(1, sizeof(*d));

        if (!d) {
                pci_device_free(p);
                return -ENOMEM;
        }
        d->pci = p;
        device_lookup_names(m, d);
        *ret = d;
        return 0;
}

static int device_new_from_sd_device(DeviceModel *m, sd_device *sd, Device **ret)
{
        PciDevice *p;
        int r = pci_device_new_from_sd_device(sd, &p);

        return r < 0 ? r : device_new(m, p, ret);
}

/* Into the model's array, sorted later. */
static int enumerated(PciDevice *p, void *userdata)
{
        DeviceModel *m = userdata;
        Device *d;
        int r = device_new(m, p, &d);

        if (r < 0)
                return r;
        r = ensure_device_capacity(m, m->n_devices + 1);
        if (r < 0) {
                device_free(d);
                return r;
        }
        m->devices[m->n_devices++] = d;
        return 0;
}

int device_model_enumerate(DeviceModel *m)
{
        int r = pci_device_enumerate(enumerated, m);

        if (r < 0)
                return r;
        /* Sort once, then group: cheaper than inserting in order. */
        qsort(m->devices, m->n_devices, sizeof(*m->devices), compare_devices);
        for (size_t i = 0; r >= 0 && i < m->n_devices; i++)
                r = attach_to_group(m, m->devices[i], false);
        return r;
}

/* ---- following the kernel ---- */

static int handle_change(DeviceModel *m, sd_device *sd, const char *address);

static int handle_add(DeviceModel *m, sd_device *sd, const char *address)
{
        Device *d;
        bool found;
        size_t i = device_index(m, address, &found);
        int r;

        if (found) /* an add for a device we know (enumerated meanwhile): re-read it */
                return handle_change(m, sd, address);
        r = device_new_from_sd_device(m, sd, &d);
        if (r < 0)
                return r;
        r = ensure_device_capacity(m, m->n_devices + 1);
        if (r < 0) {
                device_free(d);
                return r;
        }
        memmove(m->devices + i + 1, m->devices + i, (m->n_devices - i) * sizeof(*m->devices));
        m->devices[i] = d;
        m->n_devices++;
        notify(m, MODEL_DEVICE_ADDED, d);
        return attach_to_group(m, d, true);
}

static void handle_remove(DeviceModel *m, const char *address)
{
        bool found;
        size_t i = device_index(m, address, &found);
        Device *d;

        if (!found)
                return;
        d = m->devices[i];
        detach_from_group(m, d, d->pci->iommu_group);
        notify(m, MODEL_DEVICE_REMOVED, d);
        memmove(m->devices + i, m->devices + i + 1, (m->n_devices - i - 1) * sizeof(*m->devices));
        m->n_devices--;
        device_free(d);
}

/* Re-reads a known device in place: the Device stays, so its bus object does. */
static int handle_change(DeviceModel *m, sd_device *sd, const char *address)
{
        Device *d = device_model_find_device(m, address);
        PciDevice *fresh;
        int old_group, r;

        if (!d)
                return handle_add(m, sd, address);
        r = pci_device_new_from_sd_device(sd, &fresh);
        if (r < 0)
                return r;
        old_group = d->pci->iommu_group;
        pci_device_free(d->pci);
        d->pci = fresh; /* same ids, so the names found at add still hold */
        notify(m, MODEL_DEVICE_CHANGED, d);

        if (old_group == fresh->iommu_group) {
                Group *g = device_model_find_group(m, old_group);
                if (g)
                        notify(m, MODEL_GROUP_CHANGED, g);
                return 0;
        }
        detach_from_group(m, d, old_group);
        return attach_to_group(m, d, true);
}

/* One device read whole from sysfs now, or forgotten when it is gone. */
static int reread_device(DeviceModel *m, const char *address)
{
        _cleanup_(sd_device_unrefp) sd_device *sd = NULL;
        int r = sd_device_new_from_subsystem_sysname(&sd, "pci", address);

        if (r == -ENODEV || r == -ENOENT) {
                handle_remove(m, address);
                return 0;
        }
        return r < 0 ? r : handle_change(m, sd, address);
}

int device_model_reread_binding(DeviceModel *m, const char *address)
{
        Device *d = device_model_find_device(m, address);
        Group *g;
        int r;

        if (!d)
                return reread_device(m, address);
        r = pci_device_reread_binding(d->pci);
        if (r == -ENOENT) /* gone meanwhile */
                return reread_device(m, address);
        if (r <= 0)
                return r;
        notify(m, MODEL_DEVICE_CHANGED, d);
        g = device_model_find_group(m, d->pci->iommu_group);
        if (g)
                notify(m, MODEL_GROUP_CHANGED, g);
        return 0;
}

static const char *device_action_to_string(sd_device_action_t a)
{
        static const char *const names[] = {
                [SD_DEVICE_ADD] = "add",       [SD_DEVICE_REMOVE] = "remove", [SD_DEVICE_CHANGE] = "change",
                [SD_DEVICE_MOVE] = "move",     [SD_DEVICE_ONLINE] = "online", [SD_DEVICE_OFFLINE] = "offline",
                [SD_DEVICE_BIND] = "bind",     [SD_DEVICE_UNBIND] = "unbind",
        };
        return a >= 0 && (size_t)a < ELEMENTSOF(names) ? names[a] : "event";
}

static bool device_is_moving(const DeviceModel *m, const char *address)
{
        const Device *d = device_model_find_device(m, address);
        return d && m->is_moving && m->is_moving(d->pci->iommu_group, m->userdata);
}

static int on_uevent(sd_device_monitor *monitor, sd_device *sd, void *userdata)
{
        DeviceModel *m = userdata;
        char address[PCI_ADDRESS_STRING_MAX];
        const char *subsystem, *sysname;
        sd_device_action_t action;
        int r;

        if (sd_device_get_subsystem(sd, &subsystem) < 0 || !streq(subsystem, "pci"))
                return 0;
        if (sd_device_get_sysname(sd, &sysname) < 0 || pci_address_normalize(sysname, address) < 0)
                return 0;
        if (sd_device_get_action(sd, &action) < 0)
                return 0;

        switch (action) {
        case SD_DEVICE_ADD:
                r = handle_add(m, sd, address);
                break;
        case SD_DEVICE_REMOVE:
                handle_remove(m, address);
                r = 0;
                break;
        case SD_DEVICE_BIND:
        case SD_DEVICE_UNBIND:
                r = device_is_moving(m, address) ? 0 : device_model_reread_binding(m, address);
                break;
        default: /* change, move */
                r = handle_change(m, sd, address);
                break;
        }
        if (r < 0)
                log_warning_errno(r, "Cannot follow %s of %s", device_action_to_string(action), address);
        return 0;
}

int device_model_start_monitor(DeviceModel *m, sd_event *event, ModelChangeFn on_change, GroupMovingFn is_moving,
                               void *userdata)
{
        m->on_change = on_change;
        m->is_moving = is_moving;
        m->userdata = userdata;
        return uevent_monitor_start(event, "pci", on_uevent, m, &m->monitor);
}

int group_endpoint_addresses(const Group *g, char ***ret, size_t *n)
{
        char **addresses = calloc(g->n_devices, sizeof(char *));
        size_t count = 0;

        if (!addresses)
                return -ENOMEM;
        for (size_t i = 0; i < g->n_devices; i++)
                if (!device_is_bridge(g->devices[i]))
                        addresses[count++] = g->devices[i]->pci->address;
        *ret = addresses;
        *n = count;
        return 0;
}
