/* SPDX-License-Identifier: MIT */
/*
 * cmd_sweep.c - `joules sweep`: step the GPU through locked clocks or power limits, measure a
 * workload at each step (the A/B product of src/ab in chosen arms, or a command after --),
 * fit P = P_static + k f V^2 and report the energy-optimal setting (docs/sweep.md). This
 * file parses options, opens the monitor, handles SIGINT/SIGTERM (a flag: the sweep stops
 * between runs), and restores the clocks or the power limit on every exit path before the
 * report and the files are written.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli_impact.h"
#include "cli/cli_options.h"
#include "cli/cli_restore.h"
#include "cli/cli_sampling.h"
#include "cli/cli_signal.h"
#include "cli/cli_util.h"
#include "cli/cli_workload.h"
#include "cli/commands.h"
#include "io/atomic.h"
#include "sweep/sweep.h"
#include "util/privdrop.h"

#define CMD "sweep"

enum {
    OPT_CLOCKS = CLI_OPT_COMMAND,
    OPT_LIMITS,
    OPT_WARMUP,
    OPT_COOLDOWN,
    OPT_MIN_WINDOW,
    OPT_SVG,
};

static const char sweep_help_head[] =
    "Usage: joules sweep [OPTIONS] [-- COMMAND [ARGS...]]\n\n"
    "Step the GPU through locked graphics clocks (or power limits), measure a workload at\n"
    "each step (time, energy with its uncertainty, power, clock held, temperature,\n"
    "clock-event reasons), fit the power model P = P_static + k f V^2 (the talk's\n"
    "P_dyn ~ alpha C V^2 f; P = a + b f + c f^3 when the voltage is unknown, as on real\n"
    "GPUs), and report the setting with the least energy per run, the one with the\n"
    "least energy x delay, and what they cost in time against the highest setting.\n"
    "Workload: the A/B product (src/ab, default arm normal), or COMMAND run once per step\n"
    "with JOULES_SWEEP_STEP (0, 1, ...) and JOULES_SWEEP_CLOCK_MHZ or\n"
    "JOULES_SWEEP_POWER_LIMIT_W set. Progress on standard error, report on standard\n"
    "output. The clocks (power limit) are restored on every exit: end, error, Ctrl-C,\n"
    "TERM. See docs/sweep.md.\n\n"
    "Options:\n";

static const char sweep_help_tail[] =
    "\nExamples:\n"
    "  JOULES_SIM_PRIVILEGED=1 joules sweep --sim test --clocks 500:1500:100\n"
    "  JOULES_SIM_PRIVILEGED=1 joules sweep --sim --arms normal,zeros --svg s.svg\n"
    "  sudo joules sweep --clocks 900,1200,1500 -- python3 train_step.py\n\n"
    "Needs privilege: root on a real GPU; the simulated GPU allows it as root or with\n"
    "JOULES_SIM_PRIVILEGED=1. Under sudo the command runs as the invoking user\n"
    "(SUDO_UID/SUDO_GID), as root only with --as-root. Exit status: 0 done; 1 failed\n"
    "(privilege, no GPU, the command failed at a step: partial results kept); 2 wrong\n"
    "command line; 128+N when stopped by signal N, after restoring the settings and\n"
    "saving what was measured.\n" CLI_IMPACT_HELP_NOTE;

static const struct cli_option sweep_options[] = {
    {"clocks", 0, required_argument, "SPEC",
     "locked clocks, MHz: FROM:TO:STEP or a list A,B,C (default:\n"
     "9 steps from a third of the maximum clock to the maximum)",
     OPT_CLOCKS},
    {"power-limits", 0, required_argument, "SPEC",
     "power limits, W, instead: FROM:TO:STEP or A,B,C", OPT_LIMITS},
    CLI_WORKLOAD_ARMS("product inputs (default normal; e.g. normal,zeros gives the\n"
                      "ratio of effective switching activity)"),
    CLI_WORKLOAD_N("matrix size (default 8192: compute-bound, memory power small)"),
    CLI_WORKLOAD_PRECISION("fp32 (default), tf32, fp16, bf16, fp64"),
    CLI_WORKLOAD_SEED("seed of the inputs (default 1)"),
    {"warmup", 0, required_argument, "S",
     "seconds of unmeasured products after each change (default 0.3)", OPT_WARMUP},
    {"cooldown", 0, required_argument, "S", "idle seconds between steps (default 0.5)",
     OPT_COOLDOWN},
    {"min-window", 0, required_argument, "S",
     "seconds each measured window lasts at least (default 0.5)", OPT_MIN_WINDOW},
    CLI_WORKLOAD_EXECUTOR("sim | cuda (default: cuda with an NVIDIA GPU and cuBLAS,\n"
                          "else sim)"),
    CLI_OPTION_SIM("the simulated GPU (default a6000); SIMULATED\n" CLI_HELP_PROFILES),
    CLI_OPTION_SCENARIO("the simulated GPU with a scenario (docs/scenarios.md)"),
    CLI_WORKLOAD_EFFICIENCY("sim: fraction of peak FLOP/s of the product (default 0.9)"),
    CLI_WORKLOAD_GPU("which GPU (default 0)"),
    CLI_OPTION_JSON("results and fits (schema joules.sweep/1); partial results\n"
                    "are written when the sweep stops early"),
    {"svg", 0, required_argument, "FILE", "energy and time against the clock; fitted power curve",
     OPT_SVG},
    CLI_IMPACT_SITE_OPTIONS,
    CLI_IMPACT_OUTPUT_OPTIONS,
    CLI_OPTION_QUIET("no progress lines"),
    CLI_OPTION_HELP,
    CLI_OPTION_AS_ROOT,
    CLI_OPTIONS_END,
};

/* FROM:TO:STEP or A,B,C into p->settings. */
static int parse_spec(const char *opt, const char *v, double lo, double hi, struct sweep_params *p)
{
    return cli_parse_steps(CMD, opt, v, lo, hi, p->settings, SWEEP_MAX_STEPS, &p->n_steps);
}

