/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

/* The daemon's surroundings, played in-process over one connection: the
 * bus driver (names, credentials, matches), polkit, and the callers. */

typedef enum Caller {
        CALLER_ROOT,
        CALLER_ALICE, /* uid 1000 */
        CALLER_BOB,   /* uid 1001 */
        _CALLER_MAX,
} Caller;

typedef enum PolkitAnswer {
        POLKIT_YES,
        POLKIT_NO,
        POLKIT_CHALLENGE, /* "not authorized, but a password would do" */
        POLKIT_FAILS,     /* polkit answers with an error */
        _POLKIT_ANSWER_MAX,
} PolkitAnswer;

typedef struct FuzzWorld FuzzWorld;

/* A listening socket at path for the daemon to connect to; *address is
 * its bus address. */
int fuzz_world_listen(const char *path, char *address, size_t size, int *ret_fd);
/* Takes the daemon's connection on the listener and plays the bus until
 * the daemon owns its name. */
int fuzz_world_new(int listener, FuzzWorld **ret);

void fuzz_world_set_polkit(FuzzWorld *w, PolkitAnswer answer);

/* A method call of caller to the daemon. */
int fuzz_world_new_call(FuzzWorld *w, Caller caller, const char *path, const char *interface, const char *member,
                        sd_bus_message **ret);
/* Sends it and plays the bus until its answer is in: the reply or error.
 * Aborts when the daemon does not answer. */
sd_bus_message *fuzz_world_send(FuzzWorld *w, sd_bus_message *call);
/* Plays the bus until the daemon says something (a signal that a group
 * moved), or for at most usec. */
void fuzz_world_idle(FuzzWorld *w, uint64_t usec);

/* The caller's connection closes (NameOwnerChanged); its next call comes
 * from a new connection with a new unique name. */
void fuzz_world_leave(FuzzWorld *w, Caller caller);

/* Plays the bus until the daemon has handled everything sent to it so far
 * (a Ping answered comes after whatever was queued before it). */
void fuzz_world_sync(FuzzWorld *w);
