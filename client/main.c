/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "config.h"
#include "macro.h"
#include "size.h"

#define TARGET_ARGUMENT "one PCI address or IOMMU group number"
#define MATCH_ARGUMENT                                                                                               \
        "one match: a PCI address (0000:01:00.0), a physical path (0000:00:1c.0/00.0) or an id (10de:1b80, "  \
        "10de:1b80@01:00.0)"

enum { ARG_JSON = 0x100, ARG_NO_COLOR, ARG_FORCE, ARG_BUS_ADDRESS, ARG_VERSION, ARG_CHOWN, ARG_FD, ARG_CDEV, ARG_MEMLOCK,
       ARG_MEMORY, ARG_WAIT, ARG_PERSISTENT, ARG_OWNER, ARG_NO_ASK_PASSWORD, ARG_ALL };

/* Long options as bits of a set. */
#define OPTION(arg) (1u << ((arg) - ARG_JSON))
/* Those of every verb; each verb names the others it takes. */
#define GLOBAL_OPTIONS (OPTION(ARG_JSON) | OPTION(ARG_NO_COLOR) | OPTION(ARG_BUS_ADDRESS) | OPTION(ARG_VERSION) | \
                        OPTION(ARG_NO_ASK_PASSWORD))
#define MEMLOCK_OPTIONS (OPTION(ARG_MEMLOCK) | OPTION(ARG_MEMORY))
#define MODE_OPTIONS (OPTION(ARG_CHOWN) | OPTION(ARG_FD) | OPTION(ARG_CDEV))
#define CLAIM_OPTIONS (OPTION(ARG_FORCE) | MODE_OPTIONS | MEMLOCK_OPTIONS | OPTION(ARG_WAIT) | OPTION(ARG_PERSISTENT))

/* Each verb with the one argument it takes, if any (what it must be), the
 * options it takes besides GLOBAL_OPTIONS, and its help: "vfioctl-client
 * VERB --help". */
typedef struct Verb {
        const char *name;
        VerbFn fn;
        const char *argument; /* NULL: none */
        unsigned options;
        const char *help;
} Verb;

static const Verb verbs[] = {
        { "list", verb_list, NULL, 0,
          "list\n\nPCI devices by IOMMU group: address, ids, driver, state, names.\n" },
        { "show", verb_show, TARGET_ARGUMENT, 0,
          "show ADDRESS|GROUP\n\nOne device (0000:01:00.0 or 01:00.0) or one IOMMU group, with who holds it.\n" },
        { "doctor", verb_doctor, NULL, 0,
          "doctor\n\nIs this host ready for VFIO (IOMMU, interrupt remapping, vfio-pci, memlock), and\n"
          "what to change. Works without vfiod, from what this client can read. Exits 1\n"
          "when something must be fixed.\n" },
        { "claim", verb_claim, TARGET_ARGUMENT, CLAIM_OPTIONS,
          "claim ADDRESS|GROUP [-- COMMAND [ARGS...]]\n\n"
          "Move the device's whole IOMMU group to vfio-pci and hand it to you: with a\n"
          "command, for as long as it runs; with --wait until Ctrl-C; as root, until\n"
          "released.\n\n"
          "  --chown               own /dev/vfio/GROUP while the lease lasts (default)\n"
          "  --fd                  pass the group and a container fd to COMMAND\n"
          "                        (VFIOD_GROUP_FD, VFIOD_CONTAINER_FD)\n"
          "  --cdev                pass each device's cdev and an iommufd to COMMAND\n"
          "                        (VFIOD_IOMMU_FD, VFIOD_DEVICE_FDS; Linux 6.6+)\n"
          "  --memlock=SIZE        raise the command's locked-memory limit first (256M,\n"
          "                        16G)\n"
          "  --memory=SIZE         the same, for a guest of this much RAM (+1 GiB), with\n"
          "                        its unit (8G, 8192M); a QEMU command's -m says how\n"
          "                        much it needs\n"
          "  --wait                without a command: hold until Ctrl-C\n"
          "  --persistent          without a command: keep it until released (root)\n"
          "  --force               claim even a group the host uses\n" },
        { "release", verb_release, TARGET_ARGUMENT, OPTION(ARG_ALL),
          "release ADDRESS|GROUP\n       vfioctl-client [OPTIONS] release --all\n\n"
          "End the group's lease and return its devices to the drivers they had. With\n"
          "--all, every lease of yours (root: every lease).\n" },
        { "leases", verb_leases, NULL, 0,
          "leases\n\nWho holds which group: lease, group, owner, process, mode, lifetime, since.\n" },
        { "monitor", verb_monitor, NULL, 0,
          "monitor\n\nFollow vfiod's changes until Ctrl-C, a line each (--json: the whole change).\n" },
        { "reserve", verb_reserve, MATCH_ARGUMENT, OPTION(ARG_OWNER),
          "reserve MATCH [--owner=USER|@GROUP]\n\n"
          "Keep the devices MATCH names on vfio-pci from every boot on, and move them now.\n"
          "MATCH: an address (01:00.0), a physical path (0000:00:1c.0/00.0) or an id\n"
          "(10de:1b80, 10de:1b80@01:00.0); see vfiod.conf(5).\n\n"
          "  --owner=USER|@GROUP   who owns /dev/vfio/GROUP while no lease holds it\n" },
        { "unreserve", verb_unreserve, MATCH_ARGUMENT, 0,
          "unreserve MATCH\n\nTake the reservation back; says where each of its devices goes.\n" },
        { "reservations", verb_reservations, NULL, 0,
          "reservations\n\nWhat is reserved: match, owner, file and line, and the devices it matches.\n" },
        { "prepare", verb_prepare, "a claim id and one PCI address or more", 0,
          "prepare CLAIM-ID ADDRESS...\n\n"
          "For an orchestrator (a Kubernetes node agent): move the devices' IOMMU groups to\n"
          "vfio-pci and keep them there under CLAIM-ID until unprepared, across restarts,\n"
          "with a CDI spec in /run/cdi for container runtimes (podman run --device\n"
          "vfiod.github.io/vfio=CLAIM-ID). The same again answers the same.\n" },
        { "unprepare", verb_unprepare, "a claim id", 0,
          "unprepare CLAIM-ID\n\nReturn the claim's groups to their drivers and remove its CDI spec;\n"
          "nothing to do is no error.\n" },
        { "prepared", verb_prepared, NULL, 0,
          "prepared\n\nThe prepared claims: id, CDI device, IOMMU groups.\n" },
        { "memlock", verb_memlock, "a process id", MEMLOCK_OPTIONS,
          "memlock PID --memlock=SIZE|--memory=SIZE\n\n"
          "Raise the locked-memory limit of a process of yours, such as a session libvirtd,\n"
          "whose QEMUs inherit it (polkit: io.github.vfiod1.memlock-other).\n" },
};

