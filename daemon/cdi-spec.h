/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "claim-id.h"

/* Container Device Interface specs for prepared claims, which container
 * runtimes (podman, containerd, CRI-O) read from /run/cdi: one file per
 * claim, vfiod-ID.json, with one device of kind CDI_KIND named after the
 * claim id, whose edits give a container the claim's nodes. */

#define CDI_KIND "vfiod.github.io/vfio"
#define CDI_SPEC_DIR "/run/cdi"
#define CDI_SPEC_PREFIX "vfiod-"
#define CDI_SPEC_SUFFIX ".json"

/* The version of the specs written. 0.6.0 is the first with annotations,
 * where the claim's PCI addresses go; readers older than it (Debian 12's
 * podman 4.3) reject such a spec whole, and are given 0.5.0, the same
 * without annotations (cdi.conf, SpecVersion=). */
typedef enum CdiVersion {
        CDI_VERSION_0_5_0,
        CDI_VERSION_0_6_0,
        _CDI_VERSION_MAX,
} CdiVersion;
#define CDI_VERSION_DEFAULT CDI_VERSION_0_6_0

const char *cdi_version_to_string(CdiVersion v);
/* -EINVAL for a version vfiod does not write. */
int cdi_version_from_string(const char *s, CdiVersion *ret);

/* The annotations' keys, with the claim's PCI addresses and IOMMU groups,
 * comma-separated. */
#define CDI_ANNOTATION_ADDRESSES "vfiod.github.io/pci-addresses"
#define CDI_ANNOTATION_GROUPS "vfiod.github.io/iommu-groups"

/* What a claim's CDI device gives a container. */
typedef struct CdiDevice {
        CdiVersion version;
        const char *claim_id;
        const int *groups; /* their nodes /dev/vfio/N, and /dev/vfio/vfio */
        size_t n_groups;
        char **cdevs; /* /dev/vfio/devices/vfioN, with /dev/iommu; may be none */
        size_t n_cdevs;
        char **addresses; /* the PCI addresses of its endpoints, for the annotations */
        size_t n_addresses;
} CdiDevice;

/* The spec as text; -EINVAL for a claim id, node path or address that has
 * no place in one. */
int cdi_spec_format(const CdiDevice *d, char **ret);

/* In the directory dir_fd (CDI_SPEC_DIR): written whole or not at all;
 * removed (0 when it was not there). */
int cdi_spec_write(int dir_fd, const char *claim_id, const char *text);
int cdi_spec_remove(int dir_fd, const char *claim_id);
/* The claim ids of the specs there, for the caller to free (strv_free). */
int cdi_spec_list(int dir_fd, char ***ret, size_t *n);

/* "vfiod.github.io/vfio=ID", the name a runtime is given. */
int cdi_device_name(const char *claim_id, char **ret);
