/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* Which devices vfiod-early put on vfio-pci in this boot. It marks each in
 * /run, which is gone at the next boot as its overrides are. A device on
 * vfio-pci by its driver_override without the mark was put there by
 * someone else (driverctl, a modprobe rule, the administrator): when its
 * reservation goes, vfiod gives it back to vfio-pci, not to a host driver. */

#define EARLY_MARK_DIR "/run/vfiod-early"

int early_mark_set(const char *address);
bool early_mark_present(const char *address);
/* The hold is over: vfiod handed the device to the host. 0 also when
 * there was no mark. */
int early_mark_clear(const char *address);
