/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "engine.h"
#include "manager-leases.h"

/* The Manager's claim and release methods (bus-claim.c). */

int bus_method_claim_group(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int bus_method_claim_device(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int bus_method_release_group(sd_bus_message *msg, void *userdata, sd_bus_error *error);
/* The answer to a release or a lease's end, for the call in userdata (a
 * reference the function drops). */
void bus_reply_release(const ReleaseOutcome *o, void *userdata);
/* A device in no IOMMU group cannot be claimed: says why, and what to do. */
int bus_no_iommu_error(const Device *d, sd_bus_error *error);
/* The D-Bus error a failed claim or release answers with. */
const char *bus_failure_error_name(TransactionFailure f);
