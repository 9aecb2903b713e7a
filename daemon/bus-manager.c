/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "authorization.h"
#include "bus-changes.h"
#include "bus-claim.h"
#include "bus-device.h"
#include "bus-group.h"
#include "bus-lease.h"
#include "bus-manager.h"
#include "bus-memlock.h"
#include "bus-names.h"
#include "bus-prepare.h"
#include "bus-reservation.h"
#include "bus-util.h"
#include "bus-sender.h"
#include "config.h"
#include "diagnosis.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "quote.h"

/* io.github.vfiod1.Manager at the root object, next to the ObjectManager. */

int bus_lookup_device(Manager *m, const char *input, Device **ret, sd_bus_error *error)
{
        char address[PCI_ADDRESS_STRING_MAX], quoted[QUOTE_BUFFER_SIZE];
        Device *d;

        if (pci_address_normalize(input, address) < 0)
                return bus_error_setf(error, VFIOD_ERROR_INVALID_ADDRESS,
                                      "'%s' is not a PCI address: " PCI_ADDRESS_FORMS ".",
                                      quote_input(input, quoted));
        d = device_model_find_device(m->model, address);
        if (!d)
                return bus_error_setf(error, VFIOD_ERROR_NO_SUCH_DEVICE,
                                      "No PCI device at %s: 'vfioctl-client list' shows the devices.",
                                      address);
        *ret = d;
        return 0;
}

static int method_get_device(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_free_ char *path = NULL;
        const char *input;
        Device *d;
        int r;

        r = sd_bus_message_read(msg, "s", &input);
        if (r < 0)
                return r;
        r = bus_lookup_device(userdata, input, &d, error);
        if (r < 0)
                return r;
        r = bus_device_path(d, &path);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, "o", path);
}

static int method_get_group(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;
        _cleanup_free_ char *path = NULL;
        uint32_t id;
        int r;

        r = sd_bus_message_read(msg, "u", &id);
        if (r < 0)
                return r;
        if (id > INT32_MAX || !device_model_find_group(m->model, (int)id))
                return bus_error_setf(error, VFIOD_ERROR_NO_SUCH_GROUP,
                                      "No IOMMU group %" PRIu32 ": 'vfioctl-client list' shows the groups.",
                                      id);
        r = bus_group_path((int)id, &path);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, "o", path);
}

static int append_device(const Manager *m, sd_bus_message *reply, const Device *d)
{
        _cleanup_free_ char *path = NULL;
        const PciDevice *p = d->pci;
        int r = bus_device_path(d, &path);

        if (r < 0)
                return r;
        return sd_bus_message_append(reply, "(soqqqqusssibbs)", p->address, path, p->vendor_id, p->device_id,
                                     p->subsystem_vendor_id, p->subsystem_device_id, p->class_code,
                                     strempty(d->vendor_name), strempty(d->model_name), strempty(p->driver),
                                     p->iommu_group, p->boot_vga, device_is_bridge(d),
                                     bus_state_to_string(manager_device_state(m, d)));
}

static int method_list_devices(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(soqqqqusssibbs)");
        for (size_t i = 0; r >= 0 && i < device_model_n_devices(m->model); i++)
                r = append_device(m, reply, device_model_device_at(m->model, i));
        return r < 0 ? r : bus_close_and_send(reply);
}

typedef struct GroupAppend {
        const Manager *m;
        sd_bus_message *reply;
        int r;
} GroupAppend;

static void append_group(Group *g, void *userdata)
{
        GroupAppend *a = userdata;
        _cleanup_free_ char *path = NULL;
        int r = a->r;

        if (r >= 0)
                r = bus_group_path(g->id, &path);
        if (r >= 0)
                r = sd_bus_message_open_container(a->reply, 'r', "uoasbs");
        if (r >= 0)
                r = sd_bus_message_append(a->reply, "uo", (uint32_t)g->id, path);
        if (r >= 0)
                r = sd_bus_message_open_container(a->reply, 'a', "s");
        for (size_t i = 0; r >= 0 && i < g->n_devices; i++)
                r = sd_bus_message_append(a->reply, "s", g->devices[i]->pci->address);
        if (r >= 0)
                r = sd_bus_message_close_container(a->reply);
        if (r >= 0)
                r = sd_bus_message_append(a->reply, "bs", group_is_viable(g),
                                          bus_state_to_string(manager_group_state(a->m, g)));
        if (r >= 0)
                r = sd_bus_message_close_container(a->reply);
        a->r = r;
}

