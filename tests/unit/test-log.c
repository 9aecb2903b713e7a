/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* Lines as journald reads them from vfiod's stderr: whole, whoever logs. */

#define THREADS 4
#define LINES_PER_THREAD 400

typedef struct Capture {
        int saved_stderr;
        int read_end;
        pthread_t reader;
        GString *text;
} Capture;

static void *read_all(void *userdata)
{
        Capture *c = userdata;
        char buf[4096];
        ssize_t n;

        while ((n = read(c->read_end, buf, sizeof(buf))) > 0)
                g_string_append_len(c->text, buf, n);
        return NULL;
}

/* stderr into a pipe, read meanwhile (more than a pipe holds is logged). */
static void capture_start(Capture *c)
{
        int p[2];

        g_assert_cmpint(pipe(p), ==, 0);
        c->text = g_string_new(NULL);
        c->read_end = p[0];
        c->saved_stderr = dup(STDERR_FILENO);
        g_assert_cmpint(c->saved_stderr, >=, 0);
        g_assert_cmpint(dup2(p[1], STDERR_FILENO), ==, STDERR_FILENO);
        close(p[1]);
        g_assert_cmpint(pthread_create(&c->reader, NULL, read_all, c), ==, 0);
}

/* What was logged, split into lines; the last, after the final newline, is
 * empty when every line ended. */
static char **capture_end(Capture *c)
{
        char **lines;

        g_assert_cmpint(dup2(c->saved_stderr, STDERR_FILENO), ==, STDERR_FILENO);
        close(c->saved_stderr);
        pthread_join(c->reader, NULL);
        close(c->read_end);
        lines = g_strsplit(c->text->str, "\n", -1);
        g_string_free(c->text, TRUE);
        return lines;
}

static void *log_lines(void *userdata)
{
        int thread = GPOINTER_TO_INT(userdata);

        for (int i = 0; i < LINES_PER_THREAD; i++)
                log_info("thread %d line %d: %s", thread, i, "a message of some length, as vfiod's are");
        return NULL;
}

/* Each line in one piece, with its own priority prefix, however many
 * threads log at once. */
static void test_threads_lines_whole(void)
{
        pthread_t threads[THREADS];
        int next[THREADS] = { 0 };
        g_auto(GStrv) lines = NULL;
        Capture c;
        guint n;

        capture_start(&c);
        for (int t = 0; t < THREADS; t++)
                g_assert_cmpint(pthread_create(&threads[t], NULL, log_lines, GINT_TO_POINTER(t)), ==, 0);
        for (int t = 0; t < THREADS; t++)
                pthread_join(threads[t], NULL);
        lines = capture_end(&c);

        n = g_strv_length(lines);
        g_assert_cmpuint(n, ==, THREADS * LINES_PER_THREAD + 1);
        g_assert_cmpstr(lines[n - 1], ==, "");
        for (guint i = 0; i + 1 < n; i++) {
                int thread = -1, line = -1, end = 0;
                if (sscanf(lines[i], "<6>thread %d line %d: a message of some length, as vfiod's are%n", &thread,
                           &line, &end) != 2 ||
                    lines[i][end] != '\0')
                        g_error("line %u is not one whole line: '%s'", i, lines[i]);
                g_assert_cmpint(thread, >=, 0);
                g_assert_cmpint(thread, <, THREADS);
                /* Each thread's lines in its order. */
                g_assert_cmpint(line, ==, next[thread]);
                next[thread]++;
        }
}

/* A line longer than the stack's buffer is written whole all the same,
 * with the error's text after it. */
static void test_long_line(void)
{
        g_autofree char *path = g_strnfill(5000, 'x');
        g_autofree char *want = g_strdup_printf("<3>Cannot open %s: %s", path, strerror(ENOENT));
        g_auto(GStrv) lines = NULL;
        Capture c;
        int r;

        capture_start(&c);
        r = log_error_errno(-ENOENT, "Cannot open %s", path);
        lines = capture_end(&c);

        g_assert_cmpint(r, ==, -ENOENT);
        g_assert_cmpuint(g_strv_length(lines), ==, 2);
        g_assert_cmpstr(lines[0], ==, want);
}

/* A level above the maximum writes nothing. */
static void test_level(void)
{
        g_auto(GStrv) lines = NULL;
        Capture c;

        capture_start(&c);
        log_debug("not shown at the default level");
        log_warning("shown");
        lines = capture_end(&c);

        g_assert_cmpuint(g_strv_length(lines), ==, 2);
        g_assert_cmpstr(lines[0], ==, "<4>shown");
}

/* Logging leaves errno as it was, even when the write fails (stderr on
 * /dev/full: ENOSPC), as a caller may log and then return -errno. */
static void test_errno_kept(void)
{
        int saved_stderr = dup(STDERR_FILENO), full = open("/dev/full", O_WRONLY | O_CLOEXEC), after;

        g_assert_cmpint(saved_stderr, >=, 0);
        g_assert_cmpint(full, >=, 0);
        g_assert_cmpint(dup2(full, STDERR_FILENO), ==, STDERR_FILENO);
        close(full);
        errno = EPERM;
        log_warning("nowhere to go");
        after = errno;
        g_assert_cmpint(dup2(saved_stderr, STDERR_FILENO), ==, STDERR_FILENO);
        close(saved_stderr);

        g_assert_cmpint(after, ==, EPERM);
}

int main(int argc, char *argv[])
{
        /* As under systemd: each line carries its priority. */
        g_setenv("JOURNAL_STREAM", "8:1234", TRUE);
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/log/threads-lines-whole", test_threads_lines_whole);
        g_test_add_func("/log/long-line", test_long_line);
        g_test_add_func("/log/level", test_level);
        g_test_add_func("/log/errno-kept", test_errno_kept);
        return g_test_run();
}
