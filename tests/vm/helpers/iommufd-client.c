/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * iommufd-client ADDRESS [--leave-holder|--leave-unbound-holder]: what a VMM
 * does with the fds of a
 * cdev-mode claim
 * (vfioctl-client claim ADDRESS --cdev -- iommufd-client ADDRESS), on QEMU's
 * "edu" device: binds the device's cdev to the iommufd, attaches it to a
 * fresh I/O address space, maps a buffer there, reads the vendor id from
 * config space, and has the device copy the buffer through its own DMA
 * engine and back. Then it checks where the pinned memory was charged: a
 * map within its own RLIMIT_MEMLOCK succeeds and shows in its VmLck, one
 * beyond fails. Prints "key value" lines for the scenario; exits 1 at the
 * first failure, saying which step.
 *
 * --leave-holder: then leaves behind a process that keeps the device's
 * cdev open and nothing else (not the lease's guard fd), prints its PID as
 * "holder PID", and exits: the lease ends, the device stays held.
 * --leave-unbound-holder: the same at once, the cdev never bound to the
 * iommufd (which leaves the group node free, but not the device).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "linux-iommufd.h"

#define PCI_COMMAND_OFFSET 0x04
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4

/* QEMU's edu device (docs/specs/edu.rst): a DMA engine between RAM and a
 * 4 KiB buffer of its own at 0x40000, for addresses below 2^28. */
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_COUNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_DMA_START 0x1
#define EDU_DMA_TO_RAM 0x2
#define EDU_BUFFER 0x40000

#define DMA_IOVA 0x100000ULL
#define DMA_SIZE (1ULL << 20)
#define MEMLOCK_LIMIT (4ULL << 20)
#define OVER_LIMIT_SIZE (8ULL << 20)

static int fail(const char *step, int error)
{
        printf("failed %s: %s\n", step, strerror(error));
        return 1;
}

/* VFIOD_DEVICE_FDS="ADDRESS=FD ...": the fd of address. */
static int device_fd_of(const char *address)
{
        const char *list = getenv("VFIOD_DEVICE_FDS");
        size_t len = strlen(address);

        for (const char *p = list; p && *p; p += strcspn(p, " "), p += strspn(p, " "))
                if (strncmp(p, address, len) == 0 && p[len] == '=')
                        return atoi(p + len + 1);
        return -1;
}

static long vm_locked_kib(void)
{
        char line[256];
        long kib = -1;
        FILE *f = fopen("/proc/self/status", "re");

        while (f && fgets(line, sizeof(line), f))
                if (sscanf(line, "VmLck: %ld kB", &kib) == 1)
                        break;
        if (f)
                fclose(f);
        return kib;
}

static int region_offset(int device, uint32_t index, uint64_t *ret)
{
        struct vfio_region_info region = { .argsz = sizeof(region), .index = index };

        if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &region) < 0)
                return -errno;
        *ret = region.offset;
        return 0;
}

static int write32(int device, uint64_t offset, uint32_t value)
{
        return pwrite(device, &value, sizeof(value), (off_t)offset) == sizeof(value) ? 0 : -EIO;
}

static uint32_t read32(int device, uint64_t offset)
{
        uint32_t value = UINT32_MAX;

        (void)!pread(device, &value, sizeof(value), (off_t)offset);
        return value;
}

/* One DMA transfer of the edu device, waited for (it runs on a timer). */
static int edu_dma(int device, uint64_t bar, uint64_t src, uint64_t dst, uint32_t count, uint32_t cmd)
{
        if (write32(device, bar + EDU_DMA_SRC, (uint32_t)src) < 0 || write32(device, bar + EDU_DMA_DST, (uint32_t)dst) < 0 ||
            write32(device, bar + EDU_DMA_COUNT, count) < 0 || write32(device, bar + EDU_DMA_CMD, cmd | EDU_DMA_START) < 0)
                return -EIO;
        for (int i = 0; i < 500; i++) {
                if (!(read32(device, bar + EDU_DMA_CMD) & EDU_DMA_START))
                        return 0;
                nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
        }
        return -ETIMEDOUT;
}

/* The buffer to the device's own buffer and back into its second half. */
static int dma_round_trip(int device, uint8_t *buffer)
{
        uint64_t config, bar;
        uint16_t command;
        size_t half = 2048;
        int r;

        if ((r = region_offset(device, VFIO_PCI_CONFIG_REGION_INDEX, &config)) < 0 ||
            (r = region_offset(device, VFIO_PCI_BAR0_REGION_INDEX, &bar)) < 0)
                return r;
        if (pread(device, &command, sizeof(command), (off_t)(config + PCI_COMMAND_OFFSET)) != sizeof(command))
                return -EIO;
        command |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
        if (pwrite(device, &command, sizeof(command), (off_t)(config + PCI_COMMAND_OFFSET)) != sizeof(command))
                return -EIO;
        for (size_t i = 0; i < half; i++)
                buffer[i] = (uint8_t)(i * 7 + 3);
        memset(buffer + half, 0, half);
        if ((r = edu_dma(device, bar, DMA_IOVA, EDU_BUFFER, half, 0)) < 0 ||
            (r = edu_dma(device, bar, EDU_BUFFER, DMA_IOVA + half, half, EDU_DMA_TO_RAM)) < 0)
                return r;
        return memcmp(buffer, buffer + half, half) == 0 ? 0 : -EBADMSG;
}

