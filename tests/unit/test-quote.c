/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "bus-util.h"
#include "quote.h"

/* Caller input quoted back: valid UTF-8, printable, bounded. */

static void assert_quoted(const char *input, const char *want)
{
        char buf[QUOTE_BUFFER_SIZE];
        const char *got = quote_input(input, buf);

        g_assert_cmpstr(got, ==, want);
        g_assert_true(g_utf8_validate(got, -1, NULL));
}

/* The input that left a GetDevice call unanswered: 63 ASCII letters and a
 * two-byte character, cut in half at 64 bytes. */
static void test_cut_at_character(void)
{
        g_autofree char *a63 = g_strnfill(63, 'a'), *a64 = g_strnfill(64, 'a');
        g_autofree char *fits = g_strconcat(a63, "Ё", NULL), *cut = g_strconcat(a64, "Ё", NULL);
        g_autofree char *cut_want = g_strconcat(a64, "...", NULL);

        assert_quoted(fits, fits); /* 64 characters: whole */
        assert_quoted(cut, cut_want);
        assert_quoted("", "");
        assert_quoted(NULL, "");
}

static void test_escapes(void)
{
        assert_quoted("a\nb\tc", "a\\nb\\tc");
        assert_quoted("x\x01y\x1b[2Jz\x7f", "x\\x01y\\x1b[2Jz\\x7f");
        /* Not UTF-8: a stray continuation, a lone lead byte, an overlong
         * '/', a surrogate. */
        assert_quoted("\x81", "\\x81");
        assert_quoted("\xd0", "\\xd0");
        assert_quoted("\xc0\xaf", "\\xc0\\xaf");
        assert_quoted("\xed\xa0\x80", "\\xed\\xa0\\x80");
        assert_quoted("日本\xf0\x9f\x98\x80", "日本\xf0\x9f\x98\x80");
        /* A C1 control (U+009B, CSI to some terminals), and a backslash,
         * which must not make a text read like an escape. */
        assert_quoted("a\xc2\x9b" "2Jb", "a\\xc2\\x9b2Jb");
        assert_quoted("\xc2\xa0", "\xc2\xa0"); /* U+00A0 is printable */
        /* A right-to-left override would make "cod.exe" read as
         * "exe.doc"; a line separator would start a line of its own. */
        assert_quoted("a\xe2\x80\xaegnp.exe", "a\\xe2\\x80\\xaegnp.exe");
        assert_quoted("a\xe2\x80\xa8" "b\xe2\x81\xa6" "c\xd8\x9c" "d", "a\\xe2\\x80\\xa8b\\xe2\\x81\\xa6c\\xd8\\x9cd");
        assert_quoted("\xe2\x80\x94", "\xe2\x80\x94"); /* an em dash shows */
        assert_quoted("sl\\xffp", "sl\\\\xffp");
}

static void test_bounded(void)
{
        char buf[QUOTE_BUFFER_SIZE];
        g_autofree char *controls = g_strnfill(10000, '\x02');
        g_autofree char *wide = NULL;
        GString *s = g_string_new(NULL);

        /* Every character escaped, then the cut. */
        g_assert_cmpuint(strlen(quote_input(controls, buf)), ==, QUOTE_INPUT_MAX * 4 + 3);
        for (int i = 0; i < 1000; i++)
                g_string_append(s, "\xf0\x9f\x98\x80");
        wide = g_string_free(s, FALSE);
        g_assert_cmpuint(strlen(quote_input(wide, buf)), ==, QUOTE_INPUT_MAX * 4 + 3);
        g_assert_true(g_utf8_validate(buf, -1, NULL));
        /* The longest: right-to-left overrides, twelve bytes each, then
         * the cut. */
        s = g_string_new(NULL);
        for (int i = 0; i < 1000; i++)
                g_string_append(s, "\xe2\x80\xae");
        g_assert_cmpuint(strlen(quote_input(s->str, buf)), ==, QUOTE_INPUT_MAX * 12 + 3);
        g_string_free(s, TRUE);
}

/* Text that is not the caller's: escaped the same way, never cut. */
static void test_printable_text(void)
{
        g_autofree char *long_text = g_strnfill(1000, 'x');
        g_autofree char *a = printable_text("sl\xff\x1b[2Jp\n"), *b = printable_text(long_text);
        g_autofree char *c = printable_text("/mnt/日本"), *d = printable_text("");

        g_assert_cmpstr(a, ==, "sl\\xff\\x1b[2Jp\\n");
        g_assert_cmpstr(b, ==, long_text);
        g_assert_cmpstr(c, ==, "/mnt/日本");
        g_assert_cmpstr(d, ==, "");
}

/* Every error vfiod sends goes through bus_error_setf(): whatever bytes
 * its text names, the message is one sd-bus can send. */
static void test_bus_error_text(void)
{
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = bus_error_setf(&error, SD_BUS_ERROR_ACCESS_DENIED, "held by PID %d (%s)", 12, "sl\xffp");

        g_assert_cmpint(r, ==, -EACCES);
        g_assert_cmpstr(error.name, ==, SD_BUS_ERROR_ACCESS_DENIED);
        g_assert_cmpstr(error.message, ==, "held by PID 12 (sl\\xffp)");
        g_assert_true(g_utf8_validate(error.message, -1, NULL));
        sd_bus_error_free(&error);
}

/* A caller's input, quoted in an error, is escaped once: the caller reads
 * back what quote_input() wrote. */
static void test_bus_error_quotes_once(void)
{
        sd_bus_error error = SD_BUS_ERROR_NULL;
        char buf[QUOTE_BUFFER_SIZE];

        (void)bus_error_setf(&error, SD_BUS_ERROR_INVALID_ARGS, "'%s' is no address", quote_input("a\x1b\\b", buf));
        g_assert_cmpstr(error.message, ==, "'a\\x1b\\\\b' is no address");
        sd_bus_error_free(&error);
        /* Text quoted nowhere is made printable all the same. */
        (void)bus_error_setf(&error, SD_BUS_ERROR_INVALID_ARGS, "%s", "a\x1b\xc2\x9b");
        g_assert_cmpstr(error.message, ==, "a\\x1b\\xc2\\x9b");
        sd_bus_error_free(&error);
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/quote/cut-at-character", test_cut_at_character);
        g_test_add_func("/quote/escapes", test_escapes);
        g_test_add_func("/quote/bounded", test_bounded);
        g_test_add_func("/quote/printable-text", test_printable_text);
        g_test_add_func("/quote/bus-error-text", test_bus_error_text);
        g_test_add_func("/quote/bus-error-quotes-once", test_bus_error_quotes_once);
        return g_test_run();
}
