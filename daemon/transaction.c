/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "device-use.h"
#include "early-mark.h"
#include "fault-injection.h"
#include "handoff.h"
#include "handover.h"
#include "log.h"
#include "macro.h"
#include "number.h"
#include "quote.h"
#include "sysfs-pci.h"
#include "sysfs-platform.h"
#include "reset-method.h"
#include "transaction.h"
#include "vfio-holders.h"

/* One execution, in the worker: the transaction and where it went wrong. */
typedef struct Run {
        Transaction *t;
        bool journaling;  /* the record exists: save it before every step */
        int journal_fd;   /* the record saved whole last, where steps are appended */
        bool saved;       /* the record has been saved whole in this run: it names its phase */
        bool restoring;   /* devices go back: steps to be taken whatever the record says */
        bool claiming;    /* a claim's own steps run, not its undo */
        char detail[160]; /* a step's own words for its failure */
        char failed_step[CLAIM_RECORD_STEP_MAX];
        char failed_detail[160]; /* the failed step's detail, kept past the undo's steps */
        int error;
        char undo_step[CLAIM_RECORD_STEP_MAX];
        int undo_error;
        char *use; /* who uses the group, when the check refused it */
        HandoffPlan plan; /* what the drivers' hand-off profiles ask for */
        DiskHolds disk_holds; /* from the last check until the unbinds: nothing claims the disks */
        bool recheck;     /* busy before the plan's units stop: check again after */
        const char *item; /* the unit or module an item step is about */
        bool item_wait;   /* an unload that the next one depends on */
} Run;

/* A step: one write (or one wait) on one device, or on the whole group. */
typedef int (*StepFn)(Run *run, ClaimedDevice *d);

static const char *const kind_names[_TRANSACTION_KIND_MAX] = {
        [TRANSACTION_CLAIM] = "claim",
        [TRANSACTION_RELEASE] = "release",
        [TRANSACTION_RESTORE] = "restore",
        [TRANSACTION_REFRESH] = "refresh",
        [TRANSACTION_UNHOLD] = "unhold",
};

const char *transaction_kind_to_string(TransactionKind k)
{
        return k < _TRANSACTION_KIND_MAX ? kind_names[k] : NULL;
}

/* ---- running steps ---- */

/* The step's failure, in words, when the record could not be written. */
static int record_write_error(Run *run, int r)
{
        snprintf(run->detail, sizeof(run->detail), "cannot write the claim record: %s", strerror(-r));
        return r;
}

/* The whole record; the steps that follow are appended to it. */
static int save_record(Run *run)
{
        int r;

        closep(&run->journal_fd);
        run->journal_fd = -1;
        r = claim_record_save(run->t->claims_dir_fd, run->t->record, &run->journal_fd);
        if (r < 0)
                return record_write_error(run, r);
        run->saved = true;
        return 0;
}

/* Notes the step about to run in the record. What a restart does follows
 * from the phase and what the record lists, not from this line, which is
 * for people: once the phase is on disk, devices going back go on without
 * it (a full /run must not keep them on vfio-pci); a claim stops. */
static int journal_step(Run *run)
{
        ClaimRecord *rec = run->t->record;
        int r = run->journal_fd >= 0 ? claim_record_append_step(run->journal_fd, rec) : save_record(run);

        if (r >= 0)
                return 0;
        /* An append cut short leaves half a line: write the whole record
         * next time, never after it. */
        closep(&run->journal_fd);
        run->journal_fd = -1;
        if (run->restoring && run->saved) {
                log_warning("Group %d: cannot note step '%s' in the claim record (%s); going on.", rec->group,
                            rec->step, strerror(-r));
                run->detail[0] = '\0'; /* not the step's failure, should it fail */
                return 0;
        }
        return record_write_error(run, r);
}

/* Tells the engine that step starts; false when the claim was abandoned
 * (its caller was told that it is undone): then no step of it may run, the
 * undo's only. Looked at after the engine knows of the step: the engine
 * abandons a claim only when it finds its step late, under the same lock
 * as on_step's, so one of the two sees the other. */
static bool step_may_start(Run *run, const char *step)
{
        Transaction *t = run->t;

        if (t->on_step)
                t->on_step(t, step);
        return !run->claiming || !atomic_load(&t->abandoned);
}

/* label: what the step is about, for the record and for people. */
static int run_labelled_step(Run *run, const char *name, const char *label, ClaimedDevice *d, StepFn fn)
{
        Transaction *t = run->t;
        ClaimRecord *rec = t->record;
        char step[sizeof(rec->step)];
        int r;

        snprintf(step, sizeof(step), "%s%s%s", name, label ? " " : "", strempty(label));
        if (!step_may_start(run, step))
                return -ETIMEDOUT; /* the record still names the step that was late */
        memcpy(rec->step, step, sizeof(step));
        run->detail[0] = '\0';
        if (run->journaling && (r = journal_step(run)) < 0)
                return r;
        log_debug("Group %d: step '%s'.", rec->group, rec->step);
        r = fault_inject(transaction_kind_to_string(t->kind), name, d ? d->address : NULL);
        if (r >= 0)
                r = fn(run, d);
        if (r < 0)
                log_debug("Group %d: step '%s' failed: %s", rec->group, rec->step, strerror(-r));
        return r;
}

