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
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "abi/nvml_abi.h"
#include "cli/cli_options.h"
#include "cli/cli_profiles.h"
#include "cli/cli_util.h"
#include "cli/cmd_sim.h"
#include "cli/cmd_sim_machine.h"
#include "cli/sim_thermal_chart.h"
#include "cli/commands.h"
#include "io/atomic.h"
#include "io/plot_svg.h"
#include "abi/jsim.h"

static const char sim_help_head[] =
    "Usage: joules sim COMMAND [OPTIONS]\n"
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
    "            Prints a summary; --csv writes the traces (time, power,\n"
    "            temperature, clock, reasons), --svg the chart. No file otherwise.\n"
    "  ab        the talk's A/B experiment: the same product on N(0,1) and on zeros,\n"
    "            (a) clocks locked low: same time, different energy; (b) default clocks\n"
    "            at the power limit: zeros run faster.\n"
    "  idle      idle power of each profile by P-state (static power is real).\n"
    "  status    the simulated machine every process shares: devices, load, processes\n"
    "            attached, uptime (joules sim status --help).\n"
    "  reset     remove the shared machine; the next use boots a fresh one.\n"
    "\n"
    "Options of thermal:\n";

static const char sim_help_tail[] =
    "\n"
    "Environment: JOULES_SIM_LIBRARY names the simulated libnvidia-ml.so.1 (default:\n"
    "<dir of joules>/../lib/joules/libnvidia-ml.so.1).\n"
    "\n"
    "Examples:\n"
    "  joules sim thermal --profile a100 --duration 900 --svg thermal.svg\n"
    "  joules sim ab\n";

enum { OPT_PROFILE = CLI_OPT_COMMAND, OPT_DURATION, OPT_ALPHA, OPT_CSV, OPT_SVG };

/* --help without -h: `joules sim thermal -h` has always been a wrong option. */
static const struct cli_option thermal_options[] = {
    {"profile", 0, required_argument, "P",
     "a profile of the simulated GPU (default a100; listed below)", OPT_PROFILE},
    {"duration", 0, required_argument, "S",
     "simulated seconds per case (default 1200, at most 100000)", OPT_DURATION},
    {"alpha", 0, required_argument, "A", "switching activity of the load, 0..2 (default 0.4)",
     OPT_ALPHA},
    {"csv", 0, required_argument, "FILE", "write the traces as CSV ('-' for stdout)", OPT_CSV},
    {"svg", 0, required_argument, "FILE", "write the chart as SVG", OPT_SVG},
    {"help", 0, no_argument, NULL, "this help", CLI_OPT_HELP},
    CLI_OPTIONS_END,
};

struct thermal_options {
    const char *profile, *csv, *svg;
    double duration, alpha;
};

static int thermal_take(void *ctx, int id, const char *v)
{
    struct thermal_options *o = ctx;
    switch (id) {
    case OPT_PROFILE:
        o->profile = v;
        return 0;
    case OPT_DURATION:
        return cli_parse_double("sim", "--duration", v, 1, 100000, &o->duration) ? 2 : 0;
    case OPT_ALPHA:
        return cli_parse_double("sim", "--alpha", v, 0, 2, &o->alpha) ? 2 : 0;
    case OPT_CSV:
        o->csv = v;
        return 0;
    case OPT_SVG:
        o->svg = v;
        return 0;
    default:
        return 0;
    }
}

static int thermal_bad_option(const struct cli_command_spec *spec, const char *word)
{
    fprintf(stderr, "joules %s: bad option '%s'\nTry 'joules sim --help'.\n", spec->name, word);
    return 2;
}

static const struct cli_command_spec thermal_spec = {
    .name = "sim thermal",
    .help = cmd_sim_usage,
    .help_head = sim_help_head,
    .options = thermal_options,
    .help_tail = sim_help_tail,
    .take = thermal_take,
    .bad_option = thermal_bad_option,
};

/* The option lines come from the table; the profiles from the simulator itself. */
void cmd_sim_usage(FILE *f)
{
    char profiles[256];
    cli_sim_profile_list(profiles, sizeof profiles, 1);
    fputs(sim_help_head, f);
    cli_options_print(thermal_options, f);
    fprintf(f, "\nProfiles (--profile): %s\n", profiles);
    fputs(sim_help_tail, f);
}

int cmd_sim_load(struct simlib *L)
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
    /* Our own process: no other NVML user; defaults only (the scenario text sets all), and
     * a model of its own (virtual time cannot run on a shared machine). */
    setenv("JOULES_SIM_MACHINE", "private", 1);
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
int cmd_sim_scenario(struct simlib *L, const char *text, nvmlDevice_t *dev)
{
    if (L->reconfigure(text, JSIM_FLAG_VIRTUAL_TIME) != NVML_SUCCESS) {
        char msg[512] = "";
        L->last_error(msg, sizeof msg);
        fprintf(stderr, "joules sim: %s\n", msg);
        return 2;
    }
    return L->handle(0, dev) == NVML_SUCCESS ? 0 : 1;
}

