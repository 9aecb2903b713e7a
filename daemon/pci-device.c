/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "pci-class.h"
#include "pci-device.h"
#include "sysfs-pci.h"

int pci_device_reread_binding(PciDevice *p)
{
        _cleanup_free_ char *driver = NULL;
        ResetMethods methods;
        bool changed;
        int r;

        r = sysfs_pci_read_driver(p->address, &driver);
        if (r < 0)
                return r;
        changed = !streq_ptr(driver, p->driver);
        free(p->driver);
        p->driver = TAKE_PTR(driver);
        /* A release puts a profile's narrowed list back (after a crash,
         * the restart's restore does, after the model was read). */
        methods = sysfs_pci_read_reset_method_set(p->address);
        changed |= methods != p->reset_methods;
        p->reset_methods = methods;
        return changed;
}

PciDevice *pci_device_free(PciDevice *p)
{
        if (!p)
                return NULL;
        free(p->syspath);
        free(p->driver);
        free(p->physfn);
        free(p);
        return NULL;
}

bool pci_device_is_bridge(const PciDevice *p)
{
        return pci_class_is_bridge(p->class_code) || (p->driver && streq(p->driver, "pcieport"));
}

void pci_device_identity(const PciDevice *p, char path_buf[static RESERVATION_MATCH_STRING_MAX], PciIdentity *ret)
{
        *ret = (PciIdentity){
                .address = p->address,
                .path = reservation_physical_path(p->syspath, path_buf) >= 0 ? path_buf : NULL,
                .vendor = p->vendor_id,
                .device = p->device_id,
                .subvendor = p->subsystem_vendor_id,
                .subdevice = p->subsystem_device_id,
        };
}
