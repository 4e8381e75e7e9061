/* SPDX-License-Identifier: MIT */
/*
 * test_ab_stats.c - the statistics and data of `joules ab` on known inputs: medians,
 * order-statistic confidence intervals and their binomial coverage, the generator's arms,
 * fp16/bf16 rounding, and the correctness check (a right product passes, a wrong one fails).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ab/ab.h"
#include "testlib.h"

static void median_and_ci(void)
{
    double odd[] = {5, 1, 4, 2, 3};
    CHECK_NEAR(ab_median(odd, 5), 3, 0);
    double even[] = {4, 1, 3, 2};
    CHECK_NEAR(ab_median(even, 4), 2.5, 0);
    double with_nan[] = {NAN, 2, 1, INFINITY, 3};
    CHECK_NEAR(ab_median(with_nan, 5), 2, 0);
    CHECK(isnan(ab_median(with_nan, 1)));

    /* Coverage of [x(k), x(n+1-k)]: 1 - 2 P(Bin(n, 1/2) < k). */
    CHECK_NEAR(ab_order_coverage(7, 1), 1.0 - 2.0 / 128, 1e-12);
    CHECK_NEAR(ab_order_coverage(7, 2), 1.0 - 2.0 * 8 / 128, 1e-12);
    CHECK_NEAR(ab_order_coverage(5, 1), 0.9375, 1e-12);
    CHECK_NEAR(ab_order_coverage(20, 6), 0.958610535, 1e-8);
    CHECK_NEAR(ab_order_coverage(20, 7), 0.884681702, 1e-8);

    double x[20];
    for (int i = 0; i < 20; i++)
        x[i] = 20 - i; /* 20..1, unsorted on purpose */
    struct ab_interval iv = ab_median_ci(x, 20, 0.95);
    CHECK_EQ_INT(iv.n, 20);
    CHECK_NEAR(iv.median, 10.5, 0);
    CHECK_NEAR(iv.lo, 6, 0);  /* x(6) */
    CHECK_NEAR(iv.hi, 15, 0); /* x(15) */
    CHECK(iv.coverage >= 0.95);

    /* Too few samples for 95 %: [min, max] with its smaller coverage, said honestly. */
    double y[] = {3, 1, 2, 5, 4};
    iv = ab_median_ci(y, 5, 0.95);
    CHECK_NEAR(iv.lo, 1, 0);
    CHECK_NEAR(iv.hi, 5, 0);
    CHECK_NEAR(iv.coverage, 0.9375, 1e-12);
    iv = ab_median_ci(y, 0, 0.95);
    CHECK_EQ_INT(iv.n, 0);
    CHECK(isnan(iv.median));
}

static void arms_and_formats(void)
{
    enum { N = 20000 };
    float *v = malloc(N * sizeof *v);
    CHECK(v != NULL);
    if (!v)
        return;
    ab_fill_f32(v, N, AB_ARM_NORMAL, 7, 0, 0);
    double m = 0, s2 = 0;
    for (int i = 0; i < N; i++)
        m += v[i];
    m /= N;
    for (int i = 0; i < N; i++)
        s2 += (v[i] - m) * (v[i] - m);
    CHECK_NEAR(m, 0, 0.05);
    CHECK_NEAR(sqrt(s2 / (N - 1)), 1, 0.03);
    /* Same seed, same values, from any offset (counter-based). */
    float w[10];
    ab_fill_f32(w, 10, AB_ARM_NORMAL, 7, 0, 100);
    CHECK(memcmp(w, v + 100, sizeof w) == 0);
    ab_fill_f32(w, 10, AB_ARM_NORMAL, 7, 1, 100);
    CHECK(memcmp(w, v + 100, sizeof w) != 0); /* B differs from A */

    int zeros = 0, others = 0;
    ab_fill_f32(v, N, AB_ARM_SPARSE, 7, 0, 0);
    for (int i = 0; i < N; i++)
        zeros += v[i] == 0, others += v[i] < 0;
    CHECK_NEAR(zeros / (double)N, 0.5, 0.02);
    CHECK_EQ_INT(others, 0);
    ab_fill_f32(v, N, AB_ARM_ONEBIT, 7, 0, 0);
    zeros = others = 0;
    for (int i = 0; i < N; i++)
        zeros += v[i] == 0, others += v[i] != 0 && v[i] != 8;
    CHECK_NEAR(zeros / (double)N, 0.5, 0.02);
    CHECK_EQ_INT(others, 0);
    ab_fill_f32(v, N, AB_ARM_UNIFORM, 7, 0, 0);
    others = 0;
    for (int i = 0; i < N; i++)
        others += !(v[i] >= 0 && v[i] < 1);
    CHECK_EQ_INT(others, 0);
    ab_fill_f32(v, N, AB_ARM_TRUNCATED, 7, 0, 0);
    others = 0;
    for (int i = 0; i < N; i++) {
        uint32_t u;
        memcpy(&u, &v[i], sizeof u);
        others += (u & 0x7FFFFu) != 0;
    }
    CHECK_EQ_INT(others, 0);
    free(v);

    CHECK_EQ_INT(ab_f32_to_f16(1.0f), 0x3C00);
    CHECK_EQ_INT(ab_f32_to_f16(-2.0f), 0xC000);
    CHECK_EQ_INT(ab_f32_to_f16(65504.0f), 0x7BFF);
    CHECK_EQ_INT(ab_f32_to_f16(1e6f), 0x7C00);
    CHECK_EQ_INT(ab_f32_to_bf16(1.0f), 0x3F80);
    CHECK_NEAR(ab_f16_to_f32(ab_f32_to_f16(0.1f)), 0.0999755859375, 0);
    CHECK_NEAR(ab_bf16_to_f32(ab_f32_to_bf16(0.1f)), 0.10009765625, 0);
    CHECK_NEAR(ab_stored_value(0.1f, AB_FP32), (double)0.1f, 0);

    CHECK_EQ_INT(ab_prec_from_name("bf16"), AB_BF16);
    CHECK_EQ_INT(ab_prec_from_name("int8"), -1);
    CHECK_EQ_INT(ab_arm_from_name("onebit"), AB_ARM_ONEBIT);
    CHECK_EQ_INT(ab_arm_from_name("ones"), -1);
}

