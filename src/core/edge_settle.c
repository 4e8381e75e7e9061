/* SPDX-License-Identifier: MIT */
/*
 * edge_settle.c - a settled end: wait for the counter step that follows the edge, polling
 * the domain (and keeping the load running when the caller asks), then estimate the edge
 * again between two steps instead of extrapolating past the last one.
 */
#include <time.h>

#include "core/track.h"

void joules__track_settle(struct joules__domain *d, struct joules__edge *e,
                          const struct joules__settle_hook *hook, int64_t max_wait_ns)
{
    if (!e->have_counter || e->error)
        return;
    /* Counters that update often (RAPL, ~1 ms) are already exact enough. */
    if (joules__track_fast(d))
        return;
    int64_t period = period_ns(d);
    int64_t deadline =
        e->t_ns + (max_wait_ns < period + period / 2 ? max_wait_ns : period + period / 2);
    char msg[JOULES_MESSAGE_MAX];
    struct timespec pause = {0, 1000000L};
    for (;;) {
        int64_t now = joules__now_ns();
        pthread_mutex_lock(&d->lock);
        struct joules__track *k = d->track;
        int stepped = k->steps_n > 0 && step_at(k, k->steps_n - 1)->t_ns > e->t_ns;
        pthread_mutex_unlock(&d->lock);
        if (stepped || now > deadline)
            break;
        if (hook && hook->busy) {
            if (hook->busy(hook->user) != 0)
                break;
        } else if (joules__clock_is_virtual()) {
            break; /* nothing would move a virtual clock while we slept */
        } else {
            nanosleep(&pause, NULL);
        }
        if (joules__track_poll(d, msg, sizeof msg) != 0)
            return;
    }
    pthread_mutex_lock(&d->lock);
    if (!d->track->frozen && d->track->steps_n > 0)
        joules__edge_reanchor(d, d->track, e);
    pthread_mutex_unlock(&d->lock);
}
