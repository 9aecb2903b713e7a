/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs-util.h"
#include "macro.h"

static char *read_full_stream(FILE *f)
{
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        ssize_t n;

        if (!f)
                return NULL;
        n = getdelim(&buf, &size, '\0', f);
        fclose(f);
        return n < 0 ? NULL : TAKE_PTR(buf);
}

char *read_full_file(const char *path)
{
        return read_full_stream(fopen(path, "re"));
}

char *read_full_fd(int fd)
{
        FILE *f = fdopen(fd, "re");

        if (!f)
                close(fd);
        return read_full_stream(f);
}

int readlink_basename(const char *path, char **ret)
{
        char target[PATH_MAX];
        const char *slash;
        ssize_t n = readlink(path, target, sizeof(target) - 1);

        *ret = NULL;
        if (n < 0)
                return errno == ENOENT ? 0 : -errno;
        target[n] = '\0';
        slash = strrchr(target, '/');
        *ret = strdup(slash ? slash + 1 : target);
        return *ret ? 0 : -ENOMEM;
}
