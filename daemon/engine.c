/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "engine.h"
#include "fs-util.h"
#include "log.h"
#include "macro.h"
#include "number.h"
#include "worker-pool.h"

/* How long a worker thread that has finished waits for the next
 * transaction: a VM manager moving several groups in a row, or a claim
 * and its release a moment later, each skip a thread start. */
#define WORKER_IDLE_USEC (10 * 1000000ULL)

/* A running transaction and its worker. The worker owns t until it sends
 * MESSAGE_DONE; the event loop frees the job after reading it. */
typedef struct Job Job;
/* What vfiod holds or moves of one group. */
typedef struct GroupClaim GroupClaim;

struct Job {
        Transaction t;
        Engine *engine;
        GroupClaim *claim; /* NULL once the job has ended */
        int group;
        int pipe[2];
        sd_event_source *io, *timer;
        EngineReplyFn reply; /* NULL once answered */
        void *reply_userdata;
        bool recovery; /* started by engine_recover() */
        /* The step the worker is at, written by the worker, read by the
         * loop when it needs it: waking the loop at every step would cost
         * more than most steps. */
        pthread_mutex_t step_lock;
        char step[CLAIM_RECORD_STEP_MAX];
        uint64_t step_since; /* CLOCK_MONOTONIC */
        /* Set by the loop while the group is stuck: the worker then tells
         * it through the pipe as soon as the next step starts. */
        atomic_bool watching;
};

struct GroupClaim {
        int group;
        ClaimRecord *record; /* while idle: claimed, or failed to undo */
        Job *job;
        char step[CLAIM_RECORD_STEP_MAX];
        bool stuck;
};

struct Engine {
        sd_event *event;
        WorkerPool *workers;
        int claims_dir_fd;
        uint64_t step_timeout_usec;
        const ProfileSet *profiles;
        GroupClaim **claims;
        size_t n_claims;
        EngineChangeFn on_change;
        void *userdata;
        EngineRecoveredFn on_recovered;
        void *recovered_userdata;
};

/* Worker to event loop, through a pipe: a step began while the group was
 * stuck; the transaction is done. */
typedef enum Message { MESSAGE_STEP, MESSAGE_DONE } Message;

static GroupClaim *find_claim(const Engine *e, int group)
{
        for (size_t i = 0; i < e->n_claims; i++)
                if (e->claims[i]->group == group)
                        return e->claims[i];
        return NULL;
}

static GroupClaim *add_claim(Engine *e, int group)
{
        GroupClaim **a = reallocarray(e->claims, e->n_claims + 1, sizeof(*a));
        GroupClaim *c;

        if (!a)
                return NULL;
        e->claims = a;
        c = calloc(1, sizeof(*c));
        if (!c)
                return NULL;
        c->group = group;
        e->claims[e->n_claims++] = c;
        return c;
}

static void remove_claim(Engine *e, GroupClaim *c)
{
        for (size_t i = 0; i < e->n_claims; i++)
                if (e->claims[i] == c) {
                        e->claims[i] = e->claims[--e->n_claims];
                        break;
                }
        claim_record_free(c->record);
        free(c);
}

static void changed(Engine *e, int group, bool ended)
{
        if (e->on_change)
                e->on_change(e, group, ended, e->userdata);
}

/* The step the worker is at (copied to step), and since when; step_lock
 * held. */
static uint64_t job_copy_step(const Job *job, char step[static CLAIM_RECORD_STEP_MAX])
{
        memcpy(step, job->step, CLAIM_RECORD_STEP_MAX);
        return job->step_since;
}

static uint64_t job_read_step(Job *job, char step[static CLAIM_RECORD_STEP_MAX])
{
        uint64_t since;

        pthread_mutex_lock(&job->step_lock);
        since = job_copy_step(job, step);
        pthread_mutex_unlock(&job->step_lock);
        return since;
}

ClaimStatus engine_status(const Engine *e, int group, const char **ret_step)
{
        GroupClaim *c = find_claim(e, group);
        ClaimStatus s;

        if (!c)
                s = CLAIM_STATUS_NONE;
        else if (c->stuck)
                s = CLAIM_STATUS_STUCK;
        else if (c->job)
                s = c->job->t.kind == TRANSACTION_CLAIM || c->job->t.kind == TRANSACTION_REFRESH
                            ? CLAIM_STATUS_CLAIMING
                            : CLAIM_STATUS_RELEASING;
        else if (c->record && c->record->phase == CLAIM_PHASE_CLAIMED)
                s = CLAIM_STATUS_CLAIMED;
        else
                s = CLAIM_STATUS_FAILED;
        if (c && c->job) /* a running job's step is the worker's to tell */
                (void)job_read_step(c->job, c->step);
        if (ret_step)
                *ret_step = c && (c->job || s == CLAIM_STATUS_FAILED) ? c->step : "";
        return s;
}

