/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "lease-info.h"
#include "manager.h"
#include "pci-address.h"

/* What opens a group's node at a grant, in a worker: the look at whether
 * a reserved group's node is free, and the fds or cdevs that fd and cdev
 * leases hand over. An open of /dev/vfio/<group> waits for the group's
 * lock, which the release of an exiting VMM's fd holds while it unpins
 * the VM's memory (seconds, for a large VM); the event loop answers
 * everyone meanwhile. Both wait for the group's node changes asked
 * before them (group-work.h, manager-nodes.h), so that a change that holds
 * the group open for a moment does not make them see it busy. */

/* cdev mode: an endpoint and its cdev's fd. */
typedef struct HandedDevice {
        char address[PCI_ADDRESS_STRING_MAX];
        int fd;
} HandedDevice;
/* What a new lease's holder is sent: fds, -1 for none. */
typedef struct LeaseHandles {
        int group_fd, container_fd; /* fd mode: the group and a fresh container */
        int iommufd;                /* cdev mode: an iommufd that charges pinned memory to the process */
        HandedDevice *devices;      /* cdev mode: every endpoint's cdev */
        size_t n_devices;
        int guard_fd;               /* guard-fd lifetime: the holder's end of the guard */
} LeaseHandles;
#define LEASE_HANDLES_NONE ((LeaseHandles){ .group_fd = -1, .container_fd = -1, .iommufd = -1, .guard_fd = -1 })
void lease_handles_close(LeaseHandles *h);

/* Whether a mode hands fds over (fd, cdev), which a worker opens. */
bool lease_mode_opens(LeaseMode mode);

/* r: 0, and h holds the fds (the callee's to send and close); another
 * -errno when they cannot be opened (fd mode: -EBUSY when a process has
 * the group open; cdev mode: -EBUSY when a process has it bound, -ENOENT
 * for a kernel without cdevs or /dev/iommu). */
typedef void (*HandlesOpenedFn)(int r, LeaseHandles *h, void *userdata);
/* Opens group's fds (LEASE_MODE_FD) or its endpoints' cdevs and an
 * iommufd (LEASE_MODE_CDEV), then calls done on the loop, exactly once
 * unless this fails, or vfiod stops first. */
int manager_open_handles(Manager *m, int group, LeaseMode mode, HandlesOpenedFn done, void *userdata);

/* busy: 1 when a process has the group's node open, 0 when none has, a
 * negative errno when the kernel did not say. */
typedef void (*NodeCheckedFn)(int busy, void *userdata);
/* Looks whether a process has group's node open (vfio_group_node_busy()),
 * then calls done on the loop, exactly once unless this fails, or vfiod
 * stops first. */
int manager_check_node(Manager *m, int group, NodeCheckedFn done, void *userdata);
/* Whether such a look at group's node is under way. */
bool manager_checking_node(const Manager *m, int group);

/* At exit: what is under way answers nobody, as the engine's moves do
 * then (what a caller would do next is for a running daemon); its worker
 * finishes in its own time and closes what it opened. The callers'
 * userdata is left as it is. */
void manager_cancel_handovers(Manager *m);