/* Nine clocks from a third of the maximum to the maximum, on multiples of 15 MHz. */
static int default_clocks(joules_monitor *m, int dom, struct sweep_params *p)
{
    joules_gpu_status st;
    if (joules_gpu_status_get(m, dom, &st) != 0 || st.clock_sm_max_mhz <= 0)
        return -1;
    double hi = st.clock_sm_max_mhz, lo = floor(hi / 3 / 15) * 15;
    double step = ceil((hi - lo) / 8 / 15) * 15;
    p->n_steps = 0;
    for (int i = 0; i < 9; i++)
        p->settings[p->n_steps++] = i == 8 || lo + i * step > hi ? hi : lo + i * step;
    while (p->n_steps > 1 && p->settings[p->n_steps - 2] >= hi)
        p->n_steps--;
    return 0;
}

/* Put back what the sweep changed. 1 restored, 0 failed. */
static int restore(const struct sweep_params *p, joules_monitor *m, double limit_w)
{
    return cli_restore_gpu(CMD, m, p->setup.gpu_domain, p->mode == SWEEP_CLOCKS ? -1.0 : limit_w);
}

/* The sweep's progress on stderr (user: its struct sweep_params). */
static void print_progress(const struct sweep_progress *ev, void *user)
{
    const struct sweep_params *p = user;
    const struct sweep_point *pt = ev->pt;
    switch (ev->phase) {
    case SWEEP_PHASE_LOAD:
        fprintf(stderr, "joules sweep: preparing %s inputs (n = %d, %s)\n",
                ab_arm_name(p->arms[ev->slot]), p->setup.n, ab_prec_name(p->setup.prec));
        break;
    case SWEEP_PHASE_POINT:
        fprintf(stderr, "joules sweep: [%d/%d] %g %s", ev->step + 1, ev->total,
                p->settings[ev->step], p->mode == SWEEP_CLOCKS ? "MHz" : "W");
        if (p->workload == SWEEP_WL_PRODUCT)
            fprintf(stderr, " %-8s", ab_arm_name(p->arms[ev->slot]));
        fprintf(stderr, " %8.4f s/run", pt->time_s);
        if (pt->valid)
            fprintf(stderr, " %9.3f J/run %7.1f W", pt->energy_j, pt->power_w);
        if (isfinite(pt->clock_mhz))
            fprintf(stderr, " %5.0f MHz %3.0f C", pt->clock_mhz, pt->temperature_c);
        fputc('\n', stderr);
        break;
    case SWEEP_PHASE_COOLDOWN:
        fprintf(stderr, "joules sweep: cooldown %g s\n", p->cooldown_s);
        break;
    }
}

