#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# vfio-hold.py ADDRESS GROUP: open the device through VFIO as a VMM would
# (group, container, type1 IOMMU, device fd), print "holding", and keep it
# open until killed. While a process holds the device fd, unbinding the
# device from vfio-pci blocks in the kernel: a real stuck step.
import ctypes
import sys
import time

from vfio_uapi import VFIO_GROUP_GET_DEVICE_FD, group_in_container, ioctl

address, group = sys.argv[1], sys.argv[2]
group_fd, container_fd = group_in_container(group)
device_fd = ioctl(group_fd, VFIO_GROUP_GET_DEVICE_FD, ctypes.cast(ctypes.c_char_p(address.encode()), ctypes.c_void_p))
print("holding", device_fd, flush=True)
while True:
    time.sleep(60)
