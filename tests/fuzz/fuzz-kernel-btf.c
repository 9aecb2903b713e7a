/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel-btf.h"

/* The kernel's BTF as vfiod reads it for its walk over the processes'
 * files (task-files.c): any bytes are parsed without a read beyond them,
 * and every lookup that walk makes ends, with an answer or an error. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const lookups[][2] = {
                { "bpf_iter__task_file", "file" }, { "bpf_iter_meta", "seq" }, { "task_struct", "tgid" },
                { "file", "f_inode" },             { "inode", "i_mode" },      { "inode", "i_rdev" },
        };
        /* The kernel's BTF is 4-byte aligned, as a copy in the heap is. */
        void *copy = malloc(size ? size : 1);
        KernelBtf *b = NULL;

        if (!copy)
                return 0;
        memcpy(copy, data, size);
        if (kernel_btf_parse(copy, size, &b) == 0) {
                int id = kernel_btf_function(b, "bpf_iter_task_file");
                assert(id > 0 || id == -ENOENT);
                for (size_t i = 0; i < sizeof(lookups) / sizeof(lookups[0]); i++) {
                        BtfMember m;
                        int r = kernel_btf_member(b, lookups[i][0], lookups[i][1], &m);
                        assert(r == 0 || r == -ENOENT || r == -EOPNOTSUPP || r == -EINVAL);
                }
                kernel_btf_free(b);
        }
        free(copy);
        return 0;
}
