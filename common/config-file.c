/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-file.h"
#include "log.h"
#include "macro.h"

int config_file_read(const char *path, const char *skipped, ConfigLineFn fn, void *userdata)
{
        _cleanup_(fclosep) FILE *f = fopen(path, "re");
        _cleanup_free_ char *line = NULL;
        size_t size = 0;
        unsigned lineno = 0;

        if (!f) {
                if (errno != ENOENT)
                        log_warning("Cannot read %s: %s; it is skipped.", path, strerror(errno));
                return 0;
        }
        while (getline(&line, &size, f) >= 0) {
                const char *reason = "?";
                int r;

                lineno++;
                line[strcspn(line, "\n")] = '\0';
                r = fn(line, lineno, userdata, &reason);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        log_warning("%s:%u: %s; %s.", path, lineno, reason, skipped);
        }
        return (int)lineno;
}
