/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "number.h"
#include "reservation.h"

#define LINE_MAX_CHARS 512
#define WHITESPACE " \t"

static int fail(const char **ret_reason, const char *reason)
{
        if (ret_reason)
                *ret_reason = reason;
        return -EINVAL;
}

/* Four hex digits at s. */
static int parse_id_field(const char *s, uint16_t *ret)
{
        uint32_t v;
        int r = parse_hex_fixed(s, 4, &v);

        if (r >= 0)
                *ret = (uint16_t)v;
        return r;
}

/* "VVVV:DDDD" or "VVVV:DDDD:SSSS:SSSS", n characters at s. */
static int parse_id(const char *s, size_t n, ReservationMatch *m)
{
        if ((n != 9 && n != 19) || s[4] != ':' || parse_id_field(s, &m->vendor) < 0 ||
            parse_id_field(s + 5, &m->device) < 0)
                return -EINVAL;
        if (n == 19 && (s[9] != ':' || s[14] != ':' || parse_id_field(s + 10, &m->subvendor) < 0 ||
                        parse_id_field(s + 15, &m->subdevice) < 0))
                return -EINVAL;
        m->has_id = true;
        m->has_subsystem = n == 19;
        return 0;
}

/* "SS.F" behind a bridge, n characters at s: slot 00-1f, function 0-7. */
static int parse_slot_function(const char *s, size_t n, char out[static 5])
{
        uint32_t slot;

        if (n != 4 || s[2] != '.' || s[3] < '0' || s[3] > '7' || parse_hex_fixed(s, 2, &slot) < 0 || slot > 0x1f)
                return -EINVAL;
        return snprintf(out, 5, "%02x.%c", slot, s[3]) == 4 ? 0 : -EINVAL;
}

/* "[DDDD:]BB:SS.F/SS.F[/SS.F...]" */
static int parse_path(const char *s, ReservationMatch *m)
{
        const char *slash = strchr(s, '/');
        char root[PCI_ADDRESS_STRING_MAX * 2], *out = m->path;
        size_t depth = 0;

        if (!slash || (size_t)(slash - s) >= sizeof(root))
                return -EINVAL;
        memcpy(root, s, (size_t)(slash - s));
        root[slash - s] = '\0';
        if (pci_address_normalize(root, out) < 0)
                return -EINVAL;
        out += strlen(out);
        while (slash) {
                const char *p = slash + 1;
                slash = strchr(p, '/');
                if (++depth > RESERVATION_PATH_DEPTH_MAX)
                        return -EINVAL;
                *out++ = '/';
                if (parse_slot_function(p, slash ? (size_t)(slash - p) : strlen(p), out) < 0)
                        return -EINVAL;
                out += 4;
        }
        *out = '\0';
        m->has_path = true;
        return 0;
}

/* An address or a path: where a device sits. */
static int parse_location(const char *s, ReservationMatch *m)
{
        if (strchr(s, '/'))
                return parse_path(s, m);
        if (pci_address_normalize(s, m->address) < 0)
                return -EINVAL;
        m->has_address = true;
        return 0;
}

int reservation_match_parse(const char *text, ReservationMatch *ret, const char **ret_reason)
{
        ReservationMatch m = {};
        const char *at;

        if (!text || !*text)
                return fail(ret_reason, "the match is empty");
        if (strlen(text) >= RESERVATION_MATCH_STRING_MAX)
                return fail(ret_reason, "the match is too long");
        at = strchr(text, '@');
        if (at) {
                if (parse_id(text, (size_t)(at - text), &m) < 0)
                        return fail(ret_reason, "before '@' comes a PCI id: VENDOR:DEVICE[:SUBVENDOR:SUBDEVICE], "
                                                "four hex digits each");
                if (parse_location(at + 1, &m) < 0)
                        return fail(ret_reason, "after '@' comes a PCI address (0000:01:00.0) or a physical path "
                                                "(0000:00:1c.0/00.0)");
        } else if (strchr(text, '/')) {
                if (parse_path(text, &m) < 0)
                        return fail(ret_reason, "a physical path is a PCI address on the root bus, then "
                                                "SLOT.FUNCTION behind each bridge: 0000:00:1c.0/00.0");
        } else if (strchr(text, '.')) {
                if (parse_location(text, &m) < 0)
                        return fail(ret_reason, "a PCI address looks like 0000:01:00.0 or 01:00.0");
        } else if (parse_id(text, strlen(text), &m) < 0)
                return fail(ret_reason, "expected a PCI address (0000:01:00.0), a physical path "
                                        "(0000:00:1c.0/00.0) or an id (10de:1b80[:SUBVENDOR:SUBDEVICE], "
                                        "optionally @ADDRESS)");
        *ret = m;
        return 0;
}

