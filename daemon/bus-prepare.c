/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authorization.h"
#include "bus-claim.h"
#include "bus-manager.h"
#include "bus-names.h"
#include "bus-prepare.h"
#include "bus-sender.h"
#include "bus-util.h"
#include "cdi-spec.h"
#include "handover.h"
#include "log.h"
#include "macro.h"
#include "manager-prepared.h"
#include "manager.h"
#include "policy.h"
#include "quote.h"

/* More devices than a node has is a mistake, not a claim. */
#define PREPARE_DEVICES_MAX 256

static int claim_id_error(const char *id, sd_bus_error *error)
{
        char quoted[QUOTE_BUFFER_SIZE];

        return bus_error_setf(error, VFIOD_ERROR_INVALID_CLAIM_ID,
                              "'%s' is not a claim id: 1 to 63 letters, digits, '.', '_' and '-', starting with a "
                              "letter or digit (it names a file and a CDI device).",
                              quote_input(id, quoted));
}

/* The groups of the devices asked for, each once, in the order asked. */
static int read_groups(Manager *m, sd_bus_message *msg, const Group ***ret, size_t *n, sd_bus_error *error)
{
        _cleanup_free_ const Group **groups = NULL;
        size_t count = 0, asked = 0;
        const char *input;
        int r = sd_bus_message_enter_container(msg, 'a', "s");

        while (r >= 0 && (r = sd_bus_message_read(msg, "s", &input)) > 0) {
                const Group *g;
                Device *d;
                bool seen = false;
                if (++asked > PREPARE_DEVICES_MAX)
                        return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                              "More than %d devices: no claim is that large.", PREPARE_DEVICES_MAX);
                r = bus_lookup_device(m, input, &d, error);
                if (r < 0)
                        return r;
                g = device_model_find_group(m->model, d->pci->iommu_group);
                if (!g)
                        return bus_no_iommu_error(d, error);
                if (device_is_bridge(d))
                        return bus_error_setf(error, VFIOD_ERROR_GROUP_NOT_VIABLE,
                                              "%s is a bridge: its group's endpoints are what a claim takes.",
                                              d->pci->address);
                for (size_t i = 0; i < count && !seen; i++)
                        seen = groups[i] == g;
                if (seen)
                        continue;
                const Group **grown = reallocarray(groups, count + 1, sizeof(*groups));
                if (!grown)
                        return -ENOMEM;
                groups = grown;
                groups[count++] = g;
        }
        if (r < 0 || (r = sd_bus_message_exit_container(msg)) < 0)
                return r;
        if (count == 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Prepare takes at least one device.");
        *ret = TAKE_PTR(groups);
        *n = count;
        return 0;
}

/* (s cdi_device, au groups, as nodes): what a runtime is given, and what
 * an agent that passes nodes itself needs. */
static int send_prepared(sd_bus_message *msg, const PrepareOutcome *o)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *cdi_device = NULL;
        char node[VFIO_NODE_PATH_MAX];
        int r = cdi_device_name(o->claim_id, &cdi_device);

        if (r >= 0)
                r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "s", cdi_device);
        if (r >= 0)
                r = sd_bus_message_append_array(reply, 'u', o->groups, o->n_groups * sizeof(*o->groups));
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "s");
        if (r >= 0)
                r = sd_bus_message_append(reply, "s", "/dev/vfio/vfio");
        for (size_t i = 0; r >= 0 && i < o->n_groups; i++) {
                vfio_group_node_path(o->groups[i], node);
                r = sd_bus_message_append(reply, "s", node);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

/* Why manager_claim_for_lease() found a group busy, by its errno; NULL
 * for any other. */
static const char *busy_reason(int error)
{
        switch (error) {
        case -EBUSY:
                return "was claimed, or began to move, meanwhile; ask again later";
        case -EALREADY:
                return "is reserved, and another claim of it is under way; ask again later";
        case -ESTALE:
                return "is reserved, and has not gone through vfio-pci since its last lease ended, which proves "
                       "that no fd of that lease is left; the journal says why, and 'systemctl restart vfiod' "
                       "tries again";
        default:
                return NULL;
        }
}

static void on_prepared(const PrepareOutcome *o, void *userdata)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = userdata;
        const char *busy = busy_reason(o->error);
        int r;

        if (o->failure) {
                (void)bus_reply_errorf(msg, bus_failure_error_name(o->failure->failure),
                                       "Cannot prepare claim %s: %s Nothing of it is prepared.", o->claim_id,
                                       o->failure->message);
                return;
        }
        if (busy) {
                (void)bus_reply_errorf(msg, VFIOD_ERROR_GROUP_BUSY, "Cannot prepare claim %s: a group of it %s. "
                                       "Nothing of it is prepared.", o->claim_id, busy);
                return;
        }
        if (o->error < 0) {
                (void)bus_reply_errorf(msg, SD_BUS_ERROR_FAILED,
                                       "Cannot prepare claim %s: %s. Nothing of it is prepared.",
                                       o->claim_id, strerror(-o->error));
                return;
        }
        r = send_prepared(msg, o);
        if (r < 0)
                log_error_errno(r, "Cannot answer the Prepare of claim %s", o->claim_id);
}

