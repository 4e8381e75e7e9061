/* SPDX-License-Identifier: MIT */
/*
 * test_sweep_fit.c - the fitting maths of `joules sweep` on synthetic data whose truth is
 * known: least squares against a closed form, standard errors whose 95 % intervals cover the
 * truth about 95 % of the time, rank deficiency refused, each power model recovering its
 * parameters (and choosing the right model), the static/dynamic split, interpolation and
 * Student's t quantiles.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/stats.h"
#include "sweep/sweep.h"
#include "testlib.h"

static uint64_t rng = 12345;

static double uniform(void)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return ((rng >> 11) + 0.5) * 0x1.0p-53;
}

static double gauss(void)
{
    return sqrt(-2 * log(uniform())) * cos(6.283185307179586 * uniform());
}

/* V(f) of the simulator's shape: flat to the ridge, then linear. */
static double volt(double f)
{
    return f <= 1000 ? 0.7 : 0.7 + 0.2 * (f - 1000) / 500;
}

static void lsq_closed_form(void)
{
    /* y = a + b x: slope and intercept, their standard errors, R^2, by the textbook formulas. */
    double x[] = {1, 2, 3, 4, 5, 6}, y[] = {2.1, 3.9, 6.2, 7.8, 10.1, 12.2};
    double X[12];
    int n = 6;
    for (int i = 0; i < n; i++)
        X[2 * i] = 1, X[2 * i + 1] = x[i];
    struct sweep_lsq l;
    CHECK(sweep_lsq(X, y, n, 2, &l) == 0);
    double mx = 3.5, my = 0, sxx = 0, sxy = 0;
    for (int i = 0; i < n; i++)
        my += y[i] / n;
    for (int i = 0; i < n; i++)
        sxx += (x[i] - mx) * (x[i] - mx), sxy += (x[i] - mx) * (y[i] - my);
    double b = sxy / sxx, a = my - b * mx, rss = 0, tss = 0;
    for (int i = 0; i < n; i++)
        rss += pow(y[i] - a - b * x[i], 2), tss += pow(y[i] - my, 2);
    double s2 = rss / (n - 2);
    CHECK_NEAR(l.beta[0], a, 1e-10);
    CHECK_NEAR(l.beta[1], b, 1e-10);
    CHECK_NEAR(l.se[1], sqrt(s2 / sxx), 1e-10);
    CHECK_NEAR(l.se[0], sqrt(s2 * (1.0 / n + mx * mx / sxx)), 1e-10);
    CHECK_NEAR(l.r2, 1 - rss / tss, 1e-12);
    CHECK_NEAR(l.rmse, sqrt(s2), 1e-12);
    CHECK_NEAR(l.cov[0][1], -mx * s2 / sxx, 1e-10);

    /* Refused: fewer points than parameters, a zero column, two proportional columns. */
    CHECK(sweep_lsq(X, y, 1, 2, &l) != 0);
    double Z[12];
    for (int i = 0; i < n; i++)
        Z[2 * i] = 1, Z[2 * i + 1] = 0;
    CHECK(sweep_lsq(Z, y, n, 2, &l) != 0);
    for (int i = 0; i < n; i++)
        Z[2 * i] = 2, Z[2 * i + 1] = 6;
    CHECK(sweep_lsq(Z, y, n, 2, &l) != 0);
    /* n == p: exact, no standard error. */
    CHECK(sweep_lsq(X, y, 2, 2, &l) == 0);
    CHECK(isnan(l.se[0]));
}

/* The leak model recovers a, b, k exactly on exact data and picks itself. */
static void model_fv2_leak_exact(void)
{
    double f[11], v[11], p[11];
    for (int i = 0; i < 11; i++) {
        f[i] = 500 + 100 * i;
        v[i] = volt(f[i]);
        p[i] = 10 + 10.2 * v[i] * v[i] + 0.1146 * f[i] * v[i] * v[i];
    }
    struct sweep_fit fit;
    CHECK(sweep_fit_power(f, v, p, 11, &fit) == 0);
    CHECK_EQ_INT(fit.model, SWEEP_MODEL_FV2_LEAK);
    CHECK_NEAR(fit.l.beta[0], 10, 1e-8);
    CHECK_NEAR(fit.l.beta[1], 10.2, 1e-8);
    CHECK_NEAR(fit.l.beta[2], 0.1146, 1e-11);
    CHECK_NEAR(fit.l.r2, 1, 1e-12);
    CHECK(fit.max_abs_resid_w < 1e-9);
    CHECK_EQ_INT(sweep_fit_k_index(fit.model), 2);
    /* static + dynamic = total, and each part is what was put in */
    CHECK_NEAR(sweep_fit_static(&fit, 1300, volt(1300)), 10 + 10.2 * pow(volt(1300), 2), 1e-8);
    CHECK_NEAR(sweep_fit_dynamic(&fit, 1300, volt(1300)), 0.1146 * 1300 * pow(volt(1300), 2), 1e-7);
    CHECK_NEAR(sweep_fit_total(&fit, 700, 0.7), 10 + 10.2 * 0.49 + 0.1146 * 700 * 0.49, 1e-8);
}