static int run_step(Run *run, const char *name, ClaimedDevice *d, StepFn fn)
{
        return run_labelled_step(run, name, d ? d->address : NULL, d, fn);
}

/* A step about one unit or module ("stop-unit gdm.service"): each is a
 * step of its own, with the step timeout of its own. */
static int run_item_step(Run *run, const char *name, const char *item, StepFn fn)
{
        run->item = item;
        return run_labelled_step(run, name, item, NULL, fn);
}

/* Runs op on the device unless it is on driver already: each step is a
 * no-op when repeated, which is what makes recovery a plain re-run. */
static int unless_on(const ClaimedDevice *d, const char *driver, int (*op)(const char *address))
{
        int r = sysfs_pci_driver_is(d->address, driver, NULL);
        return r != 0 ? (r < 0 ? r : 0) : op(d->address);
}

static int only_on(const ClaimedDevice *d, const char *driver, int (*op)(const char *address))
{
        int r = sysfs_pci_driver_is(d->address, driver, NULL);
        return r <= 0 ? r : op(d->address);
}

static void describe_wrong_driver(Run *run, const ClaimedDevice *d, const char *want)
{
        _cleanup_free_ char *current = NULL;

        if (sysfs_pci_driver_is(d->address, want, &current) == 0)
                snprintf(run->detail, sizeof(run->detail), "%s is on %s, not on %s", d->address,
                         current ? current : "no driver", want ? want : "no driver");
}

/* ---- claim steps ---- */

static int step_check_use(Run *run, ClaimedDevice *unused)
{
        Transaction *t = run->t;
        _cleanup_free_ char **addresses = calloc(t->record->n_devices, sizeof(char *));
        DeviceUse use;
        char *reason;
        int r;

        if (!addresses)
                return -ENOMEM;
        for (size_t i = 0; i < t->record->n_devices; i++)
                addresses[i] = t->record->devices[i].address;
        disk_holds_release(&run->disk_holds); /* a check again: its own answer counts */
        r = device_use_check(addresses, run->plan.node_patterns, t->record->n_devices,
                             t->force ? DEVICE_USE_SCOPE_PLATFORM : DEVICE_USE_SCOPE_ALL, &run->disk_holds, &use,
                             &reason);
        if (r < 0 || use == DEVICE_USE_NONE)
                return r;
        /* The users may be what the profile stops (a display manager): the
         * check runs again once they are stopped, and decides then. */
        if (use == DEVICE_USE_BUSY && (run->plan.n_units > 0 || run->plan.ask_holders) && !run->recheck) {
                log_info("Group %d is in use (%s); checking again once its profile's units are stopped and its "
                         "holders asked to close.",
                         t->record->group, reason);
                free(reason);
                run->recheck = true;
                return 0;
        }
        t->failure = use == DEVICE_USE_PLATFORM       ? FAILURE_PLATFORM
                     : use == DEVICE_USE_HOST_CRITICAL ? FAILURE_HOST_CRITICAL
                                                       : FAILURE_DEVICE_BUSY;
        run->use = reason;
        return -EBUSY;
}

/* For a reservation: a device that vfiod-early put on vfio-pci (or meant
 * to) before any host driver had it belongs to whichever driver the kernel
 * finds for it once the reservation goes. One that someone else put there
 * goes back to vfio-pci. */
static void note_host_choice(ClaimedDevice *d)
{
        if (!d->driver_override || !streq(d->driver_override, VFIO_PCI_DRIVER) ||
            (d->driver && !streq(d->driver, VFIO_PCI_DRIVER)) || !early_mark_present(d->address))
                return;
        free(d->driver);
        free(d->driver_override);
        d->driver = d->driver_override = NULL;
        d->host_choice = true;
}

/* What d has now, as its original; for a reservation, whether that is
 * vfiod-early's hold. */
static int record_original(Run *run, ClaimedDevice *d, bool reserved)
{
        _cleanup_free_ char *driver = NULL, *override = NULL;
        int r;

        if ((r = sysfs_pci_read_driver(d->address, &driver)) < 0 ||
            (r = sysfs_pci_read_override(d->address, &override)) < 0)
                return r;
        r = claimed_device_set_original(d, TAKE_PTR(driver), TAKE_PTR(override));
        if (r < 0) {
                char quoted_driver[QUOTE_BUFFER_SIZE], quoted_override[QUOTE_BUFFER_SIZE];
                /* Only root writes driver_override (and only the kernel
                 * names drivers): not the caller's text, but it may be
                 * anything. */
                snprintf(run->detail, sizeof(run->detail),
                         "%s: driver '%.20s', driver_override '%.40s': not drivers' names; clear the override",
                         d->address, quote_input(d->driver ?: "none", quoted_driver),
                         quote_input(d->driver_override ?: "none", quoted_override));
                return r;
        }
        if (reserved)
                note_host_choice(d);
        return 0;
}

/* A record already there is one vfiod could not read at start (it took up
 * every other): still the only word on where that group's devices belong,
 * so never written over. */
static int refuse_unreadable_record(Run *run)
{
        int r = claim_record_exists(run->t->claims_dir_fd, run->t->record->group);

        if (r == 0)
                return 0;
        snprintf(run->detail, sizeof(run->detail),
                 "a claim record vfiod cannot read is in the way: remove claims/group-%d in its state directory "
                 "once the devices are back",
                 run->t->record->group);
        return r < 0 ? r : -EEXIST;
}

