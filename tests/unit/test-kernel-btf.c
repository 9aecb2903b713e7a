/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <glib.h>
#include <linux/btf.h>
#include <stdbool.h>
#include <string.h>

#include "kernel-btf.h"

/* A small BTF written here, shaped like the kernel's where it matters:
 *
 *   struct inode { unsigned short i_mode; union { dev_t i_rdev; int other; };
 *                  int i_bits : 3; };
 *   struct file { int f_pos; struct inode *f_inode; };
 *   int bpf_iter_task_file(void);
 */
enum {
        ID_INT = 1,
        ID_USHORT,
        ID_DEV_T,
        ID_UNION,
        ID_INODE,
        ID_INODE_PTR,
        ID_FILE,
        ID_PROTO,
        ID_FUNC,
};

typedef struct Blob {
        GByteArray *types;
        GString *strings;
} Blob;

static uint32_t add_string(Blob *b, const char *s)
{
        uint32_t off = (uint32_t)b->strings->len;

        if (!s[0])
                return 0; /* the empty string at 0 */
        g_string_append_len(b->strings, s, (gssize)strlen(s) + 1);
        return off;
}

static void add_u32(Blob *b, uint32_t v)
{
        g_byte_array_append(b->types, (const guint8 *)&v, sizeof(v));
}

static void add_type(Blob *b, const char *name, unsigned kind, unsigned vlen, bool kflag, uint32_t size_or_type)
{
        add_u32(b, add_string(b, name));
        add_u32(b, (uint32_t)kind << 24 | vlen | (kflag ? 1U << 31 : 0));
        add_u32(b, size_or_type);
}

static void add_member(Blob *b, const char *name, uint32_t type, uint32_t offset)
{
        add_u32(b, add_string(b, name));
        add_u32(b, type);
        add_u32(b, offset);
}

static Blob blob_new(void)
{
        Blob b = { g_byte_array_new(), g_string_new("") };

        g_string_append_c(b.strings, '\0');
        add_type(&b, "int", BTF_KIND_INT, 0, false, 4);
        add_u32(&b, 32); /* bits */
        add_type(&b, "unsigned short", BTF_KIND_INT, 0, false, 2);
        add_u32(&b, 16);
        add_type(&b, "dev_t", BTF_KIND_TYPEDEF, 0, false, ID_INT);
        add_type(&b, "", BTF_KIND_UNION, 2, false, 4);
        add_member(&b, "i_rdev", ID_DEV_T, 0);
        add_member(&b, "other", ID_INT, 0);
        add_type(&b, "inode", BTF_KIND_STRUCT, 3, true, 12);
        add_member(&b, "i_mode", ID_USHORT, 0);
        add_member(&b, "", ID_UNION, 32);
        add_member(&b, "i_bits", ID_INT, 3U << 24 | 64); /* 3 bits at bit 64 */
        add_type(&b, "", BTF_KIND_PTR, 0, false, ID_INODE);
        add_type(&b, "file", BTF_KIND_STRUCT, 2, false, 16);
        add_member(&b, "f_pos", ID_INT, 0);
        add_member(&b, "f_inode", ID_INODE_PTR, 64);
        add_type(&b, "", BTF_KIND_FUNC_PROTO, 0, false, ID_INT);
        add_type(&b, "bpf_iter_task_file", BTF_KIND_FUNC, 0, false, ID_PROTO);
        return b;
}

/* The header, the types, the strings. */
static GByteArray *blob_finish(Blob *b)
{
        struct btf_header h = {
                .magic = BTF_MAGIC,
                .version = 1,
                .hdr_len = sizeof(h),
                .type_off = 0,
                .type_len = b->types->len,
                .str_off = b->types->len,
                .str_len = (uint32_t)b->strings->len,
        };
        GByteArray *out = g_byte_array_new();

        g_byte_array_append(out, (const guint8 *)&h, sizeof(h));
        g_byte_array_append(out, b->types->data, b->types->len);
        g_byte_array_append(out, (const guint8 *)b->strings->str, (guint)b->strings->len);
        g_byte_array_free(b->types, true);
        g_string_free(b->strings, true);
        return out;
}

static KernelBtf *parse_or_fail(GByteArray *data)
{
        KernelBtf *btf = NULL;

        g_assert_cmpint(kernel_btf_parse(data->data, data->len, &btf), ==, 0);
        g_assert_nonnull(btf);
        return btf;
}

