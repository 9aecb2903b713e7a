/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "diagnosis.h"

/* The judging half of doctor, on facts made up here. */

static GroupMember edu[] = { { "0000:00:03.0", 0x00ff00 } };
static GroupMember multifunction[] = { { "0000:00:05.0", 0x020000 }, { "0000:00:05.1", 0x00ff00 } };
static GroupMember bridged[] = { { "0000:00:06.0", 0x060400 }, { "0000:01:01.0", 0x00ff00 } };
static GroupMember mixed[] = { { "0000:00:1c.0", 0x060400 }, { "0000:02:00.0", 0x030000 },
                               { "0000:03:00.0", 0x0c0330 } };

static HostFacts healthy(void)
{
        static GroupFacts groups[] = {
                { 2, edu, G_N_ELEMENTS(edu) },
                { 4, multifunction, G_N_ELEMENTS(multifunction) },
                { 5, bridged, G_N_ELEMENTS(bridged) },
        };
        return (HostFacts){
                .cmdline = (char *)"root=/dev/vda intel_iommu=on",
                .acpi_dmar = true,
                .n_iommu_units = 1,
                .interrupt_remapping = 1,
                .vfio_pci_loaded = true,
                .vfio_pci_available = 1,
                .vfio_cdev = 1,
                .iommufd = 1,
                .vfio_container_exists = true,
                .vfio_container_mode = 0020666,
                .memlock_known = true,
                .memlock_soft = UINT64_MAX,
                .memlock_hard = UINT64_MAX,
                .groups = groups,
                .n_groups = G_N_ELEMENTS(groups),
        };
}

static const Finding *find(const Diagnosis *d, const char *check)
{
        for (size_t i = 0; i < d->n_findings; i++)
                if (g_str_equal(d->findings[i].check, check))
                        return &d->findings[i];
        return NULL;
}

static Diagnosis *evaluate(const HostFacts *f)
{
        Diagnosis *d = NULL;
        g_assert_cmpint(diagnosis_evaluate(f, &d), ==, 0);
        return d;
}

static void test_healthy(void)
{
        HostFacts f = healthy();
        Diagnosis *d = evaluate(&f);

        g_assert_false(diagnosis_has_errors(d));
        for (size_t i = 0; i < d->n_findings; i++) {
                g_test_message("%s: %s", d->findings[i].check, d->findings[i].summary);
                g_assert_cmpint(d->findings[i].severity, ==, FINDING_OK);
        }
        g_assert_nonnull(find(d, "iommu-enabled"));
        g_assert_nonnull(find(d, "group-isolation")); /* bridges and one slot's functions do not mix */
        g_assert_null(find(d, "acs-override"));
        diagnosis_free(d);
}

static void test_firmware_iommu_not_enabled(void)
{
        HostFacts f = healthy();
        Diagnosis *d;
        const Finding *x;

        f.n_groups = 0;
        f.cmdline = (char *)"root=/dev/vda intel_iommu=off";
        d = evaluate(&f);
        x = find(d, "iommu-enabled");
        g_assert_cmpint(x->severity, ==, FINDING_ERROR);
        g_assert_nonnull(strstr(x->summary, "the kernel did not enable it"));
        g_assert_nonnull(strstr(x->remedy, "replace intel_iommu=off with intel_iommu=on in the kernel command line"));
        g_assert_true(diagnosis_has_errors(d));
        g_assert_null(find(d, "interrupt-remapping")); /* meaningless without an IOMMU */
        diagnosis_free(d);
}

static void test_no_iommu_in_firmware(void)
{
        HostFacts f = healthy();
        Diagnosis *d;
        const Finding *x;

        f = (HostFacts){ .cpu_amd = true, .cmdline = (char *)"quiet", .interrupt_remapping = -1 };
        d = evaluate(&f);
        x = find(d, "iommu-enabled");
        g_assert_cmpint(x->severity, ==, FINDING_ERROR);
        g_assert_nonnull(strstr(x->summary, "no ACPI DMAR or IVRS"));
        g_assert_nonnull(strstr(x->remedy, "firmware setup"));
        g_assert_null(strstr(x->remedy, "amd_iommu")); /* AMD-Vi has no "on" option */
        diagnosis_free(d);
}

