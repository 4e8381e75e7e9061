/* SPDX-License-Identifier: MIT */
/*
 * track_history.c - each domain's history: every reading is folded into it here, and the
 * other tracking files look it up (track.h).
 *
 * Counter wraps and resets are handled here, under the domain lock, in the same critical
 * section as the read, so no reading can fall between a wrap and its accounting. A change of
 * the counter's value becomes a step, placed in the interval between the reading that showed
 * it and the one before; counter_clock.c then narrows that interval. Power readings are kept
 * as points with the power integrated up to them.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/track.h"

#define FAST_COUNTER_NS 10000000LL /* counters updating faster: every read is a step */

int joules__track_init(struct joules__domain *d)
{
    d->track = calloc(1, sizeof *d->track);
    if (!d->track)
        return JOULES_E_NOMEM;
    d->track->last_power_w = -1.0;
    d->track->floor_w = INFINITY;
    return 0;
}

void joules__track_free(struct joules__domain *d)
{
    free(d->track);
    d->track = NULL;
}

/* Add a step: the counter changed to counter_j somewhere in (lo, hi]. */
static void push_step(struct joules__track *k, int64_t lo, int64_t hi, double counter_j,
                      double power_w)
{
    struct step *st = &k->steps[k->steps_next];
    st->lo_ns = lo;
    st->hi_ns = hi;
    st->t_ns = lo + (hi - lo) / 2;
    st->half_ns = (hi - lo) / 2;
    st->counter_j = counter_j;
    st->power_w = power_w;
    st->seq = ++k->steps_pushed;
    st->reset_err_j = k->reset_err_j;
    st->off_clock = 0;
    k->steps_next = (k->steps_next + 1) % STEP_RING;
    if (k->steps_n < STEP_RING)
        k->steps_n++;
}

/* Integrate the power reading and note how it moved. */
static void fold_power(struct joules__track *k, const struct joules__sample *s)
{
    int64_t t = s->t_ns;
    if (k->primed && k->last_power_w >= 0 && t > k->last_t_ns)
        k->integ_j += 0.5 * (k->last_power_w + s->power_w) * (double)(t - k->last_t_ns) * 1e-9;
    if (s->power_w != k->last_power_w)
        k->power_changed_ns = t;
    if (k->last_power_w >= 0 && fabs(s->power_w - k->last_power_w) > flat_w(k->last_power_w))
        k->load_changed_ns = t;
    k->last_power_w = s->power_w;
    k->floor_w = fmin(k->floor_w, s->power_w);
    k->peak_w = fmax(k->peak_w, s->power_w);
}

/* A change of the counter by delta units, seen by the reading s: a new step. */
static void fold_step(struct joules__domain *d, struct joules__track *k,
                      const struct joules__sample *s, uint64_t delta)
{
    int64_t t = s->t_ns;
    k->counter_j += (double)delta * d->counter_unit_j;
    /* The counter is at most one update period old when we see it change. */
    int64_t hi = s->counter_done_ns > t ? s->counter_done_ns : t;
    int64_t lo = k->last_t_ns, p = period_ns(d);
    if (hi - lo > p)
        lo = hi - p;
    /* The value read before the first step we saw was set by the previous update, one period
     * earlier. Recording it as a step (with the period's jitter added to its timing) anchors
     * windows begun right after the monitor opened. Only when polling faster than the counter
     * updates is that update known to be exactly one period before this one. */
    if (k->steps_seen == 0 && hi - k->last_t_ns < p) {
        /* A counter that read 0 had just started (a driver loaded, a simulated GPU
         * created): it started between a period before this step and the first reading,
         * not necessarily on its clock. */
        int64_t start_hi = k->fresh ? k->open_ns : hi - p + p / 20;
        push_step(k, lo - p - p / 20, start_hi > lo - p - p / 20 ? start_hi : hi - p + p / 20,
                  k->counter_j - (double)delta * d->counter_unit_j, -1.0);
        if (k->fresh)
            k->steps[(k->steps_next + STEP_RING - 1) % STEP_RING].off_clock = 1;
    }
    push_step(k, lo, hi, k->counter_j, s->have_power ? s->power_w : -1.0);
    k->steps_seen++;
    joules__counter_clock_fit(d, k);
    double rate = joules__counter_rate_w(k);
    if (rate >= 0 && k->steps_seen >= 2) {
        k->floor_w = fmin(k->floor_w, rate);
        k->peak_w = fmax(k->peak_w, rate);
    }
    /* A reading that averages a second moves by a tenth of a change at each update: the
     * counter's rates show the change of load instead. */
    if (slow_reading(d) && k->steps_n >= 3) {
        const struct step *s0 = step_at(k, k->steps_n - 3);
        const struct step *s1 = step_at(k, k->steps_n - 2);
        double before = joules__step_rate_w(s0, s1);
        if (rate >= 0 && before >= 0 && fabs(rate - before) > flat_w(before))
            k->load_changed_ns = t;
    }
}

