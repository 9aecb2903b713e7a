/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib.h>
#include <stdlib.h>

#include "lease-info.h"
#include "macro.h"

/* A lease's line in its group's claim record: every mode and lifetime
 * comes back as written, and nothing else is taken. */

static void test_round_trip(void)
{
        for (LeaseMode m = 0; m < _LEASE_MODE_MAX; m++)
                for (LeaseLifetime t = 0; t < _LEASE_LIFETIME_MAX; t++) {
                        LeaseInfo in = { .id = 7, .uid = 1000, .pid = 42, .mode = m, .lifetime = t,
                                         .since_usec = 1700000000000000 }, out = {};
                        _cleanup_free_ char *text = NULL;

                        if (t == LEASE_LIFETIME_CONNECTION)
                                g_strlcpy(in.holder, ":1.42", sizeof(in.holder));
                        if (t == LEASE_LIFETIME_CLAIM_ID)
                                g_strlcpy(in.holder, "7f3c9a2e-5b1d-4c8e-9f00-1a2b3c4d5e6f", sizeof(in.holder));
                        g_assert_cmpint(lease_info_format(&in, &text), ==, 0);
                        g_test_message("%s", text);
                        g_assert_cmpint(lease_info_parse(text, &out), ==, 0);
                        g_assert_cmpint(out.mode, ==, m);
                        g_assert_cmpint(out.lifetime, ==, t);
                        g_assert_cmpstr(out.holder, ==, in.holder);
                        g_assert_cmpuint(out.since_usec, ==, in.since_usec);
                }
}

static void test_modes(void)
{
        LeaseMode m;
        LeaseInfo l;

        g_assert_cmpint(lease_mode_from_string("cdev", &m), ==, 0);
        g_assert_cmpint(m, ==, LEASE_MODE_CDEV);
        g_assert_cmpstr(lease_mode_to_string(LEASE_MODE_CDEV), ==, "cdev");
        g_assert_cmpint(lease_mode_from_string("CDEV", &m), <, 0);
        g_assert_cmpint(lease_mode_from_string("", &m), <, 0);
        g_assert_cmpint(lease_info_parse("7 1000 42 iommufd guard-fd - 1700000000000000", &l), <, 0);
        g_assert_cmpint(lease_info_parse("7 1000 42 cdev guard-fd - 1700000000000000", &l), ==, 0);
}

/* A prepared claim's lease names its claim id, which must be one; no other
 * lease names anything but a connection's bus name. */
static void test_holders(void)
{
        LeaseInfo l;

        g_assert_cmpint(lease_info_parse("7 0 42 none claim-id pod-1.gpu_0 1700000000000000", &l), ==, 0);
        g_assert_cmpstr(l.holder, ==, "pod-1.gpu_0");
        g_assert_cmpint(lease_info_parse("7 0 42 none claim-id - 1700000000000000", &l), <, 0);
        g_assert_cmpint(lease_info_parse("7 0 42 none claim-id ../etc 1700000000000000", &l), <, 0);
        g_assert_cmpint(lease_info_parse("7 0 42 none claim-id .hidden 1700000000000000", &l), <, 0);
        g_assert_cmpint(lease_info_parse("7 0 42 none claim-id :1.42 1700000000000000", &l), <, 0);
        g_assert_cmpint(lease_info_parse("7 0 42 none persistent pod-1 1700000000000000", &l), <, 0);
        g_assert_cmpint(lease_info_parse("7 0 42 none connection pod-1 1700000000000000", &l), <, 0);
        g_assert_cmpint(lease_info_parse("7 0 42 none claim-id "
                                         "a123456789012345678901234567890123456789012345678901234567890123 "
                                         "1700000000000000",
                                         &l),
                        <, 0);
}

int main(int argc, char *argv[])
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/lease-info/round-trip", test_round_trip);
        g_test_add_func("/lease-info/modes", test_modes);
        g_test_add_func("/lease-info/holders", test_holders);
        return g_test_run();
}
