/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "claim-id.h"
#include "fs-util.h"
#include "macro.h"
#include "prepared-mark.h"
#include "strv.h"

/* Not a claim id (those start with a letter or digit): never a mark. */
#define COMPLETE_NAME ".complete"

/* 1 or 0; -errno when it cannot be told. */
static int entry_exists(int dir_fd, const char *name)
{
        if (faccessat(dir_fd, name, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        return 1;
}

int prepared_marks_open(const char *state_dir)
{
        return open_private_dir(state_dir, "prepared");
}

int prepared_mark_set(int dir_fd, const char *claim_id)
{
        if (!claim_id_is_valid(claim_id))
                return -EINVAL;
        return write_file_atomic(dir_fd, claim_id, "", 0600, NULL);
}

int prepared_mark_clear(int dir_fd, const char *claim_id)
{
        if (!claim_id_is_valid(claim_id))
                return -EINVAL;
        if (unlinkat(dir_fd, claim_id, 0) < 0)
                return errno == ENOENT ? 0 : -errno;
        return fsync(dir_fd) < 0 ? -errno : 0;
}

int prepared_mark_exists(int dir_fd, const char *claim_id)
{
        if (!claim_id_is_valid(claim_id))
                return -EINVAL;
        return entry_exists(dir_fd, claim_id);
}

int prepared_marks_list(int dir_fd, char ***ret, size_t *n)
{
        char **ids = NULL;
        size_t count = 0;
        struct dirent *de;
        DIR *dir = NULL;
        int r = open_dir_at(dir_fd, ".", &dir);

        while (r >= 0 && (r = read_dir_entry(dir, &de)) > 0)
                if (claim_id_is_valid(de->d_name))
                        r = strv_push(&ids, &count, strdup(de->d_name));
        if (dir)
                closedir(dir);
        if (r < 0) {
                strv_free(ids);
                return r;
        }
        *ret = ids;
        *n = count;
        return 0;
}

int prepared_marks_complete(int dir_fd)
{
        return entry_exists(dir_fd, COMPLETE_NAME);
}

int prepared_marks_set_complete(int dir_fd)
{
        return write_file_atomic(dir_fd, COMPLETE_NAME, "", 0600, NULL);
}
