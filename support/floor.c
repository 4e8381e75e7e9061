/* SPDX-License-Identifier: MIT */
/*
 * floor.c - the sensors' floor of a window in virtual time: the least error that any
 * method reading the energy counter and the GPU's power readings could promise on it.
 *
 * All that joules reads of the simulated GPU (it reads nothing else to place energy: not
 * the clocks, temperature or utilisation) comes from two sums per counter interval: the
 * interval's energy (the counter's step) and the energy of the part the power reading
 * averages (the last 25 ms of each 100 on A100/H100, all of it on the A6000; the 1-s average
 * is the mean of the last ten of those readings and tells nothing more, nor less once its
 * history is known). Take the load's own
 * milliseconds of power inside each part and put them in another order: no sum changes, so
 * every reading and counter value stays the same and every method gives the same answer, but
 * the energy inside a window that cuts the part moves. Its least and most are the sums of the
 * x smallest and x largest milliseconds (x: those of the part inside the window); parts are
 * reordered independently, so the window's energy can be anything in [Emin, Emax] for the
 * same readings, and no estimate can be within (Emax - Emin) / (Emax + Emin) of the truth at
 * both ends. That is the floor.
 *
 * It is a lower bound on what a method can promise: the other loads are the same power levels
 * for the same times, and the oracle knows more than joules does (the exact step times,
 * energies finer than the counter's millijoule). A method that assumes the load's shape (one
 * change per interval, a square wave) may beat the floor on a load of that shape only.
 */
#include <stdlib.h>

#include "floor.h"

#include "core/stats.h"
#include "vsim.h"

struct tick {
    int64_t t_ns; /* every simulated millisecond */
    double cum_j; /* true energy then, since the first tick */
};

static struct {
    struct vsim *v;
    void (*next)(struct vsim *v, void *user); /* the hook this one chains to */
    void *next_user;
    int window_asked, window_ms; /* 0 asked: the profile's own, read at the first tick */
    struct tick *tick;
    int n, cap;
    int *step; /* ticks at which the counter stepped */
    int n_step, cap_step;
    unsigned long long last_mj;
} fl;

static void *grow(void *p, int *cap, size_t size)
{
    *cap = *cap ? 2 * *cap : 65536;
    void *q = realloc(p, (size_t)*cap * size);
    if (!q)
        abort(); /* a benchmark has nothing to fall back on */
    return q;
}

static void floor_tick(struct vsim *v, void *user)
{
    (void)user;
    if (fl.n == fl.cap)
        fl.tick = grow(fl.tick, &fl.cap, sizeof *fl.tick);
    if (fl.n == 0)
        fl.window_ms = fl.window_asked ? fl.window_asked : vsim_sensor_window_ms(v);
    int64_t now = vsim_now_ns();
    struct tick *k = &fl.tick[fl.n];
    k->t_ns = now;
    /* Summed a millisecond at a time: the simulator keeps only the last minute of its truth. */
    k->cum_j = fl.n > 0 ? k[-1].cum_j + vsim_truth_j(v, k[-1].t_ns, now) : 0.0;
    unsigned long long mj = vsim_counter_mj(v);
    if (fl.n > 0 && mj != fl.last_mj) {
        if (fl.n_step == fl.cap_step)
            fl.step = grow(fl.step, &fl.cap_step, sizeof *fl.step);
        fl.step[fl.n_step++] = fl.n;
    }
    fl.last_mj = mj;
    fl.n++;
    if (fl.next)
        fl.next(v, fl.next_user);
}

void acc_floor_attach(struct vsim *v, int window_ms)
{
    if (fl.v) /* attached twice, it would chain to itself */
        acc_floor_detach();
    fl.v = v;
    fl.next = v->on_tick;
    fl.next_user = v->user;
    fl.window_asked = window_ms;
    fl.n = fl.n_step = 0;
    v->on_tick = floor_tick;
    v->user = NULL;
}

void acc_floor_detach(void)
{
    if (fl.v) {
        fl.v->on_tick = fl.next;
        fl.v->user = fl.next_user;
    }
    free(fl.tick);
    free(fl.step);
    fl.tick = NULL;
    fl.step = NULL;
    fl.n = fl.cap = fl.n_step = fl.cap_step = 0;
    fl.v = NULL;
}

static int tick_at(int64_t t_ns)
{
    int a = 0, b = fl.n - 1;
    while (a < b) { /* the first tick at or after t_ns */
        int m = (a + b) / 2;
        if (fl.tick[m].t_ns < t_ns)
            a = m + 1;
        else
            b = m;
    }
    return a;
}

/* Part (s, e] (ticks) with x of its milliseconds inside the window: the least and most those
 * could hold, its milliseconds taken in any order. */
static void part_range(int s, int e, int x, double *lo_j, double *hi_j)
{
    double ms_j[1024];
    int n = e - s;
    if (n > (int)(sizeof ms_j / sizeof ms_j[0]))
        abort(); /* a counter interval of over a second: not a profile benchmarked here */
    for (int k = 0; k < n; k++)
        ms_j[k] = fl.tick[s + k + 1].cum_j - fl.tick[s + k].cum_j;
    joules__sort(ms_j, n);
    for (int k = 0; k < x; k++) {
        *lo_j += ms_j[k];
        *hi_j += ms_j[n - 1 - k];
    }
}

static int overlap(int s, int e, int i0, int i1)
{
    int a = s > i0 ? s : i0, b = e < i1 ? e : i1;
    return b > a ? b - a : 0;
}

double acc_floor_window(int64_t t0_ns, int64_t t1_ns)
{
    if (fl.n < 2 || fl.n_step < 2 || t0_ns < fl.tick[0].t_ns || t1_ns > fl.tick[fl.n - 1].t_ns)
        return -1;
    int i0 = tick_at(t0_ns), i1 = tick_at(t1_ns);
    /* The counter intervals the window touches; both edges must lie between known steps. */
    int j = 0;
    while (j + 1 < fl.n_step && fl.step[j + 1] <= i0)
        j++;
    if (fl.step[j] > i0)
        return -1;
    double lo_j = 0, hi_j = 0;
    for (; j + 1 < fl.n_step && fl.step[j] < i1; j++) {
        int a = fl.step[j], b = fl.step[j + 1];
        int seen = b - a > fl.window_ms ? b - fl.window_ms : a;
        if (seen > a) /* the part the reading does not see */
            part_range(a, seen, overlap(a, seen, i0, i1), &lo_j, &hi_j);
        part_range(seen, b, overlap(seen, b, i0, i1), &lo_j, &hi_j);
    }
    if (fl.step[j] < i1) /* the interval holding the end has not closed yet */
        return -1;
    return hi_j + lo_j > 0 ? (hi_j - lo_j) / (hi_j + lo_j) : 0.0;
}
