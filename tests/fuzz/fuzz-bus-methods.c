/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "bus-manager.h"
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
/* Everything the daemon and the fake keep, on tmpfs (the records are
 * written with fsync() at every step), removed at exit. */
static char work_dir[] = "/dev/shm/vfiod-fz-XXXXXX";

static char *work_path(const char *name)
{
        char *path;

        if (asprintf(&path, "%s/%s", work_dir, name) < 0)
                abort();
        return path;
}

static int on_nothing(sd_event_source *s, const struct inotify_event *event, void *userdata)
{
        return 0;
}

/* sd-event closes its inotify fd with the last watch on it (a group held
 * past its lease has two), and the kernel waits for an SRCU grace period
 * at that close: milliseconds, at about one input in ten, which made the
 * target 1.6 times slower. A watch that never goes keeps the fd open. */
static int keep_inotify_open(sd_event *event)
{
        return sd_event_add_inotify(event, NULL, work_dir, IN_DELETE_SELF, on_nothing, NULL);
}

static void *run_daemon(void *address)
{
        ManagerOptions options = {
                .bus_address = address,
                .state_dir = work_path("state"),
                .config_dir = work_path("config"),
                .cdi_dir = work_path("cdi"),
                .step_timeout_usec = 10 * 1000 * 1000ULL,
        };
        Manager *m;

        if (mkdir(options.state_dir, 0700) < 0 || mkdir(options.config_dir, 0700) < 0 ||
            manager_new(&options, &m) < 0 || keep_inotify_open(m->event) < 0 || manager_start(m) < 0 ||
            bus_manager_serve(m) < 0)
                abort();
        if (manager_run(m) < 0)
                abort(); /* the loop failed */
        /* Only SIGINT or SIGTERM ends the loop (the idle timeout is off):
         * the daemon's signalfd took what was meant for libFuzzer, which
         * stops cleanly on it. This thread blocks both, so the main thread
         * gets it now. */
        (void)kill(getpid(), SIGINT);
        for (;;)
                pause();
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        (void)remove(path);
        return 0;
}

static void remove_work_dir(void)
{
        (void)nftw(work_dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        static char address[sizeof(((struct sockaddr_un *)0)->sun_path) + 16];
        _cleanup_free_ char *nodes = NULL, *socket = NULL;
        pthread_t daemon;
        int listener;

        /* The fuzzer makes every step fail, over and over: the daemon's log
         * only when reproducing a finding. */
        log_set_max_level(getenv("FUZZ_VFIOD_LOG") ? LOG_DEBUG : LOG_CRIT);
        if (!mkdtemp(work_dir))
                abort();
        atexit(remove_work_dir);
        nodes = work_path("n");
        socket = work_path("bus");
        if (fake_kernel_init(nodes) < 0 || fuzz_world_listen(socket, address, sizeof(address), &listener) < 0 ||
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
