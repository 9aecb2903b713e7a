/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bus-names.h"
#include "bus-state.h"
#include "fake-kernel.h"
#include "fuzz-calls.h"
#include "macro.h"

#define MAX_KEPT 16

/* What earlier answers gave: lease objects to call, fds to close. */
static char *kept_leases[MAX_KEPT];
static size_t n_kept_leases;
static int kept_fds[MAX_KEPT];
static size_t n_kept_fds;
/* Whether the input asked for anything that moves devices: only then is
 * there something to take back. */
static bool asked_to_move;

/* ---- reading the input ---- */

static uint8_t next_byte(FuzzInput *in)
{
        uint8_t b = 0;

        if (in->size > 0) {
                b = in->data[0];
                in->data++;
                in->size--;
        }
        return b;
}

static uint64_t next_u64(FuzzInput *in, size_t bytes)
{
        uint64_t v = 0;

        for (size_t i = 0; i < bytes; i++)
                v = v << 8 | next_byte(in);
        return v;
}

/* A length byte, then that many bytes: anything, invalid UTF-8 too. */
static char *next_raw_string(FuzzInput *in)
{
        size_t n = next_byte(in);
        char *s;

        if (n > in->size)
                n = in->size;
        s = strndup((const char *)in->data, n);
        if (!s)
                abort();
        in->data += n;
        in->size -= n;
        return s;
}

/* One of choices, or (for the last value of the byte) raw bytes. */
static char *next_string(FuzzInput *in, const char *const *choices, size_t n)
{
        uint8_t b = next_byte(in);
        char *s;

        if (b == UINT8_MAX)
                return next_raw_string(in);
        s = strdup(choices[b % n]);
        if (!s)
                abort();
        return s;
}

static char *next_address(FuzzInput *in)
{
        uint8_t b = next_byte(in);
        const char *a = fake_kernel_address(b);
        char *s;

        if (b == UINT8_MAX)
                return next_raw_string(in);
        /* Short and full forms, and the same device in capitals. */
        if (b & 0x80)
                s = strdup(a + 5);
        else if (b & 0x40 && (s = strdup(a)))
                for (char *p = s; *p; p++)
                        *p = (char)(*p >= 'a' && *p <= 'f' ? *p - 32 : *p);
        else
                s = strdup(a);
        if (!s)
                abort();
        return s;
}

static uint32_t next_group(FuzzInput *in)
{
        uint8_t b = next_byte(in);

        if (b == UINT8_MAX)
                return (uint32_t)next_u64(in, 4);
        return (uint32_t)fake_kernel_group(b);
}

/* ---- building calls ---- */

/* An a{sv} of up to three options, keys and values mostly from what the
 * daemon knows. */
static int append_options(sd_bus_message *m, FuzzInput *in)
{
        static const char *const keys[] = { "mode", "lifetime", "force", "owner" };
        static const char *const values[] = { "fd",    "chown", "none",  "connection", "guard-fd", "persistent",
                                              "root",  "@root", "nobody", "@nogroup",  "",         "fd " };
        size_t n = next_byte(in) % 4;
        int r = sd_bus_message_open_container(m, 'a', "{sv}");

        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_free_ char *key = next_string(in, keys, ELEMENTSOF(keys));
                uint8_t type = next_byte(in) % 4;
                if ((r = sd_bus_message_open_container(m, 'e', "sv")) < 0 || (r = sd_bus_message_append(m, "s", key)) < 0)
                        break;
                if (type == 0) {
                        _cleanup_free_ char *v = next_string(in, values, ELEMENTSOF(values));
                        r = sd_bus_message_append(m, "v", "s", v);
                } else if (type == 1)
                        r = sd_bus_message_append(m, "v", "b", next_byte(in) & 1);
                else if (type == 2)
                        r = sd_bus_message_append(m, "v", "u", (uint32_t)next_u64(in, 4));
                else
                        r = sd_bus_message_append(m, "v", "as", 1, "fd");
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        return r < 0 ? r : sd_bus_message_close_container(m);
}

/* Leases named by earlier answers, or paths made of the input. */
static char *next_lease_path(FuzzInput *in)
{
        uint8_t b = next_byte(in);
        _cleanup_free_ char *tail = NULL;
        char *path;

        if (b < 0x80 && n_kept_leases > 0)
                path = strdup(kept_leases[b % n_kept_leases]);
        else if (asprintf(&path, VFIOD_LEASE_PATH_PREFIX "/%s", (tail = next_raw_string(in))) < 0)
                path = NULL;
        if (!path)
                abort();
        return path;
}

