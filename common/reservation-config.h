/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "reservation.h"

/* The reservations of the files <config dir>/reservations.d/NAME.conf, read in the
 * order of the file names (vfiod.conf(5)). A line that does not parse is
 * logged with its file, line and reason, and skipped: the others apply. */

#define RESERVATIONS_DIR "reservations.d"

typedef struct ReservationEntry {
        Reservation reservation;
        char *file; /* the file's full path */
        unsigned line;
} ReservationEntry;

typedef struct ReservationSet {
        ReservationEntry *entries;
        size_t n_entries;
} ReservationSet;

/* A missing directory is an empty set. */
int reservation_set_load(const char *config_dir, ReservationSet *ret);
void reservation_set_clear(ReservationSet *s);
/* The first entry matching the device, or NULL. */
const ReservationEntry *reservation_set_find(const ReservationSet *s, const PciIdentity *device);
const ReservationEntry *reservation_set_find_match(const ReservationSet *s, const ReservationMatch *m);
/* Takes every entry with this match out of s. */
void reservation_set_drop_match(ReservationSet *s, const ReservationMatch *m);

/* Writes a drop-in holding r alone; *ret_path (malloc'ed) names it. */
int reservation_config_add(const char *config_dir, const Reservation *r, char **ret_path);
/* Takes every line with this match out of the files that hold it; a file
 * left with no entry goes, unless an administrator's comments remain.
 * *ret_removed counts the lines. */
int reservation_config_remove(const char *config_dir, const ReservationMatch *m, size_t *ret_removed);
