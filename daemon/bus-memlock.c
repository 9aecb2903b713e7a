/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "authorization.h"
#include "bus-memlock.h"
#include "bus-names.h"
#include "bus-sender.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "memlock.h"
#include "number.h"
#include "size.h"

/* Manager.RaiseMemlockLimit: the caller's own RLIMIT_MEMLOCK, up to the cap
 * of limits.conf. */

/* The process to raise: the caller's own, as a pidfd it passed. The bus
 * knows which process connected; the pidfd must be of that process and of
 * the caller's uid, and it pins the process from here on. */
static int check_process(sd_bus_message *msg, int pidfd, pid_t *ret_pid, sd_bus_error *error)
{
        uid_t caller_uid, uid;
        pid_t caller_pid, pid;
        int r;

        r = pidfd_get_pid(pidfd, &pid);
        if (r == -EBADF)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                        "The process must be given as a pidfd (pidfd_open(2)) of the calling process.");
        if (r >= 0)
                r = pidfd_get_uid(pidfd, pid, &uid);
        if (r == -ESRCH)
                return sd_bus_error_set(error, VFIOD_ERROR_NO_SUCH_PROCESS,
                                        "The process of the pidfd is gone: no limit was changed.");
        if (r < 0)
                return r;
        r = bus_sender_creds(msg, &caller_uid, &caller_pid);
        if (r < 0)
                return r;
        if (pid != caller_pid || uid != caller_uid)
                return sd_bus_error_setf(error, VFIOD_ERROR_NOT_AUTHORIZED,
                                         "The pidfd is of pid %d (uid %u), not of the calling process (pid %d, uid "
                                         "%u): only the caller's own limit can be raised.",
                                         (int)pid, (unsigned)uid, (int)caller_pid, (unsigned)caller_uid);
        *ret_pid = pid;
        return 0;
}

int bus_method_raise_memlock_limit(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;
        char want[SIZE_STRING_MAX], cap[SIZE_STRING_MAX];
        uint64_t bytes, limit;
        _cleanup_(policy_decision_done) PolicyDecision decision = {};
        pid_t pid = 0; /* check_process() sets it; gcc -O3 cannot tell */
        uid_t caller;
        int pidfd, r;

        r = sd_bus_message_read(msg, "ht", &pidfd, &bytes);
        if (r < 0)
                return r;
        if (bytes == 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "A memlock limit of 0 bytes raises nothing.");
        if (bytes > m->limits.memlock_max)
                return sd_bus_error_setf(error, VFIOD_ERROR_LIMIT_EXCEEDED,
                                         "%s of locked memory is more than the %s this host allows (MemlockMax= in "
                                         "%s/limits.conf).",
                                         format_size(bytes, want), format_size(m->limits.memlock_max, cap),
                                         m->config_dir);
        r = bus_sender_euid(msg, &caller);
        if (r >= 0)
                r = policy_memlock(caller, &decision);
        if (r >= 0)
                r = authorize(m->authorizer, msg, &decision, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = check_process(msg, pidfd, &pid, error);
        if (r < 0)
                return r;
        r = memlock_raise(pidfd, pid, bytes, &limit);
        if (r == -ESRCH)
                return sd_bus_error_set(error, VFIOD_ERROR_NO_SUCH_PROCESS,
                                        "The calling process is gone: no limit was changed.");
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "Cannot raise the memlock limit: %s.",
                                         strerror(-r));
        log_info("RLIMIT_MEMLOCK of %s raised to %s.", strna(sd_bus_message_get_sender(msg)),
                 format_size(limit, want));
        return sd_bus_reply_method_return(msg, "t", limit);
}
