/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stddef.h>

#include "bus-state.h"
#include "number.h"

static const char *const names[_BUS_STATE_MAX] = {
        [BUS_STATE_HOST] = "host",           [BUS_STATE_VFIO] = "vfio",
        [BUS_STATE_UNBOUND] = "unbound",     [BUS_STATE_MIXED] = "mixed",
        [BUS_STATE_CLAIMING] = "claiming",   [BUS_STATE_CLAIMED] = "claimed",
        [BUS_STATE_RESERVED] = "reserved",   [BUS_STATE_RELEASING] = "releasing",
        [BUS_STATE_HELD] = "held",           [BUS_STATE_STUCK] = "stuck",
        [BUS_STATE_FAILED] = "failed",
};

const char *bus_state_to_string(BusState s)
{
        return s >= 0 && s < _BUS_STATE_MAX ? names[s] : NULL;
}

BusState bus_state_from_string(const char *s)
{
        int i = s ? string_table_lookup(names, _BUS_STATE_MAX, s) : -EINVAL;

        return i < 0 ? _BUS_STATE_INVALID : (BusState)i;
}
