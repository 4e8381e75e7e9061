/* SPDX-License-Identifier: MIT */
/*
 * cmd_ab.c - `joules ab`: the talk's A/B experiment as a command. The same matrix product on
 * inputs that differ only in their values, on a simulated GPU, a real GPU (cuBLAS) or a CPU
 * (BLAS), measured through the monitor; medians with confidence intervals, paired ratios, a
 * sentence on what they mean, JSON/CSV/SVG. The procedure is in src/ab/ab_run.c and
 * docs/ab.md; this file parses options, chooses the executor, locks and always restores the
 * clocks (normal end, error, SIGINT, SIGTERM), and writes the outputs.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ab/ab.h"
#include "cli/cli_impact.h"
#include "cli/cli_options.h"
#include "cli/cli_restore.h"
#include "cli/cli_signal.h"
#include "cli/cli_util.h"
#include "cli/cli_workload.h"
#include "cli/commands.h"
#include "io/atomic.h"

#define CMD "ab"

enum {
    OPT_REPEATS = CLI_OPT_COMMAND,
    OPT_MIN_WINDOW,
    OPT_LOCK,
    OPT_SVG,
};

static const char ab_help_head[] =
    "Usage: joules ab [OPTIONS]\n\n"
    "The talk's A/B experiment: the same matrix product C = A.B, same size, same code,\n"
    "same FLOP count, on inputs that differ only in their values (N(0,1) against\n"
    "zeros by default). With clocks locked low both take the same time, yet not the\n"
    "same energy: the values decide how many transistors switch (P_dyn = alpha C V^2 f).\n"
    "At the power limit, the inputs that switch more also run slower.\n\n"
    "Procedure (docs/ab.md): warm-up outside any window; a correctness check of the\n"
    "product on random inputs against a double-precision reference; windows of at least\n"
    "--min-window seconds (the product repeated inside), synchronised before the clock\n"
    "is read; arms interleaved ABBA so drift hits all; medians with 95 % confidence\n"
    "intervals (order statistics) and paired ratios. Progress goes to standard error,\n"
    "the report to standard output.\n\n"
    "Options:\n";

static const char ab_help_tail[] =
    "\nExamples:\n"
    "  joules ab --sim a6000 --lock-clocks 1000          the talk, simulated\n"
    "  joules ab --sim a100 -p bf16 -n 8192              power limit: zeros run faster\n"
    "  sudo joules ab --lock-clocks 1000 --svg ab.svg    a real GPU (cuBLAS)\n"
    "  joules ab --executor cpu -n 1024 --arms normal,zeros,onebit\n\n"
    "Environment: JOULES_CUDART_LIBRARY, JOULES_CUBLAS_LIBRARY (CUDA libraries),\n"
    "JOULES_BLAS_LIBRARY (a CBLAS library for cpu), JOULES_SIM_PRIVILEGED=1 (lets the\n"
    "simulated GPU lock clocks without root), and those of `joules run --help`.\n\n"
    "Exit status: 0 done; 1 joules failed (no device, library missing, clocks refused,\n"
    "wrong product); 2 wrong command line; 128+N when stopped by signal N (130 for\n"
    "Ctrl-C) after restoring the clocks and reporting what was measured.\n" CLI_IMPACT_HELP_NOTE;

static const struct cli_option ab_options[] = {
    CLI_WORKLOAD_N("matrix size (default 10000; cpu: 1024)"),
    CLI_WORKLOAD_PRECISION("fp32 (default), tf32, fp16, bf16, fp64 (cpu: fp32, fp64)"),
    CLI_WORKLOAD_ARMS("inputs to compare, comma-separated (default normal,zeros):\n"
                      "  normal N(0,1); zeros; constant (all 2.0); uniform [0,1);\n"
                      "  sparse (N(0,1), negatives set to 0: half zeros);\n"
                      "  onebit (each element 0 or 8); truncated (N(0,1), mantissa\n"
                      "  cut to 4 bits). Ratios are the first arm over each other."),
    CLI_WORKLOAD_SEED("seed of the inputs (default 1): same seed, same matrices"),
    {"repeats", 0, required_argument, "R", "windows per arm (default 7; 2..1000)", OPT_REPEATS},
    {"min-window", 0, required_argument, "S",
     "seconds each window lasts at least (default 1; many counter\n"
     "updates, ~100 ms each on NVIDIA GPUs)",
     OPT_MIN_WINDOW},
    {"lock-clocks", 0, required_argument, "MHZ",
     "lock the GPU graphics clock (like nvidia-smi -lgc MHZ,MHZ)\n"
     "for the run; reset on every exit (end, error, Ctrl-C, TERM).\n"
     "Needs root on a real GPU",
     OPT_LOCK},
    CLI_WORKLOAD_EXECUTOR("sim | cuda | cpu (default: cuda when an NVIDIA GPU and\n"
                          "cuBLAS are found, else sim)"),
    CLI_OPTION_SIM("the simulated GPU (default a6000); SIMULATED\n" CLI_HELP_PROFILES),
    CLI_OPTION_SCENARIO("the simulated GPU with a scenario (docs/scenarios.md)"),
    CLI_WORKLOAD_EFFICIENCY("sim: fraction of peak FLOP/s the product reaches (default\n"
                            "0.9, a tuned GEMM; 0.083 gives the talk's 1.13 s on the\n"
                            "A6000 at 1000 MHz)"),
    CLI_WORKLOAD_GPU("which GPU (index among the GPUs, default 0)"),
    CLI_OPTION_JSON("the result as JSON (schema joules.ab/1, docs/output.md)"),
    CLI_OPTION_CSV("one CSV row per window (schema joules.ab.csv/1)"),
    {"svg", 0, required_argument, "FILE", "figure: bars with intervals, power over time", OPT_SVG},
    CLI_IMPACT_SITE_OPTIONS,
    CLI_IMPACT_OUTPUT_OPTIONS,
    CLI_OPTION_QUIET("no progress lines"),
    CLI_OPTION_HELP,
    CLI_OPTIONS_END,
};

/* Why the CPU executor has no energy: RAPL's status in words. */
static void cpu_energy_why(joules_monitor *m, char *buf, size_t len)
{
    int code = 0;
    char msg[JOULES_MESSAGE_MAX] = "";
    joules_backend_status(m, JOULES_BACKEND_RAPL, &code, msg, sizeof msg);
    snprintf(buf, len, "time only: RAPL is not readable (%s); %s",
             msg[0] ? msg : joules_strerror(code), cli_backend_remedy(JOULES_BACKEND_RAPL, code));
}

