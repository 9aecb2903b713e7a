/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "macro.h"
#include "quote.h"

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

int proc_stat_state(int dir_fd, const char *path, char *ret)
{
        _cleanup_close_ int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC);
        char line[512]; /* the state comes after the pid and a command of 15 bytes */
        const char *paren;
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = read(fd, line, sizeof(line) - 1);
        if (n < 0)
                return -errno;
        line[n] = '\0';
        paren = strrchr(line, ')');
        if (!paren || paren[1] != ' ' || paren[2] == '\0')
                return -EIO;
        *ret = paren[2];
        return 0;
}

int read_fd_to_end(int fd, void **ret, size_t *size)
{
        _cleanup_free_ uint8_t *data = NULL;
        size_t used = 0, allocated = 0;

        for (;;) {
                ssize_t n;
                if (allocated - used < 4096) {
                        uint8_t *a;
                        allocated = allocated ? 2 * allocated : 16384;
                        a = realloc(data, allocated);
                        if (!a)
                                return -ENOMEM;
                        data = a;
                }
                n = read(fd, data + used, allocated - used);
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                used += (size_t)n;
        }
        *ret = TAKE_PTR(data);
        *size = used;
        return 0;
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

int open_private_dir(const char *parent, const char *name)
{
        char path[PATH_MAX];
        int fd;

        if (mkdir(parent, 0700) < 0 && errno != EEXIST)
                return -errno;
        if (snprintf(path, sizeof(path), "%s/%s", parent, name) >= (int)sizeof(path))
                return -ENAMETOOLONG;
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
                return -errno;
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        return fd < 0 ? -errno : fd;
}

int write_file_atomic(int dir_fd, const char *name, const char *text, mode_t mode, int *ret_fd)
{
        _cleanup_close_ int fd = -1;
        char tmp[NAME_MAX + 1];
        size_t len = strlen(text);
        int e;

        if (snprintf(tmp, sizeof(tmp), ".%s.tmp", name) >= (int)sizeof(tmp))
                return -ENAMETOOLONG;
        /* A temporary file left by a write cut short (a crash, or a vfiod
         * that ran as another user) goes: the file written is always a new
         * one, vfiod's own, whatever was there. */
        if (unlinkat(dir_fd, tmp, 0) < 0 && errno != ENOENT)
                return -errno;
        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | (ret_fd ? O_APPEND : 0),
                    mode);
        if (fd < 0)
                return -errno;
        /* The mode asked for, whatever the umask. */
        if (fchmod(fd, mode) < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) < 0) {
                e = errno ? -errno : -EIO;
                (void)unlinkat(dir_fd, tmp, 0);
                return e;
        }
        if (renameat(dir_fd, tmp, dir_fd, name) < 0) {
                e = -errno;
                (void)unlinkat(dir_fd, tmp, 0);
                return e;
        }
        /* The rename itself must be durable too. */
        if (fsync(dir_fd) < 0)
                return -errno;
        if (ret_fd)
                *ret_fd = TAKE_FD(fd);
        return 0;
}

const char *proc_comm(pid_t pid, char buf[static PROC_COMM_SIZE])
{
        _cleanup_free_ char *comm = NULL, *printable = NULL;
        char path[32];
        size_t len;

        snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
        if ((comm = read_full_file(path))) {
                len = strlen(comm);
                if (len > 0 && comm[len - 1] == '\n')
                        comm[len - 1] = '\0';
                printable = printable_text(comm);
        }
        snprintf(buf, PROC_COMM_SIZE, "%s", printable ?: "?");
        return buf;
}

int write_attribute(const char *path, const char *value)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        size_t len = strlen(value);
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = write(fd, value, len);
        if (n < 0)
                return -errno;
        return (size_t)n == len ? 0 : -EIO;
}

static int is_conf_file(const struct dirent *de)
{
        size_t n = strlen(de->d_name);

        return de->d_name[0] != '.' && n > 5 && streq(de->d_name + n - 5, ".conf");
}

int open_dir_at(int dir_fd, const char *path, DIR **ret)
{
        int fd = openat(dir_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        *ret = fdopendir(fd);
        if (!*ret) {
                int r = -errno;
                close(fd);
                return r;
        }
        return 0;
}

int read_dir_entry(DIR *dir, struct dirent **ret)
{
        errno = 0;
        *ret = readdir(dir);
        return *ret ? 1 : -errno;
}

int list_conf_files(const char *dir, struct dirent ***ret)
{
        int n = scandir(dir, ret, is_conf_file, alphasort);

        if (n < 0) {
                *ret = NULL;
                return errno == ENOENT ? 0 : -errno;
        }
        return n;
}

void free_dirents(struct dirent **names, int n)
{
        for (int i = 0; i < n; i++)
                free(names[i]);
        free(names);
}
