/* SPDX-License-Identifier: MIT */
/*
 * cmd_ab.c - `joules ab`: the talk's A/B experiment as a command. The same matrix product on
 * inputs that differ only in their values, on a simulated GPU, a real GPU (cuBLAS) or a CPU
 * (BLAS), measured through the monitor; medians with confidence intervals, paired ratios, a
 * sentence on what they mean, JSON/CSV/SVG. The procedure is in src/ab/ab_run.c and
 * docs/ab.md; this file parses options, chooses the executor, locks and always restores the
 * clocks (normal end, error, SIGINT, SIGTERM), and writes the outputs.
 */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ab/ab.h"
#include "cli/cli_signal.h"
#include "cli/cli_util.h"
#include "cli/cli_workload.h"
#include "cli/commands.h"
#include "io/atomic.h"

#define CMD "ab"

enum {
    OPT_REPEATS = 0x200,
    OPT_MIN_WINDOW,
    OPT_LOCK,
    OPT_SVG,
};

static void help(FILE *out)
{
    fprintf(out,
            "Usage: joules ab [OPTIONS]\n\n"
            "The talk's A/B experiment: the same matrix product C = A.B, same size, same code,\n"
            "same FLOP count, on inputs that differ only in their values (N(0,1) against\n"
            "zeros by default). With clocks locked low both take the same time, yet not the\n"
            "same energy: the values decide how many transistors switch (P_dyn = alpha C V^2 f).\n"
            "At the power limit, the inputs that switch more also run slower.\n\n"
            "Procedure (docs/ab.md): warm-up outside any window; a correctness check of the\n"
            "product on random inputs against a double-precision reference; windows of at least\n"
            "--min-window seconds (the product repeated inside), synchronised before the clock\n"
            "is read; arms interleaved ABBA so drift hits all; medians with 95 %% confidence\n"
            "intervals (order statistics) and paired ratios. Progress goes to standard error,\n"
            "the report to standard output.\n\n"
            "Options:\n"
            "  -n N                matrix size (default 10000; cpu: 1024)\n"
            "  -p, --precision P   fp32 (default), tf32, fp16, bf16, fp64 (cpu: fp32, fp64)\n"
            "  --arms LIST         inputs to compare, comma-separated (default normal,zeros):\n"
            "                        normal N(0,1); zeros; constant (all 2.0); uniform [0,1);\n"
            "                        sparse (N(0,1), negatives set to 0: half zeros);\n"
            "                        onebit (each element 0 or 8); truncated (N(0,1), mantissa\n"
            "                        cut to 4 bits). Ratios are the first arm over each other.\n"
            "  --seed S            seed of the inputs (default 1): same seed, same matrices\n"
            "  --repeats R         windows per arm (default 7; 2..1000)\n"
            "  --min-window S      seconds each window lasts at least (default 1; many counter\n"
            "                      updates, ~100 ms each on NVIDIA GPUs)\n"
            "  --lock-clocks MHZ   lock the GPU graphics clock (like nvidia-smi -lgc MHZ,MHZ)\n"
            "                      for the run; reset on every exit (end, error, Ctrl-C, TERM).\n"
            "                      Needs root on a real GPU\n"
            "  --executor E        sim | cuda | cpu (default: cuda when an NVIDIA GPU and\n"
            "                      cuBLAS are found, else sim)\n"
            "  --sim [PROFILE]     the simulated GPU (a6000 default, a100-sxm4-40gb,\n"
            "                      a100-sxm4-80gb (a100), h100-sxm5 (h100), test); SIMULATED\n"
            "  --scenario FILE     the simulated GPU with a scenario (docs/scenarios.md)\n"
            "  --sim-efficiency E  sim: fraction of peak FLOP/s the product reaches (default\n"
            "                      0.9, a tuned GEMM; 0.083 gives the talk's 1.13 s on the\n"
            "                      A6000 at 1000 MHz)\n"
            "  --gpu N             which GPU (index among the GPUs, default 0)\n"
            "  --json FILE         the result as JSON (schema joules.ab/1, docs/output.md)\n"
            "  --csv FILE          one CSV row per window (schema joules.ab.csv/1)\n"
            "  --svg FILE          figure: bars with intervals, power over time\n"
            "  -q, --quiet         no progress lines\n"
            "  -h, --help          this help\n\n"
            "Examples:\n"
            "  joules ab --sim a6000 --lock-clocks 1000          the talk, simulated\n"
            "  joules ab --sim a100 -p bf16 -n 8192              power limit: zeros run faster\n"
            "  sudo joules ab --lock-clocks 1000 --svg ab.svg    a real GPU (cuBLAS)\n"
            "  joules ab --executor cpu -n 1024 --arms normal,zeros,onebit\n\n"
            "Environment: JOULES_CUDART_LIBRARY, JOULES_CUBLAS_LIBRARY (CUDA libraries),\n"
            "JOULES_BLAS_LIBRARY (a CBLAS library for cpu), JOULES_SIM_PRIVILEGED=1 (lets the\n"
            "simulated GPU lock clocks without root), and those of `joules run --help`.\n\n"
            "Exit status: 0 done; 1 joules failed (no device, library missing, clocks refused,\n"
            "wrong product); 2 wrong command line; 128+N when stopped by signal N (130 for\n"
            "Ctrl-C) after restoring the clocks and reporting what was measured.\n");
}