jsimState cmd_sim_state(struct simlib *L, nvmlDevice_t d)
{
    jsimState s = {.version = JSIM_STRUCT_VERSION(jsimState)};
    L->state(d, &s);
    return s;
}

/* ---- thermal -------------------------------------------------------------------------- */

#define THERMAL_CASES 3

static const char *const thermal_names[THERMAL_CASES] = {
    "strong cooling, governor", "weak cooling, no governor", "weak cooling, governor"};

/* The three cases' traces, one second apart; NAN once the GPU is lost. */
struct thermal_data {
    size_t n; /* samples per case */
    double *buf, *t, *temp, *pw, *clk, *leak;
    unsigned long long *reasons;
    char devname[96];
    double lost_at[THERMAL_CASES]; /* -1: not lost */
};

static int thermal_alloc(struct thermal_data *d, double duration)
{
    size_t n = (size_t)duration + 1;
    d->n = n;
    d->buf = calloc(n * THERMAL_CASES * 5, sizeof(double));
    d->reasons = calloc(n * THERMAL_CASES, sizeof *d->reasons);
    if (!d->buf || !d->reasons) {
        fprintf(stderr, "joules sim: out of memory\n");
        return 1;
    }
    d->t = d->buf;
    d->temp = d->buf + n * 3;
    d->pw = d->buf + n * 6;
    d->clk = d->buf + n * 9;
    d->leak = d->buf + n * 12;
    return 0;
}

/* Run the three cases: 0, or the exit status. */
static int thermal_simulate(struct simlib *L, const struct thermal_options *o,
                            struct thermal_data *d)
{
    static const char *const setup[THERMAL_CASES] = {"cooling strong\ngovernor on\n",
                                                     "cooling weak\ngovernor off\n",
                                                     "cooling weak\ngovernor on\n"};
    size_t n = d->n;
    for (int k = 0; k < THERMAL_CASES; k++) {
        char text[512];
        nvmlDevice_t dev;
        snprintf(text, sizeof text, "profile %s\n%sphase %.0fs util=1 alpha=%g\n", o->profile,
                 setup[k], o->duration + 1, o->alpha);
        int rc = cmd_sim_scenario(L, text, &dev);
        if (rc != 0)
            return rc;
        L->name(dev, d->devname, sizeof d->devname);
        d->lost_at[k] = -1;
        for (size_t i = 0; i < n; i++) {
            jsimState s = cmd_sim_state(L, dev);
            size_t j = k * n + i;
            d->t[j] = (double)i;
            if (s.lost && d->lost_at[k] < 0)
                d->lost_at[k] = (double)i;
            d->temp[j] = s.lost ? NAN : s.temperature_c;
            d->pw[j] = s.lost ? NAN : s.power_w;
            d->clk[j] = s.lost ? NAN : s.clock_mhz;
            d->leak[j] = s.lost ? NAN : s.p_leak_w;
            d->reasons[j] = s.reasons;
            L->advance(1.0);
        }
    }
    return 0;
}

static int thermal_write_csv(const char *csv, const struct thermal_data *d)
{
    char err[512];
    io_atomic a;
    if (io_atomic_open(&a, csv, err, sizeof err) != 0) {
        fprintf(stderr, "joules sim: %s\n", err);
        return 1;
    }
    fprintf(a.f, "simulated,case,time_s,power_w,temperature_c,clock_mhz,leakage_w,reasons,lost\n");
    for (int k = 0; k < THERMAL_CASES; k++)
        for (size_t i = 0; i < d->n; i++) {
            size_t j = k * d->n + i;
            int lost = isnan(d->temp[j]);
            fprintf(a.f, "1,\"%s\",%.0f,%.3f,%.3f,%.0f,%.3f,0x%llx,%d\n", thermal_names[k], d->t[j],
                    lost ? 0.0 : d->pw[j], lost ? NAN : d->temp[j], lost ? 0.0 : d->clk[j],
                    lost ? 0.0 : d->leak[j], d->reasons[j], lost);
        }
    if (io_atomic_commit(&a, err, sizeof err) != 0) {
        fprintf(stderr, "joules sim: %s\n", err);
        return 1;
    }
    return 0;
}

/* The chart (sim_thermal_chart.c), with the board's thresholds. */
static int thermal_write_svg(struct simlib *L, const char *svg, const struct thermal_data *d,
                             double alpha)
{
    struct sim_thermal_chart c = {.n = d->n,
                                  .t = d->t,
                                  .temp = d->temp,
                                  .pw = d->pw,
                                  .clk = d->clk,
                                  .lost_at = d->lost_at,
                                  .names = thermal_names,
                                  .devname = d->devname,
                                  .alpha = alpha};
    char err[512];
    sim_thermal_chart_thresholds(L->h, &c);
    if (sim_thermal_chart_save(svg, &c, err, sizeof err) != 0) {
        fprintf(stderr, "joules sim: %s\n", err);
        return 1;
    }
    return 0;
}

