/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <umockdev.h>

#include "bus-names.h"
#include "pci-testbed.h"

/* vfiod on a private bus against a umockdev testbed: what it serves, how
 * it follows hotplug and rebinding, and how the client shows it. */

typedef struct {
        UMockdevTestbed *tb;
        GSubprocess *bus_daemon;
        char *bus_address;
        GSubprocess *daemon;
        GDBusConnection *conn;
        GSocket *notify; /* NOTIFY_SOCKET of the daemon, when the test asks for one */
        char *notify_dir;
        char *e1000, *edu; /* devpaths */
        char *state_dir;   /* the daemon's --state-dir */
        struct StandIn *stand_in; /* in place of vfiod or polkit, for the tests that want one */
} Fixture;

/* How a test wants the daemon; NULL test data means the defaults. */
typedef struct {
        gboolean no_iommu;   /* the same devices, no IOMMU groups */
        gboolean notify;     /* a NOTIFY_SOCKET, and the watchdog on */
        const char *idle_timeout; /* default "0": never */
        const char *claim_record; /* a record in the state dir before start */
        int claim_record_group;
        const char *limits; /* limits.conf in the config dir */
        gboolean any_user;  /* a bus that every user may connect to */
        gboolean slow_polkit; /* on it before the daemon: a polkit that answers "no" after 4 s */
        gboolean quick_polkit; /* one that answers "no" at once, keeping what it was asked */
} DaemonConfig;

static const PciFixture fixtures[] = {
        { "0000:00:02.0", NULL, "0x1234", "0x1111", "0x030000", "bochs-drm", 1, "1" },
        { "0000:00:03.0", NULL, "0x1234", "0x11e8", "0x00ff00", NULL, 2, NULL },
        { "0000:00:04.0", NULL, "0x8086", "0x100e", "0x020000", "e1000", 3, NULL },
        { "0000:00:05.0", NULL, "0x8086", "0x100e", "0x020000", "e1000", 4, NULL },
        { "0000:00:05.1", NULL, "0x1234", "0x11e8", "0x00ff00", NULL, 4, NULL },
        { "0000:00:06.0", NULL, "0x1b36", "0x0001", "0x060400", NULL, 5, NULL },
        { "0000:01:01.0", "/devices/pci0000:00/0000:00:06.0", "0x1234", "0x11e8", "0x00ff00", NULL, 5, NULL },
};

static const DaemonConfig no_iommu = { .no_iommu = TRUE };
static const DaemonConfig supervised = { .notify = TRUE };
static const DaemonConfig idle_soon = { .idle_timeout = "1" };
static const DaemonConfig slow_polkit = { .idle_timeout = "2", .any_user = TRUE, .slow_polkit = TRUE };
static const DaemonConfig quick_polkit = { .any_user = TRUE, .quick_polkit = TRUE };
/* e1000 of group 3 claimed by an earlier run, under a persistent lease of
 * uid 1000: the record a restart finds. */
static const DaemonConfig e1000_claimed = {
        .claim_record = "vfiod-claim-record 1\ngroup 3\nphase claimed\nstep -\n"
                        "lease 7 1000 4242 none persistent - 1700000000000000\n"
                        "device 0000:00:04.0 e1000 -\n",
        .claim_record_group = 3,
};
/* A 1 MiB memlock cap, after a line the daemon must skip. */
static const DaemonConfig small_memlock_cap = { .limits = "# test\nBogus=1\nMemlockMax=1M\n" };

static GVariant *call(Fixture *f, const char *method, GVariant *args, GError **error)
{
        return g_dbus_connection_call_sync(f->conn, VFIOD_BUS_NAME, VFIOD_ROOT_PATH, VFIOD_MANAGER_INTERFACE,
                                           method, args, NULL, G_DBUS_CALL_FLAGS_NONE, 5000, NULL, error);
}

/* RaiseMemlockLimit for the process pidfd_pid names (this one for 0; -1:
 * with an fd that is no pidfd). */
static GVariant *raise_memlock(Fixture *f, pid_t pidfd_pid, guint64 bytes, GError **error)
{
        g_autoptr(GUnixFDList) fds = g_unix_fd_list_new();
        int pidfd = pidfd_pid < 0 ? open("/dev/null", O_RDONLY | O_CLOEXEC)
                                  : (int)syscall(SYS_pidfd_open, pidfd_pid ? pidfd_pid : getpid(), 0);

        g_assert_cmpint(pidfd, >=, 0);
        g_assert_cmpint(g_unix_fd_list_append(fds, pidfd, NULL), ==, 0);
        close(pidfd);
        return g_dbus_connection_call_with_unix_fd_list_sync(
                f->conn, VFIOD_BUS_NAME, VFIOD_ROOT_PATH, VFIOD_MANAGER_INTERFACE, "RaiseMemlockLimit",
                g_variant_new("(ht)", 0, bytes), NULL, G_DBUS_CALL_FLAGS_NONE, 5000, fds, NULL, NULL, error);
}

static GVariant *get_property(Fixture *f, const char *path, const char *iface, const char *name)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = g_dbus_connection_call_sync(
                f->conn, VFIOD_BUS_NAME, path, "org.freedesktop.DBus.Properties", "Get",
                g_variant_new("(ss)", iface, name), G_VARIANT_TYPE("(v)"), 0, 5000, NULL, &error);
        GVariant *v;

        g_assert_no_error(error);
        g_variant_get(r, "(v)", &v);
        return v;
}

static void assert_remote_error(const GError *error, const char *name)
{
        g_autofree char *remote = NULL;

        g_assert_nonnull(error);
        g_assert_true(g_dbus_error_is_remote_error(error));
        remote = g_dbus_error_get_remote_error(error);
        g_assert_cmpstr(remote, ==, name);
}

static char *device_path(Fixture *f, const char *address)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = call(f, "GetDevice", g_variant_new("(s)", address), &error);
        char *path;

        g_assert_no_error(error);
        g_variant_get(r, "(o)", &path);
        return path;
}

static gboolean on_timeout(gpointer data)
{
        g_error("timed out waiting for %s", (const char *)data);
        return G_SOURCE_REMOVE;
}

static void die_with_parent(gpointer data)
{
        prctl(PR_SET_PDEATHSIG, SIGTERM);
}

/* A datagram socket the daemon reports to, as systemd's NOTIFY_SOCKET, with
 * the watchdog asking for a ping every 200 ms. */
static void listen_for_notifications(Fixture *f, GSubprocessLauncher *launcher)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GSocketAddress) address = NULL;
        g_autofree char *path = NULL;

        f->notify_dir = g_dir_make_tmp("vfiod-notify-XXXXXX", &error);
        g_assert_no_error(error);
        path = g_build_filename(f->notify_dir, "notify", NULL);
        f->notify = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_DEFAULT, &error);
        g_assert_no_error(error);
        address = g_unix_socket_address_new(path);
        g_assert_true(g_socket_bind(f->notify, address, FALSE, &error));
        g_assert_no_error(error);
        g_subprocess_launcher_setenv(launcher, "NOTIFY_SOCKET", path, TRUE);
        g_subprocess_launcher_setenv(launcher, "WATCHDOG_USEC", "200000", TRUE);
}

/* The next notification the daemon sends, waiting up to five seconds. */
static char *next_notification(Fixture *f)
{
        g_autoptr(GError) error = NULL;
        char buf[4096];
        gssize n;

        g_socket_set_timeout(f->notify, 5);
        n = g_socket_receive(f->notify, buf, sizeof(buf) - 1, NULL, &error);
        g_assert_no_error(error);
        buf[n] = '\0';
        return g_strdup(buf);
}

/* A private dbus-daemon (session configuration) that dies with the test. */
/* A session bus, as the test's user alone may use it; with any_user, one
 * that other users may connect to too (config_dir holds its config). */
static const char any_user_bus_config[] =
        "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
        " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
        "<busconfig><type>session</type><listen>unix:tmpdir=/tmp</listen><auth>EXTERNAL</auth>"
        "<policy context=\"default\"><allow user=\"*\"/><allow send_destination=\"*\" eavesdrop=\"true\"/>"
        "<allow eavesdrop=\"true\"/><allow own=\"*\"/>"
        "</policy></busconfig>\n";

static void start_bus(Fixture *f, gboolean any_user, const char *config_dir)
{
        g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
        g_autofree char *config = NULL, *config_arg = NULL;
        g_autoptr(GDataInputStream) out = NULL;
        g_autoptr(GError) error = NULL;

        if (any_user) {
                config = g_build_filename(config_dir, "bus.conf", NULL);
                g_assert_true(g_file_set_contents(config, any_user_bus_config, -1, &error));
                config_arg = g_strdup_printf("--config-file=%s", config);
        }
        g_subprocess_launcher_set_child_setup(launcher, die_with_parent, NULL, NULL);
        f->bus_daemon = g_subprocess_launcher_spawn(launcher, &error, "dbus-daemon",
                                                    config_arg ? config_arg : "--session", "--nofork",
                                                    "--print-address", NULL);
        g_assert_no_error(error);
        out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(f->bus_daemon));
        f->bus_address = g_data_input_stream_read_line(out, NULL, NULL, &error);
        g_assert_no_error(error);
        g_assert_nonnull(f->bus_address);
}

static void start_private_bus(Fixture *f)
{
        start_bus(f, FALSE, NULL);
}

static void stop_private_bus(Fixture *f)
{
        g_subprocess_send_signal(f->bus_daemon, SIGTERM);
        g_subprocess_wait(f->bus_daemon, NULL, NULL);
        g_clear_object(&f->bus_daemon);
        g_clear_pointer(&f->bus_address, g_free);
}

