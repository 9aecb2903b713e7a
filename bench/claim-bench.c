/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bus-names.h"
#include "linux-iommufd.h"
#include "macro.h"

/* claim-bench: vfiod's side of bench/rebind-yardstick, run in the test VM.
 *
 *   claim-bench roundtrip NAME GROUP ROUNDS
 *       ClaimGroup + ReleaseGroup over one connection, each round timed.
 *   claim-bench concurrent ROUNDS GROUP...
 *       the groups claimed at once by one connection each, against one after
 *       another; released between rounds, untimed.
 *   claim-bench list-during GROUP ROUNDS
 *       ListDevices on a second connection while the group is claimed.
 *   claim-bench prepare ROUNDS GROUP ADDRESS...
 *       Prepare + Unprepare of the first device's group next to ClaimGroup
 *       + ReleaseGroup of it, in turn; then Prepare + Unprepare of all the
 *       devices' groups in one claim (vfiod moves them at once) next to
 *       one claim after another. Each part starts once udev has settled;
 *       medians and quartiles, and the two ways' ratio per round.
 *   claim-bench usable GROUP ADDRESS ROUNDS
 *       from the ClaimGroup call to a device fd the caller can use, in
 *       mode fd (group, container, type1 IOMMU, device fd) and in mode
 *       cdev (the cdev bound to the iommufd, attached to a new address
 *       space), the two in turn; released between rounds, untimed.
 *
 * Prints "# result ..." lines for the harness. */

static uint64_t now_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int compare_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, size_t n)
{
        qsort(v, n, sizeof(*v), compare_u64);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int call(sd_bus *bus, const char *method, uint32_t group)
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        int r = sd_bus_call_method(bus, VFIOD_BUS_NAME, VFIOD_ROOT_PATH, VFIOD_MANAGER_INTERFACE, method, &error,
                                   &reply, "ua{sv}", group, 0);

        if (r < 0)
                fprintf(stderr, "claim-bench: %s %u: %s\n", method, group, error.message ?: strerror(-r));
        sd_bus_message_unref(reply);
        return r;
}

/* Two calls that do nothing but cross the bus: the part of a round trip
 * that is D-Bus itself. */
static int bus_only(sd_bus *bus, uint32_t group)
{
        sd_bus_message *reply = NULL;
        int r = 0;

        for (int i = 0; r >= 0 && i < 2; i++) {
                r = sd_bus_call_method(bus, VFIOD_BUS_NAME, VFIOD_ROOT_PATH, VFIOD_MANAGER_INTERFACE, "GetGroup",
                                       NULL, &reply, "u", group);
                reply = sd_bus_message_unref(reply);
        }
        return r;
}

static int roundtrip(sd_bus *bus, const char *name, uint32_t group, int rounds)
{
        uint64_t *t = calloc(rounds, sizeof(*t)), *b = calloc(rounds, sizeof(*b));
        int r = t && b ? 0 : -ENOMEM;

        for (int i = 0; r >= 0 && i < rounds; i++) {
                uint64_t t0 = now_usec();
                if ((r = call(bus, "ClaimGroup", group)) >= 0)
                        r = call(bus, "ReleaseGroup", group);
                t[i] = now_usec() - t0;
                t0 = now_usec();
                if (r >= 0)
                        r = bus_only(bus, group);
                b[i] = now_usec() - t0;
        }
        if (r >= 0)
                printf("# result %s vfiod median_us=%llu rounds=%d bus_only_median_us=%llu\n", name,
                       (unsigned long long)median(t, rounds), rounds, (unsigned long long)median(b, rounds));
        free(t);
        free(b);
        return r;
}

/* ---- several groups at once ---- */

typedef struct Pending {
        int left, failed;
} Pending;

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Pending *p = userdata;

        if (sd_bus_message_is_method_error(m, NULL)) {
                fprintf(stderr, "claim-bench: %s\n", sd_bus_message_get_error(m)->message);
                p->failed++;
        }
        p->left--;
        return 0;
}

