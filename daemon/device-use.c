/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <systemd/sd-device.h>
#include <unistd.h>

#include "device-use.h"
#include "fs-util.h"
#include "macro.h"

typedef struct Mount {
        dev_t devnum;
        char mountpoint[PATH_MAX / 4], fstype[32], source[256];
} Mount;

/* What the checks found so far, critical reasons winning over busy ones;
 * and the host's mount and swap tables, read once per check when a device
 * first needs them. */
typedef struct UseReport {
        FILE *critical, *busy;
        char *critical_text, *busy_text;
        size_t critical_size, busy_size;
        size_t n_critical, n_busy;

        bool tables_read;
        Mount *mounts;
        size_t n_mounts;
        dev_t *swaps; /* the block devices of active swaps */
        size_t n_swaps;
} UseReport;

_printf_(3, 4) static void report(UseReport *u, DeviceUse use, const char *fmt, ...)
{
        FILE *f = use == DEVICE_USE_HOST_CRITICAL ? u->critical : u->busy;
        size_t *n = use == DEVICE_USE_HOST_CRITICAL ? &u->n_critical : &u->n_busy;
        va_list ap;

        if ((*n)++ > 0)
                fputs("; ", f);
        va_start(ap, fmt);
        vfprintf(f, fmt, ap);
        va_end(ap);
}

/* ---- mounts and swaps ---- */

/* /proc/self/mountinfo:
 * "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE ..." */
static void read_mounts(UseReport *u)
{
        _cleanup_free_ char *line = NULL;
        size_t size = 0;
        FILE *f = fopen("/proc/self/mountinfo", "re");
        Mount mnt, *a;

        if (!f)
                return;
        while (getline(&line, &size, f) > 0) {
                unsigned maj, min;
                char *dash = strstr(line, " - ");
                if (!dash || sscanf(line, "%*u %*u %u:%u %*s %1023s", &maj, &min, mnt.mountpoint) != 3 ||
                    sscanf(dash, " - %31s %255s", mnt.fstype, mnt.source) != 2)
                        continue;
                mnt.devnum = makedev(maj, min);
                a = reallocarray(u->mounts, u->n_mounts + 1, sizeof(*a));
                if (!a)
                        break;
                u->mounts = a;
                u->mounts[u->n_mounts++] = mnt;
        }
        fclose(f);
}

/* /proc/swaps: "FILENAME TYPE SIZE USED PRIORITY"; swap files live on a
 * mounted filesystem, which the mount check finds. */
static void read_swaps(UseReport *u)
{
        _cleanup_free_ char *line = NULL;
        size_t size = 0;
        FILE *f = fopen("/proc/swaps", "re");
        char path[PATH_MAX / 4];
        struct stat st;
        dev_t *a;

        if (!f)
                return;
        while (getline(&line, &size, f) > 0) {
                if (sscanf(line, "%1023s", path) != 1 || path[0] != '/' || stat(path, &st) < 0 ||
                    !S_ISBLK(st.st_mode))
                        continue;
                a = reallocarray(u->swaps, u->n_swaps + 1, sizeof(*a));
                if (!a)
                        break;
                u->swaps = a;
                u->swaps[u->n_swaps++] = st.st_rdev;
        }
        fclose(f);
}

static void read_tables(UseReport *u)
{
        if (u->tables_read)
                return;
        u->tables_read = true;
        read_mounts(u);
        read_swaps(u);
}