/* A service in place of vfiod or polkit: an object on the private bus,
 * under a well-known name, whose calls are dispatched in a main context
 * that a thread of its own runs, so that it answers while the test waits
 * for a client. */
typedef struct StandIn {
        GDBusConnection *conn;
        GMainContext *context;
        GMainLoop *loop;
        GThread *thread;
} StandIn;

static gpointer run_stand_in(gpointer data)
{
        StandIn *s = data;

        g_main_context_push_thread_default(s->context);
        g_main_loop_run(s->loop);
        g_main_context_pop_thread_default(s->context);
        return NULL;
}

static StandIn *stand_in_start(const char *bus_address, const char *name, const char *path, const char *xml,
                               const GDBusInterfaceVTable *vtable)
{
        g_autoptr(GDBusNodeInfo) info = g_dbus_node_info_new_for_xml(xml, NULL);
        g_autoptr(GVariant) owned = NULL;
        g_autoptr(GError) error = NULL;
        StandIn *s = g_new0(StandIn, 1);

        s->context = g_main_context_new();
        s->loop = g_main_loop_new(s->context, FALSE);
        /* Calls go to the context that is the thread's default where the
         * object is registered. */
        g_main_context_push_thread_default(s->context);
        s->conn = g_dbus_connection_new_for_address_sync(
                bus_address,
                G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                NULL, NULL, &error);
        g_assert_no_error(error);
        g_dbus_connection_register_object(s->conn, path, info->interfaces[0], vtable, NULL, NULL, &error);
        g_assert_no_error(error);
        g_main_context_pop_thread_default(s->context);
        owned = g_dbus_connection_call_sync(s->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                            "org.freedesktop.DBus", "RequestName",
                                            g_variant_new("(su)", name, 4 /* DO_NOT_QUEUE */), G_VARIANT_TYPE("(u)"),
                                            0, 5000, NULL, &error);
        g_assert_no_error(error);
        s->thread = g_thread_new("stand-in", run_stand_in, s);
        return s;
}

static gboolean quit_loop(gpointer loop)
{
        g_main_loop_quit(loop);
        return G_SOURCE_REMOVE;
}

static void stand_in_stop(StandIn *s)
{
        /* From the loop itself: a quit before it runs would be lost. */
        g_main_context_invoke(s->context, quit_loop, s->loop);
        g_thread_join(s->thread);
        g_object_unref(s->conn);
        g_main_loop_unref(s->loop);
        g_main_context_unref(s->context);
        g_free(s);
}

static const char polkit_xml[] =
        "<node><interface name='org.freedesktop.PolicyKit1.Authority'>"
        "<method name='CheckAuthorization'><arg type='(sa{sv})' direction='in'/><arg type='s' direction='in'/>"
        "<arg type='a{ss}' direction='in'/><arg type='u' direction='in'/><arg type='s' direction='in'/>"
        "<arg type='(bba{ss})' direction='out'/></method>"
        "<method name='CancelCheckAuthorization'><arg type='s' direction='in'/></method>"
        "</interface></node>";

static gboolean answer_no(gpointer invocation)
{
        g_dbus_method_invocation_return_value(invocation, g_variant_new_parsed("((false, false, @a{ss} {}),)"));
        return G_SOURCE_REMOVE;
}

static void slow_polkit_call(GDBusConnection *conn, const char *sender, const char *path, const char *iface,
                             const char *method, GVariant *params, GDBusMethodInvocation *invocation, gpointer data)
{
        g_autoptr(GSource) later = NULL;

        if (!g_str_equal(method, "CheckAuthorization")) {
                g_dbus_method_invocation_return_value(invocation, NULL);
                return;
        }
        later = g_timeout_source_new(4000);
        g_source_set_callback(later, answer_no, invocation, NULL);
        g_source_attach(later, g_main_context_get_thread_default());
}

/* The quick polkit's last question: its details (a{ss}). */
static GVariant *polkit_asked;
G_LOCK_DEFINE_STATIC(polkit_asked);

static void quick_polkit_call(GDBusConnection *conn, const char *sender, const char *path, const char *iface,
                              const char *method, GVariant *params, GDBusMethodInvocation *invocation, gpointer data)
{
        if (g_str_equal(method, "CheckAuthorization")) {
                G_LOCK(polkit_asked);
                g_clear_pointer(&polkit_asked, g_variant_unref);
                polkit_asked = g_variant_get_child_value(params, 2);
                G_UNLOCK(polkit_asked);
                answer_no(invocation);
        } else
                g_dbus_method_invocation_return_value(invocation, NULL);
}

/* A detail of the quick polkit's last question, or NULL. */
static char *polkit_detail(const char *key)
{
        char *value = NULL;

        G_LOCK(polkit_asked);
        if (polkit_asked)
                (void)g_variant_lookup(polkit_asked, key, "s", &value);
        G_UNLOCK(polkit_asked);
        return value;
}

static void rm_rf(const char *path)
{
        g_autofree char *command = g_strdup_printf("rm -rf '%s'", path);
        g_assert_cmpint(system(command), ==, 0);
}

static void fixture_setup(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        static const DaemonConfig defaults = { 0 };
        const DaemonConfig *config = data ? data : &defaults;
        g_autoptr(GSubprocessLauncher) launcher = NULL;
        g_autofree char *address_arg = NULL, *idle_arg = NULL, *state_arg = NULL, *config_arg = NULL, *cdi_arg = NULL;
        gboolean owned = FALSE;

        f->state_dir = g_dir_make_tmp("vfiod-state-XXXXXX", &error);
        g_assert_no_error(error);
        if (config->claim_record) {
                g_autofree char *claims = g_build_filename(f->state_dir, "claims", NULL);
                g_autofree char *name = g_strdup_printf("group-%d", config->claim_record_group);
                g_autofree char *record = g_build_filename(claims, name, NULL);
                g_assert_cmpint(g_mkdir(claims, 0700), ==, 0);
                g_assert_true(g_file_set_contents(record, config->claim_record, -1, &error));
        }

        if (config->limits) {
                g_autofree char *limits = g_build_filename(f->state_dir, "limits.conf", NULL);
                g_assert_true(g_file_set_contents(limits, config->limits, -1, &error));
        }

        f->tb = pci_testbed_new();
        for (size_t i = 0; i < G_N_ELEMENTS(fixtures); i++) {
                PciFixture fixture = fixtures[i];
                char *devpath;

                if (config->no_iommu)
                        fixture.group = -1;
                devpath = pci_testbed_add(f->tb, &fixture);
                if (g_str_equal(fixtures[i].address, "0000:00:04.0"))
                        f->e1000 = devpath;
                else if (g_str_equal(fixtures[i].address, "0000:00:03.0"))
                        f->edu = devpath;
                else if (g_str_equal(fixtures[i].address, "0000:00:05.1")) {
                        /* An SR-IOV VF of the e1000 beside it, on NUMA node 1. */
                        umockdev_testbed_set_attribute(f->tb, devpath, "numa_node", "1");
                        umockdev_testbed_set_attribute_link(f->tb, devpath, "physfn", "../0000:00:05.0");
                        g_free(devpath);
                } else
                        g_free(devpath);
        }

        /* Children inherit the testbed through UMOCKDEV_DIR and LD_PRELOAD,
         * and die with us should an assertion end the test early. */
        start_bus(f, config->any_user, f->state_dir);
        if (config->slow_polkit || config->quick_polkit) {
                static const GDBusInterfaceVTable slow = { .method_call = slow_polkit_call },
                                                  quick = { .method_call = quick_polkit_call };
                f->stand_in = stand_in_start(f->bus_address, "org.freedesktop.PolicyKit1",
                                             "/org/freedesktop/PolicyKit1/Authority", polkit_xml,
                                             config->slow_polkit ? &slow : &quick);
        }
        address_arg = g_strdup_printf("--bus-address=%s", f->bus_address);
        idle_arg = g_strdup_printf("--idle-timeout=%s", config->idle_timeout ? config->idle_timeout : "0");
        state_arg = g_strdup_printf("--state-dir=%s", f->state_dir);
        config_arg = g_strdup_printf("--config-dir=%s", f->state_dir);
        cdi_arg = g_strdup_printf("--cdi-dir=%s/cdi", f->state_dir);
        launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
        g_subprocess_launcher_set_child_setup(launcher, die_with_parent, NULL, NULL);
        if (config->notify)
                listen_for_notifications(f, launcher);
        f->daemon = g_subprocess_launcher_spawn(launcher, &error, VFIOD_PATH, address_arg, idle_arg,
                                                state_arg, config_arg, cdi_arg, NULL);
        g_assert_no_error(error);
        f->conn = g_dbus_connection_new_for_address_sync(
                f->bus_address,
                G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                NULL, NULL, &error);
        g_assert_no_error(error);

        for (int i = 0; i < 500 && !owned; i++) {
                g_autoptr(GVariant) r = g_dbus_connection_call_sync(
                        f->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                        "NameHasOwner", g_variant_new("(s)", VFIOD_BUS_NAME), NULL, 0, 1000, NULL, NULL);
                if (r)
                        g_variant_get(r, "(b)", &owned);
                if (!owned)
                        g_usleep(10000);
        }
        g_assert_true(owned);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
        g_subprocess_send_signal(f->daemon, SIGTERM);
        g_assert_true(g_subprocess_wait(f->daemon, NULL, NULL));
        /* SIGTERM is a clean shutdown, not a crash. */
        g_assert_true(g_subprocess_get_if_exited(f->daemon));
        g_assert_cmpint(g_subprocess_get_exit_status(f->daemon), ==, 0);
        g_clear_object(&f->daemon);
        g_clear_object(&f->conn);
        if (f->stand_in)
                stand_in_stop(f->stand_in);
        stop_private_bus(f);
        g_clear_object(&f->tb);
        if (f->notify) {
                g_autofree char *path = g_build_filename(f->notify_dir, "notify", NULL);
                g_clear_object(&f->notify);
                g_unlink(path);
                g_rmdir(f->notify_dir);
                g_free(f->notify_dir);
        }
        g_free(f->e1000);
        g_free(f->edu);
        rm_rf(f->state_dir);
        g_free(f->state_dir);
}

