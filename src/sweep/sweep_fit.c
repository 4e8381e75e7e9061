/* SPDX-License-Identifier: MIT */
/*
 * sweep_fit.c - ordinary least squares for the power model of a sweep (docs/sweep.md).
 * The models are linear in their parameters, so one small solver serves all of them:
 * columns scaled to unit size, a QR decomposition by modified Gram-Schmidt (better
 * conditioned than the normal equations: f^3 and f V^2 span many orders of magnitude), then
 * beta = R^-1 Q^T y and cov = s^2 R^-1 R^-T with s^2 = RSS / (n - p).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sweep/sweep.h"

int sweep_lsq(const double *X, const double *y, int n, int p, struct sweep_lsq *out)
{
    memset(out, 0, sizeof *out);
    out->n = n;
    out->p = p;
    if (p < 1 || p > SWEEP_MAX_PARAMS || n < p || n > SWEEP_MAX_POINTS)
        return -1;
    double q[SWEEP_MAX_PARAMS][SWEEP_MAX_POINTS], r[SWEEP_MAX_PARAMS][SWEEP_MAX_PARAMS];
    double scale[SWEEP_MAX_PARAMS];
    memset(r, 0, sizeof r);
    for (int j = 0; j < p; j++) {
        scale[j] = 0;
        for (int i = 0; i < n; i++)
            if (fabs(X[i * p + j]) > scale[j])
                scale[j] = fabs(X[i * p + j]);
        if (!(scale[j] > 0) || !isfinite(scale[j]))
            return -1; /* a column of zeros (or not finite) */
        for (int i = 0; i < n; i++)
            q[j][i] = X[i * p + j] / scale[j];
    }
    /* Modified Gram-Schmidt. */
    double rmax = 0;
    for (int j = 0; j < p; j++) {
        double norm0 = 0;
        for (int i = 0; i < n; i++)
            norm0 += q[j][i] * q[j][i];
        norm0 = sqrt(norm0);
        for (int k = 0; k < j; k++) {
            double d = 0;
            for (int i = 0; i < n; i++)
                d += q[k][i] * q[j][i];
            r[k][j] = d;
            for (int i = 0; i < n; i++)
                q[j][i] -= d * q[k][i];
        }
        double norm = 0;
        for (int i = 0; i < n; i++)
            norm += q[j][i] * q[j][i];
        norm = sqrt(norm);
        /* What is left of the column once the others are removed: nearly nothing means the
         * column is (close to) a combination of the others and the parameters are not
         * identifiable. */
        if (!(norm > 1e-9 * norm0) || !(norm > 1e-12 * rmax))
            return -1;
        if (norm > rmax)
            rmax = norm;
        r[j][j] = norm;
        for (int i = 0; i < n; i++)
            q[j][i] /= norm;
    }
    /* beta_scaled = R^-1 Q^T y */
    double qty[SWEEP_MAX_PARAMS], b[SWEEP_MAX_PARAMS] = {0};
    for (int j = 0; j < p; j++) {
        qty[j] = 0;
        for (int i = 0; i < n; i++)
            qty[j] += q[j][i] * y[i];
    }
    for (int j = p - 1; j >= 0; j--) {
        double s = qty[j];
        for (int k = j + 1; k < p; k++)
            s -= r[j][k] * b[k];
        b[j] = s / r[j][j];
    }
    /* Residuals, R^2 (about the mean: every model here has an intercept). */
    double mean = 0, tss = 0, rss = 0;
    for (int i = 0; i < n; i++)
        mean += y[i] / n;
    for (int i = 0; i < n; i++) {
        double fit = 0;
        for (int j = 0; j < p; j++)
            fit += X[i * p + j] / scale[j] * b[j];
        rss += (y[i] - fit) * (y[i] - fit);
        tss += (y[i] - mean) * (y[i] - mean);
    }
    out->rss = rss;
    out->r2 = tss > 0 ? 1 - rss / tss : NAN;
    double s2 = n > p ? rss / (n - p) : NAN;
    out->rmse = sqrt(s2);
    /* Rinv (upper triangular), cov_scaled = s2 Rinv Rinv^T. */
    double ri[SWEEP_MAX_PARAMS][SWEEP_MAX_PARAMS];
    memset(ri, 0, sizeof ri);
    for (int j = 0; j < p; j++) {
        ri[j][j] = 1 / r[j][j];
        for (int i = j - 1; i >= 0; i--) {
            double s = 0;
            for (int k = i + 1; k <= j; k++)
                s += r[i][k] * ri[k][j];
            ri[i][j] = -s / r[i][i];
        }
    }
    for (int a = 0; a < p; a++) {
        out->beta[a] = b[a] / scale[a];
        for (int c = 0; c < p; c++) {
            double s = 0;
            for (int k = 0; k < p; k++)
                s += ri[a][k] * ri[c][k];
            out->cov[a][c] = s2 * s / (scale[a] * scale[c]);
        }
        out->se[a] = sqrt(out->cov[a][a]);
    }
    return 0;
}

