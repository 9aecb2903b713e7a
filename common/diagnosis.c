/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diagnosis.h"
#include "size.h"
#include "macro.h"
#include "pci-class.h"

#define MEMLOCK_ENOUGH (UINT64_C(1) << 30) /* below this, most guests fail */

static const char *const severity_names[] = {
        [FINDING_OK] = "ok",
        [FINDING_INFO] = "info",
        [FINDING_WARNING] = "warning",
        [FINDING_ERROR] = "error",
};

const char *finding_severity_to_string(FindingSeverity s)
{
        return severity_names[s];
}

int finding_severity_from_string(const char *s)
{
        for (size_t i = 0; i < ELEMENTSOF(severity_names); i++)
                if (streq(s, severity_names[i]))
                        return (int)i;
        return -EINVAL;
}

int diagnosis_add(Diagnosis *d, const char *check, FindingSeverity severity, const char *summary,
                  const char *remedy)
{
        Finding *a = reallocarray(d->findings, d->n_findings + 1, sizeof(*a));
        Finding f = { .severity = severity };

        if (!a)
                return -ENOMEM;
        d->findings = a;
        f.check = strdup(check);
        f.summary = strdup(summary);
        f.remedy = remedy && remedy[0] ? strdup(remedy) : NULL;
        if (!f.check || !f.summary || (remedy && remedy[0] && !f.remedy)) {
                free(f.check);
                free(f.summary);
                free(f.remedy);
                return -ENOMEM;
        }
        a[d->n_findings++] = f;
        return 0;
}

/* diagnosis_add() with a formatted summary; remedy may be NULL. */
static int add(Diagnosis *d, const char *check, FindingSeverity severity, const char *remedy,
               const char *summary_fmt, ...) _printf_(5, 6);
