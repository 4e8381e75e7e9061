/* SPDX-License-Identifier: MIT */
/*
 * compare_run.c - the procedure of `joules compare` (compare.h): warm-up runs that are not
 * counted, then rounds of one run of every command, in ABBA order (forwards on even rounds,
 * backwards on odd ones, so slow drift hits every command alike and none always runs first)
 * or in a seeded random order, until --runs rounds or until the energy ratios are known to
 * the precision asked, within a time cap. A signal stops it after the run in progress.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compare/compare.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

const char *cmp_stop_reason_text(int reason)
{
    switch (reason) {
    case CMP_STOP_RUNS:
        return "the rounds asked for (--runs) are done";
    case CMP_STOP_PRECISION:
        return "the energy ratio is known to the precision asked (--precision)";
    case CMP_STOP_TIME:
        return "the time cap (--max-time) was reached before the precision asked";
    case CMP_STOP_MAX_ROUNDS:
        return "the most rounds allowed were run before the precision asked";
    case CMP_STOP_INTERRUPTED:
        return "interrupted";
    default:
        return "an error stopped it";
    }
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

void cmp_round_order(int order, uint64_t seed, int round, int n, int *out)
{
    for (int i = 0; i < n; i++)
        out[i] = (order == CMP_ORDER_ABBA && round % 2) ? n - 1 - i : i;
    if (order != CMP_ORDER_RANDOM)
        return;
    /* A permutation that depends only on (seed, round): any round can be replayed alone. */
    uint64_t s = seed ^ (0xD1B54A32D192ED03ULL * (uint64_t)(round + 1));
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(splitmix64(&s) % (uint64_t)(i + 1));
        int t = out[i];
        out[i] = out[j];
        out[j] = t;
    }
}

static struct cmp_run *next_slot(struct cmp_result *r)
{
    if (r->n_runs == r->cap_runs) {
        int cap = r->cap_runs ? 2 * r->cap_runs : 64;
        struct cmp_run *p = realloc(r->runs, (size_t)cap * sizeof *p);
        if (!p)
            return NULL;
        r->runs = p;
        r->cap_runs = cap;
    }
    return &r->runs[r->n_runs];
}

/* Half-width over median of the widest paired energy ratio so far (complete rounds). */
static double widest_ratio(const struct cmp_result *r, int n_cmds, double level, double *coverage)
{
    *coverage = NAN;
    int rounds = r->rounds_done;
    if (rounds <= 0 || n_cmds < 2)
        return NAN;
    double *e = malloc((size_t)rounds * n_cmds * sizeof *e),
           *ratio = malloc(rounds * sizeof *ratio);
    if (!e || !ratio) {
        free(e);
        free(ratio);
        return NAN;
    }
    for (int i = 0; i < rounds * n_cmds; i++)
        e[i] = NAN;
    for (int i = 0; i < r->n_runs; i++) {
        const struct cmp_run *x = &r->runs[i];
        if (x->round < rounds)
            e[x->round * n_cmds + x->cmd] = x->energy_valid ? x->energy_j : NAN;
    }
    double worst = 0;
    for (int k = 1; k < n_cmds; k++) {
        for (int j = 0; j < rounds; j++)
            ratio[j] = e[j * n_cmds + k] / e[j * n_cmds];
        struct ab_interval iv = ab_median_ci(ratio, rounds, level);
        if (!(iv.median > 0)) {
            worst = NAN;
            break;
        }
        double hw = fmax(iv.hi - iv.median, iv.median - iv.lo) / iv.median;
        if (hw > worst)
            worst = hw;
        if (!(iv.coverage >= *coverage))
            *coverage = iv.coverage;
    }
    free(e);
    free(ratio);
    return worst;
}

static void emit(const struct cmp_params *p, struct cmp_event *ev, double t0)
{
    if (!p->progress)
        return;
    ev->elapsed_s = now_s() - t0;
    p->progress(p->progress_user, ev);
}

