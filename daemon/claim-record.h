/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "firmware-fb.h"
#include "pci-address.h"

/* The journal of one IOMMU group's claim, a small text file in
 * <state dir>/claims/, written durably before every step of a claim or a
 * release. It holds what a restarted daemon needs to finish or undo the
 * transaction: every endpoint with the driver and driver_override it had
 * before vfiod touched it. Between steps only the step changes: it is
 * appended as a line, and the record is written whole when more changes. */

#define CLAIM_RECORD_MAX_DEVICES 256
#define CLAIM_RECORD_STEP_MAX 64
#define CLAIM_RECORD_DRIVER_MAX 64
#define CLAIM_RECORD_LEASE_MAX 256
#define CLAIM_RECORD_RESET_METHODS_MAX 128

typedef enum ClaimPhase {
        CLAIM_PHASE_CLAIMING,  /* moving to vfio-pci: undone at restart */
        CLAIM_PHASE_CLAIMED,   /* every endpoint on vfio-pci: kept */
        CLAIM_PHASE_RELEASING, /* returning to the host: finished at restart */
        CLAIM_PHASE_REFRESHING, /* reserved, through vfio-pci again: redone at restart */
        _CLAIM_PHASE_MAX,
} ClaimPhase;

typedef struct ClaimedDevice {
        char address[PCI_ADDRESS_STRING_MAX];
        char *driver;          /* the original driver, NULL for none */
        char *driver_override; /* the original override, NULL for none */
        /* A reservation put it on vfio-pci before any host driver had it:
         * whichever driver the kernel finds is its own ("*" in the file). */
        bool host_choice;
        /* vfiod turned its d3cold_allowed off for the claim (a profile's
         * IdleD3cold=no): on again after the release. */
        bool d3cold_off;
        /* Its reset_method before vfiod narrowed it to a profile's
         * ResetMethod= for the reset at a release ("" when untouched):
         * written back after that reset, and after a crash during it. */
        char reset_methods[CLAIM_RECORD_RESET_METHODS_MAX];
} ClaimedDevice;

typedef struct ClaimRecord {
        int group;
        ClaimPhase phase;
        char step[CLAIM_RECORD_STEP_MAX]; /* the step about to run, for people */
        char *lease; /* who holds the claim (lease-info.h), NULL for nobody */
        bool reserved; /* a reservation holds it too: it stays when the lease ends */
        /* Its lease ended while a process still had the group open: a
         * restart waits for that process again (manager-leases.c; a group
         * that nobody reserves it waits for anyway, as leased by nobody). */
        bool lease_ended_open;
        ClaimedDevice *devices;
        size_t n_devices;
        /* The firmware framebuffer vfiod unbound from its driver to free a
         * GPU of the group ("" when none): bound again after the release. */
        char firmware_fb_device[FIRMWARE_FB_NAME_MAX];
        char firmware_fb_driver[FIRMWARE_FB_NAME_MAX];
        /* What a hand-off profile had vfiod do, to be undone after the
         * release: units it stopped, modules it unloaded (NULL-terminated). */
        char **stopped_units;
        size_t n_stopped_units;
        char **unloaded_modules;
        size_t n_unloaded_modules;
} ClaimRecord;

int claim_record_new(int group, ClaimRecord **ret);
ClaimRecord *claim_record_free(ClaimRecord *r);
static inline void claim_record_freep(ClaimRecord **r)
{
        claim_record_free(*r);
}
/* -EINVAL unless printable ASCII shorter than CLAIM_RECORD_LEASE_MAX. */
int claim_record_set_lease(ClaimRecord *r, const char *lease);
int claim_record_add_device(ClaimRecord *r, const char *address, const char *driver, const char *driver_override);
/* Sets what d had before the claim (NULL for none), taking both over, on
 * failure too: -EINVAL for a name that is no driver's, which the record
 * could not be read back with (root may write any text to
 * driver_override). */
int claimed_device_set_original(ClaimedDevice *d, char *driver, char *driver_override);
/* -EINVAL unless methods are the kernel's words (lower case and _), one
 * space apart, shorter than CLAIM_RECORD_RESET_METHODS_MAX; "" forgets
 * them. */
int claimed_device_set_reset_methods(ClaimedDevice *d, const char *methods);
/* The record's device at address, or NULL. */
ClaimedDevice *claim_record_find_device(const ClaimRecord *r, const char *address);
/* -EINVAL unless device is a firmware framebuffer's and driver a driver's
 * name; both NULL forget it. */
int claim_record_set_firmware_fb(ClaimRecord *r, const char *device, const char *driver);

/* -EINVAL for a name profile.h would not accept. */
int claim_record_add_stopped_unit(ClaimRecord *r, const char *unit);
int claim_record_add_unloaded_module(ClaimRecord *r, const char *module);
/* Forgets the last one added (it turned out not to need undoing). */
void claim_record_drop_last_unloaded_module(ClaimRecord *r);
/* Forgets them all: undone. */
void claim_record_clear_stopped_units(ClaimRecord *r);
void claim_record_clear_unloaded_modules(ClaimRecord *r);
bool claim_record_any_d3cold_off(const ClaimRecord *r);

const char *claim_phase_to_string(ClaimPhase p);

/* The text form, and back. Parsing refuses anything it did not write. */
int claim_record_format(const ClaimRecord *r, char **ret);
int claim_record_parse(const char *text, ClaimRecord **ret);

/* Files in the directory dir_fd, named group-<id>. Saving writes a
 * temporary file, syncs it and renames it over the old one, so a crash
 * leaves the old record or the new one, never half of either. With
 * ret_fd, *ret_fd is the new record, open for claim_record_append_step(). */
int claim_record_save(int dir_fd, const ClaimRecord *r, int *ret_fd);
/* Appends r's step to the record saved through fd, synced: one line, which
 * replaces the step saved before it. A crash in the middle leaves that
 * line cut short, and parsing drops it. */
int claim_record_append_step(int fd, const ClaimRecord *r);
int claim_record_load(int dir_fd, int group, ClaimRecord **ret);
/* 1 when group has a record in dir_fd, 0 when not, -errno when that
 * cannot be told. */
int claim_record_exists(int dir_fd, int group);
int claim_record_remove(int dir_fd, int group);
/* The group ids with a record, sorted; *ret is malloc'ed. */
int claim_record_list(int dir_fd, int **ret, size_t *n);
