/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>

#include "config-file.h"
#include "limits-config.h"
#include "size.h"

#define LIMITS_FILE "limits.conf"

static uint64_t total_ram(void)
{
        struct sysinfo si;

        if (sysinfo(&si) < 0)
                return 0;
        return (uint64_t)si.totalram * si.mem_unit;
}

int limits_parse_line(Limits *l, const char *line, const char **ret_reason)
{
        const char *value;

        line += strspn(line, " \t");
        if (*line == '\0' || *line == '#')
                return 0;
        if (strncmp(line, "MemlockMax=", 11) != 0) {
                *ret_reason = "unknown setting: the one known is MemlockMax=";
                return -EINVAL;
        }
        value = line + 11;
        if (parse_size(value, &l->memlock_max) < 0) {
                *ret_reason = "MemlockMax= takes a size such as 64G";
                return -EINVAL;
        }
        return 0;
}

/* A wrong line changes nothing: it is parsed into a copy. */
static int parse_line(const char *line, unsigned lineno, void *userdata, const char **ret_reason)
{
        Limits *l = userdata, parsed = *l;
        int r = limits_parse_line(&parsed, line, ret_reason);

        (void)lineno;
        if (r >= 0)
                *l = parsed;
        return r;
}

void limits_load(const char *config_dir, Limits *ret)
{
        char path[PATH_MAX];

        *ret = (Limits){ .memlock_max = total_ram() };
        snprintf(path, sizeof(path), "%s/" LIMITS_FILE, config_dir);
        (void)config_file_read(path, "line skipped", parse_line, ret);
}