/* Records what each endpoint has now, before the first write. */
static int step_record(Run *run, ClaimedDevice *unused)
{
        ClaimRecord *rec = run->t->record;
        int r;

        for (size_t i = 0; i < rec->n_devices; i++)
                if ((r = record_original(run, &rec->devices[i], rec->reserved)) < 0)
                        return r;
        r = refuse_unreadable_record(run);
        if (r < 0)
                return r;
        rec->phase = CLAIM_PHASE_CLAIMING;
        r = save_record(run);
        run->journaling = r >= 0;
        return r;
}

/* A firmware framebuffer (efifb, simplefb, simpledrm) on a GPU of the group
 * holds a range of its BAR, which vfio-pci could not reserve for the guest:
 * it lets go before the GPU moves. (The check refuses such a GPU: only a
 * forced claim gets here with one.) Recorded first, so that the release, or
 * a restart after a crash, binds it again. */
static int step_free_firmware_fb(Run *run, ClaimedDevice *unused)
{
        ClaimRecord *rec = run->t->record;
        FirmwareFb fb;
        int r;

        if (firmware_fb_find(&fb) <= 0 || !claim_record_find_device(rec, fb.gpu))
                return 0;
        r = claim_record_set_firmware_fb(rec, fb.device, fb.driver);
        if (r >= 0)
                r = save_record(run);
        if (r < 0)
                return r;
        r = sysfs_platform_unbind(fb.device, fb.driver);
        if (r < 0)
                snprintf(run->detail, sizeof(run->detail), "cannot unbind the firmware framebuffer %.40s from its driver",
                         fb.device);
        else
                log_info("Unbound the firmware framebuffer %s from %s: %s's BAR is free.", fb.device, fb.driver,
                         fb.gpu);
        return r;
}

static int save_record_cb(void *userdata)
{
        return save_record(userdata);
}

static int step_stop_unit(Run *run, ClaimedDevice *unused)
{
        int r = handoff_stop_unit(run->t->record, run->item, save_record_cb, run, run->t->wait_timeout_usec);
        if (r < 0 && !run->detail[0]) /* a failed save has said why */
                snprintf(run->detail, sizeof(run->detail), "%.50s would not stop: 'systemctl status %.50s' says why",
                         run->item, run->item);
        return r;
}

/* The time holders get to close the nodes once asked. */
#define ASK_HOLDERS_TIMEOUT_USEC (UINT64_C(5) * 1000000)

static int step_ask_holders(Run *run, ClaimedDevice *unused)
{
        return handoff_ask_holders(&run->plan, run->t->record, ASK_HOLDERS_TIMEOUT_USEC);
}

static int step_keep_out_of_d3cold(Run *run, ClaimedDevice *unused)
{
        return handoff_keep_out_of_d3cold(&run->plan, run->t->record, save_record_cb, run);
}

static int step_unload_module(Run *run, ClaimedDevice *unused)
{
        return handoff_unload_module(run->t->record, run->item, run->item_wait, save_record_cb, run,
                                     run->t->wait_timeout_usec);
}

static int step_load_driver(Run *run, ClaimedDevice *unused)
{
        int r = sysfs_pci_load_driver(VFIO_PCI_DRIVER);

        /* Under its unit vfiod may not load modules: the unit has
         * modprobe@vfio_pci.service load it before each start. */
        if (r == -ENOPKG)
                snprintf(run->detail, sizeof(run->detail),
                         "vfio-pci is not loaded and vfiod could not load it: 'modprobe vfio-pci' as root says why; "
                         "once it loads, 'systemctl restart vfiod'");
        return r;
}

static int step_override_vfio(Run *run, ClaimedDevice *d)
{
        return sysfs_pci_write_override(d->address, VFIO_PCI_DRIVER);
}

static int step_unbind_unless_vfio(Run *run, ClaimedDevice *d)
{
        return unless_on(d, VFIO_PCI_DRIVER, sysfs_pci_unbind);
}

static int step_probe_unless_vfio(Run *run, ClaimedDevice *d)
{
        return unless_on(d, VFIO_PCI_DRIVER, sysfs_pci_probe);
}

static int step_unbind_vfio(Run *run, ClaimedDevice *d)
{
        return only_on(d, VFIO_PCI_DRIVER, sysfs_pci_unbind);
}

static int step_verify_vfio(Run *run, ClaimedDevice *d)
{
        int r = sysfs_pci_wait_for_driver(d->address, VFIO_PCI_DRIVER, run->t->wait_timeout_usec);

        if (r == -ETIMEDOUT)
                describe_wrong_driver(run, d, VFIO_PCI_DRIVER);
        return r;
}

/* A step that waits twice waits no longer in all than its timeout: the
 * engine's deadline for the step counts on that. What is left until
 * deadline, 0 once it has passed (a wait then looks once). */
static uint64_t step_deadline_of(const Run *run)
{
        return now_usec(CLOCK_MONOTONIC) + run->t->wait_timeout_usec;
}

static uint64_t time_left(uint64_t deadline)
{
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        return deadline > now ? deadline - now : 0;
}

