/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "claim-record.h"
#include "macro.h"

/* The claim record: what a restarted vfiod trusts to put devices back. */

#define GOOD_RECORD                                        \
        "vfiod-claim-record 1\n"                           \
        "group 12\n"                                       \
        "phase claiming\n"                                 \
        "step unbind 0000:00:04.0\n"                       \
        "device 0000:00:04.0 e1000 -\n"                    \
        "device 0000:00:04.1 - vfio-pci\n"

static void test_round_trip(void)
{
        _cleanup_(claim_record_freep) ClaimRecord *r = NULL;
        _cleanup_free_ char *text = NULL;

        g_assert_cmpint(claim_record_parse(GOOD_RECORD, &r), ==, 0);
        g_assert_cmpint(r->group, ==, 12);
        g_assert_cmpint(r->phase, ==, CLAIM_PHASE_CLAIMING);
        g_assert_cmpstr(r->step, ==, "unbind 0000:00:04.0");
        g_assert_cmpuint(r->n_devices, ==, 2);
        g_assert_cmpstr(r->devices[0].driver, ==, "e1000");
        g_assert_null(r->devices[0].driver_override);
        g_assert_null(r->devices[1].driver); /* "none" is recorded, too */
        g_assert_cmpstr(r->devices[1].driver_override, ==, "vfio-pci");
        g_assert_cmpint(claim_record_format(r, &text), ==, 0);
        g_assert_cmpstr(text, ==, GOOD_RECORD);
}

/* Steps appended since the record was saved whole: the last one counts;
 * one cut short by a crash in the middle of its append is dropped. The
 * record is written whole again without them. */
static void test_appended_steps(void)
{
        static const char *const tails[][2] = {
                { "step override 0000:00:04.1\nstep probe 0000:00:04.1\n", "probe 0000:00:04.1" },
                { "step override 0000:00:04.1\nstep pro", "override 0000:00:04.1" },
                { "st", "unbind 0000:00:04.0" },
                { "step -\n", "" },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(tails); i++) {
                _cleanup_(claim_record_freep) ClaimRecord *r = NULL;
                _cleanup_free_ char *text = g_strconcat(GOOD_RECORD, tails[i][0], NULL), *again = NULL;

                g_test_message("case %zu", i);
                g_assert_cmpint(claim_record_parse(text, &r), ==, 0);
                g_assert_cmpstr(r->step, ==, tails[i][1]);
                g_assert_cmpuint(r->n_devices, ==, 2);
                g_assert_cmpint(claim_record_format(r, &again), ==, 0);
                g_assert_true(g_str_has_suffix(again, "device 0000:00:04.1 - vfio-pci\n"));
        }
}

/* text parsed, and formatted again unchanged. */
static ClaimRecord *parse_round_trip(const char *text)
{
        ClaimRecord *r = NULL;
        _cleanup_free_ char *again = NULL;

        g_assert_cmpint(claim_record_parse(text, &r), ==, 0);
        g_assert_cmpint(claim_record_format(r, &again), ==, 0);
        g_assert_cmpstr(again, ==, text);
        return r;
}

/* A reserved group: held by the reservation as well as a lease; the device
 * a reservation put on vfio-pci before any driver goes to the host's choice. */
static void test_reserved_round_trip(void)
{
        static const char *const text = "vfiod-claim-record 1\n"
                                        "group 4\n"
                                        "phase claimed\n"
                                        "step -\n"
                                        "lease 1 1000 42 chown guard-fd - 1700000000000000\n"
                                        "reserved\n"
                                        "device 0000:00:04.0 * -\n"
                                        "device 0000:00:04.1 e1000 -\n";
        _cleanup_(claim_record_freep) ClaimRecord *r = parse_round_trip(text);

        g_assert_true(r->reserved);
        g_assert_true(r->devices[0].host_choice);
        g_assert_null(r->devices[0].driver);
        g_assert_false(r->devices[1].host_choice);
}

/* A reserved group whose lease ended while a process had it open: a
 * restart waits for that process again. */
