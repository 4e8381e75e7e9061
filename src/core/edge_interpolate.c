/* SPDX-License-Identifier: MIT */
/*
 * edge_interpolate.c - the energy at an edge between two counter steps.
 *
 * Between two counter steps the counter itself is the best witness: it says exactly how much
 * energy went by, and only its distribution in time is unknown. Power sensors lag (NVIDIA's
 * publish the mean of the window before each update), so within the interval the edge takes
 * a share of the interval's energy in proportion to time, unless the readings and the
 * neighbouring intervals show one change of load inside it (share_before). The error is how
 * far that share may be from the truth if power stayed within the range [lo, hi] that the
 * counter's rates around the interval and the sensor's readings allow: the interval's energy
 * may be packed at either end, but no faster than hi and no slower than lo.
 */
#include <math.h>

#include "core/track.h"

/* Lowest and highest power the sensor published around [a, b] (its lag included). */
static int reading_range(const struct joules__domain *d, const struct joules__track *k, int64_t a,
                         int64_t b, double *lo, double *hi)
{
    int64_t lag = lag_ns(d);
    int found = 0;
    for (unsigned i = joules__first_point_after(k, a - lag); i < k->pts_n; i++) {
        const struct point *p = pt_at(k, i);
        if (p->t_ns > b + lag)
            break;
        if (p->power_w < 0)
            continue;
        *lo = found ? fmin(*lo, p->power_w) : p->power_w;
        *hi = found ? fmax(*hi, p->power_w) : p->power_w;
        found = 1;
    }
    return found;
}

/* Mean power of the interval from step i to step i + 1. */
static double interval_rate_w(const struct joules__track *k, unsigned i)
{
    return joules__step_rate_w(step_at(k, i), step_at(k, i + 1));
}

/* Does the interval starting at step i agree with its neighbour on side dir (-1: the one
 * before, +1: the one after), or have none there? */
static int plateau(const struct joules__track *k, unsigned i, int dir)
{
    long j = (long)i + dir;
    if (j < 0 || j + 1 >= (long)k->steps_n)
        return 1;
    double r = interval_rate_w(k, i), q = interval_rate_w(k, (unsigned)j);
    return fabs(r - q) <= flat_w(r);
}

/* Energy before t_s of an interval at rate `rate` if power went from l0 to l1 once in it;
 * -1 when the rate is not between the two levels (no single change explains it). */
static double one_change(double l0, double l1, double rate, double t_s, double span_s)
{
    double f = (l1 - rate) / (l1 - l0); /* fraction of the interval at l0 */
    if (!(f > 0.0 && f < 1.0))
        return -1.0;
    double tc = f * span_s;
    return t_s <= tc ? l0 * t_s : l0 * tc + l1 * (t_s - tc);
}

/*
 * Work that stops takes its dynamic power with it at once; work that starts draws more as
 * the clocks climb. A fall is a step; a rise is anything between the step (the least energy
 * before t that a monotone rise allows) and the interval's mean rate (the most): the middle
 * of the two is off by at most half of their gap, whatever the shape of the climb.
 */
static double rise_share(double l0, double l1, double step, double linear)
{
    return l1 > l0 ? 0.5 * (step + linear) : step;
}

/*
 * The energy before t_s of an interval (total, span_s) in which power went once from l0 to
 * l1. A sensor that averages only the last w_s of each period (GA100, GH100: 25 ms) says
 * what that part held (p_end * w_s, p_end < 0: unknown): the change then lies in the rest.
 * -1 when no single change explains the interval.
 */
static double changed_share(double l0, double l1, double total, double span_s, double t_s,
                            double w_s, double p_end)
{
    if (p_end >= 0 && w_s > 0 && w_s < 0.5 * span_s) {
        double head_s = span_s - w_s, head = total - p_end * w_s;
        if (head < 0)
            return -1.0;
        if (t_s >= head_s)
            return head + p_end * (t_s - head_s);
        double rate = head / head_s, step = one_change(l0, p_end, rate, t_s, head_s);
        return step >= 0 ? rise_share(l0, p_end, step, rate * t_s) : rate * t_s;
    }
    double rate = total / span_s, step = one_change(l0, l1, rate, t_s, span_s);
    return step >= 0 ? rise_share(l0, l1, step, rate * t_s) : -1.0;
}

/*
 * The level the board rests at below `below`: the lowest held interval that agrees with a
 * neighbour (a load held for two periods at least) other than the one from step skip, else
 * the least power seen. The lowest level places a fall latest, at the edge of a window that
 * stops its work and no later.
 */