static int step_wait_for_node(Run *run, ClaimedDevice *unused)
{
        char node[VFIO_NODE_PATH_MAX], sysname[16];
        uint64_t deadline = step_deadline_of(run);
        int r;

        vfio_group_node_path(run->t->record->group, node);
        snprintf(sysname, sizeof(sysname), "%d", run->t->record->group);
        r = wait_for_path(node, time_left(deadline));
        /* Only a node about to change owner must wait for udev, which
         * would set owner and mode back otherwise. */
        if (r < 0 || !run->t->settle_node)
                return r;
        return wait_for_udev("vfio", sysname, time_left(deadline));
}

static int step_commit(Run *run, ClaimedDevice *unused)
{
        ClaimRecord *rec = run->t->record;
        ClaimPhase phase = rec->phase;
        char step[sizeof(rec->step)];
        int r;

        memcpy(step, rec->step, sizeof(step));
        rec->phase = CLAIM_PHASE_CLAIMED;
        rec->step[0] = '\0';
        r = save_record(run);
        if (r < 0) {
                /* The phase it had (claiming, or refreshing), as on disk
                 * unless only the directory's sync failed: the undo, or a
                 * restart, goes on from there. */
                rec->phase = phase;
                memcpy(rec->step, step, sizeof(step));
        }
        return r;
}

/* ---- release steps: back to the recorded driver ---- */

/* A profile's ResetMethod= goes to reset_method for the reset, and the
 * kernel's list there goes into the record first: a crash before
 * step_restore_reset_methods() must not leave the device with one method
 * for good. The list is recorded once: after a crash, reset_method holds
 * the narrowed one. */
static int narrow_reset_methods(Run *run, ClaimedDevice *d, const char *method)
{
        _cleanup_free_ char *methods = NULL;
        int r;

        if (!d->reset_methods[0]) {
                r = sysfs_pci_read_reset_methods(d->address, &methods);
                if (r < 0)
                        return r;
                r = claimed_device_set_reset_methods(d, methods);
                if (r < 0)
                        return r;
                r = save_record(run);
                if (r < 0) {
                        (void)claimed_device_set_reset_methods(d, "");
                        return r;
                }
        }
        return sysfs_pci_write_reset_methods(d->address, method); /* EINVAL: the function does not support it */
}

/* A reset before the host driver gets the device back, as libvirt does: a
 * guest leaves it in any state, and a host driver expects one fresh from a
 * reset. Only while vfio-pci has it, so nothing else uses it, and never
 * fatal: the host driver may still cope, and the device must go back. */
static int step_reset(Run *run, ClaimedDevice *d)
{
        const char *method = run->t->reset_method ? run->t->reset_method(d->driver, run->t->userdata) : NULL;
        const char *to = d->host_choice ? "the host" : d->driver ?: "no driver";
        int r = sysfs_pci_driver_is(d->address, VFIO_PCI_DRIVER, NULL);

        if (r <= 0 || streq_ptr(d->driver, VFIO_PCI_DRIVER) || streq_ptr(method, RESET_NEVER))
                return 0; /* not ours to reset (or unreadable), it stays on vfio-pci, or told not to */
        r = method ? narrow_reset_methods(run, d, method) : 0;
        if (r >= 0)
                r = sysfs_pci_reset(d->address);
        if (r == -ENOTTY)
                log_notice("%s has no reset method: it goes back to %s as the guest left it.", d->address, to);
        else if (r < 0)
                log_warning("Resetting %s%s%s before returning it to %s failed (%s); it goes back as it is.",
                            d->address, method ? " by " : "", strempty(method), to, strerror(-r));
        else
                log_info("Reset %s%s%s before returning it to %s.", d->address, method ? " by " : "",
                         strempty(method), to);
        return 0;
}

/* What narrow_reset_methods() recorded goes back, whether or not the
 * reset ran, and then out of the record (a restart would write it again,
 * over a list changed since); never fatal, as the reset is not. */
static int step_restore_reset_methods(Run *run, ClaimedDevice *d)
{
        int r = sysfs_pci_write_reset_methods(d->address, d->reset_methods);

        if (r < 0) { /* kept: a later try must not take the narrowed list for the kernel's */
                log_warning("Cannot write back the reset methods of %s ('%s'): %s. 'echo default > "
                            "/sys/bus/pci/devices/%s/reset_method' gives it the kernel's own.",
                            d->address, d->reset_methods, strerror(-r), d->address);
                return 0;
        }
        (void)claimed_device_set_reset_methods(d, "");
        (void)save_record(run);
        return 0;
}

static int step_restore_override(Run *run, ClaimedDevice *d)
{
        _cleanup_free_ char *current = NULL;
        int r = sysfs_pci_read_override(d->address, &current);

        if (r < 0)
                return r;
        if (!streq_ptr(current, d->driver_override) &&
            (r = sysfs_pci_write_override(d->address, d->driver_override)) < 0)
                return r;
        /* vfiod-early's hold ends with its override: a mark left behind
         * would make an override of someone else's (driverctl) later in
         * this boot look like vfiod-early's, and a reservation's end would
         * then hand that device to the host. */
        if (d->host_choice && (r = early_mark_clear(d->address)) < 0)
                log_warning("Cannot remove the mark of %s in " EARLY_MARK_DIR " (%s): should it be put on vfio-pci "
                            "by hand in this boot, vfiod takes it for a hold of vfiod-early's.",
                            d->address, strerror(-r));
        return 0;
}

