/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "manager.h"

/* The Group objects (bus-group.c). */

int bus_group_register(Manager *m);
int bus_group_path(int id, char **ret);
