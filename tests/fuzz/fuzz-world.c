/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bus-names.h"
#include "fuzz-world.h"
#include "macro.h"
#include "number.h"

#define DRIVER_NAME "org.freedesktop.DBus"
#define DRIVER_PATH "/org/freedesktop/DBus"
#define POLKIT_NAME "org.freedesktop.PolicyKit1"
#define POLKIT_UNIQUE_NAME ":1.2"
#define DAEMON_UNIQUE_NAME ":1.1"
/* Longer than any step of the fake kernel, shorter than sd-bus's default:
 * a call unanswered by then is never answered. */
#define ANSWER_TIMEOUT_USEC (10 * 1000 * 1000ULL)

static const uid_t caller_uids[_CALLER_MAX] = { [CALLER_ROOT] = 0, [CALLER_ALICE] = 1000, [CALLER_BOB] = 1001 };

struct FuzzWorld {
        sd_bus *bus; /* the daemon's connection, from the bus's side */
        bool name_requested;
        PolkitAnswer polkit;
        unsigned connection[_CALLER_MAX]; /* each caller's unique name is ":1.<this>" */
        unsigned next_connection;
};

int fuzz_world_listen(const char *path, char *address, size_t size, int *ret_fd)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        snprintf(address, size, "unix:path=%s", sa.sun_path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0) {
                close(fd);
                return -errno;
        }
        *ret_fd = fd;
        return 0;
}

/* ---- the bus driver ---- */

static int caller_of(const FuzzWorld *w, const char *name)
{
        uint64_t n;

        if (strncmp(name, ":1.", 3) != 0 || parse_canonical_u64(name + 3, UINT_MAX, &n) < 0)
                return -1;
        for (int c = 0; c < _CALLER_MAX; c++)
                if (w->connection[c] == n)
                        return c;
        return -1;
}

/* Every answer comes from the name of whoever answers: the bus driver, or
 * polkit. */
static int reply_from(sd_bus_message *call, const char *sender, const char *types, ...)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        va_list ap;
        int r = sd_bus_message_new_method_return(call, &reply);

        if (r < 0 || (r = sd_bus_message_set_sender(reply, sender)) < 0)
                return r;
        va_start(ap, types);
        r = types ? sd_bus_message_appendv(reply, types, ap) : 0;
        va_end(ap);
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