static int step_unbind_unless_original(Run *run, ClaimedDevice *d)
{
        return unless_on(d, d->driver, sysfs_pci_unbind);
}

/* The host's choice: the bus's probe, and when no loaded driver takes it,
 * a uevent, on which udev loads the module for the device's modalias (vfiod
 * itself may not load modules). */
static int probe_host_choice(Run *run, ClaimedDevice *d)
{
        int r = sysfs_pci_driver_is(d->address, NULL, NULL);

        if (r > 0) /* no driver yet */
                r = sysfs_pci_probe(d->address);
        if (r < 0 || sysfs_pci_driver_is(d->address, NULL, NULL) <= 0)
                return r;
        return sysfs_pci_trigger_add(d->address, run->t->wait_timeout_usec);
}

static int step_probe_unless_original(Run *run, ClaimedDevice *d)
{
        if (d->host_choice)
                return probe_host_choice(run, d);
        if (!d->driver)
                return 0; /* it had none: a probe could bind one it never had */
        return unless_on(d, d->driver, sysfs_pci_probe);
}

/* Waits for the original driver, which may probe asynchronously (nvme). A
 * driver that had the device by an explicit bind is not found by a probe:
 * bind it the same way. */
static int step_verify_original(Run *run, ClaimedDevice *d)
{
        uint64_t deadline = step_deadline_of(run);
        int r;

        if (d->host_choice)
                return 0; /* whatever the host has for it, if anything */
        /* Most of the time for the probe's driver to come by itself, the
         * rest for one bound by name. A probe that ends late makes the bind
         * fail: the look after it decides. */
        r = sysfs_pci_wait_for_driver(d->address, d->driver, run->t->wait_timeout_usec / 4 * 3);
        if (r == -ETIMEDOUT && d->driver && sysfs_pci_driver_is(d->address, NULL, NULL) > 0)
                (void)sysfs_pci_bind(d->address, d->driver);
        if (r == -ETIMEDOUT)
                r = sysfs_pci_wait_for_driver(d->address, d->driver, time_left(deadline));
        if (r == -ETIMEDOUT)
                describe_wrong_driver(run, d, d->driver);
        return r;
}

static int step_load_module(Run *run, ClaimedDevice *unused)
{
        handoff_load_module(run->item, run->t->wait_timeout_usec);
        return 0;
}

static int step_start_unit(Run *run, ClaimedDevice *unused)
{
        handoff_start_unit(run->item, run->t->wait_timeout_usec);
        return 0;
}

static int step_allow_d3cold(Run *run, ClaimedDevice *unused)
{
        handoff_allow_d3cold(run->t->record);
        return 0;
}

/* The firmware framebuffer back on its driver, and with it the console,
 * where the kernel kept its device: since Linux 5.19 vfio-pci itself
 * removes the firmware framebuffer of a VGA device it takes, for good.
 * Never fatal: the GPUs are back already. */
static int step_restore_firmware_fb(Run *run, ClaimedDevice *unused)
{
        ClaimRecord *rec = run->t->record;
        int r;

        if (!rec->firmware_fb_device[0])
                return 0;
        r = sysfs_platform_bind(rec->firmware_fb_device, rec->firmware_fb_driver);
        if (r == -ENODEV)
                log_notice("The kernel removed the firmware framebuffer %s while vfio-pci had its GPU: the console "
                           "comes back only with the GPU's own driver (or at the next boot).",
                           rec->firmware_fb_device);
        else if (r < 0)
                log_warning("Cannot bind the firmware framebuffer %s to %s again (%s): the console may stay dark "
                            "until the GPU's own driver takes it or the next boot.",
                            rec->firmware_fb_device, rec->firmware_fb_driver, strerror(-r));
        else
                log_info("The firmware framebuffer %s is back on %s, and the console with it.",
                         rec->firmware_fb_device, rec->firmware_fb_driver);
        (void)claim_record_set_firmware_fb(rec, NULL, NULL);
        return 0;
}

/* ---- the transactions ---- */

static int claim_device(Run *run, ClaimedDevice *d)
{
        int r;

        if ((r = run_step(run, "override", d, step_override_vfio)) < 0 ||
            (r = run_step(run, "unbind", d, step_unbind_unless_vfio)) < 0 ||
            (r = run_step(run, "probe", d, step_probe_unless_vfio)) < 0)
                return r;
        return run_step(run, "verify", d, step_verify_vfio);
}

/* Idempotent: whatever step a crash interrupted, running it again from the
 * top ends with the device on its original driver. */
static int restore_device(Run *run, ClaimedDevice *d)
{
        int r;

        if (!sysfs_pci_device_exists(d->address)) {
                log_info("%s is gone; nothing to restore.", d->address);
                return 0;
        }
        if ((r = run_step(run, "reset", d, step_reset)) < 0 ||
            (d->reset_methods[0] && (r = run_step(run, "reset-methods", d, step_restore_reset_methods)) < 0) ||
            (r = run_step(run, "override", d, step_restore_override)) < 0 ||
            (r = run_step(run, "unbind", d, step_unbind_unless_original)) < 0 ||
            (r = run_step(run, "probe", d, step_probe_unless_original)) < 0)
                return r;
        return run_step(run, "verify", d, step_verify_original);
}