int sweep_lsq_weighted(const double *X, const double *y, const double *w, int n, int p,
                       struct sweep_lsq *out)
{
    if (!w)
        return sweep_lsq(X, y, n, p, out);
    if (p < 1 || p > SWEEP_MAX_PARAMS || n < p || n > SWEEP_MAX_POINTS) {
        memset(out, 0, sizeof *out);
        return -1;
    }
    /* Weights relative to their mean: the residuals keep the units and the size of an
     * unweighted fit's, and s^2 (hence the covariance) comes from the weighted residuals. */
    double mean_w = 0;
    for (int i = 0; i < n; i++) {
        if (!(w[i] > 0) || !isfinite(w[i])) {
            memset(out, 0, sizeof *out);
            return -1;
        }
        mean_w += w[i] / n;
    }
    double Xs[SWEEP_MAX_POINTS * SWEEP_MAX_PARAMS], ys[SWEEP_MAX_POINTS], wn[SWEEP_MAX_POINTS];
    for (int i = 0; i < n; i++) {
        wn[i] = w[i] / mean_w;
        double s = sqrt(wn[i]);
        ys[i] = s * y[i];
        for (int j = 0; j < p; j++)
            Xs[i * p + j] = s * X[i * p + j];
    }
    if (sweep_lsq(Xs, ys, n, p, out) != 0)
        return -1;
    /* R^2 of the weighted fit, about the weighted mean. */
    double sum_w = 0, mean = 0, tss = 0;
    for (int i = 0; i < n; i++)
        sum_w += wn[i], mean += wn[i] * y[i];
    mean /= sum_w;
    for (int i = 0; i < n; i++)
        tss += wn[i] * (y[i] - mean) * (y[i] - mean);
    out->r2 = tss > 0 ? 1 - out->rss / tss : NAN;
    return 0;
}

const char *sweep_model_name(int model)
{
    switch (model) {
    case SWEEP_MODEL_FV2:
        return "P = a + k f V^2";
    case SWEEP_MODEL_FV2_LEAK:
        return "P = a + b V^2 + k f V^2";
    case SWEEP_MODEL_POLY:
        return "P = a + b f + c f^3";
    default:
        return "none";
    }
}

int sweep_fit_k_index(int model)
{
    return model == SWEEP_MODEL_FV2                                     ? 1
           : model == SWEEP_MODEL_FV2_LEAK || model == SWEEP_MODEL_POLY ? 2
                                                                        : -1;
}

/* One row of the design matrix; f in GHz internally would change the units of k, so MHz it
 * is (the scaling inside sweep_lsq takes care of the conditioning). */
static int row(int model, double f, double v, double *x)
{
    switch (model) {
    case SWEEP_MODEL_FV2:
        x[0] = 1, x[1] = f * v * v;
        return 2;
    case SWEEP_MODEL_FV2_LEAK:
        x[0] = 1, x[1] = v * v, x[2] = f * v * v;
        return 3;
    case SWEEP_MODEL_POLY:
        x[0] = 1, x[1] = f, x[2] = f * f * f;
        return 3;
    default:
        return 0;
    }
}

double sweep_fit_total(const struct sweep_fit *fit, double f_mhz, double v)
{
    return sweep_fit_static(fit, f_mhz, v) + sweep_fit_dynamic(fit, f_mhz, v);
}

double sweep_fit_static(const struct sweep_fit *fit, double f_mhz, double v)
{
    const double *b = fit->l.beta;
    switch (fit->model) {
    case SWEEP_MODEL_FV2:
    case SWEEP_MODEL_POLY:
        return b[0];
    case SWEEP_MODEL_FV2_LEAK:
        return b[0] + b[1] * v * v;
    default:
        return NAN;
    }
    (void)f_mhz;
}

double sweep_fit_static_se(const struct sweep_fit *fit, double f_mhz, double v)
{
    /* The static part is x . beta with x = (1, V^2) for FV2_LEAK, (1) otherwise: its
     * variance is x' cov x. */
    const double(*c)[SWEEP_MAX_PARAMS] = fit->l.cov;
    switch (fit->model) {
    case SWEEP_MODEL_FV2:
    case SWEEP_MODEL_POLY:
        return fit->l.se[0];
    case SWEEP_MODEL_FV2_LEAK: {
        double v2 = v * v;
        double var = c[0][0] + 2 * v2 * c[0][1] + v2 * v2 * c[1][1];
        return var >= 0 ? sqrt(var) : NAN;
    }
    default:
        return NAN;
    }
    (void)f_mhz;
}

