/* SPDX-License-Identifier: MIT */
/*
 * track.c - what the core knows of each domain over time, and the energy at an instant.
 *
 * Energy counters do not tick continuously: NVIDIA's steps about every 100 ms, so reading it
 * at a window edge can be up to a whole period stale. We keep, per domain, the recent counter
 * steps (the counter value and the interval in which it changed) and the recent power
 * samples. The energy at an instant t is then the counter value at the nearest step plus or
 * minus the power integrated between that step and t. The nearest step may come after t: a
 * window's begin edge is re-anchored on the first step that follows it, which the tracker
 * thread sees within one period (joules__track_refine). Every estimate carries its error:
 * when the step happened (the polling interval), how far we extrapolated with a sensor that
 * may lag, and the counter's resolution.
 *
 * Counter wraps and resets are handled here, under the domain lock, in the same critical
 * section as the read, so no reading can fall between a wrap and its accounting.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"

#define PTS_RING          1024 /* power samples: 5 s at the default 5 ms tracker period */
#define STEP_RING         64   /* counter steps: over 6 s at NVIDIA's 100 ms update */
#define DEFAULT_PERIOD_NS 100000000LL
#define FAST_COUNTER_NS   10000000LL   /* counters updating faster: every read is a step */
#define SPREAD_HISTORY_NS 2000000000LL /* look-back for the power spread of extrapolations */
#define EXTRAP_REL_ERR    0.05 /* sensor error on the extrapolated part, when the load is steady */
#define FLAT_W            2.0  /* rates closer than this (or FLAT_REL of them) are one load */
#define FLAT_REL          0.02

struct point {
    int64_t t_ns;
    double power_w; /* -1 when unknown */
    double integ_j;
};

struct step {
    int64_t lo_ns; /* the counter changed in (lo_ns, hi_ns] */
    int64_t hi_ns;
    double counter_j; /* counter value right after the change */
    double power_w;   /* power read together with it (-1: none) */
    int64_t t_ns;     /* best estimate of when it changed, and how far off that may be */
    int64_t half_ns;
    uint64_t seq; /* which step it is, from 1: times move as the clock is learnt, this not */
};

struct joules__track {
    int primed;
    int have_raw;
    int64_t open_ns;
    int64_t last_t_ns;
    uint64_t last_raw;
    double counter_j; /* wrap-extended counter since the first reading, J */
    double last_power_w;
    double integ_j; /* trapezoid integral of power since the first reading, J */
    double floor_w; /* least power seen (readings, counter rates) since the first reading */
    double peak_w;  /* most power seen */
    int64_t power_changed_ns; /* the last reading that differed from the one before */
    int64_t load_changed_ns;  /* ... by more than FLAT_W / FLAT_REL (0: never) */
    uint64_t wraps;
    uint64_t resets;
    int frozen;
    struct point pts[PTS_RING];
    unsigned pts_n, pts_next;
    struct step steps[STEP_RING];
    unsigned steps_n, steps_next;
    unsigned steps_seen;
    uint64_t steps_pushed;
    int error;
    char message[JOULES_MESSAGE_MAX];
};

/* How far apart two powers may be and still be one load. */
static double flat_w(double p_w)
{
    return fmax(FLAT_W, FLAT_REL * fabs(p_w));
}

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

static int64_t period_ns(const struct joules__domain *d)
{
    return d->info.update_interval_ns ? (int64_t)d->info.update_interval_ns : DEFAULT_PERIOD_NS;
}

/*
 * How late a reading may show a change: its window plus a period. A reading that averages
 * only part of each period (25 ms of 100) is still published once a period and may hold the
 * change in the part it did not see: its window counts as the whole period here.
 */
static int64_t lag_ns(const struct joules__domain *d)
{
    double window_ns = fmax(d->power_window_s * 1e9, (double)period_ns(d));
    return (int64_t)window_ns + period_ns(d);
}

/*
 * A reading that averages several periods (the 1-s moving average, the only reading of GA10x
 * and newer boards on drivers before R535) still holds most of the second before: it moves by
 * a tenth of a change of load at each update, and the counter's last interval is more current
 * than it is. Its disagreement with the counter still says that the load moved lately.
 */
static int slow_reading(const struct joules__domain *d)
{
    return d->power_window_s * 1e9 > 1.5 * (double)period_ns(d);
}

