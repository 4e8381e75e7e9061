/* SPDX-License-Identifier: MIT */
/*
 * cmd_sim_demos.c - `joules sim ab` (the talk's A/B experiment and the power-limit case, as
 * the model computes them) and `joules sim idle` (idle power by profile and P-state), run
 * faster than real time through the simulated library's extension entry points. Every
 * figure is SIMULATED.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_options.h"
#include "cli/cli_profiles.h"
#include "cli/cli_util.h"
#include "cli/cmd_sim.h"

/* sim ab and sim idle take no option but --help, which prints joules sim's. */
static const struct cli_option plain_options[] = {
    CLI_OPTION_HELP,
    CLI_OPTIONS_END,
};

static int unexpected(const struct cli_command_spec *spec, const char *word)
{
    fprintf(stderr, "joules %s: unexpected '%s'\nTry 'joules sim --help'.\n", spec->name, word);
    return 2;
}

static const struct cli_command_spec sim_ab_spec = {
    .name = "sim ab", .options = plain_options, .bad_option = unexpected, .help = cmd_sim_usage};
static const struct cli_command_spec sim_idle_spec = {
    .name = "sim idle", .options = plain_options, .bad_option = unexpected, .help = cmd_sim_usage};

/* Parse the words after sim ab / sim idle: 0, or nonzero with *status the exit status. */
static int parse_plain(const struct cli_command_spec *spec, int argc, char **argv, int *status)
{
    if (cli_options_parse(spec, NULL, NULL, argc, argv, status) != 0)
        return 1;
    if (optind > 1 && strcmp(argv[optind - 1], "--") == 0) /* no word at all, "--" included */
        optind--;
    if (optind < argc) {
        *status = unexpected(spec, argv[optind]);
        return 1;
    }
    return 0;
}

/* ---- ab ------------------------------------------------------------------------------- */

static double normal_toggle(struct simlib *L, int precision)
{
    enum { N = 100000 };
    static float v[N];
    unsigned long long x = 12345;
    for (int i = 0; i < N; i++) {
        double u[2];
        for (int j = 0; j < 2; j++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            u[j] = ((double)(x >> 11) + 0.5) * 0x1.0p-53;
        }
        v[i] = (float)(sqrt(-2 * log(u[0])) * cos(6.283185307179586 * u[1]));
    }
    double r = 0;
    L->toggle(v, N, precision, &r);
    return r;
}

static int run_kernels(struct simlib *L, nvmlDevice_t d, jsimKernel *k, int reps,
                       jsimKernelResult *sum)
{
    memset(sum, 0, sizeof *sum);
    for (int i = 0; i < reps; i++) {
        jsimKernelResult r = {.version = JSIM_STRUCT_VERSION(jsimKernelResult)};
        if (L->run_kernel(d, k, &r) != NVML_SUCCESS)
            return -1;
        sum->time_s += r.time_s;
        sum->energy_j += r.energy_j;
        sum->avg_clock_mhz += r.avg_clock_mhz * r.time_s;
        sum->reasons |= r.reasons;
        sum->alpha = r.alpha;
    }
    sum->avg_clock_mhz /= sum->time_s;
    return 0;
}

