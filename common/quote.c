/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "quote.h"

/* The length of the valid UTF-8 character at s, or 0 when there is none
 * (a stray continuation byte, an overlong form, a surrogate, a cut). */
static size_t utf8_char_length(const unsigned char *s)
{
        size_t n;
        uint32_t c;

        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                n = 2, c = s[0] & 0x1f;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                n = 3, c = s[0] & 0x0f;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                n = 4, c = s[0] & 0x07;
        else
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                c = c << 6 | (s[i] & 0x3f);
        }
        if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff))
                return 0;
        return n;
}

const char *quote_input(const char *s, char buf[static QUOTE_BUFFER_SIZE])
{
        const unsigned char *p = (const unsigned char *)(s ? s : "");
        size_t out = 0, chars = 0;

        while (*p && chars < QUOTE_INPUT_MAX) {
                size_t n = utf8_char_length(p);
                if (n == 1 && *p >= 0x20 && *p != 0x7f)
                        buf[out++] = (char)*p;
                else if (n == 1 && (*p == '\n' || *p == '\t'))
                        out += (size_t)snprintf(buf + out, 3, "\\%c", *p == '\n' ? 'n' : 't');
                else if (n <= 1) {
                        out += (size_t)snprintf(buf + out, 5, "\\x%02x", *p);
                        n = 1;
                } else {
                        memcpy(buf + out, p, n);
                        out += n;
                }
                p += n;
                chars++;
        }
        if (*p) {
                memcpy(buf + out, "...", 3);
                out += 3;
        }
        buf[out] = '\0';
        return buf;
}
