/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-event.h>

#include "bus-names.h"
#include "client.h"
#include "fs-util.h"
#include "guard-holders.h"
#include "macro.h"
#include "number.h"
#include "pci-address.h"

/* vfioctl-client claim|release ADDRESS|GROUP: move a whole IOMMU group to
 * vfio-pci under a lease, hand it over, and take it back. */

/* vfiod answers a stuck step itself; this only bounds a vanished daemon,
 * and a person typing a password. */
#define CLAIM_CALL_TIMEOUT_USEC (300ULL * 1000000ULL)
#define RELEASE_POLL_USEC (20 * 1000)

/* cdev mode: an endpoint and its cdev. */
typedef struct GrantedDevice {
        char address[PCI_ADDRESS_STRING_MAX];
        int fd;
} GrantedDevice;

/* What a claim hands back: the lease and the fds of the handles. */
typedef struct Grant {
        char *lease;
        uint32_t group;
        int group_fd, container_fd, iommu_fd, guard_fd;
        char *guard_link; /* guard_fd's link, to know it by in other processes */
        GrantedDevice *devices;
        size_t n_devices;
} Grant;
#define GRANT_NONE ((Grant){ .group_fd = -1, .container_fd = -1, .iommu_fd = -1, .guard_fd = -1 })

/* Closes every fd of the grant. */
static void grant_close_fds(Grant *g)
{
        int *fds[] = { &g->group_fd, &g->container_fd, &g->iommu_fd, &g->guard_fd };

        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                *fds[i] = (closep(fds[i]), -1);
        for (size_t i = 0; i < g->n_devices; i++)
                g->devices[i].fd = (closep(&g->devices[i].fd), -1);
}

static void grant_done(Grant *g)
{
        grant_close_fds(g);
        free(g->devices);
        free(g->lease);
        free(g->guard_link);
}

/* vfiod's object path of a group: .../group/N. */
static int group_of_path(const char *path, uint32_t *ret)
{
        const char *slash = strrchr(path, '/');
        int id;

        if (!slash || parse_group_id(slash + 1, &id) < 0)
                return -EBADMSG;
        *ret = (uint32_t)id;
        return 0;
}

/* cdev mode: the options of QEMU (9.0 and later) and of cloud-hypervisor
 * that take the fds as the command gets them. */
static void print_qemu_args(FILE *f, const Grant *g)
{
        fprintf(f, "-object iommufd,id=iommufd0,fd=%d", g->iommu_fd);
        for (size_t i = 0; i < g->n_devices; i++)
                fprintf(f, " -device vfio-pci,iommufd=iommufd0,fd=%d", g->devices[i].fd);
}

static void print_cloud_hypervisor_args(FILE *f, const Grant *g)
{
        fprintf(f, "--platform iommufd_fd=%d", g->iommu_fd);
        for (size_t i = 0; i < g->n_devices; i++)
                fprintf(f, " --device fd=%d", g->devices[i].fd);
}

static void print_cdev_fds(Client *c, const Grant *g)
{
        if (!c->json) {
                for (size_t i = 0; i < g->n_devices; i++)
                        printf("  %s  cdev fd %d\n", g->devices[i].address, g->devices[i].fd);
                printf("  iommufd fd %d (VFIOD_IOMMU_FD)\n  for QEMU: ", g->iommu_fd);
                print_qemu_args(stdout, g);
                printf("\n  for cloud-hypervisor: ");
                print_cloud_hypervisor_args(stdout, g);
                putchar('\n');
                return;
        }
        printf(",\"iommu_fd\":%d,\"device_fds\":{", g->iommu_fd);
        for (size_t i = 0; i < g->n_devices; i++) {
                fputs(i > 0 ? "," : "", stdout);
                json_string(stdout, g->devices[i].address);
                printf(":%d", g->devices[i].fd);
        }
        fputs("},\"qemu_args\":\"", stdout);
        print_qemu_args(stdout, g);
        fputs("\",\"cloud_hypervisor_args\":\"", stdout);
        print_cloud_hypervisor_args(stdout, g);
        putchar('"');
}