static void note_failure(Run *run, int r)
{
        if (run->error == 0) {
                run->error = r;
                memcpy(run->failed_step, run->t->record->step, sizeof(run->failed_step));
                memcpy(run->failed_detail, run->detail, sizeof(run->failed_detail));
        }
}

/* Every device back on its original driver, carrying on past failures so
 * that one stubborn device does not strand the others. */
static int restore_devices(Run *run, size_t n, bool undoing)
{
        ClaimRecord *rec = run->t->record;
        bool modules_loaded = true;
        int first = 0;

        run->restoring = true;
        for (size_t i = rec->n_unloaded_modules; i-- > 0;)
                if (run_item_step(run, "load-module", rec->unloaded_modules[i], step_load_module) < 0)
                        modules_loaded = false;
        /* Only once they were asked for: a step skipped (the record could
         * not be saved) leaves them for the next try to load. */
        if (modules_loaded)
                claim_record_clear_unloaded_modules(rec);
        for (size_t i = n; i-- > 0;) {
                int r = restore_device(run, &run->t->record->devices[i]);
                if (r < 0 && first == 0) {
                        first = r;
                        if (undoing) {
                                run->undo_error = r;
                                memcpy(run->undo_step, run->t->record->step, sizeof(run->undo_step));
                        } else
                                note_failure(run, r);
                }
        }
        if (first == 0)
                (void)run_step(run, "firmware-fb", NULL, step_restore_firmware_fb);
        for (size_t i = rec->n_stopped_units; first == 0 && i-- > 0;)
                (void)run_item_step(run, "start-unit", rec->stopped_units[i], step_start_unit);
        if (first == 0)
                claim_record_clear_stopped_units(rec);
        if (first == 0 && claim_record_any_d3cold_off(rec))
                (void)run_step(run, "d3cold", NULL, step_allow_d3cold);
        return first;
}

static int forget_record(Run *run)
{
        int r = claim_record_remove(run->t->claims_dir_fd, run->t->record->group);
        run->t->record_kept = r < 0;
        return r;
}

/* A reserved claim undone (it failed, or a restart found it under way)
 * goes back to where it started: what vfiod-early held off the host stays
 * held so, on vfio-pci. Only the end of the reservation hands it to the
 * host, whose driver would otherwise bind (and its udev rules activate) a
 * disk or NIC that the reservation keeps for a guest. */
static void hold_host_choices(ClaimRecord *rec)
{
        for (size_t i = 0; i < rec->n_devices; i++) {
                ClaimedDevice *d = &rec->devices[i];
                if (!d->host_choice)
                        continue;
                d->host_choice = false;
                /* Out of memory: no driver, but still the override, which
                 * keeps host drivers off it all the same. */
                (void)claimed_device_set_original(d, strdup(VFIO_PCI_DRIVER), strdup(VFIO_PCI_DRIVER));
        }
}

static void execute_claim(Run *run)
{
        Transaction *t = run->t;
        size_t moved = 0;
        int r = 0;

        run->claiming = true;
        r = handoff_plan(t->profiles, t->record, &run->plan);
        if (r >= 0)
                r = run_step(run, "check", NULL, step_check_use);
        if (r >= 0)
                r = run_step(run, "record", NULL, step_record);
        for (size_t i = 0; r >= 0 && i < run->plan.n_units; i++)
                r = run_item_step(run, "stop-unit", run->plan.units[i], step_stop_unit);
        if (r >= 0 && run->recheck && run->plan.ask_holders)
                r = run_step(run, "ask-holders", NULL, step_ask_holders);
        if (r >= 0 && run->recheck)
                r = run_step(run, "check", NULL, step_check_use);
        if (r >= 0)
                r = run_step(run, "firmware-fb", NULL, step_free_firmware_fb);
        /* Before vfio-pci binds: it suspends an idle device at once. */
        if (r >= 0 && handoff_plan_keeps_out_of_d3cold(&run->plan, t->record->n_devices))
                r = run_step(run, "d3cold", NULL, step_keep_out_of_d3cold);
        if (r >= 0 && !sysfs_pci_driver_registered(VFIO_PCI_DRIVER))
                r = run_step(run, "load-driver", NULL, step_load_driver);
        for (; r >= 0 && moved < t->record->n_devices; moved++)
                r = claim_device(run, &t->record->devices[moved]);
        /* Unbound, the disks are gone (a multipathed head stays while a
         * controller that does not move serves it); failed before, they
         * are the host's. */
        disk_holds_release(&run->disk_holds);
        for (size_t i = 0; r >= 0 && i < run->plan.n_modules; i++) {
                run->item_wait = i + 1 < run->plan.n_modules; /* only the last one is left to run */
                r = run_item_step(run, "unload-module", run->plan.modules[i], step_unload_module);
        }
        if (r >= 0)
                r = run_step(run, "node", NULL, step_wait_for_node);
        if (r >= 0)
                r = run_step(run, "commit", NULL, step_commit);
        /* A commit that was late itself: its caller heard of an undo too. */
        if (r >= 0 && !step_may_start(run, "committed"))
                r = -ETIMEDOUT;
        if (r >= 0) {
                t->record_kept = true;
                return;
        }
        run->claiming = false;
        note_failure(run, r);
        if (!run->journaling)
                return; /* nothing was written */
        hold_host_choices(t->record);
        /* moved counts the device that failed, which may be half moved. */
        if (restore_devices(run, moved, true) >= 0)
                (void)forget_record(run);
        else
                t->record_kept = true;
}

