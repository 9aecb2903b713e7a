/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>

#include "limits-config.h"
#include "log.h"
#include "macro.h"
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

void limits_load(const char *config_dir, Limits *ret)
{
        char path[PATH_MAX], line[512];
        _cleanup_(fclosep) FILE *f = NULL;
        unsigned lineno = 0;

        *ret = (Limits){ .memlock_max = total_ram() };
        snprintf(path, sizeof(path), "%s/" LIMITS_FILE, config_dir);
        f = fopen(path, "re");
        if (!f) {
                if (errno != ENOENT)
                        log_warning("Cannot read %s: %s; using the defaults.", path, strerror(errno));
                return;
        }
        while (fgets(line, sizeof(line), f)) {
                const char *reason = NULL;
                Limits parsed = *ret;

                lineno++;
                line[strcspn(line, "\n")] = '\0';
                if (limits_parse_line(&parsed, line, &reason) < 0)
                        log_warning("%s:%u: %s; line skipped.", path, lineno, reason);
                else
                        *ret = parsed;
        }
}
