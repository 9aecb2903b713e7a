/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quote.h"

/* The length of the valid UTF-8 character at s, its code point in *ret,
 * or 0 when there is none (a stray continuation byte, an overlong form, a
 * surrogate, a cut). */
static size_t utf8_decode(const unsigned char *s, uint32_t *ret)
{
        size_t n;
        uint32_t c;

        *ret = s[0];
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
        *ret = c;
        return n;
}

/* Characters that change how the text around them reads rather than
 * showing: C1 controls (U+009B is CSI to some terminals), the
 * bidirectional marks, embeddings, overrides and isolates, and the line
 * and paragraph separators. */
static bool is_invisible_control(uint32_t c)
{
        return (c >= 0x80 && c < 0xa0) || c == 0x61c || c == 0x200e || c == 0x200f ||
               (c >= 0x2028 && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

/* Copies characters of *p into out until the end or max_chars, escaping
 * what quote_input() escapes (a backslash only when backslash is true);
 * advances *p. Returns the bytes written (at most 4 per byte read, 12 per
 * character), without a terminator. */
static size_t escape_characters(const unsigned char **p, size_t max_chars, bool backslash, char *out)
{
        const unsigned char *s = *p;
        size_t n_out = 0;

        for (size_t chars = 0; *s && chars < max_chars; chars++) {
                uint32_t c;
                size_t n = utf8_decode(s, &c);
                /* Invisible controls are escaped byte by byte, and a
                 * backslash too, so that an escape never reads like
                 * another text. */
                if (n == 1 && *s == '\\' && backslash) {
                        memcpy(out + n_out, "\\\\", 2);
                        n_out += 2;
                } else if (n > 1 && is_invisible_control(c)) {
                        for (size_t i = 0; i < n; i++)
                                n_out += (size_t)snprintf(out + n_out, 5, "\\x%02x", s[i]);
                } else if (n == 1 && *s >= 0x20 && *s != 0x7f)
                        out[n_out++] = (char)*s;
                else if (n == 1 && (*s == '\n' || *s == '\t'))
                        n_out += (size_t)snprintf(out + n_out, 3, "\\%c", *s == '\n' ? 'n' : 't');
                else if (n <= 1) {
                        n_out += (size_t)snprintf(out + n_out, 5, "\\x%02x", *s);
                        n = 1;
                } else {
                        memcpy(out + n_out, s, n);
                        n_out += n;
                }
                s += n;
        }
        *p = s;
        return n_out;
}

const char *quote_input(const char *s, char buf[static QUOTE_BUFFER_SIZE])
{
        const unsigned char *p = (const unsigned char *)(s ? s : "");
        size_t out = escape_characters(&p, QUOTE_INPUT_MAX, true, buf);

        if (*p) {
                memcpy(buf + out, "...", 3);
                out += 3;
        }
        buf[out] = '\0';
        return buf;
}

static char *escape_text(const char *text, bool backslash)
{
        const unsigned char *p = (const unsigned char *)text;
        size_t len = strlen(text);
        char *out;

        if (len > (SIZE_MAX - 1) / 4 || !(out = malloc(len * 4 + 1)))
                return NULL;
        out[escape_characters(&p, SIZE_MAX, backslash, out)] = '\0';
        return out;
}

char *printable_text(const char *text)
{
        return escape_text(text, true);
}

char *sendable_text(const char *text)
{
        return escape_text(text, false);
}
