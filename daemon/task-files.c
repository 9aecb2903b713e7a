/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fs-util.h"
#include "kernel-btf.h"
#include "log.h"
#include "macro.h"
#include "task-files.h"

/* Where the program finds what it reads in this kernel's structs, from its
 * BTF; error says why it cannot run here. */
typedef struct Layout {
        int error;
        uint32_t iterator_id; /* of the function bpf_iter_task_file */
        BtfMember ctx_meta, ctx_task, ctx_fd, ctx_file;
        BtfMember meta_seq, task_tgid, file_mode, file_inode, inode_mode, inode_rdev;
} Layout;

static Layout layout;
static pthread_once_t layout_once = PTHREAD_ONCE_INIT;

/* Each member the program reads, with the size its load has, at an offset
 * that a load instruction can hold. */
static int read_member(const KernelBtf *b, const char *name, const char *member, uint32_t size, BtfMember *ret)
{
        int r = kernel_btf_member(b, name, member, ret);

        if (r < 0)
                return r;
        return ret->size == size && ret->offset <= INT16_MAX ? 0 : -EOPNOTSUPP;
}

/* What the program reads, where Layout keeps it. */
static const struct {
        const char *name, *member;
        uint32_t size;
        size_t field;
} layout_members[] = {
        { "bpf_iter__task_file", "meta", 8, offsetof(Layout, ctx_meta) },
        { "bpf_iter__task_file", "task", 8, offsetof(Layout, ctx_task) },
        { "bpf_iter__task_file", "fd", 4, offsetof(Layout, ctx_fd) },
        { "bpf_iter__task_file", "file", 8, offsetof(Layout, ctx_file) },
        { "bpf_iter_meta", "seq", 8, offsetof(Layout, meta_seq) },
        { "task_struct", "tgid", 4, offsetof(Layout, task_tgid) },
        { "file", "f_mode", 4, offsetof(Layout, file_mode) },
        { "file", "f_inode", 8, offsetof(Layout, file_inode) },
        { "inode", "i_mode", 2, offsetof(Layout, inode_mode) },
        { "inode", "i_rdev", 4, offsetof(Layout, inode_rdev) },
};

static int read_layout(Layout *l)
{
        KernelBtf *b = NULL;
        int r = kernel_btf_load(KERNEL_BTF_PATH, &b);

        if (r < 0)
                return r;
        r = kernel_btf_function(b, "bpf_iter_task_file");
        if (r >= 0)
                l->iterator_id = (uint32_t)r;
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(layout_members); i++)
                r = read_member(b, layout_members[i].name, layout_members[i].member, layout_members[i].size,
                                (BtfMember *)((uint8_t *)l + layout_members[i].field));
        kernel_btf_free(b);
        return r < 0 ? r : 0;
}

/* The task ids the program passes on are those of the initial PID
 * namespace (task_struct.tgid), and so are vfiod's only there. Its inode
 * number is fixed (PROC_PID_INIT_INO, include/linux/proc_ns.h). */
static bool in_initial_pid_namespace(void)
{
        struct stat st;

        return stat("/proc/self/ns/pid", &st) == 0 && st.st_ino == 0xEFFFFFFCU;
}

static void init_layout(void)
{
        /* The program loads 64-bit pointers, and passes on the ids of the
         * initial PID namespace. */
        if (sizeof(void *) != 8 || !in_initial_pid_namespace())
                layout.error = -EOPNOTSUPP;
        else
                layout.error = read_layout(&layout);
}

/* ---- The program ---- */

/* One file as the program passes it on. */
typedef struct Record {
        uint32_t tgid;
        uint32_t fd;
        uint32_t index; /* into the devices */
        uint32_t f_mode;
} Record;

enum { LABEL_EMIT, LABEL_EXIT, N_LABELS };

#define PROGRAM_MAX (40 + 4 * TASK_FILES_DEVICES_MAX)

