/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "claim-id.h"

/* Container Device Interface specs (CDI 0.5.0) for prepared claims, which
 * container runtimes (podman, containerd, CRI-O) read from /run/cdi: one
 * file per claim, vfiod-ID.json, with one device of kind CDI_KIND named
 * after the claim id, whose edits give a container the claim's nodes. */

#define CDI_KIND "vfiod.github.io/vfio"
#define CDI_SPEC_DIR "/run/cdi"
#define CDI_SPEC_PREFIX "vfiod-"
#define CDI_SPEC_SUFFIX ".json"

/* What a claim's CDI device gives a container. */
typedef struct CdiDevice {
        const char *claim_id;
        const int *groups; /* their nodes /dev/vfio/N, and /dev/vfio/vfio */
        size_t n_groups;
        char **cdevs; /* /dev/vfio/devices/vfioN, with /dev/iommu; may be none */
        size_t n_cdevs;
} CdiDevice;

/* The spec as text; -EINVAL for a claim id or node path that has no place
 * in one. */
int cdi_spec_format(const CdiDevice *d, char **ret);

/* In the directory dir_fd (CDI_SPEC_DIR): written whole or not at all;
 * removed (0 when it was not there). */
int cdi_spec_write(int dir_fd, const char *claim_id, const char *text);
int cdi_spec_remove(int dir_fd, const char *claim_id);
/* The claim ids of the specs there, for the caller to free (strv_free). */
int cdi_spec_list(int dir_fd, char ***ret, size_t *n);

/* "vfiod.github.io/vfio=ID", the name a runtime is given. */
int cdi_device_name(const char *claim_id, char **ret);
