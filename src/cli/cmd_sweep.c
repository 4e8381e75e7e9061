/* SPDX-License-Identifier: MIT */
/*
 * cmd_sweep.c - `joules sweep`: step the GPU through locked clocks or power limits, measure a
 * workload at each step (the A/B product of src/ab in chosen arms, or a command after --),
 * fit P = P_static + k f V^2 and report the energy-optimal setting (docs/sweep.md). This
 * file parses options, opens the monitor, handles SIGINT/SIGTERM (a flag: the sweep stops
 * between runs), and restores the clocks or the power limit on every exit path before the
 * report and the files are written.
 */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli_sampling.h"
#include "cli/cli_signal.h"
#include "cli/cli_util.h"
#include "cli/cli_workload.h"
#include "cli/commands.h"
#include "io/atomic.h"
#include "sweep/sweep.h"

#define CMD "sweep"

enum {
    OPT_CLOCKS = 0x200,
    OPT_LIMITS,
    OPT_WARMUP,
    OPT_COOLDOWN,
    OPT_MIN_WINDOW,
    OPT_SVG,
};

static void help(FILE *out)
{
    fprintf(
        out,
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
        "Options:\n"
        "  --clocks SPEC        locked clocks, MHz: FROM:TO:STEP or a list A,B,C (default:\n"
        "                       9 steps from a third of the maximum clock to the maximum)\n"
        "  --power-limits SPEC  power limits, W, instead: FROM:TO:STEP or A,B,C\n"
        "  --arms LIST          product inputs (default normal; e.g. normal,zeros gives the\n"
        "                       ratio of effective switching activity)\n"
        "  -n N                 matrix size (default 8192: compute-bound, memory power small)\n"
        "  -p, --precision P    fp32 (default), tf32, fp16, bf16, fp64\n"
        "  --seed S             seed of the inputs (default 1)\n"
        "  --warmup S           seconds of unmeasured products after each change (default 0.3)\n"
        "  --cooldown S         idle seconds between steps (default 0.5)\n"
        "  --min-window S       seconds each measured window lasts at least (default 0.5)\n"
        "  --executor E         sim | cuda (default: cuda with an NVIDIA GPU and cuBLAS,\n"
        "                       else sim)\n"
        "  --sim [PROFILE]      the simulated GPU (a6000 default, a100, h100, test); SIMULATED\n"
        "  --scenario FILE      the simulated GPU with a scenario (docs/scenarios.md)\n"
        "  --sim-efficiency E   sim: fraction of peak FLOP/s of the product (default 0.9)\n"
        "  --gpu N              which GPU (default 0)\n"
        "  --json FILE          results and fits (schema joules.sweep/1); partial results\n"
        "                       are written when the sweep stops early\n"
        "  --svg FILE           energy and time against the clock; fitted power curve\n"
        "  -q, --quiet          no progress lines\n"
        "  -h, --help           this help\n\n"
        "Examples:\n"
        "  JOULES_SIM_PRIVILEGED=1 joules sweep --sim test --clocks 500:1500:100\n"
        "  JOULES_SIM_PRIVILEGED=1 joules sweep --sim --arms normal,zeros --svg s.svg\n"
        "  sudo joules sweep --clocks 900,1200,1500 -- python3 train_step.py\n\n"
        "Needs privilege: root on a real GPU; the simulated GPU allows it as root or with\n"
        "JOULES_SIM_PRIVILEGED=1. Exit status: 0 done; 1 failed (privilege, no GPU, the\n"
        "command failed at a step: partial results kept); 2 wrong command line; 128+N when\n"
        "stopped by signal N, after restoring the settings and saving what was measured.\n");
}

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
    if (p->mode == SWEEP_CLOCKS) {
        if (joules_gpu_reset_clocks(m, p->setup.gpu_domain) == 0) {
            fprintf(stderr, "joules sweep: restored: graphics clocks reset to the driver's default "
                            "(as nvidia-smi -rgc)\n");
            return 1;
        }
        fprintf(stderr, "joules sweep: could NOT reset the clocks: %s; run nvidia-smi -rgc\n",
                joules_last_error(m));
        return 0;
    }
    if (joules_gpu_set_power_limit(m, p->setup.gpu_domain, limit_w) == 0) {
        fprintf(stderr, "joules sweep: restored: power limit back to %.0f W\n", limit_w);
        return 1;
    }
    fprintf(stderr,
            "joules sweep: could NOT restore the power limit to %.0f W: %s; run "
            "nvidia-smi -pl %.0f\n",
            limit_w, joules_last_error(m), limit_w);
    return 0;
}

