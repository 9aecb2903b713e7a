/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <unistd.h>

#include "macro.h"
#include "reservation-config.h"
#include "reservation.h"

/* Reservations: the match language of vfiod.conf(5) and the files. */

static void assert_canonical(const char *input, const char *canonical)
{
        char buf[RESERVATION_MATCH_STRING_MAX];
        ReservationMatch m, again;
        const char *reason = NULL;

        g_assert_cmpint(reservation_match_parse(input, &m, &reason), ==, 0);
        g_assert_cmpstr(reservation_match_format(&m, buf), ==, canonical);
        g_assert_cmpint(reservation_match_parse(buf, &again, &reason), ==, 0);
        g_assert_true(reservation_match_equal(&m, &again));
}

static void test_match_forms(void)
{
        assert_canonical("0000:01:00.0", "0000:01:00.0");
        assert_canonical("01:00.0", "0000:01:00.0");
        assert_canonical("10DE:1B80", "10de:1b80");
        assert_canonical("10de:1b80:1458:3702", "10de:1b80:1458:3702");
        assert_canonical("1234:11e8@00:03.0", "1234:11e8@0000:00:03.0");
        assert_canonical("0000:00:1C.0/00.0", "0000:00:1c.0/00.0");
        assert_canonical("00:06.0/01.0/1f.7", "0000:00:06.0/01.0/1f.7");
        assert_canonical("8086:100e@0000:00:06.0/02.0", "8086:100e@0000:00:06.0/02.0");
}

static void test_match_refuses(void)
{
        static const char *const bad[] = {
                "",           "1234",          "1234:11e",     "1234:11e8:1",  "1234:11e8:1:2", "12345:11e8",
                "1234:11e8@", "@00:03.0",      "00:03.8",      "00:20.0",      "00:03.0/",      "00:03.0/20.0",
                "00:03.0/1.0", "00:03.0/01.8", "/01.0",        "00:03.0 ",     "../00:03.0",    "1234:11e8@1234:11e8",
                "00:03.0/01.0/01.0/01.0/01.0/01.0/01.0/01.0/01.0/01.0",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                ReservationMatch m;
                const char *reason = NULL;
                g_test_message("%s", bad[i]);
                g_assert_cmpint(reservation_match_parse(bad[i], &m, &reason), ==, -EINVAL);
                g_assert_nonnull(reason);
        }
}

static void test_matches(void)
{
        PciIdentity edu = { .address = "0000:00:03.0", .path = "0000:00:03.0", .vendor = 0x1234, .device = 0x11e8,
                            .subvendor = 0x1af4, .subdevice = 0x1100 };
        PciIdentity edu2 = { .address = "0000:00:08.0", .path = "0000:00:08.0", .vendor = 0x1234, .device = 0x11e8 };
        PciIdentity bridged = { .address = "0000:01:01.0", .path = "0000:00:06.0/01.0", .vendor = 0x1234,
                                .device = 0x11e8 };
        ReservationMatch m;

        g_assert_cmpint(reservation_match_parse("1234:11e8", &m, NULL), ==, 0);
        g_assert_true(reservation_matches(&m, &edu) && reservation_matches(&m, &edu2));
        g_assert_cmpint(reservation_match_parse("1234:11e8@0000:00:08.0", &m, NULL), ==, 0);
        g_assert_true(!reservation_matches(&m, &edu) && reservation_matches(&m, &edu2));
        g_assert_cmpint(reservation_match_parse("1234:11e8:1af4:1100", &m, NULL), ==, 0);
        g_assert_true(reservation_matches(&m, &edu) && !reservation_matches(&m, &edu2));
        g_assert_cmpint(reservation_match_parse("8086:100e", &m, NULL), ==, 0);
        g_assert_false(reservation_matches(&m, &edu));
        g_assert_cmpint(reservation_match_parse("0000:00:06.0/01.0", &m, NULL), ==, 0);
        g_assert_true(reservation_matches(&m, &bridged) && !reservation_matches(&m, &edu));
        g_assert_cmpint(reservation_match_parse("00:03.0", &m, NULL), ==, 0);
        g_assert_true(reservation_matches(&m, &edu) && !reservation_matches(&m, &edu2));
}

static void test_physical_path(void)
{
        char buf[RESERVATION_MATCH_STRING_MAX];

        g_assert_cmpint(reservation_physical_path("/sys/devices/pci0000:00/0000:00:03.0", buf), ==, 0);
        g_assert_cmpstr(buf, ==, "0000:00:03.0");
        g_assert_cmpint(reservation_physical_path("/sys/devices/pci0000:00/0000:00:06.0/0000:01:01.0", buf), ==, 0);
        g_assert_cmpstr(buf, ==, "0000:00:06.0/01.0");
        g_assert_cmpint(reservation_physical_path("/sys/devices/virtual/net/lo", buf), ==, -EINVAL);
        g_assert_cmpint(reservation_physical_path("/tmp/0000:00:03.0", buf), ==, -EINVAL);
}

