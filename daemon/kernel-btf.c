/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/btf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "kernel-btf.h"
#include "macro.h"

/* Kinds that headers older than the kernel may lack (numbers are ABI). */
#define KIND_FLOAT 16
#define KIND_DECL_TAG 17
#define KIND_TYPE_TAG 18
#define KIND_ENUM64 19

/* Typedefs and qualifiers chain this deep at most before a real type. */
#define CHAIN_MAX 32
/* Members looked at in one search, anonymous ones' included: the kernel's
 * largest structs have a few hundred; a BTF whose anonymous members nest
 * in a loop would go on for ever. Anonymous members nest CHAIN_MAX deep at
 * most. */
#define MEMBERS_SEARCHED_MAX 100000

struct KernelBtf {
        const char *strings;
        uint32_t strings_size;
        const struct btf_type **types; /* [id - 1] */
        uint32_t n_types;
        void *owned; /* the file's bytes, when kernel_btf_load() read them */
};

static unsigned kind_of(const struct btf_type *t)
{
        return BTF_INFO_KIND(t->info);
}

/* The bytes that follow a type of this kind, or -1 for a kind this code
 * does not know. */
static long extra_size(const struct btf_type *t)
{
        unsigned vlen = BTF_INFO_VLEN(t->info);

        switch (kind_of(t)) {
        case BTF_KIND_INT:
        case BTF_KIND_VAR:
        case KIND_DECL_TAG:
                return 4;
        case BTF_KIND_PTR:
        case BTF_KIND_FWD:
        case BTF_KIND_TYPEDEF:
        case BTF_KIND_VOLATILE:
        case BTF_KIND_CONST:
        case BTF_KIND_RESTRICT:
        case BTF_KIND_FUNC:
        case KIND_FLOAT:
        case KIND_TYPE_TAG:
                return 0;
        case BTF_KIND_ARRAY:
                return sizeof(struct btf_array);
        case BTF_KIND_STRUCT:
        case BTF_KIND_UNION:
                return (long)vlen * sizeof(struct btf_member);
        case BTF_KIND_ENUM:
                return (long)vlen * sizeof(struct btf_enum);
        case BTF_KIND_FUNC_PROTO:
                return (long)vlen * sizeof(struct btf_param);
        case BTF_KIND_DATASEC:
                return (long)vlen * sizeof(struct btf_var_secinfo);
        case KIND_ENUM64:
                return (long)vlen * 12; /* struct btf_enum64 */
        default:
                return -1;
        }
}

static int index_types(KernelBtf *b, const uint8_t *start, size_t size)
{
        size_t pos = 0, allocated = 0;

        while (pos < size) {
                const struct btf_type *t = (const struct btf_type *)(start + pos);
                long extra;
                if (size - pos < sizeof(*t) || (extra = extra_size(t)) < 0 ||
                    size - pos - sizeof(*t) < (size_t)extra)
                        return -EINVAL;
                if (b->n_types == allocated) {
                        const struct btf_type **a;
                        allocated = allocated ? 2 * allocated : 1024;
                        a = reallocarray(b->types, allocated, sizeof(*a));
                        if (!a)
                                return -ENOMEM;
                        b->types = a;
                }
                b->types[b->n_types++] = t;
                pos += sizeof(*t) + (size_t)extra;
        }
        return 0;
}

int kernel_btf_parse(const void *data, size_t size, KernelBtf **ret)
{
        const struct btf_header *h = data;
        const uint8_t *bytes = data;
        KernelBtf *b;
        int r;

        if (size < sizeof(*h) || h->magic != BTF_MAGIC || h->hdr_len < sizeof(*h) || h->hdr_len > size ||
            (uint64_t)h->type_off + h->type_len > size - h->hdr_len ||
            (uint64_t)h->str_off + h->str_len > size - h->hdr_len || (h->hdr_len + h->type_off) % 4 != 0 ||
            h->str_len == 0 || bytes[h->hdr_len + h->str_off + h->str_len - 1] != '\0')
                return -EINVAL;
        b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        b->strings = (const char *)bytes + h->hdr_len + h->str_off;
        b->strings_size = h->str_len;
        r = index_types(b, bytes + h->hdr_len + h->type_off, h->type_len);
        if (r < 0) {
                kernel_btf_free(b);
                return r;
        }
        *ret = b;
        return 0;
}

int kernel_btf_load(const char *path, KernelBtf **ret)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        _cleanup_free_ void *data = NULL;
        size_t size;
        int r;

        if (fd < 0)
                return -errno;
        /* sysfs states the size, but read to the end whatever it says. */
        r = read_fd_to_end(fd, &data, &size);
        if (r < 0)
                return r;
        r = kernel_btf_parse(data, size, ret);
        if (r >= 0)
                (*ret)->owned = TAKE_PTR(data);
        return r;
}

