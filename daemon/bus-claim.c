/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "authorization.h"
#include "bus-claim.h"
#include "bus-device.h"
#include "bus-group.h"
#include "bus-lease.h"
#include "bus-manager.h"
#include "bus-names.h"
#include "bus-sender.h"
#include "bus-util.h"
#include "log.h"
#include "macro.h"
#include "manager-held.h"
#include "manager-leases.h"
#include "manager-reservations.h"
#include "manager.h"
#include "number.h"
#include "quote.h"
#include "vfio-cdev.h"

/* Claim and release of whole IOMMU groups on the bus: the checks at the
 * edge, polkit, then the engine, whose answer comes back asynchronously
 * and turns into a lease. */

typedef struct ClaimOptions {
        bool force;
        LeaseMode mode;
        LeaseLifetime lifetime;
} ClaimOptions;

/* One claim on its way through the engine. */
typedef struct ClaimRequest {
        Manager *manager;
        sd_bus_message *msg;
        LeaseInfo lease;
        sd_bus_track *holder; /* a connection lease's holder, followed from the start */
} ClaimRequest;

static void claim_request_freep(ClaimRequest **p)
{
        ClaimRequest *req = *p;

        if (!req)
                return;
        sd_bus_message_unref(req->msg);
        sd_bus_track_unref(req->holder);
        free(req);
}

enum { OPTION_MODE, OPTION_LIFETIME, OPTION_FORCE };
static const char *const claim_options[] = { [OPTION_MODE] = "mode", [OPTION_LIFETIME] = "lifetime",
                                             [OPTION_FORCE] = "force", NULL };

static int read_option(sd_bus_message *msg, size_t key, void *userdata, sd_bus_error *error)
{
        ClaimOptions *o = userdata;
        const char *s;
        int force;

        switch (key) {
        case OPTION_FORCE:
                if (sd_bus_message_read(msg, "v", "b", &force) < 0)
                        return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Option 'force' takes a boolean.");
                o->force = force;
                return 0;
        case OPTION_MODE:
                if (sd_bus_message_read(msg, "v", "s", &s) < 0 || lease_mode_from_string(s, &o->mode) < 0)
                        return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                                "Option 'mode' is one of 'fd', 'cdev', 'chown' and 'none'.");
                return 0;
        case OPTION_LIFETIME:
        default: /* bus_read_options() passes known keys alone */
                /* claim-id leases are Prepare's (bus-prepare.c). */
                if (sd_bus_message_read(msg, "v", "s", &s) < 0 || lease_lifetime_from_string(s, &o->lifetime) < 0 ||
                    o->lifetime == LEASE_LIFETIME_CLAIM_ID)
                        return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                                "Option 'lifetime' is one of 'connection', 'guard-fd' and "
                                                "'persistent'.");
                return 0;
        }
}

static int read_claim_options(sd_bus_message *msg, ClaimOptions *ret, sd_bus_error *error)
{
        *ret = (ClaimOptions){ .mode = LEASE_MODE_NONE, .lifetime = LEASE_LIFETIME_CONNECTION };
        return bus_read_options(msg, claim_options, read_option, ret, error);
}

const char *bus_failure_error_name(TransactionFailure f)
{
        switch (f) {
        case FAILURE_PLATFORM:
                return VFIOD_ERROR_PLATFORM_DEVICE;
        case FAILURE_HOST_CRITICAL:
                return VFIOD_ERROR_HOST_CRITICAL;
        case FAILURE_DEVICE_BUSY:
                return VFIOD_ERROR_DEVICE_BUSY;
        case FAILURE_TIMEOUT:
                return VFIOD_ERROR_TIMEOUT;
        case FAILURE_GROUP_BUSY:
                return VFIOD_ERROR_GROUP_BUSY;
        default:
                return VFIOD_ERROR_BIND_FAILED;
        }
}

static bool engine_failed(const EngineResult *result, sd_bus_message *msg)
{
        if (!engine_result_failed(result))
                return false;
        if (msg)
                (void)bus_reply_errorf(msg, bus_failure_error_name(result->failure), "%s",
                                       result->message ?: "The transaction failed.");
        return true;
}

