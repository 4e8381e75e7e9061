/* SPDX-License-Identifier: MIT */
/*
 * cmd_sim.c - `joules sim`: demonstrations of the simulated GPU's physics, run faster than
 * real time (virtual time) through the library's extension entry points (src/abi/jsim.h),
 * reached with dlopen like any client. Every output is labelled SIMULATED.
 *
 *   joules sim thermal   three cooling/governor cases: CSV + SVG (the runaway of the talk)
 *   joules sim ab        the talk's A/B experiment and the power-limit case, modelled
 *   joules sim idle      idle power by profile and P-state
 */
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "abi/nvml_abi.h"
#include "cli/cli_profiles.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "io/atomic.h"
#include "io/plot_svg.h"
#include "abi/jsim.h"

struct simlib {
    void *h;
    nvmlReturn_t (*init)(void);
    nvmlReturn_t (*handle)(unsigned, nvmlDevice_t *);
    nvmlReturn_t (*name)(nvmlDevice_t, char *, unsigned);
    jsimReconfigure_fn reconfigure;
    jsimAdvance_fn advance;
    jsimGetState_fn state;
    jsimRunKernel_fn run_kernel;
    jsimToggleRate_fn toggle;
    jsimLastError_fn last_error;
    jsimGetProfile_fn profile;
};

static void usage(FILE *f)
{
    fputs("Usage: joules sim COMMAND [OPTIONS]\n"
          "\n"
          "Run the simulated GPU's physics model faster than real time and show what it\n"
          "teaches. Every figure is SIMULATED: a model built from datasheet numbers\n"
          "(docs/physics.md), not a measurement.\n"
          "\n"
          "Commands:\n"
          "  thermal   the temperature-leakage loop. Leakage grows with temperature, power with\n"
          "            leakage, temperature with power. Three cases under the same load:\n"
          "            strong cooling settles; weak cooling without a governor runs away to\n"
          "            the shutdown temperature; weak cooling with the governor holds the\n"
          "            temperature by lowering the clock (SW thermal slowdown).\n"
          "            Writes a CSV (time, power, temperature, clock, reasons) and an SVG plot.\n"
          "  ab        the talk's A/B experiment: the same product on N(0,1) and on zeros,\n"
          "            (a) clocks locked low: same time, different energy; (b) default clocks\n"
          "            at the power limit: zeros run faster.\n"
          "  idle      idle power of each profile by P-state (static power is real).\n"
          "\n"
          "Options of thermal:\n",
          f);
    char boards[256];
    cli_sim_profile_list(boards, sizeof boards, 1);
    fprintf(f, "  --profile P      %s\n                   (default a100)\n", boards);
    fputs("  --duration S     simulated seconds per case (default 1200, at most 100000)\n"
          "  --alpha A        switching activity of the load, 0..2 (default 0.4)\n"
          "  --csv FILE       CSV output (default sim-thermal.csv; '-' for stdout)\n"
          "  --svg FILE       SVG plot (default sim-thermal.svg)\n"
          "\n"
          "Environment: JOULES_SIM_LIBRARY names the simulated libnvidia-ml.so.1 (default:\n"
          "<dir of joules>/../lib/joules/libnvidia-ml.so.1).\n"
          "\n"
          "Examples:\n"
          "  joules sim thermal --profile a100 --duration 900\n"
          "  joules sim ab\n",
          f);
}