/*
 * The driver restarted the counter from zero between the read before s and s: the energy from
 * the last update before the reset to the reset itself is in no counter value. It is what an
 * edge at the reset would extrapolate from the last step, the reset placed in the middle of
 * the two reads; how far off that may be (the extrapolation's error, and the power times the
 * reset's half-width in time) adds to every window across it. The extrapolation's error
 * takes in a change of load since the last step as far as recent changes make one likely.
 */
static void recover_reset(struct joules__domain *d, struct joules__track *k,
                          const struct joules__sample *s)
{
    int64_t half_ns = (s->t_ns - k->last_t_ns) / 2, t_reset = k->last_t_ns + half_ns;
    double p = k->last_power_w >= 0 ? k->last_power_w : fmax(joules__counter_rate_w(k), 0.0);
    double top = fmax(d->power_max_w, k->peak_w);
    if (k->steps_n == 0) {
        /* Nothing places the last update: up to a period at up to the board's limit. */
        k->counter_j += 0.5 * p * (double)period_ns(d) * 1e-9;
        k->reset_err_j += 0.5 * fmax(top, p) * (double)period_ns(d) * 1e-9;
        return;
    }
    const struct step *last = step_at(k, k->steps_n - 1);
    double err = 0.0, lost = 0.0;
    if (t_reset > last->t_ns)
        lost = joules__extrapolate(d, k, last, t_reset, &err);
    k->counter_j += lost;
    k->reset_err_j += err + p * (double)half_ns * 1e-9;
}

/* Extend the raw counter past its wraps and resets; a change becomes a step. */
static void fold_counter(struct joules__domain *d, struct joules__track *k,
                         const struct joules__sample *s)
{
    if (!k->have_raw) {
        k->have_raw = 1;
        k->fresh = s->counter_raw == 0;
    } else {
        uint64_t raw = s->counter_raw, delta;
        if (raw >= k->last_raw) {
            delta = raw - k->last_raw;
        } else if (d->counter_range) {
            delta = raw + (d->counter_range - k->last_raw);
            k->wraps++;
        } else {
            /* A 64-bit counter going back means the driver restarted it from zero. */
            delta = raw;
            k->resets++;
            recover_reset(d, k, s);
        }
        /* A counter that updates faster than we can poll (RAPL, ~1 ms) is current at every
         * reading, changed or not: each reading is a step. */
        if (delta || joules__track_fast(d))
            fold_step(d, k, s, delta);
    }
    k->last_raw = s->counter_raw;
}

/*
 * Keep the power read at t as a point. Sensors publish a new value every few tens of ms;
 * readings in between repeat it. A run of equal readings is kept as its two ends, so that
 * tight loops of windows do not flush the history that edges are estimated from.
 */
static void push_point(struct joules__track *k, int64_t t, double pw)
{
    if (k->pts_n >= 2 && pt_at(k, k->pts_n - 1)->power_w == pw &&
        pt_at(k, k->pts_n - 2)->power_w == pw) {
        struct point *last = &k->pts[(k->pts_next + PTS_RING - 1) % PTS_RING];
        last->t_ns = t;
        last->integ_j = k->integ_j;
    } else {
        struct point *pt = &k->pts[k->pts_next];
        pt->t_ns = t;
        pt->power_w = pw;
        pt->integ_j = k->integ_j;
        k->pts_next = (k->pts_next + 1) % PTS_RING;
        if (k->pts_n < PTS_RING)
            k->pts_n++;
    }
}

