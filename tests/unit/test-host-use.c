/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <glib.h>
#include <linux/nexthop.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "macro.h"
#include "mount-table.h"
#include "net-use.h"
#include "net-view.h"
#include "pci-class.h"
#include "storage-view.h"
#include "strv.h"
#include "use-report.h"

/* The rules by which vfiod decides what the host needs, where they are
 * pure logic: the kernel's side of each is in the vm suite (host-use). */

/* ---- mount tables ---- */

#define MOUNTINFO                                                                                           \
        "22 1 0:21 / / rw,relatime shared:1 - overlay overlay rw,lowerdir=/lower,upperdir=/upper/data\n"      \
        "23 22 259:2 / /home rw,relatime shared:2 master:7 - ext4 /dev/nvme0n1p2 rw\n"                        \
        "24 22 0:35 / /srv/my\\040data rw - btrfs /dev/mapper/data rw,space_cache=v2\n"                       \
        "25 22 0:40 / /mnt/ov rw - overlay ov rw,lowerdir=/a\\134\\072b:/c,lowerdir+=/d,upperdir=/u\n"         \
        "26 23 259:3 / /home/alice/data rw - xfs /dev/nvme0n1p3 rw\n"                                         \
        "garbage line without fields\n"                                                                       \
        "27 22 0:50 / /home rw - tmpfs tmpfs rw\n"

static void test_mount_table_parse(void)
{
        _cleanup_(mount_table_done) MountTable t = {};
        FILE *f = fmemopen((void *)MOUNTINFO, strlen(MOUNTINFO), "r");

        g_assert_nonnull(f);
        g_assert_cmpint(mount_table_parse(f, &t), ==, 0);
        fclose(f);
        g_assert_cmpuint(t.n, ==, 6); /* the garbage line is passed over */
        g_assert_cmpuint(t.entries[1].devnum, ==, makedev(259, 2));
        g_assert_cmpstr(t.entries[1].fstype, ==, "ext4"); /* after two optional fields */
        g_assert_cmpstr(t.entries[1].source, ==, "/dev/nvme0n1p2");
        g_assert_cmpstr(t.entries[2].mountpoint, ==, "/srv/my data"); /* \040 unescaped */
        g_assert_cmpstr(t.entries[2].options, ==, "rw,space_cache=v2");
}

static void test_mount_table_find_path(void)
{
        _cleanup_(mount_table_done) MountTable t = {};
        FILE *f = fmemopen((void *)MOUNTINFO, strlen(MOUNTINFO), "r");

        g_assert_cmpint(mount_table_parse(f, &t), ==, 0);
        fclose(f);
        g_assert_cmpstr(mount_table_find_path(&t, "/home/alice/data/x")->fstype, ==, "xfs");
        g_assert_cmpstr(mount_table_find_path(&t, "/home/alice/datax")->fstype, ==, "tmpfs"); /* a later mount hides */
        g_assert_cmpstr(mount_table_find_path(&t, "/lower")->fstype, ==, "overlay");
        g_assert_cmpstr(mount_table_find_path(&t, "/srv/my data/f")->fstype, ==, "btrfs");
        g_assert_true(path_is_at_or_below("/boot/efi", "/boot"));
        g_assert_false(path_is_at_or_below("/bootstrap", "/boot"));
        g_assert_true(path_is_at_or_below("/anything", "/"));
}

static void test_mount_option_value(void)
{
        size_t iter = 0;
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;

        a = mount_option_value("rw,lowerdir+=/x,lowerdir+=/y\\054z,upperdir=/u", "lowerdir+", &iter);
        g_assert_cmpstr(a, ==, "/x");
        b = mount_option_value("rw,lowerdir+=/x,lowerdir+=/y\\054z,upperdir=/u", "lowerdir+", &iter);
        g_assert_cmpstr(b, ==, "/y,z");
        g_assert_null(mount_option_value("rw,lowerdir+=/x,lowerdir+=/y\\054z,upperdir=/u", "lowerdir+", &iter));
        iter = 0;
        c = mount_option_value("rw,lowerdirx=/no,lowerdir=/yes", "lowerdir", &iter);
        g_assert_cmpstr(c, ==, "/yes");
}

/* ---- what storage rests on ---- */

