/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What vfiod's work needs; vfiod.service gives its user all of it but
 * CAP_SYS_MODULE:
 *   CAP_CHOWN                    hand /dev/vfio/<group> to a user and back
 *                                (vfiod takes the node first, so that it
 *                                may chmod it as its owner: no CAP_FOWNER)
 *   CAP_DAC_OVERRIDE             what root owns: write the PCI and
 *                                framebuffer driver files of sysfs, /run/cdi
 *                                and /etc/vfiod/reservations.d; open the
 *                                group nodes, cdevs, /dev/iommu and block
 *                                devices; list /proc/<pid>/fd of every user
 *   CAP_SYS_RESOURCE             raise another process's RLIMIT_MEMLOCK;
 *                                set an iommufd to charge its holder's
 *                                process (IOMMU_OPTION_RLIMIT_MODE)
 *   CAP_SYS_PTRACE               read where the fds of /proc/<pid>/fd lead,
 *                                for other users' processes too, and tell
 *                                their threads' fd tables apart (kcmp)
 *   CAP_KILL                     SIGTERM, and nothing else, to the holders
 *                                that a profile's AskHolders=yes asks to
 *                                close a device's nodes
 *   CAP_BPF, CAP_PERFMON         have the kernel walk every process's files
 *                                for open device nodes (a BPF task_file
 *                                iterator that reads the file's inode;
 *                                task-files.c); without them vfiod looks
 *                                through /proc
 *   CAP_SYS_MODULE               load vfio-pci through modprobe (when it has
 *                                it: vfiod.service loads it beforehand)
 * CAP_SYS_PTRACE with CAP_DAC_OVERRIDE reaches into any process, and
 * CAP_BPF with CAP_PERFMON lets a program read the kernel's memory: whoever
 * ran code in vfiod would be as good as root. Keeping them from that would
 * take the holder scan out into a process of its own. */

/* Run as root (by hand, or by a bus without systemd), keeps only those, in
 * every set and in the bounding set, so that neither vfiod nor modprobe,
 * which it starts, can do more. Does nothing run as any other user: then
 * vfiod has what its unit gave it, or nothing (tests). -errno when it
 * fails. */
int drop_capabilities(void);
