/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* At start, vfiod keeps only the capabilities its work needs, in every set
 * and in the bounding set, so that neither it nor modprobe, which it
 * starts, can do more:
 *   CAP_CHOWN                    hand /dev/vfio/<group> to a user and back
 *                                (chmod while root owns it: no CAP_FOWNER)
 *   CAP_SYS_RESOURCE             raise another process's RLIMIT_MEMLOCK;
 *                                set an iommufd to charge its holder's
 *                                process (IOMMU_OPTION_RLIMIT_MODE)
 *   CAP_SYS_PTRACE,
 *   CAP_DAC_READ_SEARCH          see which processes hold a device open
 *                                (/proc/<pid>/fd of every user)
 *   CAP_KILL                     SIGTERM, and nothing else, to the holders
 *                                that a profile's AskHolders=yes asks to
 *                                close a device's nodes
 *   CAP_SYS_MODULE               load vfio-pci through modprobe (when it has
 *                                it: vfiod.service loads it beforehand)
 * Writing sysfs takes no capability: root owns the files. */

/* Does nothing when not run as root (tests); -errno when it fails. */
int drop_capabilities(void);