static int error_from(sd_bus_message *call, const char *sender, const char *name, const char *text)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = sd_bus_message_new_method_errorf(call, &reply, name, "%s", text);

        if (r < 0 || (r = sd_bus_message_set_sender(reply, sender)) < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int driver_hello(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        return reply_from(m, DRIVER_NAME, "s", DAEMON_UNIQUE_NAME);
}

static int driver_request_name(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        FuzzWorld *w = userdata;

        w->name_requested = true;
        return reply_from(m, DRIVER_NAME, "u", 1); /* DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER */
}

static int driver_release_name(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        return reply_from(m, DRIVER_NAME, "u", 1); /* DBUS_RELEASE_NAME_REPLY_RELEASED */
}

static int driver_nothing(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        return reply_from(m, DRIVER_NAME, NULL);
}

/* Whose name it is: a caller's, polkit's or the daemon's; NULL for none. */
static const char *owner_of(const FuzzWorld *w, const char *name)
{
        if (streq(name, POLKIT_NAME) || streq(name, POLKIT_UNIQUE_NAME))
                return POLKIT_UNIQUE_NAME;
        if (streq(name, VFIOD_BUS_NAME) || streq(name, DAEMON_UNIQUE_NAME))
                return DAEMON_UNIQUE_NAME;
        return caller_of(w, name) >= 0 ? name : NULL;
}

static int no_owner(sd_bus_message *m, const char *name)
{
        return error_from(m, DRIVER_NAME, "org.freedesktop.DBus.Error.NameHasNoOwner", name);
}

static int driver_get_name_owner(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        const char *name, *owner;
        int r = sd_bus_message_read(m, "s", &name);

        if (r < 0)
                return r;
        owner = owner_of(userdata, name);
        return owner ? reply_from(m, DRIVER_NAME, "s", owner) : no_owner(m, name);
}

static int driver_name_has_owner(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        const char *name;
        int r = sd_bus_message_read(m, "s", &name);

        return r < 0 ? r : reply_from(m, DRIVER_NAME, "b", owner_of(userdata, name) != NULL);
}

/* The callers' uid and pid: every caller is this process, which is what a
 * pidfd of the caller's then names. */
static int driver_get_credentials(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        const char *name;
        int r = sd_bus_message_read(m, "s", &name), c;

        if (r < 0)
                return r;
        c = caller_of(userdata, name);
        if (c < 0)
                return no_owner(m, name);
        return reply_from(m, DRIVER_NAME, "a{sv}", 2, "UnixUserID", "u", (uint32_t)caller_uids[c], "ProcessID",
                          "u", (uint32_t)getpid());
}

static const sd_bus_vtable driver_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Hello", "", "s", driver_hello, 0),
        SD_BUS_METHOD("RequestName", "su", "u", driver_request_name, 0),
        SD_BUS_METHOD("ReleaseName", "s", "u", driver_release_name, 0),
        SD_BUS_METHOD("AddMatch", "s", "", driver_nothing, 0),
        SD_BUS_METHOD("RemoveMatch", "s", "", driver_nothing, 0),
        SD_BUS_METHOD("GetNameOwner", "s", "s", driver_get_name_owner, 0),
        SD_BUS_METHOD("NameHasOwner", "s", "b", driver_name_has_owner, 0),
        SD_BUS_METHOD("GetConnectionCredentials", "s", "a{sv}", driver_get_credentials, 0),
        SD_BUS_VTABLE_END,
};

/* ---- polkit ---- */

static int polkit_check(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        const FuzzWorld *w = userdata;

        switch (w->polkit) {
        case POLKIT_YES:
                return reply_from(m, POLKIT_UNIQUE_NAME, "(bba{ss})", true, false, 0);
        case POLKIT_CHALLENGE:
                return reply_from(m, POLKIT_UNIQUE_NAME, "(bba{ss})", false, true, 0);
        case POLKIT_FAILS:
                return error_from(m, POLKIT_UNIQUE_NAME, "org.freedesktop.PolicyKit1.Error.Failed",
                                  "polkit is having a bad day");
        default:
                return reply_from(m, POLKIT_UNIQUE_NAME, "(bba{ss})", false, false, 0);
        }
}

static int polkit_cancel(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        return reply_from(m, POLKIT_UNIQUE_NAME, NULL);
}

static const sd_bus_vtable polkit_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("CheckAuthorization", "(sa{sv})sa{ss}us", "(bba{ss})", polkit_check, 0),
        SD_BUS_METHOD("CancelCheckAuthorization", "s", "", polkit_cancel, 0),
        SD_BUS_VTABLE_END,
};

void fuzz_world_set_polkit(FuzzWorld *w, PolkitAnswer answer)
{
        w->polkit = answer;
}

/* ---- playing the bus ---- */

/* libFuzzer's timer (-timeout) interrupts the wait every second. */
static void wait_for_bus(FuzzWorld *w, uint64_t usec)
{
        int r = sd_bus_wait(w->bus, usec);

        if (r < 0 && r != -EINTR)
                abort();
}

/* Handles everything that has come in. */
static void process_all(FuzzWorld *w)
{
        int r;

        while ((r = sd_bus_process(w->bus, NULL)) > 0)
                ;
        if (r < 0)
                abort(); /* the connection to the daemon failed */
}

/* Runs the connection until *done; aborts when the daemon does not get
 * there in time. */