static double rest_level_w(const struct joules__track *k, unsigned skip, double below)
{
    double rest = INFINITY;
    for (unsigned i = 0; i + 1 < k->steps_n; i++) {
        if (i == skip || i + 1 == skip)
            continue;
        double r = interval_rate_w(k, i);
        int flat_before =
            i > 0 && i - 1 != skip && fabs(interval_rate_w(k, i - 1) - r) <= flat_w(r);
        int flat_after =
            i + 2 < k->steps_n && i + 1 != skip && fabs(interval_rate_w(k, i + 1) - r) <= flat_w(r);
        if ((flat_before || flat_after) && r < below)
            rest = fmin(rest, r);
    }
    return isfinite(rest) ? rest : k->floor_w;
}

/*
 * The energy before t (t_s into it) of the interval from step ib to ib + 1 (span_s long, at a
 * mean rate `rate`). Linear in time unless the load changed once inside it, as when a window
 * starts or stops the work it measures, or a square wave turns: then, for a single change,
 * the counter says where, and the energy before t follows that change. The levels on either
 * side come from the sensor's readings published with the two steps (a sensor that averages
 * the last 25 ms of each period shows the power at the boundaries), or else from the
 * intervals around, when both are plateaus.
 */
static double share_before(const struct joules__domain *d, const struct joules__track *k,
                           unsigned ib, double rate, double t_s, double span_s)
{
    double linear = rate * t_s, total = rate * span_s, w = d->power_window_s;
    const struct step *a = step_at(k, ib), *b = step_at(k, ib + 1);
    double flat = flat_w(rate);
    /* A load that varies faster than the period (bursts) also gives readings that differ at
     * the two ends: the model holds only where a neighbouring interval sits at the level
     * read on its side. */
    int level_before = ib > 0 && a->power_w >= 0 &&
                       fabs(interval_rate_w(k, ib - 1) - a->power_w) <= flat_w(a->power_w);
    int level_after = ib + 2 < k->steps_n && b->power_w >= 0 &&
                      fabs(interval_rate_w(k, ib + 1) - b->power_w) <= flat_w(b->power_w);
    /* The end edge of a settled window has no interval after it yet. When the power was
     * still climbing into this interval (the one before ran below the reading at its end:
     * work began inside it, as a pulse that straddles a step) and the reading at its own end
     * differs, the interval is taken to hold one change between the two readings. */
    int climbing_in =
        ib > 0 && a->power_w >= 0 && interval_rate_w(k, ib - 1) < a->power_w - flat_w(a->power_w);
    int nothing_after = ib + 2 >= k->steps_n;
    if ((level_before || level_after || (climbing_in && nothing_after)) && a->power_w >= 0 &&
        b->power_w >= 0 && fabs(b->power_w - a->power_w) > 2.0 * flat) {
        double e = changed_share(a->power_w, b->power_w, total, span_s, t_s, w, b->power_w);
        if (e >= 0)
            return e;
    }
    if (ib == 0 || ib + 2 >= k->steps_n)
        return linear;
    double r1 = interval_rate_w(k, ib - 1), r2 = interval_rate_w(k, ib + 1);
    flat = flat_w(fmax(fabs(r1), fabs(r2)));
    if (fabs(r2 - r1) <= 2.0 * flat || !plateau(k, ib - 1, -1) || !plateau(k, ib + 1, +1))
        return linear;
    double e = changed_share(r1, r2, total, span_s, t_s, w, b->power_w);
    return e >= 0 ? e : linear;
}

/*
 * The end edge of a settled window, the interval before it a plateau and this one below it:
 * work may have stopped inside this interval, and nothing after it shows the level it fell
 * to. Had it fallen to rest (rest_level_w, or given), where the
 * counter then places the fall, the energy before t_s would be this; -1 when the interval
 * is not such a one. A window that stops its work ends at that fall; the estimate does not
 * assume it (a load may fall on its own anywhere), but the edge's error takes it in.
 */
static double fall_to_rest_share(const struct joules__domain *d, const struct joules__track *k,
                                 unsigned ib, double rate, double t_s, double span_s, double rest,
                                 double above_w)
{
    if (ib == 0 || ib + 2 < k->steps_n)
        return -1.0;
    double r1 = interval_rate_w(k, ib - 1), flat = flat_w(rate);
    if (!plateau(k, ib - 1, -1) || !(rate < r1 - 2.0 * flat_w(r1)) || !(rest < rate - flat))
        return -1.0;
    return changed_share(r1 + above_w, rest, rate * span_s, span_s, t_s, d->power_window_s,
                         step_at(k, ib + 1)->power_w);
}

/* How far the share before t_s may be from `before` if work stopped inside the interval: its
 * rest level anywhere from the least power seen to the lowest level held lately, the level
 * before the fall that of the interval before, or as far above it as a plateau drifts. */