/* The experiment's progress on stderr (user: its struct ab_params). */
static void print_progress(const struct ab_progress *ev, void *user)
{
    const struct ab_params *p = user;
    const struct ab_run_rec *rec = ev->rec;
    switch (ev->phase) {
    case AB_PHASE_LOAD:
        fprintf(stderr, "joules ab: preparing %s inputs (%s, n = %d, %s)\n",
                ab_arm_name(p->arms[ev->slot]), ab_arm_description(p->arms[ev->slot]), p->setup.n,
                ab_prec_name(p->setup.prec));
        break;
    case AB_PHASE_WARM_UP:
        fprintf(stderr, "joules ab: warm-up and correctness check\n");
        break;
    case AB_PHASE_PLAN:
        fprintf(stderr,
                "joules ab: one product takes %.3g s; %d product%s per window, %d rounds "
                "of %d arms (ABBA order)\n",
                ev->product_s, ev->products, ev->products > 1 ? "s" : "", p->repeats, p->n_arms);
        break;
    case AB_PHASE_WINDOW:
        fprintf(stderr, "joules ab: [%d/%d] round %d, %-9s %7.3f s", ev->step, ev->total,
                ev->round + 1, ab_arm_name(p->arms[ev->slot]), rec->time_s);
        if (rec->energy_valid)
            fprintf(stderr, "  %9.2f J  %7.1f W", rec->energy_j, rec->power_w);
        if (!isnan(rec->clock_mhz))
            fprintf(stderr, "  %4.0f MHz", rec->clock_mhz);
        fputc('\n', stderr);
        break;
    }
}

