/* SPDX-License-Identifier: MIT */
/*
 * test_sim_clock.c - the sensor clock as real boards show it (JOULES_SIM_SENSOR_CLOCK=real,
 * the default): every update period of the energy counter wanders by at most 2 ms around
 * 100 ms, each device at its own phase, all drawn from the seed (the same seed gives the same
 * instants); a scenario's `sensor phase= jitter=` still sets them exactly. The counter equals
 * the true energy at each of its own update instants, so a client differencing two reads
 * meets the real error of a window that does not end on an update. Virtual time throughout.
 */
#include <math.h>
#include <string.h>

#include "test_sim_common.h"

static struct sim_api A;

#define MAX_UPDATES 256

/* Steps (ms) at which device `index`'s counter changed, over `seconds` of virtual time. */
static int update_instants(int index, double seconds, long long *at_ms, double *true_at)
{
    nvmlDevice_t d;
    CHECK_EQ_INT(A.GetHandleByIndex_v2((unsigned)index, &d), NVML_SUCCESS);
    unsigned long long prev = 0, c = 0;
    CHECK_EQ_INT(A.GetTotalEnergyConsumption(d, &prev), NVML_SUCCESS);
    int n = 0;
    for (long long ms = 1; ms <= (long long)lround(seconds * 1000) && n < MAX_UPDATES; ms++) {
        CHECK_EQ_INT(A.Advance(0.001), NVML_SUCCESS);
        CHECK_EQ_INT(A.GetTotalEnergyConsumption(d, &c), NVML_SUCCESS);
        if (c != prev) {
            long long now;
            CHECK_EQ_INT(A.Now(&now), NVML_SUCCESS);
            at_ms[n] = ms;
            if (true_at)
                CHECK_EQ_INT(A.GetTrueEnergy(d, now, &true_at[n]), NVML_SUCCESS);
            if (true_at)
                CHECKF(c == (unsigned long long)floor(true_at[n] * 1000.0),
                       "update %d: counter %llu mJ, true %.4f J", n, c, true_at[n]);
            n++;
        }
        prev = c;
    }
    return n;
}

static const char *steady = "profile test\ndevices 4\nseed 7\nphase 60s power=200\n";

static void test_periods_wander(void)
{
    CHECK_EQ_INT(A.Reconfigure(steady, JSIM_FLAG_VIRTUAL_TIME), NVML_SUCCESS);
    long long at[MAX_UPDATES];
    double e[MAX_UPDATES];
    int n = update_instants(0, 10.0, at, e);
    CHECKF(n >= 97 && n <= 102, "%d updates in 10 s", n);
    int not_100 = 0, lo = 1000, hi = 0;
    for (int i = 1; i < n; i++) {
        int p = (int)(at[i] - at[i - 1]);
        not_100 += p != 100;
        lo = p < lo ? p : lo;
        hi = p > hi ? p : hi;
    }
    CHECKF(lo >= 98 && hi <= 102, "periods from %d to %d ms", lo, hi);
    CHECKF(not_100 >= (n - 1) / 2, "only %d of %d periods differ from 100 ms", not_100, n - 1);
    double mean = (double)(at[n - 1] - at[0]) / (n - 1);
    CHECKF(fabs(mean - 100) < 0.5, "mean period %.2f ms", mean);
}

static void test_phases_differ_and_repeat(void)
{
    long long first[4], again[4], at[MAX_UPDATES];
    CHECK_EQ_INT(A.Reconfigure(steady, JSIM_FLAG_VIRTUAL_TIME), NVML_SUCCESS);
    for (int i = 0; i < 4; i++) {
        CHECK(update_instants(i, 0.2, at, NULL) >= 1);
        first[i] = at[0] % 100;
    }
    int distinct = 0;
    for (int i = 0; i < 4; i++) {
        int seen = 0;
        for (int j = 0; j < i; j++)
            seen |= first[j] == first[i];
        distinct += !seen;
    }
    CHECKF(distinct >= 3, "phases %lld %lld %lld %lld", first[0], first[1], first[2], first[3]);

    /* The same seed gives the same instants, another seed others. */
    CHECK_EQ_INT(A.Reconfigure(steady, JSIM_FLAG_VIRTUAL_TIME), NVML_SUCCESS);
    long long a1[MAX_UPDATES], a2[MAX_UPDATES];
    int n1 = update_instants(0, 3.0, a1, NULL);
    CHECK_EQ_INT(A.Reconfigure(steady, JSIM_FLAG_VIRTUAL_TIME), NVML_SUCCESS);
    int n2 = update_instants(0, 3.0, a2, NULL);
    CHECK_EQ_INT(n1, n2);
    CHECK(memcmp(a1, a2, (size_t)n1 * sizeof a1[0]) == 0);
    char other[128];
    snprintf(other, sizeof other, "%s", steady);
    memcpy(strstr(other, "seed 7"), "seed 8", 6);
    CHECK_EQ_INT(A.Reconfigure(other, JSIM_FLAG_VIRTUAL_TIME), NVML_SUCCESS);
    for (int i = 0; i < 4; i++) {
        CHECK(update_instants(i, 0.2, at, NULL) >= 1);
        again[i] = at[0] % 100;
    }
    CHECK(memcmp(first, again, sizeof first) != 0);
}

