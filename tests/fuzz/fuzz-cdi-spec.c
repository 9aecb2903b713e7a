/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cdi-spec.h"
#include "claim-id.h"
#include "macro.h"

/* A CDI spec made of what a caller and the kernel hand in: a claim id,
 * PCI addresses and cdev paths (lines of the input, the first the claim
 * id, those that start with '/' cdevs) and a group number (the first
 * byte, signed). Refused, or a spec a runtime can read: plain printable
 * text, every quote a string's and nothing escaped, brackets balanced,
 * the claim id and every address in it, annotations only from 0.6.0 on. */

static size_t count(const char *s, char c)
{
        size_t n = 0;
        for (; *s; s++)
                n += *s == c;
        return n;
}

static void check_spec(const CdiDevice *d, const char *text)
{
        char name[CLAIM_ID_MAX + 16];

        for (const char *p = text; *p; p++)
                assert(*p == '\n' || (*p >= ' ' && *p <= '~'));
        assert(!strchr(text, '\\'));
        assert(count(text, '"') % 2 == 0);
        assert(count(text, '{') == count(text, '}'));
        assert(count(text, '[') == count(text, ']'));
        snprintf(name, sizeof(name), "\"name\": \"%s\"", d->claim_id);
        assert(strstr(text, name));
        assert(claim_id_is_valid(d->claim_id));
        for (size_t i = 0; i < d->n_cdevs; i++)
                assert(strstr(text, d->cdevs[i]));
        /* The key, not the word: "annotations" is a claim id like any other. */
        if (d->version == CDI_VERSION_0_5_0)
                assert(!strstr(text, "\"annotations\":"));
        else {
                snprintf(name, sizeof(name), "\"" CDI_ANNOTATION_GROUPS "\": \"%d\"", d->groups[0]);
                assert(strstr(text, name));
                for (size_t i = 0; i < d->n_addresses; i++)
                        assert(strstr(text, d->addresses[i]));
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *input, *lines[16], *cdevs[16], *addresses[16], *save = NULL;
        size_t n_lines = 0, n_cdevs = 0, n_addresses = 0;
        int group;

        if (size < 1)
                return 0;
        group = (int8_t)data[0];
        input = strndup((const char *)data + 1, size - 1);
        if (!input)
                return 0;
        for (char *l = strtok_r(input, "\n", &save); l && n_lines < ELEMENTSOF(lines); l = strtok_r(NULL, "\n", &save))
                lines[n_lines++] = l;
        for (size_t i = 1; i < n_lines; i++)
                if (lines[i][0] == '/')
                        cdevs[n_cdevs++] = lines[i];
                else
                        addresses[n_addresses++] = lines[i];
        for (CdiVersion v = 0; n_lines > 0 && v < _CDI_VERSION_MAX; v++) {
                CdiDevice d = { .version = v, .claim_id = lines[0], .groups = &group, .n_groups = 1,
                                .cdevs = cdevs, .n_cdevs = n_cdevs, .addresses = addresses, .n_addresses = n_addresses };
                char *text = NULL;
                int r = cdi_spec_format(&d, &text);

                assert(r == 0 || r == -EINVAL || r == -ENOMEM);
                if (r == 0)
                        check_spec(&d, text);
                free(text);
        }
        free(input);
        return 0;
}