/* Why the CPU executor has no energy: RAPL's status in words. */
static void cpu_energy_why(joules_monitor *m, char *buf, size_t len)
{
    int code = 0;
    char msg[JOULES_MESSAGE_MAX] = "";
    joules_backend_status(m, JOULES_BACKEND_RAPL, &code, msg, sizeof msg);
    snprintf(buf, len, "time only: RAPL is not readable (%s); %s",
             msg[0] ? msg : joules_strerror(code), cli_backend_remedy(JOULES_BACKEND_RAPL, code));
}

struct outputs {
    const char *json, *csv, *svg;
    joules_atomic j, c;
    int j_open, c_open;
};

static int open_outputs(struct outputs *o)
{
    char err[512];
    if (o->json && joules_atomic_open(&o->j, o->json, err, sizeof err) != 0)
        goto fail;
    o->j_open = o->json != NULL;
    if (o->csv && joules_atomic_open(&o->c, o->csv, err, sizeof err) != 0)
        goto fail;
    o->c_open = o->csv != NULL;
    if (o->svg) { /* written at the end; its directory is checked now */
        joules_atomic s;
        if (joules_atomic_open(&s, o->svg, err, sizeof err) != 0)
            goto fail;
        joules_atomic_abort(&s);
    }
    return 0;
fail:
    fprintf(stderr, "joules ab: %s\n", err);
    return -1;
}

static void abort_outputs(struct outputs *o)
{
    if (o->j_open)
        joules_atomic_abort(&o->j);
    if (o->c_open)
        joules_atomic_abort(&o->c);
    o->j_open = o->c_open = 0;
}

static int write_outputs(struct outputs *o, const struct ab_report *rep)
{
    char err[512];
    int rc = 0;
    if (o->j_open) {
        if (ab_report_json(o->j.f, rep) != 0 || joules_atomic_commit(&o->j, err, sizeof err) != 0) {
            fprintf(stderr, "joules ab: --json %s: not written\n", o->json);
            joules_atomic_abort(&o->j);
            rc = -1;
        }
        o->j_open = 0;
    }
    if (o->c_open) {
        if (ab_report_csv(o->c.f, rep) != 0 || joules_atomic_commit(&o->c, err, sizeof err) != 0) {
            fprintf(stderr, "joules ab: --csv %s: not written\n", o->csv);
            joules_atomic_abort(&o->c);
            rc = -1;
        }
        o->c_open = 0;
    }
    if (o->svg && rep->r->n_runs > 0 && ab_report_svg(o->svg, rep, err, sizeof err) != 0) {
        fprintf(stderr, "joules ab: --svg: %s\n", err);
        rc = -1;
    }
    return rc;
}

