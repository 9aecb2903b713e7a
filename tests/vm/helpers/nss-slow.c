/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libnss_slow.so.2, a user database that hangs, as the client of a
 * directory server (sssd, nslcd) does while its server cannot be reached.
 * It knows the user "slowpoke" and the group "slowpokes" (both 4242), and
 * answers about them only once /run/nss-slow-go exists: until then each
 * lookup of either waits, for at most two minutes. While /run/nss-slow-down
 * exists it fails at once instead, as a client does that gives up on its
 * server (UNAVAIL, EHOSTUNREACH). Everyone else it does not know. The vm
 * suite puts it in the guest's nsswitch.conf after "files".
 */
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pwd.h>
#include <stdalign.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define GO "/run/nss-slow-go"
#define DOWN "/run/nss-slow-down"
#define SLOW_ID 4242

enum nss_status _nss_slow_getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t size, int *errnop);
enum nss_status _nss_slow_getgrnam_r(const char *name, struct group *gr, char *buf, size_t size, int *errnop);

/* false: the server is down. */
static bool wait_for_go(int *errnop)
{
        if (access(DOWN, F_OK) == 0) {
                *errnop = EHOSTUNREACH;
                return false;
        }
        for (int i = 0; i < 1200 && access(GO, F_OK) < 0; i++)
                nanosleep(&(struct timespec){ .tv_nsec = 100 * 1000 * 1000 }, NULL);
        return true;
}

/* NSS's answer when the caller's buffer is too small: try again, larger. */
static enum nss_status too_small(int *errnop)
{
        *errnop = ERANGE;
        return NSS_STATUS_TRYAGAIN;
}

enum nss_status _nss_slow_getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t size, int *errnop)
{
        static const char user[] = "slowpoke";

        if (strcmp(name, user) != 0)
                return NSS_STATUS_NOTFOUND;
        if (!wait_for_go(errnop))
                return NSS_STATUS_UNAVAIL;
        if (size < sizeof(user))
                return too_small(errnop);
        memcpy(buf, user, sizeof(user));
        *pw = (struct passwd){ .pw_name = buf, .pw_passwd = (char *)"x", .pw_uid = SLOW_ID, .pw_gid = SLOW_ID,
                               .pw_gecos = (char *)"", .pw_dir = (char *)"/", .pw_shell = (char *)"/usr/sbin/nologin" };
        return NSS_STATUS_SUCCESS;
}

enum nss_status _nss_slow_getgrnam_r(const char *name, struct group *gr, char *buf, size_t size, int *errnop)
{
        static const char group[] = "slowpokes";
        /* No members: gr_mem is one NULL, at an aligned place in buf. */
        size_t pad = (alignof(char *) - (size_t)buf % alignof(char *)) % alignof(char *);
        char **members = (char **)(buf + pad);

        if (strcmp(name, group) != 0)
                return NSS_STATUS_NOTFOUND;
        if (!wait_for_go(errnop))
                return NSS_STATUS_UNAVAIL;
        if (size < pad + sizeof(char *) + sizeof(group))
                return too_small(errnop);
        members[0] = NULL;
        memcpy(buf + pad + sizeof(char *), group, sizeof(group));
        *gr = (struct group){ .gr_name = buf + pad + sizeof(char *), .gr_passwd = (char *)"x", .gr_gid = SLOW_ID,
                              .gr_mem = members };
        return NSS_STATUS_SUCCESS;
}