static void test_list_devices(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = call(f, "ListDevices", NULL, &error);
        g_autoptr(GVariantIter) it = NULL;
        const char *address, *path, *vendor, *model, *driver, *state;
        guint16 vid, did, svid, sdid;
        guint32 class;
        gint32 group;
        gboolean boot_vga, bridge;
        guint n = 0;

        g_assert_no_error(error);
        g_variant_get(r, "(a(soqqqqusssibbs))", &it);
        while (g_variant_iter_next(it, "(&s&oqqqqu&s&s&sibb&s)", &address, &path, &vid, &did, &svid, &sdid,
                                   &class, &vendor, &model, &driver, &group, &boot_vga, &bridge, &state)) {
                n++;
                if (g_str_equal(address, "0000:00:04.0")) {
                        g_assert_cmpuint(vid, ==, 0x8086);
                        g_assert_cmpuint(did, ==, 0x100e);
                        g_assert_cmpuint(class, ==, 0x020000);
                        g_assert_cmpstr(driver, ==, "e1000");
                        g_assert_cmpint(group, ==, 3);
                        g_assert_cmpstr(state, ==, "host");
                        /* Names come from the hwdb, the most specific match first:
                         * the fixture's subsystem (1af4:1100) is QEMU's. */
                        g_assert_cmpstr(vendor, ==, "Intel Corporation");
                        g_assert_cmpstr(model, ==, "82540EM Gigabit Ethernet Controller (QEMU Virtual Machine)");
                } else if (g_str_equal(address, "0000:00:03.0")) {
                        g_assert_cmpstr(driver, ==, "");
                        g_assert_cmpstr(state, ==, "unbound");
                } else if (g_str_equal(address, "0000:00:06.0")) {
                        g_assert_true(bridge);
                } else if (g_str_equal(address, "0000:00:02.0")) {
                        g_assert_true(boot_vga);
                }
        }
        g_assert_cmpuint(n, ==, G_N_ELEMENTS(fixtures));
}

static void test_groups(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = call(f, "ListGroups", NULL, &error);
        g_autoptr(GVariantIter) it = NULL;
        GVariantIter *members;
        const char *path, *state;
        guint32 id;
        gboolean viable;
        guint n = 0;

        g_assert_no_error(error);
        g_variant_get(r, "(a(uoasbs))", &it);
        while (g_variant_iter_next(it, "(u&oasb&s)", &id, &path, &members, &viable, &state)) {
                g_autofree char *expected_path = g_strdup_printf(VFIOD_GROUP_PATH_PREFIX "/%u", id);
                g_assert_cmpstr(path, ==, expected_path);
                n++;
                if (id == 4) { /* the multifunction slot: e1000 + edu */
                        g_assert_cmpuint(g_variant_iter_n_children(members), ==, 2);
                        g_assert_false(viable);
                        g_assert_cmpstr(state, ==, "host");
                } else if (id == 5) { /* bridge + the edu behind it */
                        g_assert_cmpuint(g_variant_iter_n_children(members), ==, 2);
                        g_assert_true(viable);
                        g_assert_cmpstr(state, ==, "unbound");
                }
                g_variant_iter_free(members);
        }
        g_assert_cmpuint(n, ==, 5);
}

static void test_lookup_errors(Fixture *f, gconstpointer data)
{
        static const char *const invalid[] = { "", "00:1f", "../../../../etc/passwd", "0000:00:04.0 ",
                                               "0000:00:20.0" };
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = NULL;
        g_autofree char *path = device_path(f, "00:04.0");
        g_autofree char *huge = g_strnfill(100000, 'a');

        g_assert_true(g_str_has_prefix(path, VFIOD_DEVICE_PATH_PREFIX "/"));
        for (size_t i = 0; i < G_N_ELEMENTS(invalid); i++) {
                g_clear_error(&error);
                r = call(f, "GetDevice", g_variant_new("(s)", invalid[i]), &error);
                g_assert_null(r);
                assert_remote_error(error, VFIOD_ERROR_INVALID_ADDRESS);
        }
        g_clear_error(&error);
        r = call(f, "GetDevice", g_variant_new("(s)", huge), &error);
        assert_remote_error(error, VFIOD_ERROR_INVALID_ADDRESS);
        g_assert_cmpuint(strlen(error->message), <, 300); /* the input is quoted, not echoed whole */

        g_clear_error(&error);
        r = call(f, "GetDevice", g_variant_new("(s)", "0000:09:00.0"), &error);
        assert_remote_error(error, VFIOD_ERROR_NO_SUCH_DEVICE);
        g_assert_nonnull(strstr(error->message, "0000:09:00.0"));

        g_clear_error(&error);
        r = call(f, "GetGroup", g_variant_new("(u)", 77), &error);
        assert_remote_error(error, VFIOD_ERROR_NO_SUCH_GROUP);

        g_clear_error(&error);
        r = call(f, "GetDevice", g_variant_new("(u)", 3), &error); /* wrong type */
        g_assert_null(r);
        assert_remote_error(error, "org.freedesktop.DBus.Error.InvalidArgs");

        /* Still serving after all that. */
        g_clear_pointer(&r, g_variant_unref);
        g_clear_error(&error);
        r = call(f, "GetGroup", g_variant_new("(u)", 3), &error);
        g_assert_no_error(error);
}

static void on_signal(GDBusConnection *c, const char *sender, const char *path, const char *iface,
                      const char *signal, GVariant *params, gpointer data)
{
        GPtrArray *seen = data;
        g_autofree char *printed = g_variant_print(params, FALSE);
        g_ptr_array_add(seen, g_strdup_printf("%s %s %s", signal, path, printed));
}

static gboolean seen_contains(GPtrArray *seen, const char *a, const char *b)
{
        for (guint i = 0; i < seen->len; i++)
                if (strstr(seen->pdata[i], a) && (!b || strstr(seen->pdata[i], b)))
                        return TRUE;
        return FALSE;
}

/* A call after a subscription: its answer means the bus has the match, so
 * no signal the test causes next can be missed. */
static void wait_for_match(Fixture *f)
{
        g_variant_unref(get_property(f, VFIOD_ROOT_PATH, VFIOD_MANAGER_INTERFACE, "IommuState"));
}

/* Iterates until a signal matching a and b arrives. */
static void wait_for_signal(GPtrArray *seen, const char *a, const char *b)
{
        guint timeout = g_timeout_add_seconds(5, on_timeout, (gpointer)a);
        while (!seen_contains(seen, a, b))
                g_main_context_iteration(NULL, TRUE);
        g_source_remove(timeout);
}

static void test_hotplug(Fixture *f, gconstpointer data)
{
        g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = NULL;
        g_autofree char *devpath = NULL;
        guint sub = g_dbus_connection_signal_subscribe(f->conn, NULL, "org.freedesktop.DBus.ObjectManager",
                                                       NULL, VFIOD_ROOT_PATH, NULL, 0, on_signal, seen, NULL);

        wait_for_match(f);
        devpath = pci_testbed_add(f->tb, &(PciFixture){ "0000:00:08.0", NULL, "0x1234", "0x11e8", "0x00ff00",
                                                          NULL, 8, NULL });
        wait_for_signal(seen, "InterfacesAdded", "_30000_3a00_3a08_2e0");
        wait_for_signal(seen, "InterfacesAdded", VFIOD_GROUP_PATH_PREFIX "/8");
        r = call(f, "GetDevice", g_variant_new("(s)", "00:08.0"), &error);
        g_assert_no_error(error);
        g_clear_pointer(&r, g_variant_unref);

        umockdev_testbed_uevent(f->tb, devpath, "remove");
        wait_for_signal(seen, "InterfacesRemoved", "_30000_3a00_3a08_2e0");
        wait_for_signal(seen, "InterfacesRemoved", VFIOD_GROUP_PATH_PREFIX "/8");
        r = call(f, "GetDevice", g_variant_new("(s)", "00:08.0"), &error);
        assert_remote_error(error, VFIOD_ERROR_NO_SUCH_DEVICE);
        g_dbus_connection_signal_unsubscribe(f->conn, sub);
}

/* systemd hears READY with a status line, and watchdog pings keep coming
 * (the first ping may come before READY: the watchdog starts with the loop). */
static void test_tells_systemd(Fixture *f, gconstpointer data)
{
        g_autofree char *ready = NULL;
        int pings = 0;

        for (int i = 0; i < 10 && !ready; i++) {
                char *n = next_notification(f);
                if (strstr(n, "READY=1"))
                        ready = n;
                else
                        g_free(n);
        }
        g_assert_nonnull(ready);
        g_assert_nonnull(strstr(ready, "STATUS=Serving 7 PCI devices in 5 IOMMU groups."));
        while (pings < 2) {
                g_autofree char *n = next_notification(f);
                if (strstr(n, "WATCHDOG=1"))
                        pings++;
        }
}

static void on_exited(GObject *source, GAsyncResult *result, gpointer data)
{
        g_assert_true(g_subprocess_wait_finish(G_SUBPROCESS(source), result, NULL));
        *(gboolean *)data = TRUE;
}