/* The scenario still fixes the clock: phase=30ms jitter=0ms gives the exact grid. */
static void test_scenario_fixes_the_clock(void)
{
    CHECK_EQ_INT(A.Reconfigure("profile test\nsensor phase=30ms jitter=0ms\nphase 5s power=100\n",
                               JSIM_FLAG_VIRTUAL_TIME),
                 NVML_SUCCESS);
    long long at[MAX_UPDATES];
    int n = update_instants(0, 2.0, at, NULL);
    CHECK_EQ_INT(n, 20);
    for (int i = 0; i < n; i++)
        CHECKF(at[i] == 30 + 100 * i, "update %d at %lld ms", i, at[i]);
    CHECK_EQ_INT(A.Reconfigure("sensor jitter=11ms\n", JSIM_FLAG_VIRTUAL_TIME),
                 NVML_ERROR_INVALID_ARGUMENT);
    char msg[256];
    CHECK_EQ_INT(A.LastError(msg, sizeof msg), NVML_SUCCESS);
    CHECKF(strstr(msg, "scenario:1:") && strstr(msg, "jitter"), "message: %s", msg);
}

/*
 * What a naive client meets: the difference of two counter reads 0.5 s apart, at a steady
 * 200 W, is off by the energy between each read and the update before it. On an exact grid
 * a 0.5 s window holds five whole periods and looks exact; on wandering periods it does not.
 */
static void test_naive_window_error(void)
{
    CHECK_EQ_INT(A.Reconfigure(steady, JSIM_FLAG_VIRTUAL_TIME), NVML_SUCCESS);
    nvmlDevice_t d;
    CHECK_EQ_INT(A.GetHandleByIndex_v2(0, &d), NVML_SUCCESS);
    CHECK_EQ_INT(A.Advance(0.3), NVML_SUCCESS);
    double worst = 0;
    int off = 0;
    for (int w = 0; w < 40; w++) {
        unsigned long long c0, c1;
        CHECK_EQ_INT(A.GetTotalEnergyConsumption(d, &c0), NVML_SUCCESS);
        CHECK_EQ_INT(A.Advance(0.5), NVML_SUCCESS);
        CHECK_EQ_INT(A.GetTotalEnergyConsumption(d, &c1), NVML_SUCCESS);
        double rel = fabs((double)(c1 - c0) * 1e-3 - 100.0) / 100.0;
        worst = rel > worst ? rel : worst;
        off += rel > 0.005;
        CHECK_EQ_INT(A.Advance(0.013), NVML_SUCCESS); /* start the next window elsewhere */
    }
    printf("naive 0.5 s windows at 200 W: %d of 40 off by more than 0.5 %%, worst %.2f %%\n", off,
           worst * 100);
    CHECKF(off >= 10, "only %d of 40 naive windows off by more than 0.5 %%", off);
    /* At most one period more or less, plus five periods' wander: (102 + 10) / 500. */
    CHECKF(worst <= 0.224 + 1e-9, "worst naive window %.2f %%", worst * 100);
}

int main(void)
{
    sim_load(&A);
    setenv("JOULES_SIM_SENSOR_CLOCK", "real", 1);
    setenv("JOULES_SIM_MACHINE", "private", 1);
    unsetenv("JOULES_SIM_SCENARIO");
    CHECK_EQ_INT(A.Init_v2(), NVML_SUCCESS);
    RUN(test_periods_wander);
    RUN(test_phases_differ_and_repeat);
    RUN(test_scenario_fixes_the_clock);
    RUN(test_naive_window_error);
    CHECK_EQ_INT(A.Shutdown(), NVML_SUCCESS);
    return t_end();
}
