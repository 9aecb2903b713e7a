/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "policy.h"

/* The polkit client: asks polkit whether the sender of a method call may
 * do the action that the policy names (policy.h), over D-Bus and without
 * blocking: the first call starts the question and the
 * method call is put back in the bus queue when polkit answers, so its
 * handler runs again and finds the answer waiting (systemd's daemons do the
 * same). A password prompt pending for one caller never holds up another. */

typedef struct Authorizer Authorizer;

int authorizer_new(sd_bus *bus, Authorizer **ret);
Authorizer *authorizer_free(Authorizer *a);

/* Carries out the policy's decision for a method call (policy.c decides,
 * this only asks). 1: allowed; 0: polkit is asked, the handler must return
 * 1 and will be called again with the same message; <0 with error set:
 * refused by the policy or by polkit, or polkit could not be asked. */
int authorize(Authorizer *a, sd_bus_message *msg, const PolicyDecision *decision, sd_bus_error *error);

/* Whether a caller waits for polkit's answer (which may take minutes). */
bool authorizer_waiting(const Authorizer *a);