#define HOLDER_TEXT_SIZE (sizeof("PID 2147483647 ()") + PROC_COMM_SIZE)

/* Who holds a group open after its lease: "PID 12 (qemu)" for the first
 * one named, or "a process". */
static const char *describe_holder(const VfioHolder *holders, size_t n, char buf[static HOLDER_TEXT_SIZE])
{
        if (n == 0)
                return "a process";
        snprintf(buf, HOLDER_TEXT_SIZE, "PID %d (%s)", (int)holders[0].pid, holders[0].comm);
        return buf;
}

/* A release's answer, for the call in userdata. */
void bus_reply_release(const ReleaseOutcome *o, void *userdata)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = userdata;
        char holder[HOLDER_TEXT_SIZE];

        if (o->result && engine_failed(o->result, msg))
                return;
        if (o->held)
                (void)bus_reply_errorf(
                        msg, VFIOD_ERROR_GROUP_BUSY,
                        "The lease of IOMMU group %d has ended, but %s still holds /dev/vfio/%d open: its devices go "
                        "back to their drivers (or stay, if it is reserved by then) once that is closed "
                        "('vfioctl-client show %d' names who holds it).",
                        o->group, describe_holder(o->holders, o->n_holders, holder), o->group, o->group);
        else if (o->moving || o->error < 0)
                (void)bus_reply_errorf(
                        msg, VFIOD_ERROR_GROUP_BUSY,
                        "The lease ended, but IOMMU group %d cannot be released now: %s.", o->group,
                        o->moving ? "it is moving" : strerror(-o->error));
        else
                (void)sd_bus_reply_method_return(msg, "");
}

/* What the holder gets: the fds of fd or cdev mode and the guard fd. */
static int append_handles(sd_bus_message *reply, const LeaseHandles *h)
{
        char key[sizeof(CDEV_HANDLE_PREFIX) + PCI_ADDRESS_STRING_MAX];
        int r = sd_bus_message_open_container(reply, 'a', "{sh}");

        if (r >= 0 && h->group_fd >= 0)
                r = sd_bus_message_append(reply, "{sh}{sh}", "group", h->group_fd, "container", h->container_fd);
        if (r >= 0 && h->iommufd >= 0)
                r = sd_bus_message_append(reply, "{sh}", "iommufd", h->iommufd);
        for (size_t i = 0; r >= 0 && i < h->n_devices; i++) {
                snprintf(key, sizeof(key), CDEV_HANDLE_PREFIX "%s", h->devices[i].address);
                r = sd_bus_message_append(reply, "{sh}", key, h->devices[i].fd);
        }
        if (r >= 0 && h->guard_fd >= 0)
                r = sd_bus_message_append(reply, "{sh}", "guard", h->guard_fd);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int send_grant(sd_bus_message *msg, const Lease *l, const LeaseHandles *h)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *lease_path = NULL, *group_path = NULL;
        int r;

        r = bus_lease_path(l, &lease_path);
        if (r >= 0)
                r = bus_group_path(l->info.group, &group_path);
        if (r >= 0)
                r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "oo", lease_path, group_path);
        if (r >= 0)
                r = append_handles(reply, h);
        /* The message holds copies of the fds; the caller closes its own. */
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

