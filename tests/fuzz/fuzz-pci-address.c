/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pci-address.h"

/* Any string either fails to parse or parses to an address that formats
 * and parses back to itself. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = strndup((const char *)data, size);
        char formatted[PCI_ADDRESS_STRING_MAX];
        PciAddress a, b;

        if (!s)
                return 0;
        if (pci_address_parse(s, &a) == 0) {
                pci_address_format(&a, formatted);
                assert(strlen(formatted) < PCI_ADDRESS_STRING_MAX);
                assert(pci_address_parse(formatted, &b) == 0);
                assert(pci_address_equal(&a, &b));
        }
        free(s);
        return 0;
}
