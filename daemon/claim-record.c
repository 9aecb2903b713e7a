/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "claim-record.h"
#include "fs-util.h"
#include "macro.h"
#include "number.h"
#include "profile.h"
#include "strv.h"

#define RECORD_MAGIC "vfiod-claim-record 1"
#define RECORD_PREFIX "group-"
#define NONE "-" /* no driver, no override */
#define HOST_CHOICE "*" /* whichever driver the kernel finds */

static const char *const phase_names[_CLAIM_PHASE_MAX] = {
        [CLAIM_PHASE_CLAIMING] = "claiming",
        [CLAIM_PHASE_CLAIMED] = "claimed",
        [CLAIM_PHASE_RELEASING] = "releasing",
        [CLAIM_PHASE_REFRESHING] = "refreshing",
};

const char *claim_phase_to_string(ClaimPhase p)
{
        return p < _CLAIM_PHASE_MAX ? phase_names[p] : NULL;
}

int claim_record_new(int group, ClaimRecord **ret)
{
        ClaimRecord *r = calloc(1, sizeof(*r));

        if (!r)
                return -ENOMEM;
        r->group = group;
        *ret = r;
        return 0;
}

ClaimRecord *claim_record_free(ClaimRecord *r)
{
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n_devices; i++) {
                free(r->devices[i].driver);
                free(r->devices[i].driver_override);
        }
        free(r->devices);
        free(r->lease);
        strv_free(r->stopped_units);
        strv_free(r->unloaded_modules);
        free(r);
        return NULL;
}

/* A value that fits a line of the record: 1 to max - 1 printable ASCII
 * characters. */
static bool is_line_value(const char *s, size_t max)
{
        size_t n = strlen(s);

        if (n == 0 || n >= max)
                return false;
        for (size_t i = 0; i < n; i++)
                if (s[i] < ' ' || s[i] > '~')
                        return false;
        return true;
}

int claim_record_set_lease(ClaimRecord *r, const char *lease)
{
        char *copy = NULL;

        if (lease && !is_line_value(lease, CLAIM_RECORD_LEASE_MAX))
                return -EINVAL;
        if (lease && !(copy = strdup(lease)))
                return -ENOMEM;
        free(r->lease);
        r->lease = copy;
        return 0;
}

/* Kernel driver names: letters, digits, '_', '-', '.'. */
static bool driver_name_is_valid(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n >= CLAIM_RECORD_DRIVER_MAX || streq(s, NONE) || streq(s, HOST_CHOICE) || streq(s, ".") ||
            streq(s, ".."))
                return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") == n;
}