static void test_lease_ended_open_round_trip(void)
{
        static const char *const text = "vfiod-claim-record 1\n"
                                        "group 4\n"
                                        "phase claimed\n"
                                        "step -\n"
                                        "reserved\n"
                                        "lease-ended-open\n"
                                        "device 0000:00:04.0 * -\n";
        _cleanup_(claim_record_freep) ClaimRecord *r = parse_round_trip(text);

        g_assert_true(r->reserved);
        g_assert_true(r->lease_ended_open);
        g_assert_null(r->lease);
}

/* A reserved group going through vfio-pci again between leases: the
 * phase that a restart redoes rather than undoes. */
static void test_refreshing_round_trip(void)
{
        static const char *const text = "vfiod-claim-record 1\n"
                                        "group 4\n"
                                        "phase refreshing\n"
                                        "step unbind 0000:00:04.0\n"
                                        "reserved\n"
                                        "device 0000:00:04.0 * -\n";
        _cleanup_(claim_record_freep) ClaimRecord *r = parse_round_trip(text);

        g_assert_cmpint(r->phase, ==, CLAIM_PHASE_REFRESHING);
        g_assert_cmpstr(claim_phase_to_string(r->phase), ==, "refreshing");
}

/* A GPU whose firmware framebuffer vfiod unbound: bound again on release. */
static void test_firmware_fb_round_trip(void)
{
        static const char *const text = GOOD_RECORD "firmware-fb efi-framebuffer.0 efi-framebuffer\n"
                                                    "stopped-unit display-manager.service\n"
                                                    "stopped-unit nvidia-persistenced.service\n"
                                                    "unloaded-module nvidia_drm\n"
                                                    "d3cold-off 0000:00:04.1\n"
                                                    "reset-methods 0000:00:04.0 flr bus\n"
                                                    "step probe 0000:00:04.1\n";
        _cleanup_(claim_record_freep) ClaimRecord *r = NULL;
        _cleanup_free_ char *again = NULL;

        g_assert_cmpint(claim_record_parse(text, &r), ==, 0);
        g_assert_cmpstr(r->firmware_fb_device, ==, "efi-framebuffer.0");
        g_assert_cmpstr(r->firmware_fb_driver, ==, "efi-framebuffer");
        g_assert_cmpstr(r->step, ==, "probe 0000:00:04.1");
        g_assert_cmpuint(r->n_stopped_units, ==, 2);
        g_assert_cmpstr(r->stopped_units[1], ==, "nvidia-persistenced.service");
        g_assert_cmpstr(r->unloaded_modules[0], ==, "nvidia_drm");
        g_assert_false(r->devices[0].d3cold_off);
        g_assert_true(r->devices[1].d3cold_off);
        g_assert_cmpstr(r->devices[0].reset_methods, ==, "flr bus");
        g_assert_cmpstr(r->devices[1].reset_methods, ==, "");
        g_assert_cmpint(claim_record_format(r, &again), ==, 0);
        g_assert_true(g_str_has_suffix(again, "firmware-fb efi-framebuffer.0 efi-framebuffer\n"
                                              "stopped-unit display-manager.service\n"
                                              "stopped-unit nvidia-persistenced.service\n"
                                              "unloaded-module nvidia_drm\n"
                                              "d3cold-off 0000:00:04.1\n"
                                              "reset-methods 0000:00:04.0 flr bus\n"));
        g_assert_cmpint(claimed_device_set_reset_methods(&r->devices[0], "flr; bus"), ==, -EINVAL);
        g_assert_cmpstr(r->devices[0].reset_methods, ==, "flr bus");
        g_assert_cmpint(claimed_device_set_reset_methods(&r->devices[0], ""), ==, 0);
        g_assert_cmpstr(r->devices[0].reset_methods, ==, "");
        g_assert_cmpint(claim_record_set_firmware_fb(r, NULL, NULL), ==, 0);
        g_assert_cmpstr(r->firmware_fb_device, ==, "");
}

/* Anything vfiod did not write is refused whole: a record decides which
 * driver a device is bound to. */
