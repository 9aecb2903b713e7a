#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# vfio-hold.py ADDRESS GROUP: open the device through VFIO as a VMM would
# (group, container, type1 IOMMU, device fd), print "holding", and keep it
# open until killed. While a process holds the device fd, unbinding the
# device from vfio-pci blocks in the kernel: a real stuck step.
import ctypes
import os
import sys
import time

VFIO_TYPE, VFIO_BASE = ord(';'), 100


def vfio_io(nr):
    return (VFIO_TYPE << 8) | (VFIO_BASE + nr)  # _IO(type, nr): no size, no direction


VFIO_SET_IOMMU = vfio_io(2)
VFIO_GROUP_SET_CONTAINER = vfio_io(4)
VFIO_GROUP_GET_DEVICE_FD = vfio_io(6)
VFIO_TYPE1_IOMMU = 1

libc = ctypes.CDLL(None, use_errno=True)
libc.ioctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p]


def ioctl(fd, request, arg):
    r = libc.ioctl(fd, request, arg)
    if r < 0:
        err = ctypes.get_errno()
        sys.exit(f"vfio-hold: ioctl {request:#x}: {os.strerror(err)}")
    return r


address, group = sys.argv[1], sys.argv[2]
group_fd = os.open(f"/dev/vfio/{group}", os.O_RDWR)
container_fd = os.open("/dev/vfio/vfio", os.O_RDWR)
container = ctypes.c_int(container_fd)
ioctl(group_fd, VFIO_GROUP_SET_CONTAINER, ctypes.addressof(container))
ioctl(container_fd, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU)
device_fd = ioctl(group_fd, VFIO_GROUP_GET_DEVICE_FD, ctypes.cast(ctypes.c_char_p(address.encode()), ctypes.c_void_p))
print("holding", device_fd, flush=True)
while True:
    time.sleep(60)
