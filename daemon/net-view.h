/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <linux/netlink.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "first-reason.h"

/* The kernel's routes and addresses, read over rtnetlink: every routing
 * table, nexthop objects and multipath routes included. */

typedef struct DefaultRoute {
        int ifindex;
        uint32_t table;
} DefaultRoute;

typedef struct NextHop {
        uint32_t id;
        int ifindex;          /* 0 for a group */
        uint32_t *members;    /* a group's nexthop ids */
        size_t n_members;
} NextHop;

typedef struct NetView {
        DefaultRoute *routes;
        size_t n_routes;
        NextHop *nexthops;
        size_t n_nexthops;
        int *addressed; /* interfaces with an address of more than link scope */
        size_t n_addressed;
        FirstReason unknown; /* why the default routes are not all known */
} NetView;

/* Dumps the nexthops, routes and addresses of vfiod's network namespace. */
int net_view_new(NetView **ret);
NetView *net_view_free(NetView *v);

/* Takes in one message of such a dump: RTM_NEWNEXTHOP, RTM_NEWROUTE or
 * RTM_NEWADDR; others are ignored. Nexthops come before the routes that
 * use them. */
int net_view_add_message(NetView *v, const struct nlmsghdr *h);

/* The messages of one recv() of the dump with sequence number seq: 1 when
 * the dump is done, 0 when more come, -errno of the kernel's refusal. A
 * dump that failed part-way ends with NLMSG_DONE carrying the error; one
 * that the kernel's tables changed under is marked NLM_F_DUMP_INTR
 * (*interrupted, false before the first batch) and may miss a route, so it
 * ends with -EAGAIN. */
int net_view_add_batch(NetView *v, const char *buf, size_t size, uint32_t seq, bool *interrupted);

/* The default route through ifindex, or NULL. */
const DefaultRoute *net_view_default_route(const NetView *v, int ifindex);