KernelBtf *kernel_btf_free(KernelBtf *b)
{
        if (b) {
                free(b->types);
                free(b->owned);
                free(b);
        }
        return NULL;
}

static const char *name_of(const KernelBtf *b, uint32_t name_off)
{
        return name_off < b->strings_size ? b->strings + name_off : "";
}

static const struct btf_type *type_by_id(const KernelBtf *b, uint32_t id)
{
        return id >= 1 && id <= b->n_types ? b->types[id - 1] : NULL;
}

static int find_type(const KernelBtf *b, unsigned kind, const char *name)
{
        for (uint32_t i = 0; i < b->n_types; i++)
                if (kind_of(b->types[i]) == kind && streq(name_of(b, b->types[i]->name_off), name))
                        return (int)(i + 1);
        return -ENOENT;
}

/* Through typedefs and qualifiers to the type they name. */
static const struct btf_type *resolve(const KernelBtf *b, uint32_t id)
{
        const struct btf_type *t = type_by_id(b, id);

        for (int depth = 0; t && depth < CHAIN_MAX; depth++) {
                switch (kind_of(t)) {
                case BTF_KIND_TYPEDEF:
                case BTF_KIND_VOLATILE:
                case BTF_KIND_CONST:
                case BTF_KIND_RESTRICT:
                case KIND_TYPE_TAG:
                        t = type_by_id(b, t->type);
                        continue;
                default:
                        return t;
                }
        }
        return NULL;
}

static int size_of(const KernelBtf *b, uint32_t id, uint32_t *ret)
{
        const struct btf_type *t = resolve(b, id);

        if (!t)
                return -EOPNOTSUPP;
        switch (kind_of(t)) {
        case BTF_KIND_PTR:
                *ret = sizeof(void *); /* vfiod runs on the kernel's own architecture */
                return 0;
        case BTF_KIND_INT:
        case BTF_KIND_ENUM:
        case KIND_ENUM64:
        case BTF_KIND_STRUCT:
        case BTF_KIND_UNION:
                *ret = t->size;
                return 0;
        default:
                return -EOPNOTSUPP;
        }
}

/* Member `member` of the struct or union t, whose start is base bits into
 * the outermost struct; an anonymous struct or union is looked into, up to
 * CHAIN_MAX deep. *budget is what is left of MEMBERS_SEARCHED_MAX. */
static int find_member(const KernelBtf *b, const struct btf_type *t, uint32_t base, const char *member, int depth,
                       unsigned *budget, BtfMember *ret)
{
        const struct btf_member *m = (const struct btf_member *)(t + 1);

        if (depth >= CHAIN_MAX)
                return -EINVAL;
        for (unsigned i = 0; i < BTF_INFO_VLEN(t->info); i++) {
                uint32_t bits = BTF_INFO_KFLAG(t->info) ? BTF_MEMBER_BIT_OFFSET(m[i].offset) : m[i].offset;
                bool bitfield = BTF_INFO_KFLAG(t->info) && BTF_MEMBER_BITFIELD_SIZE(m[i].offset) != 0;
                const char *name = name_of(b, m[i].name_off);
                const struct btf_type *inner;
                if (*budget == 0)
                        return -EINVAL;
                (*budget)--;
                if (streq(name, member)) {
                        if (bitfield || (base + bits) % 8 != 0)
                                return -EOPNOTSUPP;
                        ret->offset = (base + bits) / 8;
                        return size_of(b, m[i].type, &ret->size);
                }
                inner = name[0] ? NULL : resolve(b, m[i].type);
                if (inner && (kind_of(inner) == BTF_KIND_STRUCT || kind_of(inner) == BTF_KIND_UNION)) {
                        int r = find_member(b, inner, base + bits, member, depth + 1, budget, ret);
                        if (r != -ENOENT)
                                return r;
                }
        }
        return -ENOENT;
}

int kernel_btf_function(const KernelBtf *b, const char *name)
{
        return find_type(b, BTF_KIND_FUNC, name);
}

int kernel_btf_member(const KernelBtf *b, const char *name, const char *member, BtfMember *ret)
{
        int id = find_type(b, BTF_KIND_STRUCT, name);
        unsigned budget = MEMBERS_SEARCHED_MAX;

        return id < 0 ? id : find_member(b, type_by_id(b, (uint32_t)id), 0, member, 0, &budget, ret);
}