/* The group's devices after the move, for the user to see where they are;
 * with grant, the fds it handed over too. */
static int print_group(Client *c, const char *verb, uint32_t group, const char *lease, const Grant *grant)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ DeviceRow *rows = NULL;
        size_t n;
        int r = client_list_devices(c, &reply, &rows, &n);

        if (r < 0)
                return r;
        if (c->json) {
                printf("{\"iommu_group\":%u,\"node\":\"/dev/vfio/%u\",\"lease\":", group, group);
                json_string(stdout, lease);
                if (grant && grant->iommu_fd >= 0)
                        print_cdev_fds(c, grant);
                print_group_devices_json(stdout, rows, n, (int32_t)group);
                return 0;
        }
        printf("%s IOMMU group %u (/dev/vfio/%u)%s%s:\n", verb, group, group, lease ? ", lease " : "",
               lease ? strrchr(lease, '/') + 1 : "");
        for (size_t i = 0; i < n; i++)
                if (rows[i].group == (int32_t)group)
                        printf("  %s  %-10s %s%s\n", rows[i].address, rows[i].driver[0] ? rows[i].driver : "no driver",
                               rows[i].state, rows[i].bridge ? " (bridge, stays)" : "");
        if (grant && grant->iommu_fd >= 0)
                print_cdev_fds(c, grant);
        fflush(stdout);
        return 0;
}

static const char *lifetime_option(const Client *c)
{
        return c->command ? "guard-fd" : c->wait ? "connection" : "persistent";
}

static int append_claim_options(const Client *c, sd_bus_message *m)
{
        int r = sd_bus_message_open_container(m, 'a', "{sv}");

        if (r >= 0)
                r = sd_bus_message_append(m, "{sv}{sv}", "mode", "s", c->mode, "lifetime", "s", lifetime_option(c));
        if (r >= 0 && c->force)
                r = sd_bus_message_append(m, "{sv}", "force", "b", 1);
        return r < 0 ? r : sd_bus_message_close_container(m);
}

/* cdev mode: "device:ADDRESS" names an endpoint's cdev. */
static int *device_slot(Grant *g, const char *key)
{
        const char *address = key + strlen(CDEV_HANDLE_PREFIX);
        GrantedDevice *grown;

        if (strncmp(key, CDEV_HANDLE_PREFIX, strlen(CDEV_HANDLE_PREFIX)) != 0 ||
            strlen(address) >= PCI_ADDRESS_STRING_MAX)
                return NULL;
        grown = reallocarray(g->devices, g->n_devices + 1, sizeof(*grown));
        if (!grown)
                return NULL;
        g->devices = grown;
        grown = &g->devices[g->n_devices++];
        *grown = (GrantedDevice){ .fd = -1 };
        snprintf(grown->address, sizeof(grown->address), "%s", address);
        return &grown->fd;
}

static int read_handles(sd_bus_message *reply, Grant *g)
{
        const char *key;
        int fd, r;

        r = sd_bus_message_enter_container(reply, 'a', "{sh}");
        while (r >= 0 && (r = sd_bus_message_read(reply, "{sh}", &key, &fd)) > 0) {
                int *slot = streq(key, "group")     ? &g->group_fd
                          : streq(key, "container") ? &g->container_fd
                          : streq(key, "iommufd")   ? &g->iommu_fd
                          : streq(key, "guard")     ? &g->guard_fd
                                                    : device_slot(g, key);
                /* The message owns its fds: keep copies. */
                if (slot && *slot < 0 && (*slot = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0)
                        return -errno;
        }
        return r < 0 ? r : sd_bus_message_exit_container(reply);
}

static int call_claim(Client *c, const char *target, bool by_group, uint32_t group, Grant *g)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = NULL, *reply = NULL;
        const char *lease, *group_path;
        int r;

        r = client_new_manager_call(c, by_group ? "ClaimGroup" : "ClaimDevice", &msg);
        if (r >= 0)
                r = by_group ? sd_bus_message_append(msg, "u", group) : sd_bus_message_append(msg, "s", target);
        if (r >= 0)
                r = append_claim_options(c, msg);
        if (r < 0)
                return client_fail(c, CLIENT_EXIT_FAILURE, "cannot make the call: %s", strerror(-r));
        c->call_timeout_usec = CLAIM_CALL_TIMEOUT_USEC;
        r = client_call(c, msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "oo", &lease, &group_path);
        if (r >= 0)
                r = group_of_path(group_path, &g->group);
        if (r >= 0)
                r = read_handles(reply, g);
        if (r >= 0 && !(g->lease = strdup(lease)))
                r = -ENOMEM;
        return r < 0 ? report_unreadable_answer(c, r) : r;
}

