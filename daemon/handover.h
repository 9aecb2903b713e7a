/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* Handing a claimed group to its holder: as open fds (the group's, or its
 * devices' cdevs with an iommufd), or as ownership of its nodes. The
 * kernel lets one process at a time open /dev/vfio/<group>, and none while
 * a cdev of the group is bound to an iommufd; the daemon keeps no copy of
 * an fd it handed over. (A cdev can be opened any number of times; only
 * one open of it can be bound.) */

/* The group's node, /dev/vfio/<group>: the one place that names it. */
#define VFIO_NODE_PATH_MAX 32
void vfio_group_node_path(int group, char buf[static VFIO_NODE_PATH_MAX]);

/* The group's fd and a fresh container fd from /dev/vfio/vfio. */
int handover_open_fds(int group, int *ret_group_fd, int *ret_container_fd);

/* A fresh iommufd (/dev/iommu) that charges the memory its holder pins
 * for DMA to the holder's own process (RLIMIT_MEMLOCK, as the group mode
 * does), not to every process of its uid together. Only CAP_SYS_RESOURCE
 * may choose that, and only before the iommufd has objects: the holder
 * could not. */
int handover_open_iommufd(void);
/* The cdev of the endpoint at address, made sure to be the device's own
 * node: -ENOENT when it has none (a kernel without cdevs). */
int handover_open_cdev(const char *address);

/* /dev/vfio/<group> with that owner, group and mode, and no ACL; the
 * cdevs of its devices, where the kernel has them, the same when cdevs,
 * else root's with mode 0600: whatever mode or ACL the last holder left
 * goes. 1 when that took a change, 0 when all was so already. */
int handover_set_owner(int group, uid_t uid, gid_t gid, mode_t mode, bool cdevs);
