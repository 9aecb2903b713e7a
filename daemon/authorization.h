/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>
#include <systemd/sd-bus.h>

/* Asks polkit whether the sender of a method call may do an action, over
 * D-Bus and without blocking: the first call starts the question and the
 * method call is put back in the bus queue when polkit answers, so its
 * handler runs again and finds the answer waiting (systemd's daemons do the
 * same). A password prompt pending for one caller never holds up another. */

/* What polkit rules may look at (action.lookup("device") and so on). A
 * claim names every endpoint that would move, so that a rule written for
 * one device or vendor cannot hand out another that shares its group: a
 * rule compares the whole value ("vendor" is "10de" only when every
 * endpoint is NVIDIA's). */
typedef struct AuthDetails {
        const char *device; /* PCI addresses, space-separated */
        const char *vendor; /* the vendor ids, each once: "8086", "10de 8086" */
        const char *model;  /* the device ids, each once: "100e" */
        const char *ids;    /* each endpoint's VENDOR:DEVICE, in address order */
        const char *names;  /* each endpoint's name, "; "-separated */
        const char *group;  /* IOMMU group number */
        const char *match;  /* a reservation's match (reservation.h) */
} AuthDetails;

typedef struct Authorizer Authorizer;

int authorizer_new(sd_bus *bus, Authorizer **ret);
Authorizer *authorizer_free(Authorizer *a);

/* 1: allowed (root always is); 0: asked, the handler must return 1 and
 * will be called again with the same message; <0 with error set: denied,
 * or polkit could not be asked. details may be NULL. */
int authorize(Authorizer *a, sd_bus_message *msg, const char *action, const AuthDetails *details,
              sd_bus_error *error);
