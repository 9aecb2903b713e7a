/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "use-report.h"

/* An in-process stand-in for everything the daemon reads or changes of the
 * host (the vfiod-hostio library: sysfs-pci.h, pci-device-sysfs.h,
 * device-use.h, early-mark.h, handover.h, vfio-holders.h,
 * uevent-monitor.h). It keeps a small
 * machine in memory: a host bridge and LPC/SMBus functions, a boot GPU, a
 * NIC, an NVMe disk, a GPU with its audio function behind a root port, an
 * unbound device, one already on vfio-pci and one without an IOMMU group.
 * Drivers bind and unbind the way the kernel's driver core does; group
 * nodes are plain files in a directory of the fake's own. */

typedef enum FakeFault {
        FAKE_FAULT_NONE,
        FAKE_FAULT_OVERRIDE,    /* writing driver_override fails */
        FAKE_FAULT_UNBIND,      /* unbind fails */
        FAKE_FAULT_PROBE,       /* drivers_probe binds nothing, nor does bind */
        FAKE_FAULT_MODULE,      /* vfio-pci cannot be loaded */
        FAKE_FAULT_NODE,        /* the group node never appears */
        FAKE_FAULT_OPEN,        /* the group node cannot be opened */
        _FAKE_FAULT_MAX,
} FakeFault;

/* What the machine does during one fuzz input. */
typedef struct FakeWorld {
        FakeFault fault;
        size_t fault_device; /* index into the fixtures, modulo their number */
        DeviceUse use;       /* what device_use_check() finds besides platform functions */
        int held_group;      /* a group whose node stays open after its lease; -1: none */
} FakeWorld;

/* Makes dir (short: a node's path is at most VFIO_NODE_PATH_MAX) the
 * directory of the group nodes; call once, before the daemon starts. */
int fake_kernel_init(const char *dir);
/* Sets the world; vfio-pci is unloaded again at every call, unless a
 * device is bound to it. */
void fake_kernel_set_world(const FakeWorld *w);
/* Whether every device is on the driver and override it started with; if
 * not, *ret_difference names the first device that is not. */
bool fake_kernel_at_rest(char **ret_difference);
/* Opens and closes every group node, as a holder that lets go. */
void fake_kernel_touch_nodes(void);
/* The address and the IOMMU group of fixture i (modulo their number), for
 * the fuzzer to pick from. */
const char *fake_kernel_address(size_t i);
int fake_kernel_group(size_t i);
