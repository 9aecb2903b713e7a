/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "client.h"
#include "macro.h"
#include "size.h"

/* claim -- qemu-system-... -m SIZE: a QEMU with a VFIO device pins all of
 * its guest's memory, and with too low a locked-memory limit it fails
 * late and cryptically ("vfio_dma_map(...) = -12"). Its command line says
 * how much it needs; this says so first. */

static bool is_qemu(const char *program)
{
        const char *name = strrchr(program, '/');

        name = name ? name + 1 : program;
        return strncmp(name, "qemu-system-", 12) == 0 || streq(name, "qemu-kvm") || streq(name, "kvm");
}

/* QEMU's "-m [size=]N[,slots=...,maxmem=...]": N in MiB, or with a suffix. */
static int parse_qemu_memory(const char *arg, uint64_t *ret)
{
        char value[64];
        size_t n;

        if (strncmp(arg, "size=", 5) == 0)
                arg += 5;
        n = strcspn(arg, ",");
        if (n == 0 || n >= sizeof(value))
                return -EINVAL;
        memcpy(value, arg, n);
        value[n] = '\0';
        if (strspn(value, "0123456789") == n) {
                if (n > 10)
                        return -ERANGE;
                strcat(value, "M");
        }
        return parse_size(value, ret);
}

int qemu_guest_memory(char **command, uint64_t *ret)
{
        if (!command || !command[0] || !is_qemu(command[0]))
                return 0;
        for (char **a = command + 1; *a; a++) {
                const char *value = NULL;
                if ((streq(*a, "-m") || streq(*a, "--m")) && a[1])
                        value = a[1];
                else if (strncmp(*a, "-m=", 3) == 0)
                        value = *a + 3;
                if (value && parse_qemu_memory(value, ret) >= 0)
                        return 1;
        }
        return 0;
}

int memlock_for_guest(uint64_t guest_memory, uint64_t *ret)
{
        const uint64_t beyond_ram = 1ULL << 30;

        if (guest_memory > UINT64_MAX - beyond_ram)
                return -ERANGE;
        *ret = guest_memory + beyond_ram;
        return 0;
}

void qemu_warn_memlock(const Client *c)
{
        char guest[SIZE_STRING_MAX], need[SIZE_STRING_MAX], have[SIZE_STRING_MAX], option[32];
        uint64_t memory, needed, limit;
        struct rlimit rl;

        if (c->json || qemu_guest_memory(c->command, &memory) <= 0 || memlock_for_guest(memory, &needed) < 0)
                return;
        if (c->memlock_bytes > 0)
                limit = c->memlock_bytes;
        else if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0)
                limit = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur;
        else
                return;
        if (limit >= needed)
                return;
        format_size(memory, guest);
        format_size(needed, need);
        format_size(limit, have);
        /* As --memory takes it, whole: 4G, or 1536M. */
        if (memory % (1ULL << 30) == 0)
                snprintf(option, sizeof(option), "%lluG", (unsigned long long)(memory >> 30));
        else
                snprintf(option, sizeof(option), "%lluM", (unsigned long long)((memory + (1ULL << 20) - 1) >> 20));
        fprintf(stderr,
                "vfioctl-client: warning: QEMU's guest has %s (-m), so it needs %s of locked memory for its VFIO "
                "device, and %s %s: add --memory %s, or QEMU fails with 'vfio_dma_map(...) = -12'.\n",
                guest, need, c->memlock_bytes > 0 ? "--memlock/--memory gives" : "your limit is", have, option);
}