static int map(int iommufd, uint32_t ioas, void *buffer, uint64_t size, uint64_t iova, uint32_t flags)
{
        struct iommu_ioas_map m = {
                .size = sizeof(m),
                .flags = flags | IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
                .ioas_id = ioas,
                .user_va = (uintptr_t)buffer,
                .length = size,
                .iova = iova,
        };

        return ioctl(iommufd, IOMMU_IOAS_MAP, &m) < 0 ? -errno : 0;
}

/* A child that holds the device fd alone, its output nowhere. */
static void leave_holder(int device)
{
        pid_t pid;

        fflush(stdout);
        pid = fork();
        if (pid < 0)
                return;
        if (pid > 0) {
                printf("holder %d\n", (int)pid);
                return;
        }
        if (device != 3 && (dup2(device, 3) < 0 || close(device) < 0))
                _exit(1);
        syscall(SYS_close_range, 4U, ~0U, 0U);
        freopen("/dev/null", "w", stdout);
        freopen("/dev/null", "w", stderr);
        pause();
        _exit(0);
}

int main(int argc, char *argv[])
{
        const char *iommufd_env = getenv("VFIOD_IOMMU_FD");
        struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
        struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach) };
        struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
        struct rlimit limit;
        uint64_t config;
        uint16_t vendor;
        long locked_before;
        void *buffer, *big;
        int iommufd, device, r;

        const char *leave = argc == 3 ? argv[2] : "";

        if (argc < 2 || argc > 3 || !iommufd_env ||
            (argc == 3 && strcmp(leave, "--leave-holder") != 0 && strcmp(leave, "--leave-unbound-holder") != 0))
                return fprintf(stderr, "usage: VFIOD_IOMMU_FD=N VFIOD_DEVICE_FDS=... %s ADDRESS "
                                       "[--leave-holder|--leave-unbound-holder]\n",
                               argv[0]),
                       2;
        iommufd = atoi(iommufd_env);
        device = device_fd_of(argv[1]);
        if (device < 0)
                return fail("finding the device fd in VFIOD_DEVICE_FDS", ENOENT);
        if (strcmp(leave, "--leave-unbound-holder") == 0) {
                leave_holder(device);
                return 0;
        }
        getrlimit(RLIMIT_MEMLOCK, &limit);
        printf("memlock_limit %llu\n", (unsigned long long)limit.rlim_cur);

        bind.iommufd = iommufd;
        if (ioctl(device, VFIO_DEVICE_BIND_IOMMUFD, &bind) < 0)
                return fail("VFIO_DEVICE_BIND_IOMMUFD", errno);
        if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &alloc) < 0)
                return fail("IOMMU_IOAS_ALLOC", errno);
        attach.pt_id = alloc.out_ioas_id;
        if (ioctl(device, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach) < 0)
                return fail("VFIO_DEVICE_ATTACH_IOMMUFD_PT", errno);
        printf("bound devid %u ioas %u\n", bind.out_devid, alloc.out_ioas_id);

        if ((r = region_offset(device, VFIO_PCI_CONFIG_REGION_INDEX, &config)) < 0)
                return fail("VFIO_DEVICE_GET_REGION_INFO", -r);
        if (pread(device, &vendor, sizeof(vendor), (off_t)config) != sizeof(vendor))
                return fail("reading config space", errno);
        printf("vendor 0x%04x\n", vendor);

        /* The charge: within a limit of its own, lowered so that the test
         * does not depend on what the user was given. */
        limit.rlim_cur = MEMLOCK_LIMIT;
        if (setrlimit(RLIMIT_MEMLOCK, &limit) < 0)
                return fail("lowering RLIMIT_MEMLOCK", errno);
        buffer = mmap(NULL, DMA_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        big = mmap(NULL, OVER_LIMIT_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (buffer == MAP_FAILED || big == MAP_FAILED)
                return fail("mmap", errno);
        locked_before = vm_locked_kib();
        r = map(iommufd, alloc.out_ioas_id, buffer, DMA_SIZE, DMA_IOVA, IOMMU_IOAS_MAP_FIXED_IOVA);
        if (r < 0)
                return fail("IOMMU_IOAS_MAP within the limit", -r);
        printf("map_within_limit ok\n");
        printf("vmlck_charged_kib %ld\n", vm_locked_kib() - locked_before);
        r = map(iommufd, alloc.out_ioas_id, big, OVER_LIMIT_SIZE, 0, 0);
        printf("map_over_limit %s\n", r == 0 ? "ok" : strerror(-r));

        r = dma_round_trip(device, buffer);
        if (r < 0)
                return fail("DMA through the device", -r);
        printf("dma ok\n");
        if (strcmp(leave, "--leave-holder") == 0)
                leave_holder(device);
        fflush(stdout);
        return 0;
}
