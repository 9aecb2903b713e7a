/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib.h>

#include "bus-names.h"
#include "policy.h"

/* Who may do what (daemon/policy.c), on a group made up here: a GPU and
 * its audio function behind a root port, which stays where it is. */

static PciDevice pci[] = {
        { .address = "0000:00:01.0", .vendor_id = 0x8086, .device_id = 0x1901, .class_code = 0x060400 },
        { .address = "0000:01:00.0", .vendor_id = 0x10de, .device_id = 0x1c82, .class_code = 0x030000 },
        { .address = "0000:01:00.1", .vendor_id = 0x10de, .device_id = 0x0fb9, .class_code = 0x040300 },
};
static Device devices[] = {
        { .pci = &pci[0], .vendor_name = "Intel Corporation", .model_name = "Root Port" },
        { .pci = &pci[1], .vendor_name = "NVIDIA Corporation", .model_name = "GP107" },
        { .pci = &pci[2] }, /* not in the hwdb */
};
static Device *members[] = { &devices[0], &devices[1], &devices[2] };
static const Group gpu = { .id = 7, .devices = members, .n_devices = G_N_ELEMENTS(members) };

static void test_claim_asks_polkit_with_every_endpoint(void)
{
        PolicyDecision d;

        g_assert_cmpint(policy_claim(1000, &gpu, false, LEASE_LIFETIME_CONNECTION, NULL, &d), ==, 0);
        g_assert_cmpint(d.verdict, ==, POLICY_ASK);
        g_assert_cmpuint(d.caller, ==, 1000); /* polkit's limits count this uid */
        g_assert_cmpstr(d.action, ==, VFIOD_ACTION_CLAIM);
        g_assert_cmpstr(d.details.device, ==, "0000:01:00.0 0000:01:00.1");
        g_assert_cmpstr(d.details.vendor, ==, "10de");
        g_assert_cmpstr(d.details.model, ==, "1c82 0fb9");
        g_assert_cmpstr(d.details.ids, ==, "10de:1c82 10de:0fb9");
        g_assert_cmpstr(d.details.names, ==, "NVIDIA Corporation GP107; unknown vendor unknown device");
        g_assert_cmpstr(d.details.group, ==, "7");
        g_assert_null(d.details.match);
        g_assert_null(d.details.stop_units); /* no profile: not given at all */
        g_assert_null(d.details.unload_modules);
        g_assert_null(d.details.ask_holders);
        policy_decision_done(&d);
}

/* A hand-off profile is part of the claim: polkit is told what it stops
 * and unloads, each once, and nothing of a profile for the bridge. */
static void test_claim_names_what_profiles_do(void)
{
        static const char *const nvidia[] = {
                "Drivers=nvidia",
                "StopUnits=nvidia-persistenced.service display-manager.service",
                "UnloadModules=nvidia_drm nvidia",
                "AskHolders=yes",
        };
        static const char *const port[] = { "Drivers=pcieport", "StopUnits=fwupd.service" };
        Profile profiles[2] = {};
        ProfileSet set = { .profiles = profiles, .n = 2 };
        PolicyDecision d;
        const char *reason;

        for (size_t i = 0; i < G_N_ELEMENTS(nvidia); i++)
                g_assert_cmpint(profile_parse_line(&profiles[0], nvidia[i], &reason), ==, 0);
        for (size_t i = 0; i < G_N_ELEMENTS(port); i++)
                g_assert_cmpint(profile_parse_line(&profiles[1], port[i], &reason), ==, 0);
        pci[0].driver = (char *)"pcieport";
        pci[1].driver = pci[2].driver = (char *)"nvidia";
        g_assert_cmpint(policy_claim(1000, &gpu, false, LEASE_LIFETIME_CONNECTION, &set, &d), ==, 0);
        g_assert_cmpstr(d.details.stop_units, ==, "nvidia-persistenced.service display-manager.service");
        g_assert_cmpstr(d.details.unload_modules, ==, "nvidia_drm nvidia");
        g_assert_cmpstr(d.details.ask_holders, ==, "yes");
        policy_decision_done(&d);
        pci[0].driver = pci[1].driver = pci[2].driver = NULL;
        profile_done(&profiles[0]);
        profile_done(&profiles[1]);
}

