/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-file.h"
#include "fs-util.h"
#include "log.h"
#include "macro.h"
#include "profile.h"
#include "reset-method.h"
#include "strv.h"

#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

static bool made_of(const char *s, const char *chars, size_t max)
{
        size_t n = strlen(s);
        return n > 0 && n < max && strspn(s, chars) == n;
}

/* systemd's unit names: letters, digits, ":-_.\@", and a type suffix. */
bool profile_unit_name_valid(const char *s)
{
        const char *dot = strrchr(s, '.');
        return made_of(s, ALNUM ":-_.\\@", 256) && s[0] != '.' && s[0] != '-' && dot && dot != s && dot[1];
}

bool profile_module_name_valid(const char *s)
{
        return made_of(s, ALNUM "_-", 64) && s[0] != '-';
}

static bool driver_name_valid(const char *s)
{
        return made_of(s, ALNUM "_-.", 64) && !streq(s, ".") && !streq(s, "..");
}

/* A glob under /dev. ("/dev/.." gets through, harmlessly: only character
 * and block devices among its matches are watched.) */
static bool node_pattern_valid(const char *s)
{
        return strncmp(s, "/dev/", 5) == 0 && s[5] && !strstr(s, "/../") && !strstr(s, "/./") &&
               strlen(s) < PATH_MAX && strcspn(s, " \t\n") == strlen(s);
}

/* The space-separated words of value into *ret, each passing valid. */
static int parse_list(const char *value, bool (*valid)(const char *), char ***ret)
{
        _cleanup_free_ char *copy = strdup(value);
        char **l = NULL, *word, *rest = copy;
        size_t n = 0;
        int r = 0;

        if (!copy)
                return -ENOMEM;
        while (r >= 0 && (word = strsep(&rest, " \t")))
                if (word[0])
                        r = valid(word) ? strv_push(&l, &n, strdup(word)) : -EINVAL;
        if (r < 0 || n == 0) {
                strv_free(l);
                return r < 0 ? r : -EINVAL;
        }
        strv_free(*ret);
        *ret = l;
        return 0;
}

static int parse_reset_method(const char *value, char **ret)
{
        ResetMethod m;

        if (!streq(value, RESET_NEVER) && reset_method_from_string(value, &m) < 0)
                return -EINVAL;
        free(*ret);
        *ret = strdup(value);
        return *ret ? 0 : -ENOMEM;
}

/* "yes" or "no" into *ret, inverted when invert is set. */
static int parse_yes_no(const char *value, bool *ret, bool invert)
{
        bool yes = streq(value, "yes");

        if (!yes && !streq(value, "no"))
                return -EINVAL;
        *ret = yes != invert;
        return 0;
}

int profile_parse_line(Profile *p, const char *line, const char **ret_reason)
{
        static const struct {
                const char *key;
                bool (*valid)(const char *);
                size_t offset;
                const char *reason;
        } lists[] = {
                { "Drivers=", driver_name_valid, offsetof(Profile, drivers), "Drivers= takes driver names" },
                { "Nodes=", node_pattern_valid, offsetof(Profile, nodes), "Nodes= takes patterns under /dev/" },
                { "StopUnits=", profile_unit_name_valid, offsetof(Profile, stop_units),
                  "StopUnits= takes unit names such as display-manager.service" },
                { "UnloadModules=", profile_module_name_valid, offsetof(Profile, unload_modules),
                  "UnloadModules= takes module names" },
        };
        int r;

        line += strspn(line, " \t");
        if (*line == '\0' || *line == '#')
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(lists); i++) {
                size_t n = strlen(lists[i].key);
                if (strncmp(line, lists[i].key, n) != 0)
                        continue;
                r = parse_list(line + n, lists[i].valid, (char ***)((char *)p + lists[i].offset));
                if (r == -EINVAL)
                        *ret_reason = lists[i].reason;
                return r;
        }
        if (strncmp(line, "ResetMethod=", 12) == 0) {
                r = parse_reset_method(line + 12, &p->reset_method);
                if (r == -EINVAL)
                        *ret_reason = "ResetMethod= takes flr, af_flr, pm, bus, acpi, device_specific, cxl_bus "
                                      "or none";
                return r;
        }
        if (strncmp(line, "IdleD3cold=", 11) == 0) {
                r = parse_yes_no(line + 11, &p->no_idle_d3cold, true);
                if (r < 0)
                        *ret_reason = "IdleD3cold= takes yes or no";
                return r;
        }
        if (strncmp(line, "AskHolders=", 11) == 0) {
                r = parse_yes_no(line + 11, &p->ask_holders, false);
                if (r < 0)
                        *ret_reason = "AskHolders= takes yes or no";
                return r;
        }
        *ret_reason = "unknown setting: the known ones are Drivers=, Nodes=, StopUnits=, UnloadModules=, "
                      "ResetMethod=, IdleD3cold=, AskHolders=";
        return -EINVAL;
}