static int prepare_refused(PrepareStart s, const char *id, int busy_group, sd_bus_error *error)
{
        switch (s) {
        case PREPARE_OTHER_GROUPS:
                return bus_error_setf(error, VFIOD_ERROR_ALREADY_PREPARED,
                                      "Claim %s is prepared, or being prepared, with other devices: unprepare it "
                                      "first, or prepare these under another id.",
                                      id);
        case PREPARE_WAITERS_FULL:
                return bus_error_setf(error, VFIOD_ERROR_GROUP_BUSY,
                                      "Claim %s is being prepared, and many calls wait for it already: ask again "
                                      "when that is done.",
                                      id);
        default:
                return bus_error_setf(error, VFIOD_ERROR_GROUP_BUSY,
                                      "IOMMU group %d is claimed, leased, held or moving: 'vfioctl-client show %d' "
                                      "says by whom. Nothing was prepared.",
                                      busy_group, busy_group);
        }
}

int bus_method_prepare(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(policy_decision_done) PolicyDecision decision = {};
        _cleanup_free_ const Group **groups = NULL;
        Manager *m = userdata;
        const char *id;
        size_t n = 0;
        uid_t uid;
        pid_t pid;
        int busy = -1, r;

        if ((r = sd_bus_message_read(msg, "s", &id)) < 0)
                return r;
        if (!claim_id_is_valid(id))
                return claim_id_error(id, error);
        if ((r = read_groups(m, msg, &groups, &n, error)) < 0 || (r = bus_read_no_options(msg, "Prepare", error)) < 0)
                return r;
        r = bus_sender_creds(msg, &uid, &pid);
        if (r >= 0)
                r = policy_prepare(uid, id, groups, n, m->profiles, &decision);
        if (r >= 0)
                r = authorize(m->authorizer, msg, &decision, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* polkit is asked: this runs again when it answers */
        r = manager_prepare(m, id, groups, n, uid, pid, on_prepared, sd_bus_message_ref(msg), &busy);
        if (r == PREPARE_MOVING || r == PREPARE_DONE)
                return 1; /* on_prepared answers, and drops the reference */
        sd_bus_message_unref(msg);
        return r < 0 ? r : prepare_refused(r, id, busy, error);
}

static int being_prepared_error(const char *id, sd_bus_error *error)
{
        return bus_error_setf(error, VFIOD_ERROR_GROUP_BUSY,
                              "Claim %s is being prepared right now: ask again when that is done.", id);
}

static void on_unprepared(const char *claim_id, int error, void *userdata)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = userdata;

        if (error < 0)
                (void)bus_reply_errorf(msg, VFIOD_ERROR_GROUP_BUSY,
                                       "Claim %s is unprepared, but not every group of it could go back "
                                       "now: 'vfioctl-client leases' and 'show' say which, and why.",
                                       claim_id);
        else
                (void)sd_bus_reply_method_return(msg, "");
}

/* The groups a claim has now, for polkit to be told what goes back. */
static int prepared_groups(Manager *m, const char *id, const Group ***ret, size_t *n)
{
        _cleanup_free_ int *ids = NULL;
        const Group **groups;
        size_t count = 0;
        int r = manager_prepared_groups(m, id, &ids, n);

        if (r < 0)
                return r;
        groups = calloc(*n + 1, sizeof(*groups));
        if (!groups)
                return -ENOMEM;
        for (size_t i = 0; i < *n; i++) {
                const Group *g = device_model_find_group(m->model, ids[i]);
                if (g)
                        groups[count++] = g;
        }
        *ret = groups;
        *n = count;
        return 0;
}

int bus_method_unprepare(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(policy_decision_done) PolicyDecision decision = {};
        _cleanup_free_ const Group **groups = NULL;
        Manager *m = userdata;
        const char *id;
        size_t n = 0;
        uid_t uid;
        int r;

        if ((r = sd_bus_message_read(msg, "s", &id)) < 0 || (r = bus_read_no_options(msg, "Unprepare", error)) < 0)
                return r;
        if (!claim_id_is_valid(id))
                return claim_id_error(id, error);
        /* Not worth a password: it would be refused after it. */
        if (manager_preparing(m, id))
                return being_prepared_error(id, error);
        r = bus_sender_euid(msg, &uid);
        if (r >= 0)
                r = prepared_groups(m, id, &groups, &n);
        if (r >= 0)
                r = policy_unprepare(uid, id, groups, n, &decision);
        if (r >= 0)
                r = authorize(m->authorizer, msg, &decision, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = manager_unprepare(m, id, on_unprepared, sd_bus_message_ref(msg));
        if (r > 0)
                return 1; /* on_unprepared answers */
        sd_bus_message_unref(msg);
        if (r == -EBUSY)
                return being_prepared_error(id, error);
        return r < 0 ? r : sd_bus_reply_method_return(msg, ""); /* nothing prepared: done already */
}

int bus_method_list_prepared(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        char **ids = NULL;
        size_t n = 0;
        int r = manager_prepared_ids(m, &ids, &n);

        if (r >= 0)
                r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ssau)");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_free_ char *cdi_device = NULL;
                _cleanup_free_ int *groups = NULL;
                size_t n_groups;
                r = manager_prepared_groups(m, ids[i], &groups, &n_groups);
                if (r >= 0)
                        r = cdi_device_name(ids[i], &cdi_device);
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'r', "ssau");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "ss", ids[i], cdi_device);
                if (r >= 0)
                        r = sd_bus_message_append_array(reply, 'u', groups, n_groups * sizeof(*groups));
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        strv_free(ids);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}
