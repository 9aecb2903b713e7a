/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "firmware-fb.h"
#include "fs-util.h"
#include "macro.h"

#define PLATFORM_DEVICES "/sys/bus/platform/devices"

/* The platform devices that sysfb and the firmware code register. */
static const char *const device_prefixes[] = {
        "efi-framebuffer.", "vesa-framebuffer.", "simple-framebuffer.", "vga-framebuffer.",
};

/* The names under which their drivers request the framebuffer's memory. */
static const char *const region_names[] = {
        "efifb", "vesafb", "simplefb", "simple-framebuffer", "simpledrm", "efidrm", "vesadrm", "vga16fb", "BOOTFB",
};

bool firmware_fb_device_name_valid(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(device_prefixes); i++) {
                size_t n = strlen(device_prefixes[i]);
                if (strncmp(name, device_prefixes[i], n) == 0 && name[n] && strlen(name) < FIRMWARE_FB_NAME_MAX &&
                    strspn(name + n, "0123456789") == strlen(name + n))
                        return true;
        }
        return false;
}

static bool is_region_name(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(region_names); i++)
                if (streq(name, region_names[i]))
                        return true;
        return false;
}

/* /proc/iomem nests each range under the one that holds it, by two spaces a
 * level: a framebuffer's range sits under the BAR of the GPU that carries
 * it. The nesting is there for everyone; only the addresses are hidden
 * from unprivileged readers, and they do not matter here. */
static void find_owner_in_iomem(char gpu[static PCI_ADDRESS_STRING_MAX])
{
        _cleanup_free_ char *iomem = read_full_file("/proc/iomem");
        char parents[8][PCI_ADDRESS_STRING_MAX + 1] = {};
        char *rest = iomem, *line;

        gpu[0] = '\0';
        while (rest && (line = strsep(&rest, "\n"))) {
                size_t depth = strspn(line, " ") / 2;
                char *name = strstr(line, " : ");

                if (!name || depth >= ELEMENTSOF(parents))
                        continue;
                name += 3;
                if (is_region_name(name) && depth > 0 &&
                    pci_address_normalize(parents[depth - 1], gpu) >= 0)
                        return;
                snprintf(parents[depth], sizeof(parents[depth]), "%s", name);
        }
        gpu[0] = '\0';
}

int firmware_fb_find(FirmwareFb *ret)
{
        DIR *dir = opendir(PLATFORM_DEVICES);
        struct dirent *de;
        int found = 0;

        if (!dir)
                return 0;
        while (!found && (de = readdir(dir))) {
                char path[PATH_MAX];
                _cleanup_free_ char *driver = NULL;

                if (!firmware_fb_device_name_valid(de->d_name))
                        continue;
                snprintf(path, sizeof(path), PLATFORM_DEVICES "/%s/driver", de->d_name);
                if (readlink_basename(path, &driver) < 0 || !driver || strlen(driver) >= FIRMWARE_FB_NAME_MAX)
                        continue;
                *ret = (FirmwareFb){};
                strcpy(ret->device, de->d_name); /* both lengths checked above */
                strcpy(ret->driver, driver);
                found = 1;
        }
        closedir(dir);
        if (found)
                find_owner_in_iomem(ret->gpu);
        return found;
}
