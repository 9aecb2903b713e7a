/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The members of an IOMMU group, as the kernel lists them in
 * /sys/kernel/iommu_groups/<group>/devices: the one reader of a group's
 * membership (a device's own group is its iommu_group link, read with the
 * device). */

/* Calls fn with each member's normalized address, in address order; a
 * negative return of fn stops and is returned. -ENOENT: no such group. */
int iommu_group_foreach_member(int group, int (*fn)(const char *address, void *userdata), void *userdata);
