/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The kernel's own walk over the open files of every process: a BPF
 * iterator over each task's fd table (task_file, Linux 5.8) that passes on
 * only the files on given device nodes. It costs no system call per fd,
 * where a look through /proc costs one or two, and it never enters a
 * filesystem: it compares the device number of each file's inode.
 *
 * It needs BTF (CONFIG_DEBUG_INFO_BTF), CAP_BPF and CAP_PERFMON (or
 * CAP_SYS_ADMIN), and bpf() past any seccomp filter; a kernel locked down
 * for confidentiality may refuse it too. Where any of that is missing the
 * call fails, and the caller looks at /proc instead. So it does when the
 * walk does not find vfiod's own two fds of /dev/null (one opened for
 * reading, one with O_PATH) with their modes, which each walk looks for:
 * the members it reads were not read right from the BTF.
 *
 * A thread that shares its process's fd table is not visited: the table is
 * read with the main thread's. One whose main thread exits during the walk
 * may so be missed (open-nodes.c looks at those through /proc). */

typedef struct FileDevice {
        dev_t devnum;
        bool block;
} FileDevice;

/* How many devices one walk compares each file with. */
#define TASK_FILES_DEVICES_MAX 64

/* Called for each open file on devices[index], with the process that
 * holds it (a thread whose fd table is its own is named by its process).
 * An fd opened with O_PATH has not opened the device, and is passed over. */
typedef void (*TaskFileFn)(pid_t pid, size_t index, void *userdata);

/* Every file of every task. -E2BIG for more than TASK_FILES_DEVICES_MAX
 * devices; -EOPNOTSUPP when vfiod is not in the initial PID namespace (the
 * kernel's ids of the tasks would not be its own) or the kernel's types are
 * not as expected; any other -errno when the kernel will not run the walk.
 * fn is called only once the walk has ended, and only when it succeeded. */
int task_files_find_devices(const FileDevice *devices, size_t n, TaskFileFn fn, void *userdata);
