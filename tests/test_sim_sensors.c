/* SPDX-License-Identifier: MIT */
/*
 * test_sim_sensors.c - the sensors as NVML reports them: the energy counter steps every
 * 100 ms and equals the true energy in whole mJ at each step (real time), the power
 * readings per sensor type (25 ms of every 100 ms on A100/H100, 100 ms on A6000; 1-s
 * average where it exists; NOT_SUPPORTED for field 185 on A100), the gain option and the
 * limits of the true-energy history (virtual time, exact).
 */
#include <math.h>
#include <string.h>

#include "test_sim_common.h"

static struct sim_api A;
static nvmlDevice_t dev;

static long long tick_of(long long t_ns, long long start_ns)
{
    return (t_ns - start_ns) / 100000000LL;
}

/*
 * Real time: poll until 12 update ticks have been compared with the truth (at most 20 s, so
 * a loaded machine only makes it slower). The counter may change only when a 100 ms tick of
 * scenario time passed between two polls, and then equals the true energy at that tick.
 */
static void test_counter_real_time(void)
{
    jsimState s = sim_state(&A, dev);
    long long start = s.start_ns, last_tick = -1, prev_tick = -1;
    unsigned long long prev = 0;
    int compared = 0, off_tick = 0;
    for (int i = 0; i < 20000 && compared < 12; i++) {
        long long t1, t2;
        unsigned long long c;
        CHECK_EQ_INT(A.Now(&t1), NVML_SUCCESS);
        CHECK_EQ_INT(A.GetTotalEnergyConsumption(dev, &c), NVML_SUCCESS);
        CHECK_EQ_INT(A.Now(&t2), NVML_SUCCESS);
        long long k = tick_of(t1, start);
        if (k == tick_of(t2, start) && k > 0 && k != last_tick) {
            double e;
            CHECK_EQ_INT(A.GetTrueEnergy(dev, start + k * 100000000LL, &e), NVML_SUCCESS);
            CHECKF(c == (unsigned long long)floor(e * 1000.0),
                   "tick %lld: counter %llu mJ, true %.4f J", k, c, e);
            compared++;
            last_tick = k;
        }
        /* Changed although no tick passed from before the previous read to after this one.
         * The previous read's tick is taken from the time before it: a thread preempted
         * between that read and the clock after it would see a tick the read did not. */
        if (prev_tick >= 0 && c != prev && tick_of(t2, start) == prev_tick)
            off_tick++;
        prev = c;
        prev_tick = tick_of(t1, start);
        t_sleep(0.001);
    }
    CHECKF(compared >= 12, "compared %d ticks", compared);
    CHECKF(off_tick == 0, "%d changes between ticks", off_tick);
}

/* Time advanced between two queries of the counter never changes it within a tick. */
static void test_counter_holds_between_ticks(void)
{
    CHECK_EQ_INT(
        A.Reconfigure("profile test\nphase 10s util=1 alpha=0.5\n", JSIM_FLAG_VIRTUAL_TIME),
        NVML_SUCCESS);
    CHECK_EQ_INT(A.GetHandleByIndex_v2(0, &dev), NVML_SUCCESS);
    unsigned long long c0, c1, c2;
    CHECK_EQ_INT(A.Advance(0.1), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetTotalEnergyConsumption(dev, &c0), NVML_SUCCESS);
    CHECK_EQ_INT(A.Advance(0.099), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetTotalEnergyConsumption(dev, &c1), NVML_SUCCESS);
    CHECK_EQ_INT(A.Advance(0.001), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetTotalEnergyConsumption(dev, &c2), NVML_SUCCESS);
    CHECK(c0 > 0);
    CHECK_EQ_INT(c1, c0);
    CHECK(c2 > c1);
    long long t;
    double e;
    CHECK_EQ_INT(A.Now(&t), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetTrueEnergy(dev, t, &e), NVML_SUCCESS);
    CHECK_EQ_INT(c2, (unsigned long long)floor(e * 1000.0));
}

/* 60 ms at 300 W then 40 ms at 100 W, repeated: the true mean is 220 W. */
#define SQUARE_FMT "profile %s\nphase 60ms power=300\nphase 40ms power=100\nrepeat forever\n"

static void load_square(const char *profile)
{
    char text[256];
    snprintf(text, sizeof text, SQUARE_FMT, profile);
    CHECK_EQ_INT(A.Reconfigure(text, JSIM_FLAG_VIRTUAL_TIME), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetHandleByIndex_v2(0, &dev), NVML_SUCCESS);
    CHECK_EQ_INT(A.Advance(2.0), NVML_SUCCESS);
}