/* A block device, and whatever is stacked on it (dm, md): its holders. */
static void check_block(UseReport *u, const char *address, const char *name, int depth)
{
        char path[PATH_MAX];
        _cleanup_free_ char *dev = NULL;
        unsigned maj, min;
        dev_t devnum;
        DIR *holders;
        struct dirent *de;

        snprintf(path, sizeof(path), "/sys/class/block/%s/dev", name);
        dev = read_full_file(path);
        if (!dev || sscanf(dev, "%u:%u", &maj, &min) != 2)
                return;
        devnum = makedev(maj, min);
        read_tables(u);
        for (size_t i = 0; i < u->n_mounts; i++)
                if (u->mounts[i].devnum == devnum)
                        report(u, DEVICE_USE_HOST_CRITICAL, "%s holds %s, mounted at %s", address, name,
                               u->mounts[i].mountpoint);
        for (size_t i = 0; i < u->n_swaps; i++)
                if (u->swaps[i] == devnum)
                        report(u, DEVICE_USE_HOST_CRITICAL, "%s holds %s, an active swap", address, name);

        snprintf(path, sizeof(path), "/sys/class/block/%s/holders", name);
        holders = depth < 8 ? opendir(path) : NULL;
        if (!holders)
                return;
        while ((de = readdir(holders)))
                if (de->d_name[0] != '.')
                        check_block(u, address, de->d_name, depth + 1);
        closedir(holders);
}

/* A virtio device's mount tag names the 9p or virtiofs filesystem it carries. */
static void check_mount_tag(UseReport *u, const char *address, const char *tag)
{
        read_tables(u);
        for (size_t i = 0; i < u->n_mounts; i++) {
                const Mount *mnt = &u->mounts[i];
                if ((streq(mnt->fstype, "9p") || streq(mnt->fstype, "virtiofs")) && streq(mnt->source, tag))
                        report(u, DEVICE_USE_HOST_CRITICAL, "%s carries the %s filesystem '%s' mounted at %s",
                               address, mnt->fstype, tag, mnt->mountpoint);
        }
}

/* ---- the default route ---- */

static bool is_default_route_interface(const char *ifname)
{
        _cleanup_free_ char *line = NULL;
        size_t size = 0;
        char name[64], dest[64];
        unsigned plen, mask;
        bool found = false;
        FILE *f;

        /* "Iface Destination Gateway Flags RefCnt Use Metric Mask ..." in hex */
        if ((f = fopen("/proc/net/route", "re"))) {
                while (!found && getline(&line, &size, f) > 0)
                        found = sscanf(line, "%63s %63s %*s %*s %*s %*s %*s %x", name, dest, &mask) == 3 &&
                                streq(name, ifname) && streq(dest, "00000000") && mask == 0;
                fclose(f);
        }
        /* "DEST PLEN SRC SPLEN NEXTHOP METRIC REFCNT USE FLAGS IFACE" */
        if (!found && (f = fopen("/proc/net/ipv6_route", "re"))) {
                while (!found && getline(&line, &size, f) > 0)
                        found = sscanf(line, "%63s %x %*s %*s %*s %*s %*s %*s %*s %63s", dest, &plen, name) == 3 &&
                                streq(name, ifname) && plen == 0 && strspn(dest, "0") == 32;
                fclose(f);
        }
        return found;
}

/* ---- the console on the boot VGA ---- */

/* The bound virtual console drivers other than the dummy: the VGA text
 * console or a framebuffer console, both on the boot display. */
static void check_console(UseReport *u, const char *address)
{
        char path[PATH_MAX];
        DIR *dir = opendir("/sys/class/vtconsole");
        struct dirent *de;

        if (!dir)
                return;
        while ((de = readdir(dir))) {
                _cleanup_free_ char *bind = NULL, *name = NULL;
                if (strncmp(de->d_name, "vtcon", 5) != 0)
                        continue;
                snprintf(path, sizeof(path), "/sys/class/vtconsole/%s/bind", de->d_name);
                bind = read_full_file(path);
                snprintf(path, sizeof(path), "/sys/class/vtconsole/%s/name", de->d_name);
                name = read_full_file(path);
                if (!bind || bind[0] != '1' || !name || strstr(name, "dummy"))
                        continue;
                name[strcspn(name, "\n")] = '\0';
                report(u, DEVICE_USE_HOST_CRITICAL, "%s is the boot VGA and shows the console (%s: %s)",
                       address, de->d_name, name);
        }
        closedir(dir);
}

