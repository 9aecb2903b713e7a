/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-file.h"
#include "fs-util.h"
#include "log.h"
#include "macro.h"
#include "reservation-config.h"

#define ADDED_PREFIX "vfioctl-"

static void reservations_dir(const char *config_dir, char buf[static PATH_MAX])
{
        snprintf(buf, PATH_MAX, "%s/" RESERVATIONS_DIR, config_dir);
}

static int add_entry(ReservationSet *s, const Reservation *r, const char *file, unsigned line)
{
        ReservationEntry *a = reallocarray(s->entries, s->n_entries + 1, sizeof(*a));

        if (!a)
                return -ENOMEM;
        s->entries = a;
        a[s->n_entries] = (ReservationEntry){ .reservation = *r, .file = strdup(file), .line = line };
        if (!a[s->n_entries].file)
                return -ENOMEM;
        s->n_entries++;
        return 0;
}

typedef struct FileLoad {
        ReservationSet *set;
        const char *path;
} FileLoad;

static int parse_reservation_line(const char *line, unsigned lineno, void *userdata, const char **ret_reason)
{
        FileLoad *load = userdata;
        Reservation res;
        int r = reservation_parse_line(line, &res, ret_reason);

        return r > 0 ? add_entry(load->set, &res, load->path, lineno) : r;
}

static int load_file(ReservationSet *s, const char *path)
{
        FileLoad load = { .set = s, .path = path };
        int r = config_file_read(path, "this reservation is skipped", parse_reservation_line, &load);
        return r < 0 ? r : 0;
}

int reservation_set_load(const char *config_dir, ReservationSet *ret)
{
        ReservationSet s = {};
        struct dirent **names;
        char dir[PATH_MAX], path[PATH_MAX];
        int n, r = 0;

        reservations_dir(config_dir, dir);
        n = list_conf_files(dir, &names);
        if (n < 0)
                log_warning("Cannot read %s: %s; no device is reserved.", dir, strerror(-n));
        for (int i = 0; i < n && r >= 0; i++) {
                if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name) < (int)sizeof(path))
                        r = load_file(&s, path);
        }
        free_dirents(names, n);
        if (r < 0) {
                reservation_set_clear(&s);
                return r;
        }
        *ret = s;
        return 0;
}

void reservation_set_clear(ReservationSet *s)
{
        for (size_t i = 0; i < s->n_entries; i++)
                free(s->entries[i].file);
        free(s->entries);
        *s = (ReservationSet){};
}

void reservation_set_drop_match(ReservationSet *s, const ReservationMatch *m)
{
        size_t kept = 0;

        for (size_t i = 0; i < s->n_entries; i++) {
                if (reservation_match_equal(&s->entries[i].reservation.match, m))
                        free(s->entries[i].file);
                else
                        s->entries[kept++] = s->entries[i];
        }
        s->n_entries = kept;
}

const ReservationEntry *reservation_set_find(const ReservationSet *s, const PciIdentity *device)
{
        for (size_t i = 0; i < s->n_entries; i++)
                if (reservation_matches(&s->entries[i].reservation.match, device))
                        return &s->entries[i];
        return NULL;
}

const ReservationEntry *reservation_set_find_match(const ReservationSet *s, const ReservationMatch *m)
{
        for (size_t i = 0; i < s->n_entries; i++)
                if (reservation_match_equal(&s->entries[i].reservation.match, m))
                        return &s->entries[i];
        return NULL;
}

/* <config>/reservations.d, made when missing. */
static int open_reservations_dir(const char *config_dir, bool create)
{
        char dir[PATH_MAX];
        int fd;

        reservations_dir(config_dir, dir);
        if (create && ((mkdir(config_dir, 0755) < 0 && errno != EEXIST) || (mkdir(dir, 0755) < 0 && errno != EEXIST)))
                return -errno;
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int reservation_config_add(const char *config_dir, const Reservation *r, char **ret_path)
{
        _cleanup_close_ int dir_fd = open_reservations_dir(config_dir, true);
        _cleanup_free_ char *line = NULL, *text = NULL;
        char match[RESERVATION_MATCH_STRING_MAX], name[NAME_MAX + 1];
        int e;

        if (dir_fd < 0)
                return dir_fd;
        reservation_match_format(&r->match, match);
        /* A path's slashes cannot be in a file name. */
        for (char *p = match; *p; p++)
                if (*p == '/')
                        *p = '_';
        snprintf(name, sizeof(name), ADDED_PREFIX "%s.conf", match);
        e = reservation_format_line(r, &line);
        if (e < 0)
                return e;
        if (asprintf(&text, "# Written by vfioctl-client reserve; see vfiod.conf(5).\n%s\n", line) < 0)
                return -ENOMEM;
        e = write_file_atomic(dir_fd, name, text, 0644, NULL);
        if (e >= 0 && asprintf(ret_path, "%s/" RESERVATIONS_DIR "/%s", config_dir, name) < 0)
                return -ENOMEM;
        return e;
}

/* The text of a file without the lines of match m; *removed counts them.
 * *anything_left: whether anything but blank lines remains, counting
 * comments only when keep_comments. */
static int filter_file(const char *text, const ReservationMatch *m, bool keep_comments, char **ret, size_t *removed,
                       bool *anything_left)
{
        _cleanup_free_ char *copy = strdup(text), *out = NULL;
        char *rest = copy, *line;
        size_t size = 0;
        FILE *f;

        if (!copy)
                return -ENOMEM;
        f = open_memstream(&out, &size);
        if (!f)
                return -ENOMEM;
        *anything_left = false;
        while ((line = strsep(&rest, "\n"))) {
                Reservation r;
                int kind;
                if (!rest && !*line)
                        break; /* after the last newline */
                kind = reservation_parse_line(line, &r, NULL);
                if (kind > 0 && reservation_match_equal(&r.match, m)) {
                        (*removed)++;
                        continue;
                }
                if (kind != 0 || (keep_comments && line[strspn(line, " \t\r")]))
                        *anything_left = true;
                fprintf(f, "%s\n", line);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(out);
        return 0;
}

static int remove_from_file(int dir_fd, const char *name, const ReservationMatch *m, size_t *removed)
{
        _cleanup_free_ char *text = NULL, *filtered = NULL;
        size_t before = *removed;
        bool anything_left;
        int fd, e;

        fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        errno = 0;
        text = read_full_fd(fd);
        if (!text)
                return errno > 0 ? -errno : 0; /* empty: nothing to take out */
        /* The comment of a file vfioctl-client wrote is its own. */
        e = filter_file(text, m, strncmp(name, ADDED_PREFIX, strlen(ADDED_PREFIX)) != 0, &filtered, removed,
                        &anything_left);
        if (e < 0 || *removed == before)
                return e;
        if (!anything_left)
                return unlinkat(dir_fd, name, 0) < 0 ? -errno : 0;
        return write_file_atomic(dir_fd, name, filtered, 0644, NULL);
}

int reservation_config_remove(const char *config_dir, const ReservationMatch *m, size_t *ret_removed)
{
        _cleanup_close_ int dir_fd = open_reservations_dir(config_dir, false);
        char dir[PATH_MAX];
        struct dirent **names;
        int n, e = 0;

        *ret_removed = 0;
        if (dir_fd < 0)
                return dir_fd == -ENOENT ? 0 : dir_fd;
        reservations_dir(config_dir, dir);
        n = list_conf_files(dir, &names);
        if (n < 0)
                return n;
        for (int i = 0; i < n && e >= 0; i++)
                e = remove_from_file(dir_fd, names[i]->d_name, m, ret_removed);
        free_dirents(names, n);
        return e;
}
