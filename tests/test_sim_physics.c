/* SPDX-License-Identifier: MIT */
/*
 * test_sim_physics.c - the physics of the simulated GPU (virtual time): the steady-state
 * temperature equals the analytic T_amb + P R_th; the governor holds average power at or
 * under the limit and reports SW power cap; weak cooling without governor runs away to the
 * shutdown temperature (GPU lost) while the governor holds it; locked clocks and power
 * limits (privileged here); kernels progress at the clock held; the toggle rate of real data;
 * same seed and scenario give the same outputs.
 */
#include <math.h>
#include <string.h>

#include "test_sim_common.h"

static struct sim_api A;
static nvmlDevice_t dev;

static void load(const char *text)
{
    nvmlReturn_t rc = A.Reconfigure(text, JSIM_FLAG_VIRTUAL_TIME);
    if (rc != NVML_SUCCESS) {
        char msg[512];
        A.LastError(msg, sizeof msg);
        CHECKF(0, "reconfigure: %s", msg);
    }
    CHECK_EQ_INT(A.GetHandleByIndex_v2(0, &dev), NVML_SUCCESS);
}

static void test_steady_state_temperature(void)
{
    /* Fixed power: T -> T_amb + P R_th exactly (tau = R C = 0.2 * 50 = 10 s; 300 s = 30 tau). */
    load("profile test\nambient 20\ncooling r=0.2 c=50\nphase 400s power=100\n");
    CHECK_EQ_INT(A.Advance(300), NVML_SUCCESS);
    jsimState s = sim_state(&A, dev);
    CHECK_NEAR(s.temperature_c, 20 + 100 * 0.2, 1e-6);
    /* After one time constant from ambient: 1 - 1/e of the rise. */
    load("profile test\nambient 20\ncooling r=0.2 c=50\nphase 400s power=100\n");
    CHECK_EQ_INT(A.Advance(10), NVML_SUCCESS);
    s = sim_state(&A, dev);
    CHECK_NEAR(s.temperature_c, 20 + 20 * (1 - exp(-1)), 1e-6);
    unsigned t;
    CHECK_EQ_INT(A.GetTemperature(dev, NVML_TEMPERATURE_GPU, &t), NVML_SUCCESS);
    CHECK_EQ_INT(t, (unsigned)lround(s.temperature_c));
    /* Modelled power: the state satisfies P(T) = (T - T_amb) / R at equilibrium. */
    load("profile a100\nphase 1000s util=1 alpha=0.3\n");
    CHECK_EQ_INT(A.Advance(900), NVML_SUCCESS);
    s = sim_state(&A, dev);
    CHECK_NEAR(s.temperature_c, 25 + s.power_w * 0.09, 0.01);
}