/* ---- open device nodes ---- */

typedef struct Node {
        char devname[64];
        dev_t devnum;
        bool block, display;
        const char *address; /* of the PCI function it belongs to */
        bool critical;       /* a display node of the boot VGA */
} Node;

typedef struct NodeList {
        Node *nodes;
        size_t n;
} NodeList;

static void node_list_add(NodeList *l, sd_device *d, const char *address, bool critical)
{
        const char *devname, *subsystem = NULL;
        dev_t devnum;
        Node *a;

        if (sd_device_get_devnum(d, &devnum) < 0 || sd_device_get_devname(d, &devname) < 0)
                return;
        a = reallocarray(l->nodes, l->n + 1, sizeof(*a));
        if (!a)
                return;
        l->nodes = a;
        (void)sd_device_get_subsystem(d, &subsystem);
        a[l->n] = (Node){ .devnum = devnum, .address = address, .critical = critical,
                          .block = subsystem && streq(subsystem, "block") };
        snprintf(a[l->n].devname, sizeof(a[l->n].devname), "%s", devname);
        l->n++;
}

/* The node an fd of a process refers to, if it is one of ours. */
static const Node *node_of_fd(const NodeList *l, const char *fd_path)
{
        struct stat st;

        if (stat(fd_path, &st) < 0 || !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)))
                return NULL;
        for (size_t i = 0; i < l->n; i++)
                if (l->nodes[i].devnum == st.st_rdev && l->nodes[i].block == S_ISBLK(st.st_mode))
                        return &l->nodes[i];
        return NULL;
}

static void check_process(UseReport *u, const NodeList *l, const char *pid)
{
        char path[PATH_MAX];
        _cleanup_free_ char *comm = NULL;
        const Node *node = NULL;
        struct dirent *de;
        DIR *fds;

        snprintf(path, sizeof(path), "/proc/%s/fd", pid);
        fds = opendir(path);
        if (!fds)
                return; /* gone, or a kernel thread */
        while (!node && (de = readdir(fds))) {
                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/fd/%s", pid, de->d_name);
                node = node_of_fd(l, path);
        }
        closedir(fds);
        if (!node)
                return;
        snprintf(path, sizeof(path), "/proc/%s/comm", pid);
        comm = read_full_file(path);
        if (comm)
                comm[strcspn(comm, "\n")] = '\0';
        report(u, node->critical ? DEVICE_USE_HOST_CRITICAL : DEVICE_USE_BUSY, "%s of %s is open in PID %s (%s)",
               node->devname, node->address, pid, strna(comm));
}

static void check_open_nodes(UseReport *u, const NodeList *l)
{
        char self[16];
        struct dirent *de;
        DIR *proc;

        if (l->n == 0)
                return; /* nothing to look for: spare the scan of every process */
        proc = opendir("/proc");
        if (!proc)
                return;
        snprintf(self, sizeof(self), "%d", getpid());
        while ((de = readdir(proc)))
                if (de->d_name[0] >= '1' && de->d_name[0] <= '9' && !streq(de->d_name, self))
                        check_process(u, l, de->d_name);
        closedir(proc);
}

/* ---- one PCI function and what hangs below it ---- */

static void check_child(UseReport *u, NodeList *nodes, sd_device *child, const char *address, bool boot_vga)
{
        const char *subsystem = NULL, *sysname = NULL, *tag = NULL;

        (void)sd_device_get_subsystem(child, &subsystem);
        (void)sd_device_get_sysname(child, &sysname);
        if (!subsystem || !sysname)
                return;
        if (streq(subsystem, "block"))
                check_block(u, address, sysname, 0);
        else if (streq(subsystem, "net") && is_default_route_interface(sysname))
                report(u, DEVICE_USE_HOST_CRITICAL, "%s is %s, the interface of the default route", address,
                       sysname);
        else if (streq(subsystem, "virtio") && sd_device_get_sysattr_value(child, "mount_tag", &tag) >= 0)
                check_mount_tag(u, address, tag);
        node_list_add(nodes, child, address,
                      boot_vga && (streq(subsystem, "drm") || streq(subsystem, "graphics")));
}

