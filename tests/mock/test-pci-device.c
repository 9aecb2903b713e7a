/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <glib.h>
#include <umockdev.h>

#include "pci-device-sysfs.h"
#include "pci-testbed.h"

typedef struct {
        UMockdevTestbed *tb;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data)
{
        f->tb = pci_testbed_new();

        /* A NIC on its driver, a device with no driver, and a conventional
         * bridge sharing its group with the endpoint behind it. */
        g_free(pci_testbed_add(f->tb, &(PciFixture){ "0000:00:04.0", NULL, "0x8086", "0x100e", "0x020000",
                                                     "e1000", 3, NULL }));
        g_free(pci_testbed_add(f->tb, &(PciFixture){ "0000:00:03.0", NULL, "0x1234", "0x11e8", "0x00ff00",
                                                     NULL, 2, NULL }));
        g_free(pci_testbed_add(f->tb, &(PciFixture){ "0000:00:06.0", NULL, "0x1b36", "0x0001", "0x060400",
                                                     NULL, 5, NULL }));
        g_free(pci_testbed_add(f->tb, &(PciFixture){ "0000:01:01.0", "/devices/pci0000:00/0000:00:06.0",
                                                     "0x1234", "0x11e8", "0x00ff00", NULL, 5, NULL }));
        g_free(pci_testbed_add(f->tb, &(PciFixture){ "0000:00:02.0", NULL, "0x1234", "0x1111", "0x030000",
                                                     "bochs-drm", -1, "1" }));
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
        g_clear_object(&f->tb);
}

static void test_endpoint_with_driver(Fixture *f, gconstpointer data)
{
        PciDevice *p = NULL;

        g_assert_cmpint(pci_device_new_from_address("00:04.0", &p), ==, 0);
        g_assert_cmpstr(p->address, ==, "0000:00:04.0");
        g_assert_cmpuint(p->vendor_id, ==, 0x8086);
        g_assert_cmpuint(p->device_id, ==, 0x100e);
        g_assert_cmpuint(p->class_code, ==, 0x020000);
        g_assert_cmpuint(p->subsystem_vendor_id, ==, 0x1af4);
        g_assert_cmpstr(p->driver, ==, "e1000");
        g_assert_cmpint(p->iommu_group, ==, 3);
        g_assert_false(p->boot_vga);
        g_assert_false(pci_device_is_bridge(p));
        pci_device_free(p);
}

static void test_unbound_endpoint(Fixture *f, gconstpointer data)
{
        PciDevice *p = NULL;

        g_assert_cmpint(pci_device_new_from_address("0000:00:03.0", &p), ==, 0);
        g_assert_null(p->driver);
        g_assert_cmpint(p->iommu_group, ==, 2);
        pci_device_free(p);
}

static void test_bridge_and_behind(Fixture *f, gconstpointer data)
{
        PciDevice *bridge = NULL, *behind = NULL;

        g_assert_cmpint(pci_device_new_from_address("0000:00:06.0", &bridge), ==, 0);
        g_assert_true(pci_device_is_bridge(bridge));
        g_assert_cmpint(pci_device_new_from_address("0000:01:01.0", &behind), ==, 0);
        g_assert_false(pci_device_is_bridge(behind));
        g_assert_cmpint(bridge->iommu_group, ==, behind->iommu_group);
        g_assert_true(g_str_has_suffix(behind->syspath, "/0000:00:06.0/0000:01:01.0"));
        pci_device_free(bridge);
        pci_device_free(behind);
}

static void test_boot_vga_without_iommu(Fixture *f, gconstpointer data)
{
        PciDevice *p = NULL;

        g_assert_cmpint(pci_device_new_from_address("00:02.0", &p), ==, 0);
        g_assert_true(p->boot_vga);
        g_assert_cmpint(p->iommu_group, ==, PCI_IOMMU_GROUP_NONE);
        g_assert_cmpstr(p->driver, ==, "bochs-drm");
        pci_device_free(p);
}

static void test_missing_and_invalid(Fixture *f, gconstpointer data)
{
        PciDevice *p = NULL;

        g_assert_cmpint(pci_device_new_from_address("0000:00:09.0", &p), ==, -ENODEV);
        g_assert_cmpint(pci_device_new_from_address("../../../etc", &p), ==, -EINVAL);
        g_assert_null(p);
}

int main(int argc, char *argv[])
{
        g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
        ADD("/pci-device/endpoint-with-driver", test_endpoint_with_driver);
        ADD("/pci-device/unbound-endpoint", test_unbound_endpoint);
        ADD("/pci-device/bridge-and-behind", test_bridge_and_behind);
        ADD("/pci-device/boot-vga-without-iommu", test_boot_vga_without_iommu);
        ADD("/pci-device/missing-and-invalid", test_missing_and_invalid);
        return g_test_run();
}
