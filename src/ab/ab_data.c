/* SPDX-License-Identifier: MIT */
/*
 * ab_data.c - the inputs of the A/B experiment: names of precisions and arms, a counter-based
 * generator (any element can be produced alone, so the simulated executor can sample the very
 * matrices a real executor would build), fp16/bf16 rounding, and the correctness check.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ab/ab.h"

static const char *const prec_names[AB_PREC_COUNT] = {"fp32", "tf32", "fp16", "bf16", "fp64"};

static const struct {
    const char *name, *what;
} arms[AB_ARM_COUNT] = {
    {"normal", "N(0,1)"},
    {"zeros", "all zeros"},
    {"constant", "all 2.0"},
    {"uniform", "uniform [0,1)"},
    {"sparse", "N(0,1), negatives set to 0 (half zeros)"},
    {"onebit", "each element 0 or 8"},
    {"truncated", "N(0,1), mantissa cut to 4 bits"},
};

static const char *const exec_names[AB_EXEC_COUNT] = {"sim", "cuda", "cpu"};

const char *ab_prec_name(int prec)
{
    return prec >= 0 && prec < AB_PREC_COUNT ? prec_names[prec] : "?";
}

int ab_prec_from_name(const char *s)
{
    for (int i = 0; i < AB_PREC_COUNT; i++)
        if (strcmp(s, prec_names[i]) == 0)
            return i;
    return -1;
}

size_t ab_prec_bytes(int prec)
{
    return prec == AB_FP64 ? 8 : prec == AB_FP16 || prec == AB_BF16 ? 2 : 4;
}

const char *ab_arm_name(int arm)
{
    return arm >= 0 && arm < AB_ARM_COUNT ? arms[arm].name : "?";
}

const char *ab_arm_description(int arm)
{
    return arm >= 0 && arm < AB_ARM_COUNT ? arms[arm].what : "?";
}

int ab_arm_from_name(const char *s)
{
    for (int i = 0; i < AB_ARM_COUNT; i++)
        if (strcmp(s, arms[i].name) == 0)
            return i;
    return -1;
}

const char *ab_executor_name(int e)
{
    return e >= 0 && e < AB_EXEC_COUNT ? exec_names[e] : "?";
}

/* ---- generator ------------------------------------------------------------------------- */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Two uniforms in (0,1) and one in [0,1) from one 64-bit draw. */
static double value_at(int arm, uint64_t key, size_t i)
{
    uint64_t r = mix64(key + 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1));
    double u1 = ((double)(r >> 40) + 0.5) * 0x1.0p-24;               /* (0,1), 24 bits */
    double u2 = (double)((r >> 16) & 0xFFFFFFu) * 0x1.0p-24;         /* [0,1), 24 bits */
    double n01 = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2); /* Box-Muller */
    switch (arm) {
    case AB_ARM_ZEROS:
        return 0.0;
    case AB_ARM_CONSTANT:
        return 2.0;
    case AB_ARM_UNIFORM:
        return (double)(r >> 11) * 0x1.0p-53;
    case AB_ARM_SPARSE:
        return n01 < 0 ? 0.0 : n01;
    case AB_ARM_ONEBIT:
        return (r >> 63) ? 8.0 : 0.0;
    case AB_ARM_TRUNCATED: {
        float f = (float)n01;
        uint32_t u;
        memcpy(&u, &f, sizeof u);
        u &= 0xFFF80000u; /* sign, exponent, 4 mantissa bits */
        memcpy(&f, &u, sizeof f);
        return f;
    }
    default:
        return n01;
    }
}

static uint64_t stream_key(int arm, uint64_t seed, int which)
{
    /* The arm is not part of the key on purpose: normal, sparse and truncated share their
     * underlying N(0,1) draws, so they differ only by the transformation. */
    (void)arm;
    return mix64(seed * 0x2545F4914F6CDD1Dull + 0x632BE59BD9B4E019ull * (uint64_t)(which + 1));
}

void ab_fill_f32(float *x, size_t count, int arm, uint64_t seed, int which, size_t first)
{
    uint64_t key = stream_key(arm, seed, which);
    for (size_t i = 0; i < count; i++)
        x[i] = (float)value_at(arm, key, first + i);
}

void ab_fill_f64(double *x, size_t count, int arm, uint64_t seed, int which, size_t first)
{
    uint64_t key = stream_key(arm, seed, which);
    for (size_t i = 0; i < count; i++)
        x[i] = value_at(arm, key, first + i);
}

/* ---- 16-bit formats -------------------------------------------------------------------- */

uint16_t ab_f32_to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7F800000u) == 0x7F800000u) /* inf, nan */
        return (uint16_t)((u >> 16) | ((u & 0xFFFFu) ? 0x40u : 0));
    u += 0x7FFFu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

float ab_bf16_to_f32(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

uint16_t ab_f32_to_f16(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    uint32_t sign = (u >> 16) & 0x8000u, man = u & 0x7FFFFFu;
    int e = (int)((u >> 23) & 0xFF);
    if (e == 0xFF)
        return (uint16_t)(sign | 0x7C00u | (man ? 0x200u : 0));
    int exp = e - 127 + 15;
    if (exp >= 31)
        return (uint16_t)(sign | 0x7C00u);
    if (exp <= 0) {
        if (exp < -10)
            return (uint16_t)sign;
        man |= 0x800000u;
        int shift = 14 - exp;
        uint32_t h = man >> shift, rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1)))
            h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((uint32_t)exp << 10) | (man >> 13), rem = man & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1)))
        h++;
    return (uint16_t)(sign | h);
}