/* Flat voltage: the V^2 term cannot be told from the constant: the two-parameter model. */
static void model_fv2_flat(void)
{
    double f[5] = {500, 600, 700, 800, 900}, v[5], p[5];
    for (int i = 0; i < 5; i++)
        v[i] = 0.7, p[i] = 15 + 0.05 * f[i] * 0.49 + (i % 2 ? 0.1 : -0.1);
    struct sweep_fit fit;
    CHECK(sweep_fit_power(f, v, p, 5, &fit) == 0);
    CHECK_EQ_INT(fit.model, SWEEP_MODEL_FV2);
    CHECK_NEAR(fit.l.beta[1], 0.05, 0.002);
    CHECK_NEAR(fit.l.beta[0], 15, 1.0);
    CHECK(fit.l.se[1] > 0 && fit.l.r2 < 1 && fit.l.r2 > 0.99);
    /* one point is not a fit */
    CHECK(sweep_fit_power(f, v, p, 1, &fit) != 0);
    CHECK_EQ_INT(fit.model, SWEEP_MODEL_NONE);
    CHECK(strlen(fit.why) > 0);
}

/* Without voltages: a + b f + c f^3. */
static void model_poly(void)
{
    double f[8], p[8];
    for (int i = 0; i < 8; i++)
        f[i] = 600 + 150 * i, p[i] = 70 + 0.02 * f[i] + 4e-8 * f[i] * f[i] * f[i];
    struct sweep_fit fit;
    CHECK(sweep_fit_power(f, NULL, p, 8, &fit) == 0);
    CHECK_EQ_INT(fit.model, SWEEP_MODEL_POLY);
    CHECK_NEAR(fit.l.beta[0], 70, 1e-6);
    CHECK_NEAR(fit.l.beta[1], 0.02, 1e-9);
    CHECK_NEAR(fit.l.beta[2], 4e-8, 1e-15);
    CHECK_NEAR(sweep_fit_static(&fit, 1000, NAN), 70, 1e-6);
    double nanv[8];
    for (int i = 0; i < 8; i++)
        nanv[i] = NAN; /* unknown voltages fall back to the polynomial */
    CHECK(sweep_fit_power(f, nanv, p, 8, &fit) == 0);
    CHECK_EQ_INT(fit.model, SWEEP_MODEL_POLY);
    CHECK(sweep_fit_power(f, NULL, p, 3, &fit) != 0); /* 3 points, 3 parameters: no residual */
}

/* Noisy data: the 95 % intervals of k cover the truth in about 95 % of repeated sweeps,
 * and the estimates are unbiased. */
static void coverage(void)
{
    const int trials = 2000, n = 11;
    int covered = 0, covered_a = 0;
    double mean_k = 0;
    for (int t = 0; t < trials; t++) {
        double f[11], v[11], p[11];
        for (int i = 0; i < n; i++) {
            f[i] = 500 + 100 * i;
            v[i] = volt(f[i]);
            p[i] = 10 + 10.2 * v[i] * v[i] + 0.1146 * f[i] * v[i] * v[i] + 0.5 * gauss();
        }
        struct sweep_fit fit;
        if (sweep_fit_power(f, v, p, n, &fit) != 0)
            continue;
        double q = joules__t975(fit.l.n - fit.l.p);
        covered += fabs(fit.l.beta[2] - 0.1146) <= q * fit.l.se[2];
        covered_a += fabs(fit.l.beta[0] - 10) <= q * fit.l.se[0];
        mean_k += fit.l.beta[2] / trials;
    }
    double c = (double)covered / trials, ca = (double)covered_a / trials;
    /* Binomial(2000, 0.95): sd 0.5 %; bounds at about 4 sd. */
    CHECKF(c > 0.93 && c < 0.97, "coverage of k %.3f", c);
    CHECKF(ca > 0.93 && ca < 0.97, "coverage of a %.3f", ca);
    CHECK_NEAR(mean_k, 0.1146, 0.001);
}

static void interp(void)
{
    double x[] = {500, 1000, 1500}, y[] = {0.7, 0.7, 0.9};
    CHECK_NEAR(sweep_interp(x, y, 3, 400), 0.7, 0);
    CHECK_NEAR(sweep_interp(x, y, 3, 1250), 0.8, 1e-12);
    CHECK_NEAR(sweep_interp(x, y, 3, 1600), 0.9, 0);
    CHECK(isnan(sweep_interp(x, y, 0, 1)));
    CHECK(strcmp(sweep_model_name(SWEEP_MODEL_FV2), "P = a + k f V^2") == 0);
}

int main(void)
{
    RUN(lsq_closed_form);
    RUN(model_fv2_leak_exact);
    RUN(model_fv2_flat);
    RUN(model_poly);
    RUN(coverage);
    RUN(interp);
    return t_end();
}
