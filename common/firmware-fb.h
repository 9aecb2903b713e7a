/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "pci-address.h"

/* The firmware's framebuffer: the display that UEFI (GOP), VESA or a
 * device tree set up before Linux, driven by a generic driver (efifb,
 * vesafb, simplefb, simpledrm) on a platform device until the GPU's own
 * driver replaces it. While bound, it holds a range of the GPU's BAR,
 * which vfio-pci then cannot reserve ("BAR 0: can't reserve"), and the
 * console may be drawn on it. */

#define FIRMWARE_FB_NAME_MAX 64

typedef struct FirmwareFb {
        char device[FIRMWARE_FB_NAME_MAX]; /* the platform device: "efi-framebuffer.0" */
        char driver[FIRMWARE_FB_NAME_MAX]; /* the driver bound to it: "efi-framebuffer" */
        /* The PCI function whose BAR holds its memory; "" when the kernel's
         * resource tree does not say. */
        char gpu[PCI_ADDRESS_STRING_MAX];
} FirmwareFb;

/* The firmware framebuffer that a driver drives now: 1, or 0 when none. */
int firmware_fb_find(FirmwareFb *ret);

/* Whether name is one of the platform devices the kernel makes for a
 * firmware framebuffer ("efi-framebuffer.0", "simple-framebuffer.0", ...),
 * and so one vfiod may unbind and bind again. */
bool firmware_fb_device_name_valid(const char *name);
