/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cdi-config.h"
#include "lease-info.h"
#include "limits-config.h"

/* The lease line of a claim record (with its holder: a bus name, or a
 * prepared claim's id, claim-id.c) and a line of limits.conf or cdi.conf:
 * a lease line either is refused or formats back to the very same text; a
 * configuration line either is refused with a reason or sets a value that
 * is one. None crashes. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = strndup((const char *)data, size), *again = NULL;
        LeaseInfo l = { .group = 1 };
        Limits limits = { 0 };
        CdiConfig cdi = { .spec_version = CDI_VERSION_DEFAULT };
        const char *reason = NULL;

        if (!text)
                return 0;
        if (lease_info_parse(text, &l) == 0) {
                assert(lease_info_format(&l, &again) == 0);
                assert(strcmp(text, again) == 0);
                free(again);
        }
        if (limits_parse_line(&limits, text, &reason) < 0)
                assert(reason);
        reason = NULL;
        if (cdi_config_parse_line(&cdi, text, &reason) < 0)
                assert(reason);
        assert(cdi_version_to_string(cdi.spec_version));
        free(text);
        return 0;
}