static int add(Diagnosis *d, const char *check, FindingSeverity severity, const char *remedy,
               const char *summary_fmt, ...)
{
        _cleanup_free_ char *summary = NULL;
        va_list ap;
        int r;

        va_start(ap, summary_fmt);
        r = vasprintf(&summary, summary_fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        return diagnosis_add(d, check, severity, summary, remedy);
}

static bool cmdline_has(const HostFacts *f, const char *word)
{
        const char *p = f->cmdline;
        size_t n = strlen(word);

        while (p && (p = strstr(p, word))) {
                bool starts = p == f->cmdline || p[-1] == ' ';
                bool ends = p[n] == '\0' || p[n] == ' ' || p[n] == '\n' || word[n - 1] == '=';
                if (starts && ends)
                        return true;
                p += n;
        }
        return false;
}

/* How to take the option out (NULL: none) and put the option in (NULL:
 * none) on this host's kernel command line. */
static void cmdline_advice(const HostFacts *f, const char *out, const char *in, char *buf, size_t size)
{
        char what[128];

        if (f->cmdline_tool == CMDLINE_GRUBBY) {
                snprintf(buf, size, "run grubby --update-kernel=ALL%s%s%s%s", out ? " --remove-args=" : "",
                         strempty(out), in ? " --args=" : "", strempty(in));
                return;
        }
        if (out && in)
                snprintf(what, sizeof(what), "replace %s with %s in", out, in);
        else
                snprintf(what, sizeof(what), "%s %s %s", out ? "remove" : "add", out ?: in, out ? "from" : "to");
        snprintf(buf, size, "%s %s", what,
                 f->cmdline_tool == CMDLINE_GRUB_UPDATE ? "GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub"
                 : f->cmdline_tool == CMDLINE_KERNEL_INSTALL
                         ? "/etc/kernel/cmdline, reinstall the kernel's boot entry (kernel-install add)"
                         : "the kernel command line in the boot loader's configuration");
}

/* Which option turns the IOMMU off here, if any. */
static const char *iommu_off_option(const HostFacts *f)
{
        static const char *const off[] = { "intel_iommu=off", "amd_iommu=off", "iommu=off" };

        for (size_t i = 0; i < ELEMENTSOF(off); i++)
                if (cmdline_has(f, off[i]))
                        return off[i];
        return NULL;
}

/* The option to add, if any. AMD-Vi is on whenever the firmware describes
 * it (IVRS) and nothing turns it off: there is no option to add. Intel's
 * VT-d needs intel_iommu=on on kernels not built to turn it on by
 * themselves, unless it is there already. */
static const char *iommu_on_option(const HostFacts *f)
{
        if ((f->cpu_amd && !f->acpi_dmar) || cmdline_has(f, "intel_iommu=on"))
                return NULL;
        return "intel_iommu=on";
}

static int check_iommu(const HostFacts *f, Diagnosis *d)
{
        const char *off = iommu_off_option(f), *on = iommu_on_option(f);
        char how[256] = "", remedy[512];

        if (f->n_groups > 0)
                return add(d, "iommu-enabled", FINDING_OK, NULL, "The IOMMU is enabled: %zu IOMMU groups.",
                           f->n_groups);

        if (off || on)
                cmdline_advice(f, off, on, how, sizeof(how));
        if (!f->acpi_dmar && !f->acpi_ivrs && f->n_iommu_units == 0) {
                snprintf(remedy, sizeof(remedy), "Enable %s in the firmware setup%s%s, and reboot.",
                         f->cpu_amd ? "the IOMMU (AMD-Vi)" : "VT-d", how[0] ? "; " : "", how);
                return add(d, "iommu-enabled", FINDING_ERROR, remedy,
                           "The IOMMU is disabled: the firmware describes none (no ACPI DMAR or IVRS table) "
                           "and /sys/kernel/iommu_groups is empty.");
        }
        if (how[0])
                snprintf(remedy, sizeof(remedy), "To turn it on: %s, and reboot.", how);
        else if (f->cpu_amd && !f->acpi_dmar)
                snprintf(remedy, sizeof(remedy),
                         "AMD-Vi needs no kernel option: 'journalctl -k -b | grep AMD-Vi' says why the kernel left "
                         "it off; set the IOMMU to Enabled (not Auto) in the firmware setup.");
        else
                snprintf(remedy, sizeof(remedy),
                         "intel_iommu=on is there already: 'journalctl -k -b | grep DMAR' says why the kernel left "
                         "VT-d off; set VT-d to Enabled in the firmware setup.");
        return add(d, "iommu-enabled", FINDING_ERROR, remedy,
                   "The IOMMU is disabled: the firmware has one, but the kernel did not enable it "
                   "(/sys/kernel/iommu_groups is empty).");
}

static int check_interrupt_remapping(const HostFacts *f, Diagnosis *d)
{
        if (f->n_groups == 0 || f->interrupt_remapping < 0)
                return 0;
        if (f->interrupt_remapping)
                return add(d, "interrupt-remapping", FINDING_OK, NULL, "Interrupt remapping is enabled.");
        return add(d, "interrupt-remapping", FINDING_WARNING,
                   "Enable interrupt remapping (x2APIC) in the firmware setup. Only if you accept that a "
                   "device can then inject interrupts into the host: options vfio_iommu_type1 "
                   "allow_unsafe_interrupts=1 in /etc/modprobe.d/.",
                   "Interrupt remapping is off: VFIO refuses devices with MSI interrupts unless told to "
                   "allow unsafe interrupts.");
}

static int check_vfio_pci(const HostFacts *f, Diagnosis *d)
{
        if (f->vfio_pci_builtin)
                return add(d, "vfio-pci", FINDING_OK, NULL,
                           "The vfio-pci driver is built into the kernel: to hold a device from boot, vfio-pci.ids= "
                           "goes on the kernel command line (options in /etc/modprobe.d apply to modules only), "
                           "and it can never be unloaded.");
        if (f->vfio_pci_loaded)
                return add(d, "vfio-pci", FINDING_OK, NULL, "The vfio-pci driver is loaded (a module).");
        if (f->vfio_pci_available > 0)
                return add(d, "vfio-pci", FINDING_INFO, NULL,
                           "The vfio-pci driver is available, not loaded: vfiod loads it on the first claim.");
        if (f->vfio_pci_available < 0)
                return add(d, "vfio-pci", FINDING_WARNING,
                           "Run 'modprobe vfio-pci' as root: if it loads, 'systemctl restart vfiod' lets vfiod use "
                           "it; if not, install a kernel built with CONFIG_VFIO_PCI (Debian's linux-image-amd64 is).",
                           "The vfio-pci driver is not loaded, and whether this kernel has it cannot be seen from "
                           "here (/lib/modules is out of sight, as in vfiod's sandbox).");
        return add(d, "vfio-pci", FINDING_ERROR,
                   "Install a kernel built with CONFIG_VFIO_PCI (Debian's linux-image-amd64 is).",
                   "The vfio-pci driver is missing from this kernel.");
}

static int check_vfio_container(const HostFacts *f, Diagnosis *d)
{
        if (!f->vfio_container_exists)
                return add(d, "vfio-container", FINDING_INFO, NULL,
                           "/dev/vfio/vfio does not exist yet: it appears when the vfio module loads.");
        if ((f->vfio_container_mode & 0777) == 0666)
                return add(d, "vfio-container", FINDING_OK, NULL, "/dev/vfio/vfio is usable by everyone (0666).");
        return add(d, "vfio-container", FINDING_WARNING,
                   "chmod 0666 /dev/vfio/vfio: the container node is safe to share, udev normally sets this.",
                   "/dev/vfio/vfio has mode %04o: users cannot open a VFIO container.",
                   (unsigned)(f->vfio_container_mode & 07777));
}

/* The per-device interface (Linux 6.6+): only needed for claim --cdev. */
static int check_vfio_cdev(const HostFacts *f, Diagnosis *d)
{
        if (f->vfio_cdev > 0 && f->iommufd > 0)
                return add(d, "vfio-cdev", FINDING_OK, NULL,
                           "This kernel has VFIO device cdevs and /dev/iommu: a claim can hand devices over as "
                           "cdevs with an iommufd (claim --cdev).");
        if (f->vfio_cdev < 0 || f->iommufd < 0)
                return add(d, "vfio-cdev", FINDING_INFO, NULL,
                           "vfio is not loaded yet: whether this kernel has VFIO device cdevs and iommufd shows "
                           "once it is (after the first claim).");
        return add(d, "vfio-cdev", FINDING_INFO,
                   "Nothing to do for --fd or --chown claims. For --cdev, boot a kernel built with "
                   "CONFIG_IOMMUFD and CONFIG_VFIO_DEVICE_CDEV (Linux 6.6 or later; Ubuntu 24.04 and RHEL 9 "
                   "kernels are, Debian's are not).",
                   "This kernel has no %s%s%s: claims hand groups over (--fd, --chown), not device cdevs (--cdev).",
                   f->vfio_cdev == 0 ? "VFIO device cdevs" : "", f->vfio_cdev == 0 && f->iommufd == 0 ? " and no " : "",
                   f->iommufd == 0 ? "iommufd (/dev/iommu)" : "");
}

/* Devices of different slots in one group can only go together: often a
 * sign of missing ACS on a root port, or of a device one needs on the host. */
static int check_group_isolation(const HostFacts *f, Diagnosis *d)
{
        size_t mixed = 0;
        int r;

        for (size_t i = 0; i < f->n_groups; i++) {
                const GroupFacts *g = &f->groups[i];
                char list[256] = "";
                bool other_slot = false;
                PciAddress first, a;

                for (size_t j = 0, k = 0; j < g->n_members; j++) {
                        if (pci_class_is_bridge(g->members[j].class_code))
                                continue;
                        if (pci_address_parse(g->members[j].address, &a) < 0)
                                continue;
                        if (k++ == 0)
                                first = a;
                        else if (a.domain != first.domain || a.bus != first.bus || a.slot != first.slot)
                                other_slot = true;
                        if (strlen(list) + PCI_ADDRESS_STRING_MAX + 2 < sizeof(list))
                                strcat(strcat(list, list[0] ? ", " : ""), g->members[j].address);
                }
                if (!other_slot)
                        continue;
                mixed++;
                r = add(d, "group-isolation", FINDING_WARNING,
                        "Pass the whole group, or move the device to a slot behind a root port with ACS. "
                        "The ACS override patch only hides the problem.",
                        "IOMMU group %d mixes devices of different slots (%s): they can only be passed "
                        "through together.",
                        g->id, list);
                if (r < 0)
                        return r;
        }
        if (mixed == 0 && f->n_groups > 0)
                return add(d, "group-isolation", FINDING_OK, NULL,
                           "No IOMMU group mixes devices of different slots.");
        return 0;
}

static int check_boot_vga(const HostFacts *f, Diagnosis *d)
{
        if (!f->boot_vga[0])
                return 0;
        return add(d, "boot-vga", FINDING_INFO,
                   "Keep a second GPU for the host, or stop the display manager and unbind the console "
                   "before claiming it.",
                   "%s is the boot VGA (driver %s): passing it through takes the host's console with it.",
                   f->boot_vga, f->boot_vga_driver ? f->boot_vga_driver : "none");
}

static int check_firmware_fb(const HostFacts *f, Diagnosis *d)
{
        const FirmwareFb *fb = &f->firmware_fb;

        if (!f->has_firmware_fb)
                return 0;
        if (!fb->gpu[0])
                return add(d, "firmware-framebuffer", FINDING_INFO, NULL,
                           "The firmware framebuffer %s (driver %s) is in use; which GPU carries it cannot be "
                           "seen here.",
                           fb->device, fb->driver);
        return add(d, "firmware-framebuffer", FINDING_INFO,
                   "To pass this GPU through, keep the console on another one; a forced claim unbinds the "
                   "framebuffer and binds it again after the release, where the kernel keeps it (since Linux "
                   "5.19, vfio-pci removes the framebuffer of a VGA device for good).",
                   "%s carries the firmware framebuffer (%s, driver %s), which holds a range of its BAR: no "
                   "guest can have the GPU while it does.",
                   fb->gpu, fb->device, fb->driver);
}

static int check_gpu_reset(const HostFacts *f, Diagnosis *d)
{
        for (size_t i = 0; i < f->n_gpus; i++) {
                int r;

                if (f->gpus[i].reset_methods != 0)
                        continue;
                r = add(d, "gpu-reset", FINDING_WARNING,
                        "Shut guests down cleanly, so that their driver leaves the GPU idle; some AMD GPUs get a "
                        "reset method from the vendor-reset module.",
                        "GPU %s has no reset method: after a VM it goes back to its host driver as the guest left "
                        "it, often a black screen until the next boot.",
                        f->gpus[i].address);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* What OVMF maps of 64-bit BARs unless told more (X-PciMmio64Mb). */
#define OVMF_DEFAULT_MMIO64 (UINT64_C(32) << 30)
#define LARGE_BAR (UINT64_C(256) << 20)

static int check_gpu_bars(const HostFacts *f, Diagnosis *d)
{
        for (size_t i = 0; i < f->n_gpus; i++) {
                const GpuFacts *g = &f->gpus[i];
                char largest[SIZE_STRING_MAX], total[SIZE_STRING_MAX], offered[64] = "";
                bool too_big = g->bar_total > OVMF_DEFAULT_MMIO64;
                int r;

                if (g->largest_bar <= LARGE_BAR && g->largest_bar_offered <= LARGE_BAR)
                        continue;
                format_size(g->largest_bar, largest);
                format_size(g->bar_total, total);
                if (g->largest_bar_offered > g->largest_bar) {
                        char size[SIZE_STRING_MAX];
                        snprintf(offered, sizeof(offered), ", resizable up to %s",
                                 format_size(g->largest_bar_offered, size));
                }
                r = add(d, "gpu-bars", too_big ? FINDING_WARNING : FINDING_INFO,
                        "Give the guest's firmware a 64-bit MMIO window larger than the BARs, e.g. QEMU "
                        "-fw_cfg name=opt/ovmf/X-PciMmio64Mb,string=65536 for OVMF; or shrink the BAR "
                        "(resizable BAR off in the host's firmware, or resourceN_resize).",
                        "GPU %s has a %s BAR%s, %s of BARs in all: a guest maps them only inside its firmware's "
                        "64-bit MMIO window, which OVMF makes 32 GiB unless told otherwise.",
                        g->address, largest, offered, total);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int check_acs_override(const HostFacts *f, Diagnosis *d)
{
        if (!cmdline_has(f, "pcie_acs_override="))
                return 0;
        return add(d, "acs-override", FINDING_WARNING,
                   "Remove pcie_acs_override= from the kernel command line; use a slot with real ACS instead.",
                   "The ACS override is in use: IOMMU groups no longer show which devices can reach each "
                   "other, so a guest may reach host devices.");
}

static void format_limit(uint64_t v, char *buf, size_t n)
{
        if (v == UINT64_MAX)
                snprintf(buf, n, "unlimited");
        else
                snprintf(buf, n, "%" PRIu64 " MiB", v >> 20);
}

static int check_memlock(const HostFacts *f, Diagnosis *d)
{
        char soft[32], hard[32];

        if (!f->memlock_known)
                return 0;
        format_limit(f->memlock_soft, soft, sizeof(soft));
        format_limit(f->memlock_hard, hard, sizeof(hard));
        if (f->memlock_soft >= MEMLOCK_ENOUGH)
                return add(d, "memlock", FINDING_OK, NULL, "Your locked-memory limit is %s (hard %s).", soft,
                           hard);
        return add(d, "memlock", FINDING_WARNING,
                   "A guest needs its RAM plus about 1 GiB locked: raise the limit of the process that runs "
                   "QEMU (LimitMEMLOCK= in a unit, memlock in /etc/security/limits.conf).",
                   "Your locked-memory limit is %s (hard %s): QEMU will fail with "
                   "\"vfio_dma_map(...) = -12 (Cannot allocate memory)\".",
                   soft, hard);
}

int diagnosis_evaluate(const HostFacts *f, Diagnosis **ret)
{
        _cleanup_(diagnosis_freep) Diagnosis *d = calloc(1, sizeof(*d));
        int (*const checks[])(const HostFacts *, Diagnosis *) = {
                check_iommu,   check_interrupt_remapping, check_vfio_pci,     check_vfio_container,
                check_vfio_cdev,       check_group_isolation, check_boot_vga,    check_firmware_fb,  check_gpu_reset,
                check_gpu_bars,        check_acs_override, check_memlock,
        };

        if (!d)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(checks); i++) {
                int r = checks[i](f, d);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(d);
        return 0;
}

int diagnosis_run(pid_t pid, Diagnosis **ret)
{
        HostFacts f;
        int r = host_facts_read(pid, &f);

        if (r < 0)
                return r;
        r = host_facts_read_devices(&f);
        if (r >= 0)
                r = diagnosis_evaluate(&f, ret);
        host_facts_done(&f);
        return r;
}

Diagnosis *diagnosis_free(Diagnosis *d)
{
        if (!d)
                return NULL;
        for (size_t i = 0; i < d->n_findings; i++) {
                free(d->findings[i].check);
                free(d->findings[i].summary);
                free(d->findings[i].remedy);
        }
        free(d->findings);
        free(d);
        return NULL;
}

bool diagnosis_has_errors(const Diagnosis *d)
{
        for (size_t i = 0; i < d->n_findings; i++)
                if (d->findings[i].severity == FINDING_ERROR)
                        return true;
        return false;
}