/* With nothing held and no callers, it exits cleanly and gives up the name. */
static void test_idle_exit(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = NULL;
        gboolean owned = TRUE;
        gboolean exited = FALSE;
        guint timeout = g_timeout_add_seconds(5, on_timeout, (gpointer) "the idle exit");

        /* The 1 s idle timeout, no signal. */
        g_subprocess_wait_async(f->daemon, NULL, on_exited, &exited);
        while (!exited)
                g_main_context_iteration(NULL, TRUE);
        g_source_remove(timeout);
        g_assert_true(g_subprocess_get_if_exited(f->daemon));
        g_assert_cmpint(g_subprocess_get_exit_status(f->daemon), ==, 0);
        r = g_dbus_connection_call_sync(f->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                        "org.freedesktop.DBus", "NameHasOwner",
                                        g_variant_new("(s)", VFIOD_BUS_NAME), NULL, 0, 1000, NULL, &error);
        g_assert_no_error(error);
        g_variant_get(r, "(b)", &owned);
        g_assert_false(owned);
}

/* A Manager method called by a caller that is not root (root is never
 * asked about): nobody, when the test runs as root. Whether it succeeded;
 * *err: what the caller printed. */
/* As root, the command that argv gets next runs as nobody. */
static void run_as_nobody(GPtrArray *argv)
{
        if (getuid() == 0)
                for (const char *const *a = (const char *const[]){ "setpriv", "--reuid=65534", "--regid=65534",
                                                                   "--clear-groups", NULL };
                     *a; a++)
                        g_ptr_array_add(argv, (gpointer)*a);
}

static gboolean call_as_nobody(Fixture *f, const char *method, const char *const *args, char **err)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_autofree char *manager_method = g_strdup_printf(VFIOD_MANAGER_INTERFACE ".%s", method);
        g_autoptr(GError) error = NULL;
        int status;

        run_as_nobody(argv);
        for (const char *const *a = (const char *const[]){ "gdbus", "call", "--address", f->bus_address, "--timeout",
                                                           "20", "--dest", VFIOD_BUS_NAME, "--object-path",
                                                           VFIOD_ROOT_PATH, "--method", manager_method, NULL };
             *a; a++)
                g_ptr_array_add(argv, (gpointer)*a);
        for (; *args; args++)
                g_ptr_array_add(argv, (gpointer)*args);
        g_ptr_array_add(argv, NULL);
        g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                                   NULL, NULL, NULL, err, &status, &error));
        g_assert_no_error(error);
        g_test_message("the caller: %s", *err);
        return g_spawn_check_wait_status(status, NULL);
}

/* A caller waiting for polkit keeps vfiod up past its idle timeout (2 s
 * here) and gets polkit's answer, which comes after 4 s. */
static void test_idle_waits_for_polkit(Fixture *f, gconstpointer data)
{
        g_autofree char *err = NULL;

        g_assert_false(call_as_nobody(f, "Reserve", (const char *const[]){ "'0000:00:03.0'", "{}", NULL }, &err));
        g_assert_nonnull(strstr(err, VFIOD_ERROR_NOT_AUTHORIZED));
        g_assert_nonnull(strstr(err, "the polkit policy says no")); /* polkit answered: vfiod waited */
}

/* A call that fails before it takes polkit's answer (here: the process
 * whose limit it raises died meanwhile) leaves the answer, and the call
 * with its fds, with vfiod for a while: those count against the caller's
 * limits, so that one connection cannot pile them up. */
static void test_unused_answers_count(Fixture *f, gconstpointer data)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_autoptr(GError) error = NULL;
        g_autofree char *out = NULL, *err = NULL;
        g_auto(GStrv) lines = NULL;
        int status;

        run_as_nobody(argv);
        g_ptr_array_add(argv, (gpointer)UNUSED_ANSWERS);
        g_ptr_array_add(argv, f->bus_address);
        g_ptr_array_add(argv, (gpointer) "8"); /* the limit of one connection */
        g_ptr_array_add(argv, NULL);
        g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                                   &status, &error));
        g_assert_no_error(error);
        g_test_message("the caller: %s", err);
        g_assert_true(g_spawn_check_wait_status(status, NULL));
        lines = g_strsplit(out, "\n", 0);
        g_assert_cmpstr(lines[0], ==, VFIOD_ERROR_NO_SUCH_PROCESS);
        g_assert_nonnull(lines[1]);
        g_assert_cmpstr(lines[1], ==, "org.freedesktop.DBus.Error.LimitsExceeded");
        g_assert_nonnull(strstr(err, "This connection already has 8 questions to polkit open"));
}

/* Whether a reservation's owner exists is asked of the user database
 * (which may be a slow directory server) only for a caller polkit lets
 * reserve: anyone else hears no more than that. */
static void test_reserve_owner_looked_up_after_polkit(Fixture *f, gconstpointer data)
{
        g_autofree char *err = NULL;

        g_assert_false(call_as_nobody(f, "Reserve",
                                      (const char *const[]){ "'0000:00:03.0'", "{'owner': <'nosuchuser'>}", NULL },
                                      &err));
        g_assert_nonnull(strstr(err, VFIOD_ERROR_NOT_AUTHORIZED));
        g_assert_null(strstr(err, "nosuchuser"));
        g_free(err);
        err = NULL;
        /* A name that cannot be one is refused at the edge. */
        g_assert_false(call_as_nobody(f, "Reserve",
                                      (const char *const[]){ "'0000:00:03.0'", "{'owner': <'-x'>}", NULL }, &err));
        g_assert_nonnull(strstr(err, "Option 'owner' takes a user name"));
        /* Root, whom polkit is not asked about, hears that there is no
         * such user, and nothing is reserved. */
        if (getuid() == 0) {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) r = call(f, "Reserve",
                                             g_variant_new_parsed("('0000:00:03.0', {'owner': <'nosuchuser'>})"),
                                             &error);
                g_assert_null(r);
                assert_remote_error(error, "org.freedesktop.DBus.Error.InvalidArgs");
                g_assert_nonnull(strstr(error->message, "There is no user 'nosuchuser'"));
        }
}

/* Unreserve drops every line with its match, as the files are now (lines
 * written after vfiod read them too), so polkit is told each line's owner:
 * a rule that lets users drop their own reservations must not let them
 * drop another's with it. */
static void test_unreserve_asks_about_every_owner(Fixture *f, gconstpointer data)
{
        g_autofree char *dir = g_build_filename(f->state_dir, "reservations.d", NULL);
        g_autofree char *a = g_build_filename(dir, "10-a.conf", NULL), *b = g_build_filename(dir, "20-b.conf", NULL);
        g_autofree char *err = NULL, *match = NULL, *owner = NULL, *text = NULL;
        g_autoptr(GError) error = NULL;

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        g_assert_true(g_file_set_contents(a, "0000:00:03.0 owner=nobody\n", -1, &error));
        g_assert_true(g_file_set_contents(b, "0000:00:03.0 owner=@root\n00:03.0\n", -1, &error));
        g_assert_false(call_as_nobody(f, "Unreserve", (const char *const[]){ "'0000:00:03.0'", "{}", NULL }, &err));
        g_assert_nonnull(strstr(err, VFIOD_ERROR_NOT_AUTHORIZED));
        match = polkit_detail("match");
        owner = polkit_detail("owner");
        g_assert_cmpstr(match, ==, "0000:00:03.0");
        g_assert_cmpstr(owner, ==, "nobody @root root");
        /* Refused: every line stays. */
        g_assert_true(g_file_get_contents(b, &text, NULL, &error));
        g_assert_cmpstr(text, ==, "0000:00:03.0 owner=@root\n00:03.0\n");
}

/* The IOMMU state follows the first group that comes and the last that goes. */
static void test_iommu_state_follows_groups(Fixture *f, gconstpointer data)
{
        g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *devpath = NULL;
        guint sub = g_dbus_connection_signal_subscribe(f->conn, NULL, "org.freedesktop.DBus.Properties",
                                                       "PropertiesChanged", VFIOD_ROOT_PATH, NULL, 0,
                                                       on_signal, seen, NULL);
        /* A call after the subscription: its answer means the bus has the
         * match, so no signal of the hotplug below can be missed. */
        g_autoptr(GVariant) before = get_property(f, VFIOD_ROOT_PATH, VFIOD_MANAGER_INTERFACE, "IommuState");

        g_assert_cmpstr(g_variant_get_string(before, NULL), ==, "disabled");
        devpath = pci_testbed_add(f->tb, &(PciFixture){ "0000:00:08.0", NULL, "0x1234", "0x11e8", "0x00ff00",
                                                          NULL, 0, NULL });
        wait_for_signal(seen, "IommuState", "'enabled'");
        umockdev_testbed_uevent(f->tb, devpath, "remove");
        wait_for_signal(seen, "IommuState", "'disabled'");
        g_dbus_connection_signal_unsubscribe(f->conn, sub);
}

static void test_rebind_followed(Fixture *f, gconstpointer data)
{
        g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *path = device_path(f, "0000:00:04.0");
        g_autoptr(GVariant) driver = NULL, state = NULL, viable = NULL;
        guint sub = g_dbus_connection_signal_subscribe(f->conn, NULL, "org.freedesktop.DBus.Properties",
                                                       "PropertiesChanged", NULL, NULL, 0, on_signal, seen,
                                                       NULL);

        wait_for_match(f);
        pci_testbed_set_driver(f->tb, f->e1000, "vfio-pci");
        umockdev_testbed_uevent(f->tb, f->e1000, "bind");
        wait_for_signal(seen, path, "Driver");
        wait_for_signal(seen, VFIOD_GROUP_PATH_PREFIX "/3", "Viable");

        driver = get_property(f, path, VFIOD_DEVICE_INTERFACE, "Driver");
        state = get_property(f, path, VFIOD_DEVICE_INTERFACE, "State");
        viable = get_property(f, VFIOD_GROUP_PATH_PREFIX "/3", VFIOD_GROUP_INTERFACE, "Viable");
        g_assert_cmpstr(g_variant_get_string(driver, NULL), ==, "vfio-pci");
        g_assert_cmpstr(g_variant_get_string(state, NULL), ==, "vfio");
        g_assert_true(g_variant_get_boolean(viable));
        g_dbus_connection_signal_unsubscribe(f->conn, sub);
}