static void execute_release(Run *run)
{
        Transaction *t = run->t;

        run->journaling = true; /* saved whole (a new phase) before the first step */
        /* A restart's record leads to this restore whatever its phase: the
         * devices go back even if the new phase cannot be saved. */
        run->saved = t->kind == TRANSACTION_RESTORE;
        if (t->kind == TRANSACTION_RESTORE && t->record->phase == CLAIM_PHASE_CLAIMING)
                hold_host_choices(t->record);
        t->record->phase = CLAIM_PHASE_RELEASING;
        if (restore_devices(run, t->record->n_devices, false) >= 0)
                (void)forget_record(run);
        else
                t->record_kept = true;
}

/* The refresh's end: the note of the lease that ended (lease-ended-open)
 * leaves the record with the phase, since no fd of its holder is left. */
static int step_commit_refresh(Run *run, ClaimedDevice *unused)
{
        ClaimRecord *rec = run->t->record;
        bool noted = rec->lease_ended_open;
        int r;

        rec->lease_ended_open = false;
        r = step_commit(run, unused);
        if (r < 0)
                rec->lease_ended_open = noted;
        return r;
}

/* A reserved group whose lease ended, on a kernel with device cdevs: every
 * endpoint leaves vfio-pci and comes back. A cdev that is open but not
 * bound keeps neither the group node nor anything else closed, and the fd
 * can hide where no look at /proc finds it (in flight in a socket, among
 * io_uring's files); but the kernel lets a device leave its driver only
 * once every fd of it is closed, which is the one proof that no former
 * holder can bind it later. Redone from the top after a crash. */
static void execute_refresh(Run *run)
{
        Transaction *t = run->t;
        int r = 0;

        run->journaling = true; /* saved whole (a new phase) before the first step */
        t->record->phase = CLAIM_PHASE_REFRESHING;
        for (size_t i = 0; r >= 0 && i < t->record->n_devices; i++) {
                ClaimedDevice *d = &t->record->devices[i];
                /* The override again first: someone (driverctl, a human)
                 * may have cleared it during the lease, and the probe
                 * would then hand the device to its host driver. */
                if ((r = run_step(run, "override", d, step_override_vfio)) >= 0 &&
                    (r = run_step(run, "unbind", d, step_unbind_vfio)) >= 0 &&
                    (r = run_step(run, "probe", d, step_probe_unless_vfio)) >= 0)
                        r = run_step(run, "verify", d, step_verify_vfio);
        }
        if (r >= 0)
                r = run_step(run, "node", NULL, step_wait_for_node);
        if (r >= 0)
                r = run_step(run, "commit", NULL, step_commit_refresh);
        if (r < 0)
                note_failure(run, r);
        t->record_kept = true;
}

/* Which endpoints vfiod-early holds (note_host_choice()'s rule) go to the
 * host; any other (the caller's look was stale) is recorded as it is now,
 * which its release then leaves it. */
static int step_record_holds(Run *run, ClaimedDevice *unused)
{
        ClaimRecord *rec = run->t->record;
        int r;

        for (size_t i = 0; i < rec->n_devices; i++)
                if ((r = record_original(run, &rec->devices[i], true)) < 0)
                        return r;
        return refuse_unreadable_record(run);
}

/* vfio-pci's devices may be in use through vfio (a VM started by hand with
 * the group): what vfiod cannot prove closed is busy, and stays. */
static int step_check_closed(Run *run, ClaimedDevice *unused)
{
        int group = run->t->record->group, r = vfio_group_held(group);

        if (r == 0)
                return 0;
        run->t->failure = FAILURE_DEVICE_BUSY;
        if (r > 0)
                snprintf(run->detail, sizeof(run->detail), "a process has IOMMU group %d open", group);
        else
                snprintf(run->detail, sizeof(run->detail), "cannot tell whether a process has IOMMU group %d open",
                         group);
        return r < 0 ? r : -EBUSY;
}

static bool any_host_choice(const ClaimRecord *rec)
{
        for (size_t i = 0; i < rec->n_devices; i++)
                if (rec->devices[i].host_choice)
                        return true;
        return false;
}

/* Devices that vfiod-early holds on vfio-pci for a reservation just taken
 * out, in a group vfiod holds nothing of (the reservation's claim was
 * refused or failed): to whichever driver the kernel finds, as the end of
 * a reservation hands them; nothing else of the group moves. */
static void execute_unhold(Run *run)
{
        Transaction *t = run->t;
        int r = run_step(run, "record", NULL, step_record_holds);

        if (r >= 0 && !any_host_choice(t->record))
                return; /* none held any more: nothing to do */
        if (r >= 0)
                r = run_step(run, "check", NULL, step_check_closed);
        if (r < 0) {
                note_failure(run, r);
                return; /* nothing was written */
        }
        run->journaling = true; /* saved whole (a new phase) before the first step */
        t->record->phase = CLAIM_PHASE_RELEASING;
        if (restore_devices(run, t->record->n_devices, false) >= 0)
                (void)forget_record(run);
        else
                t->record_kept = true;
}