/* The same method for every group, each on its own connection, all at once. */
static int call_all(sd_event *event, sd_bus **buses, const uint32_t *groups, int n, const char *method)
{
        Pending p = { .left = n };
        int r;

        for (int i = 0; i < n; i++) {
                r = sd_bus_call_method_async(buses[i], NULL, VFIOD_BUS_NAME, VFIOD_ROOT_PATH,
                                             VFIOD_MANAGER_INTERFACE, method, on_reply, &p, "ua{sv}", groups[i], 0);
                if (r < 0)
                        return r;
        }
        while (p.left > 0)
                if ((r = sd_event_run(event, UINT64_MAX)) < 0)
                        return r;
        return p.failed ? -EIO : 0;
}

static int concurrent(sd_bus **buses, sd_event *event, const uint32_t *groups, int n, int rounds)
{
        uint64_t *at_once = calloc(rounds, sizeof(uint64_t)), *in_turn = calloc(rounds, sizeof(uint64_t));
        int r = at_once && in_turn ? 0 : -ENOMEM;

        for (int i = 0; r >= 0 && i < rounds; i++) {
                uint64_t t0 = now_usec();
                r = call_all(event, buses, groups, n, "ClaimGroup");
                at_once[i] = now_usec() - t0;
                if (r >= 0)
                        r = call_all(event, buses, groups, n, "ReleaseGroup");
                t0 = now_usec();
                for (int g = 0; r >= 0 && g < n; g++)
                        r = call(buses[0], "ClaimGroup", groups[g]);
                in_turn[i] = now_usec() - t0;
                if (r >= 0)
                        r = call_all(event, buses, groups, n, "ReleaseGroup");
        }
        if (r >= 0)
                printf("# result concurrent %d-groups at_once_median_us=%llu in_turn_median_us=%llu rounds=%d\n", n,
                       (unsigned long long)median(at_once, rounds), (unsigned long long)median(in_turn, rounds),
                       rounds);
        free(at_once);
        free(in_turn);
        return r;
}

/* ---- the bus while a group moves ---- */

typedef struct ListProbe {
        sd_bus *other;
        uint64_t latency;
} ListProbe;

/* Fires 20 ms into the claim: a ListDevices on the other connection, timed. */
static int on_probe_time(sd_event_source *s, uint64_t usec, void *userdata)
{
        ListProbe *probe = userdata;
        sd_bus_message *reply = NULL;
        uint64_t t0 = now_usec();
        int r = sd_bus_call_method(probe->other, VFIOD_BUS_NAME, VFIOD_ROOT_PATH, VFIOD_MANAGER_INTERFACE,
                                   "ListDevices", NULL, &reply, "");

        probe->latency = r < 0 ? UINT64_MAX : now_usec() - t0;
        sd_bus_message_unref(reply);
        return 0;
}

static int list_during(sd_bus **buses, sd_event *event, uint32_t group, int rounds)
{
        uint64_t *lat = calloc(rounds, sizeof(uint64_t)), *claim = calloc(rounds, sizeof(uint64_t)), worst = 0;
        int r = lat && claim ? 0 : -ENOMEM;

        for (int i = 0; r >= 0 && i < rounds; i++) {
                _cleanup_(sd_event_source_unrefp) sd_event_source *timer = NULL;
                ListProbe probe = { .other = buses[1] };
                uint64_t t0 = now_usec();
                r = sd_event_add_time_relative(event, &timer, CLOCK_MONOTONIC, 20000, 0, on_probe_time, &probe);
                if (r >= 0)
                        r = call_all(event, buses, &group, 1, "ClaimGroup");
                claim[i] = now_usec() - t0;
                lat[i] = probe.latency;
                worst = lat[i] > worst ? lat[i] : worst;
                if (r >= 0)
                        r = call(buses[0], "ReleaseGroup", group);
                if (r >= 0 && (probe.latency == UINT64_MAX || probe.latency + 20000 > claim[i])) {
                        fprintf(stderr, "claim-bench: the list (%llu us) did not run during the claim (%llu us)\n",
                                (unsigned long long)probe.latency, (unsigned long long)claim[i]);
                        r = -EAGAIN;
                }
        }
        if (r >= 0)
                printf("# result list-during-claim median_us=%llu max_us=%llu claim_median_us=%llu rounds=%d\n",
                       (unsigned long long)median(lat, rounds), (unsigned long long)worst,
                       (unsigned long long)median(claim, rounds), rounds);
        free(lat);
        free(claim);
        return r;
}

/* The handles of a claim's answer, as copies of their own. */
typedef struct Handles {
        int group, container, iommufd, device;
} Handles;