static const struct point *pt_at(const struct joules__track *k, unsigned i)
{
    /* i-th oldest sample */
    unsigned start = (k->pts_next + PTS_RING - k->pts_n) % PTS_RING;
    return &k->pts[(start + i) % PTS_RING];
}

static const struct step *step_at(const struct joules__track *k, unsigned i)
{
    unsigned start = (k->steps_next + STEP_RING - k->steps_n) % STEP_RING;
    return &k->steps[(start + i) % STEP_RING];
}

/*
 * The value read before the first step we saw was set by the previous update, one period
 * earlier. Recording it as a step (with the period's jitter added to its timing) anchors
 * windows begun right after the monitor opened.
 */
static void push_first_step(struct joules__track *k, int64_t lo, int64_t hi, int64_t period,
                            double counter_j)
{
    struct step *st = &k->steps[k->steps_next];
    st->lo_ns = lo - period - period / 20;
    st->hi_ns = hi - period + period / 20;
    st->t_ns = st->lo_ns + (st->hi_ns - st->lo_ns) / 2;
    st->half_ns = (st->hi_ns - st->lo_ns) / 2;
    st->counter_j = counter_j;
    st->power_w = -1.0;
    st->seq = ++k->steps_pushed;
    k->steps_next = (k->steps_next + 1) % STEP_RING;
    if (k->steps_n < STEP_RING)
        k->steps_n++;
}

static double counter_rate_w(const struct joules__track *k);
static double step_rate_w(const struct step *a, const struct step *b);
static void phase_lock(const struct joules__domain *d, struct joules__track *k);

static void fold(struct joules__domain *d, struct joules__track *k, const struct joules__sample *s)
{
    int64_t t = s->t_ns;
    if (s->have_power) {
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
    if (s->have_counter) {
        if (!k->have_raw) {
            k->have_raw = 1;
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
            }
            /* A counter that updates faster than we can poll (RAPL, ~1 ms) is current at
             * every reading, changed or not: each reading is a step. */
            int fast = joules__track_fast(d);
            if (delta || fast) {
                k->counter_j += (double)delta * d->counter_unit_j;
                /* The counter is at most one update period old when we see it change. */
                int64_t hi = s->counter_done_ns > t ? s->counter_done_ns : t;
                int64_t lo = k->last_t_ns, p = period_ns(d);
                if (hi - lo > p)
                    lo = hi - p;
                /* Only when polling faster than the counter updates is the previous
                 * update known to be exactly one period before this one. */
                if (k->steps_seen == 0 && hi - k->last_t_ns < p)
                    push_first_step(k, lo, hi, p, k->counter_j - (double)delta * d->counter_unit_j);
                struct step *st = &k->steps[k->steps_next];
                st->lo_ns = lo;
                st->hi_ns = hi;
                st->t_ns = lo + (hi - lo) / 2;
                st->half_ns = (hi - lo) / 2;
                st->counter_j = k->counter_j;
                st->power_w = s->have_power ? s->power_w : -1.0;
                st->seq = ++k->steps_pushed;
                k->steps_next = (k->steps_next + 1) % STEP_RING;
                if (k->steps_n < STEP_RING)
                    k->steps_n++;
                k->steps_seen++;
                phase_lock(d, k);
                double rate = counter_rate_w(k);
                if (rate >= 0 && k->steps_seen >= 2) {
                    k->floor_w = fmin(k->floor_w, rate);
                    k->peak_w = fmax(k->peak_w, rate);
                }
                /* A reading that averages a second moves by a tenth of a change at each
                 * update: the counter's rates show the change of load instead. */
                if (slow_reading(d) && k->steps_n >= 3) {
                    const struct step *s0 = step_at(k, k->steps_n - 3);
                    const struct step *s1 = step_at(k, k->steps_n - 2);
                    double before = step_rate_w(s0, s1);
                    if (rate >= 0 && before >= 0 && fabs(rate - before) > flat_w(before))
                        k->load_changed_ns = t;
                }
            }
        }
        k->last_raw = s->counter_raw;
    }
    if (!k->primed) {
        k->open_ns = t;
        k->primed = 1;
    }
    k->last_t_ns = t;
    double pw = s->have_power ? s->power_w : -1.0;
    /* Sensors publish a new value every few tens of ms; readings in between repeat it. A run
     * of equal readings is kept as its two ends, so that tight loops of windows do not flush
     * the history that edges are estimated from. */
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

    /* A counter that never moves while power is drawn is not to be trusted (some boards
     * report the symbol but leave the value still). */
    if (s->have_counter && !k->frozen && k->steps_seen == 0 && t - k->open_ns > 10 * period_ns(d) &&
        k->integ_j > 0.5)
        k->frozen = 1;
}

