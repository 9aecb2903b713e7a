/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "client.h"
#include "macro.h"
#include "number.h"
#include "size.h"

/* vfioctl-client memlock PID: raise the locked-memory limit of a process
 * of one's own, such as a session libvirtd, whose QEMUs inherit it; and
 * the raise claim does for the process its command becomes. */

int client_raise_memlock(Client *c, pid_t pid, uint64_t *ret_limit)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_close_ int pidfd = -1;
        pid_t agent;
        int r;

        /* A pidfd pins the process: vfiod never acts on a PID that passed on. */
        pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0)
                return client_fail(c, errno == ESRCH ? CLIENT_EXIT_NOT_FOUND : CLIENT_EXIT_FAILURE,
                                   "cannot open a pidfd of process %d for its memlock limit: %s", (int)pid,
                                   strerror(errno));
        (void)polkit_agent_open(c, &agent);
        r = client_call_manager(c, "RaiseMemlockLimit", &reply, "ht", pidfd, c->memlock_bytes);
        polkit_agent_close(agent);
        if (r >= 0 && ret_limit && (r = sd_bus_message_read(reply, "t", ret_limit)) < 0)
                return report_unreadable_answer(c, r);
        return r;
}

int verb_memlock(Client *c, int argc, char *argv[])
{
        char size[SIZE_STRING_MAX];
        uint64_t limit, pid;
        int r;

        if (parse_canonical_u64(argv[1], INT32_MAX, &pid) < 0 || pid == 0)
                return client_usage_error(c, "'%s' is not a process id.", argv[1]);
        if (c->memlock_bytes == 0)
                return client_usage_error(c, "memlock needs --memlock=SIZE or --memory=SIZE.");
        if ((r = client_bus(c, &c->bus)) < 0 || (r = client_raise_memlock(c, (pid_t)pid, &limit)) < 0)
                return r;
        if (c->json)
                printf("{\"pid\":%llu,\"memlock_limit\":%llu}\n", (unsigned long long)pid,
                       (unsigned long long)limit);
        else
                printf("The locked-memory limit of process %llu is %s.\n", (unsigned long long)pid,
                       format_size(limit, size));
        return 0;
}
