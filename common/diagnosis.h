/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "firmware-fb.h"
#include "pci-address.h"
#include "reset-method.h"

/* Is this host ready for VFIO? Facts are read from the machine
 * (host-facts.c), then judged here: the judging is pure, so it is tested
 * without a machine. Shared by the daemon's Diagnose() and by
 * `vfioctl-client doctor` when the daemon is not running. */

typedef enum FindingSeverity {
        FINDING_OK,
        FINDING_INFO,
        FINDING_WARNING,
        FINDING_ERROR,
} FindingSeverity;

typedef struct Finding {
        char *check; /* a stable id, e.g. "iommu-enabled" */
        FindingSeverity severity;
        char *summary;
        char *remedy; /* NULL when there is nothing to do */
} Finding;

typedef struct Diagnosis {
        Finding *findings;
        size_t n_findings;
} Diagnosis;

typedef struct GroupMember {
        char address[PCI_ADDRESS_STRING_MAX];
        uint32_t class_code;
} GroupMember;

typedef struct GroupFacts {
        int id;
        GroupMember *members;
        size_t n_members;
} GroupFacts;

/* A display controller (class 03): what decides how it fares in a VM. */
typedef struct GpuFacts {
        char address[PCI_ADDRESS_STRING_MAX];
        ResetMethods reset_methods;
        uint64_t largest_bar;     /* bytes, of its memory BARs */
        uint64_t bar_total;
        uint64_t largest_bar_offered; /* a resizable BAR's largest size; 0 when none is resizable */
} GpuFacts;

/* Where this host's kernel command line is kept, so that advice can say
 * how to change it here. */
typedef enum KernelCmdlineTool {
        CMDLINE_UNKNOWN,
        CMDLINE_GRUB_UPDATE, /* /etc/default/grub and update-grub (Debian, Ubuntu) */
        CMDLINE_GRUBBY,      /* grubby (Fedora, RHEL) */
        CMDLINE_KERNEL_INSTALL, /* /etc/kernel/cmdline (systemd-boot, kernel-install) */
} KernelCmdlineTool;

typedef struct HostFacts {
        char *cmdline;            /* the kernel command line */
        KernelCmdlineTool cmdline_tool;
        bool cpu_amd;
        bool acpi_dmar, acpi_ivrs; /* the firmware describes an IOMMU */
        size_t n_iommu_units;      /* /sys/class/iommu */
        int interrupt_remapping;   /* 1, 0, or -1 when unknown */
        bool vfio_pci_loaded;
        bool vfio_pci_builtin;     /* in the kernel image, not a module */
        int vfio_pci_available;    /* 1, 0, or -1 when the kernel's modules are out of sight */
        int vfio_cdev;             /* device cdevs: 1, 0, or -1 when unknown (vfio-cdev.h) */
        int iommufd;               /* /dev/iommu: the same */
        bool vfio_container_exists;
        mode_t vfio_container_mode;
        bool memlock_known;
        uint64_t memlock_soft, memlock_hard; /* UINT64_MAX: unlimited */
        char boot_vga[PCI_ADDRESS_STRING_MAX]; /* "" when none */
        char *boot_vga_driver;
        bool has_firmware_fb;
        FirmwareFb firmware_fb;
        GpuFacts *gpus;
        size_t n_gpus;
        GroupFacts *groups;
        size_t n_groups;
} HostFacts;

/* Reads the machine-wide facts; memlock is that of process pid (0: this
 * process). The device facts (groups, boot VGA) come from
 * host_facts_read_devices(), or from whoever already knows the devices. */
int host_facts_read(pid_t pid, HostFacts *ret);
int host_facts_read_devices(HostFacts *f);
int host_facts_add_group(HostFacts *f, int id, GroupFacts **ret);
int group_facts_add_member(GroupFacts *g, const char *address, uint32_t class_code);
void host_facts_done(HostFacts *f);

int diagnosis_evaluate(const HostFacts *f, Diagnosis **ret);
/* Appends a copy of a finding; remedy may be NULL or "" for none. */
int diagnosis_add(Diagnosis *d, const char *check, FindingSeverity severity, const char *summary,
                  const char *remedy);
/* Reads every fact from the machine and judges them. */
int diagnosis_run(pid_t pid, Diagnosis **ret);
Diagnosis *diagnosis_free(Diagnosis *d);
static inline void diagnosis_freep(Diagnosis **d)
{
        diagnosis_free(*d);
}
bool diagnosis_has_errors(const Diagnosis *d);

const char *finding_severity_to_string(FindingSeverity s);
int finding_severity_from_string(const char *s);
