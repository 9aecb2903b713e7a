/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* Caller input quoted back in a message (a D-Bus error, a log line, the
 * client's output) must be short, printable and valid UTF-8: a D-Bus
 * message that is not valid UTF-8 cannot be sent, and its caller would
 * wait for an answer that never comes. */

/* Enough for QUOTE_INPUT_MAX characters, each escaped (a bidirectional
 * override, three bytes, takes twelve), and "...". */
#define QUOTE_INPUT_MAX 64
#define QUOTE_BUFFER_SIZE (QUOTE_INPUT_MAX * 12 + 4)

/* Copies at most QUOTE_INPUT_MAX characters of s into buf: whole UTF-8
 * characters only, control characters (C0, C1, the bidirectional ones and
 * the line and paragraph separators) and bytes that are not UTF-8 escaped
 * as \xNN (\n, \t as such), a backslash as \\, "..." when cut. Returns
 * buf. */
const char *quote_input(const char *s, char buf[static QUOTE_BUFFER_SIZE]);

/* A copy of text, whatever its length, with what quote_input() escapes
 * escaped: for text that is not the caller's but may still not be UTF-8 or
 * printable (a process's name). NULL when out of memory. */
char *printable_text(const char *text);

/* The same, but a backslash is left as it is: for a whole message whose
 * parts may have been quoted already, so that what was escaped once is not
 * escaped again, while whatever was not is made printable all the same. */
char *sendable_text(const char *text);