static void thermal_summary(const struct thermal_options *o, const struct thermal_data *d)
{
    size_t n = d->n;
    FILE *out = o->csv && strcmp(o->csv, "-") == 0 ? stderr : stdout;
    fprintf(out, "SIMULATED: %s, %g s per case, load alpha %.2f\n", d->devname, o->duration,
            o->alpha);
    fprintf(out, "%-28s %9s %9s %9s %9s  %s\n", "case", "T end °C", "T max °C", "P end W",
            "clock MHz", "outcome");
    for (int k = 0; k < THERMAL_CASES; k++) {
        double tmax = 0;
        size_t last = 0;
        for (size_t i = 0; i < n; i++)
            if (!isnan(d->temp[k * n + i])) {
                tmax = fmax(tmax, d->temp[k * n + i]);
                last = i;
            }
        char outcome[96];
        if (d->lost_at[k] >= 0)
            snprintf(outcome, sizeof outcome, "runaway: shutdown at %.0f s (GPU lost)",
                     d->lost_at[k]);
        else if (d->reasons[k * n + n - 1] & 0x68ull)
            snprintf(outcome, sizeof outcome, "held by the governor (thermal slowdown)");
        else
            snprintf(outcome, sizeof outcome, "settled");
        fprintf(out, "%-28s %9.1f %9.1f %9.1f %9.0f  %s\n", thermal_names[k], d->temp[k * n + last],
                tmax, d->pw[k * n + last], d->clk[k * n + last], outcome);
    }
    if (o->csv && strcmp(o->csv, "-") != 0)
        fprintf(out, "wrote the traces to %s\n", o->csv);
    if (o->svg)
        fprintf(out, "wrote the chart to %s\n", o->svg);
    if (!o->csv && !o->svg)
        fprintf(out, "no file written: --csv FILE writes the traces, --svg FILE the chart\n");
}

static int sim_thermal(struct simlib *L, int argc, char **argv)
{
    /* Files only where asked for: a demonstration leaves nothing behind by itself. */
    struct thermal_options o = {.profile = "a100", .duration = 1200, .alpha = 0.4};
    int status;
    if (cli_options_parse(&thermal_spec, NULL, &o, argc, argv, &status) != 0)
        return status;
    if (optind < argc) {
        fprintf(stderr, "joules sim thermal: unexpected '%s'\nTry 'joules sim --help'.\n",
                argv[optind]);
        return 2;
    }
    int bad = cli_check_profile("sim thermal", "--profile", o.profile);
    if (!bad && o.csv)
        bad = cli_check_output_name("sim thermal", "--csv", o.csv);
    if (!bad && o.svg)
        bad = cli_check_output_name("sim thermal", "--svg", o.svg);
    char same[IO_OUTPUTS_MSG_MAX];
    if (!bad &&
        io_outputs_distinct(same, sizeof same, "--csv", o.csv, "--svg", o.svg, (char *)NULL))
        bad = cli_usage_error("sim thermal", "%s", same);
    if (bad)
        return bad;
    if (cmd_sim_load(L) != 0)
        return 1;
    struct thermal_data d = {0};
    status = thermal_alloc(&d, o.duration);
    if (!status)
        status = thermal_simulate(L, &o, &d);
    if (!status && o.csv)
        status = thermal_write_csv(o.csv, &d);
    if (!status && o.svg)
        status = thermal_write_svg(L, o.svg, &d, o.alpha);
    if (!status)
        thermal_summary(&o, &d);
    free(d.buf);
    free(d.reasons);
    return status;
}

int cmd_sim(int argc, char **argv)
{
    struct simlib L = {0};
    if (argc < 2) {
        fprintf(stderr, "joules sim: missing command (thermal, ab, idle, status, reset)\n"
                        "Try 'joules sim --help'.\n");
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        cmd_sim_usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "thermal"))
        return sim_thermal(&L, argc - 1, argv + 1);
    if (!strcmp(argv[1], "ab"))
        return cmd_sim_ab(&L, argc - 1, argv + 1);
    if (!strcmp(argv[1], "idle"))
        return cmd_sim_idle(&L, argc - 1, argv + 1);
    if (!strcmp(argv[1], "status"))
        return cmd_sim_status(argc - 1, argv + 1);
    if (!strcmp(argv[1], "reset"))
        return cmd_sim_reset(argc - 1, argv + 1);
    fprintf(stderr,
            "joules sim: unknown command '%s' (thermal, ab, idle, status, reset)\n"
            "Try 'joules sim --help'.\n",
            argv[1]);
    return 2;
}