static int read_and_fold(struct joules__domain *d, struct joules__sample *s, char *msg, size_t len)
{
    struct joules__track *k = d->track;
    memset(s, 0, sizeof *s);
    int rc = d->ops->read(d, s, msg, len);
    if (rc == 0) {
        if (!s->t_ns)
            s->t_ns = joules__now_ns();
        fold(d, k, s);
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
    int rc = read_and_fold(d, &s, msg, len);
    pthread_mutex_unlock(&d->lock);
    return rc;
}

/* Power at t from the samples (linear between samples, held at the ends). */
/* Index of the first sample later than t (pts_n if none); samples are in time order. */
static unsigned first_after(const struct joules__track *k, int64_t t)
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

/* Power at t from the samples (linear between samples, held at the ends). */
static double power_at(const struct joules__track *k, int64_t t)
{
    unsigned i = first_after(k, t);
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
    for (unsigned i = first_after(k, a - back); i < k->pts_n; i++) {
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

/* Mean power between the last two counter steps: the rate where no power sensor exists. */
static double counter_rate_w(const struct joules__track *k)
{
    if (k->steps_n < 2)
        return -1.0;
    const struct step *a = step_at(k, k->steps_n - 2), *b = step_at(k, k->steps_n - 1);
    double ta = (double)a->t_ns, tb = (double)b->t_ns;
    return tb > ta ? (b->counter_j - a->counter_j) / ((tb - ta) * 1e-9) : -1.0;
}

static int64_t step_mid(const struct step *st)
{
    return st->t_ns;
}

/*
 * A slow counter updates on a steady clock of its own (NVIDIA: about every 100 ms). Each
 * step we see only says it happened within our polling interval (5 ms), but a run of them
 * pins the period and phase much closer: every step i happened at phi + n_i * T, with
 * lo_i < phi + n_i * T <= hi_i. Any two steps bound T; the periods allowed by all pairs
 * form an interval, and each allows a range of phi. Every step is then placed on the clock
 * at the centre of that set, its half-width what the set allows (at least LOCK_FLOOR_NS).
 * One clock for all held steps keeps the rates between them, and the edges of a window,
 * consistent. A counter whose updates jitter leaves no consistent clock: its steps keep
 * their intervals (the last LOCK_SHORT steps are tried when all of them disagree).
 */
#define LOCK_SHORT    16
#define LOCK_FLOOR_NS 300000LL /* never claim a step's time closer than 0.3 ms */

/* The clock through steps [first, first + n): 0 and the bounds of T, or -1 if none fits. */
static int lock_period(const struct joules__track *k, unsigned first, unsigned n, const long *idx,
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
static void lock_phase(const struct joules__track *k, unsigned first, unsigned n, const long *idx,
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

static int lock_steps(struct joules__track *k, unsigned first, unsigned n, int64_t period)
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
    if (lock_period(k, first, n, idx, &tlo, &thi) != 0)
        return -1;
    double T = 0.5 * (tlo + thi), c_lo, c_hi, a_lo, a_hi, b_lo, b_hi;
    lock_phase(k, first, n, idx, T, &c_lo, &c_hi);
    lock_phase(k, first, n, idx, tlo, &a_lo, &a_hi);
    lock_phase(k, first, n, idx, thi, &b_lo, &b_hi);
    for (unsigned i = 0; i < n; i++) {
        double ni = (double)idx[i];
        double clo = c_lo + ni * T, chi = c_hi + ni * T; /* at the centre of the periods */
        double lo = fmin(clo, fmin(a_lo + ni * tlo, b_lo + ni * thi)); /* over all of them */
        double hi = fmax(chi, fmax(a_hi + ni * tlo, b_hi + ni * thi));
        struct step *st = (struct step *)step_at(k, first + i);
        int64_t half = (int64_t)(0.5 * (hi - lo));
        half = half < LOCK_FLOOR_NS ? LOCK_FLOOR_NS : half;
        if (clo <= chi && half < (st->hi_ns - st->lo_ns) / 2) {
            st->t_ns = (int64_t)(0.5 * (clo + chi));
            st->half_ns = half;
        }
    }
    return 0;
}

static void phase_lock(const struct joules__domain *d, struct joules__track *k)
{
    if (k->steps_n < 4 || joules__track_fast(d))
        return;
    if (lock_steps(k, 0, k->steps_n, period_ns(d)) != 0 && k->steps_n > LOCK_SHORT)
        (void)lock_steps(k, k->steps_n - LOCK_SHORT, LOCK_SHORT, period_ns(d));
}

/* Mean power between two steps, from the counter alone. */
static double step_rate_w(const struct step *a, const struct step *b)
{
    int64_t dt = step_mid(b) - step_mid(a);
    return dt > 0 ? (b->counter_j - a->counter_j) / ((double)dt * 1e-9) : -1.0;
}

/*
 * Between two counter steps the counter itself is the best witness: it says exactly how much
 * energy went by, and only its distribution in time is unknown. Power sensors lag (NVIDIA's
 * publish the mean of the window before each update), so within the interval we interpolate
 * in time, and bound the error by how much the counter's rate changes around the interval.
 */
/*
 * Evidence of load changing faster than the counter steps: a sensor that averages part of
 * each period (25 ms of 100 ms) and the counter (all of it) disagree when the load varies
 * inside the period, e.g. a 100 ms square wave that the sensor always samples in the same
 * phase. For the interval ending at step i (i >= 1), |power published with it - rate|.
 */
static double intra_w(const struct joules__track *k, unsigned i)
{
    if (i == 0 || i >= k->steps_n)
        return 0.0;
    const struct step *a = step_at(k, i - 1), *b = step_at(k, i);
    double rate = step_rate_w(a, b);
    return (b->power_w >= 0 && rate >= 0) ? fabs(b->power_w - rate) : 0.0;
}

/*
 * The swing of the counter's rates over the last SPREAD_HISTORY_NS before t and how often
 * the load changed, as power_integral gives them from readings: for readings too slow to
 * show either.
 */
static void rate_history(const struct joules__domain *d, const struct joules__track *k, int64_t t,
                         double *spread_w, double *changes_per_s)
{
    struct swing sw = swing_start(d);
    int64_t first_ns = t;
    for (unsigned i = 1; i < k->steps_n; i++) {
        const struct step *a = step_at(k, i - 1), *b = step_at(k, i);
        double r = step_rate_w(a, b);
        if (step_mid(b) < t - SPREAD_HISTORY_NS || r < 0)
            continue;
        first_ns = step_mid(a) < first_ns ? step_mid(a) : first_ns;
        swing_add(&sw, step_mid(b), r);
    }
    *spread_w = swing_spread_w(&sw);
    *changes_per_s = t > first_ns ? sw.changes / ((double)(t - first_ns) * 1e-9) : 0.0;
}

/* Energy from step st to t (negative when t is before the step), and its error. */
static double extrapolate(const struct joules__domain *d, const struct joules__track *k,
                          const struct step *st, int64_t t, double *err)
{
    int64_t mid = st->t_ns;
    int64_t a = mid < t ? mid : t, b = mid < t ? t : mid;
    double spread = 0.0, changes_per_s = 0.0, part;
    int have_power = k->last_power_w >= 0;
    double p_mid;
    /* The rate next to the step: the newest interval's forward, the oldest's backward (an
     * edge before every held step). */
    double near_rate = counter_rate_w(k);
    if (t < mid && k->steps_n >= 2 && st == step_at(k, 0))
        near_rate = step_rate_w(step_at(k, 0), step_at(k, 1));
    if (have_power && slow_reading(d) && near_rate >= 0) {
        rate_history(d, k, b, &spread, &changes_per_s);
        p_mid = near_rate;
        part = p_mid * (double)(b - a) * 1e-9;
    } else if (have_power) {
        part = power_integral(d, k, a, b, &spread, &changes_per_s);
        p_mid = power_at(k, mid);
    } else {
        p_mid = fmax(counter_rate_w(k), 0.0);
        part = p_mid * (double)(b - a) * 1e-9;
    }
    double gap_s = (double)(b - a) * 1e-9;
    double timing = p_mid * (double)st->half_ns * 1e-9;
    /* The sensor may not have published a change of load yet. How likely one is within the
     * gap follows from how often the load changed lately; past a 5 % chance, the recent
     * swing of power bounds what it could have hidden. */
    double p_change = changes_per_s * gap_s;
    double sensor = fmax(EXTRAP_REL_ERR * part, p_change > 0.05 ? spread * gap_s : 0.0);
    double inside = 2.0 * intra_w(k, k->steps_n - 1) * gap_s;
    *err = sqrt(timing * timing + sensor * sensor + inside * inside) + d->counter_unit_j;
    return mid <= t ? part : -part;
}

/* Lowest and highest power the sensor published around [a, b] (its lag included). */
static int sample_range(const struct joules__domain *d, const struct joules__track *k, int64_t a,
                        int64_t b, double *lo, double *hi)
{
    int64_t lag = lag_ns(d);
    int found = 0;
    for (unsigned i = first_after(k, a - lag); i < k->pts_n; i++) {
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

/*
 * Where inside a counter interval did its energy go? If power stayed within [lo, hi], the
 * energy before t (at fraction w of the interval, mean rate r) differs from the linear
 * share r*w*span by at most the returned bound: the interval's energy may be packed at
 * either end, but no faster than hi and no slower than lo.
 */
static double span_rate(const struct joules__track *k, unsigned i)
{
    return step_rate_w(step_at(k, i), step_at(k, i + 1));
}

/* Does the interval starting at step i agree with the one before it (or have none)? */
static int plateau(const struct joules__track *k, unsigned i, int dir)
{
    long j = (long)i + dir;
    if (j < 0 || j + 1 >= (long)k->steps_n)
        return 1;
    double r = span_rate(k, i), q = span_rate(k, (unsigned)j);
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
 * The energy of the interval [ma, mb] before t. Linear in time unless the load changed once
 * inside it, as when a window starts or stops the work it measures, or a square wave turns:
 * then, for a single change, the counter says where, and the energy before t follows that
 * change. The levels on either side come from the sensor's readings published with the two
 * steps (a sensor that averages the last 25 ms of each period shows the power at the
 * boundaries), or else from the intervals around, when both are plateaus.
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
    int level_before =
        ib > 0 && a->power_w >= 0 && fabs(span_rate(k, ib - 1) - a->power_w) <= flat_w(a->power_w);
    int level_after = ib + 2 < k->steps_n && b->power_w >= 0 &&
                      fabs(span_rate(k, ib + 1) - b->power_w) <= flat_w(b->power_w);
    /* The end edge of a settled window has no interval after it yet. When the power was
     * still climbing into this interval (the one before ran below the reading at its end:
     * work began inside it, as a pulse that straddles a step) and the reading at its own end
     * differs, the interval is taken to hold one change between the two readings. */
    int climbing_in =
        ib > 0 && a->power_w >= 0 && span_rate(k, ib - 1) < a->power_w - flat_w(a->power_w);
    int nothing_after = ib + 2 >= k->steps_n;
    if ((level_before || level_after || (climbing_in && nothing_after)) && a->power_w >= 0 &&
        b->power_w >= 0 && fabs(b->power_w - a->power_w) > 2.0 * flat) {
        double e = changed_share(a->power_w, b->power_w, total, span_s, t_s, w, b->power_w);
        if (e >= 0)
            return e;
    }
    if (ib == 0 || ib + 2 >= k->steps_n)
        return linear;
    double r1 = span_rate(k, ib - 1), r2 = span_rate(k, ib + 1);
    flat = flat_w(fmax(fabs(r1), fabs(r2)));
    if (fabs(r2 - r1) <= 2.0 * flat || !plateau(k, ib - 1, -1) || !plateau(k, ib + 1, +1))
        return linear;
    double e = changed_share(r1, r2, total, span_s, t_s, w, b->power_w);
    return e >= 0 ? e : linear;
}

static void interpolate(const struct joules__domain *d, const struct joules__track *k, unsigned ib,
                        int64_t t, struct joules__edge *e)
{
    const struct step *a = step_at(k, ib), *b = step_at(k, ib + 1);
    int64_t ma = step_mid(a), mb = step_mid(b);
    double w = (double)(t - ma) / (double)(mb - ma);
    w = w < 0 ? 0 : w > 1 ? 1 : w;
    /* The range power may have spanned: the counter's rates around the interval, the
     * sensor's readings, and their disagreement (a sensor that averages 25 ms of each 100 ms
     * sees the peaks and troughs of a load that varies inside the period). */
    double rate = step_rate_w(a, b), lo = rate, hi = rate;
    double own_intra = intra_w(k, ib + 1), intra = own_intra;
    double swing = 0.0;            /* how much the rate moved between this interval and ... */
    double swing_least = INFINITY; /* ... the neighbour closest to it */
    int neighbours = 0;
    if (ib > 0) {
        double r = step_rate_w(step_at(k, ib - 1), a);
        lo = fmin(lo, r);
        hi = fmax(hi, r);
        swing = fmax(swing, fabs(rate - r));
        swing_least = fmin(swing_least, fabs(rate - r));
        intra = fmax(intra, intra_w(k, ib));
        neighbours++;
    }
    if (ib + 2 < k->steps_n) {
        double r = step_rate_w(b, step_at(k, ib + 2));
        lo = fmin(lo, r);
        hi = fmax(hi, r);
        swing = fmax(swing, fabs(rate - r));
        swing_least = fmin(swing_least, fabs(rate - r));
        intra = fmax(intra, intra_w(k, ib + 2));
        neighbours++;
    }
    /* With one side unknown (the edge of a settled window: the next interval has not
     * happened yet), a change seen on the other side may have gone on inside this one. */
    if (neighbours < 2) {
        lo = fmin(lo, rate - swing);
        hi = fmax(hi, rate + swing);
    }
    double plo, phi;
    if (sample_range(d, k, ma, mb, &plo, &phi)) {
        lo = fmin(lo, plo);
        hi = fmax(hi, phi);
    }
    lo = fmin(lo, rate - 2.0 * intra);
    hi = fmax(hi, rate + 2.0 * intra);
    /* An interval unlike both neighbours, or whose sensor reading disagrees with its rate,
     * held a change of load, which may have peaked above anything the counter's means or a
     * part-time sensor showed (a 10 ms kernel inside a 100 ms interval): its energy could sit
     * anywhere in it, between the least power seen and the most the board can draw. */
    double flat = flat_w(rate);
    if ((neighbours && swing_least > flat) || own_intra > flat) {
        hi = fmax(hi, d->power_max_w);
        lo = fmin(lo, k->floor_w);
    }
    lo = fmax(lo, 0.0);
    double span_s = (double)(mb - ma) * 1e-9, t_s = w * span_s, left_s = span_s - t_s;
    double total = b->counter_j - a->counter_j;
    double before = share_before(d, k, ib, rate, t_s, span_s);
    /* However the interval's energy was laid out with power in [lo, hi], the part before t
     * lies in [least, most]; the error is the distance to the farther end. */
    double least = fmax(lo * t_s, total - hi * left_s);
    double most = fmin(hi * t_s, total - lo * left_s);
    double shape = fmax(fmax(most - before, before - least), 0.0);
    double ha = (double)a->half_ns * 1e-9, hb = (double)b->half_ns * 1e-9;
    double timing = fmax(rate, 0.0) * hypot(ha, hb);
    e->counter_j = a->counter_j + before;
    e->counter_err_j = hypot(shape, timing) + d->counter_unit_j;
    e->counter_final = 1;
    e->span = (struct joules__span){a->seq, span_s, total, lo, hi, least, most, timing};
}

/* Estimate the counter energy at t from the steps; final when anchored after t. */
static void estimate(const struct joules__domain *d, const struct joules__track *k, int64_t t,
                     struct joules__edge *e)
{
    const struct step *before = NULL, *after = NULL;
    unsigned ib = 0;
    for (unsigned i = 0; i < k->steps_n; i++) {
        const struct step *st = step_at(k, i);
        if (step_mid(st) <= t) {
            before = st;
            ib = i;
        } else if (!after) {
            after = st;
        }
    }
    if (before && after) {
        interpolate(d, k, ib, t, e);
        return;
    }
    memset(&e->span, 0, sizeof e->span);
    const struct step *ref = before ? before : after;
    if (ref) {
        double err = 0.0;
        e->counter_j = ref->counter_j + extrapolate(d, k, ref, t, &err);
        e->counter_err_j = err;
        /* Once a step follows t, later steps cannot anchor it better. */
        e->counter_final = after != NULL;
        return;
    }
    /* No step seen yet: the value read was set somewhere within the period before the first
     * reading, and since then only the power samples tell what went by. */
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
}

/*
 * Until the counter steps or the sensor publishes again, the load since the last publication
 * is unknown: a window begun after it (shorter than the sensor's lag) may hold a load that no
 * reading shows yet, between the least power seen and the most the board can draw. The
 * sensor publishes at least once a period even when its value does not change.
 */
static void dark(const struct joules__domain *d, const struct joules__track *k,
                 struct joules__edge *e)
{
    e->counter_seen_ns = k->steps_n ? step_at(k, k->steps_n - 1)->hi_ns : k->open_ns;
    int64_t published = e->t_ns - period_ns(d);
    e->integ_seen_ns = k->power_changed_ns > published ? k->power_changed_ns : published;
    double p = k->last_power_w >= 0 ? k->last_power_w : fmax(counter_rate_w(k), 0.0);
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
    e->error = read_and_fold(d, &s, e->message, sizeof e->message);
    /* On failure, the edge is what the last good reading knew (partial results). */
    e->t_ns = e->error ? k->last_t_ns : s.t_ns;
    e->power_w = k->last_power_w;
    if (k->primed && k->have_raw && !k->frozen) {
        e->have_counter = 1;
        e->counter_j = k->counter_j;
        estimate(d, k, e->t_ns, e);
    }
    if (k->primed && k->last_power_w >= 0) {
        e->have_integ = 1;
        e->integ_j = k->integ_j;
        e->integ_err_j = k->last_power_w * (double)d->poll_ns * 0.5e-9;
    }
    dark(d, k, e);
    pthread_mutex_unlock(&d->lock);
}

/* Take the counter estimate of r (the same edge, estimated again). */
static void adopt(struct joules__edge *e, const struct joules__edge *r)
{
    e->counter_j = r->counter_j;
    e->counter_err_j = r->counter_err_j;
    e->counter_final = r->counter_final;
    e->span = r->span;
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
    int held = k->steps_n > 0 && step_mid(step_at(k, 0)) <= e->t_ns;
    if (k->frozen) {
        e->have_counter = 0;
    } else if (e->counter_final && held) {
        struct joules__edge r = *e;
        estimate(d, k, e->t_ns, &r);
        if (r.counter_final)
            adopt(e, &r);
    } else if (!e->counter_final && k->steps_n > 0) {
        struct joules__edge r = *e;
        estimate(d, k, e->t_ns, &r);
        if (r.counter_final || r.counter_err_j < e->counter_err_j)
            adopt(e, &r);
    }
    pthread_mutex_unlock(&d->lock);
}

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
        int stepped = k->steps_n > 0 && step_mid(step_at(k, k->steps_n - 1)) > e->t_ns;
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
    if (!d->track->frozen && d->track->steps_n > 0) {
        struct joules__edge r = *e;
        estimate(d, d->track, e->t_ns, &r);
        if (r.counter_final)
            adopt(e, &r);
    }
    pthread_mutex_unlock(&d->lock);
}

int joules__track_fast(const struct joules__domain *d)
{
    return period_ns(d) < FAST_COUNTER_NS;
}

int joules__track_edge_anchored(const struct joules__domain *d, const struct joules__edge *e)
{
    /* A fast counter (RAPL) is current at the read itself: nothing later improves it. */
    return !e->have_counter || e->error || e->counter_final || joules__track_fast(d);
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
    int rc = read_and_fold(d, &s, msg, sizeof msg);
    r->valid = rc == 0;
    r->error = rc;
    r->t_ns = rc == 0 ? s.t_ns : k->last_t_ns;
    r->energy_j = (k->have_raw && !k->frozen) ? k->counter_j : k->integ_j;
    r->power_w = k->last_power_w >= 0 ? k->last_power_w : counter_rate_w(k);
    pthread_mutex_unlock(&d->lock);
    return rc;
}