static int dup_driver(const char *s, char **ret)
{
        *ret = NULL;
        if (!s)
                return 0;
        if (!driver_name_is_valid(s))
                return -EINVAL;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

int claim_record_add_device(ClaimRecord *r, const char *address, const char *driver, const char *driver_override)
{
        ClaimedDevice *a, *d;

        if (r->n_devices >= CLAIM_RECORD_MAX_DEVICES)
                return -E2BIG;
        a = reallocarray(r->devices, r->n_devices + 1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        r->devices = a;
        d = &a[r->n_devices];
        *d = (ClaimedDevice){};
        if (pci_address_normalize(address, d->address) < 0 || !streq(address, d->address) ||
            claim_record_find_device(r, d->address))
                return -EINVAL;
        if (dup_driver(driver, &d->driver) < 0 || dup_driver(driver_override, &d->driver_override) < 0) {
                free(d->driver);
                return -EINVAL;
        }
        r->n_devices++;
        return 0;
}

int claimed_device_set_original(ClaimedDevice *d, char *driver, char *driver_override)
{
        free(d->driver);
        free(d->driver_override);
        d->driver = driver;
        d->driver_override = driver_override;
        if ((driver && !driver_name_is_valid(driver)) || (driver_override && !driver_name_is_valid(driver_override)))
                return -EINVAL;
        return 0;
}

int claim_record_set_firmware_fb(ClaimRecord *r, const char *device, const char *driver)
{
        if (!device && !driver) {
                r->firmware_fb_device[0] = r->firmware_fb_driver[0] = '\0';
                return 0;
        }
        if (!device || !driver || !firmware_fb_device_name_valid(device) || !driver_name_is_valid(driver) ||
            strlen(driver) >= sizeof(r->firmware_fb_driver))
                return -EINVAL;
        strcpy(r->firmware_fb_device, device);
        strcpy(r->firmware_fb_driver, driver);
        return 0;
}

static int add_name(char ***l, size_t *n, const char *name, bool (*valid)(const char *))
{
        if (!valid(name))
                return -EINVAL;
        return strv_contains(*l, *n, name) ? 0 : strv_push(l, n, strdup(name));
}

int claim_record_add_stopped_unit(ClaimRecord *r, const char *unit)
{
        return add_name(&r->stopped_units, &r->n_stopped_units, unit, profile_unit_name_valid);
}

int claim_record_add_unloaded_module(ClaimRecord *r, const char *module)
{
        return add_name(&r->unloaded_modules, &r->n_unloaded_modules, module, profile_module_name_valid);
}

void claim_record_drop_last_unloaded_module(ClaimRecord *r)
{
        if (r->n_unloaded_modules == 0)
                return;
        free(r->unloaded_modules[--r->n_unloaded_modules]);
        r->unloaded_modules[r->n_unloaded_modules] = NULL;
}

static const char *recorded_driver(const ClaimedDevice *d)
{
        return d->host_choice ? HOST_CHOICE : d->driver ?: NONE;
}

int claim_record_format(const ClaimRecord *r, char **ret)
{
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        if (!f)
                return -ENOMEM;
        fprintf(f, RECORD_MAGIC "\ngroup %d\nphase %s\nstep %s\n", r->group, claim_phase_to_string(r->phase),
                r->step[0] ? r->step : NONE);
        if (r->lease)
                fprintf(f, "lease %s\n", r->lease);
        if (r->reserved)
                fprintf(f, "reserved\n");
        if (r->lease_ended_open)
                fprintf(f, "lease-ended-open\n");
        for (size_t i = 0; i < r->n_devices; i++)
                fprintf(f, "device %s %s %s\n", r->devices[i].address, recorded_driver(&r->devices[i]),
                        r->devices[i].driver_override ?: NONE);
        if (r->firmware_fb_device[0])
                fprintf(f, "firmware-fb %s %s\n", r->firmware_fb_device, r->firmware_fb_driver);
        for (size_t i = 0; i < r->n_stopped_units; i++)
                fprintf(f, "stopped-unit %s\n", r->stopped_units[i]);
        for (size_t i = 0; i < r->n_unloaded_modules; i++)
                fprintf(f, "unloaded-module %s\n", r->unloaded_modules[i]);
        for (size_t i = 0; i < r->n_devices; i++)
                if (r->devices[i].d3cold_off)
                        fprintf(f, "d3cold-off %s\n", r->devices[i].address);
        for (size_t i = 0; i < r->n_devices; i++)
                if (r->devices[i].reset_methods[0])
                        fprintf(f, "reset-methods %s %s\n", r->devices[i].address, r->devices[i].reset_methods);
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(text);
        return 0;
}

static int parse_phase(const char *s, ClaimPhase *ret)
{
        int p = string_table_lookup(phase_names, _CLAIM_PHASE_MAX, s);

        if (p < 0)
                return p;
        *ret = p;
        return 0;
}

/* "ADDRESS DRIVER OVERRIDE", one space apart, where "-" stands for none
 * and a driver "*" for the host's choice (with no override). */
static int parse_device(ClaimRecord *r, char *s)
{
        char *address = strsep(&s, " "), *driver = strsep(&s, " "), *override = strsep(&s, " ");
        bool host_choice;
        int e;

        if (!address || !driver || !override || s || !*driver || !*override)
                return -EINVAL;
        host_choice = streq(driver, HOST_CHOICE);
        if (host_choice && !streq(override, NONE))
                return -EINVAL;
        e = claim_record_add_device(r, address, streq(driver, NONE) || host_choice ? NULL : driver,
                                    streq(override, NONE) ? NULL : override);
        if (e >= 0)
                r->devices[r->n_devices - 1].host_choice = host_choice;
        return e;
}

static int parse_step(ClaimRecord *r, const char *s)
{
        if (!is_line_value(s, sizeof(r->step))) /* no step is written "-" */
                return -EINVAL;
        strcpy(r->step, streq(s, NONE) ? "" : s);
        return 0;
}

/* "DEVICE DRIVER" */
static int parse_firmware_fb(ClaimRecord *r, char *s)
{
        char *device = strsep(&s, " "), *driver = strsep(&s, " ");

        if (!device || !driver || s)
                return -EINVAL;
        return claim_record_set_firmware_fb(r, device, driver);
}

/* The steps appended since the record was saved whole. */
static bool is_appended_step(const ClaimRecord *r, size_t lineno, const char *line)
{
        return lineno > 3 && r->n_devices > 0 && strncmp(line, "step ", 5) == 0;
}

ClaimedDevice *claim_record_find_device(const ClaimRecord *r, const char *address)
{
        for (size_t i = 0; i < r->n_devices; i++)
                if (streq(r->devices[i].address, address))
                        return &r->devices[i];
        return NULL;
}

static int parse_d3cold_off(ClaimRecord *r, const char *address)
{
        ClaimedDevice *d = claim_record_find_device(r, address);

        if (!d || d->d3cold_off)
                return -EINVAL;
        d->d3cold_off = true;
        return 0;
}

static bool is_reset_methods(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n >= CLAIM_RECORD_RESET_METHODS_MAX || s[0] == ' ' || s[n - 1] == ' ' || strstr(s, "  "))
                return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyz_ ") == n;
}

int claimed_device_set_reset_methods(ClaimedDevice *d, const char *methods)
{
        if (methods[0] && !is_reset_methods(methods))
                return -EINVAL;
        strcpy(d->reset_methods, methods);
        return 0;
}

static bool any_reset_methods(const ClaimRecord *r)
{
        for (size_t i = 0; i < r->n_devices; i++)
                if (r->devices[i].reset_methods[0])
                        return true;
        return false;
}

/* "ADDRESS METHOD..." */
static int parse_reset_methods(ClaimRecord *r, char *s)
{
        ClaimedDevice *d = claim_record_find_device(r, strsep(&s, " "));

        if (!d || d->reset_methods[0] || !s || !*s)
                return -EINVAL;
        return claimed_device_set_reset_methods(d, s);
}

void claim_record_clear_stopped_units(ClaimRecord *r)
{
        strv_free(r->stopped_units);
        r->stopped_units = NULL;
        r->n_stopped_units = 0;
}

void claim_record_clear_unloaded_modules(ClaimRecord *r)
{
        strv_free(r->unloaded_modules);
        r->unloaded_modules = NULL;
        r->n_unloaded_modules = 0;
}

bool claim_record_any_d3cold_off(const ClaimRecord *r)
{
        for (size_t i = 0; i < r->n_devices; i++)
                if (r->devices[i].d3cold_off)
                        return true;
        return false;
}

/* What the claim did beside the devices, after them: at most one
 * firmware framebuffer, then the units stopped, then the modules unloaded,
 * then the devices kept out of D3cold, then the reset methods a release
 * narrowed. */
static int parse_handoff(ClaimRecord *r, char *line)
{
        if (strncmp(line, "reset-methods ", 14) == 0)
                return parse_reset_methods(r, line + 14);
        if (any_reset_methods(r))
                return -EINVAL;
        if (strncmp(line, "d3cold-off ", 11) == 0)
                return parse_d3cold_off(r, line + 11);
        if (claim_record_any_d3cold_off(r))
                return -EINVAL;
        if (strncmp(line, "firmware-fb ", 12) == 0 && !r->firmware_fb_device[0] && r->n_stopped_units == 0 &&
            r->n_unloaded_modules == 0)
                return parse_firmware_fb(r, line + 12);
        if (strncmp(line, "stopped-unit ", 13) == 0 && r->n_unloaded_modules == 0)
                return claim_record_add_stopped_unit(r, line + 13);
        if (strncmp(line, "unloaded-module ", 16) == 0)
                return claim_record_add_unloaded_module(r, line + 16);
        return -EINVAL;
}

static bool is_handoff_line(const char *line)
{
        return strncmp(line, "firmware-fb ", 12) == 0 || strncmp(line, "stopped-unit ", 13) == 0 ||
               strncmp(line, "unloaded-module ", 16) == 0 || strncmp(line, "d3cold-off ", 11) == 0 ||
               strncmp(line, "reset-methods ", 14) == 0;
}

/* Each line is "KEY VALUE"; group, phase and step come once, in that order,
 * after the magic line; then at most one lease, then "reserved" or not,
 * then "lease-ended-open" (never with a lease) or not, then the devices,
 * then what the hand-off did beside them, then the steps appended
 * (*appending once the first has come). */
static int parse_line(ClaimRecord *r, size_t lineno, char *line, bool *appending)
{
        static const char *const keys[] = { "group ", "phase ", "step " };
        const char *want;
        char *value;

        if (lineno == 0)
                return streq(line, RECORD_MAGIC) ? 0 : -EINVAL;
        if (is_appended_step(r, lineno, line)) {
                *appending = true;
                return parse_step(r, line + 5);
        }
        if (*appending)
                return -EINVAL;
        if (r->n_devices > 0 && is_handoff_line(line))
                return parse_handoff(r, line);
        if (r->firmware_fb_device[0] || r->n_stopped_units > 0 || r->n_unloaded_modules > 0 ||
            claim_record_any_d3cold_off(r) || any_reset_methods(r))
                return -EINVAL; /* nothing else after them */
        if (lineno > 3 && !r->lease && !r->reserved && !r->lease_ended_open && r->n_devices == 0 &&
            strncmp(line, "lease ", 6) == 0)
                return claim_record_set_lease(r, line + 6);
        if (lineno > 3 && !r->reserved && !r->lease_ended_open && r->n_devices == 0 && streq(line, "reserved")) {
                r->reserved = true;
                return 0;
        }
        if (lineno > 3 && !r->lease && !r->lease_ended_open && r->n_devices == 0 &&
            streq(line, "lease-ended-open")) {
                r->lease_ended_open = true;
                return 0;
        }
        want = lineno <= 3 ? keys[lineno - 1] : "device ";
        if (strncmp(line, want, strlen(want)) != 0)
                return -EINVAL;
        value = line + strlen(want);
        switch (lineno) {
        case 1:
                return parse_group_id(value, &r->group);
        case 2:
                return parse_phase(value, &r->phase);
        case 3:
                return parse_step(r, value);
        default:
                return parse_device(r, value);
        }
}

/* A last line without its newline: a step whose append a crash cut short
 * (a record saved whole is never cut: it is renamed into place). */
static bool is_cut_step(const char *line)
{
        size_t n = strlen(line);
        return n > 0 && strncmp(line, "step ", n < 5 ? n : 5) == 0;
}

int claim_record_parse(const char *text, ClaimRecord **ret)
{
        _cleanup_(claim_record_freep) ClaimRecord *r = NULL;
        _cleanup_free_ char *copy = strdup(text);
        char *rest = copy, *line;
        size_t lineno = 0;
        bool appending = false;
        int e;

        if (!copy)
                return -ENOMEM;
        e = claim_record_new(-1, &r);
        if (e < 0)
                return e;
        while ((line = strsep(&rest, "\n")) && rest) {
                e = parse_line(r, lineno++, line, &appending);
                if (e < 0)
                        return e == -ENOMEM ? e : -EINVAL;
        }
        if (lineno < 4)
                return -EINVAL;
        /* Every line ends in a newline, but for an appended step cut short. */
        if (line[0] != '\0' && !(r->n_devices > 0 && is_cut_step(line)))
                return -EINVAL;
        *ret = TAKE_PTR(r);
        return 0;
}

static void record_name(int group, char *buf, size_t size)
{
        snprintf(buf, size, RECORD_PREFIX "%d", group);
}

int claim_record_save(int dir_fd, const ClaimRecord *r, int *ret_fd)
{
        _cleanup_free_ char *text = NULL;
        char name[32];
        int e;

        e = claim_record_format(r, &text);
        if (e < 0)
                return e;
        record_name(r->group, name, sizeof(name));
        return write_file_atomic(dir_fd, name, text, 0600, ret_fd);
}

int claim_record_append_step(int fd, const ClaimRecord *r)
{
        char line[sizeof("step \n") + CLAIM_RECORD_STEP_MAX];
        int n = snprintf(line, sizeof(line), "step %s\n", r->step[0] ? r->step : NONE);

        errno = 0;
        if (write(fd, line, n) != n)
                return errno > 0 ? -errno : -EIO;
        return fdatasync(fd) < 0 ? -errno : 0;
}

int claim_record_load(int dir_fd, int group, ClaimRecord **ret)
{
        _cleanup_(claim_record_freep) ClaimRecord *r = NULL;
        _cleanup_free_ char *text = NULL;
        char name[32];
        int fd, e;

        record_name(group, name, sizeof(name));
        fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        errno = 0; /* an empty file sets none */
        text = read_full_fd(fd);
        if (!text)
                return errno > 0 ? -errno : -EIO;
        e = claim_record_parse(text, &r);
        if (e < 0)
                return e;
        /* The name says which group the engine takes it up for; the
         * record, which group its steps save. They must agree. */
        if (r->group != group)
                return -EINVAL;
        *ret = TAKE_PTR(r);
        return 0;
}

int claim_record_exists(int dir_fd, int group)
{
        char name[32];

        record_name(group, name, sizeof(name));
        if (faccessat(dir_fd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return 1;
        return errno == ENOENT ? 0 : -errno;
}

int claim_record_remove(int dir_fd, int group)
{
        char name[32];

        record_name(group, name, sizeof(name));
        if (unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT)
                return -errno;
        return fsync(dir_fd) < 0 ? -errno : 0;
}

static int compare_ints(const void *a, const void *b)
{
        return *(const int *)a - *(const int *)b;
}

int claim_record_list(int dir_fd, int **ret, size_t *n)
{
        _cleanup_free_ int *ids = NULL;
        size_t count = 0;
        struct dirent *de;
        DIR *dir;
        int id, r = open_dir_at(dir_fd, ".", &dir);

        if (r < 0)
                return r;
        while ((r = read_dir_entry(dir, &de)) > 0) {
                int *a;
                if (strncmp(de->d_name, RECORD_PREFIX, strlen(RECORD_PREFIX)) != 0 ||
                    parse_group_id(de->d_name + strlen(RECORD_PREFIX), &id) < 0)
                        continue;
                a = reallocarray(ids, count + 1, sizeof(*a));
                if (!a) {
                        closedir(dir);
                        return -ENOMEM;
                }
                ids = a;
                ids[count++] = id;
        }
        closedir(dir);
        if (r < 0)
                return r;
        if (count > 0)
                qsort(ids, count, sizeof(*ids), compare_ints);
        *ret = TAKE_PTR(ids);
        *n = count;
        return 0;
}
