/* SPDX-License-Identifier: MIT */
/*
 * test_compare_stats.c - the procedure and statistics of `joules compare` on seeded synthetic
 * runs whose true energy ratio is known: the reported 95 % interval on the ratio covers the
 * truth in at least 19 of 20 comparisons (and about 95 % of many more), with fixed rounds and
 * with the adaptive stopping rule, under slow drift that ABBA pairing cancels; the round
 * orders; the unpaired interval against a baseline; outliers kept and marked; the verdict,
 * the gate and the warnings.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare/compare.h"
#include "testlib.h"

/* ---- a synthetic executor: energy = base x drift(t) x lognormal noise --------------------- */

struct synth {
    uint64_t rng;
    double base_j[CMP_MAX_CMDS];
    double time_s[CMP_MAX_CMDS];
    double sigma;         /* log-normal spread of each run's energy */
    double drift_per_run; /* relative drift added by every run (warming up, say) */
    int runs_done;
    int status_of[CMP_MAX_CMDS]; /* exit status, -1: alternate 0 and 1 */
    int spike_every;             /* every n-th run of command 0 costs 3x (0: never) */
};

static double uniform01(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

static double gauss(uint64_t *s)
{
    return sqrt(-2 * log(uniform01(s))) * cos(6.283185307179586 * uniform01(s));
}

static int synth_run(void *ctx, int k, int measured, struct cmp_run *rec, char *err, size_t len)
{
    (void)err, (void)len;
    struct synth *y = ctx;
    double drift = 1 + y->drift_per_run * y->runs_done++;
    rec->exit_status = y->status_of[k] >= 0 ? y->status_of[k] : y->runs_done % 2;
    if (!measured)
        return 0;
    rec->energy_valid = 1;
    rec->time_s = y->time_s[k] * exp(0.002 * gauss(&y->rng));
    rec->energy_j = y->base_j[k] * drift * exp(y->sigma * gauss(&y->rng));
    if (y->spike_every && k == 0 && y->runs_done % y->spike_every == 0)
        rec->energy_j *= 3;
    rec->uncertainty_j = 0.001 * rec->energy_j;
    return 0;
}

static const struct cmp_runner_ops synth_ops = {synth_run, NULL};

static void synth_init(struct synth *y, uint64_t seed, double ratio, double sigma)
{
    memset(y, 0, sizeof *y);
    y->rng = seed * 0x2545F4914F6CDD1DULL + 1;
    y->base_j[0] = 100;
    y->base_j[1] = 100 * ratio;
    y->time_s[0] = y->time_s[1] = 1;
    y->sigma = sigma;
    y->drift_per_run = 0.002;
}

static struct cmp_params synth_params(struct synth *y, int runs)
{
    struct cmp_params p = {.n_cmds = 2,
                           .warmup = 1,
                           .runs = runs,
                           .precision = 0.02,
                           .max_time_s = 60,
                           .order = CMP_ORDER_ABBA,
                           .seed = 1,
                           .level = 0.95,
                           .ops = &synth_ops,
                           .ctx = y};
    return p;
}

/* How many of n seeded comparisons have the energy ratio's interval covering `ratio`. */
static int coverage_count(int n, int runs, double ratio, double sigma, int order)
{
    int covered = 0;
    char err[CMP_ERR_MAX];
    for (int i = 0; i < n; i++) {
        struct synth y;
        synth_init(&y, (uint64_t)i + 1, ratio, sigma);
        struct cmp_params p = synth_params(&y, runs);
        p.order = order;
        p.seed = (uint64_t)i;
        struct cmp_result r;
        struct cmp_summary s;
        if (cmp_run(&p, &r, err, sizeof err) != 0) {
            CHECKF(0, "cmp_run: %s", err);
            return -1;
        }
        cmp_summarize(&r, NULL, 0.95, &s);
        const struct ab_interval *e = &s.ratio[1][CMP_Q_ENERGY];
        covered += e->lo <= ratio && ratio <= e->hi;
        cmp_result_free(&r);
    }
    return covered;
}

static void covers_the_known_ratio(void)
{
    /* Fixed rounds: 10 rounds give [x(2), x(9)], 97.9 % by construction. */
    int c20 = coverage_count(20, 10, 0.88, 0.02, CMP_ORDER_ABBA);
    CHECKF(c20 >= 19, "fixed 10 rounds: the interval covers 0.88 in %d of 20", c20);
    int c400 = coverage_count(400, 10, 0.88, 0.02, CMP_ORDER_ABBA);
    CHECKF(c400 >= 0.93 * 400, "fixed 10 rounds: %d of 400 (expect about 97.9 %%)", c400);
    /* Adaptive: until +/- 2 %, which stopping early on a lucky streak could bias. */
    int a20 = coverage_count(20, 0, 0.88, 0.02, CMP_ORDER_ABBA);
    CHECKF(a20 >= 19, "adaptive: the interval covers 0.88 in %d of 20", a20);
    int a400 = coverage_count(400, 0, 0.88, 0.02, CMP_ORDER_ABBA);
    CHECKF(a400 >= 0.92 * 400, "adaptive: %d of 400", a400);
    int r400 = coverage_count(400, 0, 1.0, 0.02, CMP_ORDER_RANDOM);
    CHECKF(r400 >= 0.92 * 400, "adaptive, random order, no difference: %d of 400", r400);
    printf("   coverage: fixed %d/20 %d/400, adaptive %d/20 %d/400, random order %d/400\n", c20,
           c400, a20, a400, r400);
}

static void adaptive_stops_at_precision(void)
{
    struct synth y;
    synth_init(&y, 7, 0.9, 0.01);
    struct cmp_params p = synth_params(&y, 0);
    struct cmp_result r;
    struct cmp_summary s;
    char err[CMP_ERR_MAX];
    CHECK(cmp_run(&p, &r, err, sizeof err) == 0);
    CHECK_EQ_INT(r.stop_reason, CMP_STOP_PRECISION);
    CHECK(r.rounds_done >= 6);
    CHECK_EQ_INT(r.n_runs, 2 * r.rounds_done);
    cmp_summarize(&r, NULL, 0.95, &s);
    const struct ab_interval *e = &s.ratio[1][CMP_Q_ENERGY];
    CHECK(fmax(e->hi - e->median, e->median - e->lo) / e->median <= 0.02);
    cmp_result_free(&r);

    /* A noise too large for the precision: the round cap stops it. */
    synth_init(&y, 8, 0.9, 0.5);
    p = synth_params(&y, 0);
    p.max_rounds = 12;
    CHECK(cmp_run(&p, &r, err, sizeof err) == 0);
    CHECK_EQ_INT(r.stop_reason, CMP_STOP_MAX_ROUNDS);
    CHECK_EQ_INT(r.rounds_done, 12);
    cmp_result_free(&r);

    /* The time cap stops it too, after 2 rounds at least. */
    synth_init(&y, 8, 0.9, 0.5);
    p = synth_params(&y, 0);
    p.max_time_s = 1e-9;
    CHECK(cmp_run(&p, &r, err, sizeof err) == 0);
    CHECK_EQ_INT(r.stop_reason, CMP_STOP_TIME);
    CHECK_EQ_INT(r.rounds_done, 2);
    cmp_result_free(&r);

    /* A stop request ends it between runs, and the interrupted round is not paired. */
    volatile sig_atomic_t stop = 0;
    synth_init(&y, 9, 0.9, 0.01);
    p = synth_params(&y, 5);
    p.stop = &stop;
    stop = 2;
    CHECK(cmp_run(&p, &r, err, sizeof err) == 0);
    CHECK_EQ_INT(r.stop_reason, CMP_STOP_INTERRUPTED);
    CHECK_EQ_INT(r.n_runs, 0);
    cmp_result_free(&r);
}

static void round_orders(void)
{
    int o[4];
    cmp_round_order(CMP_ORDER_ABBA, 1, 0, 3, o);
    CHECK(o[0] == 0 && o[1] == 1 && o[2] == 2);
    cmp_round_order(CMP_ORDER_ABBA, 1, 1, 3, o);
    CHECK(o[0] == 2 && o[1] == 1 && o[2] == 0);
    /* Random: a permutation, the same for the same seed and round, not always the same. */
    int first_counts[4] = {0};
    for (int round = 0; round < 200; round++) {
        cmp_round_order(CMP_ORDER_RANDOM, 42, round, 4, o);
        int seen = 0;
        for (int i = 0; i < 4; i++)
            seen |= 1 << o[i];
        CHECK_EQ_INT(seen, 15);
        first_counts[o[0]]++;
        int again[4];
        cmp_round_order(CMP_ORDER_RANDOM, 42, round, 4, again);
        CHECK(memcmp(o, again, sizeof o) == 0);
    }
    for (int i = 0; i < 4; i++)
        CHECKF(first_counts[i] > 25, "command %d first in %d of 200 rounds", i, first_counts[i]);
}

static void unpaired_ratio(void)
{
    CHECK_NEAR(cmp_two_sided_z(0.95), 1.959964, 1e-5);
    /* b = 1.1 x a exactly: every pairwise log-difference has median log 1.1. */
    double a[9], b[9];
    for (int i = 0; i < 9; i++) {
        a[i] = 10 + i;
        b[i] = 1.1 * a[i];
    }
    struct ab_interval iv = cmp_unpaired_ratio(b, 9, a, 9, 0.95);
    CHECK_NEAR(iv.median, 1.1, 1e-12);
    CHECK(iv.lo < 1.1 && iv.hi > 1.1);
    /* Coverage on seeded log-normal samples around a known ratio of 0.8. */
    uint64_t rng = 5;
    int covered = 0;
    for (int rep = 0; rep < 400; rep++) {
        double x[10], y[8];
        for (int i = 0; i < 10; i++)
            x[i] = 50 * exp(0.03 * gauss(&rng));
        for (int i = 0; i < 8; i++)
            y[i] = 40 * exp(0.03 * gauss(&rng));
        struct ab_interval u = cmp_unpaired_ratio(y, 8, x, 10, 0.95);
        covered += u.lo <= 0.8 && 0.8 <= u.hi;
    }
    CHECKF(covered >= 0.92 * 400, "unpaired: %d of 400", covered);
    printf("   unpaired coverage: %d/400\n", covered);
}

static void outliers_verdict_gate_warnings(void)
{
    struct synth y;
    synth_init(&y, 3, 0.88, 0.005);
    y.spike_every = 7;
    y.status_of[0] = 0;
    y.status_of[1] = -1; /* alternates: B's exit status differs between runs */
    struct cmp_params p = synth_params(&y, 12);
    struct cmp_result r;
    struct cmp_summary s;
    char err[CMP_ERR_MAX], buf[4096];
    CHECK(cmp_run(&p, &r, err, sizeof err) == 0);
    cmp_summarize(&r, NULL, 0.95, &s);
    CHECK(s.n_outliers[0] >= 1);
    CHECK_EQ_INT(s.q[0][CMP_Q_ENERGY].n, 12); /* kept in the statistics */
    CHECK(s.status_varies[1] && !s.status_varies[0]);
    const char *names[2] = {"A", "B"};
    int nw = cmp_warnings(&r, &s, names, 0.02, buf, sizeof buf);
    CHECK(nw >= 2);
    CHECK(strstr(buf, "stand out") != NULL);
    CHECK(strstr(buf, "exit status differs") != NULL);
    cmp_verdict(&s, "B", "A", 1, 0, buf, sizeof buf);
    CHECKF(strstr(buf, "B used 12.") && strstr(buf, "less energy than A") &&
               strstr(buf, "at the same time"),
           "%s", buf);
    /* The gate judges the bound: B/A about 0.88 passes any allowance; A/B would fail 5 %. */
    CHECK(!cmp_gate_fails(&s.ratio[1][CMP_Q_ENERGY], 0.05));
    struct ab_interval worse = {1.12, 1.09, 1.15, 0.96, 10};
    CHECK(cmp_gate_fails(&worse, 0.05));
    struct ab_interval unclear = {1.08, 1.03, 1.13, 0.96, 10}; /* median above, bound below */
    CHECK(!cmp_gate_fails(&unclear, 0.05));
    cmp_result_free(&r);

    /* No difference: the sentence says so. */
    synth_init(&y, 4, 1.0, 0.02);
    p = synth_params(&y, 8);
    CHECK(cmp_run(&p, &r, err, sizeof err) == 0);
    cmp_summarize(&r, NULL, 0.95, &s);
    cmp_verdict(&s, "B", "A", 1, 0, buf, sizeof buf);
    CHECKF(strstr(buf, "no difference in energy detectable") != NULL, "%s", buf);
    cmp_result_free(&r);

    /* Runs too short for the sensor and too few rounds for 95 %. */
    synth_init(&y, 5, 0.9, 0.01);
    y.time_s[0] = y.time_s[1] = 0.02;
    p = synth_params(&y, 3);
    CHECK(cmp_run(&p, &r, err, sizeof err) == 0);
    cmp_summarize(&r, NULL, 0.95, &s);
    cmp_warnings(&r, &s, names, 0.02, buf, sizeof buf);
    CHECKF(strstr(buf, "joules repeat") && strstr(buf, "run 6 or more"), "%s", buf);
    cmp_result_free(&r);
}

int main(void)
{
    RUN(covers_the_known_ratio);
    RUN(adaptive_stops_at_precision);
    RUN(round_orders);
    RUN(unpaired_ratio);
    RUN(outliers_verdict_gate_warnings);
    return t_end();
}
