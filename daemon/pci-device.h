/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "pci-address.h"
#include "reservation.h"
#include "reset-method.h"

#define PCI_IOMMU_GROUP_NONE (-1)

/* What vfiod knows of one PCI function, read from sysfs. */
typedef struct PciDevice {
        char address[PCI_ADDRESS_STRING_MAX];
        char *syspath;
        uint16_t vendor_id;
        uint16_t device_id;
        uint16_t subsystem_vendor_id;
        uint16_t subsystem_device_id;
        uint32_t class_code; /* base class, subclass, programming interface */
        char *driver;        /* NULL when no driver is bound */
        int iommu_group;     /* PCI_IOMMU_GROUP_NONE without an IOMMU */
        bool boot_vga;
        ResetMethods reset_methods; /* 0: the kernel cannot reset it */
        int numa_node;              /* -1: none (one node, or the firmware says nothing) */
        char *physfn;               /* an SR-IOV VF: its physical function's address; else NULL */
} PciDevice;


/* Reads again what a move changes, the driver and the reset methods (a
 * release puts a profile's narrowed list back): 1 when either changed.
 * (driver_override is not kept: reading it waits for the device lock,
 * which a stuck unbind holds, and the model is read on the event loop.) */
int pci_device_reread_binding(PciDevice *p);
PciDevice *pci_device_free(PciDevice *p);
static inline void pci_device_freep(PciDevice **p)
{
        pci_device_free(*p);
}

/* PCI-to-PCI and CardBus bridges, and ports on pcieport: they route, they
 * are never handed to a guest and never move with their group. */
bool pci_device_is_bridge(const PciDevice *p);

/* What a reservation is matched against; path_buf holds the physical path. */
void pci_device_identity(const PciDevice *p, char path_buf[static RESERVATION_MATCH_STRING_MAX], PciIdentity *ret);
