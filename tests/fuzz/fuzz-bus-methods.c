/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bus-names.h"
#include "config.h"
#include "macro.h"
#include "manager.h"

/* The daemon's bus objects, served in-process over a socketpair: the input
 * picks a call (every Manager method, a wrong signature, properties and
 * introspection on object paths made of the input) and its argument. The
 * daemon must answer every call without crashing. Devices are read from
 * this machine's sysfs, read-only. */

static Manager manager;
static sd_bus *client;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        int fds[2];
        sd_id128_t id = SD_ID128_MAKE(76, 66, 69, 6f, 64, 66, 75, 7a, 7a, 62, 75, 73, 70, 61, 69, 72);

        assert(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
        assert(sd_bus_new(&manager.bus) >= 0);
        assert(sd_bus_set_fd(manager.bus, fds[0], fds[0]) >= 0);
        assert(sd_bus_set_server(manager.bus, 1, id) >= 0);
        assert(sd_bus_start(manager.bus) >= 0);
        assert(sd_bus_new(&client) >= 0);
        assert(sd_bus_set_fd(client, fds[1], fds[1]) >= 0);
        assert(sd_bus_start(client) >= 0);

        manager.version = PACKAGE_VERSION;
        manager.api_version = VFIOD_API_VERSION;
        /* No leases: an empty registry, for the Group.Lease property. */
        char state_dir[] = "/tmp/fuzz-bus-methods-XXXXXX";
        assert(mkdtemp(state_dir));
        assert(sd_event_default(&manager.event) >= 0);
        assert(leases_new(manager.event, manager.bus, state_dir, NULL, NULL, &manager.leases) >= 0);
        assert(device_model_new(&manager.model) >= 0);
        assert(device_model_enumerate(manager.model) >= 0);
        assert(bus_manager_register(&manager) >= 0);
        assert(bus_device_register(&manager) >= 0);
        assert(bus_group_register(&manager) >= 0);
        return 0;
}

static int on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        *(bool *)userdata = true;
        return 0;
}

/* Sends msg and runs both ends until the reply (or error) is back. */
static void call(sd_bus_message *msg)
{
        bool done = false;

        assert(sd_bus_call_async(client, NULL, msg, on_reply, &done, 0) >= 0);
        for (int i = 0; !done && i < 1000; i++) {
                while (sd_bus_process(manager.bus, NULL) > 0)
                        ;
                while (sd_bus_process(client, NULL) > 0)
                        ;
        }
        assert(done);
}

enum { CALL_GET_DEVICE, CALL_GET_GROUP, CALL_LIST_DEVICES, CALL_LIST_GROUPS, CALL_DIAGNOSE,
       CALL_GET_DEVICE_WRONG_TYPE, CALL_GET_ALL_ON_PATH, CALL_INTROSPECT_PATH, N_CALLS };

static int new_call(const char *path, const char *iface, const char *method, sd_bus_message **ret)
{
        return sd_bus_message_new_method_call(client, ret, NULL, path, iface, method);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const manager_methods[] = {
                [CALL_LIST_DEVICES] = "ListDevices", [CALL_LIST_GROUPS] = "ListGroups", [CALL_DIAGNOSE] = "Diagnose",
        };
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = NULL;
        _cleanup_free_ char *arg = NULL, *path = NULL;
        uint32_t number = 0;
        int r;

        if (size < 1)
                return 0;
        arg = strndup((const char *)data + 1, size - 1);
        if (!arg)
                return 0;
        memcpy(&number, data + 1, size - 1 < sizeof(number) ? size - 1 : sizeof(number));

        switch (data[0] % N_CALLS) {
        case CALL_GET_DEVICE:
                r = new_call(VFIOD_ROOT_PATH, VFIOD_MANAGER_INTERFACE, "GetDevice", &msg);
                if (r >= 0)
                        r = sd_bus_message_append(msg, "s", arg); /* refuses invalid UTF-8 */
                break;
        case CALL_GET_GROUP:
                r = new_call(VFIOD_ROOT_PATH, VFIOD_MANAGER_INTERFACE, "GetGroup", &msg);
                if (r >= 0)
                        r = sd_bus_message_append(msg, "u", number);
                break;
        case CALL_GET_DEVICE_WRONG_TYPE:
                r = new_call(VFIOD_ROOT_PATH, VFIOD_MANAGER_INTERFACE, "GetDevice", &msg);
                if (r >= 0)
                        r = sd_bus_message_append(msg, "us", number, "0000:00:00.0");
                break;
        case CALL_GET_ALL_ON_PATH:
        case CALL_INTROSPECT_PATH:
                /* Paths under the device and group trees, made of the input. */
                if (asprintf(&path, "%s/%s", data[0] & 0x80 ? VFIOD_GROUP_PATH_PREFIX : VFIOD_DEVICE_PATH_PREFIX,
                             arg) < 0)
                        return 0;
                if (data[0] % N_CALLS == CALL_GET_ALL_ON_PATH) {
                        r = new_call(path, "org.freedesktop.DBus.Properties", "GetAll", &msg);
                        if (r >= 0)
                                r = sd_bus_message_append(msg, "s", data[0] & 0x40 ? VFIOD_GROUP_INTERFACE
                                                                                     : VFIOD_DEVICE_INTERFACE);
                } else
                        r = new_call(path, "org.freedesktop.DBus.Introspectable", "Introspect", &msg);
                break;
        default:
                r = new_call(VFIOD_ROOT_PATH, VFIOD_MANAGER_INTERFACE, manager_methods[data[0] % N_CALLS], &msg);
                break;
        }
        if (r < 0) /* not a valid message (bad UTF-8, bad object path): nothing to send */
                return 0;
        call(msg);
        return 0;
}
