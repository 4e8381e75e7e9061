/* SPDX-License-Identifier: MIT */
/*
 * counter_clock.c - the counter's update clock, recovered from its steps.
 *
 * A slow counter updates on a steady clock of its own (NVIDIA: about every 100 ms). Each
 * step we see only says it happened within our polling interval (5 ms), but a run of them
 * pins the period and phase much closer: every step i happened at phi + n_i * T, with
 * lo_i < phi + n_i * T <= hi_i. Any two steps bound T; the periods allowed by all pairs
 * form an interval, and each allows a range of phi. Every step is then placed on the clock
 * of the allowed period nearest the stated one, at the centre of the phases it allows, its
 * half-width what the whole set allows (at least CLOCK_FLOOR_NS).
 * One clock for all held steps keeps the rates between them, and the edges of a window,
 * consistent. A counter whose update period wanders leaves no consistent clock: its steps
 * keep their own intervals.
 */
#include <math.h>

#include "core/track.h"

#define CLOCK_FLOOR_NS 300000LL /* never claim a step's time closer than 0.3 ms */

/* The clock through steps [first, first + n): 0 and the bounds of T, or -1 if none fits. */
static int period_bounds(const struct joules__track *k, unsigned first, unsigned n, const long *idx,
                         double *tlo, double *thi)
{
    *tlo = -INFINITY;
    *thi = INFINITY;
    for (unsigned i = 0; i < n; i++) {
        const struct step *si = step_at(k, first + i);
        for (unsigned j = i + 1; j < n; j++) {
            const struct step *sj = step_at(k, first + j);
            long dn = idx[j] - idx[i];
            if (dn <= 0)
                return -1;
            *tlo = fmax(*tlo, (double)(sj->lo_ns - si->hi_ns) / (double)dn);
            *thi = fmin(*thi, (double)(sj->hi_ns - si->lo_ns) / (double)dn);
        }
    }
    return *tlo <= *thi ? 0 : -1;
}

/* The phases every step allows for period T: step i may then be in [plo, phi] + n_i * T. */
static void phase_bounds(const struct joules__track *k, unsigned first, unsigned n, const long *idx,
                         double T, double *plo, double *phi)
{
    *plo = -INFINITY;
    *phi = INFINITY;
    for (unsigned j = 0; j < n; j++) {
        const struct step *sj = step_at(k, first + j);
        *plo = fmax(*plo, (double)sj->lo_ns - (double)idx[j] * T);
        *phi = fmin(*phi, (double)sj->hi_ns - (double)idx[j] * T);
    }
}

/* Place steps [first, first + n) on one clock near period: 0, or -1 if no clock fits them. */
static int fit_steps(struct joules__track *k, unsigned first, unsigned n, int64_t period)
{
    const struct step *s0 = step_at(k, first), *sl = step_at(k, first + n - 1);
    double mid0 = 0.5 * (double)(s0->lo_ns + s0->hi_ns);
    double span = 0.5 * (double)(sl->lo_ns + sl->hi_ns) - mid0;
    long periods = lround(span / (double)period);
    if (periods < (long)n - 1)
        return -1;
    double t_est = span / (double)periods;
    long idx[STEP_RING];
    for (unsigned i = 0; i < n; i++) {
        const struct step *st = step_at(k, first + i);
        idx[i] = lround((0.5 * (double)(st->lo_ns + st->hi_ns) - mid0) / t_est);
    }
    double tlo, thi;
    if (period_bounds(k, first, n, idx, &tlo, &thi) != 0)
        return -1;
    /* The period the driver states, where the steps allow it, else the nearest they allow:
     * with few steps the range is wide, and its centre can be a percent or more off the
     * true period, which misplaces the steps at its ends by milliseconds. */
    double T = fmin(fmax((double)period, tlo), thi), c_lo, c_hi, a_lo, a_hi, b_lo, b_hi;
    phase_bounds(k, first, n, idx, T, &c_lo, &c_hi);
    phase_bounds(k, first, n, idx, tlo, &a_lo, &a_hi);
    phase_bounds(k, first, n, idx, thi, &b_lo, &b_hi);
    for (unsigned i = 0; i < n; i++) {
        double ni = (double)idx[i];
        double clo = c_lo + ni * T, chi = c_hi + ni * T; /* at the centre of the periods */
        double lo = fmin(clo, fmin(a_lo + ni * tlo, b_lo + ni * thi)); /* over all of them */
        double hi = fmax(chi, fmax(a_hi + ni * tlo, b_hi + ni * thi));
        struct step *st = (struct step *)step_at(k, first + i);
        int64_t half = (int64_t)(0.5 * (hi - lo));
        half = half < CLOCK_FLOOR_NS ? CLOCK_FLOOR_NS : half;
        /* Where the whole set allows less than the step's own interval, the clock's place
         * and width; else the clock's place within its own interval, which keeps its width
         * (a step the clock places off the centre of its interval is not left there). */
        int64_t own = (st->hi_ns - st->lo_ns) / 2;
        if (clo <= chi) {
            double at = 0.5 * (clo + chi);
            at = fmin(fmax(at, (double)st->lo_ns), (double)st->hi_ns);
            st->t_ns = (int64_t)at;
            /* A counter's start need not fall on its clock: that step keeps its width. */
            st->half_ns = half < own && !st->off_clock ? half : own;
        }
    }
    return 0;
}

/* Every held step back at the centre of its own interval, with that interval's width. */
static void unfit_steps(struct joules__track *k)
{
    for (unsigned i = 0; i < k->steps_n; i++) {
        struct step *st = (struct step *)step_at(k, i);
        st->t_ns = st->lo_ns + (st->hi_ns - st->lo_ns) / 2;
        st->half_ns = (st->hi_ns - st->lo_ns) / 2;
    }
}

void joules__counter_clock_fit(const struct joules__domain *d, struct joules__track *k)
{
    if (k->steps_n < 4 || joules__track_fast(d))
        return;
    /* No one period and phase fit every held step: the clock wanders (each period differs a
     * little from the last, and the differences add up). A fit to fewer of them would still
     * claim the tight times of a fixed clock, which the wander moves by milliseconds, and
     * times an earlier fit gave are no better: every step keeps its own interval, the only
     * thing known of it whatever the wander. */
    if (fit_steps(k, 0, k->steps_n, period_ns(d)) != 0)
        unfit_steps(k);
}
