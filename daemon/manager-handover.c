/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "device-model.h"
#include "fault-injection.h"
#include "group-work.h"
#include "handover.h"
#include "macro.h"
#include "manager-handover.h"
#include "vfio-holders.h"

typedef enum HandoverOp {
        HANDOVER_CHECK_NODE,
        HANDOVER_OPEN, /* the fds of fd and cdev modes */
} HandoverOp;

typedef struct Handover Handover;
struct Handover {
        /* The loop's. */
        Handover **list, *next;
        GroupWork *work;
        HandoverOp op;
        HandlesOpenedFn opened;   /* HANDOVER_OPEN's */
        NodeCheckedFn checked;    /* HANDOVER_CHECK_NODE's */
        void *userdata;
        /* Set before the worker starts; read by it. */
        int group;
        LeaseMode mode;     /* HANDOVER_OPEN's */
        size_t n_endpoints; /* cdev mode: handles.devices has their addresses */
        /* The worker's, until the loop hears that it is done. */
        int result;
        LeaseHandles handles;
};

void lease_handles_close(LeaseHandles *h)
{
        closep(&h->group_fd);
        closep(&h->container_fd);
        closep(&h->iommufd);
        for (size_t i = 0; i < h->n_devices; i++)
                closep(&h->devices[i].fd);
        free(h->devices);
        closep(&h->guard_fd);
        *h = LEASE_HANDLES_NONE;
}

/* ---- in the worker ---- */

/* cdev mode: every endpoint's cdev, and an iommufd to bind them to. */
static int open_cdevs(Handover *h)
{
        LeaseHandles *l = &h->handles;
        /* Nobody may have it bound already: the holder could not bind it. */
        int r = vfio_group_node_busy(h->group);

        if (r != 0)
                return r < 0 ? r : -EBUSY;
        for (; l->n_devices < h->n_endpoints; l->n_devices++) {
                HandedDevice *d = &l->devices[l->n_devices];
                d->fd = handover_open_cdev(d->address);
                if (d->fd < 0)
                        return d->fd;
        }
        l->iommufd = handover_open_iommufd();
        return l->iommufd < 0 ? l->iommufd : 0;
}

static int open_handles(Handover *h)
{
        if (h->mode == LEASE_MODE_FD)
                return handover_open_fds(h->group, &h->handles.group_fd, &h->handles.container_fd);
        return open_cdevs(h);
}

static void in_worker(void *userdata)
{
        Handover *h = userdata;

        h->result = fault_inject("lease", h->op == HANDOVER_CHECK_NODE ? "check" : "open", NULL);
        if (h->result >= 0)
                h->result = h->op == HANDOVER_CHECK_NODE ? vfio_group_node_busy(h->group) : open_handles(h);
}

/* ---- on the loop ---- */

static void handover_free(void *userdata)
{
        Handover *h = userdata;

        lease_handles_close(&h->handles); /* none when they went to done */
        free(h);
}

static void unlink_handover(Handover *h)
{
        for (Handover **p = h->list; *p; p = &(*p)->next)
                if (*p == h) {
                        *p = h->next;
                        return;
                }
}

static void on_done(void *userdata)
{
        Handover *h = userdata;
        LeaseHandles handles = LEASE_HANDLES_NONE;

        unlink_handover(h);
        if (h->op == HANDOVER_CHECK_NODE) {
                h->checked(h->result, h->userdata);
                return;
        }
        if (h->result >= 0) { /* the fds go with the answer */
                handles = h->handles;
                h->handles = LEASE_HANDLES_NONE;
        } else /* now: the group's next work must not see them as a holder's */
                lease_handles_close(&h->handles);
        h->opened(h->result, &handles, h->userdata);
}

static int start(Manager *m, Handover *h)
{
        int r;

        h->list = &m->handovers;
        r = group_work_start(m->group_work, h->group, in_worker, on_done, handover_free, h, &h->work);
        if (r < 0) {
                handover_free(h);
                return r;
        }
        h->next = m->handovers;
        m->handovers = h;
        return 0;
}

static Handover *handover_new(int group, HandoverOp op, void *userdata)
{
        Handover *h = calloc(1, sizeof(*h));

        if (h)
                *h = (Handover){ .op = op, .group = group, .userdata = userdata, .handles = LEASE_HANDLES_NONE };
        return h;
}

/* cdev mode: the endpoints' addresses, for the worker. */
static int plan_cdevs(Manager *m, Handover *h)
{
        const Group *g = device_model_find_group(m->model, h->group);
        _cleanup_free_ char **addresses = NULL;
        int r;

        if (!g)
                return -ENXIO; /* gone meanwhile */
        r = group_endpoint_addresses(g, &addresses, &h->n_endpoints);
        if (r < 0)
                return r;
        h->handles.devices = calloc(h->n_endpoints, sizeof(*h->handles.devices));
        if (!h->handles.devices)
                return -ENOMEM;
        for (size_t i = 0; i < h->n_endpoints; i++) {
                HandedDevice *d = &h->handles.devices[i];
                d->fd = -1;
                snprintf(d->address, sizeof(d->address), "%s", addresses[i]);
        }
        return 0;
}

bool lease_mode_opens(LeaseMode mode)
{
        return mode == LEASE_MODE_FD || mode == LEASE_MODE_CDEV;
}

int manager_open_handles(Manager *m, int group, LeaseMode mode, HandlesOpenedFn done, void *userdata)
{
        Handover *h;
        int r;

        if (!lease_mode_opens(mode))
                return -EINVAL;
        h = handover_new(group, HANDOVER_OPEN, userdata);
        if (!h)
                return -ENOMEM;
        h->opened = done;
        h->mode = mode;
        if (mode == LEASE_MODE_CDEV && (r = plan_cdevs(m, h)) < 0) {
                handover_free(h);
                return r;
        }
        return start(m, h);
}

bool manager_checking_node(const Manager *m, int group)
{
        for (const Handover *h = m->handovers; h; h = h->next)
                if (h->op == HANDOVER_CHECK_NODE && h->group == group)
                        return true;
        return false;
}

int manager_check_node(Manager *m, int group, NodeCheckedFn done, void *userdata)
{
        Handover *h = handover_new(group, HANDOVER_CHECK_NODE, userdata);

        if (!h)
                return -ENOMEM;
        h->checked = done;
        return start(m, h);
}

void manager_cancel_handovers(Manager *m)
{
        while (m->handovers) {
                Handover *h = m->handovers;

                m->handovers = h->next;
                group_work_cancel(h->work); /* h goes now, or with its worker */
        }
}
