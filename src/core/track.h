/* SPDX-License-Identifier: MIT */
/*
 * track.h - the history the core keeps of each domain, shared by the files that track it:
 *
 *   track_history.c     fold each reading into the history (counter wraps and resets, counter
 *                       steps, power points) and look the history up
 *   counter_clock.c     recover the counter's update clock (period and phase) from its steps
 *   edge_estimate.c     the energy at a window edge and its error, from the history
 *   edge_interpolate.c  ... for an edge between two counter steps
 *   edge_extrapolate.c  ... for an edge beyond the steps held
 *   edge_settle.c       wait for the counter step after an edge, then estimate it again
 *
 * Energy counters do not tick continuously: NVIDIA's steps about every 100 ms, so reading it
 * at a window edge can be up to a whole period stale. The core keeps, per domain, the recent
 * counter steps (the counter value and the interval in which it changed) and the recent power
 * readings. An edge between two steps takes its share of the counter's energy over that
 * interval; an edge beyond them, the counter at the nearest step plus or minus the power
 * integrated between that step and the edge. A window's begin edge is re-anchored on the first
 * step that follows it, which the tracker thread sees within one period. Every estimate carries
 * its error: when the steps happened, how the energy may be laid out between them, how far it
 * was extrapolated with a sensor that may lag, and the counter's resolution.
 *
 * What this header declares is called with the domain's lock held; the joules__track_*
 * functions of core.h take it themselves.
 */
#ifndef JOULES_CORE_TRACK_H
#define JOULES_CORE_TRACK_H

#include <math.h>

#include "core/core.h"

#define PTS_RING          1024 /* power readings: 5 s at the default 5 ms tracker period */
#define STEP_RING         64   /* counter steps: over 6 s at NVIDIA's 100 ms update */
#define DEFAULT_PERIOD_NS 100000000LL
#define EXTRAP_REL_ERR    0.05 /* sensor error on the extrapolated part, when the load is steady */
#define FLAT_W            2.0  /* rates closer than this (or FLAT_REL of them) are one load */
#define FLAT_REL          0.02

/* A power reading, with the power integrated up to it. */
struct point {
    int64_t t_ns;
    double power_w; /* -1 when unknown */
    double integ_j;
};

/* A change of the counter's value. */
struct step {
    int64_t lo_ns; /* the counter changed in (lo_ns, hi_ns] */
    int64_t hi_ns;
    double counter_j; /* counter value right after the change */
    double power_w;   /* power read together with it (-1: none) */
    int64_t t_ns;     /* best estimate of when it changed, and how far off that may be */
    int64_t half_ns;
    uint64_t seq;       /* which step it is, from 1: times move as the clock is learnt, this not */
    double reset_err_j; /* the track's reset_err_j when the step was seen */
    int off_clock;      /* its time may be anywhere in its interval, whatever the clock says */
};

struct joules__track {
    int primed;
    int have_raw;
    int fresh; /* the first value read was 0: the counter had just started */
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
    double reset_err_j; /* how far off the energy recovered across the resets may be, summed */
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
static inline double flat_w(double p_w)
{
    return fmax(FLAT_W, FLAT_REL * fabs(p_w));
}

/* The counter's update period (NVIDIA's 100 ms where the backend does not say). */
static inline int64_t period_ns(const struct joules__domain *d)
{
    return d->info.update_interval_ns ? (int64_t)d->info.update_interval_ns : DEFAULT_PERIOD_NS;
}

/*
 * How late a reading may show a change: its window plus a period. A reading that averages
 * only part of each period (25 ms of 100) is still published once a period and may hold the
 * change in the part it did not see: its window counts as the whole period here.
 */
static inline int64_t lag_ns(const struct joules__domain *d)
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
static inline int slow_reading(const struct joules__domain *d)
{
    return d->power_window_s * 1e9 > 1.5 * (double)period_ns(d);
}

/* The i-th oldest power reading held. */
static inline const struct point *pt_at(const struct joules__track *k, unsigned i)
{
    unsigned start = (k->pts_next + PTS_RING - k->pts_n) % PTS_RING;
    return &k->pts[(start + i) % PTS_RING];
}

/* The i-th oldest counter step held. */
static inline const struct step *step_at(const struct joules__track *k, unsigned i)
{
    unsigned start = (k->steps_next + STEP_RING - k->steps_n) % STEP_RING;
    return &k->steps[(start + i) % STEP_RING];
}

/* track_history.c */
/* Read the domain now and fold the reading into its history; 0 or JOULES_E_*. */
int joules__track_read(struct joules__domain *d, struct joules__sample *s, char *msg, size_t len);
/* Index of the first power reading later than t (pts_n if none). */
unsigned joules__first_point_after(const struct joules__track *k, int64_t t);
/* Mean power between the last two counter steps (-1: fewer than two). */
double joules__counter_rate_w(const struct joules__track *k);
/* Mean power between two steps, from the counter alone (-1: no time between them). */
double joules__step_rate_w(const struct step *a, const struct step *b);
/* How far the reading published with step i is from the counter's rate up to it. */
double joules__intra_period_w(const struct joules__track *k, unsigned i);

/* counter_clock.c: place the held steps on the counter's clock (after each new step). */
void joules__counter_clock_fit(const struct joules__domain *d, struct joules__track *k);

/* edge_interpolate.c: the counter energy at t, between steps ib and ib + 1. */
void joules__interpolate(const struct joules__domain *d, const struct joules__track *k, unsigned ib,
                         int64_t t, struct joules__edge *e);
/* edge_extrapolate.c: the energy from step st to t (negative when t is before the step), and
 * its error in *err. */
double joules__extrapolate(const struct joules__domain *d, const struct joules__track *k,
                           const struct step *st, int64_t t, double *err);
/* edge_estimate.c: estimate edge e again from the steps held now, and take that estimate
 * when a step follows the edge. */
void joules__edge_reanchor(const struct joules__domain *d, const struct joules__track *k,
                           struct joules__edge *e);

#endif