static guint count_args(GDBusArgInfo **args)
{
        guint n = 0;

        while (args && args[n])
                n++;
        return n;
}

static void assert_same_args(GDBusArgInfo **doc, GDBusArgInfo **live)
{
        g_assert_cmpuint(count_args(live), ==, count_args(doc));
        for (guint i = 0; doc && doc[i]; i++) {
                g_assert_cmpstr(live[i]->name, ==, doc[i]->name);
                g_assert_cmpstr(live[i]->signature, ==, doc[i]->signature);
        }
}

/* Whether a property's changes are signalled, with its value ("true", the
 * default), without it ("invalidates"), or never ("const", "false"). */
static const char *emits_changed(GDBusPropertyInfo *p)
{
        const char *v = g_dbus_annotation_info_lookup(p->annotations,
                                                      "org.freedesktop.DBus.Property.EmitsChangedSignal");
        return v ? v : "true";
}

/* The interface the daemon exports is the one its XML in dbus/ documents. */
static void assert_same_interface(GDBusInterfaceInfo *doc, GDBusInterfaceInfo *live)
{
        guint n;

        for (n = 0; doc->methods && doc->methods[n]; n++) {
                GDBusMethodInfo *m = g_dbus_interface_info_lookup_method(live, doc->methods[n]->name);
                g_test_message("method %s.%s", doc->name, doc->methods[n]->name);
                g_assert_nonnull(m);
                assert_same_args(doc->methods[n]->in_args, m->in_args);
                assert_same_args(doc->methods[n]->out_args, m->out_args);
        }
        for (guint i = 0; live->methods && live->methods[i]; i++)
                g_assert_nonnull(g_dbus_interface_info_lookup_method(doc, live->methods[i]->name));
        for (n = 0; doc->properties && doc->properties[n]; n++) {
                GDBusPropertyInfo *p = g_dbus_interface_info_lookup_property(live, doc->properties[n]->name);
                g_test_message("property %s.%s", doc->name, doc->properties[n]->name);
                g_assert_nonnull(p);
                g_assert_cmpstr(p->signature, ==, doc->properties[n]->signature);
                g_assert_cmpint(p->flags, ==, doc->properties[n]->flags);
                g_assert_cmpstr(emits_changed(p), ==, emits_changed(doc->properties[n]));
        }
        for (guint i = 0; live->properties && live->properties[i]; i++)
                g_assert_nonnull(g_dbus_interface_info_lookup_property(doc, live->properties[i]->name));
        for (n = 0; doc->signals && doc->signals[n]; n++) {
                GDBusSignalInfo *s = g_dbus_interface_info_lookup_signal(live, doc->signals[n]->name);
                g_test_message("signal %s.%s", doc->name, doc->signals[n]->name);
                g_assert_nonnull(s);
                assert_same_args(doc->signals[n]->args, s->args);
        }
        for (guint i = 0; live->signals && live->signals[i]; i++)
                g_assert_nonnull(g_dbus_interface_info_lookup_signal(doc, live->signals[i]->name));
}

static void check_xml(Fixture *f, const char *path, const char *iface)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *file = g_strdup_printf("%s/%s.xml", DBUS_XML_DIR, iface);
        g_autofree char *text = NULL;
        g_autoptr(GDBusNodeInfo) doc = NULL, live = NULL;
        g_autoptr(GVariant) r = NULL;
        const char *xml;

        g_assert_true(g_file_get_contents(file, &text, NULL, &error));
        doc = g_dbus_node_info_new_for_xml(text, &error);
        g_assert_no_error(error);
        r = g_dbus_connection_call_sync(f->conn, VFIOD_BUS_NAME, path, "org.freedesktop.DBus.Introspectable",
                                        "Introspect", NULL, G_VARIANT_TYPE("(s)"), 0, 5000, NULL, &error);
        g_assert_no_error(error);
        g_variant_get(r, "(&s)", &xml);
        live = g_dbus_node_info_new_for_xml(xml, &error);
        g_assert_no_error(error);
        g_assert_nonnull(g_dbus_node_info_lookup_interface(doc, iface));
        g_assert_nonnull(g_dbus_node_info_lookup_interface(live, iface));
        assert_same_interface(g_dbus_node_info_lookup_interface(doc, iface),
                              g_dbus_node_info_lookup_interface(live, iface));
}

static void test_xml_matches(Fixture *f, gconstpointer data)
{
        g_autofree char *device = device_path(f, "00:04.0");

        check_xml(f, VFIOD_ROOT_PATH, VFIOD_MANAGER_INTERFACE);
        check_xml(f, device, VFIOD_DEVICE_INTERFACE);
        check_xml(f, VFIOD_GROUP_PATH_PREFIX "/3", VFIOD_GROUP_INTERFACE);
}

/* The Lease object, taken up from a record: there is none otherwise here. */
static void test_lease_xml_matches(Fixture *f, gconstpointer data)
{
        check_xml(f, VFIOD_LEASE_PATH_PREFIX "/7", VFIOD_LEASE_INTERFACE);
}

/* Runs vfioctl-client against the private bus. */
static int run_client(Fixture *f, char **out, char **err, ...)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GError) error = NULL;
        g_autoptr(GSubprocess) p = NULL;
        va_list ap;

        g_ptr_array_add(argv, g_strdup(CLIENT_PATH));
        g_ptr_array_add(argv, g_strdup_printf("--bus-address=%s", f->bus_address));
        va_start(ap, err);
        for (const char *a; (a = va_arg(ap, const char *));)
                g_ptr_array_add(argv, g_strdup(a));
        va_end(ap);
        g_ptr_array_add(argv, NULL);
        p = g_subprocess_newv((const char *const *)argv->pdata,
                              G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
        g_assert_no_error(error);
        g_assert_true(g_subprocess_communicate_utf8(p, NULL, NULL, out, err, &error));
        g_assert_no_error(error);
        return g_subprocess_get_exit_status(p);
}

static void test_client(Fixture *f, gconstpointer data)
{
        g_autofree char *out = NULL, *err = NULL, *command = NULL;
        int status;

        g_assert_cmpint(run_client(f, &out, &err, "--json", "list", NULL), ==, 0);
        g_assert_true(g_str_has_prefix(out, "{\"devices\":["));
        g_assert_nonnull(strstr(out, "\"address\":\"0000:00:04.0\""));
        g_assert_nonnull(strstr(out, "\"driver\":\"e1000\",\"iommu_group\":3"));
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);

        g_assert_cmpint(run_client(f, &out, &err, "list", NULL), ==, 0);
        g_assert_nonnull(strstr(out, "82540EM Gigabit Ethernet Controller"));
        g_assert_null(strstr(out, "\033[")); /* no colour into a pipe */
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);

        /* On a terminal (script(1) gives it one), colour — unless NO_COLOR. */
        command = g_strdup_printf("%s --bus-address=%s list", CLIENT_PATH, f->bus_address);
        g_assert_true(g_spawn_sync(NULL, (char *[]){ "script", "-qec", command, "/dev/null", NULL }, NULL,
                                   G_SPAWN_SEARCH_PATH, NULL, NULL, &out, NULL, &status, NULL));
        g_assert_nonnull(strstr(out, "\033[1mGROUP"));
        g_clear_pointer(&out, g_free);
        g_assert_true(g_spawn_sync(NULL, (char *[]){ "env", "NO_COLOR=1", "script", "-qec", command, "/dev/null",
                                                    NULL },
                                   NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, NULL, &status, NULL));
        g_assert_nonnull(strstr(out, "GROUP"));
        g_assert_null(strstr(out, "\033["));
        g_clear_pointer(&out, g_free);

        g_assert_cmpint(run_client(f, &out, &err, "show", "00:05.1", NULL), ==, 0);
        g_assert_nonnull(strstr(out, "0000:00:05.1"));
        g_assert_nonnull(strstr(out, "group:     4"));
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);

        g_assert_cmpint(run_client(f, &out, &err, "--json", "show", "5", NULL), ==, 0);
        g_assert_nonnull(strstr(out, "\"iommu_group\":5,\"viable\":true"));
        g_assert_nonnull(strstr(out, "0000:01:01.0"));
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);

        /* doctor exits 1 exactly when it found an error (this testbed's host
         * kernel decides whether vfio-pci is there). */
        status = run_client(f, &out, &err, "--json", "doctor", NULL);
        g_assert_cmpint(status, ==, strstr(out, "\"severity\":\"error\"") ? 1 : 0);
        g_assert_true(g_str_has_prefix(out, "{\"daemon\":true,\"findings\":["));
        g_assert_nonnull(strstr(out, "\"check\":\"iommu-enabled\",\"severity\":\"ok\""));
        g_assert_nonnull(strstr(out, "\"check\":\"boot-vga\""));
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);

        /* A verb's own help, without a bus. */
        g_assert_cmpint(run_client(f, &out, &err, "claim", "--help", NULL), ==, 0);
        g_assert_true(g_str_has_prefix(out, "Usage: vfioctl-client [OPTIONS] claim ADDRESS|GROUP"));
        g_assert_nonnull(strstr(out, "--memory=SIZE"));
        g_assert_null(strstr(out, "--owner"));
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);

        /* Nothing leased: nothing to end, and that is no failure. */
        g_assert_cmpint(run_client(f, &out, &err, "release", "--all", NULL), ==, 0);
        g_assert_cmpstr(out, ==, "(no leases)\n");
}

