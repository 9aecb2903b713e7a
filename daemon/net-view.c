/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <linux/nexthop.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "macro.h"
#include "net-view.h"

#define note_unknown(v, ...) first_reason_set(&(v)->unknown, __VA_ARGS__)

/* ---- taking in messages ---- */

static const NextHop *find_nexthop(const NetView *v, uint32_t id)
{
        for (size_t i = 0; i < v->n_nexthops; i++)
                if (v->nexthops[i].id == id)
                        return &v->nexthops[i];
        return NULL;
}

static int add_default_route(NetView *v, int ifindex, uint32_t table)
{
        DefaultRoute *a = reallocarray(v->routes, v->n_routes + 1, sizeof(*a));

        if (!a)
                return -ENOMEM;
        v->routes = a;
        a[v->n_routes++] = (DefaultRoute){.ifindex = ifindex, .table = table};
        return 0;
}

/* A nexthop object's interfaces, a group's members' too (one level: the
 * kernel allows no nested groups). */
static int add_nexthop_routes(NetView *v, uint32_t id, uint32_t table)
{
        const NextHop *nh = find_nexthop(v, id);
        int r = 0;

        if (!nh) {
                note_unknown(v, "a default route in table %u uses nexthop %u, which vfiod cannot find",
                             table, id);
                return 0;
        }
        if (nh->ifindex > 0)
                return add_default_route(v, nh->ifindex, table);
        for (size_t i = 0; r >= 0 && i < nh->n_members; i++) {
                const NextHop *m = find_nexthop(v, nh->members[i]);
                if (m && m->ifindex > 0)
                        r = add_default_route(v, m->ifindex, table);
                else if (!m)
                        note_unknown(v,
                                     "a default route in table %u uses nexthop %u, which vfiod cannot find",
                                     table, nh->members[i]);
        }
        return r;
}

static int take_route(NetView *v, const struct nlmsghdr *h)
{
        const struct rtmsg *rtm = NLMSG_DATA(h);
        int len = (int)RTM_PAYLOAD(h);
        uint32_t table;
        int r = 0;

        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*rtm)) ||
            (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6) || rtm->rtm_dst_len != 0 ||
            rtm->rtm_type != RTN_UNICAST)
                return 0;
        table = rtm->rtm_table;
        for (const struct rtattr *a = RTM_RTA(rtm); RTA_OK(a, len); a = RTA_NEXT(a, len))
                if (a->rta_type == RTA_TABLE && RTA_PAYLOAD(a) >= sizeof(uint32_t))
                        memcpy(&table, RTA_DATA(a), sizeof(table));
        len = (int)RTM_PAYLOAD(h);
        for (const struct rtattr *a = RTM_RTA(rtm); r >= 0 && RTA_OK(a, len); a = RTA_NEXT(a, len)) {
                uint32_t u32 = 0;
                if (RTA_PAYLOAD(a) >= sizeof(u32))
                        memcpy(&u32, RTA_DATA(a), sizeof(u32));
                if (a->rta_type == RTA_OIF)
                        r = add_default_route(v, (int)u32, table);
                else if (a->rta_type == RTA_NH_ID)
                        r = add_nexthop_routes(v, u32, table);
                else if (a->rta_type == RTA_MULTIPATH) {
                        const struct rtnexthop *nh = RTA_DATA(a);
                        int left = (int)RTA_PAYLOAD(a);
                        /* RTNH_OK reads rtnh_len before it checks that
                         * there is room for it. */
                        while (r >= 0 && left >= (int)sizeof(*nh) && RTNH_OK(nh, left)) {
                                r = add_default_route(v, nh->rtnh_ifindex, table);
                                left -= NLMSG_ALIGN(nh->rtnh_len);
                                nh = RTNH_NEXT(nh);
                        }
                }
        }
        return r;
}

static int take_nexthop(NetView *v, const struct nlmsghdr *h)
{
        const struct nhmsg *nhm = NLMSG_DATA(h);
        int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*nhm)));
        NextHop nh = {};
        NextHop *a;

        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*nhm)))
                return 0;
        for (const struct rtattr *at =
                     (const struct rtattr *)((const char *)nhm + NLMSG_ALIGN(sizeof(*nhm)));
             RTA_OK(at, len); at = RTA_NEXT(at, len)) {
                uint32_t u32 = 0;
                if (RTA_PAYLOAD(at) >= sizeof(u32))
                        memcpy(&u32, RTA_DATA(at), sizeof(u32));
                if (at->rta_type == NHA_ID)
                        nh.id = u32;
                else if (at->rta_type == NHA_OIF)
                        nh.ifindex = (int)u32;
                else if (at->rta_type == NHA_GROUP && !nh.members) {
                        const struct nexthop_grp *g = RTA_DATA(at);
                        size_t n = RTA_PAYLOAD(at) / sizeof(*g);
                        nh.members = calloc(n ? n : 1, sizeof(uint32_t));
                        if (!nh.members)
                                return -ENOMEM;
                        for (size_t i = 0; i < n; i++)
                                nh.members[i] = g[i].id;
                        nh.n_members = n;
                }
        }
        a = reallocarray(v->nexthops, v->n_nexthops + 1, sizeof(*a));
        if (!a) {
                free(nh.members);
                return -ENOMEM;
        }
        v->nexthops = a;
        a[v->n_nexthops++] = nh;
        return 0;
}

