/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "diagnosis.h"
#include "fs-util.h"
#include "iommu-group.h"
#include "macro.h"
#include "number.h"
#include "sysfs-paths.h"
#include "vfio-cdev.h"

/* Reads what diagnosis.c judges from /proc, /sys and /dev. Nothing here
 * needs privileges, so `doctor` runs it without the daemon too. The
 * daemon reads only the machine-wide facts here: it knows the devices. */

static bool file_contains(const char *path, const char *needle)
{
        _cleanup_free_ char *s = read_full_file(path);
        return s && strstr(s, needle);
}

static size_t count_entries(const char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *de;
        size_t n = 0;

        if (!d)
                return 0;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

static uint32_t read_class(const char *address)
{
        char path[PATH_MAX];
        _cleanup_free_ char *s = NULL;

        snprintf(path, sizeof(path), SYSFS_PCI_DEVICES "/%s/class", address);
        s = read_full_file(path);
        return s ? (uint32_t)strtoul(s, NULL, 16) : 0;
}

static int add_member(const char *address, void *userdata)
{
        return group_facts_add_member(userdata, address, read_class(address));
}

static int read_groups(HostFacts *f)
{
        DIR *d = opendir(SYSFS_IOMMU_GROUPS);
        struct dirent *de;
        int r = 0;

        if (!d)
                return 0;
        while (r >= 0 && (de = readdir(d))) {
                GroupFacts *g;
                int id;

                if (parse_group_id(de->d_name, &id) < 0)
                        continue;
                r = host_facts_add_group(f, id, &g);
                if (r >= 0 && (r = iommu_group_foreach_member(id, add_member, g)) < 0 && r != -ENOMEM)
                        r = 0; /* gone meanwhile, or unreadable: a group without members */
        }
        closedir(d);
        return r;
}

static void read_boot_vga(HostFacts *f)
{
        DIR *d = opendir(SYSFS_PCI_DEVICES);
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d))) {
                char path[PATH_MAX];
                _cleanup_free_ char *v = NULL;

                snprintf(path, sizeof(path), SYSFS_PCI_DEVICES "/%s/boot_vga", de->d_name);
                v = read_full_file(path);
                if (!v || v[0] != '1' || pci_address_normalize(de->d_name, f->boot_vga) < 0)
                        continue;
                snprintf(path, sizeof(path), SYSFS_PCI_DEVICES "/%s/driver", de->d_name);
                (void)readlink_basename(path, &f->boot_vga_driver);
                break;
        }
        closedir(d);
}

/* The memory BARs of a function, from its resource file: one line per
 * resource, "START END FLAGS", BARs 0 to 5 first. */
static void read_bars(const char *dir, GpuFacts *g)
{
        char path[PATH_MAX + sizeof("/resource5_resize")];
        _cleanup_(fclosep) FILE *f = NULL;
        unsigned long long start, end, flags;

        snprintf(path, sizeof(path), "%s/resource", dir);
        f = fopen(path, "re");
        for (int bar = 0; f && bar < 6 && fscanf(f, "%llx %llx %llx", &start, &end, &flags) == 3; bar++) {
                _cleanup_free_ char *resize = NULL;
                uint64_t size = end > start ? end - start + 1 : 0;

                if (!(flags & 0x200)) /* IORESOURCE_MEM */
                        continue;
                g->bar_total += size;
                if (size > g->largest_bar)
                        g->largest_bar = size;
                /* Linux 6.1 and later: the sizes a resizable BAR offers, bit n for 2^n MiB. */
                snprintf(path, sizeof(path), "%s/resource%d_resize", dir, bar);
                resize = read_full_file(path);
                if (resize) {
                        unsigned long long offered = strtoull(resize, NULL, 16);
                        for (int bit = 63; bit >= 0; bit--)
                                if (offered & (1ULL << bit)) {
                                        uint64_t bytes = bit < 44 ? (1ULL << bit) << 20 : UINT64_MAX;
                                        if (bytes > g->largest_bar_offered)
                                                g->largest_bar_offered = bytes;
                                        break;
                                }
                }
        }
}