/* How to change the command line is said in this host's own terms. */
static void test_iommu_advice_per_host(void)
{
        HostFacts f = healthy();
        Diagnosis *d;

        f.n_groups = 0;
        f.acpi_dmar = true;
        f.cmdline = (char *)"quiet";
        f.cmdline_tool = CMDLINE_GRUB_UPDATE;
        d = evaluate(&f);
        g_assert_nonnull(strstr(find(d, "iommu-enabled")->remedy,
                                "add intel_iommu=on to GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub"));
        diagnosis_free(d);

        f.cmdline_tool = CMDLINE_GRUBBY;
        d = evaluate(&f);
        g_assert_nonnull(strstr(find(d, "iommu-enabled")->remedy, "grubby --update-kernel=ALL --args=intel_iommu=on"));
        g_assert_null(strstr(find(d, "iommu-enabled")->remedy, "update-grub"));
        diagnosis_free(d);

        f.cmdline_tool = CMDLINE_KERNEL_INSTALL;
        f.cmdline = (char *)"quiet iommu=off";
        d = evaluate(&f);
        g_assert_nonnull(strstr(find(d, "iommu-enabled")->remedy,
                                "replace iommu=off with intel_iommu=on in /etc/kernel/cmdline"));
        diagnosis_free(d);

        /* Intel with intel_iommu=on already: nothing more to add. */
        f.cmdline_tool = CMDLINE_GRUB_UPDATE;
        f.cmdline = (char *)"quiet intel_iommu=on";
        d = evaluate(&f);
        g_assert_null(strstr(find(d, "iommu-enabled")->remedy, "add intel_iommu=on"));
        g_assert_nonnull(strstr(find(d, "iommu-enabled")->remedy, "intel_iommu=on is there already"));
        diagnosis_free(d);

        /* AMD with IVRS: nothing to add; an off option to remove, if any. */
        f = healthy();
        f.n_groups = 0;
        f.cpu_amd = true;
        f.acpi_dmar = false;
        f.acpi_ivrs = true;
        f.cmdline = (char *)"quiet";
        d = evaluate(&f);
        g_assert_nonnull(strstr(find(d, "iommu-enabled")->remedy, "AMD-Vi needs no kernel option"));
        diagnosis_free(d);
        f.cmdline = (char *)"quiet amd_iommu=off";
        f.cmdline_tool = CMDLINE_GRUBBY;
        d = evaluate(&f);
        g_assert_nonnull(strstr(find(d, "iommu-enabled")->remedy, "grubby --update-kernel=ALL --remove-args=amd_iommu=off"));
        g_assert_null(strstr(find(d, "iommu-enabled")->remedy, "--args="));
        diagnosis_free(d);
}

static void test_mixed_group(void)
{
        GroupFacts groups[] = { { 2, edu, G_N_ELEMENTS(edu) }, { 11, mixed, G_N_ELEMENTS(mixed) } };
        HostFacts f = healthy();
        Diagnosis *d;
        const Finding *x;

        f.groups = groups;
        f.n_groups = G_N_ELEMENTS(groups);
        d = evaluate(&f);
        x = find(d, "group-isolation");
        g_assert_cmpint(x->severity, ==, FINDING_WARNING);
        g_assert_nonnull(strstr(x->summary, "IOMMU group 11"));
        g_assert_nonnull(strstr(x->summary, "0000:02:00.0, 0000:03:00.0"));
        g_assert_null(strstr(x->summary, "0000:00:1c.0")); /* the root port only routes */
        g_assert_false(diagnosis_has_errors(d));
        diagnosis_free(d);
}

