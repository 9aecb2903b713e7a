/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <glib.h>

#include "pci-address.h"

static void test_valid(void)
{
        static const struct {
                const char *input, *normalized;
        } cases[] = {
                { "0000:01:00.0", "0000:01:00.0" },
                { "01:00.0", "0000:01:00.0" },
                { "0000:00:1f.3", "0000:00:1f.3" },
                { "0000:00:1F.3", "0000:00:1f.3" },
                { "00:1F.7", "0000:00:1f.7" },
                { "ABCD:EF:1e.2", "abcd:ef:1e.2" },
                { "10000:e1:00.0", "10000:e1:00.0" }, /* VMD domain */
                { "ffffffff:ff:1f.7", "ffffffff:ff:1f.7" },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                char out[PCI_ADDRESS_STRING_MAX];
                g_assert_cmpint(pci_address_normalize(cases[i].input, out), ==, 0);
                g_assert_cmpstr(out, ==, cases[i].normalized);
        }
}

static void test_fields(void)
{
        PciAddress a;

        g_assert_cmpint(pci_address_parse("0002:3a:1c.5", &a), ==, 0);
        g_assert_cmpuint(a.domain, ==, 2);
        g_assert_cmpuint(a.bus, ==, 0x3a);
        g_assert_cmpuint(a.slot, ==, 0x1c);
        g_assert_cmpuint(a.function, ==, 5);
}

static void test_invalid(void)
{
        static const char *const cases[] = {
                "",
                "0",
                "01:00",
                "01:00.",
                "01:00.8",      /* function out of range */
                "00:20.0",      /* slot out of range */
                "1:00.0",       /* bus needs two digits */
                "000:01:00.0",  /* domain needs four digits */
                "123456789:01:00.0",
                "0000:01:00.0 ",
                " 0000:01:00.0",
                "0000:01:00.0\n",
                "0000:01:00.00",
                "0000:001:00.0",
                "0000:01:000.0",
                "0000-01-00.0",
                "../../0000:01:00.0",
                "0000:01:00.0/../..",
                "0x00:01:00.0",
                "g000:01:00.0",
                "0000:0g:00.0",
                "00:00:00:00.0",
                "0000:01:00.-1",
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_test_message("input: '%s'", cases[i]);
                g_assert_cmpint(pci_address_parse(cases[i], NULL), ==, -EINVAL);
        }
        g_assert_cmpint(pci_address_parse(NULL, NULL), ==, -EINVAL);
}

static void test_equal(void)
{
        PciAddress a, b;

        g_assert_cmpint(pci_address_parse("01:00.0", &a), ==, 0);
        g_assert_cmpint(pci_address_parse("0000:01:00.0", &b), ==, 0);
        g_assert_true(pci_address_equal(&a, &b));
        g_assert_cmpint(pci_address_parse("0000:01:00.1", &b), ==, 0);
        g_assert_false(pci_address_equal(&a, &b));
}

int main(int argc, char *argv[])
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/pci-address/valid", test_valid);
        g_test_add_func("/pci-address/fields", test_fields);
        g_test_add_func("/pci-address/invalid", test_invalid);
        g_test_add_func("/pci-address/equal", test_equal);
        return g_test_run();
}
