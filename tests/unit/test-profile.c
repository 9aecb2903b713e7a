/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>

#include "macro.h"
#include "profile.h"

/* Hand-off profiles: what vfiod stops, unloads and watches for a driver.
 * Each name ends up in a systemd call or a glob: nothing else gets in. */

static void test_lines(void)
{
        Profile p = {};
        const char *reason = NULL;

        g_assert_cmpint(profile_parse_line(&p, "# comment", &reason), ==, 0);
        g_assert_cmpint(profile_parse_line(&p, "  Drivers=nvidia  nvidia-vgpu-vfio", &reason), ==, 0);
        g_assert_cmpint(profile_parse_line(&p, "Nodes=/dev/nvidiactl /dev/nvidia[0-9]*", &reason), ==, 0);
        g_assert_cmpint(profile_parse_line(&p, "StopUnits=nvidia-persistenced.service getty@tty1.service", &reason),
                        ==, 0);
        g_assert_cmpint(profile_parse_line(&p, "UnloadModules=nvidia_drm nvidia", &reason), ==, 0);
        g_assert_cmpint(profile_parse_line(&p, "ResetMethod=bus", &reason), ==, 0);
        g_assert_cmpstr(p.drivers[1], ==, "nvidia-vgpu-vfio");
        g_assert_cmpstr(p.nodes[1], ==, "/dev/nvidia[0-9]*");
        g_assert_cmpstr(p.stop_units[1], ==, "getty@tty1.service");
        g_assert_cmpstr(p.unload_modules[0], ==, "nvidia_drm");
        g_assert_cmpstr(p.reset_method, ==, "bus");
        g_assert_cmpint(profile_parse_line(&p, "ResetMethod=none", &reason), ==, 0);
        g_assert_cmpstr(p.reset_method, ==, "none");
        g_assert_false(p.no_idle_d3cold);
        g_assert_cmpint(profile_parse_line(&p, "IdleD3cold=no", &reason), ==, 0);
        g_assert_true(p.no_idle_d3cold);
        g_assert_false(p.ask_holders);
        g_assert_cmpint(profile_parse_line(&p, "AskHolders=yes", &reason), ==, 0);
        g_assert_true(p.ask_holders);
        profile_done(&p);
}

static void test_refuses(void)
{
        static const char *const bad[] = {
                "Drivers=",
                "Drivers=..",
                "Drivers=a/b",
                "Nodes=/etc/shadow",
                "Nodes=/dev/../etc/shadow",
                "Nodes=dev/null",
                "StopUnits=sshd",                 /* no type suffix */
                "StopUnits=-.mount",
                "StopUnits=a;b.service",
                "StopUnits=$(reboot).service",
                "UnloadModules=../../x",
                "UnloadModules=-r",
                "ResetMethod=warm",
                "ResetMethod=",
                "KillHolders=yes",
                "IdleD3cold=off",
                "AskHolders=kill",
        };

        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                Profile p = {};
                const char *reason = NULL;

                g_test_message("%s", bad[i]);
                g_assert_cmpint(profile_parse_line(&p, bad[i], &reason), ==, -EINVAL);
                g_assert_nonnull(reason);
                g_assert_null(p.drivers);
                g_assert_null(p.nodes);
                g_assert_null(p.stop_units);
                g_assert_null(p.unload_modules);
                g_assert_null(p.reset_method);
                profile_done(&p);
        }
}

static void write_file(const char *dir, const char *name, const char *text)
{
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

/* The administrator's file replaces the shipped one of its name; an empty
 * one masks it; a bad line goes, the rest of the file stays. */
static void test_load(void)
{
        g_autofree char *root = g_dir_make_tmp("vfiod-profiles-XXXXXX", NULL);
        g_autofree char *shipped = g_build_filename(root, "usr", NULL);
        g_autofree char *admin = g_build_filename(root, "etc", NULL);
        const char *dirs[] = { shipped, admin };
        ProfileSet *s = NULL;
        const Profile *p;

        g_assert_cmpint(g_mkdir(shipped, 0755), ==, 0);
        g_assert_cmpint(g_mkdir(admin, 0755), ==, 0);
        write_file(shipped, "amdgpu.conf", "Drivers=amdgpu\nNodes=/dev/kfd\n");
        write_file(shipped, "nvidia.conf", "Drivers=nvidia\nUnloadModules=nvidia\n");
        write_file(shipped, "i915.conf", "Drivers=i915\n");
        write_file(admin, "nvidia.conf", "Drivers=nvidia\nStopUnits=display-manager.service\nBogus=1\n");
        write_file(admin, "i915.conf", "");
        write_file(admin, "notes.txt", "Drivers=e1000\n");

        g_assert_cmpint(profile_set_load(dirs, G_N_ELEMENTS(dirs), &s), ==, 0);
        p = profile_set_find(s, "nvidia");
        g_assert_nonnull(p);
        g_assert_cmpstr(p->name, ==, "nvidia");
        g_assert_cmpstr(p->stop_units[0], ==, "display-manager.service");
        g_assert_null(p->unload_modules); /* replaced whole, not merged */
        g_assert_cmpstr(profile_set_find(s, "amdgpu")->nodes[0], ==, "/dev/kfd");
        g_assert_null(profile_set_find(s, "i915")); /* masked */
        g_assert_null(profile_set_find(s, "e1000")); /* not a .conf */
        g_assert_null(profile_set_find(s, NULL));
        profile_set_free(s);

        const char *missing[] = { "/nonexistent/profiles.d" };
        g_assert_cmpint(profile_set_load(missing, 1, &s), ==, 0);
        g_assert_cmpuint(s->n, ==, 0);
        profile_set_free(s);

        g_autofree char *rm = g_strdup_printf("rm -rf '%s'", root);
        g_assert_cmpint(system(rm), ==, 0);
}

int main(int argc, char *argv[])
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/profile/lines", test_lines);
        g_test_add_func("/profile/refuses", test_refuses);
        g_test_add_func("/profile/load", test_load);
        return g_test_run();
}