static int load(struct simlib *L)
{
    char path[PATH_MAX];
    if (cli_sim_library_path(path, sizeof path) != 0)
        return -1;
    L->h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!L->h) {
        fprintf(stderr, "joules sim: cannot load the simulated GPU %s: %s\n", path, dlerror());
        return -1;
    }
    struct {
        void *slot;
        const char *name;
    } syms[] = {
        {&L->init, "nvmlInit_v2"},
        {&L->handle, "nvmlDeviceGetHandleByIndex_v2"},
        {&L->name, "nvmlDeviceGetName"},
        {&L->reconfigure, JSIM_SYMBOL_RECONFIGURE},
        {&L->advance, JSIM_SYMBOL_ADVANCE},
        {&L->state, JSIM_SYMBOL_GET_STATE},
        {&L->run_kernel, JSIM_SYMBOL_RUN_KERNEL},
        {&L->toggle, JSIM_SYMBOL_TOGGLE_RATE},
        {&L->last_error, JSIM_SYMBOL_LAST_ERROR},
        {&L->profile, JSIM_SYMBOL_GET_PROFILE},
    };
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        void *f = dlsym(L->h, syms[i].name);
        if (!f) {
            fprintf(stderr, "joules sim: %s lacks %s (not the simulated GPU?)\n", path,
                    syms[i].name);
            return -1;
        }
        *(void **)syms[i].slot = f;
    }
    /* Our own process: no other NVML user; defaults only (the scenario text sets all). */
    unsetenv("JOULES_SIM_SCENARIO");
    unsetenv("JOULES_SIM_PROFILE");
    unsetenv("JOULES_SIM_DEVICES");
    if (L->init() != NVML_SUCCESS) {
        char msg[512] = "";
        L->last_error(msg, sizeof msg);
        fprintf(stderr, "joules sim: the simulated GPU did not start: %s\n", msg);
        return -1;
    }
    return 0;
}

/* Rebuild the model from text; 0, or 2 (bad user input such as an unknown profile). */
static int scenario(struct simlib *L, const char *text, nvmlDevice_t *dev)
{
    if (L->reconfigure(text, JSIM_FLAG_VIRTUAL_TIME) != NVML_SUCCESS) {
        char msg[512] = "";
        L->last_error(msg, sizeof msg);
        fprintf(stderr, "joules sim: %s\n", msg);
        return 2;
    }
    return L->handle(0, dev) == NVML_SUCCESS ? 0 : 1;
}

static jsimState state(struct simlib *L, nvmlDevice_t d)
{
    jsimState s = {.version = JSIM_STRUCT_VERSION(jsimState)};
    L->state(d, &s);
    return s;
}

/* ---- thermal -------------------------------------------------------------------------- */

#define THERMAL_CASES 3

