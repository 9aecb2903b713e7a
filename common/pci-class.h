/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* class_code is the 24-bit class: base class, subclass, programming interface. */

/* PCI-to-PCI, CardBus and semi-transparent bridges route; they never move
 * with their group and never make a group "mixed". */
static inline bool pci_class_is_bridge(uint32_t class_code)
{
        uint32_t class = class_code >> 8;
        return class == 0x0604 || class == 0x0607 || class == 0x0609;
}