static int method_list_groups(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        GroupAppend a;
        int r;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(uoasbs)");
        if (r < 0)
                return r;
        a = (GroupAppend){ .m = m, .reply = reply, .r = 0 };
        device_model_foreach_group(m->model, append_group, &a);
        return a.r < 0 ? a.r : bus_close_and_send(reply);
}

static int method_list_leases(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        int r;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(ouuussst)");
        for (Lease *l = leases_first(m->leases); r >= 0 && l; l = l->next) {
                _cleanup_free_ char *path = NULL;
                const LeaseInfo *i = &l->info;
                r = bus_lease_path(l, &path);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "(ouuussst)", path, (uint32_t)i->group, i->uid, i->pid,
                                                  lease_mode_to_string(i->mode),
                                                  lease_lifetime_to_string(i->lifetime), i->holder, i->since_usec);
        }
        return r < 0 ? r : bus_close_and_send(reply);
}

/* The caller's own locked-memory limit belongs in its diagnosis. */
static pid_t sender_pid(sd_bus_message *msg)
{
        pid_t pid = 0;

        (void)bus_sender_creds(msg, NULL, &pid);
        return pid;
}

static int method_diagnose(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(diagnosis_freep) Diagnosis *d = NULL;
        Manager *m = userdata;
        HostFacts facts;
        int r;

        /* The machine-wide facts are read now; the devices, the daemon knows. */
        r = host_facts_read(sender_pid(msg), &facts);
        if (r < 0)
                return r;
        r = device_model_describe(m->model, &facts);
        if (r >= 0)
                r = diagnosis_evaluate(&facts, &d);
        host_facts_done(&facts);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(ssss)");
        for (size_t i = 0; r >= 0 && i < d->n_findings; i++) {
                const Finding *f = &d->findings[i];
                r = sd_bus_message_append(reply, "(ssss)", f->check, finding_severity_to_string(f->severity),
                                          f->summary, strempty(f->remedy));
        }
        return r < 0 ? r : bus_close_and_send(reply);
}

static int property_iommu_state(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;
        return sd_bus_message_append(reply, "s", device_model_n_groups(m->model) > 0 ? "enabled" : "disabled");
}

/* Reading is for everyone: sd-bus refuses methods without
 * SD_BUS_VTABLE_UNPRIVILEGED to callers without CAP_SYS_ADMIN. What changes
 * anything asks polkit itself. */