static void test_refuses(void)
{
        static const char *const bad[] = {
                "",
                "vfiod-claim-record 2\ngroup 1\nphase claimed\nstep -\n",
                "vfiod-claim-record 1\ngroup 1\nphase claimed\nstep -", /* cut short */
                "vfiod-claim-record 1\ngroup -1\nphase claimed\nstep -\n",
                "vfiod-claim-record 1\ngroup 99999999999\nphase claimed\nstep -\n",
                "vfiod-claim-record 1\ngroup 1\nphase gone\nstep -\n",
                "vfiod-claim-record 1\nphase claimed\ngroup 1\nstep -\n",
                "vfiod-claim-record 1\ngroup 1\nphase claimed\nstep -\ndevice 00:04.0 e1000 -\n", /* not normalised */
                "vfiod-claim-record 1\ngroup 1\nphase claimed\nstep -\ndevice 0000:00:04.0 ../../x -\n",
                "vfiod-claim-record 1\ngroup 1\nphase claimed\nstep -\ndevice 0000:00:04.0 e1000\n",
                "vfiod-claim-record 1\ngroup 1\nphase claimed\nstep -\ndevice 0000:00:04.0 * vfio-pci\n",
                "vfiod-claim-record 1\ngroup 1\nphase claimed\nstep -\nreserved\nreserved\n",
                "vfiod-claim-record 1\ngroup 1\nphase claimed\nstep -\nreserved\nlease 1 0 1 none persistent - 1\n",
                "vfiod-claim-record 1\ngroup 1\nphase claimed\nstep -\nlease-ended-open\nlease-ended-open\n",
                "vfiod-claim-record 1\ngroup 1\nphase claimed\nstep -\nlease-ended-open\nreserved\n",
                "vfiod-claim-record 1\ngroup 1\nphase claimed\nstep -\nlease 1 0 1 none persistent - 1\n"
                "lease-ended-open\n",
                GOOD_RECORD "lease-ended-open\n",
                "vfiod-claim-record 1\ngroup 1\nphase claimed\nstep -\ndevice 0000:00:04.0 e1000 - extra\n",
                "vfiod-claim-record 1\ngroup 1\nphase claimed\nstep -\ndevice 0000:00:04.0 e1000 -\n"
                "device 0000:00:04.0 e1000 -\n", /* twice */
                "vfiod-claim-record 1\ngroup 1\nphase claimed\nstep -\ndevice 0000:00:04.0 e1000  -\n", /* found by fuzzing */
                "vfiod-claim-record 1\ngroup 1\nphase claimed\nstep \x01\n",
                "vfiod-claim-record 1\ngroup 1\nphase claimed\nstep -\nbogus line\n",
                /* appended steps come after the devices, and only steps */
                "vfiod-claim-record 1\ngroup 1\nphase claimed\nstep -\nstep -\n",
                GOOD_RECORD "step -\ndevice 0000:00:04.2 e1000 -\n",
                GOOD_RECORD "step \x01\n",
                /* only an appended step may be cut short */
                GOOD_RECORD "device 0000:00:04.2 e10",
                "vfiod-claim-record 1\ngroup 1\nphase claimed\nst",
                /* a firmware framebuffer: after the devices, once, and only a framebuffer's platform device */
                "vfiod-claim-record 1\ngroup 1\nphase claimed\nstep -\nfirmware-fb efi-framebuffer.0 efifb\n",
                GOOD_RECORD "firmware-fb efi-framebuffer.0 efifb\nfirmware-fb efi-framebuffer.0 efifb\n",
                GOOD_RECORD "firmware-fb efi-framebuffer.0 efifb\ndevice 0000:00:04.2 e1000 -\n",
                GOOD_RECORD "firmware-fb serial8250 serial8250\n",
                GOOD_RECORD "firmware-fb efi-framebuffer.0 ..\n",
                GOOD_RECORD "firmware-fb efi-framebuffer.0/../x efifb\n",
                GOOD_RECORD "firmware-fb efi-framebuffer.0\n",
                GOOD_RECORD "firmware-fb efi-framebuffer.0 efifb extra\n",
                /* what a profile did: names a profile may use, after the devices, in order */
                GOOD_RECORD "stopped-unit sshd\n",
                GOOD_RECORD "stopped-unit a;b.service\n",
                GOOD_RECORD "unloaded-module ../x\n",
                GOOD_RECORD "unloaded-module nvidia\nstopped-unit gdm.service\n",
                GOOD_RECORD "stopped-unit gdm.service\nfirmware-fb efi-framebuffer.0 efifb\n",
                GOOD_RECORD "stopped-unit gdm.service\ndevice 0000:00:04.2 e1000 -\n",
                GOOD_RECORD "d3cold-off 0000:00:09.0\n", /* not a device of the record */
                GOOD_RECORD "d3cold-off 0000:00:04.0\nd3cold-off 0000:00:04.0\n",
                GOOD_RECORD "d3cold-off 0000:00:04.0\nunloaded-module nvidia\n",
                /* reset methods: the kernel's words, once per device of the record, last */
                GOOD_RECORD "reset-methods 0000:00:09.0 flr\n",
                GOOD_RECORD "reset-methods 0000:00:04.0\n",
                GOOD_RECORD "reset-methods 0000:00:04.0 \n",
                GOOD_RECORD "reset-methods 0000:00:04.0 flr  bus\n",
                GOOD_RECORD "reset-methods 0000:00:04.0 flr bus \n",
                GOOD_RECORD "reset-methods 0000:00:04.0 FLR\n",
                GOOD_RECORD "reset-methods 0000:00:04.0 "
                            "flr bus flr bus flr bus flr bus flr bus flr bus flr bus flr bus flr bus flr bus flr bus "
                            "flr bus flr bus flr bus flr bus flr bus_\n", /* 128 characters: no room for its NUL */
                GOOD_RECORD "reset-methods 0000:00:04.0 flr\x01\n",
                GOOD_RECORD "reset-methods 0000:00:04.0 ../x\n",
                GOOD_RECORD "reset-methods 0000:00:04.0 flr\nreset-methods 0000:00:04.0 bus\n",
                GOOD_RECORD "reset-methods 0000:00:04.0 flr\nd3cold-off 0000:00:04.0\n",
                "vfiod-claim-record 1\ngroup 1\nphase claimed\nstep -\nstopped-unit gdm.service\n",
        };

        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                ClaimRecord *r = NULL;
                g_test_message("case %zu", i);
                g_assert_cmpint(claim_record_parse(bad[i], &r), <, 0);
                g_assert_null(r);
        }
}

