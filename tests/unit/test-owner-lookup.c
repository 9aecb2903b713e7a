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

/* An event loop and the workers, as the daemon has them. */
typedef struct Loop {
        sd_event *event;
        WorkerPool *pool;
        OwnerLookup *list;
} Loop;

static void loop_setup(Loop *l)
{
        *l = (Loop){};
        g_assert_cmpint(sd_event_new(&l->event), >=, 0);
        g_assert_cmpint(worker_pool_new(1000000, &l->pool), ==, 0);
}

static void loop_teardown(Loop *l)
{
        g_assert_null(l->list);
        worker_pool_free(l->pool);
        sd_event_unref(l->event);
}

/* After done was called: the workers finish, and nothing more reaches the
 * loop. */
static void run_loop_a_while(Loop *l)
{
        for (int i = 0; i < 20; i++)
                g_assert_cmpint(sd_event_run(l->event, 10 * 1000), >=, 0);
}

static void test_answers(void)
{
        const struct passwd *nobody = getpwnam("nobody");
        const struct group *root_group = getgrnam("root");
        int pending = 3;
        Answer user = { .pending = &pending }, group = { .pending = &pending }, none = { .pending = &pending };
        Loop l;

        g_assert_nonnull(nobody);
        g_assert_nonnull(root_group);
        loop_setup(&l);
        user.event = group.event = none.event = l.event;
        g_assert_cmpint(owner_lookup_start(&l.list, l.event, l.pool, "nobody", on_done, &user), ==, 0);
        g_assert_cmpint(owner_lookup_start(&l.list, l.event, l.pool, "@root", on_done, &group), ==, 0);
        g_assert_cmpint(owner_lookup_start(&l.list, l.event, l.pool, "nosuchuser-vfiod", on_done, &none), ==, 0);
        g_assert_cmpint(user.calls + group.calls + none.calls, ==, 0); /* not before the loop runs */
        g_assert_cmpint(sd_event_loop(l.event), ==, 0);

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
        loop_teardown(&l);
}

static void test_cancelled(void)
{
        Answer a = {}, b = {};
        Loop l;

        loop_setup(&l);
        g_assert_cmpint(owner_lookup_start(&l.list, l.event, l.pool, "nobody", on_done, &a), ==, 0);
        g_assert_cmpint(owner_lookup_start(&l.list, l.event, l.pool, "@root", on_done, &b), ==, 0);
        owner_lookups_cancel(&l.list);
        g_assert_cmpint(a.calls, ==, 1);
        g_assert_cmpint(a.r, ==, -ECANCELED);
        g_assert_cmpuint(a.ids.uid, ==, 0);
        g_assert_cmpint(b.calls, ==, 1);
        g_assert_cmpint(b.r, ==, -ECANCELED);
        run_loop_a_while(&l);
        g_assert_cmpint(a.calls, ==, 1);
        g_assert_cmpint(b.calls, ==, 1);
        loop_teardown(&l);
}

/* The worker has answered, but the loop has not read it yet. */
static void test_cancelled_after_answer(void)
{
        Answer a = {};
        Loop l;

        loop_setup(&l);
        g_assert_cmpint(owner_lookup_start(&l.list, l.event, l.pool, "nobody", on_done, &a), ==, 0);
        /* Until the answer is pending on the loop, not dispatched. */
        while (sd_event_prepare(l.event) == 0 && sd_event_wait(l.event, 100 * 1000) == 0)
                ;
        g_assert_cmpint(sd_event_get_state(l.event), ==, SD_EVENT_PENDING);
        owner_lookups_cancel(&l.list);
        g_assert_cmpint(sd_event_dispatch(l.event), >=, 0);
        g_assert_cmpint(a.calls, ==, 1);
        g_assert_cmpint(a.r, ==, -ECANCELED);
        run_loop_a_while(&l);
        g_assert_cmpint(a.calls, ==, 1);
        loop_teardown(&l);
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/owner-lookup/answers", test_answers);
        g_test_add_func("/owner-lookup/cancelled", test_cancelled);
        g_test_add_func("/owner-lookup/cancelled-after-answer", test_cancelled_after_answer);
        return g_test_run();
}