static void test_overlay_layers(void)
{
        char **l = storage_overlay_layers("rw,lowerdir=/a\\134\\072b:/c,lowerdir+=/d,upperdir=/u,workdir=/w");

        g_assert_nonnull(l);
        g_assert_cmpstr(l[0], ==, "/a:b"); /* "\:" escapes a colon inside a name */
        g_assert_cmpstr(l[1], ==, "/c");
        g_assert_cmpstr(l[2], ==, "/d");
        g_assert_cmpstr(l[3], ==, "/u"); /* the upper layer too; the work dir is the upper's */
        g_assert_null(l[4]);
        strv_free(l);
        l = storage_overlay_layers("rw,xino=off");
        g_assert_nonnull(l);
        g_assert_null(l[0]);
        strv_free(l);
}

static void test_fs_backing(void)
{
        g_assert_cmpint(storage_fs_backing("ext4", makedev(259, 1)), ==, FS_BACKING_BLOCK);
        g_assert_cmpint(storage_fs_backing("squashfs", makedev(7, 0)), ==, FS_BACKING_BLOCK);
        g_assert_cmpint(storage_fs_backing("btrfs", makedev(0, 35)), ==, FS_BACKING_BTRFS);
        g_assert_cmpint(storage_fs_backing("overlay", makedev(0, 21)), ==, FS_BACKING_LAYERS);
        g_assert_cmpint(storage_fs_backing("9p", makedev(0, 22)), ==, FS_BACKING_TRANSPORT);
        g_assert_cmpint(storage_fs_backing("virtiofs", makedev(0, 23)), ==, FS_BACKING_TRANSPORT);
        g_assert_cmpint(storage_fs_backing("tmpfs", makedev(0, 24)), ==, FS_BACKING_NONE);
        g_assert_cmpint(storage_fs_backing("nfs4", makedev(0, 25)), ==, FS_BACKING_NONE);
        g_assert_cmpint(storage_fs_backing("fuse.sshfs", makedev(0, 26)), ==, FS_BACKING_NONE);
        /* What vfiod does not know, it cannot trace: fail safe. */
        g_assert_cmpint(storage_fs_backing("zfs", makedev(0, 27)), ==, FS_BACKING_UNKNOWN);
        g_assert_cmpint(storage_fs_backing("bcachefs", makedev(0, 28)), ==, FS_BACKING_UNKNOWN);
}

/* A loop device's backing file, when it names a node under /dev, is
 * looked up there without following any link, and never where users
 * write (/dev/shm). */
static void test_loop_backing(void)
{
        dev_t devnum = 0;

        g_assert_cmpint(loop_backing_block("/var/lib/images/disk.img", &devnum), ==, 0);
        g_assert_cmpint(loop_backing_block("/dev/shm/u/fuse/disk.img", &devnum), ==, 0);
        g_assert_cmpint(loop_backing_block("/dev/sdz9 (deleted)", &devnum), ==, 0);
        g_assert_cmpint(loop_backing_block("/dev/null", &devnum), ==, -ENOTBLK);
        g_assert_cmpint(loop_backing_block("/dev/../etc/passwd", &devnum), ==, -EINVAL);
        g_assert_cmpint(loop_backing_block("/dev/vfiod-test-none", &devnum), ==, -ENOENT);
        /* /dev/fd is a link (to /proc/self/fd), and links are not followed. */
        g_assert_cmpint(loop_backing_block("/dev/fd/0", &devnum), ==, -ENOTDIR);
        g_assert_cmpuint(devnum, ==, 0);
}

static void test_nvme_path_head(void)
{
        char head[NAME_MAX + 1];

        g_assert_true(nvme_path_head("nvme0c1n1", head));
        g_assert_cmpstr(head, ==, "nvme0n1");
        g_assert_true(nvme_path_head("nvme12c3n45", head));
        g_assert_cmpstr(head, ==, "nvme12n45");
        g_assert_false(nvme_path_head("nvme0n1", head));
        g_assert_false(nvme_path_head("nvme0n1p1", head));
        g_assert_false(nvme_path_head("nvme0c1n1p1", head));
        g_assert_false(nvme_path_head("nvme0c1n", head));
        g_assert_false(nvme_path_head("sda", head));
}