/* Link-scope addresses (fe80::, 169.254/16) come and go by themselves on
 * any interface that is up; they say nothing of use. */
static int take_address(NetView *v, const struct nlmsghdr *h)
{
        const struct ifaddrmsg *ifa = NLMSG_DATA(h);
        int *a;

        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)) || ifa->ifa_scope >= RT_SCOPE_LINK)
                return 0;
        a = reallocarray(v->addressed, v->n_addressed + 1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        v->addressed = a;
        a[v->n_addressed++] = (int)ifa->ifa_index;
        return 0;
}

int net_view_add_message(NetView *v, const struct nlmsghdr *h)
{
        switch (h->nlmsg_type) {
        case RTM_NEWROUTE:
                return take_route(v, h);
        case RTM_NEWNEXTHOP:
                return take_nexthop(v, h);
        case RTM_NEWADDR:
                return take_address(v, h);
        default:
                return 0;
        }
}

const DefaultRoute *net_view_default_route(const NetView *v, int ifindex)
{
        for (size_t i = 0; i < v->n_routes; i++)
                if (v->routes[i].ifindex == ifindex)
                        return &v->routes[i];
        return NULL;
}

/* ---- the dumps ---- */

int net_view_add_batch(NetView *v, const char *buf, size_t size, uint32_t seq, bool *interrupted)
{
        for (size_t off = 0; off + sizeof(struct nlmsghdr) <= size;) {
                const struct nlmsghdr *h = (const void *)(buf + off);
                int r;
                if (h->nlmsg_len < sizeof(*h) || h->nlmsg_len > size - off)
                        return -EBADMSG;
                off += NLMSG_ALIGN(h->nlmsg_len);
                if (h->nlmsg_seq != seq)
                        continue;
                if (h->nlmsg_flags & NLM_F_DUMP_INTR)
                        *interrupted = true;
                if (h->nlmsg_type == NLMSG_DONE) {
                        int error = 0;
                        if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(error)))
                                memcpy(&error, NLMSG_DATA(h), sizeof(error));
                        return error < 0 ? error : *interrupted ? -EAGAIN : 1;
                }
                if (h->nlmsg_type == NLMSG_ERROR) {
                        const struct nlmsgerr *e = NLMSG_DATA(h);
                        return h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error < 0 ? e->error : -EIO;
                }
                if ((r = net_view_add_message(v, h)) < 0)
                        return r;
        }
        return 0;
}

/* One dump request and all its answers. -errno of the kernel's refusal. */
static int dump(NetView *v, int fd, uint16_t type, const void *header, size_t header_size)
{
        struct {
                struct nlmsghdr h;
                char payload[32];
        } req = {.h = {.nlmsg_len = NLMSG_LENGTH(header_size),
                       .nlmsg_type = type,
                       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
                       .nlmsg_seq = type}};
        _Alignas(struct nlmsghdr) char buf[65536];
        bool interrupted = false;

        memcpy(req.payload, header, header_size);
        if (send(fd, &req, req.h.nlmsg_len, 0) < 0)
                return -errno;
        for (;;) {
                ssize_t n = recv(fd, buf, sizeof(buf), 0);
                int r;
                if (n <= 0)
                        return n < 0 ? -errno : -EIO;
                r = net_view_add_batch(v, buf, (size_t)n, type, &interrupted);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
}

/* Why a dump failed, for the reason a claim is refused. */
static const char *dump_failure(int r)
{
        return r == -EAGAIN ? "they changed while vfiod read them; try again" : strerror(-r);
}

int net_view_new(NetView **ret)
{
        NetView *v = calloc(1, sizeof(*v));
        _cleanup_close_ int fd = -1;
        struct timeval timeout = {.tv_sec = 5};
        struct nhmsg nhm = {.nh_family = AF_UNSPEC};
        struct rtmsg rtm = {.rtm_family = AF_UNSPEC};
        struct ifaddrmsg ifa = {.ifa_family = AF_UNSPEC};
        int r;

        if (!v)
                return -ENOMEM;
        fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) < 0) {
                note_unknown(v, "vfiod cannot open a netlink socket (%s)", strerror(errno));
                *ret = v;
                return 0;
        }
        /* Kernels before 5.3 have no nexthop objects, nor routes using them. */
        r = dump(v, fd, RTM_GETNEXTHOP, &nhm, sizeof(nhm));
        if (r < 0 && r != -EINVAL && r != -EOPNOTSUPP)
                note_unknown(v, "the kernel's nexthops cannot be read (%s)", dump_failure(r));
        r = dump(v, fd, RTM_GETROUTE, &rtm, sizeof(rtm));
        if (r < 0)
                note_unknown(v, "the kernel's routes cannot be read (%s)", dump_failure(r));
        r = dump(v, fd, RTM_GETADDR, &ifa, sizeof(ifa));
        if (r < 0)
                note_unknown(v, "the kernel's addresses cannot be read (%s)", dump_failure(r));
        *ret = v;
        return 0;
}

NetView *net_view_free(NetView *v)
{
        if (!v)
                return NULL;
        for (size_t i = 0; i < v->n_nexthops; i++)
                free(v->nexthops[i].members);
        free(v->nexthops);
        free(v->routes);
        free(v->addressed);
        first_reason_done(&v->unknown);
        free(v);
        return NULL;
}
