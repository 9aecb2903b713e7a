/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include "fs-util.h"
#include "open-nodes.h"

/* Who holds device nodes open, from /proc. Each test runs as PID 1 of a
 * PID namespace of its own, with its own /proc: only its processes are
 * scanned, whatever else runs on the machine (whose PID 1 may not let
 * even root read its fds). There the kernel's walk over the files
 * (task-files.c) is not used, so these test the look through /proc; the
 * VM tests (vm-host-use) test the kernel's. /dev/null and /dev/zero stand in for a
 * device's nodes; they are only opened, never written. */

/* Runs test in a child that is PID 1 of a new PID namespace, and asserts
 * that it returned. Needs root with CAP_SYS_ADMIN: without, the test
 * fails saying so (a skip would pass for a pass). */
static void in_own_pid_namespace(void (*test)(void))
{
        pid_t pid;
        int status;

        if (geteuid() != 0) {
                g_test_fail_printf("a PID namespace of its own needs root: run the unit tests as root");
                return;
        }
        pid = fork();
        g_assert_cmpint(pid, >=, 0);
        if (pid == 0) {
                pid_t init;
                if (unshare(CLONE_NEWNS | CLONE_NEWPID) < 0)
                        _exit(errno == EPERM ? 77 : 2);
                if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                        _exit(2);
                init = fork();
                if (init == 0) {
                        if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                                _exit(3);
                        test();
                        _exit(0);
                }
                _exit(init > 0 && waitpid(init, &status, 0) == init && WIFEXITED(status) ? WEXITSTATUS(status) : 4);
        }
        g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
        g_assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77) {
                g_test_fail_printf("root without CAP_SYS_ADMIN (in a container?) cannot make a PID namespace");
                return;
        }
        g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}

/* A child that names itself name, opens paths in turn, says so on a pipe
 * and waits to be killed. */
static pid_t spawn_holder(const char *name, const char *const *paths)
{
        int ready[2];
        char c;
        pid_t pid;

        g_assert_cmpint(pipe(ready), ==, 0);
        pid = fork();
        g_assert_cmpint(pid, >=, 0);
        if (pid == 0) {
                close(ready[0]);
                (void)prctl(PR_SET_NAME, name);
                for (const char *const *p = paths; *p; p++)
                        if (open(*p, O_RDONLY | O_CLOEXEC) < 0)
                                _exit(1);
                (void)write(ready[1], "r", 1);
                pause();
                _exit(0);
        }
        close(ready[1]);
        g_assert_cmpint(read(ready[0], &c, 1), ==, 1);
        close(ready[0]);
        return pid;
}

static void kill_holder(pid_t pid)
{
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
}

static WatchedNode node_of(const char *path, DeviceUse use)
{
        WatchedNode node = {.use = use};
        struct stat st;

        g_assert_cmpint(stat(path, &st), ==, 0);
        node.devnum = st.st_rdev;
        snprintf(node.devname, sizeof(node.devname), "%s", path);
        return node;
}

typedef struct Seen {
        pid_t pid;
        int calls;
        DeviceUse use;
} Seen;

static void on_holder(const WatchedNode *node, pid_t pid, void *userdata)
{
        Seen *seen = userdata;

        if (pid != seen->pid)
                return; /* the test's own processes hold /dev/null too */
        seen->calls++;
        seen->use = node->use;
}

/* A process that holds a busy node before a host-critical one counts as
 * holding the host-critical one: the verdict is the highest use. */
static void highest_use(void)
{
        const char *paths[] = {"/dev/null", "/dev/zero", NULL};
        NodeWatch w = {};
        Seen seen = {};
        WatchedNode busy = node_of("/dev/null", DEVICE_USE_BUSY);
        WatchedNode critical = node_of("/dev/zero", DEVICE_USE_HOST_CRITICAL);

        g_assert_cmpint(node_watch_add(&w, &busy), ==, 0);
        g_assert_cmpint(node_watch_add(&w, &critical), ==, 0);
        seen.pid = spawn_holder("holder", paths);
        g_assert_cmpint(node_watch_scan(&w, getpid(), on_holder, &seen), ==, 0);
        kill_holder(seen.pid);
        node_watch_done(&w);
        g_assert_cmpint(seen.calls, ==, 1);
        g_assert_cmpint(seen.use, ==, DEVICE_USE_HOST_CRITICAL);
}

static void test_highest_use(void)
{
        in_own_pid_namespace(highest_use);
}