static void test_critical_mountpoints(void)
{
        const char *critical[] = { "/", "/usr", "/boot", "/var", "/home" };
        const char *not_critical[] = { "/mnt", "/srv", "/var/lib/libvirt/images", "/home2", "/boot/efi", "" };

        for (size_t i = 0; i < ELEMENTSOF(critical); i++)
                g_assert_true(storage_is_critical_mountpoint(critical[i]));
        for (size_t i = 0; i < ELEMENTSOF(not_critical); i++)
                g_assert_false(storage_is_critical_mountpoint(not_critical[i]));
}

/* ---- platform functions ---- */

static void test_platform_classes(void)
{
        g_assert_nonnull(pci_class_platform_role(0x060000)); /* host bridge */
        g_assert_nonnull(pci_class_platform_role(0x060100)); /* ISA/LPC bridge */
        g_assert_nonnull(pci_class_platform_role(0x0c0500)); /* SMBus */
        g_assert_nonnull(pci_class_platform_role(0x080600)); /* IOMMU */
        g_assert_nonnull(pci_class_platform_role(0x088000)); /* other system peripheral */
        g_assert_null(pci_class_platform_role(0x030000));    /* VGA */
        g_assert_null(pci_class_platform_role(0x020000));    /* Ethernet */
        g_assert_null(pci_class_platform_role(0x010802));    /* NVMe */
        g_assert_null(pci_class_platform_role(0x060400));    /* PCI bridge: stays, but not refused */
        g_assert_null(pci_class_platform_role(0x0c0330));    /* xHCI: USB controllers pass through */
}

/* ---- routes over netlink ---- */

typedef struct Msg {
        _Alignas(struct nlmsghdr) char buf[512];
        size_t len;
} Msg;

static struct nlmsghdr *msg_start(Msg *m, uint16_t type, const void *header, size_t size)
{
        struct nlmsghdr *h = (struct nlmsghdr *)m->buf;

        memset(m, 0, sizeof(*m));
        h->nlmsg_type = type;
        memcpy(NLMSG_DATA(h), header, size);
        m->len = NLMSG_LENGTH(NLMSG_ALIGN(size));
        h->nlmsg_len = (uint32_t)m->len;
        return h;
}

static void msg_attr(Msg *m, uint16_t type, const void *data, size_t size)
{
        struct rtattr *a = (struct rtattr *)(m->buf + m->len);

        a->rta_type = type;
        a->rta_len = (unsigned short)RTA_LENGTH(size);
        memcpy(RTA_DATA(a), data, size);
        m->len += RTA_ALIGN(a->rta_len);
        ((struct nlmsghdr *)m->buf)->nlmsg_len = (uint32_t)m->len;
}

static void add_route(NetView *v, int family, uint8_t dst_len, uint8_t type, uint32_t table, int oif)
{
        struct rtmsg rtm = { .rtm_family = family, .rtm_dst_len = dst_len, .rtm_type = type,
                             .rtm_table = table < 256 ? table : RT_TABLE_COMPAT };
        uint32_t u = (uint32_t)oif;
        Msg m;

        msg_start(&m, RTM_NEWROUTE, &rtm, sizeof(rtm));
        msg_attr(&m, RTA_TABLE, &table, sizeof(table));
        msg_attr(&m, RTA_OIF, &u, sizeof(u));
        g_assert_cmpint(net_view_add_message(v, (struct nlmsghdr *)m.buf), ==, 0);
}

/* A batch of msgs as one recv() brings them. */
static int add_batch(NetView *v, Msg *msgs, size_t n, bool *interrupted)
{
        _Alignas(struct nlmsghdr) char buf[4 * sizeof(Msg)];
        size_t len = 0;

        g_assert_cmpuint(n, <=, 4);
        for (size_t i = 0; i < n; i++) {
                ((struct nlmsghdr *)msgs[i].buf)->nlmsg_seq = 7;
                memcpy(buf + len, msgs[i].buf, msgs[i].len);
                len += NLMSG_ALIGN(msgs[i].len);
        }
        return net_view_add_batch(v, buf, len, 7, interrupted);
}

/* How a dump ends: done, failed part-way (NLMSG_DONE with an error, as
 * the kernel ends a dump that ran out of room), refused (NLMSG_ERROR), or
 * with the tables changed under it (NLM_F_DUMP_INTR): only the first is a
 * whole view. */