static void test_warnings(void)
{
        HostFacts f = healthy();
        Diagnosis *d;

        f.cmdline = (char *)"intel_iommu=on pcie_acs_override=downstream,multifunction";
        f.interrupt_remapping = 0;
        f.vfio_container_mode = 0020600;
        f.memlock_soft = f.memlock_hard = 8 << 20;
        f.vfio_pci_loaded = false;
        strcpy(f.boot_vga, "0000:00:02.0");
        f.boot_vga_driver = (char *)"bochs-drm";
        d = evaluate(&f);

        g_assert_cmpint(find(d, "acs-override")->severity, ==, FINDING_WARNING);
        g_assert_cmpint(find(d, "interrupt-remapping")->severity, ==, FINDING_WARNING);
        g_assert_cmpint(find(d, "vfio-container")->severity, ==, FINDING_WARNING);
        g_assert_nonnull(strstr(find(d, "vfio-container")->summary, "0600"));
        g_assert_cmpint(find(d, "memlock")->severity, ==, FINDING_WARNING);
        g_assert_nonnull(strstr(find(d, "memlock")->summary, "8 MiB"));
        g_assert_nonnull(strstr(find(d, "memlock")->summary, "Cannot allocate memory"));
        g_assert_cmpint(find(d, "vfio-pci")->severity, ==, FINDING_INFO);
        g_assert_nonnull(strstr(find(d, "boot-vga")->summary, "0000:00:02.0 is the boot VGA (driver bochs-drm)"));
        g_assert_false(diagnosis_has_errors(d));
        diagnosis_free(d);
}

/* Not loaded: whether the kernel has it is known only where the module
 * tree is in sight, and vfiod's unit hides it. */
static void test_vfio_pci_unknown(void)
{
        HostFacts f = healthy();
        const Finding *x;
        Diagnosis *d;

        f.vfio_pci_loaded = false;
        f.vfio_pci_available = -1;
        d = evaluate(&f);
        x = find(d, "vfio-pci");
        g_assert_cmpint(x->severity, ==, FINDING_WARNING);
        g_assert_nonnull(strstr(x->summary, "cannot be seen"));
        g_assert_nonnull(strstr(x->remedy, "systemctl restart vfiod"));
        diagnosis_free(d);

        f.vfio_pci_available = 0;
        d = evaluate(&f);
        g_assert_cmpint(find(d, "vfio-pci")->severity, ==, FINDING_ERROR);
        g_assert_true(diagnosis_has_errors(d));
        diagnosis_free(d);
}

/* Device cdevs are for claim --cdev only: their absence is said, never
 * an error; before vfio loads nobody can tell. */
static void test_vfio_cdev(void)
{
        HostFacts f = healthy();
        const Finding *x;
        Diagnosis *d = evaluate(&f);

        g_assert_cmpint(find(d, "vfio-cdev")->severity, ==, FINDING_OK);
        diagnosis_free(d);

        f.vfio_cdev = 0;
        d = evaluate(&f);
        x = find(d, "vfio-cdev");
        g_assert_cmpint(x->severity, ==, FINDING_INFO);
        g_assert_cmpstr(x->summary, ==,
                        "This kernel has no VFIO device cdevs: claims hand groups over (--fd, --chown), not device "
                        "cdevs (--cdev).");
        g_assert_nonnull(strstr(x->remedy, "CONFIG_VFIO_DEVICE_CDEV"));
        g_assert_false(diagnosis_has_errors(d));
        diagnosis_free(d);

        f.iommufd = 0;
        d = evaluate(&f);
        g_assert_nonnull(strstr(find(d, "vfio-cdev")->summary, "no VFIO device cdevs and no iommufd (/dev/iommu)"));
        diagnosis_free(d);

        f.vfio_cdev = f.iommufd = -1;
        d = evaluate(&f);
        x = find(d, "vfio-cdev");
        g_assert_cmpint(x->severity, ==, FINDING_INFO);
        g_assert_nonnull(strstr(x->summary, "vfio is not loaded yet"));
        diagnosis_free(d);
}

/* A desktop's GPU: what decides whether it comes back from a VM, and
 * whether a guest can map it. */