/* A process whose fds cannot be read may hold the node: the scan fails,
 * rather than report nobody. The scan runs as an unprivileged user, who
 * cannot read the fds of PID 1 (root's). */
static void unreadable_process(void)
{
        pid_t pid = fork();
        int status;

        g_assert_cmpint(pid, >=, 0);
        if (pid == 0) {
                NodeWatch w = {};
                WatchedNode node = node_of("/dev/null", DEVICE_USE_BUSY);
                Seen seen = {};
                if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
                    setresuid(65534, 65534, 65534) < 0 || node_watch_add(&w, &node) < 0)
                        _exit(2);
                _exit(node_watch_scan(&w, getpid(), on_holder, &seen) == -EACCES ? 0 : 1);
        }
        g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
        g_assert_true(WIFEXITED(status));
        g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}

static void test_unreadable_process(void)
{
        in_own_pid_namespace(unreadable_process);
}

/* A file whose path is longer than PATH_MAX, which any user can hold open:
 * its link cannot be read, and that is no reason to fail the scan. */
static void deep_path(void)
{
        enum { LEVELS = 25 }; /* of 199 bytes each */
        char name[200];
        int dirs[LEVELS + 1], fd;
        NodeWatch w = {};
        WatchedNode node = node_of("/dev/null", DEVICE_USE_BUSY);
        Seen seen = {};
        pid_t pid;

        memset(name, 'd', sizeof(name) - 1);
        name[sizeof(name) - 1] = '\0';
        memcpy(name, "vfiod-test-", strlen("vfiod-test-"));
        dirs[0] = open("/tmp", O_PATH | O_DIRECTORY | O_CLOEXEC);
        g_assert_cmpint(dirs[0], >=, 0);
        for (int i = 0; i < LEVELS; i++) {
                g_assert_true(mkdirat(dirs[i], name, 0700) == 0 || errno == EEXIST);
                dirs[i + 1] = openat(dirs[i], name, O_PATH | O_DIRECTORY | O_CLOEXEC);
                g_assert_cmpint(dirs[i + 1], >=, 0);
        }
        fd = openat(dirs[LEVELS], "file", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        g_assert_cmpint(fd, >=, 0);
        pid = fork();
        g_assert_cmpint(pid, >=, 0);
        if (pid == 0) {
                if (open("/dev/null", O_RDONLY) < 0) /* after the deep file in its fd table */
                        _exit(1);
                pause();
                _exit(0);
        }
        seen.pid = pid;
        g_assert_cmpint(node_watch_add(&w, &node), ==, 0);
        g_assert_cmpint(node_watch_scan(&w, getpid(), on_holder, &seen), ==, 0);
        kill_holder(pid);
        node_watch_done(&w);
        close(fd);
        g_assert_cmpint(unlinkat(dirs[LEVELS], "file", 0), ==, 0);
        for (int i = LEVELS; i > 0; i--) {
                close(dirs[i]);
                g_assert_cmpint(unlinkat(dirs[i - 1], name, AT_REMOVEDIR), ==, 0);
        }
        close(dirs[0]);
        g_assert_cmpint(seen.calls, ==, 1);
}

static void test_deep_path(void)
{
        in_own_pid_namespace(deep_path);
}

/* A process whose node is held by a thread of it, in an fd table that
 * /proc/PID/fd does not show: one the thread unshared, or the one shared
 * with a main thread that has exited. */
typedef enum ThreadHolder {
        THREAD_OWN_TABLE,
        THREAD_AFTER_MAIN_EXITED,
} ThreadHolder;

static int thread_ready[2];

static void *hold_in_thread(void *userdata)
{
        ThreadHolder kind = GPOINTER_TO_INT(userdata);

        if ((kind == THREAD_OWN_TABLE && unshare(CLONE_FILES) < 0) || open("/dev/zero", O_RDONLY) < 0)
                _exit(1);
        (void)write(thread_ready[1], "r", 1);
        pause();
        return NULL;
}

static char process_state(pid_t pid)
{
        char path[64], buf[256], *paren;
        int fd;
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        g_assert_cmpint(fd, >=, 0);
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        g_assert_cmpint(n, >, 0);
        buf[n] = '\0';
        paren = strrchr(buf, ')');
        g_assert_nonnull(paren);
        return paren[2];
}

static pid_t spawn_thread_holder(ThreadHolder kind)
{
        pthread_t thread;
        pid_t pid;
        char c;

        g_assert_cmpint(pipe(thread_ready), ==, 0);
        pid = fork();
        g_assert_cmpint(pid, >=, 0);
        if (pid == 0) {
                if (pthread_create(&thread, NULL, hold_in_thread, GINT_TO_POINTER(kind)) != 0)
                        _exit(1);
                if (kind == THREAD_AFTER_MAIN_EXITED)
                        pthread_exit(NULL);
                pause();
                _exit(0);
        }
        close(thread_ready[1]);
        g_assert_cmpint(read(thread_ready[0], &c, 1), ==, 1);
        close(thread_ready[0]);
        /* The main thread has exited once the process shows as a zombie. */
        for (int i = 0; kind == THREAD_AFTER_MAIN_EXITED && process_state(pid) != 'Z'; i++) {
                g_assert_cmpint(i, <, 5000);
                g_usleep(1000);
        }
        return pid;
}

static void thread_holder(ThreadHolder kind)
{
        NodeWatch w = {};
        WatchedNode node = node_of("/dev/zero", DEVICE_USE_BUSY);
        Seen seen = {};

        g_assert_cmpint(node_watch_add(&w, &node), ==, 0);
        seen.pid = spawn_thread_holder(kind);
        g_assert_cmpint(node_watch_scan(&w, getpid(), on_holder, &seen), ==, 0);
        kill_holder(seen.pid);
        node_watch_done(&w);
        g_assert_cmpint(seen.calls, ==, 1);
}

static void thread_own_table(void)
{
        thread_holder(THREAD_OWN_TABLE);
}

static void thread_after_main_exited(void)
{
        thread_holder(THREAD_AFTER_MAIN_EXITED);
}

static void test_thread_own_table(void)
{
        in_own_pid_namespace(thread_own_table);
}

static void test_thread_after_main_exited(void)
{
        in_own_pid_namespace(thread_after_main_exited);
}

/* A process names itself with any bytes: its name comes back printable
 * and valid UTF-8, for a D-Bus message and a terminal. */
static void test_process_name(void)
{
        const char *paths[] = {NULL};
        char comm[PROC_COMM_SIZE];
        pid_t pid = spawn_holder("sl\xff\x1b[2Jp", paths);

        g_assert_cmpstr(proc_comm(pid, comm), ==, "sl\\xff\\x1b[2Jp");
        kill_holder(pid);
        g_assert_cmpstr(proc_comm(pid, comm), ==, "?");
}

/* An fd opened with O_PATH has not opened the device (any user may hold
 * one of any node): its holder is passed over; one that opened it is not. */
static void o_path_fd(void)
{
        NodeWatch w = {};
        WatchedNode node = node_of("/dev/zero", DEVICE_USE_BUSY);
        Seen path_only = {}, opened = {};
        int ready[2];
        char c;

        g_assert_cmpint(pipe(ready), ==, 0);
        path_only.pid = fork();
        g_assert_cmpint(path_only.pid, >=, 0);
        if (path_only.pid == 0) {
                if (open("/dev/zero", O_PATH | O_CLOEXEC) < 0)
                        _exit(1);
                (void)write(ready[1], "r", 1);
                pause();
                _exit(0);
        }
        g_assert_cmpint(read(ready[0], &c, 1), ==, 1);
        close(ready[0]);
        close(ready[1]);
        opened.pid = spawn_holder("opened", (const char *const[]){ "/dev/zero", NULL });
        g_assert_cmpint(node_watch_add(&w, &node), ==, 0);
        g_assert_cmpint(node_watch_scan(&w, getpid(), on_holder, &path_only), ==, 0);
        g_assert_cmpint(node_watch_scan(&w, getpid(), on_holder, &opened), ==, 0);
        kill_holder(path_only.pid);
        kill_holder(opened.pid);
        node_watch_done(&w);
        g_assert_cmpint(path_only.calls, ==, 0);
        g_assert_cmpint(opened.calls, ==, 1);
}

static void test_o_path_fd(void)
{
        in_own_pid_namespace(o_path_fd);
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/open-nodes/highest-use", test_highest_use);
        g_test_add_func("/open-nodes/unreadable-process", test_unreadable_process);
        g_test_add_func("/open-nodes/deep-path", test_deep_path);
        g_test_add_func("/open-nodes/thread-own-table", test_thread_own_table);
        g_test_add_func("/open-nodes/thread-after-main-exited", test_thread_after_main_exited);
        g_test_add_func("/open-nodes/process-name", test_process_name);
        g_test_add_func("/open-nodes/o-path-fd", test_o_path_fd);
        return g_test_run();
}
