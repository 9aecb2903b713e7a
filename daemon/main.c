/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-manager.h"
#include "capabilities.h"
#include "cdi-spec.h"
#include "config.h"
#include "fault-injection.h"
#include "log.h"
#include "manager.h"

#define DEFAULT_IDLE_TIMEOUT_SEC 30
#define DEFAULT_STEP_TIMEOUT_SEC 10
#define DEFAULT_STATE_DIR RUNSTATEDIR "/vfiod"
#define DEFAULT_CONFIG_DIR SYSCONFDIR "/vfiod"

static void help(void)
{
        printf("vfiod " PACKAGE_VERSION "\n"
               "Hands PCI devices to virtual machines: the privileged half of VFIO, on D-Bus.\n\n"
               "Usage: vfiod [OPTIONS]\n\n"
               "  --bus-address=ADDRESS  serve on this bus instead of the system bus\n"
               "  --idle-timeout=SECONDS exit after this long without callers when\n"
               "                         nothing moves; 0 never exits (default %d)\n"
               "  --step-timeout=SECONDS call a group stuck when one sysfs step of its\n"
               "                         claim or release takes longer (default %d)\n"
               "  --state-dir=DIR        keep the claim records here (default %s)\n"
               "  --config-dir=DIR       read limits.conf, cdi.conf, profiles.d and\n"
               "                         reservations.d here (default %s)\n"
               "  --cdi-dir=DIR          write prepared claims' CDI specs here (default %s)\n"
               "  --debug                log debug messages\n"
               "  -h --help              show this help\n"
               "  --version              show the version\n\n"
               "See vfiod(8).\n",
               DEFAULT_IDLE_TIMEOUT_SEC, DEFAULT_STEP_TIMEOUT_SEC, DEFAULT_STATE_DIR, DEFAULT_CONFIG_DIR, CDI_SPEC_DIR);
}

static int parse_seconds(const char *s, uint64_t *ret)
{
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > UINT64_MAX / 1000000)
                return -EINVAL;
        *ret = v * 1000000;
        return 0;
}

/* --NAME-timeout=SECONDS; 0 only when zero_ok. */
static int parse_timeout(const char *name, const char *arg, bool zero_ok, uint64_t *ret_usec)
{
        if (parse_seconds(arg, ret_usec) < 0 || (!zero_ok && *ret_usec == 0)) {
                log_error("--%s-timeout takes a %snumber of seconds, not '%s'.", name, zero_ok ? "" : "positive ",
                          arg);
                return -EINVAL;
        }
        return 0;
}

static int parse_argv(int argc, char *argv[], ManagerOptions *o)
{
        enum { ARG_BUS_ADDRESS = 0x100, ARG_IDLE_TIMEOUT, ARG_STEP_TIMEOUT, ARG_STATE_DIR, ARG_CONFIG_DIR, ARG_CDI_DIR,
               ARG_DEBUG, ARG_VERSION };
        static const struct option options[] = {
                { "bus-address", required_argument, NULL, ARG_BUS_ADDRESS },
                { "idle-timeout", required_argument, NULL, ARG_IDLE_TIMEOUT },
                { "step-timeout", required_argument, NULL, ARG_STEP_TIMEOUT },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "config-dir", required_argument, NULL, ARG_CONFIG_DIR },
                { "cdi-dir", required_argument, NULL, ARG_CDI_DIR },
                { "debug", no_argument, NULL, ARG_DEBUG },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case ARG_BUS_ADDRESS:
                        o->bus_address = optarg;
                        break;
                case ARG_IDLE_TIMEOUT:
                        if (parse_timeout("idle", optarg, true, &o->idle_timeout_usec) < 0)
                                return -EINVAL;
                        break;
                case ARG_STEP_TIMEOUT:
                        if (parse_timeout("step", optarg, false, &o->step_timeout_usec) < 0)
                                return -EINVAL;
                        break;
                case ARG_STATE_DIR:
                        if (optarg[0] != '/') {
                                log_error("--state-dir takes an absolute path, not '%s'.", optarg);
                                return -EINVAL;
                        }
                        o->state_dir = optarg;
                        break;
                case ARG_CONFIG_DIR:
                        o->config_dir = optarg;
                        break;
                case ARG_CDI_DIR:
                        o->cdi_dir = optarg;
                        break;
                case ARG_DEBUG:
                        log_set_max_level(LOG_DEBUG);
                        break;
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("vfiod %s%s\n", PACKAGE_VERSION, ENABLE_FAULT_INJECTION ? " (fault injection)" : "");
                        return 0;
                default:
                        return -EINVAL;
                }
        if (optind < argc) {
                log_error("vfiod takes no arguments; see vfiod --help.");
                return -EINVAL;
        }
        return 1;
}

int main(int argc, char *argv[])
{
        _cleanup_(manager_freep) Manager *m = NULL;
        ManagerOptions options = {
                .idle_timeout_usec = DEFAULT_IDLE_TIMEOUT_SEC * 1000000ULL,
                .step_timeout_usec = DEFAULT_STEP_TIMEOUT_SEC * 1000000ULL,
                .state_dir = DEFAULT_STATE_DIR,
                .config_dir = DEFAULT_CONFIG_DIR,
                .cdi_dir = CDI_SPEC_DIR,
        };
        int r;

        /* Large buffers (a ListDevices reply on a big host is a megabyte) get
         * their own mappings and go back to the system when freed: glibc's
         * adaptive threshold would otherwise keep them in the heap for good. */
        (void)mallopt(M_MMAP_THRESHOLD, 128 * 1024);

        r = parse_argv(argc, argv, &options);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        r = drop_capabilities();
        if (r < 0) {
                log_error_errno(r, "Cannot drop capabilities");
                return EXIT_FAILURE;
        }
        r = fault_injection_setup();
        if (r < 0) {
                log_error("VFIOD_FAULT must be 'crash|fail|stall,claim|release|restore|refresh|unhold|lease,STEP[,ADDRESS]'.");
                return EXIT_FAILURE;
        }
        r = manager_new(&options, &m);
        if (r < 0)
                return EXIT_FAILURE;
        r = manager_start(m);
        if (r < 0)
                return EXIT_FAILURE;
        r = bus_manager_serve(m);
        if (r >= 0)
                r = manager_run(m);
        bus_manager_stop(m);
        if (r < 0) {
                log_error_errno(r, "Event loop failed");
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}
