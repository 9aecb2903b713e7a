/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <glob.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-device.h>
#include <unistd.h>

#include "device-use.h"
#include "firmware-fb.h"
#include "fs-util.h"
#include "macro.h"
#include "net-use.h"
#include "number.h"
#include "open-nodes.h"
#include "pci-address.h"
#include "pci-class.h"
#include "storage-use.h"
#include "sysfs-paths.h"

/* One check: the report, the nodes to look for in every process, and the
 * host's storage and routes, each read once when a device first needs it. */
typedef struct UseCheck {
        UseReport report;
        NodeWatch nodes;
        StorageView *storage;
        NetView *net;
        DiskHolds *holds; /* the free disks' exclusive opens, when kept */
        int has_fb; /* -1 until read: whether a firmware framebuffer is bound */
        FirmwareFb fb;
        /* device_use_busy_holders(): who holds a node that only makes a
         * device busy, each PID once. */
        pid_t *busy_holders;
        size_t n_busy_holders;
} UseCheck;

/* NULL only without memory, which the caller reports as critical use:
 * what cannot be checked is in use. */
static StorageView *storage_view(UseCheck *c)
{
        if (!c->storage && storage_view_new(&c->storage) < 0)
                c->storage = NULL;
        return c->storage;
}

static NetView *net_view(UseCheck *c)
{
        if (!c->net && net_view_new(&c->net) < 0)
                c->net = NULL;
        return c->net;
}

static bool is_transport_driver(const char *driver)
{
        return driver && (streq(driver, "9pnet_virtio") || streq(driver, "virtiofs"));
}

/* ---- what never moves ---- */

static void check_platform(UseCheck *c, const char *syspath, const char *address)
{
        char path[PATH_MAX + sizeof("/class")];
        _cleanup_free_ char *class = NULL;
        const char *role;

        snprintf(path, sizeof(path), "%s/class", syspath);
        class = read_full_file(path);
        if (!class) {
                use_report_add(&c->report, DEVICE_USE_PLATFORM, "%s has no class vfiod can read", address);
                return;
        }
        role = pci_class_platform_role((uint32_t)strtoul(class, NULL, 16));
        if (role)
                use_report_add(&c->report, DEVICE_USE_PLATFORM,
                               "%s is %s, which the host's own drivers need: it never moves", address, role);
}

/* ---- the console on the boot display ---- */

/* The bound virtual console drivers other than the dummy: the VGA text
 * console or a framebuffer console, both on the boot display, which is
 * the boot VGA or the GPU that carries the firmware framebuffer. */
static void check_console(UseCheck *c, const char *address, const char *what)
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
                use_report_add(&c->report, DEVICE_USE_HOST_CRITICAL,
                               "%s is %s and shows the console (%s: %s)", address, what, de->d_name, name);
        }
        closedir(dir);
}

/* The firmware framebuffer drawn into the function's BAR: the host's boot
 * display, whether or not the console is on it (a boot splash, a display
 * server on fbdev). The claim would unbind it. */
static bool check_firmware_fb(UseCheck *c, const char *address)
{
        if (c->has_fb < 0)
                c->has_fb = firmware_fb_find(&c->fb);
        if (c->has_fb <= 0 || !streq(c->fb.gpu, address))
                return false;
        use_report_add(&c->report, DEVICE_USE_HOST_CRITICAL,
                       "%s carries the firmware framebuffer (%s, driver %s), the host's boot display", address,
                       c->fb.device, c->fb.driver);
        return true;
}

/* ---- what hangs below a function ---- */

static void watch_node(UseCheck *c, sd_device *d, const char *subsystem, const char *address, bool boot_vga)
{
        const char *devname;
        WatchedNode node = {.block = streq(subsystem, "block"), .use = DEVICE_USE_BUSY};

        if (sd_device_get_devnum(d, &node.devnum) < 0 || sd_device_get_devname(d, &devname) < 0)
                return;
        if (boot_vga && (streq(subsystem, "drm") || streq(subsystem, "graphics")))
                node.use = DEVICE_USE_HOST_CRITICAL; /* a display node of the boot VGA */
        snprintf(node.devname, sizeof(node.devname), "%s", devname);
        snprintf(node.address, sizeof(node.address), "%s", address);
        if (node_watch_add(&c->nodes, &node) < 0)
                use_report_add(&c->report, DEVICE_USE_BUSY, "%s has more device nodes than vfiod could note",
                               address);
}

