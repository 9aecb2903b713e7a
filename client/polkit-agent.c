/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "macro.h"

/* A text agent for polkit's password prompts, started as systemctl does:
 * only for a person at a terminal, and waited for until it has registered,
 * so the call that needs it finds it. */

/* A person can answer only on a terminal that is this process's own:
 * stdin a tty, and a controlling terminal for pkttyagent to prompt on (a
 * service, a script under a console, or a VM's serial line has none). */
static bool has_person_at_terminal(void)
{
        int fd;

        if (!isatty(STDIN_FILENO))
                return false;
        fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return false;
        close(fd);
        return true;
}

#define PKTTYAGENT "/usr/bin/pkttyagent"
#define AGENT_READY_TIMEOUT_MS 5000

extern char **environ;

int polkit_agent_open(const Client *c, pid_t *ret)
{
        char notify_fd[16], process[16];
        int pipefd[2];
        pid_t pid;
        int r;

        *ret = 0;
        if (c->no_ask_password || geteuid() == 0 || !has_person_at_terminal() || access(PKTTYAGENT, X_OK) < 0)
                return 0;
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        /* The agent tells on its notify fd once it is registered. */
        snprintf(notify_fd, sizeof(notify_fd), "%d", pipefd[1]);
        snprintf(process, sizeof(process), "%d", (int)getpid());
        char *argv[] = { PKTTYAGENT, "--notify-fd", notify_fd, "--fallback", "--process", process, NULL };
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        /* dup2 onto itself clears close-on-exec for the child only. */
        posix_spawn_file_actions_adddup2(&actions, pipefd[1], pipefd[1]);
        r = -posix_spawn(&pid, PKTTYAGENT, &actions, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&actions);
        close(pipefd[1]);
        if (r < 0) {
                close(pipefd[0]);
                return r;
        }
        struct pollfd p = { .fd = pipefd[0], .events = POLLIN };
        (void)poll(&p, 1, AGENT_READY_TIMEOUT_MS);
        close(pipefd[0]);
        *ret = pid;
        /* Someone can answer now: let vfiod have polkit ask. */
        (void)sd_bus_set_allow_interactive_authorization(c->bus, true);
        return 1;
}

void polkit_agent_close(pid_t pid)
{
        if (pid <= 0)
                return;
        (void)kill(pid, SIGTERM);
        (void)waitpid(pid, NULL, 0);
}
