/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What vfiod's work needs, and all that vfiod.service gives its user:
 *   CAP_CHOWN                    hand /dev/vfio/<group> to a user and back
 *                                (vfiod takes the node first, so that it
 *                                may chmod it as its owner: no CAP_FOWNER)
 *   CAP_DAC_OVERRIDE             write the PCI driver files of sysfs and
 *                                open the group nodes, which root owns;
 *                                see which processes hold a device open
 *                                (/proc/<pid>/fd of every user)
 *   CAP_SYS_RESOURCE             raise another process's RLIMIT_MEMLOCK;
 *                                set an iommufd to charge its holder's
 *                                process (IOMMU_OPTION_RLIMIT_MODE)
 *   CAP_SYS_PTRACE               the same: other users' /proc/<pid>/fd
 *   CAP_KILL                     SIGTERM, and nothing else, to the holders
 *                                that a profile's AskHolders=yes asks to
 *                                close a device's nodes
 *   CAP_SYS_MODULE               load vfio-pci through modprobe (when it has
 *                                it: vfiod.service loads it beforehand) */

/* Run as root (by hand, or by a bus without systemd), keeps only those, in
 * every set and in the bounding set, so that neither vfiod nor modprobe,
 * which it starts, can do more. Does nothing run as any other user: then
 * vfiod has what its unit gave it, or nothing (tests). -errno when it
 * fails. */
int drop_capabilities(void);