double sweep_fit_dynamic(const struct sweep_fit *fit, double f_mhz, double v)
{
    const double *b = fit->l.beta;
    switch (fit->model) {
    case SWEEP_MODEL_FV2:
        return b[1] * f_mhz * v * v;
    case SWEEP_MODEL_FV2_LEAK:
        return b[2] * f_mhz * v * v;
    case SWEEP_MODEL_POLY:
        return b[1] * f_mhz + b[2] * f_mhz * f_mhz * f_mhz;
    default:
        return NAN;
    }
}

/* Clocks held within 0.5 % of each other count as one: a step the board could not hold apart
 * from another (a power cap, a setting above the maximum) adds a point but no information
 * about how power depends on the clock, so a model needs more distinct clocks than
 * parameters. */
static int distinct_clocks(const double *f_mhz, int n)
{
    int d = 0;
    for (int i = 0; i < n; i++) {
        int seen = 0;
        for (int k = 0; k < i && !seen; k++)
            seen = fabs(f_mhz[i] - f_mhz[k]) <= 0.005 * fabs(f_mhz[k]);
        d += !seen;
    }
    return d;
}

static int try_fit(int model, const double *f, const double *v, const double *pw, const double *w,
                   int n, struct sweep_fit *out)
{
    double X[SWEEP_MAX_POINTS * SWEEP_MAX_PARAMS];
    double probe[SWEEP_MAX_PARAMS];
    int p = row(model, 1, 1, probe);
    for (int i = 0; i < n; i++)
        row(model, f[i], v ? v[i] : NAN, X + (size_t)i * (size_t)p);
    if (n <= p || distinct_clocks(f, n) <= p || sweep_lsq_weighted(X, pw, w, n, p, &out->l) != 0)
        return -1;
    out->model = model;
    out->n = n;
    out->max_abs_resid_w = 0;
    for (int i = 0; i < n; i++) {
        out->resid_w[i] = pw[i] - sweep_fit_total(out, f[i], v ? v[i] : NAN);
        if (fabs(out->resid_w[i]) > out->max_abs_resid_w)
            out->max_abs_resid_w = fabs(out->resid_w[i]);
    }
    return 0;
}

/* Why no fit: distinct clocks counted, not points. */
static void too_few(struct sweep_fit *out, const double *f_mhz, int n, const char *model, int need)
{
    int d = distinct_clocks(f_mhz, n);
    snprintf(out->why, sizeof out->why,
             "%d distinct clock%s (%d point%s) are too few for %s (%d at least)", d,
             d == 1 ? "" : "s", n, n == 1 ? "" : "s", model, need);
    memset(&out->l, 0, sizeof out->l);
    out->model = SWEEP_MODEL_NONE;
}

int sweep_fit_power(const double *f_mhz, const double *v, const double *p_w, int n,
                    struct sweep_fit *out)
{
    return sweep_fit_power_weighted(f_mhz, v, p_w, NULL, n, out);
}

int sweep_fit_power_weighted(const double *f_mhz, const double *v, const double *p_w,
                             const double *w, int n, struct sweep_fit *out)
{
    memset(out, 0, sizeof *out);
    if (n > SWEEP_MAX_POINTS) {
        snprintf(out->why, sizeof out->why, "too many points (%d)", n);
        return -1;
    }
    for (int i = 0; i < n; i++)
        if (!isfinite(f_mhz[i]) || !isfinite(p_w[i])) {
            snprintf(out->why, sizeof out->why, "a point has no clock or no power");
            return -1;
        }
    int have_v = v != NULL;
    for (int i = 0; have_v && i < n; i++)
        if (!(v[i] > 0))
            have_v = 0;
    if (have_v) {
        double lo = INFINITY, hi = 0;
        for (int i = 0; i < n; i++) {
            lo = fmin(lo, v[i] * v[i]);
            hi = fmax(hi, v[i] * v[i]);
        }
        /* Leakage grows with V^2: a term of its own when the voltage moves enough to tell it
         * from the constant part; else it is part of the constant. */
        if (n >= 5 && hi > 1.05 * lo &&
            try_fit(SWEEP_MODEL_FV2_LEAK, f_mhz, v, p_w, w, n, out) == 0)
            return 0;
        if (try_fit(SWEEP_MODEL_FV2, f_mhz, v, p_w, w, n, out) == 0)
            return 0;
        too_few(out, f_mhz, n, "P = a + k f V^2", 3);
        return -1;
    }
    if (try_fit(SWEEP_MODEL_POLY, f_mhz, NULL, p_w, w, n, out) == 0)
        return 0;
    too_few(out, f_mhz, n, "P = a + b f + c f^3", 4);
    return -1;
}

double sweep_interp(const double *x, const double *y, int n, double at)
{
    if (n <= 0)
        return NAN;
    if (at <= x[0] || n == 1)
        return y[0];
    for (int i = 1; i < n; i++)
        if (at <= x[i]) {
            double w = x[i] > x[i - 1] ? (at - x[i - 1]) / (x[i] - x[i - 1]) : 1;
            return y[i - 1] + w * (y[i] - y[i - 1]);
        }
    return y[n - 1];
}