struct outputs {
    const char *json, *csv, *svg;
    io_atomic j, c;
    int j_open, c_open;
};

static int open_outputs(struct outputs *o)
{
    char err[512];
    if (o->json && io_atomic_open(&o->j, o->json, err, sizeof err) != 0)
        goto fail;
    o->j_open = o->json != NULL;
    if (o->csv && io_atomic_open(&o->c, o->csv, err, sizeof err) != 0)
        goto fail;
    o->c_open = o->csv != NULL;
    if (o->svg) { /* written at the end; its directory is checked now */
        io_atomic s;
        if (io_atomic_open(&s, o->svg, err, sizeof err) != 0)
            goto fail;
        io_atomic_abort(&s);
    }
    return 0;
fail:
    fprintf(stderr, "joules ab: %s\n", err);
    return -1;
}

static void abort_outputs(struct outputs *o)
{
    if (o->j_open)
        io_atomic_abort(&o->j);
    if (o->c_open)
        io_atomic_abort(&o->c);
    o->j_open = o->c_open = 0;
}

static int write_outputs(struct outputs *o, const struct ab_output *rep)
{
    char err[512];
    int rc = 0;
    if (o->j_open) {
        if (ab_output_json(o->j.f, rep) != 0 || io_atomic_commit(&o->j, err, sizeof err) != 0) {
            fprintf(stderr, "joules ab: --json %s: not written\n", o->json);
            io_atomic_abort(&o->j);
            rc = -1;
        }
        o->j_open = 0;
    }
    if (o->c_open) {
        if (ab_output_csv(o->c.f, rep) != 0 || io_atomic_commit(&o->c, err, sizeof err) != 0) {
            fprintf(stderr, "joules ab: --csv %s: not written\n", o->csv);
            io_atomic_abort(&o->c);
            rc = -1;
        }
        o->c_open = 0;
    }
    if (o->svg && rep->r->n_runs > 0 && ab_output_svg(o->svg, rep, err, sizeof err) != 0) {
        fprintf(stderr, "joules ab: --svg: %s\n", err);
        rc = -1;
    }
    return rc;
}

/* Everything `joules ab` holds, released by ab_finish alone. */
struct ab_ctx {
    struct cli_common com;
    struct cli_workload w;
    struct ab_params p;
    struct outputs out;
    long lock_mhz; /* --lock-clocks; 0 not given */
    struct cli_stop stop;
    struct cli_monitor cm;
    int monitor_open;
    int locked; /* the clocks are locked and not yet reset */
    struct ab_result res;
    struct ab_output rep;
    struct cli_impact_opts impact_opts;
    struct cli_impact impact; /* efficiency and emissions: tables and site values */
};

static int ab_take(void *ctx, int id, const char *v)
{
    struct ab_ctx *a = ctx;
    long lv;
    int rc;
    if (cli_is_workload_option(id))
        return cli_workload_option(&a->w, CMD, id, v);
    if (cli_is_impact_option(id))
        return cli_impact_take(&a->impact_opts, CMD, id, v);
    switch (id) {
    case OPT_REPEATS:
        if ((rc = cli_parse_long(CMD, "--repeats", v, 2, 1000, &lv)) == 0)
            a->p.repeats = (int)lv;
        return rc;
    case OPT_MIN_WINDOW:
        return cli_parse_double(CMD, "--min-window", v, 0.01, 3600, &a->p.min_window_s);
    case OPT_LOCK:
        return cli_parse_long(CMD, "--lock-clocks", v, 1, 10000, &a->lock_mhz);
    case OPT_SVG:
        if ((rc = cli_check_output_name(CMD, "--svg", v)) == 0)
            a->out.svg = v;
        return rc;
    default:
        return 0;
    }
}

static const struct cli_command_spec ab_spec = {
    .name = CMD,
    .help_head = ab_help_head,
    .options = ab_options,
    .help_tail = ab_help_tail,
    .take = ab_take,
};