bool engine_is_moving(const Engine *e, int group)
{
        const GroupClaim *c = find_claim(e, group);
        return c && c->job;
}

bool engine_busy(const Engine *e)
{
        for (size_t i = 0; i < e->n_claims; i++)
                if (e->claims[i]->job)
                        return true;
        return false;
}

/* ---- jobs ---- */

static void job_free(Job *job)
{
        sd_event_source_disable_unref(job->io);
        sd_event_source_disable_unref(job->timer);
        closep(&job->pipe[0]);
        closep(&job->pipe[1]);
        pthread_mutex_destroy(&job->step_lock);
        claim_record_free(job->t.record);
        free(job->t.message);
        free(job);
}

static void job_answer(Job *job, TransactionFailure failure, int error, const char *message)
{
        EngineResult result = {
                .kind = job->t.kind, .group = job->group, .failure = failure, .error = error, .message = message,
        };
        EngineReplyFn reply = job->reply;

        job->reply = NULL;
        if (reply)
                reply(&result, job->reply_userdata);
}

static void send_message(Job *job, Message m)
{
        (void)!write(job->pipe[1], &m, sizeof(m));
}

/* In the worker: a step starts. */
static void worker_on_step(Transaction *t, const char *step)
{
        Job *job = t->userdata;

        pthread_mutex_lock(&job->step_lock);
        snprintf(job->step, sizeof(job->step), "%s", step);
        job->step_since = now_usec(CLOCK_MONOTONIC);
        pthread_mutex_unlock(&job->step_lock);
        if (atomic_load(&job->watching))
                send_message(job, MESSAGE_STEP);
}

static void run_job(void *userdata)
{
        Job *job = userdata;

        transaction_execute(&job->t);
        /* The last touch of job in this thread. */
        send_message(job, MESSAGE_DONE);
}

/* A step's own waits end at wait_timeout; a stuck write has no end: give
 * the waits a second more before calling the step stuck. */
static uint64_t step_deadline(const Job *job, uint64_t step_since)
{
        return step_since + job->engine->step_timeout_usec + 1000000;
}

static void arm_step_timer(Job *job, uint64_t step_since)
{
        (void)sd_event_source_set_time(job->timer, step_deadline(job, step_since));
        (void)sd_event_source_set_enabled(job->timer, SD_EVENT_ONESHOT);
}

/* The step as job_read_step() gives it; when its deadline has passed, the
 * transaction is abandoned, under the lock that the worker takes to start
 * a step: a step that starts after this look sees that it was
 * (transaction.c, step_may_start()), and one that started before it makes
 * it find the step on time. */
static bool job_abandon_if_late(Job *job, char step[static CLAIM_RECORD_STEP_MAX], uint64_t *ret_since)
{
        bool late;

        pthread_mutex_lock(&job->step_lock);
        *ret_since = job_copy_step(job, step);
        late = step_deadline(job, *ret_since) <= now_usec(CLOCK_MONOTONIC);
        if (late)
                atomic_store(&job->t.abandoned, true);
        pthread_mutex_unlock(&job->step_lock);
        return late;
}

static int on_step_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        Job *job = userdata;
        GroupClaim *c = job->claim;
        _cleanup_free_ char *message = NULL;
        uint64_t since;

        /* Watch first, then look: a step that starts after the look is
         * told through the pipe. */
        atomic_store(&job->watching, true);
        if (!job_abandon_if_late(job, c->step, &since)) {
                /* The worker has moved on since the timer was set. */
                atomic_store(&job->watching, false);
                arm_step_timer(job, since);
                return 0;
        }
        c->stuck = true;
        log_error("Group %d: step '%s' has not returned in time; the group is stuck.", c->group, c->step);
        if (asprintf(&message,
                     "Step '%s' of the %s of IOMMU group %d has not returned: the kernel waits, most likely for "
                     "a process that still uses the device. The group shows as stuck until the step returns; "
                     "%s.",
                     c->step, transaction_kind_to_string(job->t.kind), c->group,
                     job->t.kind == TRANSACTION_CLAIM ? "then the claim is undone" : "then the release goes on") < 0)
                message = NULL;
        job_answer(job, FAILURE_TIMEOUT, -ETIMEDOUT, message);
        changed(job->engine, c->group, false);
        return 0;
}