static int read_gpus(HostFacts *f)
{
        DIR *d = opendir(SYSFS_PCI_DEVICES);
        struct dirent *de;
        int r = 0;

        if (!d)
                return 0;
        while (r >= 0 && (de = readdir(d))) {
                char dir[sizeof(SYSFS_PCI_DEVICES "/") + PCI_ADDRESS_STRING_MAX];
                GpuFacts *a, g = {};

                if (pci_address_normalize(de->d_name, g.address) < 0 || read_class(g.address) >> 16 != 0x03)
                        continue;
                snprintf(dir, sizeof(dir), SYSFS_PCI_DEVICES "/%s", g.address);
                g.reset_methods = reset_methods_read(dir);
                read_bars(dir, &g);
                a = reallocarray(f->gpus, f->n_gpus + 1, sizeof(*a));
                if (!a)
                        r = -ENOMEM;
                else {
                        f->gpus = a;
                        a[f->n_gpus++] = g;
                }
        }
        closedir(d);
        return r;
}

/* Built in, vfio-pci is in /sys/module (it has parameters) without the
 * initstate a module has. */
static bool vfio_pci_builtin(void)
{
        return access("/sys/module/vfio_pci", F_OK) == 0 && access("/sys/module/vfio_pci/initstate", F_OK) < 0;
}

/* "Max locked memory   8388608   8388608   bytes" */
static void read_memlock(pid_t pid, HostFacts *f)
{
        char path[64], soft[32], hard[32];
        _cleanup_free_ char *limits = NULL;
        const char *line;

        snprintf(path, sizeof(path), "/proc/%d/limits", pid > 0 ? (int)pid : (int)getpid());
        limits = read_full_file(path);
        if (!limits || !(line = strstr(limits, "Max locked memory")))
                return;
        if (sscanf(line + strlen("Max locked memory"), "%31s %31s", soft, hard) != 2)
                return;
        f->memlock_soft = streq(soft, "unlimited") ? UINT64_MAX : strtoull(soft, NULL, 10);
        f->memlock_hard = streq(hard, "unlimited") ? UINT64_MAX : strtoull(hard, NULL, 10);
        f->memlock_known = true;
}

/* 1, 0, or -1 when the kernel's module tree cannot be seen: vfiod's unit
 * hides it (ProtectKernelModules=), and a container may not have it. */
static int vfio_pci_in_kernel(void)
{
        struct utsname u;
        char path[PATH_MAX];

        if (uname(&u) < 0)
                return -1;
        snprintf(path, sizeof(path), "/lib/modules/%s", u.release);
        if (access(path, R_OK | X_OK) < 0)
                return -1;
        /* Built in, it would be loaded: only a module can be missing. */
        snprintf(path, sizeof(path), "/lib/modules/%s/modules.dep", u.release);
        return file_contains(path, "/vfio-pci.ko");
}

static KernelCmdlineTool kernel_cmdline_tool(void)
{
        if (access("/usr/sbin/grubby", X_OK) == 0 || access("/sbin/grubby", X_OK) == 0)
                return CMDLINE_GRUBBY;
        if (access("/etc/default/grub", F_OK) == 0 &&
            (access("/usr/sbin/update-grub", X_OK) == 0 || access("/sbin/update-grub", X_OK) == 0))
                return CMDLINE_GRUB_UPDATE;
        if (access("/etc/kernel/cmdline", F_OK) == 0)
                return CMDLINE_KERNEL_INSTALL;
        return CMDLINE_UNKNOWN;
}

/* What does not change while the machine runs: the command line, the
 * CPU, the firmware's tables, interrupt remapping, whether the kernel has
 * vfio-pci. Read once: Diagnose is anyone's to call, and /proc/interrupts
 * and modules.dep are large on large machines. */
typedef struct BootFacts {
        bool read;
        char *cmdline;
        KernelCmdlineTool cmdline_tool;
        bool cpu_amd, acpi_dmar, acpi_ivrs;
        int interrupt_remapping;
        int vfio_pci_in_kernel;
} BootFacts;

