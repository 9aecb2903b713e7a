#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# unused-answers.py BUS_ADDRESS N: on one connection, asks vfiod N times to
# raise the memlock limit of a process of our own, each a different one
# that dies while polkit thinks (the test's polkit answers after 4 s). Each
# call then fails before it takes polkit's answer. Then asks once more.
# Prints the error names of the first N calls, then on a line of its own
# that of the last one (or "answered").
import os
import signal
import sys
import time

import dbus
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

DBusGMainLoop(set_as_default=True)
bus = dbus.bus.BusConnection(sys.argv[1])
n = int(sys.argv[2])
manager = dbus.Interface(bus.get_object('io.github.vfiod1', '/io/github/vfiod1'), 'io.github.vfiod1.Manager')


def sleeper():
    pid = os.fork()
    if pid == 0:
        signal.pause()
        os._exit(0)
    return pid


loop = GLib.MainLoop()
errors = []


def failed(e):
    errors.append(e.get_dbus_name())
    if len(errors) == n:
        loop.quit()


pids = [sleeper() for _ in range(n)]
for pid in pids:
    fd = os.pidfd_open(pid)
    manager.RaiseMemlockLimit(dbus.types.UnixFd(fd), dbus.UInt64(64 << 10), timeout=20,
                              reply_handler=lambda *a: failed(dbus.exceptions.DBusException(name='answered')),
                              error_handler=failed)
    os.close(fd)
# vfiod has asked polkit about each once the calls are in; then they die.
GLib.timeout_add(1000, lambda: [os.kill(p, signal.SIGKILL) for p in pids] and False)
loop.run()
for pid in pids:
    os.waitpid(pid, 0)
print(' '.join(sorted(set(errors))))
try:
    manager.RaiseMemlockLimit(dbus.types.UnixFd(os.pidfd_open(os.getpid())), dbus.UInt64(64 << 10), timeout=2)
    print('answered')
except dbus.exceptions.DBusException as e:
    print(e.get_dbus_name())
    sys.stderr.write(e.get_dbus_message() + '\n')
