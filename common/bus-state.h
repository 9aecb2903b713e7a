/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* What a group or a device is, as its State property says on the bus
 * (dbus/io.github.vfiod1.Group.xml, Device.xml): the one vocabulary of the
 * daemon and the client. While vfiod holds or moves a group, the group and
 * its endpoints show vfiod's claim; otherwise what their drivers are. */

typedef enum BusState {
        /* By the drivers. */
        BUS_STATE_HOST,    /* a host driver (a group: on some endpoint) */
        BUS_STATE_VFIO,    /* vfio-pci or pci-stub (a group: on every endpoint) */
        BUS_STATE_UNBOUND, /* no driver (a group: on no endpoint) */
        BUS_STATE_MIXED,   /* a group only: viable, partly on vfio-pci */
        /* By vfiod's claim. */
        BUS_STATE_CLAIMING,
        BUS_STATE_CLAIMED,   /* on vfio-pci, under a lease */
        BUS_STATE_RESERVED,  /* on vfio-pci for a reservation, with no lease */
        BUS_STATE_RELEASING,
        BUS_STATE_HELD,      /* the lease ended, a process still holds it open */
        BUS_STATE_STUCK,     /* a step has not returned */
        BUS_STATE_FAILED,    /* undoing or releasing failed: the claim is kept */
        _BUS_STATE_MAX,
        _BUS_STATE_INVALID = -1,
} BusState;

const char *bus_state_to_string(BusState s);
/* _BUS_STATE_INVALID for a word that is none of them (a newer daemon's). */
BusState bus_state_from_string(const char *s);

/* Whether vfiod holds the group or moves it: it is not back yet. */
static inline bool bus_state_is_claim(BusState s)
{
        return s >= BUS_STATE_CLAIMING && s < _BUS_STATE_MAX;
}