int cmp_run(const struct cmp_params *p, struct cmp_result *r, char *err, size_t len)
{
    memset(r, 0, sizeof *r);
    r->n_cmds = p->n_cmds;
    r->stop_reason = CMP_STOP_ERROR;
    if (p->n_cmds < 1 || p->n_cmds > CMP_MAX_CMDS || !p->ops || !p->ops->run) {
        snprintf(err, len, "between 1 and %d commands are needed", CMP_MAX_CMDS);
        return -1;
    }
    double level = p->level > 0 ? p->level : 0.95;
    double precision = p->precision > 0 ? p->precision : 0.02;
    int min_rounds = p->min_rounds > 0 ? p->min_rounds : 6;
    int max_rounds = p->max_rounds > 0 ? p->max_rounds : 1000;
    double t0 = now_s();
#define STOPPED() (p->stop && *p->stop)
    if (p->ops->setup && p->ops->setup(p->ctx, err, len) != 0)
        return -1;
    for (int w = 0; w < p->warmup && !STOPPED(); w++)
        for (int k = 0; k < p->n_cmds && !STOPPED(); k++) {
            struct cmp_event ev = {.kind = CMP_EV_WARMUP, .cmd = k, .round = -1};
            emit(p, &ev, t0);
            struct cmp_run scratch;
            memset(&scratch, 0, sizeof scratch);
            scratch.cmd = k;
            scratch.round = -1;
            if (p->ops->run(p->ctx, k, 0, &scratch, err, len) != 0)
                return -1;
        }
    double t_first = now_s();
    int order[CMP_MAX_CMDS], precise_streak = 0;
    for (int round = 0;; round++) {
        if (STOPPED()) {
            r->stop_reason = CMP_STOP_INTERRUPTED;
            break;
        }
        cmp_round_order(p->order, p->seed, round, p->n_cmds, order);
        int complete = 1;
        for (int i = 0; i < p->n_cmds; i++) {
            int k = order[i];
            struct cmp_run *rec = next_slot(r);
            if (!rec) {
                snprintf(err, len, "out of memory after %d runs", r->n_runs);
                return -1;
            }
            memset(rec, 0, sizeof *rec);
            rec->cmd = k;
            rec->round = round;
            rec->sim_truth_j = -1;
            rec->dynamic_j = NAN;
            rec->start_s = now_s() - t_first;
            if (p->ops->run(p->ctx, k, 1, rec, err, len) != 0) {
                r->elapsed_s = now_s() - t0;
                return -1;
            }
            if (STOPPED()) {
                /* The run the signal fell in is not a measurement of the command. */
                complete = 0;
                break;
            }
            r->n_runs++;
            struct cmp_event ev = {.kind = CMP_EV_RUN, .cmd = k, .round = round, .run = rec};
            emit(p, &ev, t0);
        }
        if (!complete) {
            r->stop_reason = CMP_STOP_INTERRUPTED;
            break;
        }
        r->rounds_done = round + 1;
        struct cmp_event ev = {.kind = CMP_EV_ROUND, .round = round};
        ev.widest_ratio_rel = widest_ratio(r, p->n_cmds, level, &ev.ratio_coverage);
        emit(p, &ev, t0);
        if (p->runs > 0) {
            if (r->rounds_done >= p->runs) {
                r->stop_reason = CMP_STOP_RUNS;
                break;
            }
            continue;
        }
        /* Stopping at the first round that looks precise enough favours lucky streaks (an
         * interval that happens to be narrow is more often one that misses); asking for it
         * twice in a row takes most of that bias away. */
        precise_streak = ev.widest_ratio_rel <= precision ? precise_streak + 1 : 0;
        if (r->rounds_done >= min_rounds && precise_streak >= 2) {
            r->stop_reason = CMP_STOP_PRECISION;
            break;
        }
        if (p->max_time_s > 0 && now_s() - t0 >= p->max_time_s && r->rounds_done >= 2) {
            r->stop_reason = CMP_STOP_TIME;
            break;
        }
        if (r->rounds_done >= max_rounds) {
            r->stop_reason = CMP_STOP_MAX_ROUNDS;
            break;
        }
    }
#undef STOPPED
    r->elapsed_s = now_s() - t0;
    return 0;
}

void cmp_result_free(struct cmp_result *r)
{
    free(r->runs);
    memset(r, 0, sizeof *r);
}