/* ---- what answers give ---- */

static void keep_fd(int fd)
{
        int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);

        if (copy < 0)
                abort();
        if (n_kept_fds == MAX_KEPT)
                close(copy);
        else
                kept_fds[n_kept_fds++] = copy;
}

static void keep_lease(const char *path)
{
        if (n_kept_leases < MAX_KEPT && !(kept_leases[n_kept_leases++] = strdup(path)))
                abort();
}

/* A claim's answer: its lease, its group, and its handles. */
static void keep_claim(sd_bus_message *reply)
{
        const char *lease, *group, *name;
        int fd;

        if (sd_bus_message_read(reply, "oo", &lease, &group) < 0 ||
            sd_bus_message_enter_container(reply, 'a', "{sh}") < 0)
                abort();
        keep_lease(lease);
        while (sd_bus_message_read(reply, "{sh}", &name, &fd) > 0)
                keep_fd(fd);
}

/* The holder closes every fd it got: guard-fd leases end. */
static void close_kept_fds(void)
{
        for (size_t i = 0; i < n_kept_fds; i++)
                close(kept_fds[i]);
        n_kept_fds = 0;
}

static void forget_kept(void)
{
        close_kept_fds();
        for (size_t i = 0; i < n_kept_leases; i++)
                free(kept_leases[i]);
        n_kept_leases = 0;
}

/* Any answer must be a valid message, which sd-bus checked on receipt; an
 * error must carry a message for people. */
static void check_answer(sd_bus_message *reply)
{
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        if (e && (!e->message || !e->message[0])) {
                fprintf(stderr, "Error %s without a message.\n", e->name);
                abort();
        }
}

/* ---- the calls ---- */

typedef enum Op {
        OP_GET_DEVICE,
        OP_GET_GROUP,
        OP_LIST,
        OP_CLAIM_GROUP,
        OP_CLAIM_DEVICE,
        OP_RELEASE_GROUP,
        OP_RELEASE_LEASE,
        OP_RAISE_MEMLOCK,
        OP_RESERVE,
        OP_UNRESERVE,
        OP_PROPERTIES,
        OP_INTROSPECT,
        OP_WRONG_SIGNATURE,
        OP_LEAVE,
        OP_CLOSE_FDS,
        OP_PREPARE,
        OP_UNPREPARE,
        _OP_MAX,
} Op;

static const char *const list_methods[] = { "ListDevices", "ListGroups", "ListLeases", "ListReservations", "Diagnose",
                                            "ListPrepared" };

static int new_manager_call(FuzzWorld *w, Caller c, const char *method, sd_bus_message **ret)
{
        return fuzz_world_new_call(w, c, VFIOD_ROOT_PATH, VFIOD_MANAGER_INTERFACE, method, ret);
}

static int new_claim(FuzzWorld *w, Caller c, Op op, FuzzInput *in, sd_bus_message **ret)
{
        int r = new_manager_call(w, c, op == OP_CLAIM_GROUP ? "ClaimGroup" : "ClaimDevice", ret);
        _cleanup_free_ char *address = NULL;

        if (r < 0)
                return r;
        if (op == OP_CLAIM_GROUP)
                r = sd_bus_message_append(*ret, "u", next_group(in));
        else
                r = sd_bus_message_append(*ret, "s", (address = next_address(in)));
        return r < 0 ? r : append_options(*ret, in);
}

/* A pidfd of this process (every caller's), of PID 1, or no pidfd. */
static int new_memlock_call(FuzzWorld *w, Caller c, FuzzInput *in, sd_bus_message **ret)
{
        static const uint64_t sizes[] = { 0, 4096, 64ULL << 20, 1ULL << 40, UINT64_MAX };
        uint8_t which = next_byte(in);
        uint8_t size = next_byte(in);
        _cleanup_close_ int fd = which % 3 == 0   ? (int)syscall(SYS_pidfd_open, getpid(), 0)
                                 : which % 3 == 1 ? (int)syscall(SYS_pidfd_open, 1, 0)
                                                  : open("/dev/null", O_RDONLY | O_CLOEXEC);
        uint64_t bytes = size < 0xf0 ? sizes[size % ELEMENTSOF(sizes)] : next_u64(in, 8);
        int r = fd < 0 ? -errno : new_manager_call(w, c, "RaiseMemlockLimit", ret);

        return r < 0 ? r : sd_bus_message_append(*ret, "ht", fd, bytes);
}