/* The transaction has ended: keep or drop the record, tell, then answer,
 * so that the caller finds the group as the answer says. */
static void job_finish(Job *job)
{
        Engine *e = job->engine;
        GroupClaim *c = job->claim;
        Transaction *t = &job->t;
        bool recovered = job->recovery;
        int group = job->group;

        (void)job_read_step(job, c->step);
        c->job = NULL;
        c->stuck = false;
        job->claim = NULL;
        if (t->record_kept) {
                claim_record_free(c->record);
                c->record = TAKE_PTR(t->record);
        }
        if (c->record && c->record->phase == CLAIM_PHASE_CLAIMED)
                c->step[0] = '\0';
        if (!c->record)
                remove_claim(e, c);
        changed(e, job->group, true);
        job_answer(job, t->failure, t->error, t->message);
        job_free(job);
        /* Last: the callback may start the group's next move. */
        if (recovered && e->on_recovered)
                e->on_recovered(e, group, e->recovered_userdata);
}

static int on_worker_message(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        Job *job = userdata;
        GroupClaim *c = job->claim;
        bool was_stuck = c->stuck;
        Message m;

        if (read(fd, &m, sizeof(m)) != sizeof(m))
                return 0;
        if (m == MESSAGE_DONE) {
                job_finish(job);
                return 0;
        }
        /* A step began after the group was stuck: it moves again. */
        atomic_store(&job->watching, false);
        c->stuck = false;
        arm_step_timer(job, job_read_step(job, c->step));
        if (was_stuck)
                changed(job->engine, c->group, false);
        return 0;
}

/* The reset before a device goes back to driver: its hand-off profile's
 * ResetMethod=, or the kernel's choice. Called in the worker; the
 * profiles do not change while the engine lives. */
static const char *reset_method_for(const char *driver, void *userdata)
{
        Job *job = userdata;
        const Profile *p = profile_set_find(job->t.profiles, driver);
        return p ? p->reset_method : NULL;
}

/* Starts a worker for the transaction the caller filled in job->t. */
static int job_start(Engine *e, GroupClaim *c, Job *job)
{
        int r;

        job->engine = e;
        job->claim = c;
        job->group = c->group;
        job->t.claims_dir_fd = e->claims_dir_fd;
        job->t.wait_timeout_usec = e->step_timeout_usec;
        job->t.profiles = e->profiles;
        job->t.reset_method = reset_method_for;
        job->t.on_step = worker_on_step;
        job->t.userdata = job;
        if (pipe2(job->pipe, O_CLOEXEC) < 0)
                return -errno;
        r = sd_event_add_io(e->event, &job->io, job->pipe[0], EPOLLIN, on_worker_message, job);
        if (r < 0)
                return r;
        r = sd_event_add_time(e->event, &job->timer, CLOCK_MONOTONIC, UINT64_MAX, 0, on_step_timeout, job);
        if (r < 0)
                return r;
        job->step_since = now_usec(CLOCK_MONOTONIC);
        arm_step_timer(job, job->step_since);

        r = worker_pool_run(e->workers, run_job, job);
        if (r < 0)
                return r;
        c->job = job;
        c->stuck = false;
        changed(e, c->group, false);
        return 0;
}

static Job *job_new(TransactionKind kind, EngineReplyFn reply, void *userdata)
{
        Job *job = calloc(1, sizeof(*job));

        if (!job)
                return NULL;
        job->pipe[0] = job->pipe[1] = -1;
        pthread_mutex_init(&job->step_lock, NULL);
        job->t.kind = kind;
        job->reply = reply;
        job->reply_userdata = userdata;
        return job;
}

/* ---- the operations ---- */

/* A transaction with a new record of the group's endpoints: a claim, or
 * an unhold. */
static int start_new(Engine *e, TransactionKind kind, int group, char *const *addresses, size_t n,
                     const EngineClaimOptions *o, EngineReplyFn reply, void *userdata)
{
        GroupClaim *c = find_claim(e, group);
        Job *job;
        int r;

        if (c)
                return c->job ? ENGINE_MOVING : ENGINE_ALREADY_CLAIMED;
        job = job_new(kind, reply, userdata);
        if (!job)
                return -ENOMEM;
        job->t.force = o->force;
        job->t.settle_node = o->settle_node;
        r = claim_record_new(group, &job->t.record);
        if (r >= 0)
                r = claim_record_set_lease(job->t.record, o->lease);
        if (r >= 0)
                job->t.record->reserved = o->reserved;
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = claim_record_add_device(job->t.record, addresses[i], NULL, NULL);
        c = r >= 0 ? add_claim(e, group) : NULL;
        if (r >= 0 && !c)
                r = -ENOMEM;
        if (r >= 0)
                r = job_start(e, c, job);
        if (r < 0) {
                if (c)
                        remove_claim(e, c);
                job_free(job);
        }
        return r;
}