int cmd_sim_ab(struct simlib *L, int argc, char **argv)
{
    int status;
    if (parse_plain(&sim_ab_spec, argc, argv, &status) != 0)
        return status;
    if (cmd_sim_load(L) != 0)
        return 1;
    nvmlDevice_t d;
    char name[96];
    double tg32 = normal_toggle(L, JSIM_PREC_FP32), tgbf = normal_toggle(L, JSIM_PREC_BF16);
    printf("SIMULATED (model, not a measurement). Toggle rate of N(0,1) operands: fp32 %.3f, "
           "bf16 %.3f; zeros 0.\n\n",
           tg32, tgbf);

    /* (a) RTX A6000, clocks locked at 1000 MHz, n = 10000 fp32, kernel efficiency set so one
     * product takes the talk's 1.13 s at the locked clock. */
    if (cmd_sim_scenario(L, "profile a6000\nlock-clocks 1000 1000\nidle 1000s context=1\n", &d) !=
        0)
        return 1;
    L->name(d, name, sizeof name);
    L->advance(60);
    jsimKernel k = {.version = JSIM_STRUCT_VERSION(jsimKernel),
                    .precision = JSIM_PREC_FP32,
                    .flops = 2e12,
                    .bytes = 3 * 4e8,
                    .alpha = -1};
    double peak = 38.7e12 * 990 / 1800;
    k.efficiency = 2e12 / 1.13 / peak;
    jsimKernelResult rn, rz;
    k.toggle = tg32;
    run_kernels(L, d, &k, 1, &rn);
    k.toggle = 0;
    run_kernels(L, d, &k, 1, &rz);
    printf("(a) %s, clocks locked (990 MHz on the 15 MHz grid), C = A.B, n = 10000, fp32:\n", name);
    printf("    %-8s %8s %10s %10s %8s\n", "inputs", "time s", "energy J", "power W", "alpha");
    printf("    %-8s %8.3f %10.2f %10.1f %8.3f\n", "N(0,1)", rn.time_s, rn.energy_j,
           rn.energy_j / rn.time_s, rn.alpha);
    printf("    %-8s %8.3f %10.2f %10.1f %8.3f\n", "zeros", rz.time_s, rz.energy_j,
           rz.energy_j / rz.time_s, rz.alpha);
    printf("    talk (measured): 1.13 s both; 38.17 J vs 28.97 J (ratio %.3f; model %.3f)\n",
           28.97 / 38.17, rz.energy_j / rn.energy_j);
    /* `joules ab` runs the product at its default 90 % of peak, several per window: the same
     * static power is shared by more switching, so its ratio is lower. Both, side by side. */
    double eff = k.efficiency;
    k.efficiency = 0.9;
    int reps = (int)(1.13 / (2e12 / (k.efficiency * peak)));
    k.toggle = tg32;
    run_kernels(L, d, &k, reps, &rn);
    k.toggle = 0;
    run_kernels(L, d, &k, reps, &rz);
    printf("    `joules ab` runs it at 90 %% of peak (%d per 1.13 s): model ratio %.3f; slowed "
           "here to the talk's 1.13 s (%.0f %% of peak), static power weighs more\n\n",
           reps, rz.energy_j / rn.energy_j, 100 * eff);

    /* (b) A100 SXM4 80GB at default clocks and the 400 W limit, 8192^3 bf16 GEMM. */
    if (cmd_sim_scenario(L, "profile a100\nidle 10000s context=1\n", &d) != 0)
        return 1;
    L->name(d, name, sizeof name);
    jsimKernel g = {.version = JSIM_STRUCT_VERSION(jsimKernel),
                    .precision = JSIM_PREC_BF16,
                    .flops = 2.0 * 8192.0 * 8192.0 * 8192.0,
                    .bytes = 3 * 8192.0 * 8192 * 2,
                    .alpha = -1,
                    .efficiency = 0.95};
    jsimKernelResult gn, gz;
    g.toggle = tgbf;
    run_kernels(L, d, &g, 300, &gn); /* warm-up: about a second at the cap */
    L->advance(30);
    run_kernels(L, d, &g, 2000, &gn);
    L->advance(30);
    g.toggle = 0;
    run_kernels(L, d, &g, 2000, &gz);
    double tn = 2000 * g.flops / gn.time_s / 1e12, tz = 2000 * g.flops / gz.time_s / 1e12;
    printf("(b) %s, default clocks, 400 W limit, 8192^3 bf16 GEMM (2000 runs each):\n", name);
    printf("    %-8s %8s %10s %10s %12s\n", "inputs", "TFLOPS", "clock MHz", "power W", "reasons");
    printf("    %-8s %8.1f %10.0f %10.1f %12s\n", "N(0,1)", tn, gn.avg_clock_mhz,
           gn.energy_j / gn.time_s, gn.reasons & 0x4 ? "SW power cap" : "-");
    printf("    %-8s %8.1f %10.0f %10.1f %12s\n", "zeros", tz, gz.avg_clock_mhz,
           gz.energy_j / gz.time_s, gz.reasons & 0x4 ? "SW power cap" : "-");
    printf("    zeros faster by %.1f %% (Horace He, real A100: 295 vs 257 TFLOPS, +14.8 %%)\n",
           (tz / tn - 1) * 100);
    return 0;
}

/* ---- idle ----------------------------------------------------------------------------- */

int cmd_sim_idle(struct simlib *L, int argc, char **argv)
{
    int status;
    if (parse_plain(&sim_idle_spec, argc, argv, &status) != 0)
        return status;
    if (cmd_sim_load(L) != 0)
        return 1;
    printf("SIMULATED idle power after 10 min (model, not a measurement):\n");
    printf("%-36s %-12s %6s %9s %9s %8s %8s\n", "device", "state", "Pstate", "clock MHz", "power W",
           "leak W", "T °C");
    /* Every real board the simulator models, in its order (not aliases, not test profiles). */
    jsimProfileInfo p = {.version = JSIM_STRUCT_VERSION(jsimProfileInfo)};
    for (unsigned i = 0; L->profile(i, &p) == NVML_SUCCESS; i++) {
        if (p.alias_of || p.for_tests)
            continue;
        for (int ctx = 0; ctx < 2; ctx++) {
            char text[128], name[96];
            nvmlDevice_t d;
            snprintf(text, sizeof text, "profile %s\nidle 1000s context=%d\n", p.key, ctx);
            if (cmd_sim_scenario(L, text, &d) != 0)
                return 1;
            L->advance(600);
            L->name(d, name, sizeof name);
            jsimState s = cmd_sim_state(L, d);
            printf("%-36s %-12s P%-5d %9.0f %9.1f %8.1f %8.1f\n", name,
                   ctx ? "context open" : "no context", s.pstate, s.clock_mhz, s.power_w,
                   s.p_leak_w, s.temperature_c);
        }
    }
    return 0;
}