static const BootFacts *boot_facts(void)
{
        static BootFacts b;
        _cleanup_free_ char *cpuinfo = NULL, *interrupts = NULL;

        if (b.read)
                return &b;
        b.cmdline = read_full_file("/proc/cmdline");
        b.cmdline_tool = kernel_cmdline_tool();
        cpuinfo = read_full_file("/proc/cpuinfo");
        b.cpu_amd = cpuinfo && strstr(cpuinfo, "AuthenticAMD");
        b.acpi_dmar = access("/sys/firmware/acpi/tables/DMAR", F_OK) == 0;
        b.acpi_ivrs = access("/sys/firmware/acpi/tables/IVRS", F_OK) == 0;
        /* Remapped MSIs show as "IR-PCI-MSI" interrupt chips. */
        interrupts = read_full_file("/proc/interrupts");
        b.interrupt_remapping = interrupts ? strstr(interrupts, "IR-") != NULL : -1;
        b.vfio_pci_in_kernel = vfio_pci_in_kernel();
        b.read = true;
        return &b;
}

int host_facts_read(pid_t pid, HostFacts *f)
{
        const BootFacts *b = boot_facts();
        struct stat st;
        int r;

        *f = (HostFacts){
                .cmdline = b->cmdline ? strdup(b->cmdline) : NULL,
                .cmdline_tool = b->cmdline_tool,
                .cpu_amd = b->cpu_amd,
                .acpi_dmar = b->acpi_dmar,
                .acpi_ivrs = b->acpi_ivrs,
                .interrupt_remapping = b->interrupt_remapping,
        };
        if (b->cmdline && !f->cmdline)
                return -ENOMEM;
        f->n_iommu_units = count_entries("/sys/class/iommu");
        f->vfio_pci_loaded = access(SYSFS_PCI_DRIVERS "/" VFIO_PCI_DRIVER, F_OK) == 0;
        f->vfio_pci_builtin = f->vfio_pci_loaded && vfio_pci_builtin();
        f->has_firmware_fb = firmware_fb_find(&f->firmware_fb) > 0;
        /* Loaded or built in, vfio-pci has registered its driver. */
        f->vfio_pci_available = f->vfio_pci_loaded ? 1 : b->vfio_pci_in_kernel;
        f->vfio_cdev = vfio_cdev_supported();
        f->iommufd = iommufd_supported();
        if (stat("/dev/vfio/vfio", &st) == 0) {
                f->vfio_container_exists = true;
                f->vfio_container_mode = st.st_mode;
        }
        read_memlock(pid, f);
        r = read_gpus(f);
        if (r < 0)
                host_facts_done(f);
        return r;
}

int host_facts_read_devices(HostFacts *f)
{
        read_boot_vga(f);
        return read_groups(f);
}

int host_facts_add_group(HostFacts *f, int id, GroupFacts **ret)
{
        GroupFacts *a = reallocarray(f->groups, f->n_groups + 1, sizeof(*a));

        if (!a)
                return -ENOMEM;
        f->groups = a;
        a[f->n_groups] = (GroupFacts){ .id = id };
        *ret = &a[f->n_groups++];
        return 0;
}

int group_facts_add_member(GroupFacts *g, const char *address, uint32_t class_code)
{
        GroupMember *a = reallocarray(g->members, g->n_members + 1, sizeof(*a));

        if (!a)
                return -ENOMEM;
        g->members = a;
        snprintf(a[g->n_members].address, sizeof(a[g->n_members].address), "%s", address);
        a[g->n_members++].class_code = class_code;
        return 0;
}

void host_facts_done(HostFacts *f)
{
        free(f->cmdline);
        free(f->boot_vga_driver);
        for (size_t i = 0; i < f->n_groups; i++)
                free(f->groups[i].members);
        free(f->groups);
        free(f->gpus);
        *f = (HostFacts){};
}
