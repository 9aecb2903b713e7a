/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bus-names.h"
#include "fake-kernel.h"
#include "fuzz-calls.h"
#include "fuzz-world.h"
#include "log.h"
#include "macro.h"
#include "manager.h"

/* The whole daemon (manager_new(), manager_start(), its event loop in a
 * thread of its own) on a bus that this fuzzer plays: the bus driver,
 * polkit and three callers (root, and two users) are answered in-process

 * (fuzz-world.c), and the kernel is the fake of fake-kernel.c, so claims,
 * releases, reservations, memlock, lease objects and properties all run
 * and nothing touches this machine's devices.
 *
 * An input is a list of calls, each with its caller, polkit's answer and
 * what the machine does (a failing step, a device in use, a group held
 * open after its lease). Every call must be answered. After the input every
 * caller leaves, root releases what is left, and every device must then be
 * back on the driver and driver_override it started with. */

static FuzzWorld *world;

static void *run_daemon(void *address)
{
        /* On tmpfs: the records are written with fsync() at every step. */
        char state_dir[] = "/dev/shm/fuzz-vfiod-state-XXXXXX", config_dir[] = "/dev/shm/fuzz-vfiod-config-XXXXXX";
        ManagerOptions options = {
                .bus_address = address,
                .state_dir = state_dir,
                .config_dir = config_dir,
                .step_timeout_usec = 10 * 1000 * 1000ULL,
        };
        Manager *m;

        if (!mkdtemp(state_dir) || !mkdtemp(config_dir) || manager_new(&options, &m) < 0 || manager_start(m) < 0)
                abort();
        (void)manager_run(m);
        abort(); /* nothing ends the loop */
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        static char address[sizeof(((struct sockaddr_un *)0)->sun_path) + 16];
        pthread_t daemon;
        int listener;

        /* The fuzzer makes every step fail, over and over: the daemon's log
         * only when reproducing a finding. */
        log_set_max_level(getenv("FUZZ_VFIOD_LOG") ? LOG_DEBUG : LOG_CRIT);
        if (fake_kernel_init() < 0 || fuzz_world_listen(address, sizeof(address), &listener) < 0 ||
            pthread_create(&daemon, NULL, run_daemon, address) != 0 || fuzz_world_new(listener, &world) < 0)
                abort();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        FuzzInput in = { data, size };

        while (in.size > 0)
                fuzz_call(world, &in);
        fuzz_settle(world);
        return 0;
}
