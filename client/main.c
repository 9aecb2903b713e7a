/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "config.h"
#include "macro.h"

static const struct {
        const char *name;
        VerbFn fn;
} verbs[] = {
        { "list", verb_list },
        { "show", verb_show },
        { "doctor", verb_doctor },
        { "claim", verb_claim },
        { "release", verb_release },
};

static VerbFn find_verb(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(name, verbs[i].name))
                        return verbs[i].fn;
        return NULL;
}

static void help(void)
{
        printf("vfioctl-client " PACKAGE_VERSION "\n"
               "Pass PCI devices to virtual machines through vfiod.\n\n"
               "Usage: vfioctl-client [OPTIONS] COMMAND [ARGS]\n\n"
               "Commands:\n"
               "  list                  PCI devices by IOMMU group: ids, driver, state\n"
               "  show ADDRESS|GROUP    one device (0000:01:00.0 or 01:00.0) or one group\n"
               "  doctor                is this host ready for VFIO, and what to fix\n"
               "  claim ADDRESS|GROUP   move the device's whole IOMMU group to vfio-pci\n"
               "  release ADDRESS|GROUP return the group to the drivers it had\n\n"
               "Options:\n"
               "  --json                machine-readable output\n"
               "  --force               claim even a group the host uses (a mounted disk,\n"
               "                        the default route, the console, open device nodes)\n"
               "  --no-color            no colours, even on a terminal\n"
               "  --bus-address=ADDRESS talk to vfiod on this bus, not the system bus\n"
               "  -h --help             show this help\n"
               "  --version             show the version\n\n"
               "See vfioctl-client(1).\n");
}

int main(int argc, char *argv[])
{
        enum { ARG_JSON = 0x100, ARG_NO_COLOR, ARG_FORCE, ARG_BUS_ADDRESS, ARG_VERSION };
        static const struct option options[] = {
                { "json", no_argument, NULL, ARG_JSON },
                { "force", no_argument, NULL, ARG_FORCE },
                { "no-color", no_argument, NULL, ARG_NO_COLOR },
                { "bus-address", required_argument, NULL, ARG_BUS_ADDRESS },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {},
        };
        Client c = { .color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR") };
        VerbFn fn;
        int opt, r;

        while ((opt = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (opt) {
                case ARG_JSON:
                        c.json = true;
                        break;
                case ARG_FORCE:
                        c.force = true;
                        break;
                case ARG_NO_COLOR:
                        c.color = false;
                        break;
                case ARG_BUS_ADDRESS:
                        c.bus_address = optarg;
                        break;
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                case ARG_VERSION:
                        puts("vfioctl-client " PACKAGE_VERSION);
                        return EXIT_SUCCESS;
                default:
                        return EXIT_FAILURE;
                }
        if (optind >= argc) {
                fprintf(stderr, "vfioctl-client: which command? See vfioctl-client --help.\n");
                return EXIT_FAILURE;
        }
        fn = find_verb(argv[optind]);
        if (!fn) {
                fprintf(stderr, "vfioctl-client: unknown command '%s'. See vfioctl-client --help.\n",
                        argv[optind]);
                return EXIT_FAILURE;
        }
        r = fn(&c, argc - optind, argv + optind);
        sd_bus_flush_close_unref(c.bus);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
