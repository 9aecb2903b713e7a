/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net-view.h"

/* rtnetlink messages as a route, nexthop and address dump brings them,
 * one after another as the input cuts them: the routes vfiod judges
 * default-route interfaces by. Never a crash, nor a read past a message. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        NetView v = {};

        for (size_t off = 0; off + sizeof(struct nlmsghdr) <= size;) {
                struct nlmsghdr *h;
                uint32_t len;
                memcpy(&len, data + off, sizeof(len));
                len = len < sizeof(*h) ? (uint32_t)sizeof(*h) : len;
                if (len > size - off)
                        len = (uint32_t)(size - off);
                /* Each message in a buffer of its own size: the sanitizer
                 * sees any read past it. */
                h = malloc(len);
                if (!h)
                        break;
                memcpy(h, data + off, len);
                h->nlmsg_len = len;
                (void)net_view_add_message(&v, h);
                free(h);
                off += NLMSG_ALIGN(len);
        }
        for (size_t i = 0; i < v.n_routes; i++)
                assert(net_view_default_route(&v, v.routes[i].ifindex));
        for (size_t i = 0; i < v.n_nexthops; i++)
                free(v.nexthops[i].members);
        free(v.nexthops);
        free(v.routes);
        free(v.addressed);
        first_reason_done(&v.unknown);
        return 0;
}
