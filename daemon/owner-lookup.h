/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>
#include <systemd/sd-event.h>

#include "worker-pool.h"

/* A reservation's owner ("alice", "@vfio") looked up in the user database
 * in a worker thread. NSS may ask a directory server (sssd, nslcd), which
 * takes seconds, or hangs while the server cannot be reached; the event
 * loop answers everyone meanwhile, and the watchdog stays fed. Nothing in
 * the daemon asks NSS on the loop. */

typedef struct OwnerIds {
        uid_t uid;
        gid_t gid;
        mode_t mode; /* the group node's: 0600 for a user, 0660 for a group */
} OwnerIds;

/* Root's node: no owner, or none known. */
#define OWNER_IDS_ROOT ((OwnerIds){ .uid = 0, .gid = 0, .mode = 0600 })

/* r: 0 with the owner's ids; -ESRCH: no such user or group; -ECANCELED:
 * the lookup was cancelled; another -errno: the user database could not
 * answer. Other than at 0, *ids are root's, 0600. */
typedef void (*OwnerLookupDoneFn)(int r, const OwnerIds *ids, void *userdata);

typedef struct OwnerLookup OwnerLookup;

/* Looks owner up (as reservation_owner_resolve()), then calls done on the
 * loop, exactly once: with the answer, or with -ECANCELED from
 * owner_lookups_cancel(). *list holds the lookup until then. */
int owner_lookup_start(OwnerLookup **list, sd_event *event, WorkerPool *pool, const char *owner,
                       OwnerLookupDoneFn done, void *userdata);
/* Every lookup on *list: done(-ECANCELED) now, nothing later. A thread
 * that waits on NSS cannot be called back; it finishes in its own time. */
void owner_lookups_cancel(OwnerLookup **list);
