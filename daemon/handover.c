/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "handover.h"
#include "iommu-group.h"
#include "linux-iommufd.h"
#include "macro.h"
#include "vfio-cdev.h"

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

int handover_open_iommufd(void)
{
        struct iommu_option option = {
                .size = sizeof(option),
                .option_id = IOMMU_OPTION_RLIMIT_MODE,
                .op = IOMMU_OPTION_OP_SET,
                .val64 = 1, /* per process */
        };
        _cleanup_close_ int fd = open(IOMMUFD_NODE, O_RDWR | O_CLOEXEC | O_NOCTTY);

        if (fd < 0)
                return -errno;
        if (ioctl(fd, IOMMU_OPTION, &option) < 0)
                return -errno;
        return TAKE_FD(fd);
}

int handover_open_cdev(const char *address)
{
        char path[VFIO_CDEV_PATH_MAX];
        _cleanup_close_ int fd = -1;
        struct stat st;
        dev_t devnum;
        int r = vfio_cdev_of_device(address, path, &devnum);

        if (r < 0)
                return r;
        fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISCHR(st.st_mode) || st.st_rdev != devnum)
                return -ENODEV;
        return TAKE_FD(fd);
}

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

/* One node of the group's, reached through an O_PATH fd checked to be a
 * character device (of number devnum, unless 0): never what a path might
 * have been swapped for. *held: the group node, opened by the first node
 * that needs a change. 1 when that took a change, 0 when it was so
 * already. */
static int set_node_owner(const char *path, dev_t devnum, const char *group_path, int *held, uid_t uid, gid_t gid,
                          mode_t mode)
{
        uid_t self_uid = geteuid();
        gid_t self_gid = getegid();
        char fdpath[64];
        _cleanup_close_ int fd = -1;
        struct stat st;

        fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISCHR(st.st_mode) || (devnum != 0 && st.st_rdev != devnum))
                return -ENOTTY;
        snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
        if (st.st_uid == uid && st.st_gid == gid && (st.st_mode & 07777) == mode && !has_access_acl(fdpath))
                return 0;
        /* A node vfiod owns already (root's, whatever group and mode udev
         * gave it) only narrows until it is given away: nobody can widen
         * it meanwhile, and vfiod does not hold the group open, which
         * would fail a lessee's cdev bind or open just then. A node
         * someone else owns could be widened by them until vfiod takes
         * it. */
        if (*held < 0 && st.st_uid != self_uid)
                *held = hold_group_closed(group_path);
        /* Whatever the last holder did to the node (a wider mode, an ACL
         * entry for someone else), it goes. Only the owner may change mode
         * and ACL, and vfiod has no CAP_FOWNER: vfiod takes the node first
         * (as its own user, or as root), then sets it up, then gives it
         * away. */
        if ((st.st_uid != self_uid || st.st_gid != self_gid) &&
            fchownat(fd, "", self_uid, self_gid, AT_EMPTY_PATH) < 0)
                return -errno;
        if (removexattr(fdpath, ACL_XATTR) < 0 && errno != ENODATA && errno != EOPNOTSUPP)
                return -errno;
        if (chmod(fdpath, mode) < 0)
                return -errno;
        if ((uid != self_uid || gid != self_gid) && fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0)
                return -errno;
        return 1;
}

typedef struct NodeOwner {
        const char *group_path;
        int held;
        uid_t uid;
        gid_t gid;
        mode_t mode;
        int changed;
} NodeOwner;

/* A member's cdev, when it has one (a kernel with cdevs, on VFIO). */
static int set_cdev_owner(const char *address, void *userdata)
{
        NodeOwner *o = userdata;
        char path[VFIO_CDEV_PATH_MAX];
        dev_t devnum;
        int r;

        if (vfio_cdev_of_device(address, path, &devnum) < 0)
                return 0;
        r = set_node_owner(path, devnum, o->group_path, &o->held, o->uid, o->gid, o->mode);
        if (r == -ENOENT)
                return 0; /* gone with its device meanwhile */
        if (r > 0)
                o->changed = 1;
        return r < 0 ? r : 0;
}

int handover_set_owner(int group, uid_t uid, gid_t gid, mode_t mode, bool cdevs)
{
        char path[VFIO_NODE_PATH_MAX];
        NodeOwner o = { .group_path = path, .held = -1, .uid = cdevs ? uid : 0, .gid = cdevs ? gid : 0,
                        .mode = cdevs ? mode : 0600 };
        int r;

        vfio_group_node_path(group, path);
        /* The group node first. A kernel may have cdevs and no group
         * nodes (CONFIG_VFIO_GROUP=n): the cdevs change hands all the same. */
        r = set_node_owner(path, 0, path, &o.held, uid, gid, mode);
        if (r >= 0 || r == -ENOENT) {
                o.changed = r > 0;
                r = iommu_group_foreach_member(group, set_cdev_owner, &o);
        }
        closep(&o.held);
        return r < 0 ? r : o.changed;
}
