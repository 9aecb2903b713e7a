/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>
#include <systemd/sd-bus.h>

/* Who sent a method call: the uid and pid of its connection. */
int bus_sender_creds(sd_bus_message *msg, uid_t *ret_uid, pid_t *ret_pid);
int bus_sender_euid(sd_bus_message *msg, uid_t *ret);
