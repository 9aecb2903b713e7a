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

/* Functions the host's own platform drivers need: host bridges, ISA/LPC
 * bridges, SMBus controllers, IOMMUs and the other system peripherals
 * (interrupt, DMA and timer controllers, RTC, event collectors). They
 * never move, whoever asks. What the function is, or NULL. */
static inline const char *pci_class_platform_role(uint32_t class_code)
{
        switch (class_code >> 8) {
        case 0x0600:
                return "a host bridge";
        case 0x0601:
                return "an ISA/LPC bridge";
        case 0x0c05:
                return "an SMBus controller";
        case 0x0806:
                return "an IOMMU";
        case 0x0800:
                return "an interrupt controller";
        case 0x0801:
                return "a DMA controller";
        case 0x0802:
                return "a system timer";
        case 0x0803:
                return "a real-time clock";
        case 0x0807:
                return "a root complex event collector";
        case 0x0880:
                return "a system peripheral";
        default:
                return NULL;
        }
}
