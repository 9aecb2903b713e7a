/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The kernel's own description of its types (BTF, /sys/kernel/btf/vmlinux),
 * read for what a BPF program needs to know of this kernel: where a member
 * lies in a struct, and the id of a function to attach to. The verifier
 * checks a program's loads of pointers against the same description; a
 * load of a number at a wrong offset it accepts (task-files.c checks its
 * walk's result for that). The data must be 4-byte aligned, as the
 * kernel's is. */

typedef struct KernelBtf KernelBtf;

/* Parses size bytes at data, which must stay valid while ret is used.
 * -EINVAL when it is no BTF, or has a kind of type this code does not
 * know (a newer kernel's): its layout cannot be read then. */
int kernel_btf_parse(const void *data, size_t size, KernelBtf **ret);
/* Reads the file at path (normally KERNEL_BTF_PATH) and parses it. */
int kernel_btf_load(const char *path, KernelBtf **ret);
KernelBtf *kernel_btf_free(KernelBtf *b);

#define KERNEL_BTF_PATH "/sys/kernel/btf/vmlinux"

/* The type id of the kernel function `name`, which a tracing program's
 * attach_btf_id names; -ENOENT when there is none. */
int kernel_btf_function(const KernelBtf *b, const char *name);

typedef struct BtfMember {
        uint32_t offset; /* in bytes from the start of the struct */
        uint32_t size;   /* in bytes; a pointer's is 8 */
} BtfMember;

/* Member `member` of struct `name`, also when it sits in an anonymous
 * struct or union inside it. -ENOENT when there is none; -EOPNOTSUPP when
 * it is a bit field or of a type whose size this code does not read;
 * -EINVAL when the search would not end (anonymous members in a loop). */
int kernel_btf_member(const KernelBtf *b, const char *name, const char *member, BtfMember *ret);
