/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "lease.h"
#include "log.h"
#include "macro.h"

struct Leases {
        sd_event *event;
        sd_bus *bus;
        int guards_dir_fd;
        uint64_t last_id;
        Lease *first;
        LeaseGoneFn on_gone;
        void *userdata;
};

static void guard_name(const Lease *l, char *buf, size_t size)
{
        snprintf(buf, size, "lease-%" PRIu64, l->info.id);
}

static void holder_gone(Lease *l, const char *reason)
{
        log_info("Lease %" PRIu64 " of group %d: %s.", l->info.id, l->info.group, reason);
        l->leases->on_gone(l, reason, l->leases->userdata);
}

/* Watched for no event: the kernel reports a hangup all the same, and
 * what the holder writes stays unread in the FIFO, where the kernel stops
 * the writer once the pipe is full. Reading it would let the holder keep
 * vfiod's loop busy. */
static int on_guard(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        holder_gone(userdata, "guard-closed");
        return 0;
}

/* userdata is NULL while the holder is followed for a lease still to
 * come: the lease finds the track empty then. Returns 1: a track handler
 * that returns 0 is called again at once, for as long as the track stays
 * empty. */
static int on_track_empty(sd_bus_track *track, void *userdata)
{
        if (userdata)
                holder_gone(userdata, "holder-disconnected");
        return 1;
}

/* sd_bus_track subscribes to the name's departure, then asks the bus
 * whether the name is there still: adding a holder that left already (a
 * caller gone during its claim, a holder gone while vfiod was away) fails. */
int leases_follow_holder(Leases *ls, const char *holder, sd_bus_track **ret)
{
        _cleanup_(sd_bus_track_unrefp) sd_bus_track *track = NULL;
        int r = sd_bus_track_new(ls->bus, &track, on_track_empty, NULL);

        if (r >= 0)
                r = sd_bus_track_add_name(track, holder);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(track);
        return 0;
}

static int track_connection(Lease *l, sd_bus_track *followed)
{
        int r;

        if (!followed) {
                r = leases_follow_holder(l->leases, l->info.holder, &l->track);
                if (r == -ENXIO) /* sd-bus's word for a name nobody owns */
                        return LEASE_HOLDER_LEFT;
                if (r < 0)
                        return r;
        } else if (sd_bus_track_count(followed) == 0)
                return LEASE_HOLDER_LEFT; /* while its claim ran */
        else
                l->track = sd_bus_track_ref(followed);
        sd_bus_track_set_userdata(l->track, l);
        return LEASE_STARTED;
}

/* Opens the FIFO's read end and watches it. The kernel reports a hangup
 * only once a writer has come since the read end was opened: the short-
 * lived write end opened here is that writer, and after a restart it makes
 * a FIFO whose holder is gone hang up at once. */
static int watch_guard(Lease *l, bool create, int *ret_write_fd)
{
        char name[48];
        _cleanup_close_ int rfd = -1, wfd = -1;
        int r;

        guard_name(l, name, sizeof(name));
        if (create && mkfifoat(l->leases->guards_dir_fd, name, 0600) < 0)
                return -errno;
        rfd = openat(l->leases->guards_dir_fd, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
        if (rfd < 0)
                return errno == ENOENT ? LEASE_GUARD_CLOSED : -errno;
        wfd = openat(l->leases->guards_dir_fd, name, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
        if (wfd < 0)
                return -errno;
        r = sd_event_add_io(l->leases->event, &l->guard, rfd, 0, on_guard, l);
        if (r < 0)
                return r;
        (void)sd_event_source_set_io_fd_own(l->guard, true);
        TAKE_FD(rfd);
        if (ret_write_fd)
                *ret_write_fd = TAKE_FD(wfd);
        return 0;
}

static int lease_start(Leases *ls, const LeaseInfo *info, sd_bus_track *followed, bool fresh, int *ret_guard_fd,
                       Lease **ret)
{
        Lease *l = calloc(1, sizeof(*l));
        int r = 0;

        if (!l)
                return -ENOMEM;
        l->info = *info;
        l->leases = ls;
        if (info->lifetime == LEASE_LIFETIME_CONNECTION)
                r = track_connection(l, followed);
        else if (info->lifetime == LEASE_LIFETIME_GUARD_FD)
                r = watch_guard(l, fresh, ret_guard_fd);
        if (info->id > ls->last_id)
                ls->last_id = info->id;
        l->next = ls->first;
        ls->first = l;
        if (r != LEASE_STARTED) {
                lease_remove(l);
                return r;
        }
        *ret = l;
        return LEASE_STARTED;
}

int lease_add(Leases *ls, const LeaseInfo *info, sd_bus_track *followed, int *ret_guard_fd, Lease **ret)
{
        return lease_start(ls, info, followed, true, ret_guard_fd, ret);
}

int lease_resume(Leases *ls, const LeaseInfo *info, Lease **ret)
{
        return lease_start(ls, info, NULL, false, NULL, ret);
}

/* Stops following the holder; the FIFO stays. */
static void lease_free(Lease *l)
{
        sd_bus_track_unref(l->track);
        sd_event_source_disable_unref(l->guard);
        free(l);
}

void lease_remove(Lease *l)
{
        char name[48];

        if (!l)
                return;
        for (Lease **p = &l->leases->first; *p; p = &(*p)->next)
                if (*p == l) {
                        *p = l->next;
                        break;
                }
        if (l->info.lifetime == LEASE_LIFETIME_GUARD_FD) {
                guard_name(l, name, sizeof(name));
                (void)unlinkat(l->leases->guards_dir_fd, name, 0);
        }
        lease_free(l);
}

uint64_t leases_next_id(Leases *ls)
{
        return ++ls->last_id;
}

Lease *leases_first(const Leases *ls)
{
        return ls->first;
}

Lease *leases_find_id(const Leases *ls, uint64_t id)
{
        for (Lease *l = ls->first; l; l = l->next)
                if (l->info.id == id)
                        return l;
        return NULL;
}

Lease *leases_find_group(const Leases *ls, int group)
{
        for (Lease *l = ls ? ls->first : NULL; l; l = l->next)
                if (l->info.group == group)
                        return l;
        return NULL;
}

bool leases_follow_holders(const Leases *ls)
{
        for (Lease *l = ls->first; l; l = l->next)
                if (l->info.lifetime != LEASE_LIFETIME_PERSISTENT && l->info.lifetime != LEASE_LIFETIME_CLAIM_ID)
                        return true;
        return false;
}

int leases_new(sd_event *event, sd_bus *bus, const char *state_dir, LeaseGoneFn on_gone, void *userdata,
               Leases **ret)
{
        Leases *ls;
        int fd = open_private_dir(state_dir, "guards");

        if (fd < 0)
                return fd;
        ls = calloc(1, sizeof(*ls));
        if (!ls) {
                close(fd);
                return -ENOMEM;
        }
        ls->guards_dir_fd = fd;
        ls->event = sd_event_ref(event);
        ls->bus = sd_bus_ref(bus);
        ls->on_gone = on_gone;
        ls->userdata = userdata;
        *ret = ls;
        return 0;
}

/* Leases end with the daemon only in memory: their records and FIFOs stay
 * for the next start. */
Leases *leases_free(Leases *ls)
{
        if (!ls)
                return NULL;
        while (ls->first) {
                Lease *l = ls->first;
                ls->first = l->next;
                lease_free(l);
        }
        close(ls->guards_dir_fd);
        sd_bus_unref(ls->bus);
        sd_event_unref(ls->event);
        free(ls);
        return NULL;
}