static void test_members(void)
{
        Blob b = blob_new();
        GByteArray *data = blob_finish(&b);
        KernelBtf *btf = parse_or_fail(data);
        BtfMember m;

        g_assert_cmpint(kernel_btf_member(btf, "file", "f_inode", &m), ==, 0);
        g_assert_cmpuint(m.offset, ==, 8);
        g_assert_cmpuint(m.size, ==, sizeof(void *));
        g_assert_cmpint(kernel_btf_member(btf, "inode", "i_mode", &m), ==, 0);
        g_assert_cmpuint(m.offset, ==, 0);
        g_assert_cmpuint(m.size, ==, 2);
        /* In an anonymous union, through a typedef. */
        g_assert_cmpint(kernel_btf_member(btf, "inode", "i_rdev", &m), ==, 0);
        g_assert_cmpuint(m.offset, ==, 4);
        g_assert_cmpuint(m.size, ==, 4);
        /* A bit field has no byte offset for a load. */
        g_assert_cmpint(kernel_btf_member(btf, "inode", "i_bits", &m), ==, -EOPNOTSUPP);
        g_assert_cmpint(kernel_btf_member(btf, "inode", "i_size", &m), ==, -ENOENT);
        g_assert_cmpint(kernel_btf_member(btf, "dentry", "d_inode", &m), ==, -ENOENT);
        g_assert_cmpint(kernel_btf_function(btf, "bpf_iter_task_file"), ==, ID_FUNC);
        g_assert_cmpint(kernel_btf_function(btf, "file"), ==, -ENOENT); /* a struct, no function */
        kernel_btf_free(btf);
        g_byte_array_free(data, true);
}

/* What cannot be read as BTF is refused, never read past. */
static void test_refused(void)
{
        Blob b = blob_new();
        GByteArray *data = blob_finish(&b);
        KernelBtf *btf = NULL;
        struct btf_header *h = (struct btf_header *)data->data;

        for (guint len = 0; len < data->len; len += 4) /* cut anywhere */
                g_assert_cmpint(kernel_btf_parse(data->data, len, &btf), ==, -EINVAL);
        h->magic = 0x9FEB;
        g_assert_cmpint(kernel_btf_parse(data->data, data->len, &btf), ==, -EINVAL);
        h->magic = BTF_MAGIC;
        h->type_len -= 4; /* a type cut in two */
        g_assert_cmpint(kernel_btf_parse(data->data, data->len, &btf), ==, -EINVAL);
        g_assert_null(btf);
        g_byte_array_free(data, true);

        /* Anonymous members that nest in a loop: the search gives up. */
        b = blob_new();
        add_type(&b, "loop", BTF_KIND_STRUCT, 2, false, 4);
        add_member(&b, "", ID_FUNC + 1, 0);
        add_member(&b, "", ID_FUNC + 1, 0);
        data = blob_finish(&b);
        btf = parse_or_fail(data);
        {
                BtfMember m;
                g_assert_cmpint(kernel_btf_member(btf, "loop", "x", &m), ==, -EINVAL);
        }
        btf = kernel_btf_free(btf);
        g_byte_array_free(data, true);

        /* Wide, without a loop: 400 anonymous structs of 300 members
         * each are more than one search looks at. */
        b = blob_new();
        add_type(&b, "inner", BTF_KIND_STRUCT, 300, false, 4);
        for (int i = 0; i < 300; i++)
                add_member(&b, "m", ID_INT, 0);
        add_type(&b, "wide", BTF_KIND_STRUCT, 400, false, 4);
        for (int i = 0; i < 400; i++)
                add_member(&b, "", ID_FUNC + 1, 0);
        data = blob_finish(&b);
        btf = parse_or_fail(data);
        {
                BtfMember m;
                g_assert_cmpint(kernel_btf_member(btf, "wide", "x", &m), ==, -EINVAL);
                g_assert_cmpint(kernel_btf_member(btf, "wide", "m", &m), ==, 0); /* the first is found */
        }
        btf = kernel_btf_free(btf);
        g_byte_array_free(data, true);

        /* A kind this code does not know: a newer kernel's layout is not
         * guessed at. */
        b = blob_new();
        add_type(&b, "future", 25, 0, false, 0);
        data = blob_finish(&b);
        g_assert_cmpint(kernel_btf_parse(data->data, data->len, &btf), ==, -EINVAL);
        g_byte_array_free(data, true);
}

int main(int argc, char *argv[])
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/kernel-btf/members", test_members);
        g_test_add_func("/kernel-btf/refused", test_refused);
        return g_test_run();
}
