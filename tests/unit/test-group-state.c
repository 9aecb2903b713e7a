/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib.h>

#include "device-model.h"

/* The viability and state rules of groups, on groups made up here: a
 * group is viable when every endpoint is unbound or held for VFIO
 * (vfio-pci, pci-stub); bridges and ports on pcieport never count. */

typedef struct {
        const char *driver; /* NULL: unbound */
        uint32_t class_code;
} Member;

#define ENDPOINT 0x020000
#define BRIDGE 0x060400
#define ROOT_PORT 0x060400

static void check(const Member *members, size_t n, bool viable, BusState state)
{
        PciDevice pci[8] = {};
        Device devices[8] = {};
        Device *list[8];
        Group g = { .id = 1, .devices = list, .n_devices = n };

        g_assert_cmpuint(n, <=, G_N_ELEMENTS(pci));
        for (size_t i = 0; i < n; i++) {
                pci[i] = (PciDevice){ .driver = (char *)members[i].driver, .class_code = members[i].class_code };
                devices[i] = (Device){ .pci = &pci[i] };
                list[i] = &devices[i];
        }
        g_assert_cmpint(group_is_viable(&g), ==, viable);
        g_assert_cmpstr(bus_state_to_string(group_state(&g)), ==, bus_state_to_string(state));
}

static void test_rules(void)
{
        check((Member[]){ { "e1000", ENDPOINT } }, 1, false, BUS_STATE_HOST);
        check((Member[]){ { NULL, ENDPOINT } }, 1, true, BUS_STATE_UNBOUND);
        check((Member[]){ { "vfio-pci", ENDPOINT } }, 1, true, BUS_STATE_VFIO);
        check((Member[]){ { "pci-stub", ENDPOINT } }, 1, true, BUS_STATE_VFIO);
        /* One endpoint on a host driver spoils the group, whatever the others. */
        check((Member[]){ { "vfio-pci", ENDPOINT }, { "snd_hda_intel", ENDPOINT } }, 2, false, BUS_STATE_HOST);
        check((Member[]){ { "vfio-pci", ENDPOINT }, { NULL, ENDPOINT } }, 2, true, BUS_STATE_MIXED);
        /* Bridges never count: by class, or by sitting on pcieport. */
        check((Member[]){ { NULL, BRIDGE }, { "vfio-pci", ENDPOINT }, { "vfio-pci", ENDPOINT } }, 3, true,
              BUS_STATE_VFIO);
        check((Member[]){ { "pcieport", ROOT_PORT }, { "vfio-pci", ENDPOINT } }, 2, true, BUS_STATE_VFIO);
        check((Member[]){ { "pcieport", 0x088000 }, { NULL, ENDPOINT } }, 2, true, BUS_STATE_UNBOUND);
        check((Member[]){ { "shpchp", BRIDGE }, { NULL, ENDPOINT } }, 2, true, BUS_STATE_UNBOUND);
}

static void test_device_state(void)
{
        PciDevice pci = { .class_code = ENDPOINT };
        Device d = { .pci = &pci };

        g_assert_cmpstr(bus_state_to_string(device_state(&d)), ==, "unbound");
        pci.driver = (char *)"nvme";
        g_assert_cmpstr(bus_state_to_string(device_state(&d)), ==, "host");
        pci.driver = (char *)"vfio-pci";
        g_assert_cmpstr(bus_state_to_string(device_state(&d)), ==, "vfio");
}

/* The client reads back what the daemon writes: every state, once. */
static void test_state_words(void)
{
        for (BusState s = 0; s < _BUS_STATE_MAX; s++) {
                g_assert_nonnull(bus_state_to_string(s));
                g_assert_cmpint(bus_state_from_string(bus_state_to_string(s)), ==, s);
        }
        g_assert_cmpint(bus_state_from_string("claimed"), ==, BUS_STATE_CLAIMED);
        g_assert_cmpint(bus_state_from_string("Claimed"), ==, _BUS_STATE_INVALID);
        g_assert_cmpint(bus_state_from_string(NULL), ==, _BUS_STATE_INVALID);
        g_assert_null(bus_state_to_string(_BUS_STATE_INVALID));
}

int main(int argc, char *argv[])
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/group-state/rules", test_rules);
        g_test_add_func("/group-state/device-state", test_device_state);
        g_test_add_func("/group-state/words", test_state_words);
        return g_test_run();
}