static void test_a100_sensor(void)
{
    load_square("a100");
    nvmlFieldValue_t v;
    unsigned p = 0;
    /* The 25 ms window at the end of each period sees only the 100 W part. */
    CHECK_EQ_INT(sim_field(&A, dev, NVML_FI_DEV_POWER_INSTANT, 0, &v), NVML_SUCCESS);
    CHECK_EQ_INT(v.valueType, NVML_VALUE_TYPE_UNSIGNED_INT);
    CHECK_EQ_INT(v.value.uiVal, 100000);
    CHECK_EQ_INT(sim_field(&A, dev, NVML_FI_DEV_POWER_AVERAGE, 0, NULL), NVML_ERROR_NOT_SUPPORTED);
    CHECK_EQ_INT(A.GetPowerUsage(dev, &p), NVML_SUCCESS);
    CHECK_EQ_INT(p, 100000); /* GA100: instantaneous */
    /* The counter integrates all the time: 2 s at 220 W. */
    CHECK_EQ_INT(sim_field(&A, dev, NVML_FI_DEV_TOTAL_ENERGY_CONSUMPTION, 0, &v), NVML_SUCCESS);
    CHECK_EQ_INT(v.valueType, NVML_VALUE_TYPE_UNSIGNED_LONG_LONG);
    CHECK_NEAR(v.value.ullVal, 440000, 1);
    CHECK_EQ_INT(sim_field(&A, dev, NVML_FI_DEV_ENERGY, 0, &v), NVML_SUCCESS);
    CHECK_NEAR(v.value.ullVal, 440000, 1);
    CHECK_EQ_INT(sim_field(&A, dev, NVML_FI_DEV_POWER_INSTANT, NVML_POWER_SCOPE_MEMORY, NULL),
                 NVML_ERROR_NOT_SUPPORTED);
    /* limits */
    CHECK_EQ_INT(sim_field(&A, dev, NVML_FI_DEV_POWER_MIN_LIMIT, 0, &v), NVML_SUCCESS);
    CHECK_EQ_INT(v.value.uiVal, 100000);
    CHECK_EQ_INT(sim_field(&A, dev, NVML_FI_DEV_POWER_MAX_LIMIT, 0, &v), NVML_SUCCESS);
    CHECK_EQ_INT(v.value.uiVal, 400000);
    CHECK_EQ_INT(sim_field(&A, dev, NVML_FI_DEV_POWER_DEFAULT_LIMIT, 0, &v), NVML_SUCCESS);
    CHECK_EQ_INT(v.value.uiVal, 400000);
    CHECK_EQ_INT(sim_field(&A, dev, NVML_FI_DEV_POWER_CURRENT_LIMIT, 0, &v), NVML_SUCCESS);
    CHECK_EQ_INT(v.value.uiVal, 400000);
    CHECK_EQ_INT(sim_field(&A, dev, 9999, 0, NULL), NVML_ERROR_NOT_SUPPORTED);
    /* several entries at once, each with its own return */
    nvmlFieldValue_t vs[3] = {{.fieldId = NVML_FI_DEV_POWER_INSTANT},
                              {.fieldId = NVML_FI_DEV_POWER_AVERAGE},
                              {.fieldId = NVML_FI_DEV_TOTAL_ENERGY_CONSUMPTION}};
    CHECK_EQ_INT(A.GetFieldValues(dev, 3, vs), NVML_SUCCESS);
    CHECK_EQ_INT(vs[0].nvmlReturn, NVML_SUCCESS);
    CHECK_EQ_INT(vs[1].nvmlReturn, NVML_ERROR_NOT_SUPPORTED);
    CHECK_EQ_INT(vs[2].nvmlReturn, NVML_SUCCESS);
    CHECK(vs[0].timestamp > 0);
    CHECK_EQ_INT(A.GetFieldValues(dev, 1, NULL), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(A.GetFieldValues(NULL, 1, vs), NVML_ERROR_INVALID_ARGUMENT);
}

static void test_a6000_sensor(void)
{
    load_square("a6000");
    nvmlFieldValue_t v;
    unsigned p = 0;
    /* 100 ms of every 100 ms: the instant reading is the true mean of the period. */
    CHECK_EQ_INT(sim_field(&A, dev, NVML_FI_DEV_POWER_INSTANT, 0, &v), NVML_SUCCESS);
    CHECK_EQ_INT(v.value.uiVal, 220000);
    CHECK_EQ_INT(sim_field(&A, dev, NVML_FI_DEV_POWER_AVERAGE, 0, &v), NVML_SUCCESS);
    CHECK_EQ_INT(v.value.uiVal, 220000);
    CHECK_EQ_INT(A.GetPowerUsage(dev, &p), NVML_SUCCESS);
    CHECK_EQ_INT(p, 220000);
    CHECK_EQ_INT(sim_field(&A, dev, NVML_FI_DEV_POWER_INSTANT, NVML_POWER_SCOPE_MODULE, NULL),
                 NVML_ERROR_NOT_SUPPORTED);
}

static void test_h100_sensor_and_average(void)
{
    load_square("h100");
    nvmlFieldValue_t v;
    unsigned p = 0;
    CHECK_EQ_INT(sim_field(&A, dev, NVML_FI_DEV_POWER_INSTANT, 0, &v), NVML_SUCCESS);
    CHECK_EQ_INT(v.value.uiVal, 100000);
    CHECK_EQ_INT(sim_field(&A, dev, NVML_FI_DEV_POWER_AVERAGE, 0, &v), NVML_SUCCESS);
    CHECK_EQ_INT(v.value.uiVal, 100000); /* the mean of readings that all missed the 300 W */
    CHECK_EQ_INT(A.GetPowerUsage(dev, &p), NVML_SUCCESS);
    CHECK_EQ_INT(p, 100000);
    CHECK_EQ_INT(sim_field(&A, dev, NVML_FI_DEV_POWER_INSTANT, NVML_POWER_SCOPE_MEMORY, &v),
                 NVML_SUCCESS);
    CHECK(v.value.uiVal > 0);

    /* A step from 100 W to 300 W: the 1-s average follows in ten 100 ms steps. */
    CHECK_EQ_INT(A.Reconfigure("profile h100\nphase 2s power=100\nphase 5s power=300\n",
                               JSIM_FLAG_VIRTUAL_TIME),
                 NVML_SUCCESS);
    CHECK_EQ_INT(A.Advance(2.5), NVML_SUCCESS);
    CHECK_EQ_INT(sim_field(&A, dev, NVML_FI_DEV_POWER_AVERAGE, 0, &v), NVML_SUCCESS);
    CHECK_EQ_INT(v.value.uiVal, 200000);
    CHECK_EQ_INT(sim_field(&A, dev, NVML_FI_DEV_POWER_INSTANT, 0, &v), NVML_SUCCESS);
    CHECK_EQ_INT(v.value.uiVal, 300000);
    CHECK_EQ_INT(A.Advance(0.5), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetPowerUsage(dev, &p), NVML_SUCCESS);
    CHECK_EQ_INT(p, 300000);
}

static void test_gain(void)
{
    CHECK_EQ_INT(A.Reconfigure("profile test\nsensor gain=0.05\nphase 5s power=100\n",
                               JSIM_FLAG_VIRTUAL_TIME),
                 NVML_SUCCESS);
    CHECK_EQ_INT(A.Advance(1.0), NVML_SUCCESS);
    unsigned p;
    unsigned long long c;
    double w;
    CHECK_EQ_INT(A.GetPowerUsage(dev, &p), NVML_SUCCESS);
    CHECK_EQ_INT(p, 105000);
    CHECK_EQ_INT(A.GetTotalEnergyConsumption(dev, &c), NVML_SUCCESS);
    CHECK_NEAR(c, 105000, 1);
    CHECK_EQ_INT(A.GetTruePower(dev, &w), NVML_SUCCESS);
    CHECK_NEAR(w, 100, 1e-9);
}

static void test_history(void)
{
    CHECK_EQ_INT(A.Reconfigure("profile test\nphase 100s power=50\n", JSIM_FLAG_VIRTUAL_TIME),
                 NVML_SUCCESS);
    long long t0, t;
    double e;
    CHECK_EQ_INT(A.Now(&t0), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetTrueEnergy(dev, t0, &e), NVML_SUCCESS);
    CHECK_NEAR(e, 0, 1e-12);
    CHECK_EQ_INT(A.Advance(70), NVML_SUCCESS);
    CHECK_EQ_INT(A.Now(&t), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetTrueEnergy(dev, t, &e), NVML_SUCCESS);
    CHECK_NEAR(e, 3500, 1e-6);
    CHECK_EQ_INT(A.GetTrueEnergy(dev, t - 60000000000LL + 500000, &e), NVML_SUCCESS);
    CHECK_NEAR(e, 50 * 10.0005, 1e-6); /* interpolated inside a step */
    CHECK_EQ_INT(A.GetTrueEnergy(dev, t0 + 1000000000LL, &e), NVML_ERROR_NO_DATA);
    CHECK_EQ_INT(A.GetTrueEnergy(dev, t + 1000000, &e), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(A.GetTrueEnergy(NULL, t, &e), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(A.Advance(-1), NVML_ERROR_INVALID_ARGUMENT);
}

int main(void)
{
    char dir[256], path[512];
    sim_load(&A);
    if (t_mkdtemp(dir, sizeof dir) != 0)
        return 1;
    snprintf(path, sizeof path, "%s/wave.scn", dir);
    t_write_file(path, "profile test\n"
                       "phase 150ms util=1 alpha=0.9\n"
                       "idle 150ms context=1\n"
                       "repeat forever\n");
    setenv("JOULES_SIM_SCENARIO", path, 1);
    unsetenv("JOULES_SIM_PROFILE");
    unsetenv("JOULES_SIM_DEVICES");
    CHECK_EQ_INT(A.Init_v2(), NVML_SUCCESS);
    unsetenv("JOULES_SIM_SCENARIO");
    CHECK_EQ_INT(A.GetHandleByIndex_v2(0, &dev), NVML_SUCCESS);
    RUN(test_counter_real_time);
    RUN(test_counter_holds_between_ticks);
    RUN(test_a100_sensor);
    RUN(test_a6000_sensor);
    RUN(test_h100_sensor_and_average);
    RUN(test_gain);
    RUN(test_history);
    A.Shutdown();
    t_rmtree(dir);
    return t_end();
}
