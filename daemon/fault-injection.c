/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "fault-injection.h"
#include "log.h"
#include "macro.h"
#include "pci-address.h"

typedef enum FaultAction {
        FAULT_CRASH, /* SIGKILL ourselves */
        FAULT_FAIL,  /* the step fails with EIO */
        FAULT_STALL, /* the step waits FAULT_STALL_SEC first: a slow kernel */
        _FAULT_ACTION_MAX,
} FaultAction;
#define FAULT_STALL_SEC 10

/* As VFIOD_FAULT names it, and as the log says it happens. */
static const char *const fault_action_names[_FAULT_ACTION_MAX][2] = {
        [FAULT_CRASH] = { "crash", "crashing" },
        [FAULT_FAIL] = { "fail", "failing" },
        [FAULT_STALL] = { "stall", "stalling" },
};

typedef struct Fault {
        FaultAction action;
        char kind[16], step[32], address[PCI_ADDRESS_STRING_MAX];
} Fault;

/* Set before the daemon starts threads; cleared by the first point that
 * matches, in whichever thread. */
static Fault fault;
static atomic_bool armed;

int fault_injection_setup(void)
{
#if ENABLE_FAULT_INJECTION
        const char *spec = getenv("VFIOD_FAULT");
        char action[16] = "";
        int n;

        if (!spec || !spec[0])
                return 0;
        n = sscanf(spec, "%15[^,],%15[^,],%31[^,],%12s", action, fault.kind, fault.step, fault.address);
        if (n < 3)
                return -EINVAL;
        for (fault.action = 0; fault.action < _FAULT_ACTION_MAX; fault.action++)
                if (streq(action, fault_action_names[fault.action][0]))
                        break;
        if (fault.action == _FAULT_ACTION_MAX)
                return -EINVAL;
        atomic_store(&armed, true);
        log_warning("Fault injection armed: %s at step %s of a %s of %s.", action, fault.step, fault.kind,
                    fault.address[0] ? fault.address : "any device");
#endif
        return 0;
}

int fault_inject(const char *kind, const char *step, const char *address)
{
        bool expected = true;

        if (!atomic_load(&armed) || !streq(fault.kind, kind) || !streq(fault.step, step) ||
            (fault.address[0] && (!address || !streq(fault.address, address))))
                return 0;
        /* Once: the undoing must not fail too. */
        if (!atomic_compare_exchange_strong(&armed, &expected, false))
                return 0;
        log_warning("Fault injection: %s at step '%s%s%s' of a %s.", fault_action_names[fault.action][1], step,
                    address ? " " : "", strempty(address), kind);
        if (fault.action == FAULT_CRASH)
                raise(SIGKILL);
        if (fault.action == FAULT_STALL) {
                sleep(FAULT_STALL_SEC);
                return 0;
        }
        return -EIO;
}