/* A grant that failed: the lease has ended, and the group goes back. */
static int handover_error(const LeaseInfo *info, int r, sd_bus_error *error)
{
        /* A reserved group's owner opened it since vfiod looked. */
        if (r == -EBUSY)
                return bus_error_setf(error, VFIOD_ERROR_GROUP_BUSY,
                                      "Cannot hand IOMMU group %d over: a process opened it meanwhile (its "
                                      "owner's VM, if it is reserved); released.",
                                      info->group);
        /* The unit's device policy knows /dev/vfio only if the vfio
         * module was loaded when vfiod started. */
        if (r == -EPERM && info->mode == LEASE_MODE_CDEV)
                return bus_error_setf(error, SD_BUS_ERROR_FAILED,
                                      "Cannot hand IOMMU group %d over: vfiod may not open its devices' cdevs "
                                      "or /dev/iommu, or set the iommufd's accounting, which happens when the "
                                      "vfio module was loaded after vfiod started ('systemctl restart vfiod' "
                                      "lets it), or when vfiod.service lacks DeviceAllow= char-vfio-dev and "
                                      "/dev/iommu, or CAP_SYS_RESOURCE; released.",
                                      info->group);
        if (r == -EPERM)
                return bus_error_setf(error, SD_BUS_ERROR_FAILED,
                                      "Cannot hand IOMMU group %d over: vfiod may not open /dev/vfio/%d, which "
                                      "happens when the vfio module was loaded after vfiod started: "
                                      "'systemctl restart vfiod' lets it; released.",
                                      info->group, info->group);
        if (r == -ENOENT && info->mode == LEASE_MODE_CDEV)
                return bus_error_setf(error, VFIOD_ERROR_NOT_SUPPORTED,
                                      "Cannot hand IOMMU group %d over as cdevs: this kernel gave its devices "
                                      "none, or has no /dev/iommu (CONFIG_VFIO_DEVICE_CDEV, CONFIG_IOMMUFD); "
                                      "released. Mode 'fd' (vfioctl-client claim --fd) works instead.",
                                      info->group);
        return bus_error_setf(error, SD_BUS_ERROR_FAILED, "Cannot hand IOMMU group %d over: %s; released.",
                              info->group, strerror(-r));
}

/* The caller gets the lease, with its group and handles. */
static int send_lease(Manager *m, sd_bus_message *msg, Lease *l, const LeaseHandles *h, sd_bus_error *error)
{
        int group = l->info.group, r = send_grant(msg, l, h);

        if (r < 0) {
                log_error_errno(r, "Cannot send IOMMU group %d to its holder", group);
                manager_end_lease(m, l, "handover-failed", NULL, NULL);
                return bus_error_setf(error, SD_BUS_ERROR_FAILED, "Cannot hand IOMMU group %d over: %s; released.",
                                      group, strerror(-r));
        }
        return 0;
}

static void on_granted(int r, Lease *l, LeaseHandles *handles, void *userdata)
{
        _cleanup_(claim_request_freep) ClaimRequest *req = userdata;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(lease_handles_close) LeaseHandles h = *handles;

        if (r == -ESRCH)
                r = bus_error_setf(&error, SD_BUS_ERROR_FAILED,
                                   "The lease of IOMMU group %d ended while vfiod handed the group over: its "
                                   "holder left the bus, or released it; released.",
                                   req->lease.group);
        else if (r < 0)
                r = handover_error(&req->lease, r, &error);
        else
                r = send_lease(req->manager, req->msg, l, &h, &error);
        if (r < 0)
                (void)sd_bus_reply_method_errno(req->msg, r, &error);
}

/* The claim succeeded: the lease starts, a worker hands the group over
 * (manager-handover.h), and the caller gets the lease with its group and
 * handles (on_granted(), which takes *reqp over). */
static int grant(ClaimRequest **reqp, sd_bus_error *error)
{
        ClaimRequest *req = *reqp;
        int r = manager_grant_lease(req->manager, &req->lease, req->holder, on_granted, req);

        if (r < 0)
                return handover_error(&req->lease, r, error);
        if (r != LEASE_STARTED)
                return bus_error_setf(error, SD_BUS_ERROR_FAILED,
                                      "Cannot follow the lease of IOMMU group %d: its holder is gone; released.",
                                      req->lease.group);
        *reqp = NULL; /* on_granted answered, or answers */
        return 0;
}

static void on_claim_done(const EngineResult *result, void *userdata)
{
        _cleanup_(claim_request_freep) ClaimRequest *req = userdata;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        if (engine_failed(result, req->msg))
                return;
        r = grant(&req, &error);
        if (r < 0)
                (void)sd_bus_reply_method_errno(req->msg, r, &error);
}

static const Device *first_endpoint(const Group *g)
{
        for (size_t i = 0; i < g->n_devices; i++)
                if (!device_is_bridge(g->devices[i]))
                        return g->devices[i];
        return NULL;
}

/* A group whose lease just ended, before the kernel has said whether a
 * process still holds it (it may take minutes to let go of an exiting
 * VMM's group). */