typedef struct Program {
        struct bpf_insn insn[PROGRAM_MAX];
        size_t n;
        size_t label[N_LABELS];
        size_t jumps[PROGRAM_MAX]; /* the jumps to a label, whose off is that label */
        size_t n_jumps;
} Program;

static void emit(Program *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
        p->insn[p->n++] = (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
}

static void emit_jump(Program *p, uint8_t code, uint8_t dst, int32_t imm, int label)
{
        p->jumps[p->n_jumps++] = p->n;
        emit(p, code, dst, 0, (int16_t)label, imm);
}

static void emit_load(Program *p, uint8_t dst, uint8_t src, BtfMember m)
{
        uint8_t size = m.size == 8 ? BPF_DW : m.size == 4 ? BPF_W : BPF_H;

        emit(p, BPF_LDX | BPF_MEM | size, dst, src, (int16_t)m.offset, 0);
}

static void place(Program *p, int label)
{
        p->label[label] = p->n;
}

static void resolve_jumps(Program *p)
{
        for (size_t i = 0; i < p->n_jumps; i++) {
                struct bpf_insn *j = &p->insn[p->jumps[i]];
                j->off = (int16_t)(p->label[j->off] - (p->jumps[i] + 1));
        }
}

/* FMODE_READ and FMODE_PATH of include/linux/fs.h, the same since Linux
 * 2.6.39. A file opened with O_PATH has not opened the device: any user
 * may hold one of any node. */
#define KERNEL_FMODE_READ 0x1
#define KERNEL_FMODE_PATH 0x4000

/* The kernel's dev_t: MKDEV() of include/linux/kdev_t.h. */
static uint32_t kernel_devnum(dev_t d)
{
        return (uint32_t)(major(d) << 20 | minor(d));
}

/* For each file: when its inode is one of the devices, and it was not
 * opened with O_PATH, write a Record. r6 the context, r7 the file, r8 the
 * task, r9 the file's mode, r5 the device's index. First the canaries:
 * vfiod's own fds of that node, and no other process's, are passed on with
 * index n whatever their mode, so that a walk that reads the wrong members
 * (a BTF read wrong) cannot pass for one that found nothing. */
static void build_program(Program *p, const Layout *l, const FileDevice *devices, size_t n, FileDevice canary,
                          pid_t self)
{
        *p = (Program){};
        emit(p, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_1, 0, 0);
        emit_load(p, BPF_REG_7, BPF_REG_6, l->ctx_file);
        emit_jump(p, BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_7, 0, LABEL_EXIT); /* the iterator's last call */
        emit_load(p, BPF_REG_8, BPF_REG_6, l->ctx_task);
        emit_jump(p, BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_8, 0, LABEL_EXIT);
        emit_load(p, BPF_REG_9, BPF_REG_7, l->file_mode);
        emit_load(p, BPF_REG_2, BPF_REG_7, l->file_inode);
        emit_jump(p, BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_2, 0, LABEL_EXIT);
        emit_load(p, BPF_REG_3, BPF_REG_2, l->inode_mode);
        emit(p, BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_3, 0, 0, S_IFMT);
        emit_load(p, BPF_REG_4, BPF_REG_2, l->inode_rdev);
        emit(p, BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_4, 0, 5, (int32_t)kernel_devnum(canary.devnum));
        emit(p, BPF_JMP | BPF_JNE | BPF_K, BPF_REG_3, 0, 4, S_IFCHR);
        emit_load(p, BPF_REG_1, BPF_REG_8, l->task_tgid);
        emit(p, BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_1, 0, 2, (int32_t)self);
        emit(p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_5, 0, 0, (int32_t)n);
        emit_jump(p, BPF_JMP | BPF_JA, 0, 0, LABEL_EMIT);
        emit_jump(p, BPF_JMP | BPF_JSET | BPF_K, BPF_REG_9, KERNEL_FMODE_PATH, LABEL_EXIT);
        for (size_t i = 0; i < n; i++) {
                emit(p, BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_4, 0, 3, (int32_t)kernel_devnum(devices[i].devnum));
                emit(p, BPF_JMP | BPF_JNE | BPF_K, BPF_REG_3, 0, 2, devices[i].block ? S_IFBLK : S_IFCHR);
                emit(p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_5, 0, 0, (int32_t)i);
                emit_jump(p, BPF_JMP | BPF_JA, 0, 0, LABEL_EMIT);
        }
        emit_jump(p, BPF_JMP | BPF_JA, 0, 0, LABEL_EXIT);

        place(p, LABEL_EMIT); /* a Record on the stack, to the iterator's seq_file */
        emit_load(p, BPF_REG_1, BPF_REG_8, l->task_tgid);
        emit(p, BPF_STX | BPF_MEM | BPF_W, BPF_REG_10, BPF_REG_1, -16, 0);
        emit_load(p, BPF_REG_1, BPF_REG_6, l->ctx_fd);
        emit(p, BPF_STX | BPF_MEM | BPF_W, BPF_REG_10, BPF_REG_1, -12, 0);
        emit(p, BPF_STX | BPF_MEM | BPF_W, BPF_REG_10, BPF_REG_5, -8, 0);
        emit(p, BPF_STX | BPF_MEM | BPF_W, BPF_REG_10, BPF_REG_9, -4, 0);
        emit_load(p, BPF_REG_1, BPF_REG_6, l->ctx_meta);
        emit_load(p, BPF_REG_1, BPF_REG_1, l->meta_seq);
        emit(p, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0);
        emit(p, BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -(int32_t)sizeof(Record));
        emit(p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, sizeof(Record));
        emit(p, BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_seq_write);

        place(p, LABEL_EXIT);
        emit(p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
        emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        resolve_jumps(p);
}

/* ---- Running it ---- */

static int bpf(int cmd, union bpf_attr *attr)
{
        int fd = (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));

        return fd < 0 ? -errno : fd;
}

static int load_program(const Program *p, const Layout *l)
{
        /* bpf_seq_write() and loads through BTF are for GPL-compatible
         * programs; vfiod's LGPL-2.1-or-later code may be used under the
         * GPL. */
        static const char license[] = "GPL";
        union bpf_attr attr = {
                .prog_type = BPF_PROG_TYPE_TRACING,
                .expected_attach_type = BPF_TRACE_ITER,
                .attach_btf_id = l->iterator_id,
                .insns = (uintptr_t)p->insn,
                .insn_cnt = (uint32_t)p->n,
                .license = (uintptr_t)license,
        };
        enum { LOG_SIZE = 1 << 16 }; /* the whole log: kernels before 6.4 keep its start */
        _cleanup_free_ char *verifier_log = NULL;
        int fd = bpf(BPF_PROG_LOAD, &attr);

        if ((fd != -EACCES && fd != -EINVAL) || !(verifier_log = calloc(1, LOG_SIZE)))
                return fd;
        /* The verifier refused it: once more, for its reason. */
        attr.log_level = 1;
        attr.log_buf = (uintptr_t)verifier_log;
        attr.log_size = LOG_SIZE;
        fd = bpf(BPF_PROG_LOAD, &attr);
        if (fd < 0 && verifier_log[0])
                log_debug("The kernel's verifier refused the task_file iterator: %s", verifier_log);
        return fd;
}

static int open_iterator(int prog_fd)
{
        union bpf_attr attr = { .link_create = { .prog_fd = (uint32_t)prog_fd, .attach_type = BPF_TRACE_ITER } };
        _cleanup_close_ int link_fd = bpf(BPF_LINK_CREATE, &attr);

        if (link_fd < 0)
                return link_fd;
        attr = (union bpf_attr){ .iter_create = { .link_fd = (uint32_t)link_fd } };
        return bpf(BPF_ITER_CREATE, &attr);
}

/* Reading the iterator runs the walk; all of it, before anyone is told. */
static int read_records(int iter_fd, Record **ret, size_t *n)
{
        _cleanup_free_ void *records = NULL;
        size_t bytes;
        /* EAGAIN, read again: a million files passed in one read with none
         * written. */
        int r = read_fd_to_end(iter_fd, &records, &bytes);

        if (r < 0)
                return r;
        if (bytes % sizeof(Record) != 0)
                return -EIO;
        *n = bytes / sizeof(Record);
        *ret = TAKE_PTR(records);
        return 0;
}

/* vfiod's own fds of /dev/null, which the walk must find: one opened for
 * reading, and one with O_PATH. */
typedef struct Canaries {
        int read_fd, path_fd;
        FileDevice device;
        bool read_seen, path_seen;
} Canaries;

static int open_canaries(Canaries *c)
{
        struct stat st;

        c->read_fd = open("/dev/null", O_RDONLY | O_CLOEXEC | O_NOCTTY);
        c->path_fd = open("/dev/null", O_PATH | O_CLOEXEC);
        if (c->read_fd < 0 || c->path_fd < 0)
                return -errno;
        if (fstat(c->read_fd, &st) < 0 || !S_ISCHR(st.st_mode))
                return -ENODEV;
        c->device = (FileDevice){ .devnum = st.st_rdev };
        return 0;
}

static void close_canaries(Canaries *c)
{
        if (c->read_fd >= 0)
                close(c->read_fd);
        if (c->path_fd >= 0)
                close(c->path_fd);
}

/* Each canary, with the mode it was opened with: the members read were
 * the right ones. */
static void note_canary(Canaries *c, const Record *r)
{
        if (r->tgid != (uint32_t)getpid())
                return;
        if (r->fd == (uint32_t)c->read_fd)
                c->read_seen = (r->f_mode & (KERNEL_FMODE_READ | KERNEL_FMODE_PATH)) == KERNEL_FMODE_READ;
        else if (r->fd == (uint32_t)c->path_fd)
                c->path_seen = (r->f_mode & (KERNEL_FMODE_READ | KERNEL_FMODE_PATH)) == KERNEL_FMODE_PATH;
}

int task_files_find_devices(const FileDevice *devices, size_t n, TaskFileFn fn, void *userdata)
{
        _cleanup_free_ Program *p = NULL;
        _cleanup_free_ Record *records = NULL;
        _cleanup_(close_canaries) Canaries canaries = { .read_fd = -EBADF, .path_fd = -EBADF };
        _cleanup_close_ int prog_fd = -EBADF, iter_fd = -EBADF;
        size_t n_records = 0;
        int r;

        if (n > TASK_FILES_DEVICES_MAX)
                return -E2BIG;
        pthread_once(&layout_once, init_layout);
        if (layout.error < 0)
                return layout.error;
        r = open_canaries(&canaries);
        if (r < 0)
                return r;
        p = malloc(sizeof(*p));
        if (!p)
                return -ENOMEM;
        build_program(p, &layout, devices, n, canaries.device, getpid());
        prog_fd = load_program(p, &layout);
        if (prog_fd < 0)
                return prog_fd;
        iter_fd = open_iterator(prog_fd);
        if (iter_fd < 0)
                return iter_fd;
        r = read_records(iter_fd, &records, &n_records);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_records; i++)
                if (records[i].index == n)
                        note_canary(&canaries, &records[i]);
        if (!canaries.read_seen || !canaries.path_seen) {
                log_debug("The walk over the tasks' files did not find vfiod's own fds of /dev/null as they are: "
                          "the kernel's layout was not read right.");
                return -EPROTO;
        }
        for (size_t i = 0; i < n_records; i++)
                if (records[i].index < n)
                        fn((pid_t)records[i].tgid, records[i].index, userdata);
        return 0;
}