/* The idle baseline of the GPU in its state at rest (before the sweep changes anything). */
static void load_baseline(joules_monitor *m, int dom, struct sweep_baseline *bl, int progress)
{
    static io_baseline b;
    static char path[4400];
    joules_domain_info info;
    if (joules_domain_info_get(m, dom, &info) != 0 ||
        !cli_baseline_load_one(m, dom, &info, &b, path, sizeof path))
        return;
    double age = (double)time(NULL) - b.created_unix_s;
    bl->b = &b;
    bl->file = path;
    bl->age_s = age > 0 ? age : 0;
    cli_age_text(bl->age_s, bl->age, sizeof bl->age);
    if (progress)
        fprintf(stderr, "joules sweep: idle baseline %s (%s old): %.2f W in %s\n", path, bl->age,
                b.power_w, b.clock_state);
}

static void join_command(char **argv, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; argv[i] && used + 1 < len; i++) {
        int w = snprintf(buf + used, len - used, "%s%s", i ? " " : "", argv[i]);
        if (w < 0 || (size_t)w >= len - used)
            break;
        used += (size_t)w;
    }
}

/* Everything `joules sweep` holds, released by sweep_finish alone. */
struct sweep_ctx {
    struct cli_common com;
    struct cli_workload w;
    struct sweep_params p;
    int have_spec; /* --clocks or --power-limits given */
    const char *svg;
    io_atomic jout; /* --json, created before the sweep */
    int j_open;
    struct cli_stop stop;
    struct cli_monitor cm;
    int monitor_open;
    int executor;
    double limit0_w; /* the power limit to restore */
    char command[1024];
    struct sweep_result res;
    struct sweep_output rep;
    struct cli_impact_opts impact_opts;
    struct cli_impact impact; /* efficiency and emissions: tables and site values */
};

static int sweep_take(void *ctx, int id, const char *v)
{
    struct sweep_ctx *s = ctx;
    struct sweep_params *p = &s->p;
    int rc;
    if (cli_is_workload_option(id))
        return cli_workload_option(&s->w, CMD, id, v);
    if (cli_is_impact_option(id))
        return cli_impact_take(&s->impact_opts, CMD, id, v);
    switch (id) {
    case OPT_CLOCKS:
    case OPT_LIMITS:
        if (s->have_spec)
            return cli_usage_error(CMD, "--clocks and --power-limits: one of them, once");
        s->have_spec = 1;
        p->mode = id == OPT_CLOCKS ? SWEEP_CLOCKS : SWEEP_LIMITS;
        return parse_spec(id == OPT_CLOCKS ? "--clocks" : "--power-limits", v, 1,
                          id == OPT_CLOCKS ? 10000 : 5000, p);
    case OPT_WARMUP:
        return cli_parse_double(CMD, "--warmup", v, 0, 3600, &p->warmup_s);
    case OPT_COOLDOWN:
        return cli_parse_double(CMD, "--cooldown", v, 0, 3600, &p->cooldown_s);
    case OPT_MIN_WINDOW:
        return cli_parse_double(CMD, "--min-window", v, 0.01, 3600, &p->min_window_s);
    case OPT_SVG:
        if ((rc = cli_check_output_name(CMD, "--svg", v)) == 0)
            s->svg = v;
        return rc;
    default:
        return 0;
    }
}

static const struct cli_command_spec sweep_spec = {
    .name = CMD,
    .help_head = sweep_help_head,
    .options = sweep_options,
    .help_tail = sweep_help_tail,
    .take = sweep_take,
};

static void sweep_defaults(struct sweep_ctx *s)
{
    struct sweep_params *p = &s->p;
    p->setup.prec = AB_FP32;
    p->setup.seed = 1;
    p->arms[0] = AB_ARM_NORMAL;
    p->n_arms = 1;
    p->warmup_s = 0.3;
    p->cooldown_s = 0.5;
    p->min_window_s = 0.5;
    s->com.src.settle_end = 1;
    s->w = (struct cli_workload){.min_arms = 1,
                                 .counts_as_numbers = 1,
                                 .setup = &p->setup,
                                 .arms = p->arms,
                                 .n_arms = &p->n_arms,
                                 .executor = -1};
    s->limit0_w = NAN;
    cli_impact_opts_init(&s->impact_opts);
}

/* The command line, and what the options say together: 0, or CLI_EXIT_USAGE with the
 * message printed. */