static int still_asking_error(int group, sd_bus_error *error)
{
        return bus_error_setf(error, VFIOD_ERROR_GROUP_BUSY,
                              "IOMMU group %d may still be held open: vfiod is asking the kernel whether a process "
                              "holds it. Try again in a moment.",
                              group);
}

static int group_busy_error(Manager *m, const Group *g, sd_bus_error *error)
{
        Lease *l = leases_find_group(m->leases, g->id);
        const HeldGroup *h = manager_held_group(m, g->id);
        const VfioHolder *holders;
        char holder[HOLDER_TEXT_SIZE];
        size_t n;

        if (h && !held_group_answered(h))
                return still_asking_error(g->id, error);
        if (h) {
                holders = held_group_holders(h, &n);
                return bus_error_setf(error, VFIOD_ERROR_GROUP_BUSY,
                                      "IOMMU group %d is held open by %s: it can be claimed once that is "
                                      "closed ('vfioctl-client show %d' names who holds it).",
                                      g->id, describe_holder(holders, n, holder), g->id);
        }
        if (l)
                return bus_error_setf(error, VFIOD_ERROR_GROUP_BUSY,
                                      "IOMMU group %d is leased to uid %" PRIu32 " (pid %" PRIu32
                                      ", %s lease %" PRIu64 "): it must release it first.",
                                      g->id, l->info.uid, l->info.pid,
                                      lease_lifetime_to_string(l->info.lifetime), l->info.id);
        return bus_error_setf(error, VFIOD_ERROR_GROUP_BUSY, "IOMMU group %d is %s by vfiod: release it first.",
                              g->id, bus_state_to_string(manager_group_state(m, g)));
}

/* Who asks, for the lease: uid, pid, unique name. */
static int describe_caller(sd_bus_message *msg, const ClaimOptions *o, LeaseInfo *l)
{
        uid_t uid;
        pid_t pid;
        int r = bus_sender_creds(msg, &uid, &pid);

        if (r < 0)
                return r;
        *l = (LeaseInfo){ .uid = uid, .pid = pid, .mode = o->mode, .lifetime = o->lifetime,
                          .since_usec = now_usec(CLOCK_REALTIME) };
        if (o->lifetime == LEASE_LIFETIME_CONNECTION)
                snprintf(l->holder, sizeof(l->holder), "%s", strempty(sd_bus_message_get_sender(msg)));
        return 0;
}

static int start_claim(Manager *m, sd_bus_message *msg, const Group *g, const ClaimOptions *o, sd_bus_error *error)
{
        _cleanup_(claim_request_freep) ClaimRequest *req = calloc(1, sizeof(*req));
        int r;

        if (!req)
                return -ENOMEM;
        r = describe_caller(msg, o, &req->lease);
        if (r < 0)
                return r;
        /* A connection lease follows the caller's unique name. */
        if (o->lifetime == LEASE_LIFETIME_CONNECTION && !bus_unique_name_is_valid(req->lease.holder))
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "The caller has no unique bus name.");
        req->lease.id = leases_next_id(m->leases);
        req->lease.group = g->id;
        req->manager = m;
        req->msg = sd_bus_message_ref(msg);
        r = manager_claim_for_lease(m, g, &req->lease, o->force, on_claim_done, req);
        if (r == LEASE_CLAIM_BUSY)
                return group_busy_error(m, g, error);
        if (r == -EALREADY)
                return bus_error_setf(error, VFIOD_ERROR_GROUP_BUSY,
                                      "IOMMU group %d is reserved, and another claim of it is under way: only "
                                      "one can have it. Try again when that one is done.",
                                      g->id);
        if (r == -ESTALE)
                return bus_error_setf(error, VFIOD_ERROR_GROUP_BUSY,
                                      "IOMMU group %d is reserved, and has not gone through vfio-pci since its "
                                      "last lease ended, which proves that no fd of that lease is left: it "
                                      "cannot be leased before. The journal says why; 'systemctl restart "
                                      "vfiod' tries again, 'vfioctl-client release %d' returns it to the host.",
                                      g->id, g->id);
        if (r < 0)
                return r;
        /* Following the holder costs a round trip to the bus: it is paid
         * while the devices move, or the reserved group's node is looked at. */
        if (o->lifetime == LEASE_LIFETIME_CONNECTION)
                (void)leases_follow_holder(m->leases, req->lease.holder, &req->holder);
        TAKE_PTR(req); /* on_claim_done answers and frees it */
        return 1;
}

