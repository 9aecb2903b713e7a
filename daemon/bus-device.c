/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "bus-changes.h"
#include "bus-device.h"
#include "bus-group.h"
#include "bus-manager.h"
#include "bus-names.h"
#include "bus-util.h"
#include "macro.h"
#include "manager.h"
#include "reservation.h"
#include "vfio-cdev.h"

/* io.github.vfiod1.Device: one object per PCI function, served from the
 * device model by a fallback vtable (no per-object registration). */

int bus_device_path(const Device *d, char **ret)
{
        return sd_bus_path_encode(VFIOD_DEVICE_PATH_PREFIX, d->pci->address, ret);
}

static int find_device(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                       sd_bus_error *error)
{
        Manager *m = userdata;
        _cleanup_free_ char *address = NULL;
        Device *d;

        if (sd_bus_path_decode(path, VFIOD_DEVICE_PATH_PREFIX, &address) <= 0)
                return 0;
        d = device_model_find_device(m->model, address);
        if (!d)
                return 0;
        *found = d;
        return 1;
}

static int enumerate_devices(sd_bus *bus, const char *prefix, void *userdata, char ***nodes,
                             sd_bus_error *error)
{
        Manager *m = userdata;
        size_t n = device_model_n_devices(m->model);
        char **l = calloc(n + 1, sizeof(char *));

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (bus_device_path(device_model_device_at(m->model, i), &l[i]) < 0) {
                        strv_free(l);
                        return -ENOMEM;
                }
        *nodes = l;
        return 0;
}

#define DEVICE(userdata) ((Device *)(userdata))

static int property_u16(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        const PciDevice *p = DEVICE(userdata)->pci;
        uint16_t v = streq(property, "VendorId")            ? p->vendor_id
                     : streq(property, "DeviceId")          ? p->device_id
                     : streq(property, "SubsystemVendorId") ? p->subsystem_vendor_id
                                                            : p->subsystem_device_id;
        return sd_bus_message_append(reply, "q", v);
}

static int property_string(sd_bus *bus, const char *path, const char *interface, const char *property,
                           sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        const Device *d = DEVICE(userdata);
        const char *v = streq(property, "Address")      ? d->pci->address
                        : streq(property, "VendorName") ? d->vendor_name
                        : streq(property, "ModelName")  ? d->model_name
                        : streq(property, "Driver")     ? d->pci->driver
                                                        : bus_state_to_string(manager_device_state(bus_current_manager(bus), d));
        return sd_bus_message_append(reply, "s", strempty(v));
}

static int property_class(sd_bus *bus, const char *path, const char *interface, const char *property,
                          sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        return sd_bus_message_append(reply, "u", DEVICE(userdata)->pci->class_code);
}

static int property_iommu_group(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        return sd_bus_message_append(reply, "i", DEVICE(userdata)->pci->iommu_group);
}

static int property_group(sd_bus *bus, const char *path, const char *interface, const char *property,
                          sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        _cleanup_free_ char *group_path = NULL;
        int id = DEVICE(userdata)->pci->iommu_group;

        if (id == PCI_IOMMU_GROUP_NONE)
                return sd_bus_message_append(reply, "o", "/");
        if (bus_group_path(id, &group_path) < 0)
                return -ENOMEM;
        return sd_bus_message_append(reply, "o", group_path);
}

static int property_bool(sd_bus *bus, const char *path, const char *interface, const char *property,
                         sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        const Device *d = DEVICE(userdata);
        int v = streq(property, "BootVga") ? d->pci->boot_vga : device_is_bridge(d);
        return sd_bus_message_append(reply, "b", v);
}

