/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "macro.h"
#include "prepared-mark.h"
#include "strv.h"

/* The marks of whole claims: made with their directory, set, seen,
 * listed by claim id (what is no claim id not), cleared, and cleared again
 * is no error; a name that is no claim id is never a path. */
static void test_marks(void)
{
        g_autofree char *state = g_dir_make_tmp("prepared-mark-XXXXXX", NULL);
        g_autofree char *dir = g_build_filename(state, "prepared", NULL);
        g_autofree char *stray = g_build_filename(dir, ".stray", NULL);
        _cleanup_close_ int fd = prepared_marks_open(state);
        char **ids = NULL;
        size_t n = 0;

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(prepared_mark_exists(fd, "pod-1"), ==, 0);
        g_assert_cmpint(prepared_mark_set(fd, "pod-1"), ==, 0);
        g_assert_cmpint(prepared_mark_exists(fd, "pod-1"), ==, 1);
        g_assert_true(g_file_set_contents(stray, "", -1, NULL));
        g_assert_cmpint(prepared_marks_list(fd, &ids, &n), ==, 0);
        g_assert_cmpuint(n, ==, 1);
        g_assert_cmpstr(ids[0], ==, "pod-1");
        strv_free(ids);
        g_assert_cmpint(prepared_mark_set(fd, "../escape"), ==, -EINVAL);
        g_assert_cmpint(prepared_mark_exists(fd, "../escape"), ==, -EINVAL);
        g_assert_cmpint(prepared_mark_clear(fd, "../escape"), ==, -EINVAL);
        g_assert_cmpint(prepared_mark_clear(fd, "pod-1"), ==, 0);
        g_assert_cmpint(prepared_mark_exists(fd, "pod-1"), ==, 0);
        g_assert_cmpint(prepared_mark_clear(fd, "pod-1"), ==, 0);
        g_assert_cmpint(unlink(stray), ==, 0);
        g_assert_cmpint(rmdir(dir), ==, 0);
        g_assert_cmpint(rmdir(state), ==, 0);
}

/* Whether every whole claim has its mark: not until set, and what says so
 * is never a mark of a claim. */
static void test_complete(void)
{
        g_autofree char *state = g_dir_make_tmp("prepared-mark-XXXXXX", NULL);
        g_autofree char *dir = g_build_filename(state, "prepared", NULL);
        g_autofree char *complete = g_build_filename(dir, ".complete", NULL);
        _cleanup_close_ int fd = prepared_marks_open(state);
        char **ids = NULL;
        size_t n = 0;

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(prepared_marks_complete(fd), ==, 0);
        g_assert_cmpint(prepared_marks_set_complete(fd), ==, 0);
        g_assert_cmpint(prepared_marks_complete(fd), ==, 1);
        g_assert_cmpint(prepared_marks_set_complete(fd), ==, 0);
        g_assert_cmpint(prepared_marks_list(fd, &ids, &n), ==, 0);
        g_assert_cmpuint(n, ==, 0);
        strv_free(ids);
        g_assert_cmpint(prepared_mark_clear(fd, ".complete"), ==, -EINVAL);
        g_assert_cmpint(prepared_marks_complete(fd), ==, 1);
        g_assert_cmpint(unlink(complete), ==, 0);
        g_assert_cmpint(prepared_marks_complete(fd), ==, 0);
        g_assert_cmpint(rmdir(dir), ==, 0);
        g_assert_cmpint(rmdir(state), ==, 0);
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/prepared-mark/marks", test_marks);
        g_test_add_func("/prepared-mark/complete", test_complete);
        return g_test_run();
}
