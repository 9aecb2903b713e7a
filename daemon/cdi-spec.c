/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdi-spec.h"
#include "fs-util.h"
#include "handover.h"
#include "macro.h"
#include "pci-address.h"
#include "strv.h"

static const char *const cdi_version_names[_CDI_VERSION_MAX] = {
        [CDI_VERSION_0_5_0] = "0.5.0",
        [CDI_VERSION_0_6_0] = "0.6.0",
};

const char *cdi_version_to_string(CdiVersion v)
{
        return v >= 0 && v < _CDI_VERSION_MAX ? cdi_version_names[v] : NULL;
}

int cdi_version_from_string(const char *s, CdiVersion *ret)
{
        for (CdiVersion v = 0; v < _CDI_VERSION_MAX; v++)
                if (streq(s, cdi_version_names[v])) {
                        *ret = v;
                        return 0;
                }
        return -EINVAL;
}

/* Node paths come from vfiod itself; still, nothing that would need
 * escaping in JSON goes into a spec. */
static bool node_path_is_plain(const char *s)
{
        return strncmp(s, "/dev/", 5) == 0 &&
               strspn(s, "/abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == strlen(s);
}

static int validate(const CdiDevice *d)
{
        PciAddress a;

        if (!cdi_version_to_string(d->version) || !claim_id_is_valid(d->claim_id) || d->n_groups == 0)
                return -EINVAL;
        for (size_t i = 0; i < d->n_groups; i++)
                if (d->groups[i] < 0)
                        return -EINVAL;
        for (size_t i = 0; i < d->n_cdevs; i++)
                if (!node_path_is_plain(d->cdevs[i]))
                        return -EINVAL;
        for (size_t i = 0; i < d->n_addresses; i++)
                if (pci_address_parse(d->addresses[i], &a) < 0)
                        return -EINVAL;
        return 0;
}

static void format_node(FILE *f, bool *first, const char *path)
{
        fprintf(f, "%s\n          { \"path\": \"%s\", \"permissions\": \"rw\" }", *first ? "" : ",", path);
        *first = false;
}

static void format_node_list(FILE *f, const CdiDevice *d)
{
        bool first = true;
        char path[VFIO_NODE_PATH_MAX];

        fputs("      \"containerEdits\": {\n        \"deviceNodes\": [", f);
        /* The group interface, which every kernel has; the cdevs and
         * iommufd where the kernel has them too. */
        format_node(f, &first, "/dev/vfio/vfio");
        for (size_t i = 0; i < d->n_groups; i++) {
                vfio_group_node_path(d->groups[i], path);
                format_node(f, &first, path);
        }
        if (d->n_cdevs > 0)
                format_node(f, &first, "/dev/iommu");
        for (size_t i = 0; i < d->n_cdevs; i++)
                format_node(f, &first, d->cdevs[i]);
        fputs("\n        ]\n      }\n", f);
}

/* For schedulers and people: which devices the CDI device is. */
static void format_annotations(FILE *f, const CdiDevice *d)
{
        fputs("      \"annotations\": {\n        \"" CDI_ANNOTATION_ADDRESSES "\": \"", f);
        for (size_t i = 0; i < d->n_addresses; i++)
                fprintf(f, "%s%s", i ? "," : "", d->addresses[i]);
        fputs("\",\n        \"" CDI_ANNOTATION_GROUPS "\": \"", f);
        for (size_t i = 0; i < d->n_groups; i++)
                fprintf(f, "%s%d", i ? "," : "", d->groups[i]);
        fputs("\"\n      },\n", f);
}

int cdi_spec_format(const CdiDevice *d, char **ret)
{
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        FILE *f;
        int r = validate(d);

        if (r < 0)
                return r;
        f = open_memstream(&text, &size);
        if (!f)
                return -ENOMEM;
        fprintf(f, "{\n  \"cdiVersion\": \"%s\",\n  \"kind\": \"" CDI_KIND "\",\n"
                   "  \"devices\": [\n    {\n      \"name\": \"%s\",\n",
                cdi_version_to_string(d->version), d->claim_id);
        if (d->version >= CDI_VERSION_0_6_0)
                format_annotations(f, d);
        format_node_list(f, d);
        fputs("    }\n  ]\n}\n", f);
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(text);
        return 0;
}

static int spec_file_name(const char *claim_id, char buf[static CLAIM_ID_MAX + 16])
{
        if (!claim_id_is_valid(claim_id))
                return -EINVAL;
        snprintf(buf, CLAIM_ID_MAX + 16, CDI_SPEC_PREFIX "%s" CDI_SPEC_SUFFIX, claim_id);
        return 0;
}

int cdi_spec_write(int dir_fd, const char *claim_id, const char *text)
{
        char name[CLAIM_ID_MAX + 16];
        int r = spec_file_name(claim_id, name);

        /* Runtimes run as root, and readers of specs need not be. */
        return r < 0 ? r : write_file_atomic(dir_fd, name, text, 0644, NULL);
}

int cdi_spec_remove(int dir_fd, const char *claim_id)
{
        char name[CLAIM_ID_MAX + 16];
        int r = spec_file_name(claim_id, name);

        if (r < 0)
                return r;
        if (unlinkat(dir_fd, name, 0) < 0)
                return errno == ENOENT ? 0 : -errno;
        return 1;
}

/* "vfiod-ID.json" → "ID", or NULL. */
static char *claim_id_of_file(const char *name)
{
        size_t n = strlen(name), prefix = strlen(CDI_SPEC_PREFIX), suffix = strlen(CDI_SPEC_SUFFIX);
        char *id;

        if (n <= prefix + suffix || strncmp(name, CDI_SPEC_PREFIX, prefix) != 0 ||
            !streq(name + n - suffix, CDI_SPEC_SUFFIX))
                return NULL;
        id = strndup(name + prefix, n - prefix - suffix);
        if (id && !claim_id_is_valid(id))
                id = (free(id), NULL);
        return id;
}

int cdi_spec_list(int dir_fd, char ***ret, size_t *n)
{
        char **ids = NULL;
        size_t count = 0;
        struct dirent *de;
        DIR *d;
        int r = open_dir_at(dir_fd, ".", &d);

        if (r < 0)
                return r;
        while ((r = read_dir_entry(d, &de)) > 0) {
                char *id = claim_id_of_file(de->d_name);
                if (id && (r = strv_push(&ids, &count, id)) < 0)
                        break;
        }
        closedir(d);
        if (r < 0) {
                strv_free(ids);
                return r;
        }
        *ret = ids;
        *n = count;
        return 0;
}

int cdi_device_name(const char *claim_id, char **ret)
{
        return asprintf(ret, CDI_KIND "=%s", claim_id) < 0 ? -ENOMEM : 0;
}