/* The idle baseline of the GPU in its state at rest (before the sweep changes anything). */
static void load_baseline(joules_monitor *m, int dom, struct sweep_baseline *bl, int progress)
{
    static joules_baseline b;
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

int cmd_sweep(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"clocks", required_argument, NULL, OPT_CLOCKS},
        {"power-limits", required_argument, NULL, OPT_LIMITS},
        CLI_WORKLOAD_LONGOPTS,
        {"warmup", required_argument, NULL, OPT_WARMUP},
        {"cooldown", required_argument, NULL, OPT_COOLDOWN},
        {"min-window", required_argument, NULL, OPT_MIN_WINDOW},
        {"json", required_argument, NULL, CLI_OPT_JSON},
        {"svg", required_argument, NULL, OPT_SVG},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static struct sweep_params p;
    static struct sweep_result res;
    static struct sweep_report rep;
    memset(&p, 0, sizeof p);
    memset(&res, 0, sizeof res);
    memset(&rep, 0, sizeof rep);
    p.setup.prec = AB_FP32;
    p.setup.seed = 1;
    p.arms[0] = AB_ARM_NORMAL;
    p.n_arms = 1;
    p.warmup_s = 0.3;
    p.cooldown_s = 0.5;
    p.min_window_s = 0.5;
    p.progress = 1;
    int have_spec = 0;
    const char *json = NULL, *svg = NULL;
    struct cli_source src = {0};
    src.settle_end = 1;
    struct cli_workload w = {.min_arms = 1,
                             .counts_as_numbers = 1,
                             .setup = &p.setup,
                             .arms = p.arms,
                             .n_arms = &p.n_arms,
                             .src = &src,
                             .executor = -1};
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
        case OPT_CLOCKS:
        case OPT_LIMITS:
            if (have_spec)
                return cli_usage_error(CMD, "--clocks and --power-limits: one of them, once");
            have_spec = 1;
            p.mode = c == OPT_CLOCKS ? SWEEP_CLOCKS : SWEEP_LIMITS;
            if ((rc = parse_spec(c == OPT_CLOCKS ? "--clocks" : "--power-limits", optarg, 1,
                                 c == OPT_CLOCKS ? 10000 : 5000, &p)))
                return rc;
            break;
        case OPT_WARMUP:
        case OPT_COOLDOWN:
        case OPT_MIN_WINDOW: {
            const char *o = c == OPT_WARMUP     ? "--warmup"
                            : c == OPT_COOLDOWN ? "--cooldown"
                                                : "--min-window";
            double *dst = c == OPT_WARMUP     ? &p.warmup_s
                          : c == OPT_COOLDOWN ? &p.cooldown_s
                                              : &p.min_window_s;
            if ((rc = cli_parse_double(CMD, o, optarg, c == OPT_MIN_WINDOW ? 0.01 : 0, 3600, dst)))
                return rc;
            break;
        }
        case CLI_OPT_JSON:
        case OPT_SVG:
            if ((rc = cli_check_output_name(CMD, c == OPT_SVG ? "--svg" : "--json", optarg)))
                return rc;
            *(c == OPT_SVG ? &svg : &json) = optarg;
            break;
        default:
            if ((rc = cli_workload_option(&w, CMD, c, argc, argv)) == CLI_WORKLOAD_OTHER)
                return cli_getopt_error(CMD, c, argv);
            if (rc)
                return rc;
            break;
        }
    }
    int executor = w.executor;
    if (optind < argc) {
        if (strcmp(argv[optind - 1], "--") != 0)
            return cli_usage_error(CMD, "unexpected argument '%s' (a command goes after --)",
                                   argv[optind]);
        p.workload = SWEEP_WL_COMMAND;
        p.argv = argv + optind;
        if (w.arms_given)
            return cli_usage_error(CMD, "--arms chooses the product's inputs; it does not go "
                                        "with a command");
    }
    if (src.sim && executor == AB_EXEC_CUDA)
        return cli_usage_error(CMD,
                               "--sim/--scenario run on the simulated GPU, not --executor cuda");
    if (executor == AB_EXEC_SIM)
        src.sim = 1;
    char same[JOULES_OUTPUTS_MSG_MAX];
    if (joules_outputs_distinct(same, sizeof same, "--json", json, "--svg", svg, (char *)NULL))
        return cli_usage_error(CMD, "%s", same);
    joules_atomic jout;
    char err[AB_ERR_MAX] = "";
    int j_open = 0;
    if (json) {
        if (joules_atomic_open(&jout, json, err, sizeof err) != 0) {
            fprintf(stderr, "joules sweep: %s\n", err);
            return CLI_EXIT_USAGE;
        }
        j_open = 1;
    }
    if (svg) { /* written at the end; its directory is checked now */
        joules_atomic s;
        if (joules_atomic_open(&s, svg, err, sizeof err) != 0) {
            fprintf(stderr, "joules sweep: %s\n", err);
            if (j_open)
                joules_atomic_abort(&jout);
            return CLI_EXIT_USAGE;
        }
        joules_atomic_abort(&s);
    }

    struct cli_stop stop;
    cli_stop_install(&stop);
    p.setup.stop = &cli_stop_signal;
    int status = CLI_EXIT_FAILURE;
    struct cli_monitor cm;
    if (cli_open_monitor(CMD, &src, &cm) != 0)
        goto done_nomon;
    char why[AB_ERR_MAX] = "";
    if (p.workload == SWEEP_WL_PRODUCT && executor < 0 && !cm.used_sim) {
        if (cli_count_gpus(cm.m, 0) > 0 && ab_cuda_available(why, sizeof why)) {
            executor = AB_EXEC_CUDA;
        } else {
            if (!why[0])
                snprintf(why, sizeof why, "no NVIDIA GPU was found");
            fprintf(stderr, "joules sweep: %s: using the simulated GPU (SIMULATED figures)\n", why);
            cli_close_monitor(&cm);
            src.sim = 1;
            if (cli_open_monitor(CMD, &src, &cm) != 0)
                goto done_nomon;
        }
    }
    if (executor < 0)
        executor = cm.used_sim ? AB_EXEC_SIM : AB_EXEC_CUDA;
    if (p.workload == SWEEP_WL_PRODUCT && executor == AB_EXEC_CUDA &&
        !ab_cuda_available(why, sizeof why)) {
        fprintf(stderr, "joules sweep: --executor cuda: %s\n", why);
        goto done;
    }
    p.ops = executor == AB_EXEC_SIM ? &ab_exec_sim_ops : &ab_exec_cuda_ops;
    p.setup.m = cm.m;
    p.setup.n = w.n > 0 ? (int)w.n : 8192;
    p.setup.sim_library = cm.used_sim ? cm.sim_library : NULL;
    p.setup.gpu_domain = cli_gpu_domain(cm.m, (int)w.gpu);
    if (p.setup.gpu_domain < 0) {
        fprintf(stderr, "joules sweep: no GPU %d to sweep (%d GPU%s found)\n", (int)w.gpu,
                cli_count_gpus(cm.m, 0), cli_count_gpus(cm.m, 0) == 1 ? "" : "s");
        if (!cm.used_sim)
            cli_print_sim_hint(stderr, CMD);
        goto done;
    }
    if (!have_spec && default_clocks(cm.m, p.setup.gpu_domain, &p) != 0) {
        fprintf(stderr, "joules sweep: the GPU does not report its maximum clock: give --clocks\n");
        goto done;
    }
    joules_gpu_status st0;
    double limit0 = NAN;
    if (joules_gpu_status_get(cm.m, p.setup.gpu_domain, &st0) == 0)
        limit0 = st0.power_limit_w > 0 ? st0.power_limit_w : st0.power_limit_default_w;
    if (p.mode == SWEEP_LIMITS && !(limit0 > 0)) {
        fprintf(stderr, "joules sweep: the GPU does not report its power limit, so it could not "
                        "be restored: nothing was changed\n");
        goto done;
    }
    /* A limit the board refuses is said now, with its range, not as a refused privilege. */
    for (int i = 0; p.mode == SWEEP_LIMITS && i < p.n_steps; i++)
        if (st0.power_limit_min_w > 0 && st0.power_limit_max_w > 0 &&
            (p.settings[i] < st0.power_limit_min_w - 0.5 ||
             p.settings[i] > st0.power_limit_max_w + 0.5)) {
            fprintf(stderr,
                    "joules sweep: --power-limits: %g W is outside what this GPU allows "
                    "(%g to %g W); nothing was changed\n",
                    p.settings[i], st0.power_limit_min_w, st0.power_limit_max_w);
            status = CLI_EXIT_USAGE;
            goto done;
        }
    rep.profile = cli_sim_profile_name(&src, &cm);
    load_baseline(cm.m, p.setup.gpu_domain, &rep.baseline, p.progress);
    char command[1024] = "";
    if (p.workload == SWEEP_WL_COMMAND)
        join_command(p.argv, command, sizeof command);
    rep.command = command;
    if (p.progress)
        fprintf(stderr, "joules sweep: %d step%s of %s%s\n", p.n_steps, p.n_steps == 1 ? "" : "s",
                p.mode == SWEEP_CLOCKS ? "locked clocks" : "power limits",
                cm.used_sim ? " on the simulated GPU (SIMULATED)" : "");

    int run_rc = sweep_run(&p, &res, err, sizeof err);
    rep.restored = res.changed ? restore(&p, cm.m, limit0) : -1;
    if (res.refused && res.refused != JOULES_E_PERMISSION) {
        fprintf(stderr, "joules sweep: %s; nothing was measured\n", err);
        goto done;
    }
    if (res.refused) {
        fprintf(stderr, "joules sweep: %s\n", err);
        fprintf(stderr,
                "%s needs privilege: root on a real GPU (sudo joules sweep ...). The "
                "simulated GPU allows it as root or with JOULES_SIM_PRIVILEGED=1. Nothing "
                "was measured.\n",
                p.mode == SWEEP_CLOCKS ? "Locking clocks" : "Setting the power limit");
        goto done;
    }
    if (run_rc != 0 && !cli_stop_signal)
        fprintf(stderr, "joules sweep: %s\n", err);
    rep.p = &p;
    rep.r = &res;
    rep.signal = cli_stop_signal;
    rep.failure = run_rc != 0 && !cli_stop_signal ? err : NULL;
    sweep_analyze(&rep);
    sweep_report_table(stdout, &rep);
    fflush(stdout);
    status = run_rc != 0 || rep.restored == 0 ? CLI_EXIT_FAILURE : 0;
    if (j_open) {
        char e2[512];
        if (sweep_report_json(jout.f, &rep) != 0 ||
            joules_atomic_commit(&jout, e2, sizeof e2) != 0) {
            fprintf(stderr, "joules sweep: --json %s: not written\n", json);
            joules_atomic_abort(&jout);
            status = CLI_EXIT_FAILURE;
        } else if (res.n_steps_done < p.n_steps) {
            fprintf(stderr, "joules sweep: partial results (%d of %d steps) saved to %s\n",
                    res.n_steps_done, p.n_steps, json);
        }
        j_open = 0;
    }
    if (svg && res.n_steps_done > 0) {
        char e2[512];
        if (sweep_report_svg(svg, &rep, e2, sizeof e2) != 0) {
            fprintf(stderr, "joules sweep: --svg: %s\n", e2);
            status = CLI_EXIT_FAILURE;
        }
    }
    if (cli_stop_signal)
        status = 128 + cli_stop_signal;
done:
    cli_close_monitor(&cm);
done_nomon:
    if (j_open)
        joules_atomic_abort(&jout);
    cli_stop_restore(&stop);
    if (cli_stop_signal && status == CLI_EXIT_FAILURE)
        status = 128 + cli_stop_signal;
    /* p, res and rep are static for their size only; nothing reads them after this return, so
     * the addresses of locals they keep are never used. */
    return status; // NOLINT(clang-analyzer-core.StackAddressEscape)
}