/* ---- the outcome, in words ---- */

static const char *errno_name(int error)
{
        const char *name = strerrorname_np(-error);
        return name ? name : "?";
}

/* What the caller can do after the failure: for a claim, where its devices
 * are now; for a release, that the claim stays. */
static char *describe_aftermath(const Run *run)
{
        const Transaction *t = run->t;
        char *text;
        int n;

        if (t->kind == TRANSACTION_REFRESH)
                n = asprintf(&text, "It stays with vfiod, no lease can take it; 'vfioctl-client release %d' "
                                    "returns it to the host.", t->record->group);
        else if (t->kind == TRANSACTION_UNHOLD && t->failure == FAILURE_DEVICE_BUSY && run->error == -EBUSY)
                n = asprintf(&text, "It goes to the host once every process has closed it ('vfioctl-client show "
                                    "%d' names them).", t->record->group); /* manager-reservations.c waits */
        else if (t->kind == TRANSACTION_UNHOLD && t->failure == FAILURE_DEVICE_BUSY)
                n = asprintf(&text, "vfiod asks again every 2 s, and hands it to the host once it can tell that "
                                    "nobody has it open: see why it cannot in vfiod's journal (the permissions of "
                                    "/dev/vfio/%d, an LSM's denial, a /proc that hides processes).",
                             t->record->group);
        else if (!run->journaling) /* a claim or an unhold that wrote nothing */
                n = asprintf(&text, "Nothing was changed.");
        else if (t->kind == TRANSACTION_UNHOLD)
                n = asprintf(&text, "vfiod keeps a record of where they belong; 'vfioctl-client release %d' "
                                    "tries again.", t->record->group);
        else if (t->kind != TRANSACTION_CLAIM)
                n = asprintf(&text, "The claim is kept; 'vfioctl-client release %d' tries again.", t->record->group);
        else if (run->undo_error == 0)
                n = asprintf(&text, "Every device is back on its original driver.");
        else
                n = asprintf(&text,
                             "Undoing it failed too, at step '%s': %s (%s); the claim is kept: "
                             "'vfioctl-client release %d' tries again.",
                             run->undo_step, strerror(-run->undo_error), errno_name(run->undo_error),
                             t->record->group);
        return n < 0 ? NULL : text;
}

/* The group is in use or needed: the rules at work, not a move that failed. */
static bool is_refusal(TransactionFailure failure)
{
        return failure == FAILURE_PLATFORM || failure == FAILURE_HOST_CRITICAL || failure == FAILURE_DEVICE_BUSY;
}

/* Sets t's failure and its message: every error the caller sees is worded here. */
static void describe_outcome(Run *run)
{
        Transaction *t = run->t;
        _cleanup_free_ char *aftermath = NULL;
        int n;

        t->error = run->error;
        if (run->error == 0)
                return;
        if (is_refusal(t->failure) && t->kind == TRANSACTION_CLAIM) {
                n = asprintf(&t->message, "Cannot claim IOMMU group %d: %s. %s", t->record->group, strna(run->use),
                             t->failure == FAILURE_PLATFORM ? "Nothing in this group can be passed to a VM."
                             : t->failure == FAILURE_HOST_CRITICAL
                                     ? "Claim it with force only if the host can do without it."
                                     : "Stop what uses it, or claim with force.");
        } else {
                if (!is_refusal(t->failure))
                        t->failure = run->error == -ETIMEDOUT ? FAILURE_TIMEOUT : FAILURE_BIND;
                aftermath = describe_aftermath(run);
                n = asprintf(&t->message, "Cannot %s IOMMU group %d: step '%s' failed: %s (%s). %s",
                             t->kind == TRANSACTION_CLAIM     ? "claim"
                             : t->kind == TRANSACTION_REFRESH ? "put through vfio-pci again the reserved"
                             : t->kind == TRANSACTION_UNHOLD  ? "hand to the host what vfiod-early holds of"
                                                              : "release",
                             t->record->group, run->failed_step,
                             run->failed_detail[0] ? run->failed_detail : strerror(-run->error),
                             errno_name(run->error),
                             strempty(aftermath));
        }
        if (n < 0)
                t->message = NULL;
}

void transaction_execute(Transaction *t)
{
        Run run = { .t = t, .journal_fd = -1 };

        t->failure = FAILURE_NONE;
        t->record_kept = false;
        if (t->kind == TRANSACTION_CLAIM)
                execute_claim(&run);
        else if (t->kind == TRANSACTION_REFRESH)
                execute_refresh(&run);
        else if (t->kind == TRANSACTION_UNHOLD)
                execute_unhold(&run);
        else
                execute_release(&run);
        describe_outcome(&run);
        closep(&run.journal_fd);
        free(run.use);
        handoff_plan_done(&run.plan);
        /* The one log line of every outcome that failed, whoever waits
         * for it. */
        if (t->error < 0)
                log_full(is_refusal(t->failure) ? LOG_WARNING : LOG_ERR, "%s",
                         t->message ? t->message : "A transaction failed.");
}
