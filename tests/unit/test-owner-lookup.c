/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <glib.h>
#include <grp.h>
#include <pwd.h>

#include "owner-lookup.h"

/* Reservation owners looked up off the loop: each lookup's done runs on
 * the loop exactly once, with the user's or the group's ids, ESRCH for
 * nobody of that name, or ECANCELED when cancelled, and then never again.
 * (That the loop answers while NSS hangs is the vm suite's: vm-systemd.) */

typedef struct Answer {
        int calls;
        int r;
        OwnerIds ids;
        int *pending; /* the loop ends when it reaches 0 */
        sd_event *event;
} Answer;

static void on_done(int r, const OwnerIds *ids, void *userdata)
{
        Answer *a = userdata;

        a->calls++;
        a->r = r;
        a->ids = *ids;
        if (a->pending && --*a->pending == 0)
                sd_event_exit(a->event, 0);
}

static void test_answers(void)
{
        const struct passwd *nobody = getpwnam("nobody");
        const struct group *root_group = getgrnam("root");
        sd_event *event = NULL;
        WorkerPool *pool = NULL;
        OwnerLookup *list = NULL;
        int pending = 3;
        Answer user = { .pending = &pending }, group = { .pending = &pending }, none = { .pending = &pending };

        g_assert_nonnull(nobody);
        g_assert_nonnull(root_group);
        g_assert_cmpint(sd_event_new(&event), >=, 0);
        g_assert_cmpint(worker_pool_new(1000000, &pool), ==, 0);
        user.event = group.event = none.event = event;
        g_assert_cmpint(owner_lookup_start(&list, event, pool, "nobody", on_done, &user), ==, 0);
        g_assert_cmpint(owner_lookup_start(&list, event, pool, "@root", on_done, &group), ==, 0);
        g_assert_cmpint(owner_lookup_start(&list, event, pool, "nosuchuser-vfiod", on_done, &none), ==, 0);
        g_assert_cmpint(user.calls + group.calls + none.calls, ==, 0); /* not before the loop runs */
        g_assert_cmpint(sd_event_loop(event), ==, 0);
        g_assert_null(list);

        g_assert_cmpint(user.calls, ==, 1);
        g_assert_cmpint(user.r, ==, 0);
        g_assert_cmpuint(user.ids.uid, ==, nobody->pw_uid);
        g_assert_cmpuint(user.ids.gid, ==, 0);
        g_assert_cmpuint(user.ids.mode, ==, 0600);

        g_assert_cmpint(group.calls, ==, 1);
        g_assert_cmpint(group.r, ==, 0);
        g_assert_cmpuint(group.ids.uid, ==, 0);
        g_assert_cmpuint(group.ids.gid, ==, root_group->gr_gid);
        g_assert_cmpuint(group.ids.mode, ==, 0660);

        g_assert_cmpint(none.calls, ==, 1);
        g_assert_cmpint(none.r, ==, -ESRCH);
        g_assert_cmpuint(none.ids.uid, ==, 0); /* root's, 0600 */
        g_assert_cmpuint(none.ids.mode, ==, 0600);

        worker_pool_free(pool);
        sd_event_unref(event);
}

static void test_cancelled(void)
{
        sd_event *event = NULL;
        WorkerPool *pool = NULL;
        OwnerLookup *list = NULL;
        Answer a = {}, b = {};

        g_assert_cmpint(sd_event_new(&event), >=, 0);
        g_assert_cmpint(worker_pool_new(1000000, &pool), ==, 0);
        g_assert_cmpint(owner_lookup_start(&list, event, pool, "nobody", on_done, &a), ==, 0);
        g_assert_cmpint(owner_lookup_start(&list, event, pool, "@root", on_done, &b), ==, 0);
        owner_lookups_cancel(&list);
        g_assert_null(list);
        g_assert_cmpint(a.calls, ==, 1);
        g_assert_cmpint(a.r, ==, -ECANCELED);
        g_assert_cmpuint(a.ids.uid, ==, 0);
        g_assert_cmpint(b.calls, ==, 1);
        g_assert_cmpint(b.r, ==, -ECANCELED);
        /* The workers finish; nothing of theirs reaches the loop. */
        for (int i = 0; i < 20; i++)
                g_assert_cmpint(sd_event_run(event, 10 * 1000), >=, 0);
        g_assert_cmpint(a.calls, ==, 1);
        g_assert_cmpint(b.calls, ==, 1);
        worker_pool_free(pool);
        sd_event_unref(event);
}

/* The worker has answered, but the loop has not read it yet. */
static void test_cancelled_after_answer(void)
{
        sd_event *event = NULL;
        WorkerPool *pool = NULL;
        OwnerLookup *list = NULL;
        Answer a = {};

        g_assert_cmpint(sd_event_new(&event), >=, 0);
        g_assert_cmpint(worker_pool_new(1000000, &pool), ==, 0);
        g_assert_cmpint(owner_lookup_start(&list, event, pool, "nobody", on_done, &a), ==, 0);
        /* Until the answer is pending on the loop, not dispatched. */
        while (sd_event_prepare(event) == 0 && sd_event_wait(event, 100 * 1000) == 0)
                ;
        g_assert_cmpint(sd_event_get_state(event), ==, SD_EVENT_PENDING);
        owner_lookups_cancel(&list);
        g_assert_cmpint(sd_event_dispatch(event), >=, 0);
        g_assert_null(list);
        g_assert_cmpint(a.calls, ==, 1);
        g_assert_cmpint(a.r, ==, -ECANCELED);
        for (int i = 0; i < 20; i++)
                g_assert_cmpint(sd_event_run(event, 10 * 1000), >=, 0);
        g_assert_cmpint(a.calls, ==, 1);
        worker_pool_free(pool);
        sd_event_unref(event);
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/owner-lookup/answers", test_answers);
        g_test_add_func("/owner-lookup/cancelled", test_cancelled);
        g_test_add_func("/owner-lookup/cancelled-after-answer", test_cancelled_after_answer);
        return g_test_run();
}
