/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "authorization.h"
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

/* When the call reached the daemon, in CLOCK_BOOTTIME: the caller existed
 * then. From the message's receive time, which a second dispatch after
 * polkit answered does not move. */
static uint64_t request_time(sd_bus_message *msg)
{
        uint64_t now = now_usec(CLOCK_BOOTTIME), received, mono = now_usec(CLOCK_MONOTONIC);

        if (sd_bus_message_get_monotonic_usec(msg, &received) < 0 || received > mono)
                return now;
        return now - (mono - received);
}

int bus_method_raise_memlock_limit(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;
        char want[SIZE_STRING_MAX], cap[SIZE_STRING_MAX];
        uint64_t bytes, limit;
        pid_t pid;
        int r;

        r = sd_bus_message_read(msg, "t", &bytes);
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
        r = authorize(m->authorizer, msg, VFIOD_ACTION_MEMLOCK, NULL, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = bus_sender_creds(msg, NULL, &pid);
        if (r < 0)
                return r;
        r = memlock_raise(pid, request_time(msg), bytes, &limit);
        if (r == -ESRCH)
                return sd_bus_error_setf(error, VFIOD_ERROR_NO_SUCH_PROCESS,
                                         "The calling process (pid %d) is gone: no limit was changed.", (int)pid);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "Cannot raise the memlock limit of pid %d: %s.",
                                         (int)pid, strerror(-r));
        log_info("RLIMIT_MEMLOCK of pid %d raised to %s.", (int)pid, format_size(limit, want));
        return sd_bus_reply_method_return(msg, "t", limit);
}