float ab_f16_to_f32(uint16_t h)
{
    int e = (h >> 10) & 0x1F;
    double man = h & 0x3FF, v;
    if (e == 0)
        v = ldexp(man, -24);
    else if (e == 31)
        v = man ? NAN : INFINITY;
    else
        v = ldexp(man + 1024.0, e - 25);
    return (float)((h & 0x8000u) ? -v : v);
}

double ab_stored_value(float v, int prec)
{
    switch (prec) {
    case AB_FP16:
        return ab_f16_to_f32(ab_f32_to_f16(v));
    case AB_BF16:
        return ab_bf16_to_f32(ab_f32_to_bf16(v));
    default:
        return v;
    }
}

/* ---- correctness check ----------------------------------------------------------------- */

double ab_check_tolerance(int prec, int n, double s1, double s2)
{
    /* Inputs: fp16/bf16 are rounded on the host, so the reference sees the same values;
     * tf32 rounds fp32 inputs to 10 mantissa bits inside the tensor cores. Accumulation is
     * in fp32 (fp64 for fp64): its rounding errors grow like sqrt(n) u sum|ab| for the usual
     * orders of summation (bounded by n u sum|ab|). Input rounding is random-signed, so it
     * grows like u sqrt(sum (ab)^2); 8 such units. A wrong product (transposed, wrong layout,
     * garbage) misses by the size of the entries, orders of magnitude more. */
    double u_in = prec == AB_TF32 ? 0x1.0p-11 : 0.0;
    double u_acc = prec == AB_FP64 ? 0x1.0p-53 : 0x1.0p-24;
    return 8.0 * u_in * sqrt(s2) + 4.0 * u_acc * sqrt((double)n) * s1 + 1e-30;
}

void ab_check_entries(int prec, int n, int samples, const double *arow, const double *bcol,
                      const double *c, struct ab_check *out)
{
    memset(out, 0, sizeof *out);
    out->checked = 1;
    out->passed = 1;
    out->samples = samples;
    for (int s = 0; s < samples; s++) {
        const double *a = arow + (size_t)s * (size_t)n, *b = bcol + (size_t)s * (size_t)n;
        double ref = 0, s1 = 0, s2 = 0;
        for (int k = 0; k < n; k++) {
            double p = a[k] * b[k];
            ref += p;
            s1 += fabs(p);
            s2 += p * p;
        }
        double err = fabs(c[s] - ref), tol = ab_check_tolerance(prec, n, s1, s2);
        double ratio = err / tol;
        if (!(ratio <= 1.0)) /* NaN fails too */
            out->passed = 0;
        if (!(ratio <= out->max_err_ratio))
            out->max_err_ratio = ratio;
        double rel = fabs(ref) > 0 ? err / fabs(ref) : err;
        if (!(rel <= out->max_rel_err))
            out->max_rel_err = rel;
    }
}

void ab_check_indices(uint64_t seed, int n, int samples, int *rows, int *cols)
{
    uint64_t st = mix64(seed ^ 0xC0FFEE123456789ull);
    for (int s = 0; s < samples; s++) {
        st = mix64(st + 0x9E3779B97F4A7C15ull);
        rows[s] = (int)((st >> 32) % (uint64_t)n);
        cols[s] = (int)((st & 0xFFFFFFFFu) % (uint64_t)n);
    }
}

int ab_check_sampled(int prec, int n, int arm, uint64_t seed, int samples, const int *rows,
                     const int *cols, const double *c, struct ab_check *out)
{
    size_t sz = (size_t)samples * (size_t)n;
    double *a = malloc(sz * sizeof *a), *b = malloc(sz * sizeof *b);
    if (!a || !b) {
        free(a);
        free(b);
        return -1;
    }
    /* Regenerate the sampled rows of A and columns of B (row-major, element i*n+j), as the
     * executor stored them (fp16/bf16 rounding). */
    for (int s = 0; s < samples; s++) {
        for (int k = 0; k < n; k++) {
            size_t ia = (size_t)rows[s] * (size_t)n + (size_t)k;
            size_t ib = (size_t)k * (size_t)n + (size_t)cols[s];
            if (prec == AB_FP64) {
                ab_fill_f64(&a[(size_t)s * n + k], 1, arm, seed, 0, ia);
                ab_fill_f64(&b[(size_t)s * n + k], 1, arm, seed, 1, ib);
            } else {
                float fa, fb;
                ab_fill_f32(&fa, 1, arm, seed, 0, ia);
                ab_fill_f32(&fb, 1, arm, seed, 1, ib);
                a[(size_t)s * n + k] = ab_stored_value(fa, prec);
                b[(size_t)s * n + k] = ab_stored_value(fb, prec);
            }
        }
    }
    ab_check_entries(prec, n, samples, a, b, c, out);
    free(a);
    free(b);
    return 0;
}