/* For this process, which the command then becomes. */
/* Before the claim, which the command needs it for; but not for a target
 * that is not there, which vfiod says without asking anyone (no password
 * for a limit that no claim follows). */
static int raise_memlock(Client *c, const char *target, bool by_group, uint32_t group)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *found = NULL;
        int r;

        if (c->memlock_bytes == 0)
                return 0;
        r = by_group ? client_call_manager(c, "GetGroup", &found, "u", group)
                     : client_call_manager(c, "GetDevice", &found, "s", target);
        return r < 0 ? r : client_raise_memlock(c, getpid(), NULL);
}

/* ---- holding the lease ---- */

static char *group_property(Client *c, uint32_t group, const char *name)
{
        char path[64];
        char *value = NULL;

        snprintf(path, sizeof(path), VFIOD_GROUP_PATH_PREFIX "/%u", group);
        (void)sd_bus_get_property_string(c->bus, VFIOD_BUS_NAME, path, VFIOD_GROUP_INTERFACE, name, NULL, &value);
        return value;
}

/* A group "held" by no process vfiod can name is the kernel letting go of
 * it after the command's last close: a moment, which vfiod notices within
 * its recheck (2 s). One that stays so longer is held by something. */
#define UNNAMED_HOLDER_GRACE_USEC (5 * 1000 * 1000ULL)

/* Whether a held group is held by a process, or has been for too long. */
static bool really_held(Client *c, uint32_t group, uint64_t *unnamed_since)
{
        _cleanup_free_ char *holders = client_group_holders(c, group);
        uint64_t now = now_usec(CLOCK_MONOTONIC);

        if (holders)
                return true;
        if (*unnamed_since == 0)
                *unnamed_since = now;
        return now - *unnamed_since > UNNAMED_HOLDER_GRACE_USEC;
}

static bool lease_exists(Client *c, const char *lease)
{
        uint32_t group;

        return sd_bus_get_property_trivial(c->bus, VFIOD_BUS_NAME, lease, VFIOD_LEASE_INTERFACE, "Group", NULL, 'u',
                                           &group) >= 0;
}

/* How long the lease may outlive the command before the client looks for
 * a process the command left behind (a daemon it forked) that holds its
 * guard fd: vfiod sees the last close at once, and answers within this
 * unless the host is loaded. */
#define LEASE_OUTLIVES_GRACE_USEC (3 * 1000 * 1000ULL)
/* How long a lease whose guard no process in sight holds may live on
 * before it is taken to be held out of sight (by another user's process,
 * which the guard was passed to). */
#define UNSEEN_GUARD_GRACE_USEC (30 * 1000 * 1000ULL)
/* A look at every process's fds costs a system call an fd: once a second. */
#define GUARD_LOOK_USEC (1000 * 1000ULL)

/* Whether the lease outlives its command: held by a process the command
 * left behind, which is said, or by one out of sight for too long. A lease
 * whose guard nobody in sight holds is vfiod not yet done with its end. */
static bool lease_outlives(Client *c, const Grant *g, uint64_t command_ended, uint64_t *last_look)
{
        uint64_t now = now_usec(CLOCK_MONOTONIC), since = now - command_ended;
        bool looked_lately = now - *last_look < GUARD_LOOK_USEC;
        char comm[PROC_COMM_SIZE];
        pid_t pid;

        if (since <= LEASE_OUTLIVES_GRACE_USEC || (looked_lately && since <= UNSEEN_GUARD_GRACE_USEC) ||
            !lease_exists(c, g->lease))
                return false;
        *last_look = now;
        if (g->guard_link && guard_find_holder(g->guard_link, &pid) > 0) {
                fprintf(stderr, "vfioctl-client: PID %d (%s) holds the guard fd of the lease of IOMMU group %u.\n",
                        (int)pid, proc_comm(pid, comm), g->group);
                return true;
        }
        return !g->guard_link || since > UNSEEN_GUARD_GRACE_USEC;
}

