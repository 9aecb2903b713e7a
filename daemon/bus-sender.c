/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bus-sender.h"
#include "macro.h"

/* The system bus attaches no credentials to messages: sd-bus asks the bus
 * for them, a round trip on every call. A connection's credentials are
 * fixed when it connects, and a bus never gives a unique name out twice,
 * so the bus's answer for a name holds for as long as that bus runs. The
 * last few callers' answers are kept: a client that calls again (claim,
 * then release) is not asked about twice. */

#define KNOWN_SENDERS 16
#define UNIQUE_NAME_MAX 256 /* the D-Bus limit of a name, with its NUL */

typedef struct KnownSender {
        sd_id128_t bus_id;
        char name[UNIQUE_NAME_MAX];
        uid_t uid;
        pid_t pid;
} KnownSender;

static KnownSender known[KNOWN_SENDERS];
static size_t next_slot;

static const KnownSender *find_known(sd_id128_t bus_id, const char *name)
{
        for (size_t i = 0; i < KNOWN_SENDERS; i++)
                if (known[i].name[0] && sd_id128_equal(known[i].bus_id, bus_id) && streq(known[i].name, name))
                        return &known[i];
        return NULL;
}

static void remember(sd_id128_t bus_id, const char *name, uid_t uid, pid_t pid)
{
        KnownSender *k = &known[next_slot];

        if (strlen(name) >= sizeof(k->name))
                return;
        next_slot = (next_slot + 1) % KNOWN_SENDERS;
        *k = (KnownSender){ .bus_id = bus_id, .uid = uid, .pid = pid };
        strcpy(k->name, name);
}

static int ask_bus(sd_bus_message *msg, uid_t *ret_uid, pid_t *ret_pid)
{
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        int r = sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID | SD_BUS_CREDS_PID, &creds);

        if (r >= 0)
                r = sd_bus_creds_get_euid(creds, ret_uid);
        if (r >= 0)
                r = sd_bus_creds_get_pid(creds, ret_pid);
        return r;
}

int bus_sender_creds(sd_bus_message *msg, uid_t *ret_uid, pid_t *ret_pid)
{
        const char *name = sd_bus_message_get_sender(msg);
        const KnownSender *k;
        sd_id128_t bus_id;
        uid_t uid;
        pid_t pid;
        int r;

        /* A peer-to-peer connection has no names: only the bus can say. */
        if (!name || name[0] != ':' || sd_bus_get_bus_id(sd_bus_message_get_bus(msg), &bus_id) < 0)
                r = ask_bus(msg, &uid, &pid);
        else if ((k = find_known(bus_id, name))) {
                uid = k->uid;
                pid = k->pid;
                r = 0;
        } else if ((r = ask_bus(msg, &uid, &pid)) >= 0)
                remember(bus_id, name, uid, pid);
        if (r < 0)
                return r;
        if (ret_uid)
                *ret_uid = uid;
        if (ret_pid)
                *ret_pid = pid;
        return 0;
}

int bus_sender_euid(sd_bus_message *msg, uid_t *ret)
{
        return bus_sender_creds(msg, ret, NULL);
}