/* What the kernel may show as a device's driver_override (root writes any
 * text there): refused unless the record can be read back with it. */
static void test_original_drivers(void)
{
        static const char *const refused[] = {"foo bar", "vfio-pci\tx", "../x", "*", "-",
                                              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
        _cleanup_(claim_record_freep) ClaimRecord *r = NULL, *back = NULL;
        _cleanup_free_ char *text = NULL;

        g_assert_cmpint(claim_record_new(1, &r), ==, 0);
        g_assert_cmpint(claim_record_add_device(r, "0000:00:04.0", NULL, NULL), ==, 0);
        for (size_t i = 0; i < G_N_ELEMENTS(refused); i++) {
                g_test_message("case '%s'", refused[i]);
                g_assert_cmpint(claimed_device_set_original(&r->devices[0], g_strdup("e1000"), g_strdup(refused[i])), ==,
                                -EINVAL);
                g_assert_cmpint(claimed_device_set_original(&r->devices[0], g_strdup(refused[i]), NULL), ==, -EINVAL);
        }
        g_assert_cmpint(claimed_device_set_original(&r->devices[0], g_strdup("e1000"), g_strdup("vfio-pci")), ==, 0);
        g_assert_cmpint(claim_record_format(r, &text), ==, 0);
        g_assert_cmpint(claim_record_parse(text, &back), ==, 0);
        g_assert_cmpstr(back->devices[0].driver, ==, "e1000");
        g_assert_cmpstr(back->devices[0].driver_override, ==, "vfio-pci");
}

static void test_save_load_list_remove(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *dir = g_dir_make_tmp("claim-record-XXXXXX", &error);
        _cleanup_(claim_record_freep) ClaimRecord *r = NULL, *loaded = NULL;
        _cleanup_free_ int *groups = NULL;
        _cleanup_close_ int fd = -1, journal_fd = -1;
        size_t n;

        g_assert_no_error(error);
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(claim_record_new(7, &r), ==, 0);
        g_assert_cmpint(claim_record_add_device(r, "0000:01:00.0", "nvme", NULL), ==, 0);
        g_assert_cmpint(claim_record_add_device(r, "01:00.1", NULL, NULL), <, 0); /* short form */
        r->phase = CLAIM_PHASE_CLAIMED;
        g_assert_cmpint(claim_record_save(fd, r, NULL), ==, 0);
        r->group = 3;
        g_assert_cmpint(claim_record_save(fd, r, NULL), ==, 0);

        g_assert_cmpint(claim_record_load(fd, 7, &loaded), ==, 0);
        g_assert_cmpint(loaded->phase, ==, CLAIM_PHASE_CLAIMED);
        g_assert_cmpstr(loaded->devices[0].driver, ==, "nvme");
        g_assert_cmpstr(loaded->step, ==, "");

        /* A step appended to the record saved last. */
        r->phase = CLAIM_PHASE_RELEASING;
        g_assert_cmpint(claim_record_save(fd, r, &journal_fd), ==, 0);
        g_assert_cmpint(journal_fd, >=, 0);
        strcpy(r->step, "unbind 0000:01:00.0");
        g_assert_cmpint(claim_record_append_step(journal_fd, r), ==, 0);
        loaded = claim_record_free(loaded);
        g_assert_cmpint(claim_record_load(fd, 3, &loaded), ==, 0);
        g_assert_cmpint(loaded->phase, ==, CLAIM_PHASE_RELEASING);
        g_assert_cmpstr(loaded->step, ==, "unbind 0000:01:00.0");
        g_assert_cmpint(claim_record_list(fd, &groups, &n), ==, 0);
        g_assert_cmpuint(n, ==, 2);
        g_assert_cmpint(groups[0], ==, 3);
        g_assert_cmpint(groups[1], ==, 7);

        /* A record under another group's name is refused. */
        g_assert_cmpint(renameat(fd, "group-3", fd, "group-4"), ==, 0);
        loaded = claim_record_free(loaded);
        g_assert_cmpint(claim_record_load(fd, 4, &loaded), ==, -EINVAL);
        g_assert_null(loaded);
        g_assert_cmpint(renameat(fd, "group-4", fd, "group-3"), ==, 0);

        g_assert_cmpint(claim_record_remove(fd, 7), ==, 0);
        g_assert_cmpint(claim_record_remove(fd, 7), ==, 0); /* gone already: fine */
        g_assert_cmpint(claim_record_remove(fd, 3), ==, 0);
        free(TAKE_PTR(groups));
        g_assert_cmpint(claim_record_list(fd, &groups, &n), ==, 0);
        g_assert_cmpuint(n, ==, 0);
        g_assert_cmpint(g_rmdir(dir), ==, 0); /* no temporary file left behind */
}

int main(int argc, char *argv[])
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/claim-record/round-trip", test_round_trip);
        g_test_add_func("/claim-record/appended-steps", test_appended_steps);
        g_test_add_func("/claim-record/reserved-round-trip", test_reserved_round_trip);
        g_test_add_func("/claim-record/lease-ended-open-round-trip", test_lease_ended_open_round_trip);
        g_test_add_func("/claim-record/refreshing-round-trip", test_refreshing_round_trip);
        g_test_add_func("/claim-record/firmware-fb-round-trip", test_firmware_fb_round_trip);
        g_test_add_func("/claim-record/refuses", test_refuses);
        g_test_add_func("/claim-record/original-drivers", test_original_drivers);
        g_test_add_func("/claim-record/save-load-list-remove", test_save_load_list_remove);
        return g_test_run();
}
