/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "handover.h"
#include "macro.h"

#define VFIO_DIR "/dev/vfio"
/* The POSIX ACL of a file, as the kernel stores it. */
#define ACL_XATTR "system.posix_acl_access"

void vfio_group_node_path(int group, char buf[static VFIO_NODE_PATH_MAX])
{
        snprintf(buf, VFIO_NODE_PATH_MAX, VFIO_DIR "/%d", group);
}

int handover_open_fds(int group, int *ret_group_fd, int *ret_container_fd)
{
        char path[VFIO_NODE_PATH_MAX];
        _cleanup_close_ int group_fd = -1, container_fd = -1;

        vfio_group_node_path(group, path);
        group_fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (group_fd < 0)
                return -errno;
        container_fd = open(VFIO_DIR "/vfio", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (container_fd < 0)
                return -errno;
        *ret_group_fd = TAKE_FD(group_fd);
        *ret_container_fd = TAKE_FD(container_fd);
        return 0;
}

/* Through an O_PATH fd checked to be a character device: only ever the
 * group node, never what a path might have been swapped for. */
static bool has_access_acl(const char *fdpath)
{
        return getxattr(fdpath, ACL_XATTR, NULL, 0) >= 0;
}

/* While the node changes hands nobody new may open it. The kernel lets one
 * process at a time open a group: vfiod holds it open itself, or, when it
 * cannot (EBUSY), whoever has it open keeps everyone else out too. */
static int hold_group_closed(const char *path)
{
        int fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        return fd >= 0 ? fd : -errno;
}

int handover_set_owner(int group, uid_t uid, gid_t gid, mode_t mode)
{
        char path[VFIO_NODE_PATH_MAX], fdpath[64];
        _cleanup_close_ int fd = -1, held = -1;
        struct stat st;

        vfio_group_node_path(group, path);
        fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISCHR(st.st_mode))
                return -ENOTTY;
        snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
        if (st.st_uid == uid && st.st_gid == gid && (st.st_mode & 07777) == mode && !has_access_acl(fdpath))
                return 0;
        held = hold_group_closed(path);
        /* Whatever the last holder did to the node (a wider mode, an ACL
         * entry for someone else), it goes. Only the owner may change mode
         * and ACL, and vfiod has no CAP_FOWNER: root takes the node first,
         * then sets it up, then gives it away. */
        if ((st.st_uid != 0 || st.st_gid != 0) && fchownat(fd, "", 0, 0, AT_EMPTY_PATH) < 0)
                return -errno;
        if (removexattr(fdpath, ACL_XATTR) < 0 && errno != ENODATA && errno != EOPNOTSUPP)
                return -errno;
        if (chmod(fdpath, mode) < 0)
                return -errno;
        if ((uid != 0 || gid != 0) && fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0)
                return -errno;
        return 1;
}