static void test_claim_rules(void)
{
        PolicyDecision d;

        g_assert_cmpint(policy_claim(1000, &gpu, true, LEASE_LIFETIME_GUARD_FD, NULL, &d), ==, 0);
        g_assert_cmpint(d.verdict, ==, POLICY_ASK);
        g_assert_cmpstr(d.action, ==, VFIOD_ACTION_CLAIM_HOST_CRITICAL);
        policy_decision_done(&d);

        g_assert_cmpint(policy_claim(1000, &gpu, false, LEASE_LIFETIME_PERSISTENT, NULL, &d), ==, 0);
        g_assert_cmpint(d.verdict, ==, POLICY_REFUSE);
        g_assert_nonnull(strstr(d.refusal, "Persistent leases are for root"));
        policy_decision_done(&d);

        g_assert_cmpint(policy_claim(0, &gpu, true, LEASE_LIFETIME_PERSISTENT, NULL, &d), ==, 0);
        g_assert_cmpint(d.verdict, ==, POLICY_ALLOW);
        policy_decision_done(&d);
}

static void test_release_rules(void)
{
        uid_t alice = 1000;
        PolicyDecision d;

        g_assert_cmpint(policy_release(1000, 7, &alice, &d), ==, 0);
        g_assert_cmpint(d.verdict, ==, POLICY_ALLOW);
        policy_decision_done(&d);

        g_assert_cmpint(policy_release(1001, 7, &alice, &d), ==, 0);
        g_assert_cmpint(d.verdict, ==, POLICY_ASK);
        g_assert_cmpstr(d.action, ==, VFIOD_ACTION_RELEASE_ANY);
        g_assert_cmpstr(d.details.group, ==, "7");
        /* Whose lease: an answer about alice's is not one about bob's. */
        g_assert_cmpstr(d.details.lease_owner, ==, "1000");
        policy_decision_done(&d);

        /* A group claimed without a lease has no owner to let go of it. */
        g_assert_cmpint(policy_release(1000, 7, NULL, &d), ==, 0);
        g_assert_cmpint(d.verdict, ==, POLICY_ASK);
        g_assert_null(d.details.lease_owner);
        policy_decision_done(&d);

        g_assert_cmpint(policy_release(0, 7, NULL, &d), ==, 0);
        g_assert_cmpint(d.verdict, ==, POLICY_ALLOW);
        policy_decision_done(&d);
}

static void test_reserve(void)
{
        Reservation res = { .owner = "@vfio" };
        const char *reason;
        PolicyDecision d;

        g_assert_cmpint(reservation_match_parse("10de:1c82", &res.match, &reason), ==, 0);
        g_assert_cmpint(policy_reserve(1000, &res, &d), ==, 0);
        g_assert_cmpint(d.verdict, ==, POLICY_ASK);
        g_assert_cmpstr(d.action, ==, VFIOD_ACTION_RESERVE);
        g_assert_cmpstr(d.details.match, ==, "10de:1c82");
        /* polkit sees whom the group node would go to. */
        g_assert_cmpstr(d.details.owner, ==, "@vfio");
        policy_decision_done(&d);
        res.owner[0] = '\0';
        g_assert_cmpint(policy_reserve(1000, &res, &d), ==, 0);
        g_assert_cmpstr(d.details.owner, ==, "root");
        policy_decision_done(&d);
}

/* Hand-written files may hold a match on several lines, for several
 * owners: an unreserve drops them all, and polkit hears of each owner, so
 * that a rule letting alice drop hers does not let her drop bob's. */
static void test_unreserve_tells_every_owner(void)
{
        Reservation alice = { .owner = "alice" }, bob = { .owner = "bob" }, root = {}, alice_again = { .owner = "alice" };
        const Reservation *lines[] = { &alice, &bob, &alice_again, &root };
        const char *reason;
        PolicyDecision d;

        g_assert_cmpint(reservation_match_parse("0000:01:00.0", &alice.match, &reason), ==, 0);
        bob.match = root.match = alice_again.match = alice.match;
        g_assert_cmpint(policy_unreserve(1000, lines, 1, &d), ==, 0);
        g_assert_cmpint(d.verdict, ==, POLICY_ASK);
        g_assert_cmpstr(d.action, ==, VFIOD_ACTION_RESERVE);
        g_assert_cmpstr(d.details.match, ==, "0000:01:00.0");
        g_assert_cmpstr(d.details.owner, ==, "alice");
        policy_decision_done(&d);
        g_assert_cmpint(policy_unreserve(1000, lines, G_N_ELEMENTS(lines), &d), ==, 0);
        g_assert_cmpstr(d.details.owner, ==, "alice bob root");
        policy_decision_done(&d);
        g_assert_cmpint(policy_unreserve(0, lines, G_N_ELEMENTS(lines), &d), ==, 0);
        g_assert_cmpint(d.verdict, ==, POLICY_ALLOW);
        policy_decision_done(&d);
}

