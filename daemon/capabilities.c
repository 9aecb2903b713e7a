/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "capabilities.h"
#include "log.h"
#include "macro.h"

static const cap_value_t kept[] = {
        CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_SYS_RESOURCE, CAP_SYS_PTRACE, CAP_KILL, CAP_BPF, CAP_PERFMON, CAP_SYS_MODULE,
};

static bool is_kept(cap_value_t c)
{
        for (size_t i = 0; i < ELEMENTSOF(kept); i++)
                if (kept[i] == c)
                        return true;
        return false;
}

static void cap_freep(cap_t *c)
{
        if (*c)
                cap_free(*c);
}

static void cap_text_freep(char **t)
{
        if (*t)
                cap_free(*t);
}

int drop_capabilities(void)
{
        _cleanup_(cap_freep) cap_t caps = NULL, now = NULL;
        _cleanup_(cap_text_freep) char *text = NULL;
        cap_flag_value_t has;

        if (geteuid() != 0)
                return 0;
        /* The bounding set first: dropping from it needs CAP_SETPCAP. */
        for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
                if (!is_kept(c) && cap_get_bound(c) > 0 && cap_drop_bound(c) < 0)
                        return -errno;
        /* Of the kept ones, those it has: a unit's bounding set may have
         * taken some already. */
        caps = cap_init();
        now = cap_get_proc();
        if (!caps || !now)
                return -errno;
        for (size_t i = 0; i < ELEMENTSOF(kept); i++) {
                if (cap_get_flag(now, kept[i], CAP_PERMITTED, &has) < 0)
                        return -errno;
                if (has == CAP_SET && (cap_set_flag(caps, CAP_EFFECTIVE, 1, &kept[i], CAP_SET) < 0 ||
                                       cap_set_flag(caps, CAP_PERMITTED, 1, &kept[i], CAP_SET) < 0))
                        return -errno;
        }
        if (cap_set_proc(caps) < 0)
                return -errno;
        /* What it kept, as libcap names it: the list above, less what it
         * did not have. */
        text = cap_to_text(caps, NULL);
        log_debug("Capabilities dropped to %s.", text ? text : "(cannot say)");
        return 0;
}
