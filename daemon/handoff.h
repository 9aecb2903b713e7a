/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "claim-record.h"
#include "profile.h"

/* What the hand-off profiles (profile.h) of a group's host drivers have
 * vfiod do around a claim, beside moving the devices: stop units before,
 * unload modules after; and, after the release or a crash, load the
 * modules before the devices go back and start the units after. Each unit
 * and module goes into the claim record (saved through save) before it is
 * touched, so that what a crash interrupts is undone at restart. Blocking:
 * the transaction's worker calls these. */

typedef struct HandoffPlan {
        char ***node_patterns; /* for each device of the record: its profile's Nodes=, or NULL */
        bool *no_idle_d3cold;  /* for each device: its profile's IdleD3cold=no */
        const char **units;    /* every profile's StopUnits=, each once */
        size_t n_units;
        const char **modules;  /* every profile's UnloadModules=, each once, in order */
        size_t n_modules;
        bool ask_holders;      /* a profile's AskHolders=yes */
} HandoffPlan;

typedef int (*HandoffSaveFn)(void *userdata);

/* From the drivers the record's devices are on now. The plan borrows the
 * profiles' strings: they must outlive it. */
int handoff_plan(const ProfileSet *profiles, const ClaimRecord *rec, HandoffPlan *ret);
void handoff_plan_done(HandoffPlan *p);

/* Stops the unit when it is active, noted in the record first. -errno
 * when it would not stop (the caller undoes the claim, which starts the
 * ones stopped). */
int handoff_stop_unit(ClaimRecord *rec, const char *unit, HandoffSaveFn save, void *userdata,
                      uint64_t timeout_usec);
/* Asks the processes that hold the devices' nodes (and the profiles'
 * Nodes=), making the group busy, to close them: SIGTERM through a pidfd,
 * then waits up to timeout_usec for them to exit. Never more: the check
 * that follows names those that did not. */
int handoff_ask_holders(const HandoffPlan *p, const ClaimRecord *rec, uint64_t timeout_usec);

/* Has systemd unload the module, noted in the record first, unless a
 * driver of it still has a device; with wait, until it is done (a module
 * unloaded before another that uses it must be gone first). Never fatal:
 * one that stays loaded needs no loading later, and is forgotten. */
int handoff_unload_module(ClaimRecord *rec, const char *module, bool wait, HandoffSaveFn save, void *userdata,
                          uint64_t timeout_usec);

static inline bool handoff_plan_keeps_out_of_d3cold(const HandoffPlan *p, size_t n_devices)
{
        for (size_t i = 0; i < n_devices; i++)
                if (p->no_idle_d3cold[i])
                        return true;
        return false;
}

/* Keeps the plan's devices out of D3cold while vfio-pci holds them (their
 * profile's IdleD3cold=no); never fatal. */
int handoff_keep_out_of_d3cold(const HandoffPlan *p, ClaimRecord *rec, HandoffSaveFn save, void *userdata);

/* The undo, one unit or module at a time (the caller keeps the order: the
 * modules before the devices return, the units and D3cold after).
 * Failures are logged, never fatal. */
void handoff_load_module(const char *module, uint64_t timeout_usec);
void handoff_start_unit(const char *unit, uint64_t timeout_usec);
void handoff_allow_d3cold(ClaimRecord *rec);