static void test_dump_ends(void)
{
        struct rtmsg rtm = { .rtm_family = AF_INET, .rtm_type = RTN_UNICAST, .rtm_table = RT_TABLE_MAIN };
        struct nlmsgerr refusal = { .error = -EPERM };
        int ok = 0, failed = -EMSGSIZE, oif = 2;
        bool interrupted = false;
        NetView v = {};
        Msg m[2];

        msg_start(&m[0], RTM_NEWROUTE, &rtm, sizeof(rtm));
        msg_attr(&m[0], RTA_OIF, &oif, sizeof(oif));
        g_assert_cmpint(add_batch(&v, m, 1, &interrupted), ==, 0); /* more to come */
        g_assert_nonnull(net_view_default_route(&v, 2));
        msg_start(&m[1], NLMSG_DONE, &ok, sizeof(ok));
        g_assert_cmpint(add_batch(&v, m, 2, &interrupted), ==, 1);
        msg_start(&m[1], NLMSG_DONE, &failed, sizeof(failed));
        g_assert_cmpint(add_batch(&v, m, 2, &interrupted), ==, -EMSGSIZE);
        msg_start(&m[1], NLMSG_ERROR, &refusal, sizeof(refusal));
        g_assert_cmpint(add_batch(&v, m, 2, &interrupted), ==, -EPERM);
        msg_start(&m[1], NLMSG_DONE, &ok, sizeof(ok));
        ((struct nlmsghdr *)m[0].buf)->nlmsg_flags = NLM_F_MULTI | NLM_F_DUMP_INTR;
        g_assert_cmpint(add_batch(&v, m, 2, &interrupted), ==, -EAGAIN);
        g_assert_true(interrupted);
        free(v.routes);
}

static void test_default_routes(void)
{
        NetView v = {};

        add_route(&v, AF_INET, 24, RTN_UNICAST, RT_TABLE_MAIN, 2);  /* a subnet route: no default */
        add_route(&v, AF_INET, 0, RTN_UNREACHABLE, RT_TABLE_MAIN, 3); /* leads nowhere */
        add_route(&v, AF_INET, 0, RTN_UNICAST, 1000, 4);             /* any table counts */
        add_route(&v, AF_INET6, 0, RTN_UNICAST, RT_TABLE_MAIN, 5);
        g_assert_null(net_view_default_route(&v, 2));
        g_assert_null(net_view_default_route(&v, 3));
        g_assert_cmpuint(net_view_default_route(&v, 4)->table, ==, 1000);
        g_assert_nonnull(net_view_default_route(&v, 5));
        g_assert_false(v.unknown.set);
        free(v.routes);
}