static void test_governor_power_cap(void)
{
    load("profile a100\nphase 60s util=1 alpha=0.9\n");
    double e0, e1;
    long long t0, t1;
    CHECK_EQ_INT(A.Advance(5), NVML_SUCCESS);
    CHECK_EQ_INT(A.Now(&t0), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetTrueEnergy(dev, t0, &e0), NVML_SUCCESS);
    double pmax = 0;
    unsigned long long r = 0;
    for (int i = 0; i < 50; i++) {
        CHECK_EQ_INT(A.Advance(1), NVML_SUCCESS);
        jsimState s = sim_state(&A, dev);
        if (s.power_w > pmax)
            pmax = s.power_w;
        r |= s.reasons;
    }
    CHECK_EQ_INT(A.Now(&t1), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetTrueEnergy(dev, t1, &e1), NVML_SUCCESS);
    double avg = (e1 - e0) / ((t1 - t0) * 1e-9);
    /* Tolerance: at most the limit, and within 2 % under it (one 15 MHz clock step is
     * about 1.5 % of power here: the governor holds the highest clock that fits). */
    CHECKF(avg <= 400.0 && avg >= 392.0, "average %.2f W at a 400 W limit", avg);
    CHECKF(pmax <= 400.0 + 1e-9, "max %.3f W", pmax);
    CHECK(r & NVML_CLOCKS_EVENT_REASON_SW_POWER_CAP);
    unsigned clk = 0;
    unsigned long long reasons = 0;
    CHECK_EQ_INT(A.GetClockInfo(dev, NVML_CLOCK_SM, &clk), NVML_SUCCESS);
    CHECK(clk < 1410 && clk >= 210);
    CHECK_EQ_INT((clk - 210) % 15, 0);
    CHECK_EQ_INT(A.GetCurrentClocksEventReasons(dev, &reasons), NVML_SUCCESS);
    CHECK(reasons & NVML_CLOCKS_EVENT_REASON_SW_POWER_CAP);

    /* A lower limit (privileged in this process) lowers the clock further. */
    CHECK_EQ_INT(A.SetPowerManagementLimit(dev, 250000), NVML_SUCCESS);
    CHECK_EQ_INT(A.Advance(1), NVML_SUCCESS);
    jsimState s = sim_state(&A, dev);
    CHECK(s.power_w <= 250.0 + 1e-9);
    CHECK(s.clock_mhz < clk);
    CHECK_EQ_INT(A.SetPowerManagementLimit(dev, 99000), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(A.SetPowerManagementLimit(dev, 400001), NVML_ERROR_INVALID_ARGUMENT);
    nvmlPowerValue_v2_t pv = {
        .version = nvmlPowerValue_v2, .powerScope = 0, .powerValueMw = 300000};
    CHECK_EQ_INT(A.SetPowerManagementLimit_v2(dev, &pv), NVML_SUCCESS);
    unsigned lim;
    CHECK_EQ_INT(A.GetPowerManagementLimit(dev, &lim), NVML_SUCCESS);
    CHECK_EQ_INT(lim, 300000);
}

static void test_runaway_and_thermal_governor(void)
{
    /* Weak cooling, no governor: temperature and leakage feed each other to shutdown. */
    load("profile a100\ncooling weak\ngovernor off\nphase 3000s util=1 alpha=0.7\n");
    double leak0 = 0, leak_last = 0;
    int lost_at = -1;
    for (int i = 0; i < 2000 && lost_at < 0; i++) {
        CHECK_EQ_INT(A.Advance(1), NVML_SUCCESS);
        jsimState s = sim_state(&A, dev);
        if (i == 0)
            leak0 = s.p_leak_w;
        if (s.lost)
            lost_at = i;
        else
            leak_last = s.p_leak_w;
    }
    CHECKF(lost_at > 0, "no shutdown in 2000 s");
    CHECKF(leak_last > 2.5 * leak0, "leakage %.1f -> %.1f W", leak0, leak_last);
    unsigned p;
    CHECK_EQ_INT(A.GetPowerUsage(dev, &p), NVML_ERROR_GPU_IS_LOST);

    /* The same with the governor: clocks fall, the temperature is held below shutdown. */
    load("profile a100\ncooling weak\ngovernor on\nphase 3000s util=1 alpha=0.7\n");
    CHECK_EQ_INT(A.Advance(1500), NVML_SUCCESS);
    jsimState s = sim_state(&A, dev);
    CHECK(!s.lost);
    CHECKF(s.temperature_c < 89 && s.temperature_c > 80, "held at %.1f °C", s.temperature_c);
    CHECK(s.reasons & NVML_CLOCKS_EVENT_REASON_SW_THERMAL);
    CHECK(s.clock_mhz < 1200);
}

static void test_locked_clocks(void)
{
    load("profile a6000\nphase 100s util=1 alpha=0.3\n");
    CHECK_EQ_INT(A.SetGpuLockedClocks(dev, 1000, 1000), NVML_SUCCESS);
    CHECK_EQ_INT(A.Advance(2), NVML_SUCCESS);
    unsigned clk;
    CHECK_EQ_INT(A.GetClockInfo(dev, NVML_CLOCK_GRAPHICS, &clk), NVML_SUCCESS);
    CHECK_EQ_INT(clk, 990); /* snapped down to the 15 MHz grid from 210 */
    CHECK_EQ_INT(A.SetGpuLockedClocks(dev, 1500, 1200), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(A.SetGpuLockedClocks(dev, NVML_CLOCK_LIMIT_ID_TDP, 1500),
                 NVML_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(
        A.SetGpuLockedClocks(dev, NVML_CLOCK_LIMIT_ID_UNLIMITED, NVML_CLOCK_LIMIT_ID_UNLIMITED),
        NVML_SUCCESS);
    CHECK_EQ_INT(A.ResetGpuLockedClocks(dev), NVML_SUCCESS);
    CHECK_EQ_INT(A.Advance(1), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetClockInfo(dev, NVML_CLOCK_GRAPHICS, &clk), NVML_SUCCESS);
    CHECK(clk > 1500); /* free to boost at low activity */
    /* from the scenario */
    load("profile a100\nlock-clocks 1000 1000\nidle 10s context=1\n");
    CHECK_EQ_INT(A.Advance(0.5), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetClockInfo(dev, NVML_CLOCK_SM, &clk), NVML_SUCCESS);
    CHECK_EQ_INT(clk, 990); /* on the grid, held even when idle */
}

/* The settings against those the device booted with, and the setter calls that succeeded. */
static void test_settings(void)
{
    load("profile test\npower-limit 80\nlock-clocks 600 700\nidle 10s\n");
    jsimSettings st = {.version = JSIM_STRUCT_VERSION(jsimSettings)};
    CHECK_EQ_INT(A.GetSettings(dev, &st), NVML_SUCCESS);
    CHECK_EQ_INT(st.locked_min_mhz, 600);
    CHECK_EQ_INT(st.locked_max_mhz, 700);
    CHECK_EQ_INT(st.boot_locked_min_mhz, 600);
    CHECK_EQ_INT(st.boot_locked_max_mhz, 700);
    CHECK(st.power_limit_w == 80.0 && st.boot_power_limit_w == 80.0);
    CHECK_EQ_INT(st.app_gfx_mhz, 0);
    CHECK(st.set_locked_clocks + st.reset_locked_clocks + st.set_power_limit + st.set_app_clocks +
              st.reset_app_clocks ==
          0);

    CHECK_EQ_INT(A.SetGpuLockedClocks(dev, 900, 1100), NVML_SUCCESS);
    CHECK_EQ_INT(A.SetGpuLockedClocks(dev, 1100, 900), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(A.SetPowerManagementLimit(dev, 90000), NVML_SUCCESS);
    CHECK_EQ_INT(A.SetPowerManagementLimit(dev, 1000), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(A.SetApplicationsClocks(dev, 1000, 1200), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetSettings(dev, &st), NVML_SUCCESS);
    CHECK_EQ_INT(st.locked_min_mhz, 900);
    CHECK_EQ_INT(st.locked_max_mhz, 1100);
    CHECK_EQ_INT(st.boot_locked_min_mhz, 600); /* the boot values stay */
    CHECK(st.power_limit_w == 90.0 && st.boot_power_limit_w == 80.0);
    CHECK_EQ_INT(st.app_gfx_mhz, 1200);
    CHECK_EQ_INT(st.app_mem_mhz, 1000);
    CHECK_EQ_INT(st.set_locked_clocks, 1); /* refused calls are not counted */
    CHECK_EQ_INT(st.set_power_limit, 1);
    CHECK_EQ_INT(st.set_app_clocks, 1);

    CHECK_EQ_INT(A.ResetGpuLockedClocks(dev), NVML_SUCCESS);
    CHECK_EQ_INT(A.ResetApplicationsClocks(dev), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetSettings(dev, &st), NVML_SUCCESS);
    CHECK_EQ_INT(st.locked_max_mhz, 0); /* reset: unlocked, not back to the scenario's lock */
    CHECK_EQ_INT(st.app_gfx_mhz, 0);
    CHECK_EQ_INT(st.reset_locked_clocks, 1);
    CHECK_EQ_INT(st.reset_app_clocks, 1);

    st.version = 1;
    CHECK_EQ_INT(A.GetSettings(dev, &st), NVML_ERROR_ARGUMENT_VERSION_MISMATCH);
    CHECK_EQ_INT(A.GetSettings(dev, NULL), NVML_ERROR_INVALID_ARGUMENT);
    /* A new boot starts the count again. */
    load("profile test\nidle 10s\n");
    st.version = JSIM_STRUCT_VERSION(jsimSettings);
    CHECK_EQ_INT(A.GetSettings(dev, &st), NVML_SUCCESS);
    CHECK_EQ_INT(st.set_locked_clocks, 0);
    CHECK_EQ_INT(st.boot_locked_max_mhz, 0);
    CHECK(st.boot_power_limit_w == 100.0);
}

static void test_kernels(void)
{
    /* 2e12 FLOP of bf16 on an A100 locked at 1005 MHz: time = F / (peak(f) * eff). */
    load("profile a100\nlock-clocks 1005 1005\nidle 100s context=1\n");
    CHECK_EQ_INT(A.Advance(1), NVML_SUCCESS);
    jsimKernel k = {.version = JSIM_STRUCT_VERSION(jsimKernel),
                    .precision = JSIM_PREC_BF16,
                    .flops = 2e14,
                    .bytes = 1e9,
                    .alpha = -1,
                    .toggle = 0,
                    .efficiency = 0.8};
    jsimKernelResult r0 = {.version = JSIM_STRUCT_VERSION(jsimKernelResult)};
    jsimKernelResult r1 = r0;
    CHECK_EQ_INT(A.RunKernel(dev, &k, &r0), NVML_SUCCESS);
    double expect = 2e14 / (312e12 * 1005.0 / 1410.0 * 0.8);
    CHECK_NEAR(r0.time_s, expect, 1e-3);
    CHECK_NEAR(r0.avg_clock_mhz, 1005, 1e-9);
    CHECK_NEAR(r0.alpha, 0.5, 1e-12);
    k.toggle = 0.4;
    CHECK_EQ_INT(A.RunKernel(dev, &k, &r1), NVML_SUCCESS);
    CHECK_NEAR(r1.time_s, r0.time_s, 1e-3); /* same clock: same time */
    CHECK(r1.energy_j > r0.energy_j * 1.1); /* more toggling: more energy */
    /* At default clocks and the power limit, the high-toggle kernel is slower. */
    load("profile a100\nidle 100s context=1\n");
    k.toggle = 0;
    CHECK_EQ_INT(A.RunKernel(dev, &k, &r0), NVML_SUCCESS);
    k.toggle = 0.4;
    CHECK_EQ_INT(A.RunKernel(dev, &k, &r1), NVML_SUCCESS);
    CHECKF(r1.time_s > r0.time_s * 1.05, "%.3f s vs %.3f s", r1.time_s, r0.time_s);
    CHECK(r1.reasons & NVML_CLOCKS_EVENT_REASON_SW_POWER_CAP);
    /* bad input */
    k.precision = 9;
    CHECK_EQ_INT(A.RunKernel(dev, &k, &r1), NVML_ERROR_INVALID_ARGUMENT);
    k.precision = JSIM_PREC_FP32;
    k.version = 1;
    CHECK_EQ_INT(A.RunKernel(dev, &k, &r1), NVML_ERROR_ARGUMENT_VERSION_MISMATCH);
    double a;
    CHECK_EQ_INT(A.AlphaFromToggle(dev, 0.5, &a), NVML_SUCCESS);
    CHECK_NEAR(a, 1.0, 1e-12);

    /* Launched, the same kernel runs as jsimAdvance moves time, and takes as long. */
    load("profile a100\nlock-clocks 1005 1005\nidle 100s context=1\n");
    CHECK_EQ_INT(A.Advance(1), NVML_SUCCESS);
    k.version = JSIM_STRUCT_VERSION(jsimKernel);
    k.precision = JSIM_PREC_BF16;
    k.toggle = 0;
    CHECK_EQ_INT(A.RunKernel(dev, &k, &r0), NVML_SUCCESS);
    CHECK_EQ_INT(A.LaunchKernel(dev, &k), NVML_SUCCESS);
    CHECK_EQ_INT(A.LaunchKernel(dev, &k), NVML_ERROR_IN_USE);
    long long t0, t1;
    CHECK_EQ_INT(A.Now(&t0), NVML_SUCCESS);
    int steps = 0, failed = 0;
    while (sim_state(&A, dev).kernel_active && steps++ < 100000)
        failed += A.Advance(0.001) != NVML_SUCCESS;
    CHECK_EQ_INT(failed, 0);
    CHECK_EQ_INT(A.Now(&t1), NVML_SUCCESS);
    CHECKF(fabs((double)(t1 - t0) * 1e-9 - r0.time_s) <= 0.001, "%.4f s launched vs %.4f s run",
           (double)(t1 - t0) * 1e-9, r0.time_s);
    k.precision = 9;
    CHECK_EQ_INT(A.LaunchKernel(dev, &k), NVML_ERROR_INVALID_ARGUMENT);
    /* A launched kernel ends when its board falls off the bus. */
    k.precision = JSIM_PREC_BF16;
    load("profile a100\nfault lost at=0.5s\nidle 100s context=1\n");
    CHECK_EQ_INT(A.LaunchKernel(dev, &k), NVML_SUCCESS);
    CHECK_EQ_INT(A.Advance(1), NVML_SUCCESS);
    jsimState lost = sim_state(&A, dev);
    CHECK(lost.lost && !lost.kernel_active);
    /* In real time a kernel runs with the wall clock: launching is for virtual time only. */
    CHECK_EQ_INT(A.Reconfigure("profile a100\n", 0), NVML_SUCCESS);
    CHECK_EQ_INT(A.LaunchKernel(dev, &k), NVML_ERROR_NOT_SUPPORTED);
}

static uint64_t rng = 88172645463325252ull;
static double uniform(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (double)(rng >> 11) * 0x1.0p-53;
}

static void test_toggle_rate(void)
{
    enum { N = 20000 };
    static float zeros[N], consts[N], normal[N], bits[N];
    for (int i = 0; i < N; i++) {
        consts[i] = 3.25f;
        double u1 = uniform(), u2 = uniform();
        normal[i] = (float)(sqrt(-2 * log(u1 + 1e-300)) * cos(2 * 3.14159265358979323846 * u2));
        uint32_t b = (uint32_t)(uniform() * 4294967296.0);
        b &= 0xBFFFFFFFu; /* keep the exponent below inf/nan */
        memcpy(&bits[i], &b, sizeof b);
    }
    double r;
    CHECK_EQ_INT(A.ToggleRate(zeros, N, JSIM_PREC_FP32, &r), NVML_SUCCESS);
    CHECK_NEAR(r, 0, 0);
    CHECK_EQ_INT(A.ToggleRate(consts, N, JSIM_PREC_BF16, &r), NVML_SUCCESS);
    CHECK_NEAR(r, 0, 0);
    CHECK_EQ_INT(A.ToggleRate(bits, N, JSIM_PREC_FP32, &r), NVML_SUCCESS);
    CHECK_NEAR(r, 31.0 / 64, 0.01); /* 31 random bits of 32 */
    double f32, tf32, f16, b16;
    CHECK_EQ_INT(A.ToggleRate(normal, N, JSIM_PREC_FP32, &f32), NVML_SUCCESS);
    CHECK_EQ_INT(A.ToggleRate(normal, N, JSIM_PREC_TF32, &tf32), NVML_SUCCESS);
    CHECK_EQ_INT(A.ToggleRate(normal, N, JSIM_PREC_FP16, &f16), NVML_SUCCESS);
    CHECK_EQ_INT(A.ToggleRate(normal, N, JSIM_PREC_BF16, &b16), NVML_SUCCESS);
    printf("   toggle N(0,1): fp32 %.3f tf32 %.3f fp16 %.3f bf16 %.3f\n", f32, tf32, f16, b16);
    CHECK(f32 > 0.38 && f32 < 0.5);
    CHECK(f32 != tf32 && tf32 != f16 && f16 != b16);
    double d[3] = {1.0, 1.0, 1.0};
    CHECK_EQ_INT(A.ToggleRate(d, 3, JSIM_PREC_FP64, &r), NVML_SUCCESS);
    CHECK_NEAR(r, 0, 0);
    CHECK_EQ_INT(A.ToggleRate(NULL, 3, JSIM_PREC_FP32, &r), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(A.ToggleRate(zeros, 3, 7, &r), NVML_ERROR_INVALID_ARGUMENT);
}

/* Same seed and scenario: identical sensor readings and truth. */
static void run_once(const char *text, unsigned long long *hash, char *uuid)
{
    load(text);
    unsigned long long h = 1469598103934665603ull;
    for (int i = 0; i < 300; i++) {
        unsigned p = 0;
        unsigned long long e = 0;
        nvmlReturn_t rc = A.GetPowerUsage(dev, &p);
        A.GetTotalEnergyConsumption(dev, &e);
        jsimState s = sim_state(&A, dev);
        h = (h ^ p ^ e ^ (unsigned)rc) * 1099511628211ull;
        h = (h ^ (unsigned long long)llround(s.temperature_c * 1e6)) * 1099511628211ull;
        A.Advance(0.037);
    }
    *hash = h;
    A.GetUUID(dev, uuid, 96);
}

static void test_determinism(void)
{
    const char *text = "profile h100\nseed 11\nphase 3s util=1 alpha=0.9\nidle 2s context=1\n"
                       "phase 1s util=0.5 alpha=0.6\nrepeat forever\n"
                       "fault errors rate=0.1 code=TIMEOUT\n";
    unsigned long long h1, h2;
    char u1[96], u2[96];
    run_once(text, &h1, u1);
    run_once(text, &h2, u2);
    CHECK(h1 == h2);
    CHECK(strcmp(u1, u2) == 0);
}

int main(void)
{
    sim_load(&A);
    setenv("JOULES_SIM_PRIVILEGED", "1", 1);
    setenv("JOULES_SIM_PROFILE", "test", 1);
    CHECK_EQ_INT(A.Init_v2(), NVML_SUCCESS);
    unsetenv("JOULES_SIM_PRIVILEGED");
    unsetenv("JOULES_SIM_PROFILE");
    RUN(test_steady_state_temperature);
    RUN(test_governor_power_cap);
    RUN(test_runaway_and_thermal_governor);
    RUN(test_locked_clocks);
    RUN(test_settings);
    RUN(test_kernels);
    RUN(test_toggle_rate);
    RUN(test_determinism);
    A.Shutdown();
    return t_end();
}
