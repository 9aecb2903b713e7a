/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "bus-names.h"
#include "log.h"
#include "macro.h"
#include "manager.h"

/* Claim and release of whole IOMMU groups on the bus: the checks at the
 * edge, then the engine, whose answer comes back asynchronously. */

typedef struct ClaimOptions {
        bool force;
} ClaimOptions;

/* a{sv}: the known keys with their types; anything else is an error, so a
 * misspelt option never silently does nothing. */
static int read_options(sd_bus_message *msg, bool allow_force, ClaimOptions *ret, sd_bus_error *error)
{
        const char *key;
        int r;

        *ret = (ClaimOptions){};
        r = sd_bus_message_enter_container(msg, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
                r = sd_bus_message_read(msg, "s", &key);
                if (r < 0)
                        return r;
                if (allow_force && streq(key, "force")) {
                        int force;
                        r = sd_bus_message_read(msg, "v", "b", &force);
                        if (r < 0)
                                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                                        "Option 'force' takes a boolean.");
                        ret->force = force;
                } else
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown option '%.64s'%s.", key,
                                                 allow_force ? ": the known option is 'force'" : ": none is known");
                r = sd_bus_message_exit_container(msg);
        }
        return r < 0 ? r : sd_bus_message_exit_container(msg);
}

/* Until polkit decides (next in the plan), only root may move devices. */
static int check_root(sd_bus_message *msg, sd_bus_error *error)
{
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        uid_t uid;
        int r;

        r = sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID, &creds);
        if (r < 0)
                return r;
        r = sd_bus_creds_get_euid(creds, &uid);
        if (r < 0)
                return r;
        if (uid != 0)
                return sd_bus_error_set(error, VFIOD_ERROR_NOT_AUTHORIZED,
                                        "Only root may claim or release IOMMU groups.");
        return 0;
}

static const char *failure_error_name(TransactionFailure f)
{
        switch (f) {
        case FAILURE_HOST_CRITICAL:
                return VFIOD_ERROR_HOST_CRITICAL;
        case FAILURE_DEVICE_BUSY:
                return VFIOD_ERROR_DEVICE_BUSY;
        case FAILURE_TIMEOUT:
                return VFIOD_ERROR_TIMEOUT;
        default:
                return VFIOD_ERROR_BIND_FAILED;
        }
}

/* The engine's answer: success or the error that names device, step and errno. */
static void on_engine_reply(const EngineResult *result, void *userdata)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = userdata;
        _cleanup_free_ char *path = NULL;
        const char *name = failure_error_name(result->failure);

        if (result->error < 0 || result->failure != FAILURE_NONE) {
                (void)sd_bus_reply_method_errorf(msg, name, "%s", result->message ?: "The transaction failed.");
                return;
        }
        if (result->kind != TRANSACTION_CLAIM) {
                (void)sd_bus_reply_method_return(msg, "");
                return;
        }
        if (bus_group_path(result->group, &path) >= 0)
                (void)sd_bus_reply_method_return(msg, "o", path);
}

static int collect_endpoints(const Group *g, char ***ret, size_t *n)
{
        char **addresses = calloc(g->n_devices, sizeof(char *));
        size_t count = 0;

        if (!addresses)
                return -ENOMEM;
        for (size_t i = 0; i < g->n_devices; i++)
                if (!device_is_bridge(g->devices[i]))
                        addresses[count++] = g->devices[i]->pci->address;
        *ret = addresses;
        *n = count;
        return 0;
}

static int claim_group(Manager *m, sd_bus_message *msg, const Group *g, const ClaimOptions *o,
                       sd_bus_error *error)
{
        _cleanup_free_ char **addresses = NULL;
        size_t n;
        int r;

        r = collect_endpoints(g, &addresses, &n);
        if (r < 0)
                return r;
        if (n == 0)
                return sd_bus_error_setf(error, VFIOD_ERROR_GROUP_NOT_VIABLE,
                                         "IOMMU group %d holds only bridges: there is nothing to claim.", g->id);
        r = engine_claim(m->engine, g->id, addresses, n, o->force, on_engine_reply, msg);
        if (r == -EBUSY)
                return sd_bus_error_setf(error, VFIOD_ERROR_GROUP_BUSY,
                                         "IOMMU group %d is %s by vfiod: release it first.", g->id,
                                         manager_group_state(m, g));
        if (r < 0)
                return r;
        log_info("Claiming IOMMU group %d%s.", g->id, o->force ? " (forced)" : "");
        sd_bus_message_ref(msg); /* answered by on_engine_reply */
        return 1;
}

int bus_method_claim_group(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;
        ClaimOptions o;
        uint32_t id;
        Group *g;
        int r;

        if ((r = sd_bus_message_read(msg, "u", &id)) < 0 || (r = read_options(msg, true, &o, error)) < 0 ||
            (r = check_root(msg, error)) < 0)
                return r;
        g = id <= INT32_MAX ? device_model_find_group(m->model, (int)id) : NULL;
        if (!g)
                return sd_bus_error_setf(error, VFIOD_ERROR_NO_SUCH_GROUP,
                                         "No IOMMU group %" PRIu32 ": 'vfioctl-client list' shows the groups.", id);
        return claim_group(m, msg, g, &o, error);
}

int bus_method_claim_device(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;
        const char *input;
        ClaimOptions o;
        Device *d;
        Group *g;
        int r;

        if ((r = sd_bus_message_read(msg, "s", &input)) < 0 || (r = read_options(msg, true, &o, error)) < 0 ||
            (r = check_root(msg, error)) < 0 || (r = bus_lookup_device(m, input, &d, error)) < 0)
                return r;
        g = device_model_find_group(m->model, d->pci->iommu_group);
        if (!g)
                return sd_bus_error_setf(error, VFIOD_ERROR_NO_IOMMU,
                                         "%s is in no IOMMU group: VFIO needs the IOMMU on, and vfiod refuses "
                                         "no-IOMMU mode. 'vfioctl-client doctor' says how to turn it on.",
                                         d->pci->address);
        return claim_group(m, msg, g, &o, error);
}

int bus_method_release_group(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;
        ClaimOptions o;
        uint32_t id;
        int r;

        if ((r = sd_bus_message_read(msg, "u", &id)) < 0 || (r = read_options(msg, false, &o, error)) < 0 ||
            (r = check_root(msg, error)) < 0)
                return r;
        r = id <= INT32_MAX ? engine_release(m->engine, (int)id, on_engine_reply, msg) : -ENOENT;
        if (r == -ENOENT)
                return sd_bus_error_setf(error, VFIOD_ERROR_NOT_CLAIMED,
                                         "vfiod holds no claim of IOMMU group %" PRIu32 ": nothing to release.", id);
        if (r == -EBUSY)
                return sd_bus_error_setf(error, VFIOD_ERROR_GROUP_BUSY,
                                         "IOMMU group %" PRIu32 " is moving right now: try again when it is done.",
                                         id);
        if (r < 0)
                return r;
        log_info("Releasing IOMMU group %" PRIu32 ".", id);
        sd_bus_message_ref(msg);
        return 1;
}
