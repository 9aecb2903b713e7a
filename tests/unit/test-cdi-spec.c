/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cdi-config.h"
#include "cdi-spec.h"
#include "macro.h"
#include "strv.h"

/* The CDI specs of prepared claims: the text a runtime reads, in either
 * version; what has no place in a spec refused; the file per claim; and
 * cdi.conf, which picks the version. */

static char *addresses_two[] = { "0000:01:00.0", "0000:01:00.1" };
static const int groups_two[] = { 11, 12 };

static const char expected_0_6_0[] =
        "{\n"
        "  \"cdiVersion\": \"0.6.0\",\n"
        "  \"kind\": \"vfiod.github.io/vfio\",\n"
        "  \"devices\": [\n"
        "    {\n"
        "      \"name\": \"pod-1\",\n"
        "      \"annotations\": {\n"
        "        \"vfiod.github.io/pci-addresses\": \"0000:01:00.0,0000:01:00.1\",\n"
        "        \"vfiod.github.io/iommu-groups\": \"11,12\"\n"
        "      },\n"
        "      \"containerEdits\": {\n"
        "        \"deviceNodes\": [\n"
        "          { \"path\": \"/dev/vfio/vfio\", \"permissions\": \"rw\" },\n"
        "          { \"path\": \"/dev/vfio/11\", \"permissions\": \"rw\" },\n"
        "          { \"path\": \"/dev/vfio/12\", \"permissions\": \"rw\" }\n"
        "        ]\n"
        "      }\n"
        "    }\n"
        "  ]\n"
        "}\n";

static void test_format_0_6_0(void)
{
        CdiDevice d = { .version = CDI_VERSION_0_6_0, .claim_id = "pod-1", .groups = groups_two, .n_groups = 2,
                        .addresses = addresses_two, .n_addresses = 2 };
        _cleanup_free_ char *text = NULL;

        g_assert_cmpint(cdi_spec_format(&d, &text), ==, 0);
        g_assert_cmpstr(text, ==, expected_0_6_0);
}

/* 0.5.0 has no annotations: the same device, without them. */
static void test_format_0_5_0(void)
{
        CdiDevice d = { .version = CDI_VERSION_0_5_0, .claim_id = "pod-1", .groups = groups_two, .n_groups = 2,
                        .addresses = addresses_two, .n_addresses = 2 };
        _cleanup_free_ char *text = NULL;

        g_assert_cmpint(cdi_spec_format(&d, &text), ==, 0);
        g_assert_nonnull(strstr(text, "\"cdiVersion\": \"0.5.0\""));
        g_assert_null(strstr(text, "annotations"));
        g_assert_nonnull(strstr(text, "{ \"path\": \"/dev/vfio/12\", \"permissions\": \"rw\" }"));
}

/* On a cdev kernel, /dev/iommu and the cdevs follow the group nodes. */
static void test_format_cdevs(void)
{
        char *cdevs[] = { "/dev/vfio/devices/vfio0" };
        CdiDevice d = { .version = CDI_VERSION_0_6_0, .claim_id = "pod-1", .groups = groups_two, .n_groups = 1,
                        .cdevs = cdevs, .n_cdevs = 1, .addresses = addresses_two, .n_addresses = 1 };
        _cleanup_free_ char *text = NULL;
        const char *group, *iommu, *cdev;

        g_assert_cmpint(cdi_spec_format(&d, &text), ==, 0);
        group = strstr(text, "\"/dev/vfio/11\"");
        iommu = strstr(text, "\"/dev/iommu\"");
        cdev = strstr(text, "\"/dev/vfio/devices/vfio0\"");
        g_assert_true(group && iommu && cdev && group < iommu && iommu < cdev);
}

static void test_refused(void)
{
        char *bad_cdev[] = { "/dev/vfio/devices/\"x" }, *outside[] = { "/tmp/vfio0" };
        char *bad_address[] = { "0000:01:00.0\",\"x" };
        const int negative[] = { -1 };
        CdiDevice good = { .version = CDI_VERSION_0_6_0, .claim_id = "pod-1", .groups = groups_two, .n_groups = 1 };
        CdiDevice d;
        char *text = NULL;

        d = good, d.claim_id = "../pod";
        g_assert_cmpint(cdi_spec_format(&d, &text), ==, -EINVAL);
        d = good, d.n_groups = 0;
        g_assert_cmpint(cdi_spec_format(&d, &text), ==, -EINVAL);
        d = good, d.groups = negative;
        g_assert_cmpint(cdi_spec_format(&d, &text), ==, -EINVAL);
        d = good, d.cdevs = bad_cdev, d.n_cdevs = 1;
        g_assert_cmpint(cdi_spec_format(&d, &text), ==, -EINVAL);
        d = good, d.cdevs = outside, d.n_cdevs = 1;
        g_assert_cmpint(cdi_spec_format(&d, &text), ==, -EINVAL);
        d = good, d.addresses = bad_address, d.n_addresses = 1;
        g_assert_cmpint(cdi_spec_format(&d, &text), ==, -EINVAL);
        d = good, d.version = _CDI_VERSION_MAX;
        g_assert_cmpint(cdi_spec_format(&d, &text), ==, -EINVAL);
        g_assert_null(text);
}

/* One file per claim: written, listed by claim id (other files not),
 * removed, and removed again is no error. */
