/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "authorization.h"
#include "bus-memlock.h"
#include "bus-names.h"
#include "bus-sender.h"
#include "bus-util.h"
#include "fs-util.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "memlock.h"
#include "number.h"
#include "size.h"

/* Manager.RaiseMemlockLimit: RLIMIT_MEMLOCK of the caller's own process, or
 * of another of its uid (a session libvirtd, whose QEMUs inherit it), up to
 * the cap of limits.conf. */

/* The process to raise, as a pidfd the caller passed, which pins it from
 * here on: the caller's own process or another of the caller's uid, either
 * no more than a process of that uid (all its uids and gids the same, no
 * capabilities, not a lone thread), as a session libvirtd is.
 * *ret_other: "PID (COMMAND)" when it is not the process that called, for
 * polkit to be told; NULL when it is. */
static int check_process(sd_bus_message *msg, int pidfd, pid_t *ret_pid, ProcessCredentials *ret_creds,
                         char **ret_other, sd_bus_error *error)
{
        ProcessCredentials creds;
        uid_t caller_uid;
        pid_t caller_pid, pid;
        int r;

        r = pidfd_get_pid(pidfd, &pid);
        if (r == -EBADF)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                        "The process must be given as a pidfd (pidfd_open(2)).");
        if (r >= 0)
                r = pidfd_get_credentials(pidfd, pid, &creds);
        if (r == -ESRCH)
                return sd_bus_error_set(error, VFIOD_ERROR_NO_SUCH_PROCESS,
                                        "The process of the pidfd is gone: no limit was changed.");
        if (r < 0)
                return r;
        r = bus_sender_creds(msg, &caller_uid, &caller_pid);
        if (r < 0)
                return r;
        *ret_other = NULL;
        if (creds.uid != (long)caller_uid && pid == caller_pid && !creds.thread)
                /* The caller itself, its uids changed since it connected. */
                return bus_error_setf(error, VFIOD_ERROR_NOT_AUTHORIZED,
                                      "The calling process %d runs with more than one uid, or another than "
                                      "it connected with: its limit is not raised.",
                                      (int)pid);
        if (creds.uid != (long)caller_uid)
                return bus_error_setf(error, VFIOD_ERROR_NOT_AUTHORIZED,
                                      "The pidfd is of pid %d (uid %ld), not of a process of the caller's "
                                      "(uid %u): only the caller's own processes' limits can be raised.",
                                      (int)pid, creds.uid, (unsigned)caller_uid);
        /* Asked of the caller's own PID too, unless the caller is root, who
         * may raise any limit of its own: the bus gives the PID it connected
         * from, which by now another process may have. */
        if ((pid != caller_pid || caller_uid != 0) && (creds.gid < 0 || creds.capabilities || creds.thread))
                return bus_error_setf(error, VFIOD_ERROR_NOT_AUTHORIZED,
                                      "Process %d is more than a process of uid %u (%s): its limit is "
                                      "not raised.",
                                      (int)pid, (unsigned)caller_uid,
                                      creds.thread       ? "a thread's pidfd"
                                      : creds.gid < 0    ? "a set-group-ID program"
                                                         : "it holds capabilities");
        if (pid != caller_pid) {
                char comm[PROC_COMM_SIZE];
                if (asprintf(ret_other, "%d (%s)", (int)pid, proc_comm(pid, comm)) < 0)
                        return -ENOMEM;
        }
        *ret_pid = pid;
        *ret_creds = creds;
        return 0;
}

int bus_method_raise_memlock_limit(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;
        char want[SIZE_STRING_MAX], cap[SIZE_STRING_MAX];
        uint64_t bytes, limit;
        _cleanup_(policy_decision_done) PolicyDecision decision = {};
        _cleanup_free_ char *other = NULL;
        ProcessCredentials creds = {};
        pid_t pid = 0; /* check_process() sets it; gcc -O3 cannot tell */
        uid_t caller;
        int pidfd, r;

        r = sd_bus_message_read(msg, "ht", &pidfd, &bytes);
        if (r < 0)
                return r;
        if (bytes == 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "A memlock limit of 0 bytes raises nothing.");
        if (bytes > m->limits.memlock_max)
                return bus_error_setf(error, VFIOD_ERROR_LIMIT_EXCEEDED,
                                      "%s of locked memory is more than the %s this host allows (MemlockMax= in "
                                      "%s/limits.conf).",
                                      format_size(bytes, want), format_size(m->limits.memlock_max, cap),
                                      m->config_dir);
        r = check_process(msg, pidfd, &pid, &creds, &other, error);
        if (r < 0)
                return r;
        r = bus_sender_euid(msg, &caller);
        if (r >= 0)
                r = policy_memlock(caller, other, &decision);
        if (r >= 0)
                r = authorize(m->authorizer, msg, &decision, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = memlock_raise(pidfd, pid, &creds, bytes, &limit);
        if (r == -ESRCH)
                return sd_bus_error_set(error, VFIOD_ERROR_NO_SUCH_PROCESS,
                                        "The process is gone: no limit was changed.");
        if (r == -ESTALE)
                return bus_error_setf(error, VFIOD_ERROR_NOT_AUTHORIZED,
                                      "Process %d changed its credentials while its limit was raised (an exec "
                                      "of a set-user-ID program?): the raise is taken back.",
                                      (int)pid);
        if (r < 0)
                return bus_error_setf(error, SD_BUS_ERROR_FAILED, "Cannot raise the memlock limit: %s.",
                                      strerror(-r));
        log_info("RLIMIT_MEMLOCK of %s%s%s raised to %s.", strna(sd_bus_message_get_sender(msg)),
                 other ? ", for process " : "", strempty(other), format_size(limit, want));
        return sd_bus_reply_method_return(msg, "t", limit);
}
