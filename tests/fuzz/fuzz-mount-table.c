/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mount-table.h"
#include "quote.h"
#include "storage-view.h"
#include "strv.h"

/* What the storage checks read of other processes and quote back: a
 * mountinfo table (any mount namespace's, so anyone's mount points), the
 * overlay layers of its superblock options, the mount a path lies on; and
 * the quoting of any string. Never a crash; every entry is whole, every
 * layer a string, every quote valid and bounded. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        MountTable t = {};
        char quoted[QUOTE_BUFFER_SIZE];
        char *text = strndup((const char *)data, size);
        FILE *f;

        if (!text)
                return 0;
        assert(strlen(quote_input(text, quoted)) < sizeof(quoted));
        f = fmemopen((void *)data, size ? size : 1, "r");
        if (f && size > 0 && mount_table_parse(f, &t) == 0) {
                for (size_t i = 0; i < t.n; i++) {
                        const MountEntry *e = &t.entries[i];
                        char **layers = storage_overlay_layers(e->options);
                        assert(e->mountpoint && e->fstype && e->source && e->options);
                        for (char **l = layers; l && *l; l++)
                                assert(strlen(*l) <= strlen(e->options));
                        strv_free(layers);
                        (void)storage_fs_backing(e->fstype, e->devnum);
                        assert(mount_table_find_path(&t, e->mountpoint[0] == '/' ? e->mountpoint : "/") ||
                               e->mountpoint[0] != '/');
                }
                mount_table_done(&t);
        }
        if (f)
                fclose(f);
        free(text);
        return 0;
}