static int new_reservation_call(FuzzWorld *w, Caller c, Op op, FuzzInput *in, sd_bus_message **ret)
{
        static const char *const matches[] = { "0000:00:02.0",  "00:03.0",           "8086:100e", "10de:1f82@0000:00:04.0/00.0",
                                               "0000:00:04.0/00.0", "1b36:0010:0:0", "0000:00:00.0", "0000:00:1f.3",
                                               "1af4:1041",      "0000:00:07.0",     "ffff:ffff",  "0000:00:02.0/00.0" };
        _cleanup_free_ char *match = next_string(in, matches, ELEMENTSOF(matches));
        int r = new_manager_call(w, c, op == OP_RESERVE ? "Reserve" : "Unreserve", ret);

        if (r >= 0)
                r = sd_bus_message_append(*ret, "s", match);
        return r < 0 ? r : append_options(*ret, in);
}

/* Prepare of up to three devices, or Unprepare, under a few claim ids,
 * some of them no claim id at all. */
static int new_prepare_call(FuzzWorld *w, Caller c, Op op, FuzzInput *in, sd_bus_message **ret)
{
        static const char *const ids[] = { "pod-1", "pod-2", "7f3c9a2e-5b1d-4c8e-9f00-1a2b3c4d5e6f", "../x", "", ".a",
                                           "a123456789012345678901234567890123456789012345678901234567890123" };
        _cleanup_free_ char *id = next_string(in, ids, ELEMENTSOF(ids));
        uint8_t n = next_byte(in) % 4;
        int r = new_manager_call(w, c, op == OP_PREPARE ? "Prepare" : "Unprepare", ret);

        if (r >= 0)
                r = sd_bus_message_append(*ret, "s", id);
        if (r >= 0 && op == OP_PREPARE)
                r = sd_bus_message_open_container(*ret, 'a', "s");
        for (uint8_t i = 0; r >= 0 && op == OP_PREPARE && i < n; i++) {
                _cleanup_free_ char *address = next_address(in);
                r = sd_bus_message_append(*ret, "s", address);
        }
        if (r >= 0 && op == OP_PREPARE)
                r = sd_bus_message_close_container(*ret);
        return r < 0 ? r : append_options(*ret, in);
}

/* Get or GetAll on an object of the tree: a device, a group, a lease, the
 * manager, or a path made of the input. */
static int new_properties_call(FuzzWorld *w, Caller c, Op op, FuzzInput *in, sd_bus_message **ret)
{
        static const char *const interfaces[] = { VFIOD_MANAGER_INTERFACE, VFIOD_DEVICE_INTERFACE, VFIOD_GROUP_INTERFACE,
                                                  VFIOD_LEASE_INTERFACE };
        static const char *const properties[] = { "State", "Lease", "Holders", "Reservation", "Driver", "Group",
                                                  "OwnerUID", "Holder", "Node", "Step", "IommuState", "Bogus" };
        uint8_t kind = next_byte(in);
        _cleanup_free_ char *path = NULL, *tail = NULL, *address = NULL;
        int r;

        switch (kind % 5) {
        case 0:
                /* Encoded as vfiod names its objects (bus_device_path()):
                 * an address it does not have is an unknown object. */
                address = next_address(in);
                r = sd_bus_path_encode(VFIOD_DEVICE_PATH_PREFIX, address, &path);
                break;
        case 1:
                r = asprintf(&path, VFIOD_GROUP_PATH_PREFIX "/%u", next_group(in));
                break;
        case 2:
                path = next_lease_path(in);
                r = 0;
                break;
        case 3:
                r = (path = strdup(VFIOD_ROOT_PATH)) ? 0 : -ENOMEM;
                break;
        default:
                r = asprintf(&path, VFIOD_ROOT_PATH "/%s", (tail = next_raw_string(in)));
        }
        if (r < 0)
                abort();
        if (op == OP_INTROSPECT)
                return fuzz_world_new_call(w, c, path, "org.freedesktop.DBus.Introspectable", "Introspect", ret);
        const char *interface = interfaces[(kind >> 3) % ELEMENTSOF(interfaces)];
        if (kind & 0x80) {
                r = fuzz_world_new_call(w, c, path, "org.freedesktop.DBus.Properties", "GetAll", ret);
                return r < 0 ? r : sd_bus_message_append(*ret, "s", interface);
        }
        r = fuzz_world_new_call(w, c, path, "org.freedesktop.DBus.Properties", "Get", ret);
        return r < 0 ? r : sd_bus_message_append(*ret, "ss", interface, properties[next_byte(in) % ELEMENTSOF(properties)]);
}