/* Whether json is one object of the schema's definition (check-json.py). */
static gboolean json_has_shape(const char *definition, const char *json)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GSubprocess) p = NULL;
        g_autofree char *err = NULL;

        p = g_subprocess_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error, CHECK_JSON,
                             JSON_SCHEMA, definition, NULL);
        g_assert_no_error(error);
        g_assert_true(g_subprocess_communicate_utf8(p, json, NULL, NULL, &err, &error));
        g_assert_no_error(error);
        if (!g_subprocess_get_successful(p))
                g_test_message("%s", err);
        return g_subprocess_get_successful(p);
}

#define assert_json_shape(definition, json) g_assert_true(json_has_shape(definition, json))

/* Every verb's --json output, a failure's included, is one object of the
 * shape docs/vfioctl-client.schema.json gives it, and nothing goes to
 * stderr beside it. Claims and reservations are checked in the vm suite. */
static void test_json_shapes(Fixture *f, gconstpointer data)
{
        static const struct {
                const char *args[4];
                const char *definition;
                int status;
        } cases[] = {
                { { "list" }, "list", 0 },
                { { "show", "00:04.0" }, "device", 0 },
                { { "show", "3" }, "group", 0 },
                { { "leases" }, "leases", 0 },
                { { "reservations" }, "reservations", 0 },
                { { "release", "--all" }, "release-all", 0 },
                { { "show", "0000:07:00.0" }, "error", 5 },
                { { "release", "3" }, "error", 5 },
                { { "frobnicate" }, "error", 2 },
                { { "--memory=lots", "claim", "3" }, "error", 2 },
                { { "claim" }, "error", 2 },
                { { "--bogus", "list" }, "error", 2 },
                /* What is not UTF-8 comes back escaped: JSON must be. */
                { { "bo\xffgus" }, "error", 2 },
                { { "memlock", "\xc3", "--memlock=1G" }, "error", 2 },
                { { "prepare", "\xe2\x82", "01:00.0" }, "error", 2 },
                { { "claim", "\xff" }, "error", 2 },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *out = NULL, *err = NULL;
                const char *const *a = cases[i].args;
                g_autofree char *line = g_strjoinv(" ", (char **)a);
                g_autofree char *printable = g_strescape(line, NULL);
                g_test_message("vfioctl-client --json %s", printable);
                g_assert_cmpint(run_client(f, &out, &err, "--json", a[0], a[1], a[2], a[3], NULL), ==,
                                cases[i].status);
                assert_json_shape(cases[i].definition, out);
                g_assert_cmpstr(err, ==, "");
        }
        /* doctor without a bus: its own findings, one object alone (no
         * failure to connect before it). */
        {
                g_autofree char *out = NULL;
                const char *argv[] = { CLIENT_PATH, "--bus-address=unix:path=/nonexistent", "--json", "doctor", NULL };
                int status;
                g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out,
                                           NULL, &status, NULL));
                assert_json_shape("doctor", out);
                g_assert_true(g_str_has_prefix(out, "{\"daemon\":false,"));
        }
        /* The check can fail: a list is no lease listing. */
        {
                g_autofree char *out = NULL, *err = NULL;
                g_assert_cmpint(run_client(f, &out, &err, "--json", "list", NULL), ==, 0);
                g_assert_false(json_has_shape("leases", out));
        }
}

/* With a lease: its row, with the owner's name beside the uid. */
static void test_json_shapes_leased(Fixture *f, gconstpointer data)
{
        g_autofree char *out = NULL, *err = NULL;

        g_assert_cmpint(run_client(f, &out, &err, "--json", "leases", NULL), ==, 0);
        assert_json_shape("leases", out);
        g_assert_nonnull(strstr(out, "\"iommu_group\":3,"));
        g_assert_nonnull(strstr(out, "\"user\":"));
        g_assert_nonnull(strstr(out, "],\"held\":[]}"));
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);

        /* show of a leased group says whose it is. */
        g_assert_cmpint(run_client(f, &out, &err, "--json", "show", "3", NULL), ==, 0);
        assert_json_shape("group", out);
        g_assert_nonnull(strstr(out, "\"lease\":{\"lease\":\"" VFIOD_LEASE_PATH_PREFIX "/7\",\"iommu_group\":3,\"uid\":1000,"));
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(run_client(f, &out, &err, "show", "3", NULL), ==, 0);
        g_assert_nonnull(strstr(out, "(uid 1000, pid 4242): none, persistent, lease 7"));
}

/* A vfiod of another version: its Manager answers the listings with rows
 * of another shape. */
static const char other_version_xml[] =
        "<node><interface name='" VFIOD_MANAGER_INTERFACE "'>"
        "<method name='ListLeases'><arg type='a(ou)' direction='out'/></method>"
        "<method name='ListPrepared'><arg type='a(ss)' direction='out'/></method>"
        "</interface></node>";

static void other_version_call(GDBusConnection *conn, const char *sender, const char *path, const char *iface,
                               const char *method, GVariant *params, GDBusMethodInvocation *invocation,
                               gpointer data)
{
        if (g_str_equal(method, "ListLeases"))
                g_dbus_method_invocation_return_value(
                        invocation, g_variant_new_parsed("([(objectpath '/io/github/vfiod1/lease/1', uint32 3)],)"));
        else
                g_dbus_method_invocation_return_value(invocation,
                                                      g_variant_new_parsed("([('claim-1', 'vfiod.io/group=1')],)"));
}

static void other_version_setup(Fixture *f, gconstpointer data)
{
        static const GDBusInterfaceVTable vtable = { .method_call = other_version_call };

        start_private_bus(f);
        f->stand_in = stand_in_start(f->bus_address, VFIOD_BUS_NAME, VFIOD_ROOT_PATH, other_version_xml, &vtable);
}

static void other_version_teardown(Fixture *f, gconstpointer data)
{
        stand_in_stop(f->stand_in);
        stop_private_bus(f);
}

/* An answer the client cannot read is reported before any of it is
 * printed: with --json, the error is the only object. */
static void test_client_other_version(Fixture *f, gconstpointer data)
{
        static const char *const verbs[] = { "leases", "prepared" };

        for (size_t i = 0; i < G_N_ELEMENTS(verbs); i++) {
                g_autofree char *out = NULL, *err = NULL;

                g_test_message("vfioctl-client --json %s", verbs[i]);
                g_assert_cmpint(run_client(f, &out, &err, "--json", verbs[i], NULL), ==, 1);
                assert_json_shape("error", out);
                g_assert_nonnull(strstr(out, "of the same version?"));
                g_assert_cmpstr(err, ==, "");
                g_clear_pointer(&out, g_free);
                g_clear_pointer(&err, g_free);

                g_assert_cmpint(run_client(f, &out, &err, verbs[i], NULL), ==, 1);
                g_assert_cmpstr(out, ==, "");
                g_assert_nonnull(strstr(err, "it is of signature 'a("));
        }
}

/* What a failure makes vfioctl-client exit with (vfioctl-client(1)). The
 * exits for "not authorized" and "busy" are checked in the vm suite, where
 * polkit runs and groups move. */
static void test_client_exit_status(Fixture *f, gconstpointer data)
{
        static const struct {
                const char *args[7];
                int status;
                const char *says;
        } cases[] = {
                { { "frobnicate" }, 2, "unknown command 'frobnicate'" },
                { { "show" }, 2, "show takes" },
                { { "--memory=lots", "claim", "3" }, 2, "--memory takes a size" },
                { { "--fd", "claim", "3" }, 2, "--fd hands the fds to a command" },
                { { "--cdev", "claim", "3" }, 2, "--cdev hands the fds to a command" },
                { { "show", "99999999999" }, 2, "99999999999 is not an IOMMU group number" },
                { { "show", "0000:0g:00.0" }, 2, "'0000:0g:00.0' is not a PCI address" },
                { { "show", "0000:07:00.0" }, 5, "No PCI device at 0000:07:00.0" },
                { { "release", "3" }, 5, "vfiod holds no claim of IOMMU group 3" },
                { { "release", "--all", "3" }, 2, "release --all takes no address or group" },
                /* A QEMU's -m is read before the claim: not enough locked
                 * memory is said first; then the device is not there, and
                 * no limit is raised for it. */
                { { "--memlock=256M", "claim", "0000:07:00.0", "--", "qemu-system-x86_64", "-m", "1536" }, 5,
                  "QEMU's guest has 1.5 GiB (-m), so it needs 2.5 GiB of locked memory for its VFIO device, and "
                  "--memlock/--memory gives 256 MiB: add --memory 1536M" },
                { { "--all", "list" }, 2, "--all is no option of list" },
                { { "list", "--force" }, 2, "--force is no option of list" },
                { { "--owner=a", "--owner=b", "reserve", "01:00.0" }, 2, "--owner is given twice" },
                { { "--fd", "--chown", "claim", "3", "--", "true" }, 2, "--fd and --chown do not go together" },
                { { "--memory=8192", "claim", "3", "--", "true" }, 2, "--memory takes a size with its unit" },
                { { "claim", "3", "--wait", "--memory=8G" }, 2, "raise the limit of the command" },
                { { "reserve", "nonsense" }, 2, "Not a reservation match: 'nonsense'" },
                { { "prepare", "pod-1", "nonsense" }, 2, "'nonsense' is not a PCI address" },
                { { "claim", "\xff" }, 2, "'\\xff' is not a PCI address" },
                { { "memlock", "abc", "--memory=1G" }, 2, "'abc' is not a process id" },
                { { "memlock", "1" }, 2, "memlock needs --memlock=SIZE or --memory=SIZE" },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *out = NULL, *err = NULL;
                const char *const *a = cases[i].args;
                int status = run_client(f, &out, &err, a[0], a[1], a[2], a[3], a[4], a[5], a[6], NULL);
                g_test_message("%s", err);
                g_assert_cmpint(status, ==, cases[i].status);
                g_assert_nonnull(strstr(err, cases[i].says));
        }
}