/* Fold reading s into the history. */
static void fold_reading(struct joules__domain *d, struct joules__track *k,
                         const struct joules__sample *s)
{
    int64_t t = s->t_ns;
    if (s->have_power)
        fold_power(k, s);
    if (s->have_counter)
        fold_counter(d, k, s);
    if (!k->primed) {
        k->open_ns = t;
        k->primed = 1;
    }
    k->last_t_ns = t;
    push_point(k, t, s->have_power ? s->power_w : -1.0);
    /* A counter that never moves while power is drawn is not to be trusted (some boards
     * report the symbol but leave the value still). */
    if (s->have_counter && !k->frozen && k->steps_seen == 0 && t - k->open_ns > 10 * period_ns(d) &&
        k->integ_j > 0.5)
        k->frozen = 1;
}

int joules__track_read(struct joules__domain *d, struct joules__sample *s, char *msg, size_t len)
{
    struct joules__track *k = d->track;
    memset(s, 0, sizeof *s);
    int rc = d->ops->read(d, s, msg, len);
    if (rc == 0) {
        if (!s->t_ns)
            s->t_ns = joules__now_ns();
        fold_reading(d, k, s);
        k->error = 0;
    } else {
        k->error = rc;
        joules__msg(k->message, sizeof k->message, "%s", msg);
    }
    return rc;
}

int joules__track_poll(struct joules__domain *d, char *msg, size_t len)
{
    struct joules__sample s;
    pthread_mutex_lock(&d->lock);
    int rc = joules__track_read(d, &s, msg, len);
    pthread_mutex_unlock(&d->lock);
    return rc;
}

/* Binary search: the readings are held in time order. */
unsigned joules__first_point_after(const struct joules__track *k, int64_t t)
{
    unsigned lo = 0, hi = k->pts_n;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if (pt_at(k, mid)->t_ns <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The rate where no power sensor exists. */
double joules__counter_rate_w(const struct joules__track *k)
{
    if (k->steps_n < 2)
        return -1.0;
    const struct step *a = step_at(k, k->steps_n - 2), *b = step_at(k, k->steps_n - 1);
    double ta = (double)a->t_ns, tb = (double)b->t_ns;
    return tb > ta ? (b->counter_j - a->counter_j) / ((tb - ta) * 1e-9) : -1.0;
}

double joules__step_rate_w(const struct step *a, const struct step *b)
{
    int64_t dt = b->t_ns - a->t_ns;
    return dt > 0 ? (b->counter_j - a->counter_j) / ((double)dt * 1e-9) : -1.0;
}

/*
 * Evidence of load changing faster than the counter steps: a sensor that averages part of
 * each period (25 ms of 100 ms) and the counter (all of it) disagree when the load varies
 * inside the period, e.g. a 100 ms square wave that the sensor always samples in the same
 * phase. For the interval ending at step i (i >= 1), |power published with it - rate|.
 */
double joules__intra_period_w(const struct joules__track *k, unsigned i)
{
    if (i == 0 || i >= k->steps_n)
        return 0.0;
    const struct step *a = step_at(k, i - 1), *b = step_at(k, i);
    double rate = joules__step_rate_w(a, b);
    return (b->power_w >= 0 && rate >= 0) ? fabs(b->power_w - rate) : 0.0;
}

int joules__track_fast(const struct joules__domain *d)
{
    return period_ns(d) < FAST_COUNTER_NS;
}

int joules__track_counter_state(struct joules__domain *d)
{
    pthread_mutex_lock(&d->lock);
    int st = d->track->frozen ? -1 : d->track->steps_seen > 0;
    pthread_mutex_unlock(&d->lock);
    return st;
}

int joules__track_reading(struct joules__domain *d, joules_reading *r)
{
    struct joules__sample s;
    char msg[JOULES_MESSAGE_MAX];
    pthread_mutex_lock(&d->lock);
    struct joules__track *k = d->track;
    int rc = joules__track_read(d, &s, msg, sizeof msg);
    r->valid = rc == 0;
    r->error = rc;
    r->t_ns = rc == 0 ? s.t_ns : k->last_t_ns;
    r->energy_j = (k->have_raw && !k->frozen) ? k->counter_j : k->integ_j;
    r->power_w = k->last_power_w >= 0 ? k->last_power_w : joules__counter_rate_w(k);
    pthread_mutex_unlock(&d->lock);
    return rc;
}
