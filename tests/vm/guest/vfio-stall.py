#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# vfio-stall.py GROUP BLOCKDEV: hold IOMMU group GROUP's lock in the kernel,
# as the exit of a VMM does while the kernel unpins its memory, for as long
# as BLOCKDEV (a suspended device-mapper device) leaves reads waiting.
#
# The group joins a container with the type1 IOMMU. A thread maps pages of
# BLOCKDEV, mmap()ed, for DMA: the kernel pins them, which waits for their
# read, with the container's IOMMU lock held. Then the group fd is closed:
# its release takes the group's lock and waits for the IOMMU lock. Prints
# "closing" just before that close and "closed" once it returns, when the
# device answers again; exits 1 if the map did not wait.
import ctypes
import os
import sys
import threading
import time

from vfio_uapi import VFIO_DMA_MAP_FLAG_READ, VFIO_IOMMU_MAP_DMA, group_in_container, libc

PROT_READ, MAP_SHARED = 1, 1
SIZE = 1 << 20

libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]


class DmaMap(ctypes.Structure):
    _fields_ = [("argsz", ctypes.c_uint32), ("flags", ctypes.c_uint32), ("vaddr", ctypes.c_uint64),
                ("iova", ctypes.c_uint64), ("size", ctypes.c_uint64)]


def state_of(tid):
    try:
        with open(f"/proc/self/task/{tid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "gone"


group, blockdev = sys.argv[1], sys.argv[2]
group_fd, container_fd = group_in_container(group)
dev_fd = os.open(blockdev, os.O_RDONLY)
vaddr = libc.mmap(None, SIZE, PROT_READ, MAP_SHARED, dev_fd, 0)
if vaddr in (None, ctypes.c_void_p(-1).value):
    sys.exit(f"vfio-stall: mmap {blockdev}: {os.strerror(ctypes.get_errno())}")

mapped = {}


def map_dma():
    m = DmaMap(ctypes.sizeof(DmaMap), VFIO_DMA_MAP_FLAG_READ, vaddr, 1 << 30, SIZE)
    r = libc.ioctl(container_fd, VFIO_IOMMU_MAP_DMA, ctypes.addressof(m))
    mapped["result"] = os.strerror(ctypes.get_errno()) if r < 0 else "ok"


mapper = threading.Thread(target=map_dma)
mapper.start()
for _ in range(100):
    if "result" in mapped or state_of(mapper.native_id) == "D":
        break
    time.sleep(0.1)
if "result" in mapped or state_of(mapper.native_id) != "D":
    print("the map did not wait:", mapped.get("result", "not in the kernel"), flush=True)
    sys.exit(1)
print("closing", flush=True)
os.close(group_fd)
print("closed", flush=True)
mapper.join()
print("map:", mapped["result"], flush=True)