static int sweep_check(struct sweep_ctx *s, int argc, char **argv)
{
    struct sweep_params *p = &s->p;
    const char *json = s->com.json;
    if (optind < argc) {
        if (strcmp(argv[optind - 1], "--") != 0)
            return cli_usage_error(CMD, "unexpected argument '%s' (a command goes after --)",
                                   argv[optind]);
        p->workload = SWEEP_WL_COMMAND;
        p->argv = argv + optind;
        if (s->w.arms_given)
            return cli_usage_error(CMD, "--arms chooses the product's inputs; it does not go "
                                        "with a command");
    }
    if (s->com.src.sim && s->executor == AB_EXEC_CUDA)
        return cli_usage_error(CMD,
                               "--sim/--scenario run on the simulated GPU, not --executor cuda");
    if (s->executor == AB_EXEC_SIM)
        s->com.src.sim = 1;
    char same[IO_OUTPUTS_MSG_MAX];
    if (io_outputs_distinct(same, sizeof same, "--json", json, "--svg", s->svg, (char *)NULL))
        return cli_usage_error(CMD, "%s", same);
    return 0;
}

/* Create --json and check that --svg can be written: 0, or CLI_EXIT_USAGE. */
static int open_outputs(struct sweep_ctx *s)
{
    char err[AB_ERR_MAX] = "";
    if (s->com.json) {
        if (io_atomic_open(&s->jout, s->com.json, err, sizeof err) != 0) {
            fprintf(stderr, "joules sweep: %s\n", err);
            return CLI_EXIT_USAGE;
        }
        s->j_open = 1;
    }
    if (s->svg) { /* written at the end; its directory is checked now */
        io_atomic probe;
        if (io_atomic_open(&probe, s->svg, err, sizeof err) != 0) {
            fprintf(stderr, "joules sweep: %s\n", err);
            return CLI_EXIT_USAGE;
        }
        io_atomic_abort(&probe);
    }
    return 0;
}

/* Open the monitor and settle the executor: the simulated GPU when asked for, or for the
 * product when no NVIDIA GPU with cuBLAS is found. 0, or -1 after saying why. */
static int choose_executor(struct sweep_ctx *s)
{
    char why[AB_ERR_MAX] = "";
    int product = s->p.workload == SWEEP_WL_PRODUCT;
    if (cli_open_monitor(CMD, &s->com.src, &s->cm) != 0)
        return -1;
    s->monitor_open = 1;
    if (product && s->executor < 0 && !s->cm.used_sim) {
        if (cli_count_gpus(s->cm.m, 0) > 0 && ab_cuda_available(why, sizeof why)) {
            s->executor = AB_EXEC_CUDA;
        } else {
            if (!why[0])
                snprintf(why, sizeof why, "no NVIDIA GPU was found");
            fprintf(stderr, "joules sweep: %s: using the simulated GPU (SIMULATED figures)\n", why);
            cli_close_monitor(&s->cm);
            s->monitor_open = 0;
            s->com.src.sim = 1;
            if (cli_open_monitor(CMD, &s->com.src, &s->cm) != 0)
                return -1;
            s->monitor_open = 1;
        }
    }
    if (s->executor < 0)
        s->executor = s->cm.used_sim ? AB_EXEC_SIM : AB_EXEC_CUDA;
    if (product && s->executor == AB_EXEC_CUDA && !ab_cuda_available(why, sizeof why)) {
        fprintf(stderr, "joules sweep: --executor cuda: %s\n", why);
        return -1;
    }
    return 0;
}

/* A limit the board refuses is said now, with its range, not as a refused privilege. */
static int limits_allowed(const struct sweep_params *p, const joules_gpu_status *st)
{
    for (int i = 0; p->mode == SWEEP_LIMITS && i < p->n_steps; i++)
        if (st->power_limit_min_w > 0 && st->power_limit_max_w > 0 &&
            (p->settings[i] < st->power_limit_min_w - 0.5 ||
             p->settings[i] > st->power_limit_max_w + 0.5)) {
            fprintf(stderr,
                    "joules sweep: --power-limits: %g W is outside what this GPU allows "
                    "(%g to %g W); nothing was changed\n",
                    p->settings[i], st->power_limit_min_w, st->power_limit_max_w);
            return 0;
        }
    return 1;
}

/* A clock above the board's maximum is not refused by the driver but clamped, so that every
 * such step would hold the same clock: said now, with the range, before anything changes. */
