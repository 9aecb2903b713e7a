/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

/* fd-hog PROCESSES FDS THREADS FILE: the load of bench/open-fds, a desktop
 * with browsers. PROCESSES children each hold FDS open fds, of the kinds
 * such programs hold: pipes, sockets, eventfds, /dev/null, and regular
 * files (FILE, opened again and again), and run THREADS threads that share
 * them. Prints "ready" once all of them hold theirs, then waits until its
 * stdin ends, and takes the children along. */

static void hold(int fds, const char *file)
{
        int held = 0, pair[2];

        while (held < fds) {
                switch (held % 5) {
                case 0:
                        if (pipe2(pair, O_CLOEXEC) == 0)
                                held += 2;
                        break;
                case 1:
                        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0)
                                held += 2;
                        break;
                case 2:
                        if (eventfd(0, EFD_CLOEXEC) >= 0)
                                held++;
                        break;
                case 3:
                        if (open("/dev/null", O_RDONLY | O_CLOEXEC) >= 0)
                                held++;
                        break;
                default:
                        if (open(file, O_RDONLY | O_CLOEXEC) >= 0)
                                held++;
                        break;
                }
                if (errno == EMFILE)
                        break;
        }
}

static void *idle(void *unused)
{
        for (;;)
                pause();
        return NULL;
}

int main(int argc, char *argv[])
{
        int processes, fds, threads, ready[2];
        char c;

        if (argc != 5 || (processes = atoi(argv[1])) <= 0 || (fds = atoi(argv[2])) <= 0 ||
            (threads = atoi(argv[3])) <= 0) {
                fprintf(stderr, "usage: fd-hog PROCESSES FDS THREADS FILE\n");
                return EXIT_FAILURE;
        }
        if (pipe(ready) < 0)
                return EXIT_FAILURE;
        setpgid(0, 0);
        for (int i = 0; i < processes; i++) {
                pid_t pid = fork();
                if (pid < 0)
                        return EXIT_FAILURE;
                if (pid == 0) {
                        pthread_t thread;
                        close(ready[0]);
                        hold(fds, argv[4]);
                        for (int t = 1; t < threads; t++)
                                if (pthread_create(&thread, NULL, idle, NULL) != 0)
                                        _exit(1);
                        (void)write(ready[1], "x", 1);
                        close(ready[1]);
                        pause();
                        _exit(0);
                }
        }
        close(ready[1]);
        for (int i = 0; i < processes; i++)
                if (read(ready[0], &c, 1) != 1)
                        return EXIT_FAILURE;
        printf("ready\n");
        fflush(stdout);
        while (read(STDIN_FILENO, &c, 1) > 0)
                ;
        signal(SIGTERM, SIG_IGN);
        kill(0, SIGTERM);
        return EXIT_SUCCESS;
}
