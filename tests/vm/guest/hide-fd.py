#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# hide-fd.py PATH: open PATH, send the fd over a socket that nobody reads
# (SCM_RIGHTS), close it, and leave behind a process that holds only the
# socket: no /proc/PID/fd names PATH, yet the file stays open until that
# process is killed. Prints "holder PID". What a lessee who means harm can
# do with a cdev, to bind it under the next lease.
import os
import signal
import socket
import sys

fd = os.open(sys.argv[1], os.O_RDWR)
sender, receiver = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
socket.send_fds(sender, [b"x"], [fd])
os.close(fd)
pid = os.fork()
if pid == 0:
    keep = {sender.fileno(), receiver.fileno()}
    for name in os.listdir("/proc/self/fd"):
        if int(name) not in keep:
            try:
                os.close(int(name))
            except OSError:
                pass
    signal.pause()
    os._exit(0)
print("holder", pid, flush=True)