/* A small product computed here in float (as a BLAS would), checked by ab_check_sampled. */
static void correctness_check(void)
{
    enum { N = 96 };
    float *a = malloc(N * N * sizeof *a), *b = malloc(N * N * sizeof *b);
    double *c = malloc(N * N * sizeof *c);
    CHECK(a && b && c);
    if (!a || !b || !c) {
        free(a), free(b), free(c);
        return;
    }
    ab_fill_f32(a, N * N, AB_ARM_NORMAL, 3, 0, 0);
    ab_fill_f32(b, N * N, AB_ARM_NORMAL, 3, 1, 0);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            float acc = 0;
            for (int k = 0; k < N; k++)
                acc += a[i * N + k] * b[k * N + j];
            c[i * N + j] = acc;
        }
    int rows[AB_CHECK_SAMPLES], cols[AB_CHECK_SAMPLES];
    double v[AB_CHECK_SAMPLES];
    ab_check_indices(3, N, AB_CHECK_SAMPLES, rows, cols);
    for (int s = 0; s < AB_CHECK_SAMPLES; s++) {
        CHECK(rows[s] >= 0 && rows[s] < N && cols[s] >= 0 && cols[s] < N);
        v[s] = c[rows[s] * N + cols[s]];
    }
    struct ab_check chk;
    CHECK_EQ_INT(
        ab_check_sampled(AB_FP32, N, AB_ARM_NORMAL, 3, AB_CHECK_SAMPLES, rows, cols, v, &chk), 0);
    CHECK(chk.checked && chk.passed);
    CHECKF(chk.max_err_ratio < 0.5, "%g", chk.max_err_ratio);
    /* The transposed product (a classic layout bug) fails. */
    for (int s = 0; s < AB_CHECK_SAMPLES; s++)
        v[s] = c[cols[s] * N + rows[s]];
    ab_check_sampled(AB_FP32, N, AB_ARM_NORMAL, 3, AB_CHECK_SAMPLES, rows, cols, v, &chk);
    CHECK(chk.checked && !chk.passed);
    /* One entry off by a little more than its tolerance fails; NaN fails. */
    for (int s = 0; s < AB_CHECK_SAMPLES; s++)
        v[s] = c[rows[s] * N + cols[s]];
    v[3] = NAN;
    ab_check_sampled(AB_FP32, N, AB_ARM_NORMAL, 3, AB_CHECK_SAMPLES, rows, cols, v, &chk);
    CHECK(!chk.passed);
    /* tf32 tolerates the rounding of its inputs, fp32 does not. */
    CHECK(ab_check_tolerance(AB_TF32, N, 100, 100) > 10 * ab_check_tolerance(AB_FP32, N, 100, 100));
    CHECK(ab_check_tolerance(AB_FP64, N, 100, 100) < ab_check_tolerance(AB_FP32, N, 100, 100));
    free(a), free(b), free(c);
}

int main(void)
{
    RUN(median_and_ci);
    RUN(arms_and_formats);
    RUN(correctness_check);
    return t_end();
}
