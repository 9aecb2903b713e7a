/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

/* Handing a claimed group to its holder: as open fds, or as ownership of
 * its node. The kernel lets one process at a time open /dev/vfio/<group>,
 * so the daemon keeps no copy of an fd it handed over. */

/* The group's node, /dev/vfio/<group>: the one place that names it. */
#define VFIO_NODE_PATH_MAX 32
void vfio_group_node_path(int group, char buf[static VFIO_NODE_PATH_MAX]);

/* The group's fd and a fresh container fd from /dev/vfio/vfio. */
int handover_open_fds(int group, int *ret_group_fd, int *ret_container_fd);

/* /dev/vfio/<group> with that owner, group and mode, and no ACL: whatever
 * mode or ACL the last holder left goes. 1 when that took a change, 0 when
 * it was so already. */
int handover_set_owner(int group, uid_t uid, gid_t gid, mode_t mode);
/* A chown lease's node: its holder alone may open it. */
static inline int handover_chown(int group, uid_t uid)
{
        return handover_set_owner(group, uid, 0, 0600);
}
