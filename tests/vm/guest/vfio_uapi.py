# SPDX-License-Identifier: LGPL-2.1-or-later
#
# What the guest's Python helpers need of <linux/vfio.h>: the ioctls, and
# a group in a container with the type1 IOMMU, as a VMM sets it up.
import ctypes
import os
import sys

VFIO_TYPE, VFIO_BASE = ord(';'), 100


def vfio_io(nr):
    return (VFIO_TYPE << 8) | (VFIO_BASE + nr)  # _IO(type, nr): no size, no direction


VFIO_SET_IOMMU = vfio_io(2)
VFIO_GROUP_SET_CONTAINER = vfio_io(4)
VFIO_GROUP_GET_DEVICE_FD = vfio_io(6)
VFIO_IOMMU_MAP_DMA = vfio_io(13)
VFIO_TYPE1_IOMMU = 1
VFIO_DMA_MAP_FLAG_READ = 1

libc = ctypes.CDLL(None, use_errno=True)
libc.ioctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p]


def ioctl(fd, request, arg):
    """The ioctl's result; exits, naming the ioctl and errno, if it fails."""
    r = libc.ioctl(fd, request, arg)
    if r < 0:
        sys.exit(f"{os.path.basename(sys.argv[0])}: ioctl {request:#x}: {os.strerror(ctypes.get_errno())}")
    return r


def group_in_container(group):
    """/dev/vfio/GROUP in a new container with the type1 IOMMU: (group fd, container fd)."""
    group_fd = os.open(f"/dev/vfio/{group}", os.O_RDWR)
    container_fd = os.open("/dev/vfio/vfio", os.O_RDWR)
    container = ctypes.c_int(container_fd)
    ioctl(group_fd, VFIO_GROUP_SET_CONTAINER, ctypes.addressof(container))
    ioctl(container_fd, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU)
    return group_fd, container_fd
