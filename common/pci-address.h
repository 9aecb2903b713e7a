/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* A PCI function's address: domain:bus:slot.function. */
typedef struct PciAddress {
        uint32_t domain;
        uint8_t bus;
        uint8_t slot;     /* 0x00..0x1f */
        uint8_t function; /* 0..7 */
} PciAddress;

/* "0000:00:00.0", or a longer domain (VMD uses 10000 and up), plus NUL. */
#define PCI_ADDRESS_STRING_MAX (8 + 1 + 2 + 1 + 2 + 1 + 1 + 1)

/* How to write one, for messages that refuse what is not. */
#define PCI_ADDRESS_FORMS "use the form 0000:01:00.0 or 01:00.0"

/* Parses the full form ("0000:01:00.0", 4 to 8 hex digits of domain) or the
 * short form ("01:00.0", domain 0), in either case. Anything else, including
 * surrounding white space, is -EINVAL. */
int pci_address_parse(const char *s, PciAddress *ret);

/* Writes the normalised sysfs form: lower case, the domain in at least four
 * digits. Returns buf. */
char *pci_address_format(const PciAddress *a, char buf[static PCI_ADDRESS_STRING_MAX]);

/* Parses and formats in one go: out receives the normalised form. */
int pci_address_normalize(const char *s, char out[static PCI_ADDRESS_STRING_MAX]);

bool pci_address_equal(const PciAddress *a, const PciAddress *b);