static void play_until_answered(FuzzWorld *w, const bool *done)
{
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + ANSWER_TIMEOUT_USEC, now;

        for (process_all(w); !*done; process_all(w)) {
                now = now_usec(CLOCK_MONOTONIC);
                if (now >= deadline) {
                        fprintf(stderr, "The daemon left a call unanswered for %llu s.\n",
                                (unsigned long long)(ANSWER_TIMEOUT_USEC / 1000000));
                        abort();
                }
                wait_for_bus(w, deadline - now);
        }
}

int fuzz_world_new(int listener, FuzzWorld **ret)
{
        FuzzWorld *w = calloc(1, sizeof(*w));
        sd_id128_t id = SD_ID128_MAKE(76, 66, 69, 6f, 64, 66, 75, 7a, 7a, 62, 75, 73, 77, 6f, 72, 6c);
        int fd, r;

        if (!w)
                return -ENOMEM;
        w->next_connection = 100;
        for (int c = 0; c < _CALLER_MAX; c++)
                w->connection[c] = w->next_connection++;
        fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
                return -errno;
        if ((r = sd_bus_new(&w->bus)) < 0 || (r = sd_bus_set_fd(w->bus, fd, fd)) < 0 ||
            (r = sd_bus_set_server(w->bus, 1, id)) < 0 || (r = sd_bus_negotiate_fds(w->bus, 1)) < 0 ||
            (r = sd_bus_start(w->bus)) < 0 ||
            (r = sd_bus_add_object_vtable(w->bus, NULL, DRIVER_PATH, DRIVER_NAME, driver_vtable, w)) < 0 ||
            (r = sd_bus_add_object_vtable(w->bus, NULL, "/org/freedesktop/PolicyKit1/Authority",
                                          "org.freedesktop.PolicyKit1.Authority", polkit_vtable, w)) < 0)
                return r;
        play_until_answered(w, &w->name_requested);
        *ret = w;
        return 0;
}

static const char *caller_name(const FuzzWorld *w, Caller caller, char buf[static 16])
{
        snprintf(buf, 16, ":1.%u", w->connection[caller]);
        return buf;
}

int fuzz_world_new_call(FuzzWorld *w, Caller caller, const char *path, const char *interface, const char *member,
                        sd_bus_message **ret)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        char name[16];
        int r = sd_bus_message_new_method_call(w->bus, &m, VFIOD_BUS_NAME, path, interface, member);

        if (r < 0 || (r = sd_bus_message_set_sender(m, caller_name(w, caller, name))) < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

typedef struct Answer {
        bool done;
        sd_bus_message *reply;
} Answer;

static int on_answer(sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        Answer *a = userdata;

        a->done = true;
        a->reply = sd_bus_message_ref(reply);
        return 0;
}

sd_bus_message *fuzz_world_send(FuzzWorld *w, sd_bus_message *call)
{
        Answer a = {};

        if (sd_bus_call_async(w->bus, NULL, call, on_answer, &a, ANSWER_TIMEOUT_USEC + 1000000) < 0)
                abort();
        play_until_answered(w, &a.done);
        return a.reply;
}

void fuzz_world_idle(FuzzWorld *w, uint64_t usec)
{
        process_all(w);
        wait_for_bus(w, usec);
        process_all(w);
}

void fuzz_world_leave(FuzzWorld *w, Caller caller)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        char name[16];

        caller_name(w, caller, name);
        w->connection[caller] = w->next_connection++;
        if (sd_bus_message_new_signal(w->bus, &m, DRIVER_PATH, DRIVER_NAME, "NameOwnerChanged") < 0 ||
            sd_bus_message_set_sender(m, DRIVER_NAME) < 0 || sd_bus_message_append(m, "sss", name, name, "") < 0 ||
            sd_bus_send(w->bus, m, NULL) < 0)
                abort();
}

void fuzz_world_sync(FuzzWorld *w)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL, *reply = NULL;

        if (fuzz_world_new_call(w, CALLER_ROOT, VFIOD_ROOT_PATH, "org.freedesktop.DBus.Peer", "Ping", &call) < 0)
                abort();
        reply = fuzz_world_send(w, call);
        if (sd_bus_message_is_method_error(reply, NULL))
                abort();
}
