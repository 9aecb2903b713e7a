/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard-holders.h"

/* The client's look for who else holds a lease's guard, with a pipe for
 * the guard: its link (pipe:[INODE]) is this test's alone. */

/* A child that holds fd, and no other fd of this process's, until it
 * reads a byte from a pipe; *ret_stop is the pipe's write end. Returns
 * once the child has closed the others. */
static pid_t hold_in_child(int fd, int *ret_stop)
{
        int stop[2], ready[2];
        char byte;
        pid_t pid;

        g_assert_cmpint(pipe(stop), ==, 0);
        g_assert_cmpint(pipe(ready), ==, 0);
        pid = fork();
        g_assert_cmpint(pid, >=, 0);
        if (pid == 0) {
                for (int i = 3; i < 1024; i++)
                        if (i != fd && i != stop[0] && i != ready[1])
                                close(i);
                (void)!write(ready[1], "", 1);
                close(ready[1]);
                (void)!read(stop[0], &byte, 1);
                _exit(0); /* fd held until here */
        }
        close(stop[0]);
        close(ready[1]);
        g_assert_cmpint(read(ready[0], &byte, 1), ==, 1);
        close(ready[0]);
        *ret_stop = stop[1];
        return pid;
}

static void test_holder_found_then_gone(void)
{
        g_autofree char *link = NULL;
        int guard[2], stop, status;
        pid_t child, found = 0;

        g_assert_cmpint(pipe(guard), ==, 0);
        g_assert_cmpint(guard_link(guard[1], &link), ==, 0);
        g_assert_true(g_str_has_prefix(link, "pipe:["));
        /* Nobody but this process, which does not count. */
        g_assert_cmpint(guard_find_holder(link, &found), ==, 0);

        child = hold_in_child(guard[1], &stop);
        close(guard[1]);
        g_assert_cmpint(guard_find_holder(link, &found), ==, 1);
        g_assert_cmpint(found, ==, child);

        close(stop); /* the child exits */
        g_assert_cmpint(waitpid(child, &status, 0), ==, child);
        g_assert_cmpint(guard_find_holder(link, &found), ==, 0);
        close(guard[0]);
}

static void test_other_files_are_not_the_guard(void)
{
        g_autofree char *link = NULL;
        int guard[2], other[2], stop, status;
        pid_t child, found = 0;

        g_assert_cmpint(pipe(guard), ==, 0);
        g_assert_cmpint(pipe(other), ==, 0);
        g_assert_cmpint(guard_link(guard[1], &link), ==, 0);
        child = hold_in_child(other[1], &stop);
        g_assert_cmpint(guard_find_holder(link, &found), ==, 0);
        close(stop);
        g_assert_cmpint(waitpid(child, &status, 0), ==, child);
        close(guard[0]);
        close(guard[1]);
        close(other[0]);
        close(other[1]);
}

int main(int argc, char *argv[])
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/guard-holders/holder-found-then-gone", test_holder_found_then_gone);
        g_test_add_func("/guard-holders/other-files-are-not-the-guard", test_other_files_are_not_the_guard);
        return g_test_run();
}
