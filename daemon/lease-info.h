/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* What a lease is, as kept in its group's claim record so that it outlives
 * the daemon: one line, "ID UID PID MODE LIFETIME HOLDER SINCE". */

#define LEASE_HOLDER_MAX 64

typedef enum LeaseMode {
        LEASE_MODE_NONE,  /* nothing handed over: the caller is root */
        LEASE_MODE_FD,    /* the group and a container fd went to the caller */
        LEASE_MODE_CHOWN, /* /dev/vfio/<group> (and its devices' cdevs) is the caller's until release */
        LEASE_MODE_CDEV,  /* each endpoint's cdev and an iommufd went to the caller */
        _LEASE_MODE_MAX,
} LeaseMode;

typedef enum LeaseLifetime {
        LEASE_LIFETIME_CONNECTION, /* until the caller's bus connection closes */
        LEASE_LIFETIME_GUARD_FD,   /* until the last copy of a guard fd closes */
        LEASE_LIFETIME_PERSISTENT, /* until released */
        LEASE_LIFETIME_CLAIM_ID,   /* until its orchestrator's claim is unprepared */
        _LEASE_LIFETIME_MAX,
} LeaseLifetime;

typedef struct LeaseInfo {
        uint64_t id; /* 1, 2, ...: the object path's last element */
        int group;   /* not in the line: the record it is in says */
        uint32_t uid, pid;
        LeaseMode mode;
        LeaseLifetime lifetime;
        char holder[LEASE_HOLDER_MAX]; /* the unique bus name, the claim id, or "" */
        uint64_t since_usec;           /* CLOCK_REALTIME */
} LeaseInfo;

const char *lease_mode_to_string(LeaseMode m);
int lease_mode_from_string(const char *s, LeaseMode *ret);
const char *lease_lifetime_to_string(LeaseLifetime l);
int lease_lifetime_from_string(const char *s, LeaseLifetime *ret);

/* A unique bus name such as ":1.42". */
bool bus_unique_name_is_valid(const char *s);

int lease_info_format(const LeaseInfo *l, char **ret);
/* Strict: only what lease_info_format writes. Leaves group alone. */
int lease_info_parse(const char *s, LeaseInfo *ret);