static void ab_defaults(struct ab_ctx *a)
{
    struct ab_params *p = &a->p;
    p->executor = -1;
    p->setup.prec = AB_FP32;
    p->setup.seed = 1;
    p->repeats = 7;
    p->min_window_s = 1.0;
    p->level = 0.95;
    p->sample_period_s = 0.05;
    p->arms[0] = AB_ARM_NORMAL;
    p->arms[1] = AB_ARM_ZEROS;
    p->n_arms = 2;
    a->com.src.settle_end = 1;
    a->w = (struct cli_workload){.allow_cpu = 1,
                                 .min_arms = 2,
                                 .setup = &p->setup,
                                 .arms = p->arms,
                                 .n_arms = &p->n_arms,
                                 .executor = -1};
    a->rep.clocks_restored = -1;
    a->rep.locked_clock_mhz = -1;
    cli_impact_opts_init(&a->impact_opts);
}

/* What the options say together: 0, or CLI_EXIT_USAGE with the message printed. */
static int ab_check(struct ab_ctx *a)
{
    struct ab_params *p = &a->p;
    struct cli_source *src = &a->com.src;
    if (src->sim && p->executor >= 0 && p->executor != AB_EXEC_SIM)
        return cli_usage_error(CMD,
                               "--sim/--scenario run on the simulated GPU: they go with "
                               "--executor sim, not %s",
                               ab_executor_name(p->executor));
    if (p->executor == AB_EXEC_SIM)
        src->sim = 1;
    if (p->executor == AB_EXEC_CPU && a->lock_mhz)
        return cli_usage_error(CMD, "--lock-clocks locks a GPU's clocks; the cpu executor has "
                                    "none");
    if (p->executor == AB_EXEC_CPU && p->setup.prec != AB_FP32 && p->setup.prec != AB_FP64)
        return cli_usage_error(CMD, "the cpu executor supports fp32 and fp64 only, not %s",
                               ab_prec_name(p->setup.prec));
    if (p->setup.sim_efficiency > 0 && p->executor >= 0 && p->executor != AB_EXEC_SIM)
        return cli_usage_error(CMD, "--sim-efficiency is for the simulated GPU only");
    char same[IO_OUTPUTS_MSG_MAX];
    if (io_outputs_distinct(same, sizeof same, "--json", a->out.json, "--csv", a->out.csv, "--svg",
                            a->out.svg, (char *)NULL) != 0)
        return cli_usage_error(CMD, "%s", same);
    return 0;
}

/* The command line: 0, or nonzero with *status the exit status. */
static int ab_parse(struct ab_ctx *a, int argc, char **argv, int *status)
{
    ab_defaults(a);
    if (cli_options_parse(&ab_spec, &a->com, a, argc, argv, status) != 0)
        return 1;
    if (optind < argc) {
        *status = cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
        return 1;
    }
    a->p.progress = a->com.quiet ? NULL : print_progress;
    a->p.progress_user = &a->p;
    a->p.executor = a->w.executor;
    a->out.json = a->com.json;
    a->out.csv = a->com.csv;
    *status = ab_check(a);
    return *status != 0;
}

/* Open the monitor and settle the executor: the simulated GPU when asked for or when no
 * NVIDIA GPU with cuBLAS is found. 0, or nonzero after saying why. */
