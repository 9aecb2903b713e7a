/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handover.h"
#include "macro.h"

#define VFIO_DIR "/dev/vfio"

static void node_path(int group, char *buf, size_t size)
{
        snprintf(buf, size, VFIO_DIR "/%d", group);
}

int handover_open_fds(int group, int *ret_group_fd, int *ret_container_fd)
{
        char path[64];
        _cleanup_close_ int group_fd = -1, container_fd = -1;

        node_path(group, path, sizeof(path));
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
int handover_chown(int group, uid_t uid)
{
        return handover_set_owner(group, uid, 0, 0600);
}

int handover_set_owner(int group, uid_t uid, gid_t gid, mode_t mode)
{
        char path[64], fdpath[64];
        _cleanup_close_ int fd = -1;
        struct stat st;

        node_path(group, path, sizeof(path));
        fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISCHR(st.st_mode))
                return -ENOTTY;
        if (st.st_uid == uid && st.st_gid == gid && (st.st_mode & 07777) == mode)
                return 0;
        /* The mode is set while root owns the node, so that vfiod needs no
         * CAP_FOWNER: before giving it away, after taking it back. chmod
         * has no AT_EMPTY_PATH: it goes through the fd's /proc link. */
        snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
        if (st.st_uid == 0 && chmod(fdpath, mode) < 0)
                return -errno;
        if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0)
                return -errno;
        if (st.st_uid != 0 && uid == 0 && chmod(fdpath, mode) < 0)
                return -errno;
        return 1;
}