static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", NULL, offsetof(Manager, version), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ApiVersion", "u", NULL, offsetof(Manager, api_version), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("IommuState", "s", property_iommu_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_NAMES("ListDevices", "", , "a(soqqqqusssibbs)", SD_BUS_PARAM(devices),
                                 method_list_devices, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ListGroups", "", , "a(uoasbs)", SD_BUS_PARAM(groups), method_list_groups, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("GetDevice", "s", SD_BUS_PARAM(address), "o", SD_BUS_PARAM(device),
                                 method_get_device, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("GetGroup", "u", SD_BUS_PARAM(id), "o", SD_BUS_PARAM(group), method_get_group,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ClaimGroup", "ua{sv}", SD_BUS_PARAM(id) SD_BUS_PARAM(options), "ooa{sh}",
                                 SD_BUS_PARAM(lease) SD_BUS_PARAM(group) SD_BUS_PARAM(handles),
                                 bus_method_claim_group, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ClaimDevice", "sa{sv}", SD_BUS_PARAM(address) SD_BUS_PARAM(options), "ooa{sh}",
                                 SD_BUS_PARAM(lease) SD_BUS_PARAM(group) SD_BUS_PARAM(handles),
                                 bus_method_claim_device, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ReleaseGroup", "ua{sv}", SD_BUS_PARAM(id) SD_BUS_PARAM(options), "", ,
                                 bus_method_release_group, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ListLeases", "", , "a(ouuussst)", SD_BUS_PARAM(leases), method_list_leases, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("RaiseMemlockLimit", "ht", SD_BUS_PARAM(process) SD_BUS_PARAM(bytes), "t",
                                 SD_BUS_PARAM(limit),
                                 bus_method_raise_memlock_limit, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Reserve", "sa{sv}", SD_BUS_PARAM(match) SD_BUS_PARAM(options), "s", SD_BUS_PARAM(file),
                                 bus_method_reserve, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Unreserve", "sa{sv}", SD_BUS_PARAM(match) SD_BUS_PARAM(options), "", ,
                                 bus_method_unreserve, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ListReservations", "", , "a(sssuas)", SD_BUS_PARAM(reservations),
                                 bus_method_list_reservations, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Prepare", "sasa{sv}", SD_BUS_PARAM(claim_id) SD_BUS_PARAM(devices) SD_BUS_PARAM(options),
                                 "sauas", SD_BUS_PARAM(cdi_device) SD_BUS_PARAM(groups) SD_BUS_PARAM(nodes),
                                 bus_method_prepare, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Unprepare", "sa{sv}", SD_BUS_PARAM(claim_id) SD_BUS_PARAM(options), "", ,
                                 bus_method_unprepare, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ListPrepared", "", , "a(ssau)", SD_BUS_PARAM(claims), bus_method_list_prepared,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Diagnose", "", , "a(ssss)", SD_BUS_PARAM(findings), method_diagnose, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

int bus_manager_register(Manager *m)
{
        int r = sd_bus_add_object_vtable(m->bus, NULL, VFIOD_ROOT_PATH, VFIOD_MANAGER_INTERFACE,
                                         manager_vtable, m);
        if (r < 0)
                return r;
        return sd_bus_add_object_manager(m->bus, NULL, VFIOD_ROOT_PATH);
}

static bool bus_waiting(Manager *m)
{
        return authorizer_waiting(m->authorizer);
}

/* A call counts as activity; signals do not: vfiod hears every
 * NameOwnerChanged of the bus, which on a busy bus never falls silent. */
static int on_bus_message(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        if (sd_bus_message_is_method_call(msg, NULL, NULL))
                (void)manager_note_activity(userdata);
        return 0;
}

int bus_manager_serve(Manager *m)
{
        int r;

        if ((r = bus_changes_new(m->event, m->bus, &m->changes)) < 0 ||
            (r = authorizer_new(m->bus, &m->authorizer)) < 0)
                return r;
        m->events = (ManagerEvents){
                .model_changed = bus_emit_model_change,
                .claim_changed = bus_emit_claim_change,
                .lease_added = bus_emit_lease_added,
                .lease_released = bus_emit_lease_released,
                .bus_waiting = bus_waiting,
        };
        if ((r = bus_manager_register(m)) < 0 || (r = bus_device_register(m)) < 0 ||
            (r = bus_group_register(m)) < 0 || (r = bus_lease_register(m)) < 0)
                return log_error_errno(r, "Cannot register the bus objects");
        r = sd_bus_add_filter(m->bus, NULL, on_bus_message, m);
        if (r < 0)
                return r;
        r = sd_bus_request_name(m->bus, VFIOD_BUS_NAME, 0);
        if (r < 0)
                return log_error_errno(r, "Cannot own %s", VFIOD_BUS_NAME);
        log_info("Serving %zu PCI devices in %zu IOMMU groups.", device_model_n_devices(m->model),
                 device_model_n_groups(m->model));
        (void)sd_notifyf(false, "READY=1\nSTATUS=Serving %zu PCI devices in %zu IOMMU groups.",
                         device_model_n_devices(m->model), device_model_n_groups(m->model));
        return 0;
}

void bus_manager_stop(Manager *m)
{
        m->events = (ManagerEvents){};
        m->authorizer = authorizer_free(m->authorizer);
        m->changes = bus_changes_free(m->changes);
}