static int choose_executor(struct ab_ctx *a)
{
    struct ab_params *p = &a->p;
    char why[AB_ERR_MAX] = "";
    if (cli_open_monitor(CMD, &a->com.src, &a->cm) != 0)
        return -1;
    a->monitor_open = 1;
    if (p->executor < 0 && a->cm.used_sim) {
        p->executor = AB_EXEC_SIM;
    } else if (p->executor < 0) {
        if (cli_count_gpus(a->cm.m, 0) > 0 && ab_cuda_available(why, sizeof why)) {
            p->executor = AB_EXEC_CUDA;
        } else {
            if (!why[0]) {
                int code = 0;
                char msg[JOULES_MESSAGE_MAX] = "";
                joules_backend_status(a->cm.m, JOULES_BACKEND_NVML, &code, msg, sizeof msg);
                snprintf(why, sizeof why, "no NVIDIA GPU was found (%s)",
                         msg[0] ? msg : "NVML reports none");
            }
            fprintf(stderr, "joules ab: %s: using the simulated GPU (SIMULATED figures)\n", why);
            cli_close_monitor(&a->cm);
            a->monitor_open = 0;
            a->com.src.sim = 1;
            p->executor = AB_EXEC_SIM;
            if (cli_open_monitor(CMD, &a->com.src, &a->cm) != 0)
                return -1;
            a->monitor_open = 1;
        }
    }
    if (p->executor == AB_EXEC_CUDA && !ab_cuda_available(why, sizeof why)) {
        fprintf(stderr, "joules ab: --executor cuda: %s\n", why);
        if (!a->cm.used_sim)
            fprintf(stderr, "Without an NVIDIA GPU: joules ab --sim (the simulated GPU) or "
                            "joules ab --executor cpu.\n");
        return -1;
    }
    return 0;
}

/* The experiment's device, size and energy domains. 0, or -1 after saying why. */
static int set_up(struct ab_ctx *a)
{
    struct ab_params *p = &a->p;
    joules_monitor *m = a->cm.m;
    p->ops = p->executor == AB_EXEC_SIM    ? &ab_exec_sim_ops
             : p->executor == AB_EXEC_CUDA ? &ab_exec_cuda_ops
                                           : &ab_exec_cpu_ops;
    p->setup.m = m;
    p->setup.n = a->w.n ? (int)a->w.n : p->executor == AB_EXEC_CPU ? 1024 : 10000;
    p->setup.sim_library = a->cm.used_sim ? a->cm.sim_library : NULL;
    p->setup.gpu_domain = p->executor == AB_EXEC_CPU ? -1 : cli_gpu_domain(m, (int)a->w.gpu);
    p->status_domain = p->setup.gpu_domain;
    p->energy_kinds = p->executor == AB_EXEC_CPU ? JOULES_KINDS_CPU : JOULES_KIND_GPU;
    if (p->executor != AB_EXEC_CPU && p->setup.gpu_domain < 0) {
        fprintf(stderr, "joules ab: no GPU %ld to run on (%d GPU%s found)\n", a->w.gpu,
                cli_count_gpus(m, 0), cli_count_gpus(m, 0) == 1 ? "" : "s");
        if (!a->cm.used_sim)
            cli_print_sim_hint(stderr, CMD);
        return -1;
    }
    a->rep.profile = cli_sim_profile_name(&a->com.src, &a->cm);
    return 0;
}

/* --lock-clocks: 0 locked (or nothing to lock), -1 refused (said why). */
static int lock_clocks(struct ab_ctx *a)
{
    if (!a->lock_mhz)
        return 0;
    long mhz = a->lock_mhz;
    int dom = a->p.setup.gpu_domain;
    joules_domain_info di;
    joules_domain_info_get(a->cm.m, dom, &di);
    cli_journal_begin(CMD, a->cm.m, dom, -1.0);
    if (joules_gpu_lock_clocks(a->cm.m, dom, (unsigned)mhz, (unsigned)mhz) != 0) {
        cli_journal_end(a->cm.m, dom, -1.0);
        fprintf(stderr, "joules ab: cannot lock the clocks of %s at %ld MHz: %s\n", di.name, mhz,
                joules_last_error(a->cm.m));
        fprintf(stderr, "Locking clocks needs privilege: root on a real GPU (sudo joules ab "
                        "...). The simulated GPU allows it as root or with "
                        "JOULES_SIM_PRIVILEGED=1. Nothing was measured.\n");
        return -1;
    }
    a->locked = 1;
    a->rep.lock_mhz = (int)mhz;
    fprintf(stderr,
            "joules ab: changed: graphics clocks of %s (%s) locked at %ld MHz (as "
            "nvidia-smi -lgc %ld,%ld)\n",
            di.name, di.device, mhz, mhz, mhz);
    return 0;
}