int engine_claim(Engine *e, int group, char *const *addresses, size_t n, const EngineClaimOptions *o,
                 EngineReplyFn reply, void *userdata)
{
        return start_new(e, TRANSACTION_CLAIM, group, addresses, n, o, reply, userdata);
}

int engine_unhold(Engine *e, int group, char *const *addresses, size_t n, EngineReplyFn reply, void *userdata)
{
        return start_new(e, TRANSACTION_UNHOLD, group, addresses, n, &(EngineClaimOptions){}, reply, userdata);
}

/* Hands the group's record to a release, restore or refresh transaction. */
static int start_with_record(Engine *e, GroupClaim *c, TransactionKind kind, EngineReplyFn reply, void *userdata)
{
        Job *job = job_new(kind, reply, userdata);
        int r;

        if (!job)
                return -ENOMEM;
        job->t.record = TAKE_PTR(c->record);
        r = job_start(e, c, job);
        if (r < 0) {
                c->record = TAKE_PTR(job->t.record);
                job_free(job);
        }
        return r;
}

int engine_release(Engine *e, int group, EngineReplyFn reply, void *userdata)
{
        GroupClaim *c = find_claim(e, group);

        if (!c)
                return ENGINE_NOT_CLAIMED;
        if (c->job)
                return ENGINE_MOVING;
        return start_with_record(e, c, TRANSACTION_RELEASE, reply, userdata);
}

/* The record of a claimed group at rest, or NULL with *refusal set. */
static ClaimRecord *idle_record(const Engine *e, int group, EngineRefusal *refusal)
{
        GroupClaim *c = find_claim(e, group);

        if (c && c->job) {
                *refusal = ENGINE_MOVING;
                return NULL;
        }
        if (!c || !c->record || c->record->phase != CLAIM_PHASE_CLAIMED) {
                *refusal = ENGINE_NOT_CLAIMED;
                return NULL;
        }
        return c->record;
}

int engine_refresh(Engine *e, int group, EngineReplyFn reply, void *userdata)
{
        EngineRefusal refusal;

        if (!idle_record(e, group, &refusal))
                return refusal;
        return start_with_record(e, find_claim(e, group), TRANSACTION_REFRESH, reply, userdata);
}

/* Who leases the group, and whether a lease ended while it was open. */
static int set_lease(Engine *e, int group, const char *lease, bool ended_open)
{
        _cleanup_free_ char *old = NULL;
        EngineRefusal refusal;
        ClaimRecord *rec;
        bool was_open;
        int r;

        rec = idle_record(e, group, &refusal);
        if (!rec)
                return refusal;
        if (streq_ptr(rec->lease, lease) && rec->lease_ended_open == ended_open)
                return 0; /* nothing to save, nobody to tell */
        old = TAKE_PTR(rec->lease);
        was_open = rec->lease_ended_open;
        r = claim_record_set_lease(rec, lease);
        if (r >= 0) {
                rec->lease_ended_open = ended_open;
                r = claim_record_save(e->claims_dir_fd, rec, NULL);
        }
        if (r < 0) { /* as it was: the record on disk still says so */
                free(rec->lease);
                rec->lease = TAKE_PTR(old);
                rec->lease_ended_open = was_open;
                return r;
        }
        changed(e, group, false);
        return 0;
}

int engine_set_lease(Engine *e, int group, const char *lease)
{
        return set_lease(e, group, lease, false);
}

int engine_end_lease(Engine *e, int group, bool still_open)
{
        return set_lease(e, group, NULL, still_open);
}

bool engine_lease_ended_open(const Engine *e, int group)
{
        const GroupClaim *c = find_claim(e, group);

        return c && !c->job && c->record && c->record->lease_ended_open;
}

int engine_set_reserved(Engine *e, int group, bool reserved)
{
        EngineRefusal refusal;
        ClaimRecord *rec;
        int r;

        rec = idle_record(e, group, &refusal);
        if (!rec)
                return refusal;
        rec->reserved = reserved;
        r = claim_record_save(e->claims_dir_fd, rec, NULL);
        if (r < 0)
                rec->reserved = !reserved;
        else
                changed(e, group, false);
        return r;
}

