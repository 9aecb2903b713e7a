/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Small file helpers for sysfs and procfs. */

#include <dirent.h>
#include <sys/types.h>

/* The whole file as a string, or NULL (errno set) when it cannot be read. */
char *read_full_file(const char *path);
/* Holds any command name escaped: at most 15 bytes, each as "\xNN". */
#define PROC_COMM_SIZE 64
/* The command name of process pid (/proc/PID/comm) in buf, escaped as
 * printable_text() does: a process names itself with any bytes it likes.
 * "?" when it cannot be read; returns buf. */
const char *proc_comm(pid_t pid, char buf[static PROC_COMM_SIZE]);
/* The same for an open file, which it closes. */
char *read_full_fd(int fd);
/* The state letter of a task (R, S, Z, X, ...) from its /proc stat file
 * at path (below dir_fd, or absolute), read after the command in
 * parentheses, which may hold any bytes. -errno when it cannot be read
 * (-ENOENT or -ESRCH: the task is gone), -EIO when it is not as expected. */
int proc_stat_state(int dir_fd, const char *path, char *ret);
/* Every byte of a blocking fd, to its end, in *ret (malloc()ed, so aligned
 * for any type) and *size. EINTR and EAGAIN read again: a BPF iterator
 * says EAGAIN when it has passed many objects and goes on at the next read. */
int read_fd_to_end(int fd, void **ret, size_t *size);

/* The last component of the symlink at path: a driver's or an IOMMU
 * group's name. *ret is NULL when there is no such link (returns 0). */
int readlink_basename(const char *path, char **ret);

/* parent/name, made (with parent) mode 0700 when missing, opened as a
 * directory: vfiod's state is its own alone. */
int open_private_dir(const char *parent, const char *name);
/* Replaces dir_fd/name with text durably: a temporary file, synced, renamed
 * over the old one, the directory synced; a crash leaves the old content or
 * the new, never half of either. With ret_fd, *ret_fd is the new file,
 * open for appending. */
int write_file_atomic(int dir_fd, const char *name, const char *text, mode_t mode, int *ret_fd);

/* Writes a sysfs attribute in one write(2) of the whole value: sysfs takes
 * an attribute in one write and reports the driver's error through it. */
int write_attribute(const char *path, const char *value);

/* path below dir_fd (an fd of a directory, or AT_FDCWD) opened for
 * reading its entries from the start; "." for dir_fd's own. */
int open_dir_at(int dir_fd, const char *path, DIR **ret);

/* The next entry of dir: 1 with *ret, 0 at the end, -errno when it cannot
 * be read (readdir(3) says both with NULL). */
int read_dir_entry(DIR *dir, struct dirent **ret);

/* The *.conf names in dir, sorted (scandir(3)); 0 names when dir is
 * missing. Free them with free_dirents(). */
int list_conf_files(const char *dir, struct dirent ***ret);
void free_dirents(struct dirent **names, int n);