static int clocks_allowed(const struct sweep_params *p, const joules_gpu_status *st)
{
    for (int i = 0; p->mode == SWEEP_CLOCKS && i < p->n_steps; i++)
        if (st->clock_sm_max_mhz > 0 && p->settings[i] > st->clock_sm_max_mhz + 0.5) {
            fprintf(stderr,
                    "joules sweep: --clocks: %g MHz is above what this GPU supports (its maximum "
                    "graphics clock is %d MHz); nothing was changed\n",
                    p->settings[i], st->clock_sm_max_mhz);
            return 0;
        }
    return 1;
}

/* The device, the steps and the setting to restore. 0, or the exit status after saying
 * why nothing was changed. */
static int set_up(struct sweep_ctx *s)
{
    struct sweep_params *p = &s->p;
    joules_monitor *m = s->cm.m;
    p->ops = s->executor == AB_EXEC_SIM ? &ab_exec_sim_ops : &ab_exec_cuda_ops;
    p->setup.m = m;
    p->setup.n = s->w.n > 0 ? (int)s->w.n : 8192;
    p->setup.sim_library = s->cm.used_sim ? s->cm.sim_library : NULL;
    p->setup.gpu_domain = cli_gpu_domain(m, (int)s->w.gpu);
    if (p->setup.gpu_domain < 0) {
        fprintf(stderr, "joules sweep: no GPU %d to sweep (%d GPU%s found)\n", (int)s->w.gpu,
                cli_count_gpus(m, 0), cli_count_gpus(m, 0) == 1 ? "" : "s");
        if (!s->cm.used_sim)
            cli_print_sim_hint(stderr, CMD);
        return CLI_EXIT_FAILURE;
    }
    if (!s->have_spec && default_clocks(m, p->setup.gpu_domain, p) != 0) {
        fprintf(stderr, "joules sweep: the GPU does not report its maximum clock: give --clocks\n");
        return CLI_EXIT_FAILURE;
    }
    joules_gpu_status st0;
    memset(&st0, 0, sizeof st0);
    if (joules_gpu_status_get(m, p->setup.gpu_domain, &st0) == 0)
        s->limit0_w = st0.power_limit_w > 0 ? st0.power_limit_w : st0.power_limit_default_w;
    if (p->mode == SWEEP_LIMITS && !(s->limit0_w > 0)) {
        fprintf(stderr, "joules sweep: the GPU does not report its power limit, so it could not "
                        "be restored: nothing was changed\n");
        return CLI_EXIT_FAILURE;
    }
    if (!limits_allowed(p, &st0) || !clocks_allowed(p, &st0))
        return CLI_EXIT_USAGE;
    s->rep.profile = cli_sim_profile_name(&s->com.src, &s->cm);
    load_baseline(m, p->setup.gpu_domain, &s->rep.baseline, p->progress != NULL);
    if (p->workload == SWEEP_WL_COMMAND)
        join_command(p->argv, s->command, sizeof s->command);
    s->rep.command = s->command;
    return 0;
}

/* The table on stdout, then --json and --svg. The exit status. */
static int write_results(struct sweep_ctx *s, int run_rc)
{
    struct sweep_output *rep = &s->rep;
    int status = run_rc != 0 || rep->restored == 0 ? CLI_EXIT_FAILURE : 0;
    sweep_analyze(rep);
    sweep_output_table(stdout, rep);
    struct cli_impact_report impact;
    io_extra extra;
    cli_impact_report_sweep(&s->impact_opts, &s->impact, CMD, &s->res, &s->p, &impact);
    rep->extra = cli_impact_extra(&extra, &impact);
    fflush(stdout);
    char err[512];
    if (s->j_open) {
        s->j_open = 0;
        if (sweep_output_json(s->jout.f, rep) != 0 ||
            io_atomic_commit(&s->jout, err, sizeof err) != 0) {
            fprintf(stderr, "joules sweep: --json %s: not written\n", s->com.json);
            io_atomic_abort(&s->jout);
            status = CLI_EXIT_FAILURE;
        } else if (s->res.n_steps_done < s->p.n_steps) {
            fprintf(stderr, "joules sweep: partial results (%d of %d steps) saved to %s\n",
                    s->res.n_steps_done, s->p.n_steps, s->com.json);
        }
    }
    if (s->svg && s->res.n_steps_done > 0 && sweep_output_svg(s->svg, rep, err, sizeof err) != 0) {
        fprintf(stderr, "joules sweep: --svg: %s\n", err);
        status = CLI_EXIT_FAILURE;
    }
    rep->extra = NULL; /* the impact figures end with this call */
    return cli_stop_signal ? 128 + cli_stop_signal : status;
}

