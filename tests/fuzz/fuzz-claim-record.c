/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "claim-record.h"

/* Any text either is refused or parses to a record that formats back to
 * the very same text: a record read at start is exactly one vfiod wrote. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = strndup((const char *)data, size), *again = NULL;
        ClaimRecord *r = NULL;

        if (!text)
                return 0;
        if (claim_record_parse(text, &r) == 0) {
                assert(claim_record_format(r, &again) == 0);
                assert(strcmp(text, again) == 0);
                free(again);
                claim_record_free(r);
        }
        free(text);
        return 0;
}