static void handles_close(Handles *h)
{
        int *fds[] = { &h->group, &h->container, &h->iommufd, &h->device };

        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                closep(fds[i]);
}

static int read_handles(sd_bus_message *reply, Handles *h)
{
        const char *key;
        int fd, r = sd_bus_message_skip(reply, "oo");

        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "{sh}");
        while (r >= 0 && (r = sd_bus_message_read(reply, "{sh}", &key, &fd)) > 0) {
                int *slot = streq(key, "group")     ? &h->group
                          : streq(key, "container") ? &h->container
                          : streq(key, "iommufd")   ? &h->iommufd
                          : strncmp(key, CDEV_HANDLE_PREFIX, strlen(CDEV_HANDLE_PREFIX)) == 0 ? &h->device
                                                    : NULL;
                /* One device: the first endpoint's. */
                if (slot && *slot < 0 && (*slot = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0)
                        return -errno;
        }
        return r;
}

/* What a VMM does before it can use the device. */
static int make_usable(Handles *h, const char *address, bool cdev)
{
        if (cdev) {
                struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind), .iommufd = h->iommufd };
                struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
                struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach) };

                if (ioctl(h->device, VFIO_DEVICE_BIND_IOMMUFD, &bind) < 0 ||
                    ioctl(h->iommufd, IOMMU_IOAS_ALLOC, &alloc) < 0)
                        return -errno;
                attach.pt_id = alloc.out_ioas_id;
                return ioctl(h->device, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach) < 0 ? -errno : 0;
        }
        if (ioctl(h->group, VFIO_GROUP_SET_CONTAINER, &h->container) < 0 ||
            ioctl(h->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0)
                return -errno;
        h->device = ioctl(h->group, VFIO_GROUP_GET_DEVICE_FD, address);
        return h->device < 0 ? -errno : 0;
}

/* One claim in the mode, timed until vfiod's answer and until the device
 * is usable; then undone. */
static int claim_usable(sd_bus *bus, uint32_t group, const char *address, bool cdev, uint64_t *ret_answer_usec,
                        uint64_t *ret_usec)
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Handles h = { -1, -1, -1, -1 };
        uint64_t start = now_usec();
        int r = sd_bus_call_method(bus, VFIOD_BUS_NAME, VFIOD_ROOT_PATH, VFIOD_MANAGER_INTERFACE, "ClaimGroup",
                                   &error, &reply, "ua{sv}", group, 1, "mode", "s", cdev ? "cdev" : "fd");

        *ret_answer_usec = now_usec() - start;
        if (r >= 0)
                r = read_handles(reply, &h);
        if (r >= 0)
                r = make_usable(&h, address, cdev);
        *ret_usec = now_usec() - start;
        if (r < 0)
                fprintf(stderr, "claim-bench: %s claim of %s: %s\n", cdev ? "cdev" : "fd", address,
                        error.message ?: strerror(-r));
        /* The answer holds fds of its own: every copy goes before the release. */
        handles_close(&h);
        reply = sd_bus_message_unref(reply);
        return call(bus, "ReleaseGroup", group) < 0 && r >= 0 ? -EIO : r;
}

static int usable(sd_bus *bus, uint32_t group, const char *address, int rounds)
{
        /* [mode][0]: until the answer, [mode][1]: until usable; mode 1 is cdev. */
        _cleanup_free_ uint64_t *t = calloc(4 * (size_t)rounds, sizeof(*t));
        int r = t ? 0 : -ENOMEM;

        /* The modes in turn, each first every other round. */
        for (int i = 0; r >= 0 && i < 2 * rounds; i++) {
                bool cdev = (i + i / 2) % 2;
                uint64_t *slot = &t[((cdev ? 2 : 0) * rounds) + i / 2];
                r = claim_usable(bus, group, address, cdev, slot, slot + 1 * rounds);
        }
        if (r < 0)
                return r;
        printf("# result usable fd=%" PRIu64 " cdev=%" PRIu64 " fd_answer=%" PRIu64 " cdev_answer=%" PRIu64
               " rounds=%d\n",
               median(t + rounds, rounds), median(t + 3 * rounds, rounds), median(t, rounds),
               median(t + 2 * rounds, rounds), rounds);
        return 0;
}