/* The lease ended (its holder exited): wait until vfiod has the devices
 * back where they were, so the prompt returns to a host that has them. */
static int wait_for_release(Client *c, const Grant *g)
{
        uint64_t unnamed_since = 0, command_ended = now_usec(CLOCK_MONOTONIC), last_look = 0;
        uint32_t group = g->group;

        for (;;) {
                _cleanup_free_ char *state = group_property(c, group, "State");
                if (!state)
                        return client_fail(c, CLIENT_EXIT_FAILURE, "cannot follow IOMMU group %u any more.", group);
                BusState s = bus_state_from_string(state);
                if (s == BUS_STATE_CLAIMED && lease_outlives(c, g, command_ended, &last_look))
                        return client_fail(c, CLIENT_EXIT_BUSY,
                                           "the command has ended, but a process it started still holds the "
                                           "lease of IOMMU group %u (its guard fd, VFIOD_LEASE): the group goes "
                                           "back when that process exits, or at 'vfioctl-client release %u'.",
                                           group, group);
                if (s == BUS_STATE_HELD && really_held(c, group, &unnamed_since))
                        return client_fail(c, CLIENT_EXIT_BUSY,
                                           "the command has ended, but a process it left behind still holds IOMMU "
                                           "group %u open: it goes back once that process closes it. "
                                           "'vfioctl-client show %u' names it.",
                                           group, group);
                if (s == BUS_STATE_STUCK || s == BUS_STATE_FAILED)
                        return client_fail(c, CLIENT_EXIT_FAILURE, "returning IOMMU group %u is %s: see "
                                           "'vfioctl-client show %u'.", group, state, group);
                if (s != BUS_STATE_CLAIMED && s != BUS_STATE_RELEASING && s != BUS_STATE_CLAIMING &&
                    s != BUS_STATE_HELD)
                        return 0;
                usleep(RELEASE_POLL_USEC);
        }
}

/* cdev mode: VFIOD_DEVICE_FDS="ADDRESS=FD ADDRESS=FD ...". */
static int set_device_fds_env(const Grant *g)
{
        _cleanup_free_ char *value = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&value, &size);

        if (!f)
                return -errno;
        for (size_t i = 0; i < g->n_devices; i++)
                fprintf(f, "%s%s=%d", i > 0 ? " " : "", g->devices[i].address, g->devices[i].fd);
        if (fclose(f) != 0)
                return -ENOMEM;
        return setenv("VFIOD_DEVICE_FDS", value, 1) < 0 ? -errno : 0;
}

static void exec_command(Client *c, const Grant *g)
{
        char value[32];
        int fds[] = { g->guard_fd, g->group_fd, g->container_fd, g->iommu_fd };

        /* The command holds the lease by the guard fd, and gets the fds of
         * fd or cdev mode: all without close-on-exec, their numbers in the
         * environment. */
        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                if (fds[i] >= 0)
                        (void)fcntl(fds[i], F_SETFD, 0);
        for (size_t i = 0; i < g->n_devices; i++)
                (void)fcntl(g->devices[i].fd, F_SETFD, 0);
        setenv("VFIOD_LEASE", g->lease, 1);
        snprintf(value, sizeof(value), "%u", g->group);
        setenv("VFIOD_GROUP", value, 1);
        if (g->group_fd >= 0) {
                snprintf(value, sizeof(value), "%d", g->group_fd);
                setenv("VFIOD_GROUP_FD", value, 1);
                snprintf(value, sizeof(value), "%d", g->container_fd);
                setenv("VFIOD_CONTAINER_FD", value, 1);
        }
        if (g->iommu_fd >= 0) {
                snprintf(value, sizeof(value), "%d", g->iommu_fd);
                setenv("VFIOD_IOMMU_FD", value, 1);
                if (set_device_fds_env(g) < 0) {
                        fprintf(stderr, "vfioctl-client: cannot name the device fds for %s: out of memory\n",
                                c->command[0]);
                        _exit(127);
                }
        }
        /* With --json, stdout is vfioctl-client's objects alone: what the
         * command prints goes to stderr. */
        if (c->json)
                (void)dup2(STDERR_FILENO, STDOUT_FILENO);
        signal(SIGINT, SIG_DFL);
        signal(SIGQUIT, SIG_DFL);
        execvp(c->command[0], c->command);
        fprintf(stderr, "vfioctl-client: cannot run %s: %s\n", c->command[0], strerror(errno));
        _exit(127);
}