static void verb_help(const Verb *v)
{
        printf("Usage: vfioctl-client [OPTIONS] %s\n"
               "Options of every command: --json, --no-ask-password, --no-color, --bus-address=ADDRESS.\n"
               "See vfioctl-client(1).\n",
               v->help);
}

static const Verb *find_verb(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(name, verbs[i].name))
                        return &verbs[i];
        return NULL;
}

/* argv[0] is the verb. */
static bool arguments_fit(Client *c, const Verb *v, int argc)
{
        if (c->all) {
                if (argc == 1)
                        return true;
                client_usage_error(c, "%s --all takes no address or group.", v->name);
                return false;
        }
        /* prepare: a claim id, then its devices. */
        if (v->fn == verb_prepare ? argc >= 3 : argc == (v->argument ? 2 : 1))
                return true;
        if (v->argument)
                client_usage_error(c, "%s takes %s.", v->name, v->argument);
        else
                client_usage_error(c, "%s takes no arguments.", v->name);
        return false;
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
               "  claim ADDRESS|GROUP [-- COMMAND [ARGS...]]\n"
               "                        move the device's whole IOMMU group to vfio-pci\n"
               "                        and hand it to you; with a command, for as long\n"
               "                        as it runs, then the group goes back\n"
               "  release ADDRESS|GROUP return the group to the drivers it had\n"
               "  release --all         end every lease of yours (root: every lease)\n"
               "  leases                who holds which group\n"
               "  monitor               follow vfiod's changes as they happen\n"
               "  reserve MATCH         keep devices on vfio-pci from every boot on: an\n"
               "                        address (01:00.0), a physical path\n"
               "                        (0000:00:1c.0/00.0) or an id (10de:1b80,\n"
               "                        10de:1b80@01:00.0); see vfiod.conf(5)\n"
               "  unreserve MATCH       give them back to their host drivers\n"
               "  reservations          what is reserved, where, and what it matches\n"
               "  memlock PID           raise the locked-memory limit of a process of yours\n"
               "                        (--memlock=SIZE or --memory=SIZE)\n"
               "  prepare CLAIM-ID ADDRESS...\n"
               "                        for an orchestrator: the devices' groups to vfio-pci\n"
               "                        under CLAIM-ID until unprepared, with a CDI spec\n"
               "  unprepare CLAIM-ID    give them back, remove the spec\n"
               "  prepared              the prepared claims\n\n"
               "Options:\n"
               "  --json                machine-readable output\n"
               "Claim options:\n"
               "  --chown               own /dev/vfio/GROUP while the lease lasts (default)\n"
               "  --fd                  pass the group and a container fd to COMMAND\n"
               "                        (VFIOD_GROUP_FD, VFIOD_CONTAINER_FD)\n"
               "  --cdev                pass each device's cdev and an iommufd to COMMAND\n"
               "                        (VFIOD_IOMMU_FD, VFIOD_DEVICE_FDS; Linux 6.6+)\n"
               "  --memlock=SIZE        raise the command's locked-memory limit first (16G)\n"
               "  --memory=SIZE         the same, for a guest of this much RAM (+1 GiB; 8G)\n"
               "  --wait                without a command: hold until Ctrl-C\n"
               "  --persistent          without a command: keep it until released (root)\n"
               "  --force               claim even a group the host uses (a mounted disk,\n"
               "                        the default route, the console, open device nodes)\n"
               "Reserve options:\n"
               "  --owner=USER|@GROUP   who owns /dev/vfio/GROUP while no lease holds it\n"
               "Other options:\n"
               "  --no-ask-password     never ask for a password: fail if polkit wants one\n"
               "  --no-color            no colours, even on a terminal\n"
               "  --bus-address=ADDRESS talk to vfiod on this bus, not the system bus\n"
               "  -h --help             show this help\n"
               "  --version             show the version\n\n"
               "See vfioctl-client(1).\n");
}

