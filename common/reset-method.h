/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How the kernel can reset a PCI function: the words of its reset_method
 * attribute (Linux 5.15 and later), as a set. The kernel hides the
 * attribute, and the reset attribute, from a function it cannot reset;
 * older kernels have only reset, which says that some method exists. */

typedef enum ResetMethod {
        RESET_METHOD_DEVICE_SPECIFIC = 1 << 0,
        RESET_METHOD_ACPI = 1 << 1,
        RESET_METHOD_FLR = 1 << 2,
        RESET_METHOD_AF_FLR = 1 << 3,
        RESET_METHOD_PM = 1 << 4,
        RESET_METHOD_BUS = 1 << 5,
        RESET_METHOD_CXL_BUS = 1 << 6,
        RESET_METHOD_OTHER = 1 << 7, /* one this file does not name, or an old kernel's "reset" */
} ResetMethod;

typedef uint8_t ResetMethods;

/* Configured instead of a method: no reset at all. */
#define RESET_NEVER "none"

/* The kernel's word for one method, NULL for RESET_METHOD_OTHER. */
const char *reset_method_to_string(ResetMethod m);
/* -EINVAL for a word the kernel does not use. */
int reset_method_from_string(const char *s, ResetMethod *ret);

/* The set in a reset_method attribute's text ("flr bus\n"). */
ResetMethods reset_methods_parse(const char *text);
/* What the function in sysfs_dir (/sys/bus/pci/devices/ADDR) offers: 0 when
 * it cannot be reset at all. */
ResetMethods reset_methods_read(const char *sysfs_dir);
/* "flr, bus" into buf, "none" for the empty set; returns buf. */
const char *reset_methods_format(ResetMethods set, char *buf, size_t size);
