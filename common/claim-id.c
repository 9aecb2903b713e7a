/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "claim-id.h"

#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

bool claim_id_is_valid(const char *s)
{
        size_t n = strlen(s);

        return n > 0 && n < CLAIM_ID_MAX && strchr(ALNUM, s[0]) && s[0] != '\0' && strspn(s, ALNUM "._-") == n;
}
