/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cdi-config.h"
#include "config-file.h"

#define CDI_CONFIG_FILE "cdi.conf"
#define SPEC_VERSION "SpecVersion="
#define BLANKS " \t\r"

int cdi_config_parse_line(CdiConfig *c, const char *line, const char **ret_reason)
{
        char value[16];
        bool valid;
        size_t n;

        line += strspn(line, " \t");
        if (*line == '\0' || *line == '#')
                return 0;
        if (strncmp(line, SPEC_VERSION, strlen(SPEC_VERSION)) != 0) {
                *ret_reason = "unknown setting: the one known is " SPEC_VERSION;
                return -EINVAL;
        }
        /* Blanks after the value, a CR of a file written elsewhere: not
         * the value's. */
        line += strlen(SPEC_VERSION);
        n = strcspn(line, BLANKS);
        valid = n < sizeof(value) && line[n + strspn(line + n, BLANKS)] == '\0';
        if (valid) {
                memcpy(value, line, n);
                value[n] = '\0';
                valid = cdi_version_from_string(value, &c->spec_version) >= 0;
        }
        if (!valid) {
                *ret_reason = SPEC_VERSION " takes 0.6.0 or 0.5.0";
                return -EINVAL;
        }
        return 0;
}

static int parse_line(const char *line, unsigned lineno, void *userdata, const char **ret_reason)
{
        (void)lineno;
        return cdi_config_parse_line(userdata, line, ret_reason);
}

void cdi_config_load(const char *config_dir, CdiConfig *ret)
{
        char path[PATH_MAX];

        *ret = (CdiConfig){ .spec_version = CDI_VERSION_DEFAULT };
        snprintf(path, sizeof(path), "%s/" CDI_CONFIG_FILE, config_dir);
        (void)config_file_read(path, "line skipped", parse_line, ret);
}