char *reservation_match_format(const ReservationMatch *m, char buf[static RESERVATION_MATCH_STRING_MAX])
{
        char id[20] = "";
        const char *location = m->has_path ? m->path : m->has_address ? m->address : "";

        if (m->has_id && m->has_subsystem)
                snprintf(id, sizeof(id), "%04x:%04x:%04x:%04x", m->vendor, m->device, m->subvendor, m->subdevice);
        else if (m->has_id)
                snprintf(id, sizeof(id), "%04x:%04x", m->vendor, m->device);
        if (snprintf(buf, RESERVATION_MATCH_STRING_MAX, "%s%s%s", id, id[0] && location[0] ? "@" : "", location) >=
            RESERVATION_MATCH_STRING_MAX)
                buf[0] = '\0'; /* cannot happen: the sizes add up */
        return buf;
}

bool reservation_match_equal(const ReservationMatch *a, const ReservationMatch *b)
{
        char x[RESERVATION_MATCH_STRING_MAX], y[RESERVATION_MATCH_STRING_MAX];

        return streq(reservation_match_format(a, x), reservation_match_format(b, y));
}

bool reservation_matches(const ReservationMatch *m, const PciIdentity *d)
{
        if (m->has_id && (m->vendor != d->vendor || m->device != d->device))
                return false;
        if (m->has_subsystem && (m->subvendor != d->subvendor || m->subdevice != d->subdevice))
                return false;
        if (m->has_address && !streq(m->address, d->address))
                return false;
        if (m->has_path && (!d->path || !streq(m->path, d->path)))
                return false;
        return m->has_id || m->has_address || m->has_path;
}

