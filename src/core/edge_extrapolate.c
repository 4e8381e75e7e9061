/* SPDX-License-Identifier: MIT */
/*
 * edge_extrapolate.c - the energy between a counter step and an edge beyond the steps held
 * (an edge after the last step, or before the oldest), from the power readings, and how far
 * off it may be: a sensor that lags may not show a change of load yet.
 */
#include <math.h>

#include "core/track.h"

#define SPREAD_HISTORY_NS 2000000000LL /* look-back for the power spread of extrapolations */

/* Power at t from the samples (linear between samples, held at the ends). */
static double power_at(const struct joules__track *k, int64_t t)
{
    unsigned i = joules__first_point_after(k, t);
    const struct point *before = NULL, *after = NULL;
    for (unsigned j = i; j-- > 0;)
        if (pt_at(k, j)->power_w >= 0) {
            before = pt_at(k, j);
            break;
        }
    for (unsigned j = i; j < k->pts_n; j++)
        if (pt_at(k, j)->power_w >= 0) {
            after = pt_at(k, j);
            break;
        }
    if (before && after && after->t_ns > before->t_ns)
        return before->power_w + (after->power_w - before->power_w) * (double)(t - before->t_ns) /
                                     (double)(after->t_ns - before->t_ns);
    return before ? before->power_w : after ? after->power_w : -1.0;
}

/*
 * How far a series of powers (readings, or the counter's rates) swung and how often the load
 * changed in it. One change of load shows as a few published steps (ramps, averaging):
 * changes closer than two periods count as one event.
 */
struct swing {
    double min_w, max_w, last_w;
    int changes;
    int64_t last_change_ns, period_ns;
};

static struct swing swing_start(const struct joules__domain *d)
{
    return (struct swing){INFINITY, -INFINITY, -1.0, 0, INT64_MIN / 2, period_ns(d)};
}

static void swing_add(struct swing *s, int64_t t_ns, double p_w)
{
    if (s->last_w >= 0 && fabs(p_w - s->last_w) > fmax(5.0, 0.05 * s->last_w)) {
        if (t_ns - s->last_change_ns > 2 * s->period_ns)
            s->changes++;
        s->last_change_ns = t_ns;
    }
    s->last_w = p_w;
    s->min_w = fmin(s->min_w, p_w);
    s->max_w = fmax(s->max_w, p_w);
}

static double swing_spread_w(const struct swing *s)
{
    return s->max_w >= s->min_w ? s->max_w - s->min_w : 0.0;
}

/*
 * Integral of power over [a, b] (J) from the samples, with the spread (max - min) of the
 * power seen over the interval widened by the sensor's averaging window: a lagging sensor
 * hides changes, and the spread is how much it may hide.
 */
static double power_integral(const struct joules__domain *d, const struct joules__track *k,
                             int64_t a, int64_t b, double *spread_w, double *changes_per_s)
{
    double sum = 0.0;
    struct swing sw = swing_start(d);
    int64_t lag = lag_ns(d);
    /* How far power has swung lately is the best guide to how far it may have moved since
     * the sensor last published: look back further than the sensor's own lag. */
    int64_t back = lag > SPREAD_HISTORY_NS ? lag : SPREAD_HISTORY_NS;
    int64_t prev_t = a;
    double prev_p = power_at(k, a);
    for (unsigned i = joules__first_point_after(k, a - back); i < k->pts_n; i++) {
        const struct point *p = pt_at(k, i);
        if (p->t_ns > b + lag)
            break;
        if (p->power_w < 0)
            continue;
        swing_add(&sw, p->t_ns, p->power_w);
        if (p->t_ns <= a || p->t_ns >= b)
            continue;
        sum += 0.5 * (prev_p + p->power_w) * (double)(p->t_ns - prev_t) * 1e-9;
        prev_t = p->t_ns;
        prev_p = p->power_w;
    }
    double end_p = power_at(k, b);
    if (prev_p >= 0 && end_p >= 0)
        sum += 0.5 * (prev_p + end_p) * (double)(b - prev_t) * 1e-9;
    *spread_w = swing_spread_w(&sw);
    *changes_per_s = sw.changes / ((double)(b + lag - (a - back)) * 1e-9);
    return sum;
}

/*
 * The swing of the counter's rates over the last SPREAD_HISTORY_NS before t and how often
 * the load changed, as power_integral gives them from readings: for readings too slow to
 * show either.
 */
static void rate_swing(const struct joules__domain *d, const struct joules__track *k, int64_t t,
                       double *spread_w, double *changes_per_s)
{
    struct swing sw = swing_start(d);
    int64_t first_ns = t;
    for (unsigned i = 1; i < k->steps_n; i++) {
        const struct step *a = step_at(k, i - 1), *b = step_at(k, i);
        double r = joules__step_rate_w(a, b);
        if (b->t_ns < t - SPREAD_HISTORY_NS || r < 0)
            continue;
        first_ns = a->t_ns < first_ns ? a->t_ns : first_ns;
        swing_add(&sw, b->t_ns, r);
    }
    *spread_w = swing_spread_w(&sw);
    *changes_per_s = t > first_ns ? sw.changes / ((double)(t - first_ns) * 1e-9) : 0.0;
}

double joules__extrapolate(const struct joules__domain *d, const struct joules__track *k,
                           const struct step *st, int64_t t, double *err)
{
    int64_t t_step = st->t_ns;
    int64_t a = t_step < t ? t_step : t, b = t_step < t ? t : t_step;
    double spread = 0.0, changes_per_s = 0.0, part;
    int have_power = k->last_power_w >= 0;
    double p_step;
    /* The rate next to the step: the newest interval's forward, the oldest's backward (an
     * edge before every held step). */
    double near_rate = joules__counter_rate_w(k);
    if (t < t_step && k->steps_n >= 2 && st == step_at(k, 0))
        near_rate = joules__step_rate_w(step_at(k, 0), step_at(k, 1));
    if (have_power && slow_reading(d) && near_rate >= 0) {
        rate_swing(d, k, b, &spread, &changes_per_s);
        p_step = near_rate;
        part = p_step * (double)(b - a) * 1e-9;
    } else if (have_power) {
        part = power_integral(d, k, a, b, &spread, &changes_per_s);
        p_step = power_at(k, t_step);
    } else {
        p_step = fmax(joules__counter_rate_w(k), 0.0);
        part = p_step * (double)(b - a) * 1e-9;
    }
    double gap_s = (double)(b - a) * 1e-9;
    double timing = p_step * (double)st->half_ns * 1e-9;
    /* The sensor may not have published a change of load yet. How likely one is within the
     * gap follows from how often the load changed lately; past a 5 % chance, the recent
     * swing of power bounds what it could have hidden. */
    double p_change = changes_per_s * gap_s;
    double sensor = fmax(EXTRAP_REL_ERR * part, p_change > 0.05 ? spread * gap_s : 0.0);
    double inside = 2.0 * joules__intra_period_w(k, k->steps_n - 1) * gap_s;
    *err = sqrt(timing * timing + sensor * sensor + inside * inside) + d->counter_unit_j;
    return t_step <= t ? part : -part;
}