static pid_t child_pid;

static void forward_signal(int sig)
{
        if (child_pid > 0)
                kill(child_pid, sig);
}

/* Runs the command; returns its exit status, 128 + signal when killed. */
static int run_command(Client *c, Grant *g)
{
        int status, r;

        /* Ctrl-C reaches the command through the terminal; a TERM sent to
         * the client is passed on. Either way the client stays to report. */
        signal(SIGINT, SIG_IGN);
        signal(SIGQUIT, SIG_IGN);
        signal(SIGTERM, forward_signal);
        fflush(NULL);
        child_pid = fork();
        if (child_pid == 0)
                exec_command(c, g);
        r = child_pid < 0 ? -errno : 0;
        /* Only the command holds the lease now, if anyone. Without its
         * link, a lease that outlives the command is taken to be held. */
        if (g->guard_fd >= 0)
                (void)guard_link(g->guard_fd, &g->guard_link);
        grant_close_fds(g);
        while (r == 0 && waitpid(child_pid, &status, 0) < 0)
                if (errno != EINTR)
                        r = -errno;
        /* The PID is the command's no more, and the client holds nothing:
         * Ctrl-C and TERM end whatever wait follows. */
        child_pid = 0;
        signal(SIGINT, SIG_DFL);
        signal(SIGQUIT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        if (r < 0)
                return r;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

typedef struct Holding {
        sd_event *event;
        char *ended; /* why vfiod ended the lease, when it did */
} Holding;

static int on_lease_released(sd_bus_message *signal, void *userdata, sd_bus_error *error)
{
        Holding *h = userdata;
        const char *reason = NULL;

        (void)sd_bus_message_read(signal, "s", &reason);
        h->ended = strdup(reason ?: "unknown");
        return sd_event_exit(h->event, 0);
}

/* --wait: until Ctrl-C (or SIGTERM), then the lease is given back; or
 * until vfiod ends the lease itself (an administrator released it), which
 * is said, and is a failure for a script that meant to hold it. */
static int hold_until_interrupted(Client *c, const Grant *g)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *release = NULL;
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *match = NULL;
        Holding h = {};
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        r = sd_event_default(&event);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGINT, NULL, NULL); /* NULL: the loop exits */
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_bus_attach_event(c->bus, event, SD_EVENT_PRIORITY_NORMAL);
        h.event = event;
        if (r >= 0)
                r = sd_bus_match_signal(c->bus, &match, VFIOD_BUS_NAME, g->lease, VFIOD_LEASE_INTERFACE, "Released",
                                        on_lease_released, &h);
        if (r < 0) {
                client_fail(c, CLIENT_EXIT_FAILURE, "cannot follow lease %s: %s", g->lease, strerror(-r));
                return r;
        }
        /* A lease that ended before the match was there sent its signal
         * to nobody: its object is gone. */
        if (!lease_exists(c, g->lease))
                return client_fail(c, CLIENT_EXIT_FAILURE, "vfiod ended the lease of IOMMU group %u at once.",
                                   g->group);
        if (!c->json)
                printf("Holding IOMMU group %u until interrupted (Ctrl-C).\n", g->group);
        fflush(stdout);
        r = sd_event_loop(event);
        (void)sd_bus_detach_event(c->bus);
        /* The release that follows goes on in vfiod whatever the client
         * does: Ctrl-C or TERM again end the wait for it. */
        sigprocmask(SIG_UNBLOCK, &mask, NULL);
        if (r < 0) {
                free(h.ended);
                client_fail(c, CLIENT_EXIT_FAILURE, "cannot follow lease %s: %s", g->lease, strerror(-r));
                return r;
        }
        if (h.ended) {
                r = client_fail(c, CLIENT_EXIT_FAILURE, "vfiod ended the lease of IOMMU group %u (%s).", g->group,
                                h.ended);
                free(h.ended);
                return r;
        }
        /* A release waits for the devices, as ReleaseGroup does. */
        r = sd_bus_message_new_method_call(c->bus, &release, VFIOD_BUS_NAME, g->lease, VFIOD_LEASE_INTERFACE,
                                           "Release");
        if (r < 0)
                return client_fail(c, CLIENT_EXIT_FAILURE, "cannot release lease %s: %s", g->lease, strerror(-r));
        c->call_timeout_usec = CLAIM_CALL_TIMEOUT_USEC;
        return client_call(c, release, &reply);
}