bool engine_is_reserved(const Engine *e, int group)
{
        const GroupClaim *c = find_claim(e, group);
        const ClaimRecord *rec = !c ? NULL : c->job ? c->job->t.record : c->record;

        return rec && rec->reserved;
}

void engine_foreach_claimed(const Engine *e, void (*fn)(int group, const char *lease, void *userdata),
                            void *userdata)
{
        for (size_t i = 0; i < e->n_claims; i++) {
                const GroupClaim *c = e->claims[i];
                if (!c->job && c->record && c->record->phase == CLAIM_PHASE_CLAIMED)
                        fn(c->group, c->record->lease, userdata);
        }
}

/* ---- start and recovery ---- */

/* The transaction a record found at start needs, started. */
static int start_recovery(Engine *e, GroupClaim *c, TransactionKind kind)
{
        int r = start_with_record(e, c, kind, NULL, NULL);

        if (r >= 0) /* read by this loop at the job's end, never by the worker */
                c->job->recovery = true;
        return r;
}

static int recover_one(Engine *e, int group)
{
        _cleanup_(claim_record_freep) ClaimRecord *rec = NULL;
        GroupClaim *c;
        int r;

        r = claim_record_load(e->claims_dir_fd, group, &rec);
        if (r < 0) {
                log_error("Cannot read the claim record of group %d: %s. Its devices are left as they are, and "
                          "nobody can claim it until claims/group-%d is removed from the state directory: put "
                          "them back on the drivers the file names, then remove it.",
                          group, strerror(-r), group);
                return 0;
        }
        c = add_claim(e, group);
        if (!c)
                return -ENOMEM;
        c->record = TAKE_PTR(rec);
        if (c->record->phase == CLAIM_PHASE_CLAIMED) {
                log_info("Group %d stays claimed.", group);
                return 0;
        }
        memcpy(c->step, c->record->step, sizeof(c->step));
        if (c->record->phase == CLAIM_PHASE_REFRESHING) {
                log_warning("Group %d: putting it through vfio-pci again was interrupted at step '%s'; doing it again.",
                            group, c->record->step);
                return start_recovery(e, c, TRANSACTION_REFRESH);
        }
        /* Interrupted: a claim is undone, a release finished; either way
         * every device goes back to its recorded driver. */
        log_warning("Group %d: a %s was interrupted at step '%s'; returning its devices to their drivers.",
                    group, claim_phase_to_string(c->record->phase), c->record->step);
        return start_recovery(e, c, TRANSACTION_RESTORE);
}

int engine_recover(Engine *e, EngineRecoveredFn on_recovered, void *userdata)
{
        _cleanup_free_ int *groups = NULL;
        size_t n;
        int r;

        e->on_recovered = on_recovered;
        e->recovered_userdata = userdata;
        r = claim_record_list(e->claims_dir_fd, &groups, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = recover_one(e, groups[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

int engine_new(sd_event *event, const char *state_dir, uint64_t step_timeout_usec, const ProfileSet *profiles,
               EngineChangeFn on_change, void *userdata, Engine **ret)
{
        Engine *e = calloc(1, sizeof(*e));
        int r;

        if (!e)
                return -ENOMEM;
        r = open_private_dir(state_dir, "claims");
        if (r < 0) {
                free(e);
                return r;
        }
        e->claims_dir_fd = r;
        r = worker_pool_new(WORKER_IDLE_USEC, &e->workers);
        if (r < 0) {
                close(e->claims_dir_fd);
                free(e);
                return r;
        }
        e->event = sd_event_ref(event);
        e->profiles = profiles;
        e->step_timeout_usec = step_timeout_usec;
        e->on_change = on_change;
        e->userdata = userdata;
        *ret = e;
        return 0;
}

Engine *engine_free(Engine *e)
{
        if (!e)
                return NULL;
        for (size_t i = 0; i < e->n_claims; i++) {
                GroupClaim *c = e->claims[i];
                /* A running worker still uses its job: at exit, leave it be;
                 * the record lets the next start finish the work. */
                if (c->job)
                        continue;
                claim_record_free(c->record);
                free(c);
        }
        free(e->claims);
        worker_pool_free(e->workers);
        closep(&e->claims_dir_fd);
        sd_event_unref(e->event);
        free(e);
        return NULL;
}
