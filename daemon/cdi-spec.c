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
#include "macro.h"
#include "strv.h"

/* The lowest version that has what a spec here uses, as the CDI
 * specification asks: readers older than 0.6.0 (Debian 12's podman 4.3,
 * containerd 1.7) reject a 0.6.0 spec outright, device annotations and
 * all. The devices a 0.6.0 annotation would name are the claim's groups'
 * (ListPrepared). */
#define CDI_VERSION "0.5.0"

/* Node paths come from vfiod itself; still, nothing that would need
 * escaping in JSON goes into a spec. */
static bool node_path_is_plain(const char *s)
{
        return strncmp(s, "/dev/", 5) == 0 &&
               strspn(s, "/abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == strlen(s);
}

static void format_node(FILE *f, bool *first, const char *path)
{
        fprintf(f, "%s\n          { \"path\": \"%s\", \"permissions\": \"rw\" }", *first ? "" : ",", path);
        *first = false;
}

static int validate(const CdiDevice *d)
{
        if (!claim_id_is_valid(d->claim_id) || d->n_groups == 0)
                return -EINVAL;
        for (size_t i = 0; i < d->n_groups; i++)
                if (d->groups[i] < 0)
                        return -EINVAL;
        for (size_t i = 0; i < d->n_cdevs; i++)
                if (!node_path_is_plain(d->cdevs[i]))
                        return -EINVAL;
        return 0;
}

int cdi_spec_format(const CdiDevice *d, char **ret)
{
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        bool first = true;
        char path[32];
        FILE *f;
        int r = validate(d);

        if (r < 0)
                return r;
        f = open_memstream(&text, &size);
        if (!f)
                return -ENOMEM;
        fprintf(f, "{\n  \"cdiVersion\": \"" CDI_VERSION "\",\n  \"kind\": \"" CDI_KIND "\",\n"
                   "  \"devices\": [\n    {\n      \"name\": \"%s\",\n", d->claim_id);
        fputs("      \"containerEdits\": {\n        \"deviceNodes\": [", f);
        /* The group interface, which every kernel has; the cdevs and
         * iommufd where the kernel has them too. */
        format_node(f, &first, "/dev/vfio/vfio");
        for (size_t i = 0; i < d->n_groups; i++) {
                snprintf(path, sizeof(path), "/dev/vfio/%d", d->groups[i]);
                format_node(f, &first, path);
        }
        if (d->n_cdevs > 0)
                format_node(f, &first, "/dev/iommu");
        for (size_t i = 0; i < d->n_cdevs; i++)
                format_node(f, &first, d->cdevs[i]);
        fputs("\n        ]\n      }\n    }\n  ]\n}\n", f);
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
        _cleanup_close_ int fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
        char **ids = NULL;
        size_t count = 0;
        struct dirent *de;
        DIR *d;
        int r = 0;

        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d)
                return -errno;
        TAKE_FD(fd);
        rewinddir(d);
        while (r >= 0 && (de = readdir(d))) {
                char *id = claim_id_of_file(de->d_name);
                if (id)
                        r = strv_push(&ids, &count, id);
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
