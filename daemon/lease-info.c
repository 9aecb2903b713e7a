/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claim-id.h"
#include "lease-info.h"
#include "macro.h"
#include "number.h"

static const char *const mode_names[_LEASE_MODE_MAX] = {
        [LEASE_MODE_NONE] = "none",
        [LEASE_MODE_FD] = "fd",
        [LEASE_MODE_CHOWN] = "chown",
        [LEASE_MODE_CDEV] = "cdev",
};

static const char *const lifetime_names[_LEASE_LIFETIME_MAX] = {
        [LEASE_LIFETIME_CONNECTION] = "connection",
        [LEASE_LIFETIME_GUARD_FD] = "guard-fd",
        [LEASE_LIFETIME_PERSISTENT] = "persistent",
        [LEASE_LIFETIME_CLAIM_ID] = "claim-id",
};

const char *lease_mode_to_string(LeaseMode m)
{
        return m < _LEASE_MODE_MAX ? mode_names[m] : NULL;
}

int lease_mode_from_string(const char *s, LeaseMode *ret)
{
        int i = string_table_lookup(mode_names, _LEASE_MODE_MAX, s);
        if (i < 0)
                return i;
        *ret = i;
        return 0;
}

const char *lease_lifetime_to_string(LeaseLifetime l)
{
        return l < _LEASE_LIFETIME_MAX ? lifetime_names[l] : NULL;
}

int lease_lifetime_from_string(const char *s, LeaseLifetime *ret)
{
        int i = string_table_lookup(lifetime_names, _LEASE_LIFETIME_MAX, s);
        if (i < 0)
                return i;
        *ret = i;
        return 0;
}

bool bus_unique_name_is_valid(const char *s)
{
        size_t n = strlen(s);

        return n >= 2 && n < LEASE_HOLDER_MAX && s[0] == ':' &&
               strspn(s + 1, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ._-") == n - 1;
}

/* A connection lease's holder is its bus name, a prepared claim's its claim
 * id; no other lease has one. */
static bool holder_is_valid(LeaseLifetime lifetime, const char *holder)
{
        if (lifetime == LEASE_LIFETIME_CONNECTION)
                return bus_unique_name_is_valid(holder);
        if (lifetime == LEASE_LIFETIME_CLAIM_ID)
                return claim_id_is_valid(holder);
        return holder[0] == '\0';
}

int lease_info_format(const LeaseInfo *l, char **ret)
{
        if (l->id == 0 || !lease_mode_to_string(l->mode) || !lease_lifetime_to_string(l->lifetime) ||
            !holder_is_valid(l->lifetime, l->holder))
                return -EINVAL;
        if (asprintf(ret, "%" PRIu64 " %" PRIu32 " %" PRIu32 " %s %s %s %" PRIu64, l->id, l->uid, l->pid,
                     lease_mode_to_string(l->mode), lease_lifetime_to_string(l->lifetime),
                     l->holder[0] ? l->holder : "-", l->since_usec) < 0)
                return -ENOMEM;
        return 0;
}

int lease_info_parse(const char *s, LeaseInfo *ret)
{
        _cleanup_free_ char *copy = strdup(s);
        char *rest = copy, *field[7];
        uint64_t uid, pid;
        LeaseInfo l = { .group = ret->group };

        if (!copy)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(field); i++) {
                field[i] = strsep(&rest, " ");
                if (!field[i] || !*field[i])
                        return -EINVAL;
        }
        if (rest || parse_canonical_u64(field[0], UINT64_MAX, &l.id) < 0 || l.id == 0 ||
            parse_canonical_u64(field[1], UINT32_MAX, &uid) < 0 || parse_canonical_u64(field[2], UINT32_MAX, &pid) < 0 ||
            lease_mode_from_string(field[3], &l.mode) < 0 ||
            lease_lifetime_from_string(field[4], &l.lifetime) < 0 ||
            parse_canonical_u64(field[6], UINT64_MAX, &l.since_usec) < 0)
                return -EINVAL;
        l.uid = uid;
        l.pid = pid;
        if (!streq(field[5], "-")) {
                if (strlen(field[5]) >= sizeof(l.holder))
                        return -EINVAL;
                strcpy(l.holder, field[5]);
        }
        if (!holder_is_valid(l.lifetime, l.holder))
                return -EINVAL;
        *ret = l;
        return 0;
}
