/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs-util.h"
#include "macro.h"
#include "net-use.h"
#include "strv.h"

/* More devices stacked on one interface than vfiod follows: 4094 VLANs
 * fit below this, each with its bridge. A stack this large is taken as
 * the host's, since what vfiod did not follow may carry its route. */
#define NET_STACK_MAX 8192

static const char *table_name(uint32_t table, char *buf, size_t size)
{
        switch (table) {
        case 253:
                return "default";
        case 254:
                return "main";
        case 255:
                return "local";
        default:
                snprintf(buf, size, "%u", table);
                return buf;
        }
}

static long read_sysfs_number(const char *ifname, const char *attribute, int base)
{
        char path[PATH_MAX];
        _cleanup_free_ char *s = NULL;

        snprintf(path, sizeof(path), "/sys/class/net/%s/%s", ifname, attribute);
        s = read_full_file(path);
        return s ? strtol(s, NULL, base) : -1;
}

/* ifname and every device stacked on it, however deep, ifname first: the
 * kernel links each upper device (bridge or bond master, VLAN, macvlan,
 * ipvlan) as upper_NAME in the lower one's directory. Each device is
 * listed once, so a loop ends. -errno when a directory cannot be read (a
 * device renamed or gone meanwhile) or the stack is larger than
 * NET_STACK_MAX: then what is stacked is not known. */
static int interface_stack(const char *ifname, char ***ret, size_t *n)
{
        int r = strv_push(ret, n, strdup(ifname));

        for (size_t i = 0; r >= 0 && i < *n; i++) {
                char path[PATH_MAX];
                struct dirent *de;
                DIR *dir;
                snprintf(path, sizeof(path), "/sys/class/net/%s", (*ret)[i]);
                if (!(dir = opendir(path)))
                        return -errno;
                while (r >= 0 && (de = readdir(dir))) {
                        bool seen = false;
                        if (strncmp(de->d_name, "upper_", 6) != 0)
                                continue;
                        for (size_t k = 0; k < *n && !seen; k++)
                                seen = streq((*ret)[k], de->d_name + 6);
                        if (seen)
                                continue;
                        r = *n < NET_STACK_MAX ? strv_push(ret, n, strdup(de->d_name + 6)) : -E2BIG;
                }
                closedir(dir);
        }
        return r;
}

static bool report_default_route(NetView *v, UseReport *u, const char *address, char **stack, size_t n)
{
        char buf[16];

        for (size_t i = 0; i < n; i++) {
                long ifindex = read_sysfs_number(stack[i], "ifindex", 10);
                const DefaultRoute *route = ifindex > 0 ? net_view_default_route(v, (int)ifindex) : NULL;
                if (ifindex <= 0) {
                        /* Renamed or gone since the stack was read. */
                        use_report_add(u, DEVICE_USE_HOST_CRITICAL,
                                       "%s is %s, and vfiod cannot read the index of %s, stacked on it: it may "
                                       "carry the host's default route",
                                       address, stack[0], stack[i]);
                        return true;
                }
                if (!route)
                        continue;
                if (i == 0)
                        use_report_add(u, DEVICE_USE_HOST_CRITICAL,
                                       "%s is %s, which carries a default route (table %s)", address,
                                       stack[0], table_name(route->table, buf, sizeof(buf)));
                else
                        use_report_add(u, DEVICE_USE_HOST_CRITICAL,
                                       "%s is %s, below %s, which carries a default route (table %s)",
                                       address, stack[0], stack[i],
                                       table_name(route->table, buf, sizeof(buf)));
                return true;
        }
        return false;
}

static bool has_address(const NetView *v, const char *ifname)
{
        long ifindex = read_sysfs_number(ifname, "ifindex", 10);

        for (size_t i = 0; ifindex > 0 && i < v->n_addressed; i++)
                if (v->addressed[i] == ifindex)
                        return true;
        return false;
}

