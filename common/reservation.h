/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "pci-address.h"

/* A reservation: which devices stay on vfio-pci from boot on, and who owns
 * their group node. One per line of the files /etc/vfiod/reservations.d/NAME.conf:
 *
 *      MATCH [owner=USER|owner=@GROUP]   [# comment]
 *
 * where MATCH is one of
 *      0000:01:00.0               a PCI address
 *      0000:00:1c.0/00.0          a physical path: the root bus device, then
 *                                 slot.function behind each bridge; stable
 *                                 when bus numbers change (the kernel's
 *                                 pci= path notation)
 *      10de:1b80[:1458:3702]      vendor:device[:subvendor:subdevice]
 *      10de:1b80@0000:01:00.0     an id narrowed to one address (or path)
 * The same MATCH text is what 'vfioctl-client reserve' takes. */

#define RESERVATION_PATH_DEPTH_MAX 8
/* The longest canonical match: id with subsystem, '@', the deepest path. */
#define RESERVATION_MATCH_STRING_MAX (19 + 1 + PCI_ADDRESS_STRING_MAX + 5 * RESERVATION_PATH_DEPTH_MAX)
#define RESERVATION_PATH_STRING_MAX (PCI_ADDRESS_STRING_MAX + 5 * RESERVATION_PATH_DEPTH_MAX)
#define RESERVATION_OWNER_MAX 33 /* "@" and 31 characters, NUL */

typedef struct ReservationMatch {
        bool has_id, has_subsystem, has_address, has_path;
        uint16_t vendor, device, subvendor, subdevice;
        char address[PCI_ADDRESS_STRING_MAX];
        char path[RESERVATION_PATH_STRING_MAX]; /* canonical: "0000:00:1c.0/00.0" */
} ReservationMatch;

/* What a match is compared with: one PCI function. */
typedef struct PciIdentity {
        const char *address;
        const char *path; /* reservation_physical_path() */
        uint16_t vendor, device, subvendor, subdevice;
} PciIdentity;

typedef struct Reservation {
        ReservationMatch match;
        char owner[RESERVATION_OWNER_MAX]; /* "alice", "@vfio" or "" for root */
} Reservation;

/* Parses a MATCH; on -EINVAL *ret_reason says what is wrong, for people. */
int reservation_match_parse(const char *text, ReservationMatch *ret, const char **ret_reason);
/* The canonical text: what parsing it gives back the same match. */
char *reservation_match_format(const ReservationMatch *m, char buf[static RESERVATION_MATCH_STRING_MAX]);
bool reservation_match_equal(const ReservationMatch *a, const ReservationMatch *b);
bool reservation_matches(const ReservationMatch *m, const PciIdentity *device);

/* "alice" or "@vfio": a user or group name, which NSS resolves later. */
bool reservation_owner_is_valid(const char *owner);
/* What the group node gets for owner: "" root's, 0600; "alice" hers, 0600;
 * "@vfio" root's and the group's, 0660. -ESRCH when there is no such user
 * or group, another -errno when the user database cannot answer (the
 * outputs are root's then). Reentrant. NSS may ask a directory server,
 * which can take minutes: the daemon calls this only off its event loop
 * (owner-lookup.h). */
int reservation_owner_resolve(const char *owner, uid_t *uid, gid_t *gid, mode_t *mode);

/* One line of a reservations file: 1 and *ret for an entry, 0 for a blank
 * or comment line, -EINVAL with *ret_reason for anything else. */
int reservation_parse_line(const char *line, Reservation *ret, const char **ret_reason);
/* The line that parses back to r, without a newline; malloc'ed. */
int reservation_format_line(const Reservation *r, char **ret);

/* The physical path of a PCI function from its sysfs path
 * ("/sys/devices/pci0000:00/0000:00:1c.0/0000:01:00.0" →
 * "0000:00:1c.0/00.0"); -EINVAL for anything else. */
int reservation_physical_path(const char *syspath, char buf[static RESERVATION_MATCH_STRING_MAX]);