/* POSIX-portable names, as useradd takes them, with "@" for a group. */
bool reservation_owner_is_valid(const char *owner)
{
        const char *name = owner[0] == '@' ? owner + 1 : owner;
        size_t n = strlen(name);

        if (n == 0 || n >= RESERVATION_OWNER_MAX - 1 || name[0] == '-' || (name[0] >= '0' && name[0] <= '9'))
                return false;
        return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

#define NSS_BUFFER_MAX (64 * 1024 * 1024) /* a directory group of many thousand members */

/* What getpwnam_r() and getgrnam_r() return: 0 with or without an entry,
 * or an errno, of which these too may mean "not found" (getpwnam(3)). */
static int not_found_as_esrch(int e, bool found)
{
        if (e == 0)
                return found ? 0 : ESRCH;
        return e == ENOENT || e == EBADF || e == EPERM ? ESRCH : e;
}

/* getpwnam_r() and getgrnam_r(), not their static-buffer twins: the
 * daemon looks owners up in worker threads. Each returns 0 with the id in
 * *ret, ESRCH when nobody has the name, or another errno. */
static int user_id(const char *name, char *buf, size_t size, unsigned *ret)
{
        struct passwd pw, *found = NULL;
        int e = getpwnam_r(name, &pw, buf, size, &found);

        e = not_found_as_esrch(e, found);
        if (e == 0)
                *ret = found->pw_uid;
        return e;
}

static int group_id(const char *name, char *buf, size_t size, unsigned *ret)
{
        struct group gr, *found = NULL;
        int e = getgrnam_r(name, &gr, buf, size, &found);

        e = not_found_as_esrch(e, found);
        if (e == 0)
                *ret = found->gr_gid;
        return e;
}

/* lookup() with a buffer that grows until the entry fits; -errno. */
static int look_up_id(int (*lookup)(const char *, char *, size_t, unsigned *), const char *name, unsigned *ret)
{
        int e = ERANGE;

        for (size_t size = 1024; e == ERANGE && size <= NSS_BUFFER_MAX; size *= 2) {
                _cleanup_free_ char *buf = malloc(size);

                if (!buf)
                        return -ENOMEM;
                e = lookup(name, buf, size, ret);
        }
        return -e;
}

int reservation_owner_resolve(const char *owner, uid_t *uid, gid_t *gid, mode_t *mode)
{
        unsigned id = 0;
        int r = 0;

        *uid = 0, *gid = 0, *mode = 0600;
        if (owner[0] == '@')
                r = look_up_id(group_id, owner + 1, &id);
        else if (owner[0])
                r = look_up_id(user_id, owner, &id);
        if (r < 0)
                return r;
        if (owner[0] == '@')
                *gid = id, *mode = 0660;
        else
                *uid = id;
        return 0;
}

static int parse_owner(const char *token, Reservation *r, const char **ret_reason)
{
        if (strncmp(token, "owner=", 6) != 0)
                return fail(ret_reason, "after the match only 'owner=USER' or 'owner=@GROUP' may follow");
        if (r->owner[0])
                return fail(ret_reason, "'owner=' is given twice");
        if (!reservation_owner_is_valid(token + 6))
                return fail(ret_reason, "'owner=' takes a user name or @ and a group name");
        snprintf(r->owner, sizeof(r->owner), "%s", token + 6);
        return 0;
}

int reservation_parse_line(const char *line, Reservation *ret, const char **ret_reason)
{
        _cleanup_free_ char *copy = NULL;
        char *rest, *token, *comment;
        Reservation r = {};
        int e;

        if (strlen(line) > LINE_MAX_CHARS)
                return fail(ret_reason, "the line is longer than 512 characters");
        copy = strdup(line);
        if (!copy)
                return -ENOMEM;
        comment = strchr(copy, '#');
        if (comment)
                *comment = '\0';
        rest = copy;
        token = strtok_r(rest, WHITESPACE "\r", &rest);
        if (!token)
                return 0;
        e = reservation_match_parse(token, &r.match, ret_reason);
        if (e < 0)
                return e;
        while ((token = strtok_r(NULL, WHITESPACE "\r", &rest)))
                if ((e = parse_owner(token, &r, ret_reason)) < 0)
                        return e;
        *ret = r;
        return 1;
}

int reservation_format_line(const Reservation *r, char **ret)
{
        char match[RESERVATION_MATCH_STRING_MAX];

        reservation_match_format(&r->match, match);
        if (asprintf(ret, "%s%s%s", match, r->owner[0] ? " owner=" : "", r->owner) < 0)
                return -ENOMEM;
        return 0;
}

int reservation_physical_path(const char *syspath, char buf[static RESERVATION_MATCH_STRING_MAX])
{
        _cleanup_free_ char *copy = strdup(syspath);
        char *rest = copy, *component, *out = buf;
        PciAddress a;
        size_t depth = 0;

        if (!copy)
                return -ENOMEM;
        if (strncmp(syspath, "/sys/devices/", 13) != 0)
                return -EINVAL;
        while ((component = strsep(&rest, "/"))) {
                char full[PCI_ADDRESS_STRING_MAX];
                /* Only full addresses: "pci0000:00" and the like are not. */
                if (!strchr(component, '.') || pci_address_parse(component, &a) < 0 ||
                    !streq(pci_address_format(&a, full), component))
                        continue;
                if (depth++ == 0)
                        out += sprintf(out, "%s", full);
                else if (depth > RESERVATION_PATH_DEPTH_MAX + 1)
                        return -EINVAL;
                else
                        out += sprintf(out, "/%02x.%u", a.slot, a.function);
        }
        return depth > 0 ? 0 : -EINVAL;
}
