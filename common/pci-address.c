/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "number.h"
#include "pci-address.h"

/* Exactly n hex digits at *p, then past them. */
static int read_hex(const char **p, size_t n, uint32_t *ret)
{
        int r = parse_hex_fixed(*p, n, ret);

        if (r >= 0)
                *p += n;
        return r;
}

int pci_address_parse(const char *s, PciAddress *ret)
{
        uint32_t domain = 0, bus, slot, function;
        const char *p = s;
        size_t n;

        if (!s)
                return -EINVAL;

        /* The domain is present when the first run of digits ends in ':'
         * and another ':' follows later: "DDDD:BB:SS.F". */
        n = count_hex_digits(p);
        if (p[n] == ':' && strchr(p + n + 1, ':')) {
                if (n < 4 || n > 8 || read_hex(&p, n, &domain) < 0)
                        return -EINVAL;
                p++;
        }
        if (count_hex_digits(p) != 2 || read_hex(&p, 2, &bus) < 0 || *p++ != ':')
                return -EINVAL;
        if (count_hex_digits(p) != 2 || read_hex(&p, 2, &slot) < 0 || *p++ != '.')
                return -EINVAL;
        if (*p < '0' || *p > '7' || p[1] != '\0')
                return -EINVAL;
        function = (uint32_t)(*p - '0');
        if (slot > 0x1f)
                return -EINVAL;

        if (ret)
                *ret = (PciAddress){
                        .domain = domain,
                        .bus = (uint8_t)bus,
                        .slot = (uint8_t)slot,
                        .function = (uint8_t)function,
                };
        return 0;
}

char *pci_address_format(const PciAddress *a, char buf[static PCI_ADDRESS_STRING_MAX])
{
        snprintf(buf, PCI_ADDRESS_STRING_MAX, "%04x:%02x:%02x.%u", a->domain, a->bus, a->slot, a->function);
        return buf;
}

int pci_address_normalize(const char *s, char out[static PCI_ADDRESS_STRING_MAX])
{
        PciAddress a;
        int r = pci_address_parse(s, &a);
        if (r < 0)
                return r;
        pci_address_format(&a, out);
        return 0;
}

bool pci_address_equal(const PciAddress *a, const PciAddress *b)
{
        return a->domain == b->domain && a->bus == b->bus && a->slot == b->slot && a->function == b->function;
}