/* Reset locked clocks, once, and say so. */
static void restore_clocks(struct ab_ctx *a)
{
    if (!a->locked)
        return;
    a->locked = 0;
    a->rep.clocks_restored = cli_restore_gpu(CMD, a->cm.m, a->p.setup.gpu_domain, -1.0);
}

/* The clock the GPU held under the lock: the median over the windows. */
static int held_clock_mhz(const struct ab_result *res)
{
    static double clk[AB_MAX_ARMS * 1000];
    int nc = 0;
    for (int i = 0; i < res->n_runs && nc < AB_MAX_ARMS * 1000; i++)
        clk[nc++] = res->runs[i].clock_mhz;
    double med = ab_median(clk, nc);
    return isfinite(med) ? (int)lround(med) : -1;
}

/* Run the experiment, restore the clocks, report. The exit status. */
static int experiment(struct ab_ctx *a)
{
    struct ab_params *p = &a->p;
    struct ab_output *rep = &a->rep;
    char err[AB_ERR_MAX] = "";
    int run_rc = ab_run(p, &a->res, err, sizeof err);
    if (run_rc != 0 && !cli_stop_signal)
        fprintf(stderr, "joules ab: %s\n", err);
    if (!a->res.energy_available && p->executor == AB_EXEC_CPU)
        cpu_energy_why(a->cm.m, a->res.energy_why, sizeof a->res.energy_why);
    restore_clocks(a);
    rep->p = p;
    rep->r = &a->res;
    rep->signal = cli_stop_signal;
    rep->failure = run_rc != 0 && !cli_stop_signal ? err : NULL;
    if (run_rc != 0 && !cli_stop_signal && a->res.n_runs == 0) {
        rep->failure = NULL; /* err ends with this call */
        return CLI_EXIT_FAILURE;
    }
    ab_summarize(&a->res, p->level, &rep->s);
    if (rep->lock_mhz)
        rep->locked_clock_mhz = held_clock_mhz(&a->res);
    ab_output_table(stdout, rep);
    struct cli_impact_report impact;
    io_extra extra;
    cli_impact_report_ab(&a->impact_opts, &a->impact, CMD, &a->res, p, &impact);
    rep->extra = cli_impact_extra(&extra, &impact);
    fflush(stdout);
    int status = write_outputs(&a->out, rep) != 0 || run_rc != 0 || rep->clocks_restored == 0
                     ? CLI_EXIT_FAILURE
                     : 0;
    rep->failure = NULL; /* err ends with this call */
    rep->extra = NULL;   /* and so do the impact figures */
    return cli_stop_signal ? 128 + cli_stop_signal : status;
}

/* Release what a holds (clocks reset, outputs not written removed); returns status, or
 * 128+N when a signal N stopped a run that failed. */
static int ab_finish(struct ab_ctx *a, int status)
{
    restore_clocks(a);
    if (a->monitor_open)
        cli_close_monitor(&a->cm);
    abort_outputs(&a->out);
    ab_result_free(&a->res);
    cli_impact_close(&a->impact);
    cli_stop_restore(&a->stop);
    if (cli_stop_signal && status == CLI_EXIT_FAILURE)
        status = 128 + cli_stop_signal;
    return status;
}

int cmd_ab(int argc, char **argv)
{
    static struct ab_ctx a;
    memset(&a, 0, sizeof a);
    int status;
    if (ab_parse(&a, argc, argv, &status) != 0)
        return status;
    /* The tables and site values are checked before anything runs. */
    if ((status = cli_impact_open(&a.impact, &a.impact_opts, CMD)) != 0)
        return status;
    if (open_outputs(&a.out) != 0) {
        abort_outputs(&a.out);
        cli_impact_close(&a.impact);
        return CLI_EXIT_USAGE;
    }
    /* Signals only set a flag: the experiment stops between products, the clocks are reset
     * and what was measured is reported. */
    cli_stop_install(&a.stop);
    a.p.setup.stop = &cli_stop_signal;
    if (choose_executor(&a) != 0 || set_up(&a) != 0 || lock_clocks(&a) != 0)
        return ab_finish(&a, CLI_EXIT_FAILURE);
    return ab_finish(&a, experiment(&a));
}
