/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Hand-off profiles: what else must happen for a device of a given host
 * driver to move to vfio-pci and back, beyond the driver's own unbind.
 * One profile per file, PROFILE.conf in profiles.d/ of the shipped
 * directory and of the configuration directory; a file in the latter
 * replaces the shipped one of the same name, and an empty one masks it.
 *
 *   # nvidia.conf
 *   Drivers=nvidia
 *   Nodes=/dev/nvidiactl /dev/nvidia-uvm /dev/nvidia[0-9]*
 *   StopUnits=nvidia-persistenced.service
 *   UnloadModules=nvidia_drm nvidia_modeset nvidia_uvm nvidia
 *   ResetMethod=bus
 *   IdleD3cold=no
 *   AskHolders=yes
 *
 * Drivers= the host drivers it is for; Nodes= device nodes (glob patterns
 * under /dev) whose holders make such a device busy, beyond the device's
 * own; StopUnits= systemd units stopped for the claim and started again
 * after the release; UnloadModules= modules unloaded after the unbind (as
 * far as nothing else uses them) and loaded before the rebind; ResetMethod=
 * the reset before the rebind (a word of the kernel's reset_method, or
 * "none"); IdleD3cold=no keeps the device out of D3cold while vfio-pci
 * holds it (some GPUs do not wake from it); AskHolders=yes has the
 * processes that hold the device's nodes (or Nodes=) asked to close them
 * (SIGTERM) when they would make the claim busy, never killed. Lists are space-separated. A line not understood is logged and
 * skipped; a profile without Drivers= is skipped whole. */

typedef struct Profile {
        char *name; /* the file's name without .conf */
        char **drivers;
        char **nodes;
        char **stop_units;
        char **unload_modules;
        char *reset_method; /* NULL: the kernel's choice */
        bool no_idle_d3cold; /* IdleD3cold=no */
        bool ask_holders;    /* AskHolders=yes */
} Profile;

typedef struct ProfileSet {
        Profile *profiles;
        size_t n;
} ProfileSet;

/* dirs[] from the lowest precedence up: the shipped one, then the
 * administrator's. Missing directories are empty. */
int profile_set_load(const char *const *dirs, size_t n_dirs, ProfileSet **ret);
ProfileSet *profile_set_free(ProfileSet *s);
static inline void profile_set_freep(ProfileSet **s)
{
        profile_set_free(*s);
}

/* The profile for devices on driver, or NULL. */
const Profile *profile_set_find(const ProfileSet *s, const char *driver);

/* One line into p; -EINVAL with *ret_reason set when it is wrong. */
int profile_parse_line(Profile *p, const char *line, const char **ret_reason);
void profile_done(Profile *p);

/* The names a profile may use, which also go into claim records. */
bool profile_unit_name_valid(const char *s);
bool profile_module_name_valid(const char *s);