static int sim_thermal(struct simlib *L, int argc, char **argv)
{
    const char *profile = "a100", *csv = "sim-thermal.csv", *svg = "sim-thermal.svg";
    double duration = 1200, alpha = 0.4;
    static const struct option opts[] = {{"profile", required_argument, 0, 'p'},
                                         {"duration", required_argument, 0, 'd'},
                                         {"alpha", required_argument, 0, 'a'},
                                         {"csv", required_argument, 0, 'c'},
                                         {"svg", required_argument, 0, 's'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            profile = optarg;
            break;
        case 'd':
            if (cli_parse_double("sim", "--duration", optarg, 1, 100000, &duration) != 0)
                return 2;
            break;
        case 'a':
            if (cli_parse_double("sim", "--alpha", optarg, 0, 2, &alpha) != 0)
                return 2;
            break;
        case 'c':
            csv = optarg;
            break;
        case 's':
            svg = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            fprintf(stderr, "joules sim thermal: bad option '%s'\nTry 'joules sim --help'.\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "joules sim thermal: unexpected '%s'\nTry 'joules sim --help'.\n",
                argv[optind]);
        return 2;
    }
    int bad = cli_check_profile("sim thermal", "--profile", profile);
    if (!bad)
        bad = cli_check_output_name("sim thermal", "--csv", csv);
    if (!bad)
        bad = cli_check_output_name("sim thermal", "--svg", svg);
    char same[JOULES_OUTPUTS_MSG_MAX];
    if (!bad &&
        joules_outputs_distinct(same, sizeof same, "--csv", csv, "--svg", svg, (char *)NULL))
        bad = cli_usage_error("sim thermal", "%s", same);
    if (bad)
        return bad;
    if (load(L) != 0)
        return 1;

    static const char *const names[THERMAL_CASES] = {
        "strong cooling, governor", "weak cooling, no governor", "weak cooling, governor"};
    static const char *const setup[THERMAL_CASES] = {"cooling strong\ngovernor on\n",
                                                     "cooling weak\ngovernor off\n",
                                                     "cooling weak\ngovernor on\n"};
    size_t n = (size_t)duration + 1;
    double *buf = calloc(n * THERMAL_CASES * 5, sizeof(double));
    unsigned long long *reasons = calloc(n * THERMAL_CASES, sizeof *reasons);
    if (!buf || !reasons) {
        free(buf);
        free(reasons);
        fprintf(stderr, "joules sim: out of memory\n");
        return 1;
    }
    double *t = buf, *temp = buf + n * 3, *pw = buf + n * 6, *clk = buf + n * 9,
           *leak = buf + n * 12;
    char devname[96] = "";
    double lost_at[THERMAL_CASES];
    for (int k = 0; k < THERMAL_CASES; k++) {
        char text[512];
        nvmlDevice_t d;
        snprintf(text, sizeof text, "profile %s\n%sphase %.0fs util=1 alpha=%g\n", profile,
                 setup[k], duration + 1, alpha);
        int rc = scenario(L, text, &d);
        if (rc != 0) {
            free(buf);
            free(reasons);
            return rc;
        }
        L->name(d, devname, sizeof devname);
        lost_at[k] = -1;
        for (size_t i = 0; i < n; i++) {
            jsimState s = state(L, d);
            size_t j = k * n + i;
            t[j] = (double)i;
            if (s.lost && lost_at[k] < 0)
                lost_at[k] = (double)i;
            temp[j] = s.lost ? NAN : s.temperature_c;
            pw[j] = s.lost ? NAN : s.power_w;
            clk[j] = s.lost ? NAN : s.clock_mhz;
            leak[j] = s.lost ? NAN : s.p_leak_w;
            reasons[j] = s.reasons;
            L->advance(1.0);
        }
    }

    char err[512];
    joules_atomic a;
    if (joules_atomic_open(&a, csv, err, sizeof err) != 0) {
        fprintf(stderr, "joules sim: %s\n", err);
        free(buf);
        free(reasons);
        return 1;
    }
    fprintf(a.f, "simulated,case,time_s,power_w,temperature_c,clock_mhz,leakage_w,reasons,lost\n");
    for (int k = 0; k < THERMAL_CASES; k++)
        for (size_t i = 0; i < n; i++) {
            size_t j = k * n + i;
            int lost = isnan(temp[j]);
            fprintf(a.f, "1,\"%s\",%.0f,%.3f,%.3f,%.0f,%.3f,0x%llx,%d\n", names[k], t[j],
                    lost ? 0.0 : pw[j], lost ? NAN : temp[j], lost ? 0.0 : clk[j],
                    lost ? 0.0 : leak[j], reasons[j], lost);
        }
    if (joules_atomic_commit(&a, err, sizeof err) != 0) {
        fprintf(stderr, "joules sim: %s\n", err);
        free(buf);
        free(reasons);
        return 1;
    }

    struct plot_series series[2 * THERMAL_CASES];
    static const char *const colors[THERMAL_CASES] = {"#1f77b4", "#d62728", "#2ca02c"};
    char labels[2 * THERMAL_CASES][96];
    for (int k = 0; k < THERMAL_CASES; k++) {
        snprintf(labels[k], sizeof labels[k], "temperature: %s", names[k]);
        snprintf(labels[THERMAL_CASES + k], sizeof labels[0], "power: %s", names[k]);
        series[k] = (struct plot_series){labels[k], t + k * n, temp + k * n, n, colors[k], 0, 0};
        series[THERMAL_CASES + k] = (struct plot_series){
            labels[THERMAL_CASES + k], t + k * n, pw + k * n, n, colors[k], 1, 1};
    }
    char sub[256];
    snprintf(sub, sizeof sub, "%s, constant load (alpha %.2f); the red line ends at shutdown",
             devname, alpha);
    struct plot_chart chart = {.title = "Temperature-leakage loop: runaway and its control",
                               .subtitle = sub,
                               .x_label = "time (s)",
                               .y_label = "temperature (°C)",
                               .y2_label = "power (W)",
                               .simulated = 1,
                               .series = series,
                               .n_series = 2 * THERMAL_CASES};
    if (plot_svg_save(svg, &chart, err, sizeof err) != 0) {
        fprintf(stderr, "joules sim: %s\n", err);
        free(buf);
        free(reasons);
        return 1;
    }

    FILE *out = strcmp(csv, "-") == 0 ? stderr : stdout;
    fprintf(out, "SIMULATED: %s, %g s per case, load alpha %.2f\n", devname, duration, alpha);
    fprintf(out, "%-28s %9s %9s %9s %9s  %s\n", "case", "T end °C", "T max °C", "P end W",
            "clock MHz", "outcome");
    for (int k = 0; k < THERMAL_CASES; k++) {
        double tmax = 0;
        size_t last = 0;
        for (size_t i = 0; i < n; i++)
            if (!isnan(temp[k * n + i])) {
                tmax = fmax(tmax, temp[k * n + i]);
                last = i;
            }
        char outcome[96];
        if (lost_at[k] >= 0)
            snprintf(outcome, sizeof outcome, "runaway: shutdown at %.0f s (GPU lost)", lost_at[k]);
        else if (reasons[k * n + n - 1] & 0x68ull)
            snprintf(outcome, sizeof outcome, "held by the governor (thermal slowdown)");
        else
            snprintf(outcome, sizeof outcome, "settled");
        fprintf(out, "%-28s %9.1f %9.1f %9.1f %9.0f  %s\n", names[k], temp[k * n + last], tmax,
                pw[k * n + last], clk[k * n + last], outcome);
    }
    fprintf(out, "wrote %s and %s\n", csv, svg);
    free(buf);
    free(reasons);
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

static int sim_ab(struct simlib *L, int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "joules sim ab: unexpected '%s'\nTry 'joules sim --help'.\n", argv[1]);
        return 2;
    }
    if (load(L) != 0)
        return 1;
    nvmlDevice_t d;
    char name[96];
    double tg32 = normal_toggle(L, JSIM_PREC_FP32), tgbf = normal_toggle(L, JSIM_PREC_BF16);
    printf("SIMULATED (model, not a measurement). Toggle rate of N(0,1) operands: fp32 %.3f, "
           "bf16 %.3f; zeros 0.\n\n",
           tg32, tgbf);

    /* (a) RTX A6000, clocks locked at 1000 MHz, n = 10000 fp32, kernel efficiency set so one
     * product takes the talk's 1.13 s at the locked clock. */
    if (scenario(L, "profile a6000\nlock-clocks 1000 1000\nidle 1000s context=1\n", &d) != 0)
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
    printf("    talk (measured): 1.13 s both; 38.17 J vs 28.97 J (ratio %.3f; model %.3f)\n\n",
           28.97 / 38.17, rz.energy_j / rn.energy_j);

    /* (b) A100 SXM4 80GB at default clocks and the 400 W limit, 8192^3 bf16 GEMM. */
    if (scenario(L, "profile a100\nidle 10000s context=1\n", &d) != 0)
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

static int sim_idle(struct simlib *L, int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "joules sim idle: unexpected '%s'\nTry 'joules sim --help'.\n", argv[1]);
        return 2;
    }
    if (load(L) != 0)
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
            if (scenario(L, text, &d) != 0)
                return 1;
            L->advance(600);
            L->name(d, name, sizeof name);
            jsimState s = state(L, d);
            printf("%-36s %-12s P%-5d %9.0f %9.1f %8.1f %8.1f\n", name,
                   ctx ? "context open" : "no context", s.pstate, s.clock_mhz, s.power_w,
                   s.p_leak_w, s.temperature_c);
        }
    }
    return 0;
}

int cmd_sim(int argc, char **argv)
{
    struct simlib L = {0};
    if (argc < 2) {
        fprintf(stderr, "joules sim: missing command (thermal, ab, idle)\n"
                        "Try 'joules sim --help'.\n");
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "thermal"))
        return sim_thermal(&L, argc - 1, argv + 1);
    if (!strcmp(argv[1], "ab"))
        return sim_ab(&L, argc - 1, argv + 1);
    if (!strcmp(argv[1], "idle"))
        return sim_idle(&L, argc - 1, argv + 1);
    fprintf(stderr,
            "joules sim: unknown command '%s' (thermal, ab, idle)\n"
            "Try 'joules sim --help'.\n",
            argv[1]);
    return 2;
}