/* cdev mode needs what only newer kernels have; said before anything
 * moves. Unknown (vfio is not loaded yet, the claim loads it) is let
 * through: the hand-over finds out then (on_granted()). */
static int check_cdev_support(sd_bus_error *error)
{
        bool no_cdev = vfio_cdev_supported() == 0, no_iommufd = iommufd_supported() == 0;

        if (!no_cdev && !no_iommufd)
                return 0;
        return bus_error_setf(error, VFIOD_ERROR_NOT_SUPPORTED,
                              "This kernel has no %s%s%s: mode 'cdev' needs Linux 6.6 or later built with "
                              "CONFIG_IOMMUFD and CONFIG_VFIO_DEVICE_CDEV. Mode 'fd' (vfioctl-client claim --fd) "
                              "hands the group over instead; 'vfioctl-client doctor' says what the kernel has.",
                              no_cdev ? "VFIO device cdevs (CONFIG_VFIO_DEVICE_CDEV)" : "",
                              no_cdev && no_iommufd ? " and " : "",
                              no_iommufd ? "iommufd (CONFIG_IOMMUFD)" : "");
}

static int claim_group(Manager *m, sd_bus_message *msg, const Group *g, const Device *asked, const ClaimOptions *o,
                       sd_bus_error *error)
{
        _cleanup_(policy_decision_done) PolicyDecision decision = {};
        uid_t caller;
        int r;

        if (!asked)
                asked = first_endpoint(g);
        if (!asked)
                return bus_error_setf(error, VFIOD_ERROR_GROUP_NOT_VIABLE,
                                      "IOMMU group %d holds only bridges: there is nothing to claim.", g->id);
        if (o->mode == LEASE_MODE_CDEV && (r = check_cdev_support(error)) < 0)
                return r;
        /* A busy group is refused before polkit asks anyone for a password. */
        if (manager_held_group(m, g->id) ||
            (engine_status(m->engine, g->id, NULL) != CLAIM_STATUS_NONE && !manager_group_reserved_and_free(m, g->id)))
                return group_busy_error(m, g, error);
        r = bus_sender_euid(msg, &caller);
        if (r >= 0)
                r = policy_claim(caller, g, o->force, o->lifetime, m->profiles, &decision);
        if (r >= 0)
                r = authorize(m->authorizer, msg, &decision, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* polkit is asked: this runs again when it answers */
        return start_claim(m, msg, g, o, error);
}

int bus_method_claim_group(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;
        ClaimOptions o;
        uint32_t id;
        Group *g;
        int r;

        if ((r = sd_bus_message_read(msg, "u", &id)) < 0 || (r = read_claim_options(msg, &o, error)) < 0)
                return r;
        g = id <= INT32_MAX ? device_model_find_group(m->model, (int)id) : NULL;
        if (!g)
                return bus_error_setf(error, VFIOD_ERROR_NO_SUCH_GROUP,
                                      "No IOMMU group %" PRIu32 ": 'vfioctl-client list' shows the groups.", id);
        return claim_group(m, msg, g, NULL, &o, error);
}

int bus_method_claim_device(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;
        const char *input;
        ClaimOptions o;
        Device *d;
        Group *g;
        int r;

        if ((r = sd_bus_message_read(msg, "s", &input)) < 0 || (r = read_claim_options(msg, &o, error)) < 0 ||
            (r = bus_lookup_device(m, input, &d, error)) < 0)
                return r;
        g = device_model_find_group(m->model, d->pci->iommu_group);
        if (!g)
                return bus_no_iommu_error(d, error);
        if (device_is_bridge(d))
                d = NULL; /* the group's endpoints move, not the bridge */
        return claim_group(m, msg, g, d, &o, error);
}

int bus_no_iommu_error(const Device *d, sd_bus_error *error)
{
        return bus_error_setf(error, VFIOD_ERROR_NO_IOMMU,
                              "%s is in no IOMMU group: VFIO needs the IOMMU on, and vfiod refuses no-IOMMU mode. "
                              "'vfioctl-client doctor' says how to turn it on.",
                              d->pci->address);
}

static int not_claimed_error(uint32_t id, sd_bus_error *error)
{
        return bus_error_setf(error, VFIOD_ERROR_NOT_CLAIMED,
                              "vfiod holds no claim of IOMMU group %" PRIu32 ": nothing to release.", id);
}

/* A group that no lease holds, which its release must not move: one that
 * a process still holds open after its lease goes back at the last close,
 * and not before (vfio-pci would not let its devices go until then, and
 * the unbind would hang); one that a reservation holds, at rest, goes back
 * when the reservation goes (released, it would be reserved again at the
 * next reload, hotplug or boot). One whose move failed may be released:
 * that is how it goes back, as its failure says. */
static int refuse_unleased_release(Manager *m, uint32_t id, sd_bus_error *error)
{
        const HeldGroup *h = manager_held_group(m, (int)id);
        const Group *g = device_model_find_group(m->model, (int)id);
        const ReservationEntry *e;
        char holder[HOLDER_TEXT_SIZE], match[RESERVATION_MATCH_STRING_MAX];
        const VfioHolder *holders;
        size_t n;

        if (h && !held_group_answered(h))
                return still_asking_error((int)id, error);
        if (h) {
                holders = held_group_holders(h, &n);
                return bus_error_setf(error, VFIOD_ERROR_GROUP_BUSY,
                                      "IOMMU group %" PRIu32 " is held open by %s: vfiod settles it once that is "
                                      "closed ('vfioctl-client show %" PRIu32 "' names who holds it).",
                                      id, describe_holder(holders, n, holder), id);
        }
        if (!g || engine_status(m->engine, g->id, NULL) != CLAIM_STATUS_CLAIMED ||
            !(e = manager_group_reservation(m, g)))
                return 0;
        return bus_error_setf(error, VFIOD_ERROR_ALREADY_RESERVED,
                              "IOMMU group %" PRIu32 " is reserved (%s, in %s:%u): 'vfioctl-client unreserve %s' "
                              "gives it back to the host.",
                              id, reservation_match_format(&e->reservation.match, match), e->file, e->line, match);
}

/* A group vfiod holds without a lease (its release failed, or it was
 * claimed before leases existed) is for root or release-any. */
static int release_unleased(Manager *m, sd_bus_message *msg, uint32_t id, sd_bus_error *error)
{
        _cleanup_(policy_decision_done) PolicyDecision decision = {};
        uid_t caller;
        int r;

        r = refuse_unleased_release(m, id, error);
        if (r < 0)
                return r;
        r = bus_sender_euid(msg, &caller);
        if (r >= 0)
                r = policy_release(caller, (int)id, NULL, &decision);
        if (r >= 0)
                r = authorize(m->authorizer, msg, &decision, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = manager_release_group(m, (int)id, bus_reply_release, sd_bus_message_ref(msg));
        if (r != 0)
                sd_bus_message_unref(msg);
        if (r == ENGINE_MOVING)
                return bus_error_setf(error, VFIOD_ERROR_GROUP_BUSY,
                                      "IOMMU group %" PRIu32 " is moving right now: try again when it is done.",
                                      id);
        if (r == ENGINE_NOT_CLAIMED)
                return not_claimed_error(id, error);
        return r < 0 ? r : 1;
}

int bus_method_release_group(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;
        uint32_t id;
        Lease *l;
        int r;

        if ((r = sd_bus_message_read(msg, "u", &id)) < 0 ||
            (r = bus_read_no_options(msg, "ReleaseGroup", error)) < 0)
                return r;
        if (id > INT32_MAX || engine_status(m->engine, (int)id, NULL) == CLAIM_STATUS_NONE)
                return not_claimed_error(id, error);
        l = leases_find_group(m->leases, (int)id);
        if (l)
                return bus_release_lease(m, msg, l, error);
        return release_unleased(m, msg, id, error);
}