static void test_multipath_and_nexthops(void)
{
        NetView v = {};
        struct rtmsg rtm = { .rtm_family = AF_INET, .rtm_type = RTN_UNICAST, .rtm_table = RT_TABLE_MAIN };
        struct nhmsg nhm = { .nh_family = AF_INET };
        struct {
                struct rtnexthop a;
                struct rtnexthop b;
        } paths = { { .rtnh_len = sizeof(struct rtnexthop), .rtnh_ifindex = 7 },
                    { .rtnh_len = sizeof(struct rtnexthop), .rtnh_ifindex = 8 } };
        struct nexthop_grp grp[2] = { { .id = 10 }, { .id = 11 } };
        uint32_t id, oif, nh_id;
        Msg m;

        msg_start(&m, RTM_NEWROUTE, &rtm, sizeof(rtm));
        msg_attr(&m, RTA_MULTIPATH, &paths, sizeof(paths));
        g_assert_cmpint(net_view_add_message(&v, (struct nlmsghdr *)m.buf), ==, 0);
        /* Nexthop objects: 10 and 11 on interfaces 9 and 12, group 20 of both. */
        for (int i = 0; i < 2; i++) {
                id = 10 + (uint32_t)i;
                oif = i == 0 ? 9 : 12;
                msg_start(&m, RTM_NEWNEXTHOP, &nhm, sizeof(nhm));
                msg_attr(&m, NHA_ID, &id, sizeof(id));
                msg_attr(&m, NHA_OIF, &oif, sizeof(oif));
                g_assert_cmpint(net_view_add_message(&v, (struct nlmsghdr *)m.buf), ==, 0);
        }
        id = 20;
        msg_start(&m, RTM_NEWNEXTHOP, &nhm, sizeof(nhm));
        msg_attr(&m, NHA_ID, &id, sizeof(id));
        msg_attr(&m, NHA_GROUP, grp, sizeof(grp));
        g_assert_cmpint(net_view_add_message(&v, (struct nlmsghdr *)m.buf), ==, 0);
        nh_id = 20;
        msg_start(&m, RTM_NEWROUTE, &rtm, sizeof(rtm));
        msg_attr(&m, RTA_NH_ID, &nh_id, sizeof(nh_id));
        g_assert_cmpint(net_view_add_message(&v, (struct nlmsghdr *)m.buf), ==, 0);
        for (int ifindex = 7; ifindex <= 12; ifindex++)
                g_assert_true((net_view_default_route(&v, ifindex) != NULL) ==
                              (ifindex == 7 || ifindex == 8 || ifindex == 9 || ifindex == 12));
        g_assert_false(v.unknown.set);
        /* A nexthop vfiod never saw: it cannot know where the route goes. */
        nh_id = 99;
        msg_start(&m, RTM_NEWROUTE, &rtm, sizeof(rtm));
        msg_attr(&m, RTA_NH_ID, &nh_id, sizeof(nh_id));
        g_assert_cmpint(net_view_add_message(&v, (struct nlmsghdr *)m.buf), ==, 0);
        g_assert_true(v.unknown.set);
        for (size_t i = 0; i < v.n_nexthops; i++)
                free(v.nexthops[i].members);
        free(v.nexthops);
        free(v.routes);
        first_reason_done(&v.unknown);
}

static void test_addresses(void)
{
        NetView v = {};
        struct ifaddrmsg global = { .ifa_family = AF_INET, .ifa_scope = RT_SCOPE_UNIVERSE, .ifa_index = 3 };
        struct ifaddrmsg link = { .ifa_family = AF_INET6, .ifa_scope = RT_SCOPE_LINK, .ifa_index = 4 };
        Msg m;

        msg_start(&m, RTM_NEWADDR, &global, sizeof(global));
        g_assert_cmpint(net_view_add_message(&v, (struct nlmsghdr *)m.buf), ==, 0);
        msg_start(&m, RTM_NEWADDR, &link, sizeof(link));
        g_assert_cmpint(net_view_add_message(&v, (struct nlmsghdr *)m.buf), ==, 0);
        /* fe80:: comes with any interface that is up: it is no use. */
        g_assert_cmpuint(v.n_addressed, ==, 1);
        g_assert_cmpint(v.addressed[0], ==, 3);
        free(v.addressed);
}

/* ---- the verdict ---- */

/* A device's "net" directory, as sysfs shows it once its interfaces moved
 * to another network namespace (empty), or while one is in this one. */
static DeviceUse hidden_verdict(const char *net_dir)
{
        g_autofree char *reason = NULL;
        UseReport u;

        g_assert_cmpint(use_report_init(&u), ==, 0);
        net_check_hidden_interfaces(&u, "0000:01:00.0", net_dir);
        return use_report_finish(&u, &reason);
}

static void test_hidden_interfaces(void)
{
        g_autofree char *dir = g_dir_make_tmp("vfiod-net-XXXXXX", NULL);
        g_autofree char *net = g_build_filename(dir, "net", NULL);
        g_autofree char *eth = g_build_filename(net, "eth0", NULL);

        g_assert_nonnull(dir);
        g_assert_cmpint(hidden_verdict(net), ==, DEVICE_USE_BUSY); /* cannot be listed */
        g_assert_cmpint(mkdir(net, 0755), ==, 0);
        g_assert_cmpint(hidden_verdict(net), ==, DEVICE_USE_BUSY); /* all elsewhere */
        g_assert_cmpint(mkdir(eth, 0755), ==, 0);
        g_assert_cmpint(hidden_verdict(net), ==, DEVICE_USE_NONE); /* here: checked as itself */
        g_assert_cmpint(rmdir(eth), ==, 0);
        g_assert_cmpint(rmdir(net), ==, 0);
        g_assert_cmpint(rmdir(dir), ==, 0);
}