void profile_done(Profile *p)
{
        free(p->name);
        strv_free(p->drivers);
        strv_free(p->nodes);
        strv_free(p->stop_units);
        strv_free(p->unload_modules);
        free(p->reset_method);
        *p = (Profile){};
}

static int parse_profile_line(const char *line, unsigned lineno, void *userdata, const char **ret_reason)
{
        return profile_parse_line(userdata, line, ret_reason);
}

/* Reads path into *p; an empty file leaves it without drivers (masked). */
static int load_file(const char *path, Profile *p)
{
        int lines = config_file_read(path, "line skipped", parse_profile_line, p);

        /* Empty, it masks a shipped profile of its name; otherwise it means
         * something for some driver. */
        if (lines > 0 && !p->drivers)
                log_warning("%s: no Drivers=: the profile applies to no device.", path);
        return lines < 0 ? lines : 0;
}

static Profile *find_named(ProfileSet *s, const char *name)
{
        for (size_t i = 0; i < s->n; i++)
                if (streq(s->profiles[i].name, name))
                        return &s->profiles[i];
        return NULL;
}

static int load_dir(ProfileSet *s, const char *dir)
{
        struct dirent **names;
        int n = list_conf_files(dir, &names), r = 0;

        for (int i = 0; r >= 0 && i < n; i++) {
                char path[PATH_MAX];
                Profile p = { .name = strndup(names[i]->d_name, strlen(names[i]->d_name) - 5) }, *slot;

                if (!p.name) {
                        r = -ENOMEM;
                        break;
                }
                snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
                r = load_file(path, &p);
                slot = r >= 0 ? find_named(s, p.name) : NULL;
                if (r >= 0 && !slot) {
                        Profile *a = reallocarray(s->profiles, s->n + 1, sizeof(*a));
                        if (a) {
                                s->profiles = a;
                                slot = &a[s->n++];
                                *slot = (Profile){};
                        } else
                                r = -ENOMEM;
                }
                if (slot) {
                        profile_done(slot); /* the later directory's file replaces it */
                        *slot = p;
                } else
                        profile_done(&p);
        }
        free_dirents(names, n < 0 ? 0 : n);
        return n < 0 ? n : r;
}

int profile_set_load(const char *const *dirs, size_t n_dirs, ProfileSet **ret)
{
        _cleanup_(profile_set_freep) ProfileSet *s = calloc(1, sizeof(*s));
        int r = 0;

        if (!s)
                return -ENOMEM;
        for (size_t i = 0; r >= 0 && i < n_dirs; i++) {
                r = load_dir(s, dirs[i]);
                if (r < 0 && r != -ENOMEM) {
                        log_warning("Cannot read the profiles in %s: %s; they are skipped.", dirs[i], strerror(-r));
                        r = 0;
                }
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

ProfileSet *profile_set_free(ProfileSet *s)
{
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n; i++)
                profile_done(&s->profiles[i]);
        free(s->profiles);
        free(s);
        return NULL;
}

const Profile *profile_set_find(const ProfileSet *s, const char *driver)
{
        if (!s || !driver)
                return NULL;
        for (size_t i = 0; i < s->n; i++)
                for (char **d = s->profiles[i].drivers; d && *d; d++)
                        if (streq(*d, driver))
                                return &s->profiles[i];
        return NULL;
}