static void test_memlock(void)
{
        PolicyDecision d;

        g_assert_cmpint(policy_memlock(1000, NULL, &d), ==, 0);
        g_assert_cmpint(d.verdict, ==, POLICY_ASK);
        g_assert_cmpstr(d.action, ==, VFIOD_ACTION_MEMLOCK);
        g_assert_null(d.details.group);
        g_assert_null(d.details.process);
        policy_decision_done(&d);

        /* Another process of the caller's: polkit is told which. */
        g_assert_cmpint(policy_memlock(1000, "4242 (libvirtd)", &d), ==, 0);
        g_assert_cmpint(d.verdict, ==, POLICY_ASK);
        g_assert_cmpstr(d.action, ==, VFIOD_ACTION_MEMLOCK_OTHER);
        g_assert_cmpstr(d.details.process, ==, "4242 (libvirtd)");
        policy_decision_done(&d);

        g_assert_cmpint(policy_memlock(0, NULL, &d), ==, 0);
        g_assert_cmpint(d.verdict, ==, POLICY_ALLOW);
        policy_decision_done(&d);
}

/* Prepare and Unprepare, actions of their own: the claim id with the
 * devices, or with none when the claim has none (an Unprepare of
 * nothing); root is not asked. */
static void test_prepare(void)
{
        const Group *groups[] = { &gpu };
        PolicyDecision d;

        g_assert_cmpint(policy_prepare(1000, "pod-1", groups, 1, NULL, &d), ==, 0);
        g_assert_cmpint(d.verdict, ==, POLICY_ASK);
        g_assert_cmpstr(d.action, ==, VFIOD_ACTION_PREPARE);
        g_assert_cmpstr(d.details.claim, ==, "pod-1");
        g_assert_cmpstr(d.details.device, ==, "0000:01:00.0 0000:01:00.1");
        g_assert_cmpstr(d.details.group, ==, "7");
        policy_decision_done(&d);

        g_assert_cmpint(policy_unprepare(1000, "pod-1", groups, 1, &d), ==, 0);
        g_assert_cmpint(d.verdict, ==, POLICY_ASK);
        g_assert_cmpstr(d.action, ==, VFIOD_ACTION_UNPREPARE);
        g_assert_cmpstr(d.details.claim, ==, "pod-1");
        g_assert_cmpstr(d.details.device, ==, "0000:01:00.0 0000:01:00.1");
        policy_decision_done(&d);

        g_assert_cmpint(policy_unprepare(1000, "pod-2", NULL, 0, &d), ==, 0);
        g_assert_cmpint(d.verdict, ==, POLICY_ASK);
        g_assert_cmpstr(d.details.claim, ==, "pod-2");
        g_assert_cmpstr(d.details.group, ==, "");
        policy_decision_done(&d);

        g_assert_cmpint(policy_prepare(0, "pod-1", groups, 1, NULL, &d), ==, 0);
        g_assert_cmpint(d.verdict, ==, POLICY_ALLOW);
        policy_decision_done(&d);
        g_assert_cmpint(policy_unprepare(0, "pod-1", groups, 1, &d), ==, 0);
        g_assert_cmpint(d.verdict, ==, POLICY_ALLOW);
        policy_decision_done(&d);
}

int main(int argc, char *argv[])
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/policy/claim/details", test_claim_asks_polkit_with_every_endpoint);
        g_test_add_func("/policy/claim/rules", test_claim_rules);
        g_test_add_func("/policy/claim/profiles", test_claim_names_what_profiles_do);
        g_test_add_func("/policy/release", test_release_rules);
        g_test_add_func("/policy/reserve", test_reserve);
        g_test_add_func("/policy/unreserve", test_unreserve_tells_every_owner);
        g_test_add_func("/policy/memlock", test_memlock);
        g_test_add_func("/policy/prepare", test_prepare);
        return g_test_run();
}