static void check_children(UseCheck *c, const char *path, const char *address, bool boot_vga, int depth);

/* A multipathed NVMe namespace: its head disk is checked, and its nodes
 * and its partitions' watched, as those of a disk below the function. */
static void check_nvme_head(UseCheck *c, const char *address, const char *head)
{
        _cleanup_(sd_device_unrefp) sd_device *d = NULL;
        const char *syspath;

        storage_check_block(c->storage, &c->report, c->holds, address, head);
        if (sd_device_new_from_subsystem_sysname(&d, "block", head) < 0 || sd_device_get_syspath(d, &syspath) < 0) {
                use_report_add(&c->report, DEVICE_USE_BUSY, "%s: vfiod cannot look at %s, the disk of its NVMe "
                               "namespace", address, head);
                return;
        }
        watch_node(c, d, "block", address, false);
        check_children(c, syspath, address, false, 0);
}

static void check_child(UseCheck *c, sd_device *child, const char *address, bool boot_vga)
{
        char head[NAME_MAX + 1];
        const char *subsystem = NULL, *sysname = NULL, *devtype = NULL, *tag = NULL, *driver = NULL;
        bool block, net, transport;

        (void)sd_device_get_subsystem(child, &subsystem);
        (void)sd_device_get_sysname(child, &sysname);
        if (!subsystem || !sysname)
                return;
        (void)sd_device_get_devtype(child, &devtype);
        (void)sd_device_get_driver(child, &driver);
        /* A partition is checked with its disk. */
        block = streq(subsystem, "block") && !streq_ptr(devtype, "partition");
        net = streq(subsystem, "net");
        transport = streq(subsystem, "virtio") && is_transport_driver(driver);
        if ((block || transport) && !storage_view(c))
                use_report_add(&c->report, DEVICE_USE_HOST_CRITICAL, "%s: vfiod ran out of memory", address);
        else if (net && !net_view(c))
                use_report_add(&c->report, DEVICE_USE_HOST_CRITICAL, "%s: vfiod ran out of memory", address);
        else if (block && nvme_path_head(sysname, head))
                check_nvme_head(c, address, head);
        else if (block)
                storage_check_block(c->storage, &c->report, c->holds, address, sysname);
        else if (net) {
                int ifindex;
                if (sd_device_get_ifindex(child, &ifindex) < 0)
                        ifindex = 0; /* then only by its name */
                net_check_interface(c->net, &c->report, address, sysname, ifindex);
        } else if (transport) {
                /* 9p names its tag; virtiofs does so only since Linux 6.9. */
                if (sd_device_get_sysattr_value(child, "mount_tag", &tag) < 0)
                        tag = NULL;
                storage_check_transport(c->storage, &c->report, address, driver, tag);
        }
        watch_node(c, child, subsystem, address, boot_vga);
}

/* Far below any device tree under a PCI function: a USB disk behind five
 * hubs lies 13 levels down, a SAS disk behind an expander 9. */
#define CHILD_DEPTH_MAX 32

/* The devices below a PCI function are the directories under its syspath
 * that have a uevent file: walking them is far cheaper than an enumerator,
 * which reads every device of the system to filter by parent. What cannot
 * be walked may hold a disk, so the function is busy. */
static void check_children(UseCheck *c, const char *path, const char *address, bool boot_vga, int depth)
{
        struct dirent *de;
        DIR *dir;
        int r = 0;

        if (depth >= CHILD_DEPTH_MAX) {
                use_report_add(&c->report, DEVICE_USE_BUSY, "%s has devices more than %d levels below it (%s)",
                               address, CHILD_DEPTH_MAX, path);
                return;
        }
        dir = opendir(path);
        if (!dir)
                r = -errno;
        while (dir && (r = read_dir_entry(dir, &de)) > 0) {
                char child[PATH_MAX], uevent[PATH_MAX + sizeof("/uevent")];
                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue; /* links (driver, subsystem, iommu_group) lead elsewhere */
                if ((size_t)snprintf(child, sizeof(child), "%s/%s", path, de->d_name) >= sizeof(child)) {
                        use_report_add(&c->report, DEVICE_USE_BUSY, "%s has a device whose path is too long (%s)",
                                       address, path);
                        continue;
                }
                /* The interfaces of a device (the function, a virtio
                 * device below it) live in its "net" directory. */
                if (streq(de->d_name, "net"))
                        net_check_hidden_interfaces(&c->report, address, child);
                snprintf(uevent, sizeof(uevent), "%s/uevent", child);
                if (access(uevent, F_OK) == 0) {
                        _cleanup_(sd_device_unrefp) sd_device *d = NULL;
                        if (sd_device_new_from_syspath(&d, child) >= 0)
                                check_child(c, d, address, boot_vga);
                }
                check_children(c, child, address, boot_vga, depth + 1);
        }
        if (dir)
                closedir(dir);
        if (r < 0 && r != -ENOENT) /* ENOENT: the device went away */
                use_report_add(&c->report, DEVICE_USE_BUSY, "vfiod cannot look below %s (%s): %s", address, path,
                               strerror(-r));
}

