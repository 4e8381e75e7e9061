/* SPDX-License-Identifier: MIT */
/*
 * tracker_thread.c - one background thread per monitor. It polls each domain that asks for it
 * (poll_ns): GPU counters to see when they step, RAPL counters often enough that no wrap
 * goes unseen. It waits on absolute CLOCK_MONOTONIC deadlines, so it does not drift, and
 * it stops at once when asked (a condition variable, not a sleep). After each round it
 * re-anchors the begin edges of open windows on the counter steps that followed them.
 */
#include <errno.h>
#include <math.h>
#include <time.h>

#include "core/core.h"

static struct timespec to_timespec(int64_t ns)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(ns / 1000000000LL);
    ts.tv_nsec = (long)(ns % 1000000000LL);
    return ts;
}

/*
 * A slow counter (NVIDIA: every 100 ms) polled at exactly 5 ms is always seen at the same
 * phase, and its steps stay known to within 5 ms. Spreading the polls over 0.8-1.2 periods
 * (a golden-ratio sequence: even, deterministic, the same mean rate) shifts that phase from
 * step to step, so that a run of steps pins the counter's clock far closer (counter_clock.c).
 * Fast counters (RAPL) keep their period: it is their wrap guard.
 */
static int64_t poll_step_ns(struct joules__domain *d)
{
    if (joules__track_fast(d))
        return d->poll_ns;
    double u = fmod(0.6180339887498949 * (double)(++d->poll_seq), 1.0);
    return (int64_t)((double)d->poll_ns * (0.8 + 0.4 * u));
}

/* Poll every domain whose poll is due and re-anchor open windows; the next deadline. */
static int64_t tracker_round(joules_monitor *m, int64_t now)
{
    char msg[JOULES_MESSAGE_MAX];
    int64_t next = now + 1000000000LL;
    for (int i = 0; i < m->n_domains; i++) {
        struct joules__domain *d = &m->domains[i];
        if (d->poll_ns <= 0)
            continue;
        if (d->next_poll_ns <= now) {
            (void)joules__track_poll(d, msg, sizeof msg);
            d->next_poll_ns += poll_step_ns(d);
            /* After a stall (suspend, overload), skip missed deadlines instead of firing a
             * burst of polls. */
            if (d->next_poll_ns <= now)
                d->next_poll_ns = now + d->poll_ns;
        }
        if (d->next_poll_ns < next)
            next = d->next_poll_ns;
    }
    joules__windows_refine(m);
    return next;
}

static void *tracker_main(void *arg)
{
    joules_monitor *m = arg;
    pthread_mutex_lock(&m->tracker_lock);
    while (!m->tracker_stop) {
        pthread_mutex_unlock(&m->tracker_lock);
        struct timespec deadline = to_timespec(tracker_round(m, joules__now_ns()));
        pthread_mutex_lock(&m->tracker_lock);
        while (!m->tracker_stop) {
            int rc = pthread_cond_timedwait(&m->tracker_cond, &m->tracker_lock, &deadline);
            if (rc == ETIMEDOUT)
                break;
        }
    }
    pthread_mutex_unlock(&m->tracker_lock);
    return NULL;
}

void joules__drive(joules_monitor *m)
{
    if (m && !m->tracker_running)
        (void)tracker_round(m, joules__now_ns());
}

int joules__tracker_start(joules_monitor *m)
{
    int need = 0;
    for (int i = 0; i < m->n_domains; i++)
        need |= m->domains[i].poll_ns > 0;
    int64_t now = joules__now_ns();
    for (int i = 0; i < m->n_domains; i++)
        m->domains[i].next_poll_ns = now;
    /* On a virtual clock the caller drives the rounds (joules__drive). */
    if (!need || joules__clock_is_virtual())
        return 0;
    /* The condition variable must time out on the monotonic clock, like every deadline. */
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_destroy(&m->tracker_cond);
    pthread_cond_init(&m->tracker_cond, &attr);
    pthread_condattr_destroy(&attr);
    m->tracker_stop = 0;
    int rc = pthread_create(&m->tracker, NULL, tracker_main, m);
    if (rc != 0)
        return joules__fail(m, JOULES_E_SYSTEM, "cannot start the tracker thread (error %d)", rc);
    m->tracker_running = 1;
    return 0;
}

void joules__tracker_stop(joules_monitor *m)
{
    if (!m->tracker_running)
        return;
    pthread_mutex_lock(&m->tracker_lock);
    m->tracker_stop = 1;
    pthread_cond_signal(&m->tracker_cond);
    pthread_mutex_unlock(&m->tracker_lock);
    pthread_join(m->tracker, NULL);
    m->tracker_running = 0;
}