static void report_in_use(NetView *v, UseReport *u, const char *address, char **stack, size_t n)
{
        char path[PATH_MAX];
        _cleanup_free_ char *master = NULL;
        long flags = read_sysfs_number(stack[0], "flags", 16);

        snprintf(path, sizeof(path), "/sys/class/net/%s/master", stack[0]);
        if (readlink_basename(path, &master) >= 0 && master)
                use_report_add(u, DEVICE_USE_BUSY, "%s is %s, enslaved to %s", address, stack[0], master);
        else if (n > 1)
                use_report_add(u, DEVICE_USE_BUSY, "%s is %s, below %s", address, stack[0], stack[1]);
        else if (flags < 0)
                use_report_add(u, DEVICE_USE_BUSY, "%s is %s, whose state vfiod cannot read", address, stack[0]);
        else if ((flags & IFF_UP) && has_address(v, stack[0]))
                use_report_add(u, DEVICE_USE_BUSY, "%s is %s, which is up with addresses", address,
                               stack[0]);
}

void net_check_hidden_interfaces(UseReport *u, const char *address, const char *net_dir)
{
        struct dirent *de;
        bool seen = false;
        DIR *dir = opendir(net_dir);

        if (!dir) {
                use_report_add(u, DEVICE_USE_BUSY, "%s has network interfaces (%s) that vfiod cannot list (%s)",
                               address, net_dir, strerror(errno));
                return;
        }
        while (!seen && (de = readdir(dir)))
                seen = de->d_name[0] != '.';
        closedir(dir);
        if (!seen)
                use_report_add(u, DEVICE_USE_BUSY,
                               "%s has a network interface in another network namespace (a container's): vfiod "
                               "cannot see what it carries",
                               address);
}

/* Renames an interface may go through between the listing of its device
 * and the look at its stack: a NIC bound anew comes as "ethN" and udev
 * gives it its name a moment later. */
#define NET_RENAMES_FOLLOWED 3

/* Whether interface ifname lives below the PCI function at address (its
 * own, or a virtio device's below it). */
static bool interface_below(const char *ifname, const char *address)
{
        char path[PATH_MAX], pattern[PATH_MAX];
        _cleanup_free_ char *real = NULL;

        snprintf(path, sizeof(path), "/sys/class/net/%s", ifname);
        snprintf(pattern, sizeof(pattern), "/%s/", address);
        real = realpath(path, NULL);
        return real && strstr(real, pattern);
}

/* ifname's stack, as interface_stack(); when ifname is gone, that of the
 * name interface ifindex has now, if it is still the function's (its
 * current name then in ifname). */
static int current_interface_stack(const char *address, char ifname[static IF_NAMESIZE], int ifindex, char ***ret,
                                   size_t *n)
{
        int r = interface_stack(ifname, ret, n);

        for (int i = 0; r == -ENOENT && ifindex > 0 && i < NET_RENAMES_FOLLOWED; i++) {
                char now[IF_NAMESIZE];
                /* Gone, or an index reused meanwhile by someone else's
                 * interface: what was on this one is not known. */
                if (!if_indextoname((unsigned)ifindex, now) || streq(now, ifname) || !interface_below(now, address))
                        break;
                memcpy(ifname, now, IF_NAMESIZE);
                strv_free(*ret);
                *ret = NULL;
                *n = 0;
                r = interface_stack(ifname, ret, n);
        }
        return r;
}

void net_check_interface(NetView *v, UseReport *u, const char *address, const char *listed_name, int ifindex)
{
        char ifname[IF_NAMESIZE];
        char **stack = NULL;
        size_t n = 0;
        int r;

        snprintf(ifname, sizeof(ifname), "%s", listed_name);

        if (v->unknown.set) {
                use_report_add(u, DEVICE_USE_HOST_CRITICAL,
                               "%s is %s, and %s: it may carry the host's default route", address, ifname,
                               first_reason_text(&v->unknown));
                return;
        }
        if ((r = current_interface_stack(address, ifname, ifindex, &stack, &n)) < 0)
                use_report_add(u, DEVICE_USE_HOST_CRITICAL,
                               "%s is %s, and vfiod cannot follow what is stacked on it (%s): it may carry "
                               "the host's default route",
                               address, ifname, r == -E2BIG ? "more than 8192 devices" : strerror(-r));
        else if (!report_default_route(v, u, address, stack, n))
                report_in_use(v, u, address, stack, n);
        strv_free(stack);
}