static int check_claim_arguments(Client *c)
{
        if ((streq(c->mode, "fd") || streq(c->mode, "cdev")) && !c->command)
                return client_usage_error(c, "--%s hands the fds to a command: add -- COMMAND ARGS...", c->mode);
        if ((c->command ? 1 : 0) + c->wait + c->persistent > 1)
                return client_usage_error(c, "a lease lasts for a command, --wait, or --persistent: pick one.");
        if (c->memlock_bytes && !c->command)
                return client_usage_error(c, "--memlock and --memory raise the limit of the command: add -- "
                                          "COMMAND ARGS..., or use 'vfioctl-client memlock PID'.");
        return 0;
}

int verb_claim(Client *c, int argc, char *argv[])
{
        _cleanup_(grant_done) Grant g = GRANT_NONE;
        uint32_t group = 0;
        pid_t agent;
        int target = client_parse_target(c, argv[1], &group), r;

        if (target < 0)
                return target;
        if ((r = check_claim_arguments(c)) < 0 || (r = client_bus(c, &c->bus)) < 0)
                return r;
        qemu_warn_memlock(c);
        r = raise_memlock(c, argv[1], target > 0, group);
        (void)polkit_agent_open(c, &agent);
        if (r >= 0)
                r = call_claim(c, argv[1], target > 0, group, &g);
        polkit_agent_close(agent);
        if (r < 0)
                return r;
        r = print_group(c, "Claimed", g.group, g.lease, &g);
        if (r < 0)
                return r;
        if (c->wait)
                r = hold_until_interrupted(c, &g);
        else if (c->command) {
                int status = run_command(c, &g);
                c->exit_status = status < 0 ? 127 : status;
                r = wait_for_release(c, &g);
                if (r >= 0 && !c->json)
                        r = print_group(c, "Returned", g.group, NULL, NULL);
                return r;
        } else
                return 0;
        return r < 0 || c->json ? r : print_group(c, "Returned", g.group, NULL, NULL);
}

/* separator: printed before the group's report (with --json, a failure's
 * is the caller's to print). */
static int release_group(Client *c, uint32_t group, const char *separator)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        pid_t agent;
        int r;

        (void)polkit_agent_open(c, &agent);
        c->call_timeout_usec = CLAIM_CALL_TIMEOUT_USEC;
        r = client_call_manager(c, "ReleaseGroup", &reply, "ua{sv}", group, 0);
        polkit_agent_close(agent);
        fputs(separator, stdout);
        if (r < 0)
                return r;
        return print_group(c, "Released", group, NULL, NULL);
}

/* Groups, as release --all finds them. */
typedef struct GroupList {
        uint32_t *ids;
        size_t n;
} GroupList;

static void group_list_done(GroupList *l)
{
        free(l->ids);
}

static int group_list_add(GroupList *l, uint32_t group)
{
        uint32_t *grown = reallocarray(l->ids, l->n + 1, sizeof(*grown));

        if (!grown)
                return -ENOMEM;
        l->ids = grown;
        l->ids[l->n++] = group;
        return 1;
}

/* The groups of the leases the caller may end without asking anyone: all
 * for root, else its own. Read before any is released: each release
 * changes the list. */