static void test_lines(void)
{
        Reservation r;
        const char *reason = NULL;
        char *line = NULL;

        g_assert_cmpint(reservation_parse_line("", &r, &reason), ==, 0);
        g_assert_cmpint(reservation_parse_line("   # a comment", &r, &reason), ==, 0);
        g_assert_cmpint(reservation_parse_line("  0000:00:04.0   # the NIC", &r, &reason), ==, 1);
        g_assert_cmpstr(r.owner, ==, "");
        g_assert_cmpint(reservation_parse_line("1234:11e8@00:03.0 owner=@vfio", &r, &reason), ==, 1);
        g_assert_cmpstr(r.owner, ==, "@vfio");
        g_assert_cmpint(reservation_format_line(&r, &line), ==, 0);
        g_assert_cmpstr(line, ==, "1234:11e8@0000:00:03.0 owner=@vfio");
        free(line);
        g_assert_cmpint(reservation_parse_line("00:03.0 owner=alice", &r, &reason), ==, 1);
        g_assert_cmpstr(r.owner, ==, "alice");

        g_assert_cmpint(reservation_parse_line("00:03.0 owner=alice owner=bob", &r, &reason), ==, -EINVAL);
        g_assert_cmpint(reservation_parse_line("00:03.0 owner=", &r, &reason), ==, -EINVAL);
        g_assert_cmpint(reservation_parse_line("00:03.0 owner=../x", &r, &reason), ==, -EINVAL);
        g_assert_cmpint(reservation_parse_line("00:03.0 owner=@", &r, &reason), ==, -EINVAL);
        g_assert_cmpint(reservation_parse_line("00:03.0 driver=e1000", &r, &reason), ==, -EINVAL);
        g_assert_cmpstr(reason, ==, "after the match only 'owner=USER' or 'owner=@GROUP' may follow");
        g_assert_cmpint(reservation_parse_line("gpu please", &r, &reason), ==, -EINVAL);
}

static void write_text(const char *path, const char *text)
{
        g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

/* Loading skips the bad line only; adding and removing keep the rest. */
static void test_config_files(void)
{
        g_autofree char *dir = g_dir_make_tmp("vfiod-reservations-XXXXXX", NULL);
        g_autofree char *drop_in = g_build_filename(dir, RESERVATIONS_DIR, NULL);
        g_autofree char *a = g_build_filename(drop_in, "10-a.conf", NULL);
        g_autofree char *b = g_build_filename(drop_in, "20-b.conf", NULL);
        g_autofree char *a_text = NULL;
        _cleanup_free_ char *added = NULL;
        ReservationSet set;
        ReservationMatch m;
        Reservation r = {};
        size_t removed;
        PciIdentity nic = { .address = "0000:00:04.0", .vendor = 0x8086, .device = 0x100e };

        g_assert_cmpint(reservation_set_load(dir, &set), ==, 0); /* no directory yet */
        g_assert_cmpuint(set.n_entries, ==, 0);
        g_assert_cmpint(g_mkdir(drop_in, 0755), ==, 0);
        write_text(a, "# the NIC\n0000:00:04.0 owner=alice\nthis is not a match\n1234:11e8\n");
        write_text(b, "00:04.0\n");
        g_assert_cmpint(reservation_set_load(dir, &set), ==, 0);
        g_assert_cmpuint(set.n_entries, ==, 3);
        g_assert_cmpstr(set.entries[1].file, ==, a);
        g_assert_cmpuint(set.entries[1].line, ==, 4);
        g_assert_cmpstr(reservation_set_find(&set, &nic)->reservation.owner, ==, "alice");
        reservation_set_clear(&set);

        g_assert_cmpint(reservation_match_parse("0000:00:06.0/01.0", &r.match, NULL), ==, 0);
        g_assert_cmpint(reservation_config_add(dir, &r, &added), ==, 0);
        g_assert_true(g_str_has_suffix(added, "/vfioctl-0000:00:06.0_01.0.conf"));
        g_assert_cmpint(reservation_set_load(dir, &set), ==, 0);
        g_assert_cmpuint(set.n_entries, ==, 4);
        g_assert_nonnull(reservation_set_find_match(&set, &r.match));
        /* Dropping a match takes every line of it out of the set (the NIC
         * twice, in two spellings); the others stay, in order. */
        g_assert_cmpint(reservation_match_parse("0000:00:04.0", &m, NULL), ==, 0);
        reservation_set_drop_match(&set, &m);
        g_assert_cmpuint(set.n_entries, ==, 2);
        g_assert_null(reservation_set_find_match(&set, &m));
        g_assert_cmpuint(set.entries[0].line, ==, 4);
        g_assert_nonnull(reservation_set_find_match(&set, &r.match));
        reservation_set_clear(&set);

        /* The NIC is in two files: both lose it; b, left empty, goes; a
         * keeps its comment and its other lines. */
        g_assert_cmpint(reservation_match_parse("0000:00:04.0", &m, NULL), ==, 0);
        g_assert_cmpint(reservation_config_remove(dir, &m, &removed), ==, 0);
        g_assert_cmpuint(removed, ==, 2);
        g_assert_false(g_file_test(b, G_FILE_TEST_EXISTS));
        g_assert_true(g_file_get_contents(a, &a_text, NULL, NULL));
        g_assert_cmpstr(a_text, ==, "# the NIC\nthis is not a match\n1234:11e8\n");
        g_assert_cmpint(reservation_config_remove(dir, &r.match, &removed), ==, 0);
        g_assert_cmpuint(removed, ==, 1);
        g_assert_false(g_file_test(added, G_FILE_TEST_EXISTS));
        g_assert_cmpint(reservation_config_remove(dir, &r.match, &removed), ==, 0);
        g_assert_cmpuint(removed, ==, 0);

        g_assert_cmpint(g_remove(a), ==, 0);
        g_assert_cmpint(g_rmdir(drop_in), ==, 0);
        g_assert_cmpint(g_rmdir(dir), ==, 0);
}

int main(int argc, char *argv[])
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/reservation/match-forms", test_match_forms);
        g_test_add_func("/reservation/match-refuses", test_match_refuses);
        g_test_add_func("/reservation/matches", test_matches);
        g_test_add_func("/reservation/physical-path", test_physical_path);
        g_test_add_func("/reservation/lines", test_lines);
        g_test_add_func("/reservation/config-files", test_config_files);
        return g_test_run();
}