/* The devices below a PCI function are the directories under its syspath
 * that have a uevent file: walking them is far cheaper than an enumerator,
 * which reads every device of the system to filter by parent. */
static void check_children(UseReport *u, NodeList *nodes, const char *path, const char *address, bool boot_vga,
                           int depth)
{
        DIR *dir = depth < 8 ? opendir(path) : NULL;
        struct dirent *de;

        if (!dir)
                return;
        while ((de = readdir(dir))) {
                char child[PATH_MAX], uevent[PATH_MAX + sizeof("/uevent")];
                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue; /* links (driver, subsystem, iommu_group) lead elsewhere */
                if ((size_t)snprintf(child, sizeof(child), "%s/%s", path, de->d_name) >= sizeof(child))
                        continue; /* no device lies deeper than PATH_MAX */
                snprintf(uevent, sizeof(uevent), "%s/uevent", child);
                if (access(uevent, F_OK) == 0) {
                        _cleanup_(sd_device_unrefp) sd_device *d = NULL;
                        if (sd_device_new_from_syspath(&d, child) >= 0)
                                check_child(u, nodes, d, address, boot_vga);
                }
                check_children(u, nodes, child, address, boot_vga, depth + 1);
        }
        closedir(dir);
}

/* Plain paths rather than an sd_device: resolving one costs some thirty
 * system calls, and this runs before every claim. */
static int check_function(UseReport *u, NodeList *nodes, const char *address)
{
        char syspath[PATH_MAX], path[PATH_MAX + sizeof("/boot_vga")];
        _cleanup_free_ char *boot_vga = NULL;
        bool is_boot_vga;

        snprintf(syspath, sizeof(syspath), "/sys/bus/pci/devices/%s", address);
        if (access(syspath, F_OK) < 0)
                return -errno;
        snprintf(path, sizeof(path), "%s/boot_vga", syspath);
        boot_vga = read_full_file(path);
        is_boot_vga = boot_vga && boot_vga[0] == '1';
        if (is_boot_vga)
                check_console(u, address);
        check_children(u, nodes, syspath, address, is_boot_vga, 0);
        return 0;
}

int device_use_check(char *const *addresses, size_t n, DeviceUse *ret_use, char **ret_reason)
{
        UseReport u = {};
        NodeList nodes = {};
        int r = 0;

        u.critical = open_memstream(&u.critical_text, &u.critical_size);
        u.busy = open_memstream(&u.busy_text, &u.busy_size);
        if (!u.critical || !u.busy)
                r = -ENOMEM;
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = check_function(&u, &nodes, addresses[i]);
        if (r >= 0)
                check_open_nodes(&u, &nodes);
        free(nodes.nodes);
        free(u.mounts);
        free(u.swaps);
        if (u.critical)
                fclose(u.critical);
        if (u.busy)
                fclose(u.busy);

        *ret_use = r < 0 ? DEVICE_USE_NONE
                   : u.n_critical > 0 ? DEVICE_USE_HOST_CRITICAL
                   : u.n_busy > 0     ? DEVICE_USE_BUSY
                                      : DEVICE_USE_NONE;
        *ret_reason = NULL;
        if (*ret_use == DEVICE_USE_HOST_CRITICAL)
                *ret_reason = TAKE_PTR(u.critical_text);
        else if (*ret_use == DEVICE_USE_BUSY)
                *ret_reason = TAKE_PTR(u.busy_text);
        free(u.critical_text);
        free(u.busy_text);
        return r;
}