static int leased_groups(Client *c, GroupList *ret)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        uint32_t group, uid;
        uid_t me = geteuid();
        int r = client_call_manager(c, "ListLeases", &reply, NULL);

        if (r < 0)
                return r; /* said */
        r = sd_bus_message_enter_container(reply, 'a', "(ouuussst)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ouuussst)", NULL, &group, &uid, NULL, NULL, NULL, NULL,
                                                  NULL)) > 0)
                if (me == 0 || uid == me)
                        r = group_list_add(ret, group);
        return r < 0 ? report_unreadable_answer(c, r) : 0;
}

/* With --json, a group that did not go back is a row of its own. */
static void print_release_failure_json(Client *c, uint32_t group)
{
        printf("{\"iommu_group\":%u,\"error\":", group);
        json_string(stdout, c->held_error_name);
        printf(",\"message\":");
        json_string(stdout, c->held_error_message);
        printf(",\"exit_status\":%d}", c->failure_exit);
}

static int add_held_group(Client *c, uint32_t group, void *userdata)
{
        return group_list_add(userdata, group);
}

/* The groups that processes hold open with no lease left (state held):
 * they go back only once those close them. */
static int held_groups(Client *c, GroupList *ret)
{
        int r = client_foreach_held_group(c, add_held_group, ret);

        if (r < 0)
                return client_fail(c, CLIENT_EXIT_FAILURE, "cannot list the held IOMMU groups: %s", strerror(-r));
        return 0;
}

/* release --all: end every lease of the caller's (root: every lease), as
 * the package does before vfiod is removed. A group that cannot go back is
 * reported and the rest still go; for root, so is each group that a
 * process holds open with no lease left (looked for before any release: a
 * release that leaves its group held says so itself). The exit status is 4 when
 * any group is still in use, else that of the last failure. */
static int release_all(Client *c)
{
        _cleanup_(group_list_done) GroupList leased = {}, held = {};
        int r = leased_groups(c, &leased), failed = 0;
        ClientExit status = 0;

        if (r >= 0 && geteuid() == 0)
                r = held_groups(c, &held);
        if (r < 0)
                return r;
        print_list_start(c, "released");
        c->hold_error = c->json;
        for (size_t i = 0; i < leased.n; i++) {
                r = release_group(c, leased.ids[i], c->json && i > 0 ? "," : "");
                if (r >= 0)
                        continue;
                failed = r;
                /* A group still in use is what stops the package's removal
                 * (its prerm): it outweighs any other failure. */
                if (status != CLIENT_EXIT_BUSY)
                        status = c->failure_exit;
                if (c->json)
                        print_release_failure_json(c, leased.ids[i]);
        }
        for (size_t i = 0; i < held.n; i++) {
                fputs(c->json && leased.n + i > 0 ? "," : "", stdout);
                failed = client_fail(c, CLIENT_EXIT_BUSY,
                                     "IOMMU group %u has no lease, but a process still holds it open: it goes back "
                                     "once that is closed ('vfioctl-client show %u' names it).",
                                     held.ids[i], held.ids[i]);
                status = CLIENT_EXIT_BUSY;
                if (c->json)
                        print_release_failure_json(c, held.ids[i]);
        }
        c->hold_error = false;
        (void)print_list_end(c, leased.n + held.n, "(no leases)", 0);
        if (status)
                c->failure_exit = status;
        return failed;
}

int verb_release(Client *c, int argc, char *argv[])
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *devices = NULL;
        uint32_t group;
        DeviceRow row;
        int r;

        if (c->all)
                return release_all(c);
        r = client_parse_target(c, argv[1], &group);
        if (r == 0) {
                r = client_lookup_device(c, argv[1], &devices, &row);
                if (r >= 0 && row.group < 0)
                        r = client_fail(c, CLIENT_EXIT_NOT_FOUND, "%s is in no IOMMU group: vfiod holds nothing of it.",
                                        argv[1]);
                group = (uint32_t)row.group;
        }
        if (r < 0 || (r = client_bus(c, &c->bus)) < 0)
                return r;
        return release_group(c, group, "");
}
