/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fs-util.h"
#include "macro.h"
#include "reset-method.h"

static const char *const method_names[] = {
        "device_specific", "acpi", "flr", "af_flr", "pm", "bus", "cxl_bus",
};

const char *reset_method_to_string(ResetMethod m)
{
        for (size_t i = 0; i < ELEMENTSOF(method_names); i++)
                if (m == 1u << i)
                        return method_names[i];
        return NULL;
}

int reset_method_from_string(const char *s, ResetMethod *ret)
{
        for (size_t i = 0; i < ELEMENTSOF(method_names); i++)
                if (streq(s, method_names[i])) {
                        *ret = 1u << i;
                        return 0;
                }
        return -EINVAL;
}

ResetMethods reset_methods_parse(const char *text)
{
        ResetMethods set = 0;

        for (const char *p = text; *(p += strspn(p, " \t\n"));) {
                char word[32];
                size_t n = strcspn(p, " \t\n");
                ResetMethod m;

                snprintf(word, sizeof(word), "%.*s", (int)(n < sizeof(word) ? n : sizeof(word) - 1), p);
                set |= n < sizeof(word) && reset_method_from_string(word, &m) >= 0 ? m : RESET_METHOD_OTHER;
                p += n;
        }
        return set;
}

ResetMethods reset_methods_read(const char *sysfs_dir)
{
        char path[PATH_MAX];
        _cleanup_free_ char *text = NULL;

        snprintf(path, sizeof(path), "%s/reset_method", sysfs_dir);
        text = read_full_file(path);
        if (text)
                return reset_methods_parse(text);
        snprintf(path, sizeof(path), "%s/reset", sysfs_dir);
        return access(path, F_OK) == 0 ? RESET_METHOD_OTHER : 0;
}

const char *reset_methods_format(ResetMethods set, char *buf, size_t size)
{
        FILE *f = fmemopen(buf, size, "w");

        if (!f) {
                snprintf(buf, size, "?");
                return buf;
        }
        for (unsigned bit = 0; bit < 8; bit++) {
                const char *name = reset_method_to_string(1u << bit);

                if (set & (1u << bit))
                        fprintf(f, "%s%s", ftell(f) > 0 ? ", " : "", name ?: "other");
        }
        if (set == 0)
                fputs("none", f);
        fclose(f);
        buf[size - 1] = '\0';
        return buf;
}
