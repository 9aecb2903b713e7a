/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bus-names.h"
#include "bus-util.h"
#include "client.h"
#include "macro.h"

int client_bus(Client *c, sd_bus **ret)
{
        int r;

        if (!c->bus) {
                r = bus_open(c->bus_address, &c->bus);
                if (r < 0) {
                        client_fail(c, CLIENT_EXIT_FAILURE, "cannot connect to the %s bus: %s",
                                    c->bus_address ? "given" : "system", strerror(-r));
                        return r;
                }
        }
        *ret = c->bus;
        return 0;
}

bool client_error_is_absent(const sd_bus_error *e)
{
        return sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER,
                                      SD_BUS_ERROR_NO_REPLY, SD_BUS_ERROR_DISCONNECTED);
}

int client_new_manager_call(Client *c, const char *method, sd_bus_message **ret)
{
        sd_bus *bus;
        int r = client_bus(c, &bus);

        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(bus, ret, VFIOD_BUS_NAME, VFIOD_ROOT_PATH, VFIOD_MANAGER_INTERFACE,
                                           method);
        if (r < 0)
                client_fail(c, CLIENT_EXIT_FAILURE, "cannot call %s: %s", method, strerror(-r));
        return r;
}

static void report_error(Client *c, const sd_bus_error *error, int r)
{
        const char *message = error->message ? error->message : strerror(-r);
        _cleanup_free_ char *absent = NULL;

        if (client_error_is_absent(error) &&
            asprintf(&absent, "vfiod is not running and cannot be started (%s). Start it with 'systemctl start "
                              "vfiod', or see 'vfioctl-client doctor'.", message) >= 0)
                message = absent;
        client_report(c, client_exit_for_error(error), error->name, message);
}

int client_call(Client *c, sd_bus_message *msg, sd_bus_message **reply)
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = sd_bus_call(c->bus, msg, c->call_timeout_usec, &error, reply);

        if (r < 0)
                report_error(c, &error, r);
        return r;
}

int client_call_authorized(Client *c, sd_bus_message *msg, uint64_t timeout_usec, sd_bus_message **reply)
{
        pid_t agent;
        int r;

        (void)polkit_agent_open(c, &agent);
        c->call_timeout_usec = timeout_usec;
        r = client_call(c, msg, reply);
        polkit_agent_close(agent);
        return r;
}

int client_call_manager(Client *c, const char *method, sd_bus_message **reply, const char *types, ...)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = NULL;
        va_list ap;
        int r;

        r = client_new_manager_call(c, method, &msg);
        if (r < 0)
                return r;
        if (types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(msg, types, ap);
                va_end(ap);
        }
        if (r < 0) {
                client_fail(c, CLIENT_EXIT_FAILURE, "cannot call %s: %s", method, strerror(-r));
                return r;
        }
        return client_call(c, msg, reply);
}

int client_read_devices(sd_bus_message *reply, DeviceRow **ret, size_t *n)
{
        DeviceRow *rows = NULL, row = {};
        size_t count = 0;
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "(soqqqqusssibbs)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(soqqqqusssibbs)", &row.address, &row.path,
                                                  &row.vendor_id, &row.device_id, &row.subsystem_vendor_id,
                                                  &row.subsystem_device_id, &row.class_code, &row.vendor_name,
                                                  &row.model_name, &row.driver, &row.group, &row.boot_vga,
                                                  &row.bridge, &row.state)) > 0) {
                DeviceRow *a = reallocarray(rows, count + 1, sizeof(*a));
                if (!a) {
                        r = -ENOMEM;
                        break;
                }
                rows = a;
                rows[count++] = row;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r < 0) {
                free(rows);
                return r;
        }
        *ret = rows;
        *n = count;
        return 0;
}

int client_list_devices(Client *c, sd_bus_message **reply, DeviceRow **ret, size_t *n)
{
        int r = client_call_manager(c, "ListDevices", reply, NULL);

        if (r >= 0 && (r = client_read_devices(*reply, ret, n)) < 0)
                return report_unreadable_answer(c, r);
        return r;
}

char *client_group_holders(Client *c, uint32_t group)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        char *text = NULL;
        size_t size = 0, n = 0;
        const char *comm;
        uint32_t pid;
        char path[64];
        FILE *f;
        int r;

        snprintf(path, sizeof(path), VFIOD_GROUP_PATH_PREFIX "/%u", group);
        r = sd_bus_get_property(c->bus, VFIOD_BUS_NAME, path, VFIOD_GROUP_INTERFACE, "Holders", NULL, &reply,
                                "a(us)");

        if (r < 0 || !(f = open_memstream(&text, &size)))
                return NULL;
        r = sd_bus_message_enter_container(reply, 'a', "(us)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(us)", &pid, &comm)) > 0) {
                if (c->json) {
                        fprintf(f, "%s{\"pid\":%u,\"command\":", n ? "," : "[", pid);
                        json_string(f, comm);
                        fputc('}', f);
                } else
                        fprintf(f, "%sPID %u (%s)", n ? ", " : "", pid, comm);
                n++;
        }
        if (c->json && n > 0)
                fputc(']', f);
        fclose(f);
        if (n == 0) {
                free(text);
                return NULL;
        }
        return text;
}

int client_foreach_held_group(Client *c, int (*fn)(Client *c, uint32_t group, void *userdata), void *userdata)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *state;
        uint32_t group;
        int viable, r;

        if (!c->bus)
                return -ENOTCONN;
        r = sd_bus_call_method(c->bus, VFIOD_BUS_NAME, VFIOD_ROOT_PATH, VFIOD_MANAGER_INTERFACE, "ListGroups", NULL,
                               &reply, NULL);
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "(uoasbs)");
        while (r >= 0 && (r = client_read_group_row(reply, &group, &viable, &state)) > 0)
                if (bus_state_from_string(state) == BUS_STATE_HELD)
                        r = fn(c, group, userdata);
        return r;
}

int client_read_group_row(sd_bus_message *reply, uint32_t *ret_id, int *ret_viable, const char **ret_state)
{
        const char *path;
        int r = sd_bus_message_enter_container(reply, 'r', "uoasbs");

        if (r <= 0)
                return r;
        r = sd_bus_message_read(reply, "uo", ret_id, &path);
        if (r >= 0)
                r = sd_bus_message_skip(reply, "as");
        if (r >= 0)
                r = sd_bus_message_read(reply, "bs", ret_viable, ret_state);
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        return r < 0 ? r : 1;
}