/* ---- prepared claims ---- */

/* The machine's CPU time so far, from /proc/stat: busy (all but idle and
 * iowait) and in all, in ticks over every CPU. */
typedef struct CpuTime {
        uint64_t busy, total;
} CpuTime;

static CpuTime cpu_time(void)
{
        unsigned long long v[8] = { 0 };
        CpuTime c = { 0 };
        FILE *f = fopen("/proc/stat", "re");

        if (f && fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                        &v[6], &v[7]) == 8) {
                for (int i = 0; i < 8; i++)
                        c.total += v[i];
                c.busy = c.total - v[3] - v[4];
        }
        if (f)
                fclose(f);
        return c;
}

/* How busy the CPUs were from start on, in per mille of all of them. */
static uint64_t cpu_busy_permille(CpuTime start)
{
        CpuTime now = cpu_time();
        uint64_t total = now.total - start.total;

        return total ? 1000 * (now.busy - start.busy) / total : 0;
}

static int prepare(sd_bus *bus, const char *id, char **addresses)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = sd_bus_message_new_method_call(bus, &m, VFIOD_BUS_NAME, VFIOD_ROOT_PATH, VFIOD_MANAGER_INTERFACE,
                                               "Prepare");

        if (r >= 0)
                r = sd_bus_message_append(m, "s", id);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, addresses);
        if (r >= 0)
                r = sd_bus_message_append(m, "a{sv}", 0);
        if (r >= 0)
                r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r >= 0)
                r = sd_bus_call_method(bus, VFIOD_BUS_NAME, VFIOD_ROOT_PATH, VFIOD_MANAGER_INTERFACE, "Unprepare",
                                       &error, NULL, "sa{sv}", id, 0);
        if (r < 0)
                fprintf(stderr, "claim-bench: claim %s: %s\n", id, error.message ?: strerror(-r));
        return r;
}

/* Waits until udev has handled every uevent so far: each timed part starts
 * from a quiet machine, not in the wake of the part before it (a claim of
 * eight groups leaves eight groups' uevents behind). Untimed. */
static int settle(void)
{
        int status = system("udevadm settle --timeout=60");

        if (status == 0)
                return 0;
        if (status > 0 && WIFEXITED(status))
                fprintf(stderr, "claim-bench: udevadm settle exited with %d\n", WEXITSTATUS(status));
        else
                fprintf(stderr, "claim-bench: udevadm settle did not run to its end\n");
        return -EIO;
}

/* One claim of every device, or one claim per device in turn. */
static int prepare_round(sd_bus *bus, char **addresses, size_t n, bool at_once, uint64_t *ret_usec,
                         uint64_t *ret_busy)
{
        CpuTime cpu = cpu_time();
        uint64_t start = now_usec();
        char id[32];
        int r = 0;

        if (at_once)
                r = prepare(bus, "bench-all", addresses);
        for (size_t i = 0; !at_once && r >= 0 && i < n; i++) {
                char *one[] = { addresses[i], NULL };
                snprintf(id, sizeof(id), "bench-%zu", i);
                r = prepare(bus, id, one);
        }
        *ret_usec = now_usec() - start;
        *ret_busy = cpu_busy_permille(cpu);
        return r;
}

/* The first quartile, the median and the third of v (sorted by median()),
 * as "name=M name_q1=A name_q3=B": the quartiles as the values n/4 from
 * either end. */
static void print_quartiles(const char *name, uint64_t *v, size_t n)
{
        uint64_t m = median(v, n);

        printf(" %s=%" PRIu64 " %s_q1=%" PRIu64 " %s_q3=%" PRIu64, name, m, name, v[n / 4], name, v[n - 1 - n / 4]);
}

enum {
        PART_ONE,      /* Prepare + Unprepare of one group */
        PART_CLAIM,    /* ClaimGroup + ReleaseGroup of it */
        PART_AT_ONCE,  /* one claim of every group */
        PART_IN_TURN,  /* one claim per group, in turn */
        PART_CPU_AT_ONCE, PART_CPU_IN_TURN, /* how busy the CPUs were, per mille */
        PART_RATIO,    /* at once / in turn, per round, per mille */
        _PART_MAX
};

