/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The prepared claims that stand whole, one empty file each in
 * STATE_DIR/prepared, named by the claim id (prepared-mark.c). A claim's
 * groups are leased one transaction each, and a crash can come between
 * two: a claim whose leases are there but whose mark is not was cut short
 * (its Prepare, or its Unprepare), and is given back at start. */

/* The directory, made if missing; -errno. */
int prepared_marks_open(const char *state_dir);
/* Durably: once it returns 0, a crash finds the mark (or its absence). */
int prepared_mark_set(int dir_fd, const char *claim_id);
int prepared_mark_clear(int dir_fd, const char *claim_id);
/* 1 or 0; -errno when it cannot be told. */
int prepared_mark_exists(int dir_fd, const char *claim_id);
/* The claim ids of every mark. */
int prepared_marks_list(int dir_fd, char ***ret, size_t *n);

/* Whether every whole claim has its mark. An older vfiod wrote no marks:
 * a start that finds this unset keeps (and marks) each claim with a spec,
 * which may be such a vfiod's and cannot be told, and sets this, durably,
 * once it has told every claim: from then on a claim with its spec but no
 * mark is one whose Unprepare a stop cut short. A vfiod that predates
 * this file, run again after it was set, is not told apart.
 * 1 or 0; -errno when it cannot be told. */
int prepared_marks_complete(int dir_fd);
int prepared_marks_set_complete(int dir_fd);