static double fall_err(const struct joules__domain *d, const struct joules__track *k, unsigned ib,
                       double rate, double t_s, double span_s, double before)
{
    if (ib == 0)
        return 0.0;
    double err = 0.0, rests[2] = {rest_level_w(k, ib, rate - flat_w(rate)), k->floor_w};
    double drift = flat_w(interval_rate_w(k, ib - 1));
    int falls = 0;
    for (int i = 0; i < 4; i++) {
        double fallen =
            fall_to_rest_share(d, k, ib, rate, t_s, span_s, rests[i % 2], i < 2 ? 0.0 : drift);
        if (fallen >= 0)
            err = fmax(err, fabs(fallen - before)), falls++;
    }
    /* Whatever the level it fell to, no more than the level before (and its drift) until t.
     * What follows a fall may dip below anything seen before it (clocks drop at once, and the
     * least power seen may date from a warmer board): nothing is assumed of it. */
    if (falls) {
        double r1 = interval_rate_w(k, ib - 1) + drift;
        err = fmax(err, fmin(r1 * t_s, rate * span_s) - before);
    }
    return err;
}

/* What the intervals around one say of the power in it. */
struct around {
    double lo_w, hi_w;    /* the range of their rates */
    double intra_w;       /* the largest disagreement of sensor and counter among them */
    double swing_w;       /* how much the rate moved between the interval and ... */
    double swing_least_w; /* ... the neighbour closest to it */
    int neighbours;
};

/* Take in a neighbouring interval at rate r_w whose sensor disagreed by intra_w. */
static void add_neighbour(struct around *ar, double rate, double r_w, double intra_w)
{
    ar->lo_w = fmin(ar->lo_w, r_w);
    ar->hi_w = fmax(ar->hi_w, r_w);
    ar->swing_w = fmax(ar->swing_w, fabs(rate - r_w));
    ar->swing_least_w = fmin(ar->swing_least_w, fabs(rate - r_w));
    ar->intra_w = fmax(ar->intra_w, intra_w);
    ar->neighbours++;
}

/*
 * The range power may have spanned in the interval from step ib (mean rate `rate`): the
 * counter's rates around the interval, the sensor's readings, and their disagreement (a
 * sensor that averages 25 ms of each 100 ms sees the peaks and troughs of a load that varies
 * inside the period).
 */
static void power_range(const struct joules__domain *d, const struct joules__track *k, unsigned ib,
                        double rate, double *lo_w, double *hi_w)
{
    const struct step *a = step_at(k, ib), *b = step_at(k, ib + 1);
    double own_intra = joules__intra_period_w(k, ib + 1);
    struct around ar = {rate, rate, own_intra, 0.0, INFINITY, 0};
    if (ib > 0)
        add_neighbour(&ar, rate, joules__step_rate_w(step_at(k, ib - 1), a),
                      joules__intra_period_w(k, ib));
    if (ib + 2 < k->steps_n)
        add_neighbour(&ar, rate, joules__step_rate_w(b, step_at(k, ib + 2)),
                      joules__intra_period_w(k, ib + 2));
    double lo = ar.lo_w, hi = ar.hi_w;
    /* With one side unknown (the edge of a settled window: the next interval has not
     * happened yet), a change seen on the other side may have gone on inside this one. */
    if (ar.neighbours < 2) {
        lo = fmin(lo, rate - ar.swing_w);
        hi = fmax(hi, rate + ar.swing_w);
    }
    double plo, phi;
    if (reading_range(d, k, a->t_ns, b->t_ns, &plo, &phi)) {
        lo = fmin(lo, plo);
        hi = fmax(hi, phi);
    }
    lo = fmin(lo, rate - 2.0 * ar.intra_w);
    hi = fmax(hi, rate + 2.0 * ar.intra_w);
    /* An interval unlike both neighbours, or whose sensor reading disagrees with its rate,
     * held a change of load, which may have peaked above anything the counter's means or a
     * part-time sensor showed (a 10 ms kernel inside a 100 ms interval): its energy could sit
     * anywhere in it, between the least power seen and the most the board can draw. */
    double flat = flat_w(rate);
    if ((ar.neighbours && ar.swing_least_w > flat) || own_intra > flat) {
        hi = fmax(hi, d->power_max_w);
        lo = fmin(lo, k->floor_w);
    }
    *lo_w = fmax(lo, 0.0);
    *hi_w = hi;
}

/*
 * Did the load change between the interval before step ib and the interval from it (rate)?
 * Each rate rests on the times of its two steps, milliseconds wide where the clock wanders:
 * a steady load's rates differ by that much, and more than that is a change.
 */