/* Run the sweep, restore what it changed, report. The exit status. */
static int sweep(struct sweep_ctx *s)
{
    struct sweep_params *p = &s->p;
    char err[AB_ERR_MAX] = "";
    if (p->progress)
        fprintf(stderr, "joules sweep: %d step%s of %s%s\n", p->n_steps, p->n_steps == 1 ? "" : "s",
                p->mode == SWEEP_CLOCKS ? "locked clocks" : "power limits",
                s->cm.used_sim ? " on the simulated GPU (SIMULATED)" : "");
    double journal_w = p->mode == SWEEP_CLOCKS ? -1.0 : s->limit0_w;
    cli_journal_begin(CMD, s->cm.m, p->setup.gpu_domain, journal_w);
    int run_rc = sweep_run(p, &s->res, err, sizeof err);
    s->rep.restored = s->res.changed ? restore(p, s->cm.m, s->limit0_w) : -1;
    if (!s->res.changed)
        cli_journal_end(s->cm.m, p->setup.gpu_domain, journal_w);
    if (s->res.refused && s->res.refused != JOULES_E_PERMISSION) {
        fprintf(stderr, "joules sweep: %s; nothing was measured\n", err);
        return CLI_EXIT_FAILURE;
    }
    if (s->res.refused) {
        fprintf(stderr, "joules sweep: %s\n", err);
        fprintf(stderr,
                "%s needs privilege: root on a real GPU (sudo joules sweep ...). The "
                "simulated GPU allows it as root or with JOULES_SIM_PRIVILEGED=1. Nothing "
                "was measured.\n",
                p->mode == SWEEP_CLOCKS ? "Locking clocks" : "Setting the power limit");
        return CLI_EXIT_FAILURE;
    }
    if (run_rc != 0 && !cli_stop_signal)
        fprintf(stderr, "joules sweep: %s\n", err);
    s->rep.p = p;
    s->rep.r = &s->res;
    s->rep.signal = cli_stop_signal;
    s->rep.failure = run_rc != 0 && !cli_stop_signal ? err : NULL;
    return write_results(s, run_rc);
}

/* Release what s holds (--json removed unless written); returns status, or 128+N when a
 * signal N stopped a sweep that failed. */
static int sweep_finish(struct sweep_ctx *s, int status)
{
    if (s->monitor_open)
        cli_close_monitor(&s->cm);
    if (s->j_open)
        io_atomic_abort(&s->jout);
    cli_impact_close(&s->impact);
    cli_stop_restore(&s->stop);
    if (cli_stop_signal && status == CLI_EXIT_FAILURE)
        status = 128 + cli_stop_signal;
    return status;
}

int cmd_sweep(int argc, char **argv)
{
    static struct sweep_ctx s;
    memset(&s, 0, sizeof s);
    sweep_defaults(&s);
    int status;
    if (cli_options_parse(&sweep_spec, &s.com, &s, argc, argv, &status) != 0)
        return status;
    s.p.progress = s.com.quiet ? NULL : print_progress;
    s.p.progress_user = &s.p;
    s.executor = s.w.executor;
    if ((status = sweep_check(&s, argc, argv)) != 0)
        return status;
    static struct util_drop drop; /* under sudo, the command runs as the invoking user */
    char why[160];
    if (util_drop_plan(&drop, s.com.as_root, why, sizeof why) != 0) {
        fprintf(stderr, "joules sweep: %s; --as-root runs the command as root\n", why);
        return CLI_EXIT_FAILURE;
    }
    s.p.drop = &drop;
    /* The tables and site values are checked before anything runs. */
    if ((status = cli_impact_open(&s.impact, &s.impact_opts, CMD)) != 0)
        return status;
    if ((status = open_outputs(&s)) != 0) {
        if (s.j_open)
            io_atomic_abort(&s.jout);
        cli_impact_close(&s.impact);
        return status;
    }
    cli_stop_install(&s.stop);
    s.p.setup.stop = &cli_stop_signal;
    if (choose_executor(&s) != 0)
        return sweep_finish(&s, CLI_EXIT_FAILURE);
    if ((status = set_up(&s)) != 0)
        return sweep_finish(&s, status);
    return sweep_finish(&s, sweep(&s));
}
