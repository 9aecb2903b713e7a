/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "net-view.h"
#include "use-report.h"

/* Network interfaces below a PCI function that would move. The host needs
 * an interface that carries a default route in any routing table, itself
 * or through whatever is stacked on it (bridge, bond, team, VLAN,
 * macvlan, ipvlan); one that is enslaved, has devices stacked on it, or is
 * up with addresses is in use (docs/safety.md). */

/* The interface of the function at address, listed as listed_name, of
 * index ifindex (0: unknown); looked at by the name it has by then, should
 * udev have renamed it meanwhile. */
void net_check_interface(NetView *v, UseReport *u, const char *address, const char *listed_name, int ifindex);
/* Interfaces of the function at address that live in another network
 * namespace (a container's): sysfs shows the "net" directory of their
 * device (the function's own, or a virtio device's below it), net_dir, but
 * not them. vfiod cannot see their routes: they are in use. */
void net_check_hidden_interfaces(UseReport *u, const char *address, const char *net_dir);