static int changed_from_before(const struct joules__track *k, unsigned ib, double rate)
{
    if (ib == 0)
        return 0;
    const struct step *p = step_at(k, ib - 1), *a = step_at(k, ib), *b = step_at(k, ib + 1);
    double r1 = joules__step_rate_w(p, a);
    double span_s = (double)(b->t_ns - a->t_ns) * 1e-9,
           before_s = (double)(a->t_ns - p->t_ns) * 1e-9;
    if (!(span_s > 0.0 && before_s > 0.0))
        return 0;
    double ha = (double)a->half_ns * 1e-9;
    double timing_w = fabs(rate) * (ha + (double)b->half_ns * 1e-9) / span_s +
                      fabs(r1) * ((double)p->half_ns * 1e-9 + ha) / before_s;
    return fabs(rate - r1) > 2.0 * flat_w(r1) + timing_w;
}

/*
 * The end edge of a settled window sits in the last interval held, with nothing after it to
 * show the level that followed. Work that stops at the edge leaves the power after it at rest;
 * the interval's mean need not show it when the power before the edge ran above the
 * neighbouring means (the clocks climbing again after each pause of the host: a board whose
 * reading is the period's mean cannot show that). Had the power after t_s sat at the least
 * seen, the share before would be this far above `before` (0: not the last interval).
 */
static double hidden_stop(const struct joules__domain *d, const struct joules__track *k,
                          unsigned ib, double rate, double total, double t_s, double span_s,
                          double before)
{
    if (ib + 2 < k->steps_n)
        return 0.0;
    double rest = rest_level_w(k, ib, rate - flat_w(rate));
    if (isfinite(k->floor_w))
        rest = fmin(rest, k->floor_w);
    rest = isfinite(rest) ? fmax(rest, 0.0) : 0.0;
    double top = fmax(d->power_max_w, rate);
    double most = fmin(top * t_s, total - rest * (span_s - t_s));
    return fmax(most - before, 0.0);
}

/* The counter energy at t, between steps ib and ib + 1, with its error and its interval. */
void joules__interpolate(const struct joules__domain *d, const struct joules__track *k, unsigned ib,
                         int64_t t, struct joules__edge *e)
{
    const struct step *a = step_at(k, ib), *b = step_at(k, ib + 1);
    int64_t ta = a->t_ns, tb = b->t_ns;
    double w = (double)(t - ta) / (double)(tb - ta);
    w = w < 0 ? 0 : w > 1 ? 1 : w;
    double rate = joules__step_rate_w(a, b), lo, hi;
    power_range(d, k, ib, rate, &lo, &hi);
    double span_s = (double)(tb - ta) * 1e-9, t_s = w * span_s, left_s = span_s - t_s;
    double total = b->counter_j - a->counter_j;
    double before = share_before(d, k, ib, rate, t_s, span_s);
    /* However the interval's energy was laid out with power in [lo, hi], the part before t
     * lies in [least, most]; the error is the distance to the farther end. */
    double least = fmax(lo * t_s, total - hi * left_s);
    double most = fmin(hi * t_s, total - lo * left_s);
    double shape = fmax(fmax(most - before, before - least), 0.0);
    double stops = fall_err(d, k, ib, rate, t_s, span_s, before);
    shape = fmax(shape, stops);
    double ha = (double)a->half_ns * 1e-9, hb = (double)b->half_ns * 1e-9;
    /* A step placed off its true time moves the energy before t by the power at that step,
     * which may be anything in [lo, hi], not the interval's mean (a change of load next to
     * the step; a clock that wanders leaves the steps milliseconds wide). */
    double timing = fmax(hi, 0.0) * hypot(ha, hb);
    /* A rate above the rest level (the interval before, or the lowest level held lately: the
     * interval before may hold the end of other work) may be work that began at t; one below
     * the interval before, work that stopped at t (the far ends of [least, most], or the
     * fall to rest above). */
    double r1 = ib > 0 ? interval_rate_w(k, ib - 1) : rate;
    double rest = fmin(r1, rest_level_w(k, ib, rate - flat_w(rate)));
    double starts = rate > rest + 2.0 * flat_w(rest) ? fmax(before - least, 0.0) : 0.0;
    if (rate < r1 - 2.0 * flat_w(r1))
        stops = fmax(stops, most - before);
    e->counter_j = a->counter_j + before;
    e->counter_err_j = hypot(shape, timing) + d->counter_unit_j;
    e->counter_final = 1;
    e->span = (struct joules__span){.seq = a->seq,
                                    .span_s = span_s,
                                    .energy_j = total,
                                    .lo_w = lo,
                                    .hi_w = hi,
                                    .least_j = least,
                                    .most_j = most,
                                    .timing_j = timing,
                                    .starts_j = starts,
                                    .stops_j = stops,
                                    .changed = changed_from_before(k, ib, rate),
                                    .hides_stop_j =
                                        hidden_stop(d, k, ib, rate, total, t_s, span_s, before)};
}