static DeviceUse interface_verdict(const char *address, const char *listed_name, int ifindex, char **reason)
{
        NetView v = {}; /* no routes, no addresses */
        UseReport u;

        g_assert_cmpint(use_report_init(&u), ==, 0);
        net_check_interface(&v, &u, address, listed_name, ifindex);
        return use_report_finish(&u, reason);
}

/* An interface renamed by udev between the listing of its device and the
 * look at its stack (a NIC bound anew comes as "ethN"): looked at by the
 * name its index has now, if that interface is still below the function.
 * Here the loopback, index 1 in every network namespace, which lives in
 * /sys/devices/virtual: "virtual" stands for its function. */
static void test_renamed_interface(void)
{
        g_autofree char *renamed = NULL, *elsewhere = NULL, *gone = NULL, *unknown = NULL;

        g_assert_cmpint(interface_verdict("virtual", "vfiod-was0", 1, &renamed), ==, DEVICE_USE_NONE);
        g_assert_null(renamed);
        /* The index now another function's interface: not followed. */
        g_assert_cmpint(interface_verdict("0000:00:04.0", "vfiod-was0", 1, &elsewhere), ==,
                        DEVICE_USE_HOST_CRITICAL);
        g_assert_nonnull(strstr(elsewhere, "vfiod-was0, and vfiod cannot follow what is stacked on it"));
        g_assert_cmpint(interface_verdict("virtual", "vfiod-was0", 0x7fffffff, &gone), ==, DEVICE_USE_HOST_CRITICAL);
        g_assert_cmpint(interface_verdict("virtual", "vfiod-was0", 0, &unknown), ==, DEVICE_USE_HOST_CRITICAL);
}

static void test_use_report(void)
{
        UseReport u;
        char *reason;

        g_assert_cmpint(use_report_init(&u), ==, 0);
        g_assert_cmpint(use_report_finish(&u, &reason), ==, DEVICE_USE_NONE);
        g_assert_null(reason);

        g_assert_cmpint(use_report_init(&u), ==, 0);
        use_report_add(&u, DEVICE_USE_BUSY, "a %d", 1);
        use_report_add(&u, DEVICE_USE_HOST_CRITICAL, "b");
        use_report_add(&u, DEVICE_USE_HOST_CRITICAL, "c");
        g_assert_cmpint(use_report_finish(&u, &reason), ==, DEVICE_USE_HOST_CRITICAL);
        g_assert_cmpstr(reason, ==, "b; c"); /* the highest level speaks */
        free(reason);

        g_assert_cmpint(use_report_init(&u), ==, 0);
        use_report_add(&u, DEVICE_USE_HOST_CRITICAL, "b");
        use_report_add(&u, DEVICE_USE_PLATFORM, "p");
        g_assert_cmpint(use_report_finish(&u, &reason), ==, DEVICE_USE_PLATFORM);
        g_assert_cmpstr(reason, ==, "p");
        free(reason);
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/host-use/mount-table/parse", test_mount_table_parse);
        g_test_add_func("/host-use/mount-table/find-path", test_mount_table_find_path);
        g_test_add_func("/host-use/mount-table/option-value", test_mount_option_value);
        g_test_add_func("/host-use/storage/overlay-layers", test_overlay_layers);
        g_test_add_func("/host-use/storage/fs-backing", test_fs_backing);
        g_test_add_func("/host-use/storage/loop-backing", test_loop_backing);
        g_test_add_func("/host-use/storage/nvme-path-head", test_nvme_path_head);
        g_test_add_func("/host-use/storage/critical-mountpoints", test_critical_mountpoints);
        g_test_add_func("/host-use/platform-classes", test_platform_classes);
        g_test_add_func("/host-use/net/default-routes", test_default_routes);
        g_test_add_func("/host-use/net/multipath-and-nexthops", test_multipath_and_nexthops);
        g_test_add_func("/host-use/net/addresses", test_addresses);
        g_test_add_func("/host-use/net/dump-ends", test_dump_ends);
        g_test_add_func("/host-use/net/hidden-interfaces", test_hidden_interfaces);
        g_test_add_func("/host-use/net/renamed-interface", test_renamed_interface);
        g_test_add_func("/host-use/verdict", test_use_report);
        return g_test_run();
}
