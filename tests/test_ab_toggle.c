/* SPDX-License-Identifier: MIT */
/*
 * test_ab_toggle.c - the bit-toggle rate that drives the simulated executor's activity, on
 * the inputs `joules ab` generates, through the simulated GPU library's own jsimToggleRate
 * (loaded with dlopen like any client): zeros and constants toggle nothing, random bits half
 * of them, N(0,1) a high rate below one half, and the arms order as the talk expects.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ab/ab.h"
#include "abi/jsim.h"
#include "testlib.h"

#define N 100000

static jsimToggleRate_fn toggle;

static double rate_of_arm(int arm, int prec)
{
    static float v[N];
    double r = -1;
    ab_fill_f32(v, N, arm, 11, 0, 0);
    CHECK_EQ_INT(toggle(v, N, prec, &r), NVML_SUCCESS);
    return r;
}

static void rates(void)
{
    CHECK_NEAR(rate_of_arm(AB_ARM_ZEROS, AB_FP32), 0, 0);
    CHECK_NEAR(rate_of_arm(AB_ARM_CONSTANT, AB_FP32), 0, 0);
    CHECK_NEAR(rate_of_arm(AB_ARM_ZEROS, AB_BF16), 0, 0);

    /* Uniformly random bit patterns: each bit flips with probability 1/2. */
    static uint32_t bits[N];
    uint64_t x = 42;
    for (int i = 0; i < N; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        bits[i] = (uint32_t)(x >> 32);
    }
    double r = -1;
    CHECK_EQ_INT(toggle(bits, N, AB_FP32, &r), NVML_SUCCESS);
    CHECK_NEAR(r, 0.5, 0.01);

    double normal = rate_of_arm(AB_ARM_NORMAL, AB_FP32);
    CHECKF(normal > 0.35 && normal < 0.5, "normal fp32 %g", normal);
    double uniform = rate_of_arm(AB_ARM_UNIFORM, AB_FP32);
    double sparse = rate_of_arm(AB_ARM_SPARSE, AB_FP32);
    double onebit = rate_of_arm(AB_ARM_ONEBIT, AB_FP32);
    double trunc = rate_of_arm(AB_ARM_TRUNCATED, AB_FP32);
    /* Fewer varying bits, fewer flips: the order Horace He's and CUTLASS's runs show. */
    CHECKF(uniform < normal, "uniform %g normal %g", uniform, normal);
    CHECKF(sparse < normal, "sparse %g normal %g", sparse, normal);
    CHECKF(trunc < normal, "truncated %g normal %g", trunc, normal);
    /* 0 <-> 8.0f (0x41000000) flips 2 of 32 bits, half of the time. */
    CHECK_NEAR(onebit, 2.0 / 32 * 0.5, 0.005);
    double bf16 = rate_of_arm(AB_ARM_NORMAL, AB_BF16);
    CHECKF(bf16 > 0.25 && bf16 < normal, "bf16 %g", bf16);
}

int main(void)
{
    void *h = dlopen(JOULES_TEST_SIM_LIB, RTLD_NOW | RTLD_LOCAL);
    CHECKF(h != NULL, "%s", dlerror());
    if (!h)
        return t_end();
    toggle = (jsimToggleRate_fn)dlsym(h, JSIM_SYMBOL_TOGGLE_RATE);
    CHECK(toggle != NULL);
    if (toggle)
        RUN(rates);
    dlclose(h);
    return t_end();
}
