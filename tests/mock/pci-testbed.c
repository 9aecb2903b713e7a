/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "pci-testbed.h"

/* "../" once per path component below /sys, to reach /sys from devpath. */
static char *up_to_sys(const char *devpath)
{
        GString *s = g_string_new("");
        for (const char *p = devpath; *p; p++)
                if (*p == '/')
                        g_string_append(s, "../");
        return g_string_free(s, FALSE);
}

static void mkdir_in_sys(UMockdevTestbed *tb, const char *rel)
{
        g_autofree char *sys = umockdev_testbed_get_sys_dir(tb);
        g_autofree char *path = g_build_filename(sys, rel, NULL);
        g_assert_cmpint(g_mkdir_with_parents(path, 0755), ==, 0);
}

static void symlink_in_sys(UMockdevTestbed *tb, const char *target, const char *rel)
{
        g_autofree char *sys = umockdev_testbed_get_sys_dir(tb);
        g_autofree char *path = g_build_filename(sys, rel, NULL);
        g_assert_cmpint(symlink(target, path), ==, 0);
}

UMockdevTestbed *pci_testbed_new(void)
{
        const char *preload = g_getenv("LD_PRELOAD");
        UMockdevTestbed *tb;

        /* umockdev_in_mock_environment() says only that a testbed was made,
         * which it can be without the preload that redirects /sys to it. */
        if (!preload || !strstr(preload, "libumockdev-preload"))
                g_error("This test runs vfiod against a umockdev testbed: run it under umockdev-wrapper (meson test "
                        "does), never on this machine's own /sys.");
        tb = umockdev_testbed_new();
        g_assert_true(umockdev_in_mock_environment());
        mkdir_in_sys(tb, "bus/pci/drivers/vfio-pci");
        return tb;
}

void pci_testbed_set_driver(UMockdevTestbed *tb, const char *devpath, const char *driver)
{
        g_autofree char *sys = umockdev_testbed_get_sys_dir(tb);
        g_autofree char *link = g_build_filename(sys, devpath + strlen("/sys"), "driver", NULL);
        g_autofree char *up = up_to_sys(devpath + strlen("/sys"));

        (void)unlink(link);
        if (driver) {
                g_autofree char *drv = g_strdup_printf("bus/pci/drivers/%s", driver);
                g_autofree char *target = g_strdup_printf("%s%s", up, drv);
                mkdir_in_sys(tb, drv);
                g_assert_cmpint(symlink(target, link), ==, 0);
        }
}

char *pci_testbed_add(UMockdevTestbed *tb, const PciFixture *f)
{
        g_autofree char *devpath = g_strdup_printf("%s/%s", f->parent ? f->parent : "/devices/pci0000:00",
                                                   f->address);
        g_autofree char *up = up_to_sys(devpath);
        g_autoptr(GString) record = g_string_new(NULL);
        g_autoptr(GError) error = NULL;

        g_string_append_printf(record, "P: %s\nE: SUBSYSTEM=pci\nE: PCI_SLOT_NAME=%s\n", devpath, f->address);
        g_string_append_printf(record, "A: vendor=%s\nA: device=%s\nA: class=%s\n", f->vendor, f->device,
                               f->class);
        g_string_append(record, "A: subsystem_vendor=0x1af4\nA: subsystem_device=0x1100\n");
        g_string_append(record, "A: driver_override=(null)\n");
        if (f->boot_vga)
                g_string_append_printf(record, "A: boot_vga=%s\n", f->boot_vga);
        if (f->driver) {
                g_autofree char *drv = g_strdup_printf("bus/pci/drivers/%s", f->driver);
                mkdir_in_sys(tb, drv);
                g_string_append_printf(record, "E: DRIVER=%s\nL: driver=%s%s\n", f->driver, up, drv);
        }
        if (f->group >= 0) {
                g_autofree char *dir = g_strdup_printf("kernel/iommu_groups/%d/devices", f->group);
                mkdir_in_sys(tb, dir);
                g_string_append_printf(record, "L: iommu_group=%skernel/iommu_groups/%d\n", up, f->group);
        }
        /* umockdev sends the "add" uevent as it adds the device: the group's
         * member link must be there by then. */
        if (f->group >= 0) {
                g_autofree char *member = g_strdup_printf("kernel/iommu_groups/%d/devices/%s", f->group,
                                                          f->address);
                g_autofree char *target = g_strdup_printf("../../../..%s", devpath);
                symlink_in_sys(tb, target, member);
        }
        g_assert_true(umockdev_testbed_add_from_string(tb, record->str, &error));
        g_assert_no_error(error);
        return g_strdup_printf("/sys%s", devpath);
}