static int check_function(UseCheck *c, const char *address, DeviceUseScope scope);

/* How many SR-IOV virtual functions the function at syspath has enabled:
 * 0 without the capability. -errno when that cannot be read. */
static int read_numvfs(const char *syspath, unsigned *ret)
{
        char path[PATH_MAX + sizeof("/sriov_numvfs")];
        _cleanup_free_ char *text = NULL;
        uint64_t n;
        int r;

        snprintf(path, sizeof(path), "%s/sriov_numvfs", syspath);
        text = read_full_file(path);
        if (!text && errno == ENOENT) {
                *ret = 0;
                return 0;
        }
        if (!text)
                return -errno;
        text[strcspn(text, "\n")] = '\0';
        r = parse_canonical_u64(text, UINT16_MAX, &n);
        if (r < 0)
                return r;
        *ret = (unsigned)n;
        return 0;
}

/* A physical function's virtual functions do not outlive its move: most
 * drivers disable SR-IOV when they let the PF go, vfio-pci does when it
 * lets go at release, and a reset of the PF in the VM resets every VF.
 * Whatever VM, container or interface uses them loses them. So enabled VFs
 * make the PF busy, and each VF's own use counts for the PF too (a VF that
 * carries the default route makes it host-critical). */
static void check_virtual_functions(UseCheck *c, const char *syspath, const char *address)
{
        unsigned numvfs = 0;
        int r = read_numvfs(syspath, &numvfs);

        if (r < 0) {
                use_report_add(&c->report, DEVICE_USE_BUSY, "vfiod cannot read how many virtual functions %s has: %s",
                               address, strerror(-r));
                return;
        }
        if (numvfs == 0)
                return;
        use_report_add(&c->report, DEVICE_USE_BUSY,
                       "%s has %u SR-IOV virtual functions enabled, which its move would take from whatever "
                       "uses them: stop that, then disable them (echo 0 > " SYSFS_PCI_DEVICES "/%s/sriov_numvfs)",
                       address, numvfs, address);
        for (unsigned i = 0; i < numvfs; i++) {
                char path[PATH_MAX + sizeof("/virtfn4294967295")], vf[PCI_ADDRESS_STRING_MAX];
                _cleanup_free_ char *name = NULL;

                snprintf(path, sizeof(path), "%s/virtfn%u", syspath, i);
                (void)readlink_basename(path, &name);
                if (!name || pci_address_normalize(name, vf) < 0 || check_function(c, vf, DEVICE_USE_SCOPE_ALL) < 0)
                        use_report_add(&c->report, DEVICE_USE_BUSY, "vfiod cannot check virtual function %u of %s",
                                       i, address);
        }
}

/* Plain paths rather than an sd_device: resolving one costs some thirty
 * system calls, and this runs before every claim. */
static int check_function(UseCheck *c, const char *address, DeviceUseScope scope)
{
        char syspath[PATH_MAX], path[PATH_MAX + sizeof("/boot_vga")];
        _cleanup_free_ char *boot_vga = NULL;
        bool is_boot_vga;

        snprintf(syspath, sizeof(syspath), SYSFS_PCI_DEVICES "/%s", address);
        if (access(syspath, F_OK) < 0)
                return -errno;
        check_platform(c, syspath, address);
        if (scope == DEVICE_USE_SCOPE_PLATFORM)
                return 0;
        snprintf(path, sizeof(path), "%s/boot_vga", syspath);
        boot_vga = read_full_file(path);
        is_boot_vga = boot_vga && boot_vga[0] == '1';
        if (check_firmware_fb(c, address) || is_boot_vga)
                check_console(c, address, is_boot_vga ? "the boot VGA" : "the boot display");
        check_children(c, syspath, address, is_boot_vga, 0);
        check_virtual_functions(c, syspath, address);
        return 0;
}

