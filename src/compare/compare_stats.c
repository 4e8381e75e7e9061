/* SPDX-License-Identifier: MIT */
/*
 * compare_stats.c - what the runs of `joules compare` say: per command the median of each
 * quantity with its distribution-free interval (ab_median_ci, order statistics); per command
 * k >= 1 the paired ratios k / first, one per round (the two runs of a round are close in
 * time, so slow drift cancels in each ratio), their median and interval; against a saved
 * result, the unpaired ratio (no pairing is possible across time); runs outside the Tukey
 * fences marked, never dropped; the verdict, the gate and the warnings.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compare/compare.h"

static const char *const q_names[CMP_Q_COUNT] = {"energy", "time", "power", "edp", "dynamic"};
static const char *const q_units[CMP_Q_COUNT] = {"J", "s", "W", "J s", "J"};

const char *cmp_quantity_name(int q)
{
    return q >= 0 && q < CMP_Q_COUNT ? q_names[q] : "?";
}

const char *cmp_quantity_unit(int q)
{
    return q >= 0 && q < CMP_Q_COUNT ? q_units[q] : "";
}

double cmp_run_value(const struct cmp_run *r, int q)
{
    int e = r->energy_valid;
    switch (q) {
    case CMP_Q_ENERGY:
        return e ? r->energy_j : NAN;
    case CMP_Q_TIME:
        return r->time_s;
    case CMP_Q_POWER:
        return e && r->time_s > 0 ? r->energy_j / r->time_s : NAN;
    case CMP_Q_EDP:
        return e ? r->energy_j * r->time_s : NAN;
    case CMP_Q_DYNAMIC:
        return e ? r->dynamic_j : NAN;
    default:
        return NAN;
    }
}

double cmp_two_sided_z(double level)
{
    /* P(|Z| <= z) = erf(z / sqrt 2); bisection is plenty for a handful of calls. */
    double lo = 0, hi = 10;
    for (int i = 0; i < 100; i++) {
        double mid = 0.5 * (lo + hi);
        if (erf(mid / sqrt(2.0)) < level)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct ab_interval cmp_unpaired_ratio(const double *b, int nb, const double *a, int na,
                                      double level)
{
    struct ab_interval r = {NAN, NAN, NAN, 0, 0};
    double *d = malloc((size_t)(nb > 0 ? nb : 1) * (size_t)(na > 0 ? na : 1) * sizeof *d);
    if (!d)
        return r;
    int m = 0, mb = 0, ma = 0;
    for (int j = 0; j < nb; j++)
        mb += isfinite(b[j]) && b[j] > 0;
    for (int i = 0; i < na; i++)
        ma += isfinite(a[i]) && a[i] > 0;
    for (int j = 0; j < nb; j++)
        for (int i = 0; i < na; i++)
            if (isfinite(b[j]) && b[j] > 0 && isfinite(a[i]) && a[i] > 0)
                d[m++] = log(b[j]) - log(a[i]);
    if (m == 0) {
        free(d);
        return r;
    }
    qsort(d, (size_t)m, sizeof *d, cmp_double);
    double med = m % 2 ? d[m / 2] : 0.5 * (d[m / 2 - 1] + d[m / 2]);
    /* Mann-Whitney: the shift's interval runs from the C-th smallest to the C-th largest
     * pairwise difference, C from the normal approximation of the rank sum's law. */
    double z = cmp_two_sided_z(level);
    double c = (double)mb * ma / 2.0 - z * sqrt((double)mb * ma * (mb + ma + 1) / 12.0);
    int ci = (int)floor(c);
    if (ci < 1)
        ci = 1;
    if (ci > (m + 1) / 2)
        ci = (m + 1) / 2;
    double zc = ((double)mb * ma / 2.0 - (ci - 0.5)) / sqrt((double)mb * ma * (mb + ma + 1) / 12.0);
    r.median = exp(med);
    r.lo = exp(d[ci - 1]);
    r.hi = exp(d[m - ci]);
    r.coverage = erf(zc / sqrt(2.0));
    r.n = mb < ma ? mb : ma;
    free(d);
    return r;
}

/* Tukey's fences on the energy (time when no energy) of each command. */
static void mark_outliers(struct cmp_result *r, struct cmp_summary *s)
{
    for (int k = 0; k < r->n_cmds; k++) {
        int q = isfinite(s->q[k][CMP_Q_ENERGY].median) ? CMP_Q_ENERGY : CMP_Q_TIME;
        double *v = malloc((size_t)(r->n_runs > 0 ? r->n_runs : 1) * sizeof *v);
        if (!v)
            return;
        int n = 0;
        for (int i = 0; i < r->n_runs; i++) {
            double x = cmp_run_value(&r->runs[i], q);
            if (r->runs[i].cmd == k && isfinite(x))
                v[n++] = x;
        }
        if (n >= 4) {
            qsort(v, (size_t)n, sizeof *v, cmp_double);
            /* Quartiles by linear interpolation between order statistics. */
            double pos1 = 0.25 * (n - 1), pos3 = 0.75 * (n - 1);
            int i1 = (int)pos1, i3 = (int)pos3;
            double q1 = v[i1] + (pos1 - i1) * (i1 + 1 < n ? v[i1 + 1] - v[i1] : 0);
            double q3 = v[i3] + (pos3 - i3) * (i3 + 1 < n ? v[i3 + 1] - v[i3] : 0);
            double iqr = q3 - q1, lo = q1 - 1.5 * iqr, hi = q3 + 1.5 * iqr;
            for (int i = 0; i < r->n_runs; i++) {
                struct cmp_run *x = &r->runs[i];
                double y = cmp_run_value(x, q);
                if (x->cmd == k && isfinite(y) && (y < lo || y > hi)) {
                    x->outlier = 1;
                    s->n_outliers[k]++;
                }
            }
        }
        free(v);
    }
}

void cmp_summarize(struct cmp_result *r, const struct cmp_baseline *bl, double level,
                   struct cmp_summary *s)
{
    memset(s, 0, sizeof *s);
    s->level = level;
    int n = r->n_runs, rounds = r->rounds_done, nc = r->n_cmds;
    double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    double *u = malloc((size_t)(n > 0 ? n : 1) * sizeof *u);
    double *cell = malloc((size_t)(rounds > 0 ? rounds : 1) * (size_t)nc * sizeof *cell);
    if (!v || !u || !cell) {
        free(v);
        free(u);
        free(cell);
        return;
    }
    for (int i = 0; i < n; i++)
        r->runs[i].outlier = 0;
    for (int k = 0; k < nc; k++) {
        s->first_status[k] = -1;
        int m = 0;
        for (int i = 0; i < n; i++) {
            const struct cmp_run *x = &r->runs[i];
            if (x->cmd != k)
                continue;
            if (s->first_status[k] < 0)
                s->first_status[k] = x->exit_status;
            else if (x->exit_status != s->first_status[k])
                s->status_varies[k] = 1;
            u[m++] = x->energy_valid && x->energy_j > 0 ? x->uncertainty_j / x->energy_j : NAN;
        }
        s->rel_uncertainty[k] = ab_median(u, m);
        for (int q = 0; q < CMP_Q_COUNT; q++) {
            m = 0;
            for (int i = 0; i < n; i++)
                if (r->runs[i].cmd == k)
                    v[m++] = cmp_run_value(&r->runs[i], q);
            s->q[k][q] = ab_median_ci(v, m, level);
        }
    }
    /* Pairs come only from complete rounds: a round cut short has no partner for its runs. */
    for (int q = 0; q < CMP_Q_COUNT; q++) {
        for (int i = 0; i < rounds * nc; i++)
            cell[i] = NAN;
        for (int i = 0; i < n; i++) {
            const struct cmp_run *x = &r->runs[i];
            if (x->round >= 0 && x->round < rounds)
                cell[x->round * nc + x->cmd] = cmp_run_value(x, q);
        }
        for (int k = 1; k < nc; k++) {
            for (int j = 0; j < rounds; j++)
                v[j] = cell[j * nc + k] / cell[j * nc];
            s->ratio[k][q] = ab_median_ci(v, rounds, level);
        }
    }
    if (bl && bl->n > 0) {
        s->have_baseline = 1;
        double *be = malloc((size_t)bl->n * sizeof *be);
        if (be) {
            for (int q = 0; q < CMP_Q_COUNT; q++) {
                for (int j = 0; j < bl->n; j++) {
                    double e = bl->energy_j[j], t = bl->time_s[j];
                    be[j] = q == CMP_Q_ENERGY  ? e
                            : q == CMP_Q_TIME  ? t
                            : q == CMP_Q_POWER ? (t > 0 ? e / t : NAN)
                            : q == CMP_Q_EDP   ? e * t
                                               : NAN;
                }
                s->baseline_q[q] = ab_median_ci(be, bl->n, level);
                for (int k = 0; k < nc; k++) {
                    int m = 0;
                    for (int i = 0; i < n; i++)
                        if (r->runs[i].cmd == k)
                            v[m++] = cmp_run_value(&r->runs[i], q);
                    /* Runs without a figure (null in the file) are skipped there. */
                    s->vs_baseline[k][q] = cmp_unpaired_ratio(v, m, be, bl->n, level);
                }
            }
            free(be);
        }
    }
    free(v);
    free(u);
    free(cell);
    mark_outliers(r, s);
}

/* "12 % [9 %, 15 %] less energy" from a ratio interval. */
static void change_text(const struct ab_interval *iv, const char *what, char *buf, size_t len)
{
    int less = iv->median <= 1;
    double m = less ? 1 - iv->median : iv->median - 1;
    double a = less ? 1 - iv->hi : iv->lo - 1, b = less ? 1 - iv->lo : iv->hi - 1;
    /* Small differences keep two decimals, so that a bound is not shown as 0.0 %. */
    int d = fabs(a) < 0.01 || fabs(m) < 0.01 ? 2 : 1;
    snprintf(buf, len, "%.*f %% [%.*f %%, %.*f %%] %s %s", d, 100 * m, d, 100 * a, d, 100 * b,
             less ? "less" : "more", what);
}

void cmp_verdict(const struct cmp_summary *s, const char *name_k, const char *name_0, int k,
                 int vs_baseline, char *buf, size_t len)
{
    const struct ab_interval *e =
        vs_baseline ? &s->vs_baseline[k][CMP_Q_ENERGY] : &s->ratio[k][CMP_Q_ENERGY];
    const struct ab_interval *t =
        vs_baseline ? &s->vs_baseline[k][CMP_Q_TIME] : &s->ratio[k][CMP_Q_TIME];
    if (!isfinite(e->median) || !isfinite(e->lo) || !isfinite(e->hi)) {
        snprintf(buf, len, "%s against %s: no energy ratio (no valid pair of runs)", name_k,
                 name_0);
        return;
    }
    char et[160], tt[200];
    if (isfinite(t->lo) && t->lo <= 1 && t->hi >= 1)
        snprintf(tt, sizeof tt, "at the same time (time ratio %.3f [%.3f, %.3f])", t->median, t->lo,
                 t->hi);
    else if (isfinite(t->median)) {
        char ch[120];
        change_text(t, "time", ch, sizeof ch);
        snprintf(tt, sizeof tt, "in %s", ch);
    } else
        snprintf(tt, sizeof tt, "(time not compared)");
    if (e->lo <= 1 && e->hi >= 1) {
        snprintf(buf, len,
                 "%s against %s: no difference in energy detectable at this precision (ratio "
                 "%.3f [%.3f, %.3f]: anything from %.1f %% less to %.1f %% more), %s.",
                 name_k, name_0, e->median, e->lo, e->hi, 100 * (1 - e->lo), 100 * (e->hi - 1), tt);
        return;
    }
    if (e->coverage < s->level) {
        snprintf(buf, len,
                 "%s against %s: too few runs for a verdict at %.0f %% (energy ratio %.3f [%.3f, "
                 "%.3f] holds with %.1f %% confidence only).",
                 name_k, name_0, 100 * s->level, e->median, e->lo, e->hi, 100 * e->coverage);
        return;
    }
    change_text(e, "energy", et, sizeof et);
    snprintf(buf, len, "%s used %s than %s, %s.", name_k, et, name_0, tt);
}

int cmp_gate_fails(const struct ab_interval *energy_ratio, double more_rel)
{
    return isfinite(energy_ratio->lo) && energy_ratio->lo > 1 + more_rel;
}

#define ADD(...)                                                                                   \
    do {                                                                                           \
        if (used < len) {                                                                          \
            int w_ = snprintf(buf + used, len - used, __VA_ARGS__);                                \
            if (w_ > 0)                                                                            \
                used += (size_t)w_ < len - used ? (size_t)w_ : len - used - 1;                     \
        }                                                                                          \
        count++;                                                                                   \
    } while (0)

int cmp_warnings(const struct cmp_result *r, const struct cmp_summary *s, const char *const *names,
                 double precision, char *buf, size_t len)
{
    size_t used = 0;
    int count = 0;
    if (len)
        buf[0] = '\0';
    for (int k = 0; k < r->n_cmds; k++) {
        double t = s->q[k][CMP_Q_TIME].median, ru = s->rel_uncertainty[k];
        /* A run whose own +/- is as large as the difference sought cannot resolve it, and a
         * GPU's counter steps only every ~100 ms. */
        if ((isfinite(ru) && ru > fmax(precision, 0.01)) || (isfinite(t) && t < 0.1))
            ADD("%s: runs of %.3g s are too short for the sensor (each run's energy +/- %.1f "
                "%%): measure one run of it with `joules repeat`, or make each run longer\n",
                names[k], t, 100 * ru);
        if (s->status_varies[k]) {
            int zero = 0, other = 0;
            for (int i = 0; i < r->n_runs; i++)
                if (r->runs[i].cmd == k) {
                    if (r->runs[i].exit_status == 0)
                        zero++;
                    else
                        other++;
                }
            ADD("%s: the exit status differs between runs (0 in %d, non-zero in %d): the runs "
                "may not do the same work\n",
                names[k], zero, other);
        } else if (s->first_status[k] > 0)
            ADD("%s: exited with status %d in every run: is it doing the work?\n", names[k],
                s->first_status[k]);
        if (s->n_outliers[k] > 0) {
            char list[200] = "";
            size_t l = 0;
            for (int i = 0, shown = 0; i < r->n_runs && shown < 8; i++)
                if (r->runs[i].cmd == k && r->runs[i].outlier) {
                    int w = snprintf(list + l, sizeof list - l, "%s%d", shown ? ", " : "",
                                     r->runs[i].round + 1);
                    if (w > 0 && l + (size_t)w < sizeof list)
                        l += (size_t)w;
                    shown++;
                }
            ADD("%s: %d run(s) stand out (round %s), outside the quartiles +/- 1.5 IQR; kept "
                "in every figure\n",
                names[k], s->n_outliers[k], list);
        }
    }
    for (int k = 1; k < r->n_cmds; k++) {
        const struct ab_interval *e = &s->ratio[k][CMP_Q_ENERGY];
        if (e->n > 0 && e->coverage < s->level) {
            ADD("%s/%s: %d round(s) give an interval of %.1f %% confidence only; run 6 or "
                "more for 95 %%\n",
                names[k], names[0], e->n, 100 * e->coverage);
            break;
        }
    }
    return count;
}