/* Any method of the manager, with arguments of the wrong types. */
static int new_wrong_call(FuzzWorld *w, Caller c, FuzzInput *in, sd_bus_message **ret)
{
        static const char *const methods[] = { "ClaimGroup", "ClaimDevice", "ReleaseGroup", "RaiseMemlockLimit",
                                               "Reserve",    "Unreserve",   "GetDevice",    "GetGroup",
                                               "Prepare",    "Unprepare" };
        int r = new_manager_call(w, c, methods[next_byte(in) % ELEMENTSOF(methods)], ret);

        return r < 0 ? r : sd_bus_message_append(*ret, "us", next_u64(in, 4), "0000:00:02.0");
}

static int new_call(FuzzWorld *w, Op op, Caller c, FuzzInput *in, sd_bus_message **ret)
{
        _cleanup_free_ char *s = NULL;
        int r;

        switch (op) {
        case OP_GET_DEVICE:
                r = new_manager_call(w, c, "GetDevice", ret);
                return r < 0 ? r : sd_bus_message_append(*ret, "s", (s = next_address(in)));
        case OP_GET_GROUP:
                r = new_manager_call(w, c, "GetGroup", ret);
                return r < 0 ? r : sd_bus_message_append(*ret, "u", next_group(in));
        case OP_LIST:
                return new_manager_call(w, c, list_methods[next_byte(in) % ELEMENTSOF(list_methods)], ret);
        case OP_CLAIM_GROUP:
        case OP_CLAIM_DEVICE:
                return new_claim(w, c, op, in, ret);
        case OP_RELEASE_GROUP:
                r = new_manager_call(w, c, "ReleaseGroup", ret);
                if (r >= 0)
                        r = sd_bus_message_append(*ret, "u", next_group(in));
                return r < 0 ? r : append_options(*ret, in);
        case OP_RELEASE_LEASE:
                return fuzz_world_new_call(w, c, (s = next_lease_path(in)), VFIOD_LEASE_INTERFACE, "Release", ret);
        case OP_RAISE_MEMLOCK:
                return new_memlock_call(w, c, in, ret);
        case OP_RESERVE:
        case OP_UNRESERVE:
                return new_reservation_call(w, c, op, in, ret);
        case OP_PROPERTIES:
        case OP_INTROSPECT:
                return new_properties_call(w, c, op, in, ret);
        case OP_PREPARE:
        case OP_UNPREPARE:
                return new_prepare_call(w, c, op, in, ret);
        default:
                return new_wrong_call(w, c, in, ret);
        }
}

/* The machine during this call: a step that fails, what the use check
 * finds, a group that stays open after its lease ends. */
static void set_machine(FuzzInput *in)
{
        uint8_t b = next_byte(in);
        uint8_t device = next_byte(in);
        FakeWorld machine = {
                .fault = b % _FAKE_FAULT_MAX,
                .fault_device = device,
                .use = (b >> 3) % DEVICE_USE_PLATFORM, /* platform functions are the class's, not the world's */
                .held_group = b & 0x80 ? fake_kernel_group(device) : -1,
        };

        fake_kernel_set_world(&machine);
}

void fuzz_call(FuzzWorld *w, FuzzInput *in)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL, *reply = NULL;
        Op op = next_byte(in) % _OP_MAX;
        uint8_t who = next_byte(in);
        Caller c = who % _CALLER_MAX;

        fuzz_world_set_polkit(w, (who >> 2) % _POLKIT_ANSWER_MAX);
        set_machine(in);
        if (op == OP_LEAVE) {
                fuzz_world_leave(w, c);
                return;
        }
        if (op == OP_CLOSE_FDS) {
                close_kept_fds();
                return;
        }
        if (new_call(w, op, c, in, &call) < 0)
                return; /* not a valid message (bad UTF-8, bad object path): nothing to send */
        asked_to_move |= op == OP_CLAIM_GROUP || op == OP_CLAIM_DEVICE || op == OP_RESERVE || op == OP_PREPARE;
        reply = fuzz_world_send(w, call);
        check_answer(reply);
        if ((op == OP_CLAIM_GROUP || op == OP_CLAIM_DEVICE) && !sd_bus_message_is_method_error(reply, NULL))
                keep_claim(reply);
}

