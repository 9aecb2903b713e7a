/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * thread-holder own-table|main-exits PATH: holds PATH open from a second
 * thread, in an fd table that /proc/PID/fd does not show, and stays until
 * killed. own-table: the thread unshares its fd table first. main-exits:
 * the thread shares the main thread's table, and the main thread exits.
 * Prints "holder PID" once the node is held so (and the main thread gone);
 * exits 1 at a failure, saying which.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *path;
static bool own_table;

static void fail(const char *what)
{
        perror(what);
        exit(1);
}

/* The state of the main thread, which /proc/self/stat shows. */
static char main_thread_state(void)
{
        char buf[512], *paren;
        FILE *f = fopen("/proc/self/stat", "re");

        if (!f || !fgets(buf, sizeof(buf), f))
                fail("/proc/self/stat");
        fclose(f);
        paren = strrchr(buf, ')');
        return paren && paren[1] == ' ' ? paren[2] : '?';
}

static void *hold(void *unused)
{
        const struct timespec tick = {.tv_nsec = 10 * 1000 * 1000};

        if (own_table && unshare(CLONE_FILES) < 0)
                fail("unshare(CLONE_FILES)");
        if (open(path, O_RDONLY | O_CLOEXEC) < 0)
                fail(path);
        for (int i = 0; !own_table && main_thread_state() != 'Z'; i++) {
                if (i == 1000)
                        fail("the main thread did not exit");
                nanosleep(&tick, NULL);
        }
        printf("holder %d\n", (int)getpid());
        fflush(stdout);
        for (;;)
                pause();
        return NULL;
}

int main(int argc, char *argv[])
{
        pthread_t thread;

        if (argc != 3 || (strcmp(argv[1], "own-table") != 0 && strcmp(argv[1], "main-exits") != 0)) {
                fprintf(stderr, "usage: thread-holder own-table|main-exits PATH\n");
                return 2;
        }
        own_table = strcmp(argv[1], "own-table") == 0;
        path = argv[2];
        if (pthread_create(&thread, NULL, hold, NULL) != 0)
                fail("pthread_create");
        if (own_table)
                for (;;)
                        pause();
        pthread_exit(NULL);
}
