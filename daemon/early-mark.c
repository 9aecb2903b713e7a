/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "early-mark.h"
#include "pci-address.h"

static void mark_path(const char *address, char buf[static sizeof(EARLY_MARK_DIR) + PCI_ADDRESS_STRING_MAX])
{
        snprintf(buf, sizeof(EARLY_MARK_DIR) + PCI_ADDRESS_STRING_MAX, EARLY_MARK_DIR "/%s", address);
}

int early_mark_set(const char *address)
{
        char path[sizeof(EARLY_MARK_DIR) + PCI_ADDRESS_STRING_MAX];
        int fd;

        if (mkdir(EARLY_MARK_DIR, 0755) < 0 && errno != EEXIST)
                return -errno;
        mark_path(address, path);
        fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return -errno;
        close(fd);
        return 0;
}

int early_mark_clear(const char *address)
{
        char path[sizeof(EARLY_MARK_DIR) + PCI_ADDRESS_STRING_MAX];

        mark_path(address, path);
        return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

bool early_mark_present(const char *address)
{
        char path[sizeof(EARLY_MARK_DIR) + PCI_ADDRESS_STRING_MAX];

        mark_path(address, path);
        return access(path, F_OK) == 0;
}