/* ---- coming to rest ---- */

static sd_bus_message *call_as_root(FuzzWorld *w, const char *method, const char *types, ...)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        va_list ap;
        int r = new_manager_call(w, CALLER_ROOT, method, &call);

        va_start(ap, types);
        if (r >= 0 && types)
                r = sd_bus_message_appendv(call, types, ap);
        va_end(ap);
        if (r < 0)
                abort();
        return fuzz_world_send(w, call);
}

/* Once every caller has left, nobody can reserve anything again. */
static void take_back_reservations(FuzzWorld *w)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *list = call_as_root(w, "ListReservations", NULL);
        const char *match, *owner, *file;
        uint32_t line;

        if (sd_bus_message_enter_container(list, 'a', "(sssuas)") < 0)
                abort();
        while (sd_bus_message_enter_container(list, 'r', "sssuas") > 0) {
                if (sd_bus_message_read(list, "sssu", &match, &owner, &file, &line) < 0 ||
                    sd_bus_message_skip(list, "as") < 0 || sd_bus_message_exit_container(list) < 0)
                        abort();
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *answer =
                        call_as_root(w, "Unreserve", "sa{sv}", match, 0);
                const sd_bus_error *e = sd_bus_message_get_error(answer);
                if (e) {
                        fprintf(stderr, "Unreserve %s: %s\n", match, e->message);
                        abort();
                }
        }
}

/* Releases what vfiod still holds; true when it holds nothing. */
static bool release_groups(FuzzWorld *w, char **ret_busy)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *list = call_as_root(w, "ListGroups", NULL);
        const char *path, *state;
        uint32_t id;
        int viable;
        bool rest = true;

        if (sd_bus_message_enter_container(list, 'a', "(uoasbs)") < 0)
                abort();
        while (sd_bus_message_enter_container(list, 'r', "uoasbs") > 0) {
                if (sd_bus_message_read(list, "uo", &id, &path) < 0 || sd_bus_message_skip(list, "as") < 0 ||
                    sd_bus_message_read(list, "bs", &viable, &state) < 0 || sd_bus_message_exit_container(list) < 0)
                        abort();
                BusState s = bus_state_from_string(state);
                if (!bus_state_is_claim(s))
                        continue;
                rest = false;
                free(*ret_busy);
                if (asprintf(ret_busy, "group %u is %s", id, state) < 0)
                        abort();
                if (s == BUS_STATE_CLAIMED || s == BUS_STATE_FAILED || s == BUS_STATE_RESERVED)
                        sd_bus_message_unref(call_as_root(w, "ReleaseGroup", "ua{sv}", id, 0));
        }
        return rest;
}

static bool no_leases(FuzzWorld *w)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *list = call_as_root(w, "ListLeases", NULL);

        return sd_bus_message_enter_container(list, 'a', "(ouuussst)") >= 0 &&
               sd_bus_message_at_end(list, false) > 0;
}

void fuzz_settle(FuzzWorld *w)
{
        _cleanup_free_ char *busy = NULL, *difference = NULL;
        bool rest = false;

        fake_kernel_set_world(&(FakeWorld){ .held_group = -1 });
        fuzz_world_set_polkit(w, POLKIT_YES);
        forget_kept();
        for (Caller c = 0; c < _CALLER_MAX; c++)
                fuzz_world_leave(w, c);
        /* Their departures are handled within this input: what that frees
         * is freed before libFuzzer weighs the input's mallocs against its
         * frees (its leak check), and none of it runs into the next input. */
        fuzz_world_sync(w);
        if (!asked_to_move)
                return;
        asked_to_move = false;
        /* A group held open after its lease is checked again every few
         * seconds, or at once when its node is closed. */
        fake_kernel_touch_nodes();
        take_back_reservations(w);
        for (int round = 0; !rest && round < 200; round++) {
                rest = release_groups(w, &busy) && no_leases(w);
                if (!rest)
                        fuzz_world_idle(w, 10 * 1000);
        }
        if (!rest) {
                fprintf(stderr, "vfiod did not come to rest: %s.\n", busy ?: "a lease is left");
                abort();
        }
        if (!fake_kernel_at_rest(&difference)) {
                fprintf(stderr, "After every release, %s.\n", difference ?: "a device moved");
                abort();
        }
}