/* Every input the claim methods take is checked before anything moves.
 * The caller here is whoever runs the tests: root passes the root check,
 * anyone else is refused before the arguments matter. */
static void test_claim_input(Fixture *f, gconstpointer data)
{
        static const struct {
                const char *method, *args, *error;
        } cases[] = {
                { "ClaimGroup", "(uint32 99, @a{sv} {})", VFIOD_ERROR_NO_SUCH_GROUP },
                { "ClaimGroup", "(uint32 3, {'forse': <true>})", "org.freedesktop.DBus.Error.InvalidArgs" },
                { "ClaimGroup", "(uint32 3, {'force': <'yes'>})", "org.freedesktop.DBus.Error.InvalidArgs" },
                { "ClaimDevice", "('../../sys', @a{sv} {})", VFIOD_ERROR_INVALID_ADDRESS },
                { "ClaimDevice", "('0000:07:00.0', @a{sv} {})", VFIOD_ERROR_NO_SUCH_DEVICE },
                { "ReleaseGroup", "(uint32 3, @a{sv} {})", VFIOD_ERROR_NOT_CLAIMED },
                { "ReleaseGroup", "(uint32 3, {'force': <true>})", "org.freedesktop.DBus.Error.InvalidArgs" },
                { "ClaimGroup", "(uint32 3, {'mode': <'all'>})", "org.freedesktop.DBus.Error.InvalidArgs" },
                { "ClaimGroup", "(uint32 3, {'mode': <uint32 1>})", "org.freedesktop.DBus.Error.InvalidArgs" },
                { "ClaimGroup", "(uint32 3, {'lifetime': <'forever'>})", "org.freedesktop.DBus.Error.InvalidArgs" },
                { "ClaimGroup", "(uint32 3, {'lifetime': <''>})", "org.freedesktop.DBus.Error.InvalidArgs" },
                { "ClaimDevice", "('00:04.0', {'mode': <'../fd'>})", "org.freedesktop.DBus.Error.InvalidArgs" },
                /* Of two values for one key, neither wins silently. */
                { "ClaimGroup", "(uint32 3, {'force': <false>, 'force': <true>})",
                  "org.freedesktop.DBus.Error.InvalidArgs" },
                { "Reserve", "('0000:00:03.0', {'owner': <'nobody'>, 'owner': <'root'>})",
                  "org.freedesktop.DBus.Error.InvalidArgs" },
                { "RaiseMemlockLimit", "(uint64 4096,)", "org.freedesktop.DBus.Error.InvalidArgs" },
                { "Prepare", "('../etc', ['00:04.0'], @a{sv} {})", VFIOD_ERROR_INVALID_CLAIM_ID },
                { "Prepare", "('', ['00:04.0'], @a{sv} {})", VFIOD_ERROR_INVALID_CLAIM_ID },
                { "Prepare", "('pod-1', @as [], @a{sv} {})", "org.freedesktop.DBus.Error.InvalidArgs" },
                { "Prepare", "('pod-1', ['0000:07:00.0'], @a{sv} {})", VFIOD_ERROR_NO_SUCH_DEVICE },
                { "Prepare", "('pod-1', ['00:04.0', 'nonsense'], @a{sv} {})", VFIOD_ERROR_INVALID_ADDRESS },
                { "Prepare", "('pod-1', ['00:04.0'], {'force': <true>})", "org.freedesktop.DBus.Error.InvalidArgs" },
                { "Unprepare", "('a/b', @a{sv} {})", VFIOD_ERROR_INVALID_CLAIM_ID },
        };
        /* All of them fail at the edge, before polkit is asked: the same
         * answer for root and for anyone else. */
        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) r = call(f, cases[i].method, g_variant_new_parsed(cases[i].args), &error);
                g_test_message("%s%s", cases[i].method, cases[i].args);
                g_assert_null(r);
                assert_remote_error(error, cases[i].error);
        }
        /* A wrong signature never reaches the method. */
        {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) r = call(f, "ClaimGroup", g_variant_new("(s)", "3"), &error);
                g_assert_null(r);
                assert_remote_error(error, "org.freedesktop.DBus.Error.InvalidArgs");
        }
        /* Nothing changed: the group is where it was. */
        {
                g_autoptr(GVariant) state = get_property(f, VFIOD_GROUP_PATH_PREFIX "/3", VFIOD_GROUP_INTERFACE, "State");
                g_assert_cmpstr(g_variant_get_string(state, NULL), ==, "host");
        }
}

/* Where a device sits, for an orchestrator's scheduling. */
static void test_topology(Fixture *f, gconstpointer data)
{
        static const struct {
                const char *address, *path, *root_port, *physfn, *vfs;
                int numa;
        } cases[] = {
                { "0000:00:05.1", "0000:00:05.1", "", "0000:00:05.0", "", 1 },
                { "0000:00:05.0", "0000:00:05.0", "", "", "0000:00:05.1", -1 },
                { "0000:01:01.0", "0000:00:06.0/01.0", "0000:00:06.0", "", "", -1 },
                { "0000:00:04.0", "0000:00:04.0", "", "", "", -1 },
        };
        g_autofree char *out = NULL, *err = NULL;

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) object = call(f, "GetDevice", g_variant_new("(s)", cases[i].address), &error);
                g_autoptr(GVariant) numa = NULL, physical = NULL, root = NULL, pf = NULL, vfs = NULL, cdev = NULL;
                g_autofree char *vf_list = NULL;
                g_autofree const char **vf_strv = NULL;
                const char *path;

                g_assert_no_error(error);
                g_variant_get(object, "(&o)", &path);
                numa = get_property(f, path, VFIOD_DEVICE_INTERFACE, "NumaNode");
                physical = get_property(f, path, VFIOD_DEVICE_INTERFACE, "PhysicalPath");
                root = get_property(f, path, VFIOD_DEVICE_INTERFACE, "RootPort");
                pf = get_property(f, path, VFIOD_DEVICE_INTERFACE, "PhysicalFunction");
                vfs = get_property(f, path, VFIOD_DEVICE_INTERFACE, "VirtualFunctions");
                cdev = get_property(f, path, VFIOD_DEVICE_INTERFACE, "Cdev");
                g_test_message("%s", cases[i].address);
                vf_strv = g_variant_get_strv(vfs, NULL);
                vf_list = g_strjoinv(",", (char **)vf_strv);
                g_assert_cmpstr(vf_list, ==, cases[i].vfs);
                g_assert_cmpint(g_variant_get_int32(numa), ==, cases[i].numa);
                g_assert_cmpstr(g_variant_get_string(physical, NULL), ==, cases[i].path);
                g_assert_cmpstr(g_variant_get_string(root, NULL), ==, cases[i].root_port);
                g_assert_cmpstr(g_variant_get_string(pf, NULL), ==, cases[i].physfn);
                g_assert_cmpstr(g_variant_get_string(cdev, NULL), ==, ""); /* no VFIO here */
        }

        /* show tells it, in text and in JSON. */
        g_assert_cmpint(run_client(f, &out, &err, "show", "00:05.0", NULL), ==, 0);
        g_assert_nonnull(strstr(out, "  SR-IOV:    virtual functions 0000:00:05.1\n"));
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(run_client(f, &out, &err, "show", "00:05.1", NULL), ==, 0);
        g_assert_nonnull(strstr(out, "  where:     0000:00:05.1, NUMA node 1\n"));
        g_assert_nonnull(strstr(out, "  SR-IOV:    a virtual function of 0000:00:05.0\n"));
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(run_client(f, &out, &err, "--json", "show", "00:05.1", NULL), ==, 0);
        g_assert_nonnull(strstr(out, ",\"physical_path\":\"0000:00:05.1\",\"root_port\":null,\"numa_node\":1,"
                                     "\"physical_function\":\"0000:00:05.0\",\"virtual_functions\":[],\"cdev\":null,"));
        assert_json_shape("device", out);
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(run_client(f, &out, &err, "--json", "show", "00:06.0", NULL), ==, 0);
        assert_json_shape("device", out);
}

/* A claim recorded by an earlier run is kept at start, and shown. */
static void test_claim_record_kept(Fixture *f, gconstpointer data)
{
        g_autoptr(GVariant) state = get_property(f, VFIOD_GROUP_PATH_PREFIX "/3", VFIOD_GROUP_INTERFACE, "State");
        g_autoptr(GVariant) other = get_property(f, VFIOD_GROUP_PATH_PREFIX "/4", VFIOD_GROUP_INTERFACE, "State");
        g_autofree char *e1000 = device_path(f, "00:04.0");
        g_autoptr(GVariant) device_state = get_property(f, e1000, VFIOD_DEVICE_INTERFACE, "State");
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = NULL;
        g_autofree char *record = g_build_filename(f->state_dir, "claims", "group-3", NULL);

        g_assert_cmpstr(g_variant_get_string(state, NULL), ==, "claimed");
        g_assert_cmpstr(g_variant_get_string(device_state, NULL), ==, "claimed");
        g_assert_cmpstr(g_variant_get_string(other, NULL), ==, "host");
        g_assert_true(g_file_test(record, G_FILE_TEST_EXISTS));

        /* Its lease came back with it. */
        {
                g_autoptr(GVariant) lease = get_property(f, VFIOD_GROUP_PATH_PREFIX "/3", VFIOD_GROUP_INTERFACE, "Lease");
                g_autoptr(GVariant) uid = get_property(f, VFIOD_LEASE_PATH_PREFIX "/7", VFIOD_LEASE_INTERFACE, "OwnerUID");
                g_autoptr(GVariant) lifetime = get_property(f, VFIOD_LEASE_PATH_PREFIX "/7", VFIOD_LEASE_INTERFACE, "Lifetime");
                g_assert_cmpstr(g_variant_get_string(lease, NULL), ==, VFIOD_LEASE_PATH_PREFIX "/7");
                g_assert_cmpuint(g_variant_get_uint32(uid), ==, 1000);
                g_assert_cmpstr(g_variant_get_string(lifetime, NULL), ==, "persistent");
        }
        /* A second claim is busy, and says who holds the group. */
        r = call(f, "ClaimGroup", g_variant_new_parsed("(uint32 3, @a{sv} {})"), &error);
        assert_remote_error(error, VFIOD_ERROR_GROUP_BUSY);
        g_assert_nonnull(strstr(error->message, "group 3 is leased to uid 1000 (pid 4242, persistent lease 7)"));
}

