/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Faults injected at named points, for the tests of what vfiod does when
 * the kernel fails, hangs or vfiod dies half-way. VFIOD_FAULT names one:
 * "crash|fail|stall,KIND,STEP[,ADDRESS]", where KIND is a transaction's
 * (claim, release, restore, refresh, unhold; STEP one of its steps) or
 * "lease": a lease's start, STEP "check" (whether a process has a
 * reserved group's node open), "owner" (its nodes change hands, or are
 * set again) or "open" (the fds or cdevs it hands over), where an ADDRESS
 * matches nothing.
 * Read only when built with -Dfault_injection=true; a no-op otherwise. */

/* -EINVAL when VFIOD_FAULT cannot be read. */
int fault_injection_setup(void);

/* The fault at this point, once: -EIO for "fail", after a wait of 10 s
 * for "stall" (callers run it in a worker: the event loop goes on), never
 * back for "crash" (SIGKILL). 0 elsewhere. address may be NULL. */
int fault_inject(const char *kind, const char *step, const char *address);