/* --memlock=SIZE: the limit itself; --memory=SIZE: what a guest of SIZE
 * locks (memlock_for_guest()). */
static int parse_memlock(Client *c, const char *arg, bool guest_memory, uint64_t *ret)
{
        size_t len = strlen(arg);
        uint64_t bytes;

        /* A guest's size without its unit is QEMU's -m in MiB, by habit. */
        if (guest_memory && len > 0 && arg[len - 1] >= '0' && arg[len - 1] <= '9')
                return client_usage_error(c, "--memory takes a size with its unit, such as 8G or 8192M, not '%s'.",
                                          arg);
        if (parse_size(arg, &bytes) < 0 || bytes == 0 || (guest_memory && memlock_for_guest(bytes, &bytes) < 0))
                return client_usage_error(c, "--%s takes a size such as 256M or 16G, not '%s'.",
                                          guest_memory ? "memory" : "memlock", arg);
        *ret = bytes;
        return 0;
}

/* Everything after the first "--" is the command of claim: getopt must
 * not see it, as it would permute it with the verb's own arguments. */
static int split_command(int argc, char *argv[], Client *c)
{
        for (int i = 1; i < argc; i++)
                if (streq(argv[i], "--")) {
                        if (!argv[i + 1])
                                return client_usage_error(c, "'--' must be followed by a command.");
                        c->command = &argv[i + 1];
                        argv[i] = NULL;
                        return i;
                }
        return argc;
}


static const struct option options[] = {
        { "json", no_argument, NULL, ARG_JSON },
        { "force", no_argument, NULL, ARG_FORCE },
        { "chown", no_argument, NULL, ARG_CHOWN },
        { "fd", no_argument, NULL, ARG_FD },
        { "cdev", no_argument, NULL, ARG_CDEV },
        { "memlock", required_argument, NULL, ARG_MEMLOCK },
        { "memory", required_argument, NULL, ARG_MEMORY },
        { "wait", no_argument, NULL, ARG_WAIT },
        { "persistent", no_argument, NULL, ARG_PERSISTENT },
        { "owner", required_argument, NULL, ARG_OWNER },
        { "all", no_argument, NULL, ARG_ALL },
        { "no-ask-password", no_argument, NULL, ARG_NO_ASK_PASSWORD },
        { "no-color", no_argument, NULL, ARG_NO_COLOR },
        { "bus-address", required_argument, NULL, ARG_BUS_ADDRESS },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, ARG_VERSION },
        {},
};

static const char *option_name(int arg)
{
        for (const struct option *o = options; o->name; o++)
                if (o->val == arg)
                        return o->name;
        return "?";
}

/* An option with a value once, and of the options that set one thing (the
 * mode, the limit) one only: the last of two is never silently the one that
 * counts. */
static int note_option(Client *c, int arg)
{
        static const unsigned one_of[] = { MODE_OPTIONS, MEMLOCK_OPTIONS };
        static const unsigned with_value = OPTION(ARG_MEMLOCK) | OPTION(ARG_MEMORY) | OPTION(ARG_OWNER) |
                                           OPTION(ARG_BUS_ADDRESS);
        unsigned bit = OPTION(arg);

        if (c->options_given & bit & with_value)
                return client_usage_error(c, "--%s is given twice.", option_name(arg));
        for (size_t i = 0; i < ELEMENTSOF(one_of); i++)
                if ((one_of[i] & bit) && (c->options_given & one_of[i]))
                        for (int other = ARG_JSON; other <= ARG_ALL; other++)
                                if (other != arg && (c->options_given & one_of[i] & OPTION(other)))
                                        return client_usage_error(c, "--%s and --%s do not go together: give one.",
                                                                  option_name(other), option_name(arg));
        c->options_given |= bit;
        return 0;
}