/* The cap of limits.conf holds; below it, the caller's own limit rises. */
static void test_memlock_limit(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = NULL;
        struct rlimit before, after;
        guint64 limit;

        g_assert_cmpint(getrlimit(RLIMIT_MEMLOCK, &before), ==, 0);
        r = raise_memlock(f, 0, 0, &error);
        assert_remote_error(error, "org.freedesktop.DBus.Error.InvalidArgs");
        g_assert_nonnull(strstr(error->message, "0 bytes"));
        g_clear_error(&error);
        r = raise_memlock(f, 0, (guint64)2 << 20, &error);
        assert_remote_error(error, VFIOD_ERROR_LIMIT_EXCEEDED);
        g_assert_nonnull(strstr(error->message, "2 MiB of locked memory is more than the 1 MiB this host allows"));
        g_assert_cmpint(getrlimit(RLIMIT_MEMLOCK, &after), ==, 0);
        g_assert_cmpuint(after.rlim_cur, ==, before.rlim_cur);
        g_clear_error(&error);

        /* Lower the soft limit first, so that the raise has something to
         * do; the hard limit stays above, as raising that takes
         * CAP_SYS_RESOURCE, which containers may withhold (the vm suite
         * raises both). */
        after = (struct rlimit){ .rlim_cur = 64 << 10, .rlim_max = 1 << 20 };
        g_assert_cmpint(setrlimit(RLIMIT_MEMLOCK, &after), ==, 0);
        if (getuid() == 0) {
                /* An fd that is no pidfd: refused at the edge. */
                r = raise_memlock(f, -1, (guint64)512 << 10, &error);
                assert_remote_error(error, "org.freedesktop.DBus.Error.InvalidArgs");
                g_assert_nonnull(strstr(error->message, "must be given as a pidfd"));
                g_clear_error(&error);
                /* Another process of the caller's: raised, as for a
                 * session libvirtd, once it holds no capabilities (root's
                 * processes do). */
                int ready[2];
                char byte;
                g_assert_cmpint(pipe(ready), ==, 0);
                pid_t other = fork();
                g_assert_cmpint(other, >=, 0);
                if (other == 0) {
                        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
                        struct __user_cap_data_struct none[2] = {};
                        if (syscall(SYS_capset, &h, none) < 0)
                                _exit(1);
                        (void)!write(ready[1], "x", 1);
                        pause();
                        _exit(0);
                }
                g_assert_cmpint(read(ready[0], &byte, 1), ==, 1);
                r = raise_memlock(f, other, (guint64)512 << 10, &error);
                g_assert_no_error(error);
                g_assert_cmpint(prlimit(other, RLIMIT_MEMLOCK, NULL, &after), ==, 0);
                kill(other, SIGKILL);
                waitpid(other, NULL, 0);
                g_assert_cmpuint(after.rlim_cur, ==, 512 << 10);
                g_clear_pointer(&r, g_variant_unref);
                /* Someone else's: refused, named. */
                other = fork();
                g_assert_cmpint(other, >=, 0);
                if (other == 0) {
                        if (setresuid(65534, 65534, 65534) < 0)
                                _exit(1);
                        (void)!write(ready[1], "x", 1);
                        pause();
                        _exit(0);
                }
                g_assert_cmpint(read(ready[0], &byte, 1), ==, 1);
                close(ready[0]);
                close(ready[1]);
                r = raise_memlock(f, other, (guint64)512 << 10, &error);
                kill(other, SIGKILL);
                waitpid(other, NULL, 0);
                assert_remote_error(error, VFIOD_ERROR_NOT_AUTHORIZED);
                g_assert_nonnull(strstr(error->message, "not of a process of the caller's"));
                g_clear_error(&error);
                after = (struct rlimit){ .rlim_cur = 64 << 10, .rlim_max = 1 << 20 };
        }
        r = raise_memlock(f, 0, (guint64)512 << 10, &error);
        if (getuid() != 0) {
                /* Not root: polkit must say yes, and there is no polkitd on
                 * this private bus. */
                assert_remote_error(error, VFIOD_ERROR_NOT_AUTHORIZED);
                g_assert_nonnull(strstr(error->message, "polkit could not be asked"));
                g_assert_cmpint(getrlimit(RLIMIT_MEMLOCK, &after), ==, 0);
                g_assert_cmpuint(after.rlim_cur, ==, 64 << 10);
                return;
        }
        g_assert_no_error(error);
        g_variant_get(r, "(t)", &limit);
        g_assert_cmpuint(limit, ==, 512 << 10);
        g_assert_cmpint(getrlimit(RLIMIT_MEMLOCK, &after), ==, 0);
        g_assert_cmpuint(after.rlim_cur, ==, 512 << 10);
        g_assert_cmpuint(after.rlim_max, ==, 1 << 20);
}

/* Run as root, the daemon keeps only the capabilities it needs: bits of
 * CapEff, CapPrm and CapBnd within chown, dac_override, kill, sys_module,
 * sys_ptrace, sys_resource, perfmon and bpf. Run as anyone else, it has
 * none to drop. */
static void test_capabilities_dropped(Fixture *f, gconstpointer data)
{
        const guint64 needed = 1ull << 0 | 1ull << 1 | 1ull << 5 | 1ull << 16 | 1ull << 19 | 1ull << 24 | 1ull << 38 |
                               1ull << 39;
        g_autofree char *path = g_strdup_printf("/proc/%s/status", g_subprocess_get_identifier(f->daemon));
        g_autofree char *status = NULL;
        const char *sets[] = { "CapEff:", "CapPrm:", "CapBnd:" };
        gboolean root = getuid() == 0;

        g_assert_true(g_file_get_contents(path, &status, NULL, NULL));
        for (size_t i = 0; i < G_N_ELEMENTS(sets); i++) {
                const char *line = strstr(status, sets[i]);
                guint64 mask;
                g_assert_nonnull(line);
                mask = g_ascii_strtoull(line + strlen(sets[i]), NULL, 16);
                g_test_message("%s %" G_GINT64_MODIFIER "x", sets[i], mask);
                if (root || i < 2)
                        g_assert_cmpuint(mask & ~(root ? needed : 0), ==, 0);
                if (root)
                        g_assert_cmpuint(mask, !=, 0);
        }
}

int main(int argc, char *argv[])
{
        g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
        ADD("/daemon/list-devices", test_list_devices);
        ADD("/daemon/topology", test_topology);
        ADD("/daemon/groups", test_groups);
        ADD("/daemon/lookup-errors", test_lookup_errors);
        ADD("/daemon/hotplug", test_hotplug);
        ADD("/daemon/rebind-followed", test_rebind_followed);
        g_test_add("/daemon/iommu-state-follows-groups", Fixture, &no_iommu, fixture_setup,
                   test_iommu_state_follows_groups, fixture_teardown);
        g_test_add("/daemon/tells-systemd", Fixture, &supervised, fixture_setup, test_tells_systemd,
                   fixture_teardown);
        g_test_add("/daemon/idle-exit", Fixture, &idle_soon, fixture_setup, test_idle_exit, fixture_teardown);
        g_test_add("/daemon/unused-answers-count", Fixture, &slow_polkit, fixture_setup, test_unused_answers_count,
                   fixture_teardown);
        g_test_add("/daemon/idle-waits-for-polkit", Fixture, &slow_polkit, fixture_setup,
                   test_idle_waits_for_polkit, fixture_teardown);
        g_test_add("/daemon/reserve-owner-looked-up-after-polkit", Fixture, &quick_polkit, fixture_setup,
                   test_reserve_owner_looked_up_after_polkit, fixture_teardown);
        g_test_add("/daemon/unreserve-asks-about-every-owner", Fixture, &quick_polkit, fixture_setup,
                   test_unreserve_asks_about_every_owner, fixture_teardown);
        ADD("/daemon/xml-matches-introspection", test_xml_matches);
        ADD("/daemon/client", test_client);
        ADD("/daemon/client-exit-status", test_client_exit_status);
        ADD("/daemon/json-shapes", test_json_shapes);
        ADD("/daemon/claim-input", test_claim_input);
        g_test_add("/daemon/claim-record-kept", Fixture, &e1000_claimed, fixture_setup, test_claim_record_kept,
                   fixture_teardown);
        g_test_add("/daemon/lease-xml-matches-introspection", Fixture, &e1000_claimed, fixture_setup,
                   test_lease_xml_matches, fixture_teardown);
        g_test_add("/daemon/json-shapes-leased", Fixture, &e1000_claimed, fixture_setup, test_json_shapes_leased,
                   fixture_teardown);
        g_test_add("/daemon/memlock-limit", Fixture, &small_memlock_cap, fixture_setup, test_memlock_limit,
                   fixture_teardown);
        ADD("/daemon/capabilities-dropped", test_capabilities_dropped);
        g_test_add("/client/other-version", Fixture, NULL, other_version_setup, test_client_other_version,
                   other_version_teardown);
        return g_test_run();
}
