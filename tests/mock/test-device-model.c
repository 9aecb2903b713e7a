/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib.h>
#include <stdbool.h>
#include <umockdev.h>

#include "device-model.h"
#include "macro.h"
#include "pci-testbed.h"

/* The device model follows binds and unbinds, except of a group that is
 * moving: the steps in between (unbound, then bound) are left to the
 * mover, which has the model read the drivers when the move ends. */

typedef struct {
        UMockdevTestbed *tb;
        char *e1000, *edu; /* devpaths: groups 3 and 2 */
        sd_event *event;
        DeviceModel *model;
        int moving_group; /* what is_moving() says is moving; -1: none */
} Fixture;

static bool is_moving(int group, void *userdata)
{
        const Fixture *f = userdata;
        return group == f->moving_group;
}

static void fixture_setup(Fixture *f, gconstpointer data)
{
        f->tb = pci_testbed_new();
        f->e1000 = pci_testbed_add(f->tb, &(PciFixture){ "0000:00:04.0", NULL, "0x8086", "0x100e", "0x020000",
                                                         "e1000", 3, NULL });
        f->edu = pci_testbed_add(f->tb, &(PciFixture){ "0000:00:03.0", NULL, "0x1234", "0x11e8", "0x00ff00",
                                                       NULL, 2, NULL });
        f->moving_group = -1;
        g_assert_cmpint(sd_event_new(&f->event), >=, 0);
        g_assert_cmpint(device_model_new(&f->model), >=, 0);
        g_assert_cmpint(device_model_enumerate(f->model), >=, 0);
        g_assert_cmpint(device_model_start_monitor(f->model, f->event, NULL, is_moving, f), >=, 0);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
        device_model_free(f->model);
        sd_event_unref(f->event);
        g_free(f->e1000);
        g_free(f->edu);
        g_clear_object(&f->tb);
}

static const char *driver_of(const Fixture *f, const char *address)
{
        const Device *d = device_model_find_device(f->model, address);

        g_assert_nonnull(d);
        return d->pci->driver;
}

/* Runs the event loop until address is on driver (NULL: none). */
static void wait_for_driver(Fixture *f, const char *address, const char *driver)
{
        gint64 deadline = g_get_monotonic_time() + 10 * G_TIME_SPAN_SECOND;

        while (!streq_ptr(driver_of(f, address), driver)) {
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                g_assert_cmpint(sd_event_run(f->event, 100 * 1000), >=, 0);
        }
}

static void rebind(Fixture *f, const char *devpath, const char *driver)
{
        pci_testbed_set_driver(f->tb, devpath, driver);
        umockdev_testbed_uevent(f->tb, devpath, driver ? "bind" : "unbind");
}

static void test_follows_binds(Fixture *f, gconstpointer data)
{
        g_assert_cmpstr(driver_of(f, "0000:00:04.0"), ==, "e1000");
        rebind(f, f->e1000, "vfio-pci");
        wait_for_driver(f, "0000:00:04.0", "vfio-pci");
        rebind(f, f->e1000, NULL);
        wait_for_driver(f, "0000:00:04.0", NULL);
}

static void test_moving_group_left_to_mover(Fixture *f, gconstpointer data)
{
        f->moving_group = 3;
        rebind(f, f->e1000, "vfio-pci");
        /* Uevents come in order: once edu's is in, e1000's was handled. */
        rebind(f, f->edu, "vfio-pci");
        wait_for_driver(f, "0000:00:03.0", "vfio-pci");
        g_assert_cmpstr(driver_of(f, "0000:00:04.0"), ==, "e1000");

        /* The mover re-reads the group when it is done. */
        f->moving_group = -1;
        g_assert_cmpint(device_model_reread_binding(f->model, "0000:00:04.0"), >=, 0);
        g_assert_cmpstr(driver_of(f, "0000:00:04.0"), ==, "vfio-pci");
}

int main(int argc, char *argv[])
{
        g_test_init(&argc, &argv, NULL);
        g_test_add("/device-model/follows-binds", Fixture, NULL, fixture_setup, test_follows_binds,
                   fixture_teardown);
        g_test_add("/device-model/moving-group-left-to-mover", Fixture, NULL, fixture_setup,
                   test_moving_group_left_to_mover, fixture_teardown);
        return g_test_run();
}