static void test_gpus(void)
{
        GpuFacts gpus[] = {
                { .address = "0000:01:00.0", .reset_methods = RESET_METHOD_BUS, .largest_bar = UINT64_C(16) << 30,
                  .bar_total = (UINT64_C(16) << 30) + (UINT64_C(32) << 20),
                  .largest_bar_offered = UINT64_C(32) << 30 },
                { .address = "0000:02:00.0", .reset_methods = 0, .largest_bar = UINT64_C(256) << 20,
                  .bar_total = UINT64_C(272) << 20 },
                { .address = "0000:03:00.0", .reset_methods = RESET_METHOD_FLR, .largest_bar = UINT64_C(32) << 30,
                  .bar_total = (UINT64_C(32) << 30) + (UINT64_C(32) << 20) },
        };
        HostFacts f = healthy();
        const Finding *x;
        Diagnosis *d;
        size_t bars = 0;

        f.gpus = gpus;
        f.n_gpus = G_N_ELEMENTS(gpus);
        f.has_firmware_fb = true;
        f.firmware_fb = (FirmwareFb){ "efi-framebuffer.0", "efi-framebuffer", "0000:02:00.0" };
        f.vfio_pci_builtin = true;
        d = evaluate(&f);

        x = find(d, "gpu-reset"); /* only the GPU without a method */
        g_assert_cmpint(x->severity, ==, FINDING_WARNING);
        g_assert_nonnull(strstr(x->summary, "GPU 0000:02:00.0 has no reset method"));
        for (size_t i = 0; i < d->n_findings; i++)
                if (g_str_equal(d->findings[i].check, "gpu-reset"))
                        g_assert_null(strstr(d->findings[i].summary, "0000:01:00.0"));

        for (size_t i = 0; i < d->n_findings; i++) {
                x = &d->findings[i];
                if (!g_str_equal(x->check, "gpu-bars"))
                        continue;
                bars++;
                if (strstr(x->summary, "0000:01:00.0")) {
                        g_assert_nonnull(strstr(x->summary, "a 16 GiB BAR, resizable up to 32 GiB"));
                        g_assert_cmpint(x->severity, ==, FINDING_INFO); /* it fits in OVMF's 32 GiB */
                } else {
                        g_assert_nonnull(strstr(x->summary, "GPU 0000:03:00.0 has a 32 GiB BAR, 32.0 GiB of BARs in all"));
                        g_assert_cmpint(x->severity, ==, FINDING_WARNING); /* it does not */
                        g_assert_nonnull(strstr(x->remedy, "X-PciMmio64Mb"));
                }
        }
        g_assert_cmpuint(bars, ==, 2); /* 256 MiB is no large BAR */

        x = find(d, "firmware-framebuffer");
        g_assert_nonnull(strstr(x->summary, "0000:02:00.0 carries the firmware framebuffer (efi-framebuffer.0, "
                                            "driver efi-framebuffer)"));
        g_assert_nonnull(strstr(find(d, "vfio-pci")->summary, "built into the kernel"));
        g_assert_nonnull(strstr(find(d, "vfio-pci")->summary, "vfio-pci.ids="));
        g_assert_false(diagnosis_has_errors(d));
        diagnosis_free(d);
}

static void test_severity_names(void)
{
        for (int s = FINDING_OK; s <= FINDING_ERROR; s++)
                g_assert_cmpint(finding_severity_from_string(finding_severity_to_string(s)), ==, s);
        g_assert_cmpint(finding_severity_from_string("fatal"), <, 0);
}

int main(int argc, char *argv[])
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/diagnosis/healthy", test_healthy);
        g_test_add_func("/diagnosis/firmware-iommu-not-enabled", test_firmware_iommu_not_enabled);
        g_test_add_func("/diagnosis/no-iommu-in-firmware", test_no_iommu_in_firmware);
        g_test_add_func("/diagnosis/mixed-group", test_mixed_group);
        g_test_add_func("/diagnosis/warnings", test_warnings);
        g_test_add_func("/diagnosis/iommu-advice-per-host", test_iommu_advice_per_host);
        g_test_add_func("/diagnosis/vfio-pci-unknown", test_vfio_pci_unknown);
        g_test_add_func("/diagnosis/vfio-cdev", test_vfio_cdev);
        g_test_add_func("/diagnosis/gpus", test_gpus);
        g_test_add_func("/diagnosis/severity-names", test_severity_names);
        return g_test_run();
}
