/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "claim-record.h"

/* Any text either is refused or parses to a record that, written whole,
 * reads back as the same record and writes the very same text again: a
 * record read at start is one vfiod wrote. Steps appended after the
 * devices fold into the record's one step line. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = strndup((const char *)data, size), *whole = NULL, *again = NULL;
        ClaimRecord *r = NULL, *reread = NULL;

        if (!text)
                return 0;
        if (claim_record_parse(text, &r) == 0) {
                assert(claim_record_format(r, &whole) == 0);
                assert(claim_record_parse(whole, &reread) == 0);
                assert(strcmp(r->step, reread->step) == 0);
                assert(claim_record_format(reread, &again) == 0);
                assert(strcmp(whole, again) == 0);
                /* The lines before the step's are the text's own. */
                assert(strncmp(text, whole, (size_t)(strstr(whole, "\nstep ") - whole)) == 0);
                free(whole);
                free(again);
                claim_record_free(r);
                claim_record_free(reread);
        }
        free(text);
        return 0;
}