static int prepare_bench(sd_bus *bus, int rounds, uint32_t group, char **addresses, size_t n)
{
        static const char *const names[_PART_MAX] = { "one", "claim", "at_once", "in_turn", "cpu_at_once",
                                                       "cpu_in_turn", "ratio_permille" };
        _cleanup_free_ uint64_t *t = calloc(_PART_MAX * (size_t)rounds, sizeof(*t));
        char *first[] = { addresses[0], NULL };
        int r = t ? 0 : -ENOMEM;

        if (rounds < 1)
                return -EINVAL;
#define AT(part, i) t[(size_t)(part) * (size_t)rounds + (size_t)(i)]
        for (int i = 0; r >= 0 && i < rounds; i++) {
                uint64_t start;
                if ((r = settle()) < 0)
                        break;
                start = now_usec();
                r = prepare(bus, "bench-one", first);
                AT(PART_ONE, i) = now_usec() - start;
                if (r < 0 || (r = settle()) < 0)
                        break;
                start = now_usec();
                if ((r = call(bus, "ClaimGroup", group)) >= 0)
                        r = call(bus, "ReleaseGroup", group);
                AT(PART_CLAIM, i) = now_usec() - start;
                /* Which goes first alternates. */
                for (int k = 0; r >= 0 && k < 2; k++) {
                        bool at_once = (i + k) % 2 == 0;
                        if ((r = settle()) < 0)
                                break;
                        r = prepare_round(bus, addresses, n, at_once, &AT(at_once ? PART_AT_ONCE : PART_IN_TURN, i),
                                          &AT(at_once ? PART_CPU_AT_ONCE : PART_CPU_IN_TURN, i));
                }
                AT(PART_RATIO, i) = 1000 * AT(PART_AT_ONCE, i) / (AT(PART_IN_TURN, i) ?: 1);
        }
#undef AT
        if (r < 0)
                return r;
        printf("# result prepare groups=%zu rounds=%d", n, rounds);
        for (int p = 0; p < _PART_MAX; p++)
                print_quartiles(names[p], t + (size_t)p * (size_t)rounds, (size_t)rounds);
        printf("\n");
        return 0;
}

int main(int argc, char *argv[])
{
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        sd_bus *buses[16] = {};
        uint32_t groups[16];
        int n = 0, r;

        if (argc < 4) {
                fprintf(stderr, "usage: claim-bench roundtrip NAME GROUP ROUNDS | concurrent ROUNDS GROUP... | "
                                "list-during GROUP ROUNDS | usable GROUP ADDRESS ROUNDS | prepare ROUNDS GROUP ADDRESS...\n");
                return 2;
        }
        r = sd_event_default(&event);
        for (int i = 0; r >= 0 && i < 16; i++) {
                const char *unique;
                r = sd_bus_open_system(&buses[i]);
                if (r >= 0)
                        r = sd_bus_attach_event(buses[i], event, 0);
                /* sd-bus authenticates and says Hello on first use: done
                 * here, so that no measured call pays for it. */
                if (r >= 0)
                        r = sd_bus_get_unique_name(buses[i], &unique);
        }
        if (r < 0) {
                fprintf(stderr, "claim-bench: cannot connect to the system bus: %s\n", strerror(-r));
                return 1;
        }
        if (streq(argv[1], "roundtrip") && argc == 5)
                r = roundtrip(buses[0], argv[2], (uint32_t)atoi(argv[3]), atoi(argv[4]));
        else if (streq(argv[1], "concurrent")) {
                for (int i = 3; i < argc && n < 16; i++)
                        groups[n++] = (uint32_t)atoi(argv[i]);
                r = concurrent(buses, event, groups, n, atoi(argv[2]));
        } else if (streq(argv[1], "prepare") && argc >= 5)
                r = prepare_bench(buses[0], atoi(argv[2]), (uint32_t)atoi(argv[3]), argv + 4, (size_t)(argc - 4));
        else if (streq(argv[1], "usable") && argc == 5)
                r = usable(buses[0], (uint32_t)atoi(argv[2]), argv[3], atoi(argv[4]));
        else if (streq(argv[1], "list-during") && argc == 4)
                r = list_during(buses, event, (uint32_t)atoi(argv[2]), atoi(argv[3]));
        else
                r = -EINVAL;
        for (int i = 0; i < 16; i++)
                sd_bus_flush_close_unref(buses[i]);
        return r < 0 ? 1 : 0;
}
