/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* An orchestrator's claim id (a Kubernetes ResourceClaim's UID, say): the
 * key of a prepared claim, kept in the claim records of its groups and in
 * the name of its CDI spec file (/run/cdi/vfiod-ID.json) and device. So
 * it must be a safe file name and a CDI device name: 1 to 63 of
 * [A-Za-z0-9._-], starting with a letter or a digit. */

#define CLAIM_ID_MAX 64 /* with the NUL */

bool claim_id_is_valid(const char *s);
