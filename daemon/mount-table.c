/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "macro.h"
#include "mount-table.h"

/* The kernel escapes space, tab, newline and backslash in mountinfo as
 * three octal digits after a backslash ("\040"). */
static char *unescape(const char *s, size_t len)
{
        char *out = malloc(len + 1), *p = out;

        if (!out)
                return NULL;
        for (size_t i = 0; i < len; i++) {
                if (s[i] == '\\' && i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
                    s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
                        *p++ = (char)((s[i + 1] - '0') << 6 | (s[i + 2] - '0') << 3 | (s[i + 3] - '0'));
                        i += 3;
                } else
                        *p++ = s[i];
        }
        *p = '\0';
        return out;
}

static void mount_entry_done(MountEntry *e)
{
        free(e->mountpoint);
        free(e->fstype);
        free(e->source);
        free(e->options);
}

/* Splits line in place into at most max space-separated fields. */
static size_t split_fields(char *line, char **fields, size_t max)
{
        size_t n = 0;
        char *save = NULL;

        for (char *f = strtok_r(line, " \n", &save); f && n < max; f = strtok_r(NULL, " \n", &save))
                fields[n++] = f;
        return n;
}

/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS" */
static int parse_line(char *line, MountEntry *ret)
{
        char *fields[64];
        size_t n = split_fields(line, fields, ELEMENTSOF(fields)), dash;
        unsigned maj, min;

        for (dash = 6; dash < n && !streq(fields[dash], "-"); dash++)
                ;
        if (dash + 2 >= n || sscanf(fields[2], "%u:%u", &maj, &min) != 2)
                return -EINVAL;
        *ret = (MountEntry){
                .devnum = makedev(maj, min),
                .mountpoint = unescape(fields[4], strlen(fields[4])),
                .fstype = strdup(fields[dash + 1]),
                .source = unescape(fields[dash + 2], strlen(fields[dash + 2])),
                .options = strdup(dash + 3 < n ? fields[dash + 3] : ""),
        };
        if (!ret->mountpoint || !ret->fstype || !ret->source || !ret->options) {
                mount_entry_done(ret);
                return -ENOMEM;
        }
        return 0;
}

int mount_table_parse(FILE *f, MountTable *ret)
{
        _cleanup_free_ char *line = NULL;
        size_t size = 0;
        MountTable t = {};
        MountEntry e, *a;
        int r;

        while (getline(&line, &size, f) > 0) {
                r = parse_line(line, &e);
                if (r == -EINVAL)
                        continue;
                if (r < 0)
                        goto fail;
                a = reallocarray(t.entries, t.n + 1, sizeof(*a));
                if (!a) {
                        mount_entry_done(&e);
                        r = -ENOMEM;
                        goto fail;
                }
                t.entries = a;
                t.entries[t.n++] = e;
        }
        *ret = t;
        return 0;
fail:
        mount_table_done(&t);
        return r;
}

int mount_table_read(const char *path, MountTable *ret)
{
        _cleanup_(fclosep) FILE *f = fopen(path, "re");

        if (!f)
                return -errno;
        return mount_table_parse(f, ret);
}

void mount_table_done(MountTable *t)
{
        for (size_t i = 0; i < t->n; i++)
                mount_entry_done(&t->entries[i]);
        free(t->entries);
        *t = (MountTable){};
}

bool path_is_at_or_below(const char *path, const char *top)
{
        size_t n = strlen(top);

        if (streq(top, "/"))
                return path[0] == '/';
        return strncmp(path, top, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

const MountEntry *mount_table_find_path(const MountTable *t, const char *path)
{
        const MountEntry *best = NULL;

        for (size_t i = 0; i < t->n; i++) {
                const MountEntry *e = &t->entries[i];
                if (path_is_at_or_below(path, e->mountpoint) &&
                    (!best || strlen(e->mountpoint) >= strlen(best->mountpoint)))
                        best = e;
        }
        return best;
}

char *mount_option_value(const char *options, const char *key, size_t *iter)
{
        size_t klen = strlen(key);

        for (const char *p = options + *iter; *p;) {
                size_t len = strcspn(p, ",");
                const char *next = p + len + (p[len] == ',');
                if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
                        *iter = (size_t)(next - options);
                        return unescape(p + klen + 1, len - klen - 1);
                }
                p = next;
        }
        *iter = strlen(options);
        return NULL;
}