/* The nodes a profile names, as they exist now: each a character or block
 * device under /dev (the patterns cannot leave it). */
static void watch_profile_nodes(UseCheck *c, char **patterns, const char *address)
{
        for (char **p = patterns; p && *p; p++) {
                glob_t g = {};

                if (glob(*p, GLOB_NOSORT, NULL, &g) != 0)
                        continue;
                for (size_t i = 0; i < g.gl_pathc; i++) {
                        WatchedNode node = {.use = DEVICE_USE_BUSY};
                        struct stat st;

                        if (stat(g.gl_pathv[i], &st) < 0 || !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)))
                                continue;
                        node.devnum = st.st_rdev;
                        node.block = S_ISBLK(st.st_mode);
                        snprintf(node.devname, sizeof(node.devname), "%s", g.gl_pathv[i]);
                        snprintf(node.address, sizeof(node.address), "%s", address);
                        if (node_watch_add(&c->nodes, &node) < 0)
                                use_report_add(&c->report, DEVICE_USE_BUSY,
                                               "%s has more device nodes than vfiod could note", address);
                }
                globfree(&g);
        }
}

static void note_busy_holder(UseCheck *c, pid_t pid)
{
        pid_t *a;

        for (size_t i = 0; i < c->n_busy_holders; i++)
                if (c->busy_holders[i] == pid)
                        return;
        a = reallocarray(c->busy_holders, c->n_busy_holders + 1, sizeof(*a));
        if (!a) {
                use_report_add(&c->report, DEVICE_USE_BUSY, "vfiod ran out of memory listing who holds the nodes");
                return;
        }
        c->busy_holders = a;
        a[c->n_busy_holders++] = pid;
}

static void on_node_holder(const WatchedNode *node, pid_t pid, void *userdata)
{
        UseCheck *c = userdata;
        char comm[PROC_COMM_SIZE];

        use_report_add(&c->report, node->use, "%s of %s is open in PID %d (%s)", node->devname,
                       node->address, (int)pid, proc_comm(pid, comm));
        if (node->use == DEVICE_USE_BUSY)
                note_busy_holder(c, pid);
}

/* Every check, its report left in c. */
static int run_checks(UseCheck *c, char *const *addresses, char **const *node_patterns, size_t n,
                      DeviceUseScope scope)
{
        int r = use_report_init(&c->report), scan;

        for (size_t i = 0; r >= 0 && i < n; i++) {
                r = check_function(c, addresses[i], scope);
                if (r >= 0 && node_patterns && scope == DEVICE_USE_SCOPE_ALL)
                        watch_profile_nodes(c, node_patterns[i], addresses[i]);
        }
        if (r >= 0 && (scan = node_watch_scan(&c->nodes, getpid(), on_node_holder, c)) < 0)
                use_report_add(&c->report, DEVICE_USE_BUSY,
                               "vfiod cannot see in /proc who holds the devices' nodes open: %s", strerror(-scan));
        node_watch_done(&c->nodes);
        storage_view_free(c->storage);
        net_view_free(c->net);
        return r;
}

int device_use_check(char *const *addresses, char **const *node_patterns, size_t n, DeviceUseScope scope,
                     DiskHolds *ret_holds, DeviceUse *ret_use, char **ret_reason)
{
        UseCheck c = {.has_fb = -1, .holds = ret_holds};
        int r = run_checks(&c, addresses, node_patterns, n, scope);

        free(c.busy_holders);
        *ret_use = use_report_finish(&c.report, ret_reason);
        if (r < 0) {
                free(*ret_reason);
                *ret_reason = NULL;
                *ret_use = DEVICE_USE_NONE;
        }
        /* Held only for a move that goes ahead. */
        if (ret_holds && (r < 0 || *ret_use != DEVICE_USE_NONE))
                disk_holds_release(ret_holds);
        return r;
}

int device_use_busy_holders(char *const *addresses, char **const *node_patterns, size_t n, pid_t **ret,
                            size_t *ret_n)
{
        UseCheck c = {.has_fb = -1};
        char *reason = NULL;
        int r = run_checks(&c, addresses, node_patterns, n, DEVICE_USE_SCOPE_ALL);

        (void)use_report_finish(&c.report, &reason);
        free(reason);
        if (r < 0) {
                free(c.busy_holders);
                return r;
        }
        *ret = c.busy_holders;
        *ret_n = c.n_busy_holders;
        return 0;
}