static void test_files(void)
{
        g_autofree char *dir = g_dir_make_tmp("test-cdi-XXXXXX", NULL);
        g_autofree char *other = g_build_filename(dir, "nvidia.yaml", NULL);
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        char **ids = NULL;
        size_t n = 0;

        g_assert_true(g_file_set_contents(other, "{}", -1, NULL));
        g_assert_cmpint(cdi_spec_write(fd, "pod-1", "{}\n"), ==, 0);
        g_assert_cmpint(cdi_spec_write(fd, "../escape", "{}\n"), ==, -EINVAL);
        g_assert_cmpint(cdi_spec_list(fd, &ids, &n), ==, 0);
        g_assert_cmpuint(n, ==, 1);
        g_assert_cmpstr(ids[0], ==, "pod-1");
        strv_free(ids);
        g_assert_cmpint(cdi_spec_remove(fd, "pod-1"), ==, 1);
        g_assert_cmpint(cdi_spec_remove(fd, "pod-1"), ==, 0);
        g_assert_cmpint(unlink(other), ==, 0);
        g_assert_cmpint(rmdir(dir), ==, 0);
}

/* A temporary file left by a write cut short, even a link to another
 * file, does not stop the next write, and nothing is written through it. */
static void test_leftover(void)
{
        g_autofree char *dir = g_dir_make_tmp("test-cdi-XXXXXX", NULL);
        g_autofree char *other = g_build_filename(dir, "other", NULL);
        g_autofree char *tmp = g_build_filename(dir, ".vfiod-pod-1.json.tmp", NULL);
        g_autofree char *spec = g_build_filename(dir, "vfiod-pod-1.json", NULL);
        g_autofree char *text = NULL;
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct stat st;

        g_assert_true(g_file_set_contents(other, "keep", -1, NULL));
        g_assert_cmpint(symlink(other, tmp), ==, 0);
        g_assert_cmpint(cdi_spec_write(fd, "pod-1", "{}\n"), ==, 0);
        g_assert_true(g_file_get_contents(spec, &text, NULL, NULL));
        g_assert_cmpstr(text, ==, "{}\n");
        g_assert_cmpint(lstat(spec, &st), ==, 0);
        g_assert_true(S_ISREG(st.st_mode));
        g_assert_cmpint(st.st_mode & 07777, ==, 0644);
        g_clear_pointer(&text, g_free);
        g_assert_true(g_file_get_contents(other, &text, NULL, NULL));
        g_assert_cmpstr(text, ==, "keep");
        g_assert_cmpint(access(tmp, F_OK), ==, -1);
        g_assert_cmpint(unlink(spec), ==, 0);
        g_assert_cmpint(unlink(other), ==, 0);
        g_assert_cmpint(rmdir(dir), ==, 0);
}

static void test_config(void)
{
        CdiConfig c = { .spec_version = CDI_VERSION_DEFAULT };
        const char *reason = NULL;

        g_assert_cmpint(CDI_VERSION_DEFAULT, ==, CDI_VERSION_0_6_0);
        g_assert_cmpint(cdi_config_parse_line(&c, "# a comment", &reason), ==, 0);
        g_assert_cmpint(cdi_config_parse_line(&c, "SpecVersion=0.5.0", &reason), ==, 0);
        g_assert_cmpint(c.spec_version, ==, CDI_VERSION_0_5_0);
        g_assert_cmpint(cdi_config_parse_line(&c, "SpecVersion=0.7.0", &reason), ==, -EINVAL);
        g_assert_cmpstr(reason, ==, "SpecVersion= takes 0.6.0 or 0.5.0");
        g_assert_cmpint(c.spec_version, ==, CDI_VERSION_0_5_0);
        g_assert_cmpint(cdi_config_parse_line(&c, "Version=0.6.0", &reason), ==, -EINVAL);
        g_assert_cmpstr(reason, ==, "unknown setting: the one known is SpecVersion=");
        g_assert_cmpint(cdi_config_parse_line(&c, "  SpecVersion=0.6.0", &reason), ==, 0);
        g_assert_cmpint(c.spec_version, ==, CDI_VERSION_0_6_0);
        g_assert_cmpint(cdi_config_parse_line(&c, "SpecVersion=0.5.0 \r", &reason), ==, 0);
        g_assert_cmpint(c.spec_version, ==, CDI_VERSION_0_5_0);
        g_assert_cmpint(cdi_config_parse_line(&c, "SpecVersion=0.6.0000000000000000", &reason), ==, -EINVAL);
        g_assert_cmpint(cdi_config_parse_line(&c, "SpecVersion=", &reason), ==, -EINVAL);
        g_assert_cmpint(c.spec_version, ==, CDI_VERSION_0_5_0);
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/cdi-spec/format-0.6.0", test_format_0_6_0);
        g_test_add_func("/cdi-spec/format-0.5.0", test_format_0_5_0);
        g_test_add_func("/cdi-spec/format-cdevs", test_format_cdevs);
        g_test_add_func("/cdi-spec/refused", test_refused);
        g_test_add_func("/cdi-spec/files", test_files);
        g_test_add_func("/cdi-spec/leftover", test_leftover);
        g_test_add_func("/cdi-spec/config", test_config);
        return g_test_run();
}