int cmd_ab(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_WORKLOAD_LONGOPTS,
        {"repeats", required_argument, NULL, OPT_REPEATS},
        {"min-window", required_argument, NULL, OPT_MIN_WINDOW},
        {"lock-clocks", required_argument, NULL, OPT_LOCK},
        {"json", required_argument, NULL, CLI_OPT_JSON},
        {"csv", required_argument, NULL, CLI_OPT_CSV},
        {"svg", required_argument, NULL, OPT_SVG},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct ab_params p;
    memset(&p, 0, sizeof p);
    p.executor = -1;
    p.setup.prec = AB_FP32;
    p.setup.seed = 1;
    p.repeats = 7;
    p.min_window_s = 1.0;
    p.level = 0.95;
    p.sample_period_s = 0.05;
    p.progress = 1;
    p.arms[0] = AB_ARM_NORMAL;
    p.arms[1] = AB_ARM_ZEROS;
    p.n_arms = 2;
    struct cli_source src = {0};
    src.settle_end = 1;
    struct outputs out = {0};
    struct cli_workload w = {.allow_cpu = 1,
                             .min_arms = 2,
                             .setup = &p.setup,
                             .arms = p.arms,
                             .n_arms = &p.n_arms,
                             .src = &src,
                             .executor = -1};
    long lv, lock = 0;
    int c, rc;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:hq" CLI_WORKLOAD_SHORTOPTS, longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            help(stdout);
            return 0;
        case 'q':
            p.progress = 0;
            break;
        case OPT_REPEATS:
            if ((rc = cli_parse_long(CMD, "--repeats", optarg, 2, 1000, &lv)))
                return rc;
            p.repeats = (int)lv;
            break;
        case OPT_MIN_WINDOW:
            if ((rc = cli_parse_double(CMD, "--min-window", optarg, 0.01, 3600, &p.min_window_s)))
                return rc;
            break;
        case OPT_LOCK:
            if ((rc = cli_parse_long(CMD, "--lock-clocks", optarg, 1, 10000, &lock)))
                return rc;
            break;
        case CLI_OPT_JSON:
        case CLI_OPT_CSV:
        case OPT_SVG: {
            const char *opt = c == CLI_OPT_JSON ? "--json" : c == CLI_OPT_CSV ? "--csv" : "--svg";
            if ((rc = cli_check_output_name(CMD, opt, optarg)))
                return rc;
            *(c == CLI_OPT_JSON ? &out.json : c == CLI_OPT_CSV ? &out.csv : &out.svg) = optarg;
            break;
        }
        default:
            if ((rc = cli_workload_option(&w, CMD, c, argc, argv)) == CLI_WORKLOAD_OTHER)
                return cli_getopt_error(CMD, c, argv);
            if (rc)
                return rc;
            break;
        }
    }
    if (optind < argc)
        return cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    p.executor = w.executor;
    if (src.sim && p.executor >= 0 && p.executor != AB_EXEC_SIM)
        return cli_usage_error(CMD,
                               "--sim/--scenario run on the simulated GPU: they go with "
                               "--executor sim, not %s",
                               ab_executor_name(p.executor));
    if (p.executor == AB_EXEC_SIM)
        src.sim = 1;
    if (p.executor == AB_EXEC_CPU && lock)
        return cli_usage_error(CMD, "--lock-clocks locks a GPU's clocks; the cpu executor has "
                                    "none");
    if (p.executor == AB_EXEC_CPU && p.setup.prec != AB_FP32 && p.setup.prec != AB_FP64)
        return cli_usage_error(CMD, "the cpu executor supports fp32 and fp64 only, not %s",
                               ab_prec_name(p.setup.prec));
    if (p.setup.sim_efficiency > 0 && p.executor >= 0 && p.executor != AB_EXEC_SIM)
        return cli_usage_error(CMD, "--sim-efficiency is for the simulated GPU only");
    char same[JOULES_OUTPUTS_MSG_MAX];
    if (joules_outputs_distinct(same, sizeof same, "--json", out.json, "--csv", out.csv, "--svg",
                                out.svg, (char *)NULL) != 0)
        return cli_usage_error(CMD, "%s", same);
    if (open_outputs(&out) != 0) {
        abort_outputs(&out);
        return CLI_EXIT_USAGE;
    }

    /* Signals only set a flag: the experiment stops between products, the clocks are reset
     * and what was measured is reported. */
    struct cli_stop stop;
    cli_stop_install(&stop);
    p.setup.stop = &cli_stop_signal;

    /* Choose the executor and open the monitor. */
    struct cli_monitor cm;
    char why[AB_ERR_MAX] = "";
    int status = CLI_EXIT_FAILURE;
    struct ab_result res;
    memset(&res, 0, sizeof res);
    struct ab_report rep;
    memset(&rep, 0, sizeof rep);
    rep.clocks_restored = -1;
    rep.locked_clock_mhz = -1;
    int locked = 0;
    if (cli_open_monitor(CMD, &src, &cm) != 0)
        goto done_nomon;
    if (p.executor < 0 && cm.used_sim) {
        p.executor = AB_EXEC_SIM;
    } else if (p.executor < 0) {
        if (cli_count_gpus(cm.m, 0) > 0 && ab_cuda_available(why, sizeof why)) {
            p.executor = AB_EXEC_CUDA;
        } else {
            if (!why[0]) {
                int code = 0;
                char msg[JOULES_MESSAGE_MAX] = "";
                joules_backend_status(cm.m, JOULES_BACKEND_NVML, &code, msg, sizeof msg);
                snprintf(why, sizeof why, "no NVIDIA GPU was found (%s)",
                         msg[0] ? msg : "NVML reports none");
            }
            fprintf(stderr, "joules ab: %s: using the simulated GPU (SIMULATED figures)\n", why);
            cli_close_monitor(&cm);
            src.sim = 1;
            p.executor = AB_EXEC_SIM;
            if (cli_open_monitor(CMD, &src, &cm) != 0)
                goto done_nomon;
        }
    }
    if (p.executor == AB_EXEC_CUDA && !ab_cuda_available(why, sizeof why)) {
        fprintf(stderr, "joules ab: --executor cuda: %s\n", why);
        if (!cm.used_sim)
            fprintf(stderr, "Without an NVIDIA GPU: joules ab --sim (the simulated GPU) or "
                            "joules ab --executor cpu.\n");
        goto done;
    }
    p.ops = p.executor == AB_EXEC_SIM    ? &ab_exec_sim_ops
            : p.executor == AB_EXEC_CUDA ? &ab_exec_cuda_ops
                                         : &ab_exec_cpu_ops;
    p.setup.m = cm.m;
    p.setup.n = w.n ? (int)w.n : p.executor == AB_EXEC_CPU ? 1024 : 10000;
    p.setup.sim_library = cm.used_sim ? cm.sim_library : NULL;
    p.setup.gpu_domain = p.executor == AB_EXEC_CPU ? -1 : cli_gpu_domain(cm.m, (int)w.gpu);
    p.status_domain = p.setup.gpu_domain;
    p.energy_kinds = p.executor == AB_EXEC_CPU ? JOULES_KINDS_CPU : JOULES_KIND_GPU;
    if (p.executor != AB_EXEC_CPU && p.setup.gpu_domain < 0) {
        fprintf(stderr, "joules ab: no GPU %ld to run on (%d GPU%s found)\n", w.gpu,
                cli_count_gpus(cm.m, 0), cli_count_gpus(cm.m, 0) == 1 ? "" : "s");
        if (!cm.used_sim)
            cli_print_sim_hint(stderr, CMD);
        goto done;
    }
    rep.profile = cli_sim_profile_name(&src, &cm);

    if (lock) {
        joules_domain_info di;
        joules_domain_info_get(cm.m, p.setup.gpu_domain, &di);
        if (joules_gpu_lock_clocks(cm.m, p.setup.gpu_domain, (unsigned)lock, (unsigned)lock) != 0) {
            fprintf(stderr, "joules ab: cannot lock the clocks of %s at %ld MHz: %s\n", di.name,
                    lock, joules_last_error(cm.m));
            fprintf(stderr, "Locking clocks needs privilege: root on a real GPU (sudo joules ab "
                            "...). The simulated GPU allows it as root or with "
                            "JOULES_SIM_PRIVILEGED=1. Nothing was measured.\n");
            goto done;
        }
        locked = 1;
        rep.lock_mhz = (int)lock;
        fprintf(stderr,
                "joules ab: changed: graphics clocks of %s (%s) locked at %ld MHz (as "
                "nvidia-smi -lgc %ld,%ld)\n",
                di.name, di.device, lock, lock, lock);
    }

    char err[AB_ERR_MAX] = "";
    int run_rc = ab_run(&p, &res, err, sizeof err);
    if (run_rc != 0 && !cli_stop_signal)
        fprintf(stderr, "joules ab: %s\n", err);
    if (!res.energy_available && p.executor == AB_EXEC_CPU)
        cpu_energy_why(cm.m, res.energy_why, sizeof res.energy_why);

    if (locked) {
        rep.clocks_restored = joules_gpu_reset_clocks(cm.m, p.setup.gpu_domain) == 0;
        if (rep.clocks_restored)
            fprintf(stderr, "joules ab: restored: graphics clocks reset to the driver's default "
                            "(as nvidia-smi -rgc)\n");
        else
            fprintf(stderr, "joules ab: could NOT reset the clocks: %s; run nvidia-smi -rgc\n",
                    joules_last_error(cm.m));
        locked = 0;
    }
    rep.p = &p;
    rep.r = &res;
    rep.signal = cli_stop_signal;
    rep.failure = run_rc != 0 && !cli_stop_signal ? err : NULL;
    if (run_rc != 0 && !cli_stop_signal && res.n_runs == 0) {
        abort_outputs(&out);
        goto done;
    }
    ab_summarize(&res, p.level, &rep.s);
    if (rep.lock_mhz) { /* the clock the GPU held under the lock: median over the windows */
        double clk[AB_MAX_ARMS * 1000];
        int nc = 0;
        for (int i = 0; i < res.n_runs && nc < AB_MAX_ARMS * 1000; i++)
            clk[nc++] = res.runs[i].clock_mhz;
        double med = ab_median(clk, nc);
        rep.locked_clock_mhz = isfinite(med) ? (int)lround(med) : -1;
    }
    ab_report_table(stdout, &rep);
    fflush(stdout);
    status = write_outputs(&out, &rep) != 0 || run_rc != 0 ? CLI_EXIT_FAILURE : 0;
    if (cli_stop_signal)
        status = 128 + cli_stop_signal;

done:
    if (locked && joules_gpu_reset_clocks(cm.m, p.setup.gpu_domain) == 0)
        fprintf(stderr, "joules ab: restored: graphics clocks reset to the driver's default\n");
    cli_close_monitor(&cm);
done_nomon:
    abort_outputs(&out);
    ab_result_free(&res);
    cli_stop_restore(&stop);
    if (cli_stop_signal && status == CLI_EXIT_FAILURE)
        status = 128 + cli_stop_signal;
    return status;
}