static int property_reset_methods(sd_bus *bus, const char *path, const char *interface, const char *property,
                                  sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        ResetMethods set = DEVICE(userdata)->pci->reset_methods;
        int r = sd_bus_message_open_container(reply, 'a', "s");

        for (unsigned bit = 0; r >= 0 && bit < 8; bit++)
                if (set & (1u << bit))
                        r = sd_bus_message_append(reply, "s", reset_method_to_string(1u << bit) ?: "other");
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int property_numa_node(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        return sd_bus_message_append(reply, "i", DEVICE(userdata)->pci->numa_node);
}

/* Where the device sits, for an orchestrator's scheduling: its physical
 * path (as a reservation names it), the root port it is below (the path's
 * first element, "" on the root bus), an SR-IOV VF's physical function,
 * and its VFIO cdev while it has one (on vfio-pci, on a kernel with them). */
static int property_topology(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        const Device *d = DEVICE(userdata);
        char buf[RESERVATION_MATCH_STRING_MAX] = "", cdev[VFIO_CDEV_PATH_MAX] = "";
        const char *v = buf;
        dev_t devnum;

        if (streq(property, "PhysicalFunction"))
                v = d->pci->physfn;
        else if (streq(property, "Cdev"))
                v = vfio_cdev_of_device(d->pci->address, cdev, &devnum) >= 0 ? cdev : "";
        else if (reservation_physical_path(d->pci->syspath, buf) < 0)
                buf[0] = '\0';
        else if (streq(property, "RootPort"))
                buf[strchr(buf, '/') ? strcspn(buf, "/") : 0] = '\0';
        return sd_bus_message_append(reply, "s", strempty(v));
}

/* A physical function's SR-IOV virtual functions: the devices that name
 * it as theirs, while they exist (sriov_numvfs). */
static int property_virtual_functions(sd_bus *bus, const char *path, const char *interface, const char *property,
                                      sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        const Device *pf = DEVICE(userdata);
        Manager *m = bus_current_manager(bus);
        size_t n = m ? device_model_n_devices(m->model) : 0;
        int r = sd_bus_message_open_container(reply, 'a', "s");

        for (size_t i = 0; r >= 0 && i < n; i++) {
                const Device *vf = device_model_device_at(m->model, i);
                if (vf->pci->physfn && streq(vf->pci->physfn, pf->pci->address))
                        r = sd_bus_message_append(reply, "s", vf->pci->address);
        }
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

#define CONST SD_BUS_VTABLE_PROPERTY_CONST
#define CHANGES SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE
static const sd_bus_vtable device_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Address", "s", property_string, 0, CONST),
        SD_BUS_PROPERTY("VendorId", "q", property_u16, 0, CONST),
        SD_BUS_PROPERTY("DeviceId", "q", property_u16, 0, CONST),
        SD_BUS_PROPERTY("SubsystemVendorId", "q", property_u16, 0, CONST),
        SD_BUS_PROPERTY("SubsystemDeviceId", "q", property_u16, 0, CONST),
        SD_BUS_PROPERTY("Class", "u", property_class, 0, CONST),
        SD_BUS_PROPERTY("VendorName", "s", property_string, 0, CONST),
        SD_BUS_PROPERTY("ModelName", "s", property_string, 0, CONST),
        SD_BUS_PROPERTY("Driver", "s", property_string, 0, CHANGES),
        SD_BUS_PROPERTY("State", "s", property_string, 0, CHANGES),
        SD_BUS_PROPERTY("IommuGroup", "i", property_iommu_group, 0, CHANGES),
        SD_BUS_PROPERTY("Group", "o", property_group, 0, CHANGES),
        SD_BUS_PROPERTY("BootVga", "b", property_bool, 0, CONST),
        SD_BUS_PROPERTY("Bridge", "b", property_bool, 0, CONST),
        SD_BUS_PROPERTY("ResetMethods", "as", property_reset_methods, 0, CHANGES),
        SD_BUS_PROPERTY("NumaNode", "i", property_numa_node, 0, CONST),
        SD_BUS_PROPERTY("PhysicalPath", "s", property_topology, 0, CONST),
        SD_BUS_PROPERTY("RootPort", "s", property_topology, 0, CONST),
        SD_BUS_PROPERTY("PhysicalFunction", "s", property_topology, 0, CONST),
        /* No signal: a VF comes and goes as a device object (InterfacesAdded, ...Removed). */
        SD_BUS_PROPERTY("VirtualFunctions", "as", property_virtual_functions, 0, 0),
        SD_BUS_PROPERTY("Cdev", "s", property_topology, 0, SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
        SD_BUS_VTABLE_END,
};

int bus_device_register(Manager *m)
{
        return bus_add_object_tree(m->bus, VFIOD_DEVICE_PATH_PREFIX, VFIOD_DEVICE_INTERFACE, device_vtable,
                                   find_device, enumerate_devices, m);
}

void bus_emit_claim_change(Manager *m, int group)
{
        _cleanup_free_ char *path = NULL;
        Group *g = device_model_find_group(m->model, group);

        if (!g)
                return;
        for (size_t i = 0; i < g->n_devices; i++)
                if (bus_device_path(g->devices[i], &path) >= 0) {
                        bus_changes_add(m->changes, path, VFIOD_DEVICE_INTERFACE, "State", NULL);
                        free(TAKE_PTR(path));
                }
        if (bus_group_path(group, &path) >= 0)
                bus_changes_add(m->changes, path, VFIOD_GROUP_INTERFACE, "State", "Step", "Lease", "Reservation",
                                "Holders", NULL);
}

/* The driver moved (bind, unbind) or the device came or went. */
void bus_emit_model_change(Manager *m, ModelChange change, void *object)
{
        _cleanup_free_ char *path = NULL;
        const char *interface;
        int r;

        switch (change) {
        case MODEL_DEVICE_ADDED:
        case MODEL_DEVICE_REMOVED:
        case MODEL_DEVICE_CHANGED:
                r = bus_device_path(object, &path);
                interface = VFIOD_DEVICE_INTERFACE;
                break;
        default:
                r = bus_group_path(((Group *)object)->id, &path);
                interface = VFIOD_GROUP_INTERFACE;
                break;
        }
        if (r < 0)
                return;

        /* IommuState derives from the number of groups: the first one added
         * and the last one removed change it. */
        if ((change == MODEL_GROUP_ADDED && device_model_n_groups(m->model) == 1) ||
            (change == MODEL_GROUP_REMOVED && device_model_n_groups(m->model) == 0))
                (void)sd_bus_emit_properties_changed(m->bus, VFIOD_ROOT_PATH, VFIOD_MANAGER_INTERFACE,
                                                     "IommuState", NULL);

        switch (change) {
        case MODEL_DEVICE_ADDED:
        case MODEL_GROUP_ADDED:
                (void)sd_bus_emit_interfaces_added(m->bus, path, interface, NULL);
                break;
        case MODEL_DEVICE_REMOVED:
        case MODEL_GROUP_REMOVED:
                bus_changes_forget(m->changes, path);
                (void)sd_bus_emit_interfaces_removed(m->bus, path, interface, NULL);
                break;
        case MODEL_DEVICE_CHANGED:
                bus_changes_add(m->changes, path, interface, "Driver", "State", "IommuGroup",
                                "Group", "Cdev", "ResetMethods", NULL);
                break;
        case MODEL_GROUP_CHANGED:
                bus_changes_add(m->changes, path, interface, "Devices", "Viable", "State", NULL);
                break;
        }
}
