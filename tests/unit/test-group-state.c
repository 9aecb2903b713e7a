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

static void check(const Member *members, size_t n, bool viable, GroupState state)
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
        g_assert_cmpstr(group_state_to_string(group_state(&g)), ==, group_state_to_string(state));
}

static void test_rules(void)
{
        check((Member[]){ { "e1000", ENDPOINT } }, 1, false, GROUP_STATE_HOST);
        check((Member[]){ { NULL, ENDPOINT } }, 1, true, GROUP_STATE_UNBOUND);
        check((Member[]){ { "vfio-pci", ENDPOINT } }, 1, true, GROUP_STATE_VFIO);
        check((Member[]){ { "pci-stub", ENDPOINT } }, 1, true, GROUP_STATE_VFIO);
        /* One endpoint on a host driver spoils the group, whatever the others. */
        check((Member[]){ { "vfio-pci", ENDPOINT }, { "snd_hda_intel", ENDPOINT } }, 2, false, GROUP_STATE_HOST);
        check((Member[]){ { "vfio-pci", ENDPOINT }, { NULL, ENDPOINT } }, 2, true, GROUP_STATE_MIXED);
        /* Bridges never count: by class, or by sitting on pcieport. */
        check((Member[]){ { NULL, BRIDGE }, { "vfio-pci", ENDPOINT }, { "vfio-pci", ENDPOINT } }, 3, true,
              GROUP_STATE_VFIO);
        check((Member[]){ { "pcieport", ROOT_PORT }, { "vfio-pci", ENDPOINT } }, 2, true, GROUP_STATE_VFIO);
        check((Member[]){ { "pcieport", 0x088000 }, { NULL, ENDPOINT } }, 2, true, GROUP_STATE_UNBOUND);
        check((Member[]){ { "shpchp", BRIDGE }, { NULL, ENDPOINT } }, 2, true, GROUP_STATE_UNBOUND);
}

static void test_device_state(void)
{
        PciDevice pci = { .class_code = ENDPOINT };
        Device d = { .pci = &pci };

        g_assert_cmpstr(device_state_to_string(device_state(&d)), ==, "unbound");
        pci.driver = (char *)"nvme";
        g_assert_cmpstr(device_state_to_string(device_state(&d)), ==, "host");
        pci.driver = (char *)"vfio-pci";
        g_assert_cmpstr(device_state_to_string(device_state(&d)), ==, "vfio");
}

int main(int argc, char *argv[])
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/group-state/rules", test_rules);
        g_test_add_func("/group-state/device-state", test_device_state);
        return g_test_run();
}
