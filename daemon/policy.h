/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "device-model.h"
#include "lease-info.h"
#include "profile.h"
#include "reservation.h"

/* Who may do what: every authorization rule of vfiod, in one place (bolt's
 * bouncer is the model). For each privileged method it decides, from the
 * caller's uid and what the call would touch, whether the call goes ahead,
 * is refused whatever polkit says, or is up to polkit, and then with which
 * action and which details. The bus layer asks polkit (authorization.c)
 * and never decides anything itself. */

typedef enum PolicyVerdict {
        POLICY_ALLOW,  /* no question: root, or the lease's own holder */
        POLICY_ASK,    /* polkit decides on action, with details */
        POLICY_REFUSE, /* never for this caller: refusal says why */
} PolicyVerdict;

/* What polkit rules may look at (action.lookup("device") and so on). A
 * claim names every endpoint that would move, so that a rule written for
 * one device or vendor cannot hand out another that shares its group: a
 * rule compares the whole value ("vendor" is "10de" only when every
 * endpoint is NVIDIA's). NULL: not given for this action. */
typedef struct PolicyDetails {
        char *device; /* PCI addresses, space-separated */
        char *vendor; /* the vendor ids, each once: "8086", "10de 8086" */
        char *model;  /* the device ids, each once: "100e" */
        char *ids;    /* each endpoint's VENDOR:DEVICE, in address order */
        char *names;  /* each endpoint's name, "; "-separated */
        char *group;  /* IOMMU group number */
        char *match;  /* a reservation's match (reservation.h) */
        char *owner;  /* a reservation's owner, who gets the group node: "alice", "@vfio", "root" */
        char *lease_owner; /* release-any of a lease: its owner's uid, "1000" */
        char *process; /* memlock of another process: "PID (COMMAND)" */
        char *claim;   /* a prepared claim's id */
        char *stop_units;     /* what the claim's hand-off profiles stop and unload, */
        char *unload_modules; /* space-separated; NULL when nothing */
        char *ask_holders;    /* "yes" when a profile asks holders to close; else NULL */
} PolicyDetails;

typedef struct PolicyDecision {
        uid_t caller; /* whom it was decided for */
        PolicyVerdict verdict;
        const char *action;    /* POLICY_ASK: the polkit action (bus-names.h) */
        const char *refusal;   /* POLICY_REFUSE: what to do instead */
        PolicyDetails details; /* POLICY_ASK */
} PolicyDecision;

void policy_decision_done(PolicyDecision *d);

/* ClaimGroup, ClaimDevice: the group's endpoints to vfio-pci. force asks
 * for what the host uses too (claim-host-critical); a persistent lease,
 * which no connection or fd ends, is for root alone. The hand-off profiles
 * of the endpoints' drivers are part of the claim: polkit is told the
 * units they stop and the modules they unload. */
int policy_claim(uid_t caller, const Group *g, bool force, LeaseLifetime lifetime, const ProfileSet *profiles,
                 PolicyDecision *ret);

/* Prepare: the groups to vfio-pci for an orchestrator's claim, under a
 * lease no connection ends (prepare); polkit is told the claim id
 * ("claim"), every endpoint of every group, the groups ("group": their
 * numbers, space-separated) and what their hand-off profiles do, as for a
 * claim. Unprepare: the claim's groups back (unprepare), with the claim id
 * and the groups it has, their endpoints described as for Prepare. */
int policy_prepare(uid_t caller, const char *claim_id, const Group *const *groups, size_t n_groups,
                   const ProfileSet *profiles, PolicyDecision *ret);
int policy_unprepare(uid_t caller, const char *claim_id, const Group *const *groups, size_t n_groups,
                     PolicyDecision *ret);

/* ReleaseGroup, Lease.Release: the lease's owner may end it; any other
 * caller, or a group claimed without a lease (owner NULL), needs
 * release-any. polkit is told the group and the lease's owner (a uid: a
 * name would be asked of NSS, which may block), so that an answer about
 * one holder's lease is never used on another's. */
int policy_release(uid_t caller, int group, const uid_t *owner, PolicyDecision *ret);

/* Reserve, Unreserve: a boot-time reservation changes what the host gets
 * (reserve). polkit is told the match and whom the group node goes to
 * ("owner": "alice", "@vfio" or "root"); for Unreserve, every line that
 * goes (one match, n >= 1 lines, hand-written ones may repeat it) and each
 * of their owners once, space-separated, so that a rule that lets users
 * drop their own reservations cannot drop another's line with it. */
int policy_reserve(uid_t caller, const Reservation *reservation, PolicyDecision *ret);
int policy_unreserve(uid_t caller, const Reservation *const *lines, size_t n, PolicyDecision *ret);

/* RaiseMemlockLimit of the caller's own process (process NULL: memlock)
 * or of another of the caller's uid ("PID (COMMAND)", which polkit is
 * told: memlock-other, for rules to allow one and not the other). */
int policy_memlock(uid_t caller, const char *process, PolicyDecision *ret);