/* 1: go on; 0: done (--help, --version); -EINVAL: a usage error, said. */
static int parse_argv(int argc, char *argv[], Client *c)
{
        int opt;

        opterr = 0; /* said below, as JSON too */
        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) >= 0) {
                if (opt >= ARG_JSON && opt <= ARG_ALL && note_option(c, opt) < 0)
                        return -EINVAL;
                switch (opt) {
                case ARG_JSON:
                        c->json = true;
                        break;
                case ARG_FORCE:
                        c->force = true;
                        break;
                case ARG_CHOWN:
                case ARG_FD:
                case ARG_CDEV:
                        c->mode = opt == ARG_FD ? "fd" : opt == ARG_CDEV ? "cdev" : "chown";
                        break;
                case ARG_MEMLOCK:
                case ARG_MEMORY:
                        if (parse_memlock(c, optarg, opt == ARG_MEMORY, &c->memlock_bytes) < 0)
                                return -EINVAL;
                        break;
                case ARG_WAIT:
                        c->wait = true;
                        break;
                case ARG_PERSISTENT:
                        c->persistent = true;
                        break;
                case ARG_OWNER:
                        c->owner = optarg;
                        break;
                case ARG_ALL:
                        c->all = true;
                        break;
                case ARG_NO_ASK_PASSWORD:
                        c->no_ask_password = true;
                        break;
                case ARG_NO_COLOR:
                        c->color = false;
                        break;
                case ARG_BUS_ADDRESS:
                        c->bus_address = optarg;
                        break;
                case 'h':
                        c->help = true;
                        break;
                case ARG_VERSION:
                        puts("vfioctl-client " PACKAGE_VERSION);
                        return 0;
                case ':':
                        return client_usage_error(c, "%s needs a value.", argv[optind - 1]);
                default:
                        return client_usage_error(c, "unknown option '%s'.", argv[optind - 1]);
                }
        }
        return 1;
}

/* The first option given that verb does not take, or 0. */
static int foreign_option(const Client *c, const Verb *verb)
{
        unsigned foreign = c->options_given & ~(GLOBAL_OPTIONS | verb->options);

        for (int arg = ARG_JSON; arg <= ARG_ALL; arg++)
                if (foreign & OPTION(arg))
                        return arg;
        return 0;
}

/* The command word, checked against the options and arguments given. */
static const Verb *pick_verb(Client *c, int argc, char *argv[])
{
        const Verb *verb;
        int foreign;

        if (optind >= argc) {
                client_usage_error(c, "which command?");
                return NULL;
        }
        verb = find_verb(argv[optind]);
        if (!verb) {
                client_usage_error(c, "unknown command '%s'.", argv[optind]);
                return NULL;
        }
        foreign = foreign_option(c, verb);
        if (foreign) {
                client_usage_error(c, "--%s is no option of %s.", option_name(foreign), verb->name);
                return NULL;
        }
        if (!arguments_fit(c, verb, argc - optind))
                return NULL;
        if (c->command && verb->fn != verb_claim) {
                client_usage_error(c, "only claim runs a command.");
                return NULL;
        }
        return verb;
}

/* Whether --json is among the options: known before they are parsed, so
 * that a usage error in an option before it is reported as JSON too. */
static bool wants_json(int argc, char *argv[])
{
        for (int i = 1; i < argc && !streq(argv[i], "--"); i++)
                if (streq(argv[i], "--json"))
                        return true;
        return false;
}

int main(int argc, char *argv[])
{
        Client c = { .color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR"), .mode = "chown",
                     .json = wants_json(argc, argv) };
        const Verb *verb;
        int r;

        argc = split_command(argc, argv, &c);
        if (argc < 0)
                return CLIENT_EXIT_USAGE;
        r = parse_argv(argc, argv, &c);
        if (r <= 0)
                return r < 0 ? CLIENT_EXIT_USAGE : EXIT_SUCCESS;
        if (c.help) {
                /* "claim --help": the verb's; alone, or with no known verb, all. */
                verb = optind < argc ? find_verb(argv[optind]) : NULL;
                if (verb)
                        verb_help(verb);
                else
                        help();
                return EXIT_SUCCESS;
        }
        verb = pick_verb(&c, argc, argv);
        if (!verb)
                return CLIENT_EXIT_USAGE;
        r = verb->fn(&c, argc - optind, argv + optind);
        sd_bus_flush_close_unref(c.bus);
        free(c.held_error_name);
        free(c.held_error_message);
        if (r < 0)
                return c.failure_exit ? c.failure_exit : CLIENT_EXIT_FAILURE;
        return c.exit_status;
}
