/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "cdi-spec.h"

/* What the administrator asks of the CDI specs, from <config dir>/cdi.conf:
 *
 *   # the runtimes here read no CDI version after 0.5.0 (Debian 12's podman)
 *   SpecVersion=0.5.0
 *
 * A line that is not understood is logged with file, line and reason and
 * skipped; a missing file means the defaults. */

typedef struct CdiConfig {
        CdiVersion spec_version; /* default: CDI_VERSION_DEFAULT */
} CdiConfig;

void cdi_config_load(const char *config_dir, CdiConfig *ret);
/* One line of the file; -EINVAL with *ret_reason set when it is wrong. */
int cdi_config_parse_line(CdiConfig *c, const char *line, const char **ret_reason);
