/* SPDX-License-Identifier: MIT */
/*
 * edge_estimate.c - what is known of a domain's energy at a window edge: the counter's value
 * there (between two steps, beyond them, or before any step), its error, and what has not
 * been published yet. A begin edge is estimated again as steps follow it (refine).
 */
#include <math.h>
#include <string.h>

#include "core/track.h"

/* No step seen yet: the value read was set somewhere within the period before the first
 * reading, and since then only the power readings tell what went by. */
static void estimate_before_steps(const struct joules__domain *d, const struct joules__track *k,
                                  struct joules__edge *e)
{
    double p = k->pts_n ? fmax(pt_at(k, 0)->power_w, 0.0) : 0.0;
    double half = p * (double)period_ns(d) * 0.5e-9;
    double since = k->integ_j;
    /* Until the counter moves, nothing but a lagging sensor speaks for the load: it may have
     * changed anywhere between nothing and the board's limit since the sensor last
     * published, at most its window and one period ago. */
    double lag_s = (double)lag_ns(d) * 1e-9;
    double open_s = (double)(e->t_ns - k->open_ns) * 1e-9;
    double unseen = fmax(d->power_max_w - p, p) * fmin(open_s, lag_s);
    e->counter_j += half + since;
    e->counter_err_j = hypot(half + EXTRAP_REL_ERR * since, unseen) + d->counter_unit_j;
    e->counter_final = 0;
    e->reset_err_before_j = e->reset_err_after_j = k->reset_err_j;
}

/* Estimate the counter energy at t from the steps; final when anchored after t. Before any
 * step, the estimate adds to the counter value that e holds (the one just read). */
static void estimate_counter(const struct joules__domain *d, const struct joules__track *k,
                             int64_t t, struct joules__edge *e)
{
    const struct step *before = NULL, *after = NULL;
    unsigned ib = 0;
    for (unsigned i = 0; i < k->steps_n; i++) {
        const struct step *st = step_at(k, i);
        if (st->t_ns <= t) {
            before = st;
            ib = i;
        } else if (!after) {
            after = st;
        }
    }
    if (before || after) {
        e->reset_err_before_j = before ? before->reset_err_j : after->reset_err_j;
        e->reset_err_after_j = after ? after->reset_err_j : k->reset_err_j;
    }
    if (before && after) {
        joules__interpolate(d, k, ib, t, e);
        return;
    }
    memset(&e->span, 0, sizeof e->span);
    const struct step *ref = before ? before : after;
    if (ref) {
        double err = 0.0;
        e->counter_j = ref->counter_j + joules__extrapolate(d, k, ref, t, &err);
        e->counter_err_j = err;
        /* Once a step follows t, later steps cannot anchor it better. */
        e->counter_final = after != NULL;
        return;
    }
    estimate_before_steps(d, k, e);
}

/*
 * Until the counter steps or the sensor publishes again, the load since the last publication
 * is unknown: a window begun after it (shorter than the sensor's lag) may hold a load that no
 * reading shows yet, between the least power seen and the most the board can draw. The
 * sensor publishes at least once a period even when its value does not change.
 */
static void note_unpublished(const struct joules__domain *d, const struct joules__track *k,
                             struct joules__edge *e)
{
    e->counter_seen_ns = k->steps_n ? step_at(k, k->steps_n - 1)->hi_ns : k->open_ns;
    int64_t published = e->t_ns - period_ns(d);
    e->integ_seen_ns = k->power_changed_ns > published ? k->power_changed_ns : published;
    double p = k->last_power_w >= 0 ? k->last_power_w : fmax(joules__counter_rate_w(k), 0.0);
    double top = fmax(d->power_max_w, k->peak_w);
    double bottom = isfinite(k->floor_w) ? k->floor_w : 0.0;
    e->dark_w = fmax(top - p, p - bottom);
    int64_t lag = lag_ns(d);
    e->lag_s = (double)lag * 1e-9;
    e->recent_change = k->load_changed_ns > 0 && e->t_ns - k->load_changed_ns <= 2 * lag;
}

void joules__track_edge(struct joules__domain *d, struct joules__edge *e)
{
    struct joules__track *k = d->track;
    struct joules__sample s;
    memset(e, 0, sizeof *e);
    pthread_mutex_lock(&d->lock);
    e->error = joules__track_read(d, &s, e->message, sizeof e->message);
    /* On failure, the edge is what the last good reading knew (partial results). */
    e->t_ns = e->error ? k->last_t_ns : s.t_ns;
    e->power_w = k->last_power_w;
    if (k->primed && k->have_raw && !k->frozen) {
        e->have_counter = 1;
        e->counter_j = k->counter_j;
        estimate_counter(d, k, e->t_ns, e);
    }
    if (k->primed && k->last_power_w >= 0) {
        e->have_integ = 1;
        e->integ_j = k->integ_j;
        e->integ_err_j = k->last_power_w * (double)d->poll_ns * 0.5e-9;
    }
    note_unpublished(d, k, e);
    pthread_mutex_unlock(&d->lock);
}

/* Take the counter estimate of r (the same edge, estimated again). */
static void adopt(struct joules__edge *e, const struct joules__edge *r)
{
    e->counter_j = r->counter_j;
    e->counter_err_j = r->counter_err_j;
    e->counter_final = r->counter_final;
    e->span = r->span;
    e->reset_err_before_j = r->reset_err_before_j;
    e->reset_err_after_j = r->reset_err_after_j;
}

void joules__edge_reanchor(const struct joules__domain *d, const struct joules__track *k,
                           struct joules__edge *e)
{
    struct joules__edge r = *e;
    estimate_counter(d, k, e->t_ns, &r);
    if (r.counter_final)
        adopt(e, &r);
}

void joules__track_refine(struct joules__domain *d, struct joules__edge *e, int again)
{
    if (!e->have_counter || e->error || (e->counter_final && !again))
        return;
    pthread_mutex_lock(&d->lock);
    struct joules__track *k = d->track;
    /* An anchored edge is estimated again at the window's end only while the steps before
     * it are still held: then both edges use the same, latest, clock of the counter (the
     * steps' times move as it is learnt, and edges on two clocks would disagree). */
    int held = k->steps_n > 0 && step_at(k, 0)->t_ns <= e->t_ns;
    if (k->frozen) {
        e->have_counter = 0;
    } else if (e->counter_final && held) {
        joules__edge_reanchor(d, k, e);
    } else if (!e->counter_final && k->steps_n > 0) {
        struct joules__edge r = *e;
        estimate_counter(d, k, e->t_ns, &r);
        if (r.counter_final || r.counter_err_j < e->counter_err_j)
            adopt(e, &r);
    }
    pthread_mutex_unlock(&d->lock);
}

int joules__track_edge_anchored(const struct joules__domain *d, const struct joules__edge *e)
{
    /* A fast counter (RAPL) is current at the read itself: nothing later improves it. */
    return !e->have_counter || e->error || e->counter_final || joules__track_fast(d);
}
