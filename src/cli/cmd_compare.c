/* SPDX-License-Identifier: MIT */
/*
 * cmd_compare.c - `joules compare`: is one command cheaper in energy than another? The
 * options are parsed here (parse_options) and the rest is the compare layer's
 * (src/compare/): the procedure, the statistics, the executor and the reports. This file
 * opens the monitor, wires the signals, prints progress and maps the result to an exit
 * status. docs/compare.md explains the procedure.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_sampling.h"
#include "cli/cli_signal.h"
#include "cli/cli_util.h"
#include "cli/cli_options.h"
#include "cli/commands.h"
#include "compare/compare.h"
#include "util/privdrop.h"

#define CMP_EXIT_GATE 3 /* the gate (--fail-if-more) failed */

static const char compare_help_head[] =
    "Usage: joules compare [OPTIONS] -- CMD_A [ARGS...] ::: CMD_B [ARGS...] [::: ...]\n"
    "       joules compare [OPTIONS] -c 'SHELL COMMAND A' -c 'SHELL COMMAND B' ...\n"
    "       joules compare --baseline saved.json [OPTIONS] -- CMD [ARGS...]\n\n"
    "Is B cheaper than A? Runs the commands in interleaved rounds (ABBA order), each\n"
    "run measured as `joules run` measures it (every GPU, CPU package and DRAM\n"
    "domain), and reports per command the medians of energy, time, average power and\n"
    "energy-delay product with 95 % confidence intervals, the paired ratios against\n"
    "the first command, and a verdict. The table goes to standard error.\n\n"
    "Options:\n";

static const char compare_help_tail[] =
    "\nExamples:\n"
    "  joules compare -- ./bench --batch 32 ::: ./bench --batch 64\n"
    "  joules compare -n fp32 -c 'python3 train.py' -n bf16 -c 'python3 train.py --bf16'\n"
    "  joules compare --runs 10 --fail-if-more 5% --json new.json -- ./old ::: ./new\n"
    "  joules compare --scenario-a scenarios/demo.scn --scenario-b light.scn -- sleep 1 "
    "::: sleep 1\n\n"
    "Static power: after `joules idle`, the dynamic energy (minus the idle baseline x\n"
    "time) is reported too.\n\n"
    "Signals: SIGINT or SIGTERM stops after passing the signal to the run in progress,\n"
    "which is dropped; the table and files report what was measured (exit 130 for\n"
    "Ctrl-C).\n\n"
    "Exit status: 0; 3 when the gate failed; 128+N when stopped by signal N; 127 when\n"
    "a command was not found; 1 when joules failed (no sensor, a measurement or\n"
    "--prepare/--setup failed); 2 on a wrong command line. A command's own non-zero\n"
    "exit status is reported as a warning, not as the status of joules.\n";

enum {
    OPT_COMMAND = CLI_OPT_COMMAND,
    OPT_NAME,
    OPT_WARMUP,
    OPT_RUNS,
    OPT_PRECISION,
    OPT_MAX_TIME,
    OPT_ORDER,
    OPT_SEED,
    OPT_PREPARE,
    OPT_SETUP,
    OPT_SHOW_OUTPUT,
    OPT_FAIL_IF_MORE,
    OPT_BASELINE,
    OPT_SVG,
    OPT_SCENARIO_A, /* ... OPT_SCENARIO_A + 7 */
};

/* clang-format off */
static const struct cli_option compare_options[] = {
    {"command", 'c', required_argument, "CMD", "a command run with /bin/sh -c (repeat for each command)",
     OPT_COMMAND},
    {"name", 'n', required_argument, "NAME", "name of the next command, in order (default A, B, C, ...)",
     OPT_NAME},
    {"warmup", 'w', required_argument, "N", "unmeasured runs of each command first (default 1)",
     OPT_WARMUP},
    {"runs", 'r', required_argument, "N",
     "rounds (one run of each command per round); without it,\n"
     "rounds go on until every energy ratio's 95 % interval\n"
     "lies within +/- --precision of its median (at least 6)", OPT_RUNS},
    {"precision", 0, required_argument, "P", "e.g. 2% (default 2%; a bare number is a percentage)",
     OPT_PRECISION},
    {"max-time", 0, required_argument, "DUR", "stop adding rounds after DUR (default 60s; e.g. 5min)",
     OPT_MAX_TIME},
    {"order", 0, required_argument, "ORDER",
     "abba or random: the order within rounds (default abba);\nrandom is seeded (--seed)", OPT_ORDER},
    {"seed", 0, required_argument, "S", "seed of --order random (default 1)", OPT_SEED},
    {"prepare", 0, required_argument, "CMD",
     "shell command before every run (warm-up included),\nnot measured (e.g. to drop caches)",
     OPT_PREPARE},
    {"setup", 0, required_argument, "CMD", "shell command once before everything, not measured",
     OPT_SETUP},
    {"show-output", 0, no_argument, NULL,
     "let the commands write to the terminal (default: their\noutput goes to /dev/null)",
     OPT_SHOW_OUTPUT},
    {"fail-if-more", 0, required_argument, "P",
     "exit 3 when B (every command after the first, or the\n"
     "command against --baseline) uses more than P more energy,\n"
     "judged on the interval: its lower bound must exceed 1+P", OPT_FAIL_IF_MORE},
    {"baseline", 0, required_argument, "FILE",
     "compare against the first command of a saved --json result\n"
     "(unpaired: the runs are of another time)", OPT_BASELINE},
    CLI_OPTION_JSON("the result as JSON (schema joules.compare/1)"),
    CLI_OPTION_CSV("one CSV row per run (schema joules.compare.csv/1)"),
    {"svg", 0, required_argument, "FILE", "bars with intervals, every run as a point", OPT_SVG},
    CLI_OPTION_SIM("measure on the simulated GPU (as joules run --sim)\n" CLI_HELP_PROFILES),
    CLI_OPTION_SCENARIO("the simulated GPU's load for every command; implies --sim"),
    {"scenario-a", 0, required_argument, "FILE",
     "the simulated GPU's load while command A runs, so that\n"
     "the comparison has a known truth; implies --sim", OPT_SCENARIO_A},
    {"scenario-b", 0, required_argument, "FILE", "the same for command B", OPT_SCENARIO_A + 1},
    {"scenario-c", 0, required_argument, "FILE", "the same for command C", OPT_SCENARIO_A + 2},
    {"scenario-d", 0, required_argument, "FILE", "the same for command D", OPT_SCENARIO_A + 3},
    {"scenario-e", 0, required_argument, "FILE", "the same for command E", OPT_SCENARIO_A + 4},
    {"scenario-f", 0, required_argument, "FILE", "the same for command F", OPT_SCENARIO_A + 5},
    {"scenario-g", 0, required_argument, "FILE", "the same for command G", OPT_SCENARIO_A + 6},
    {"scenario-h", 0, required_argument, "FILE", "the same for command H", OPT_SCENARIO_A + 7},
    CLI_OPTION_QUIET("no progress lines and no table (errors still reported)"),
    CLI_OPTION_HELP,
    CLI_OPTION_AS_ROOT,
    CLI_OPTIONS_END,
};
/* clang-format on */

struct compare_opts {
    struct cli_common com; /* --sim, --scenario, --json, --csv, --quiet */
    const char *shell[CMP_MAX_CMDS];
    int n_shell;
    const char *names[CMP_MAX_CMDS];
    int n_names;
    const char *scenario_of[CMP_MAX_CMDS];
    long warmup, runs;
    double precision, fail_if_more;
    int64_t max_time_ns;
    int order;
    unsigned long long seed;
    const char *prepare, *setup, *baseline, *svg;
    int show_output;
};

/* A percentage: "5%", "5" (a percentage too) or "0.5%"; out as a fraction. */
static int parse_percent(const char *opt, const char *v, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || errno || !(x >= 0 && x < 1000) || (*end && strcmp(end, "%") != 0))
        return cli_usage_error("compare", "%s: '%s' is not a percentage (e.g. 5%%)", opt, v);
    *out = x / 100;
    return 0;
}

/* One of compare's own options: 0, or the exit status after the message. */
static int compare_take(void *ctx, int id, const char *v)
{
    struct compare_opts *o = ctx;
    long lv;
    int rc;
    switch (id) {
    case OPT_COMMAND:
        if (o->n_shell >= CMP_MAX_CMDS)
            return cli_usage_error("compare", "at most %d commands", CMP_MAX_CMDS);
        o->shell[o->n_shell++] = v;
        return 0;
    case OPT_NAME:
        if (o->n_names >= CMP_MAX_CMDS)
            return cli_usage_error("compare", "at most %d names", CMP_MAX_CMDS);
        if (!*v || strlen(v) > 40)
            return cli_usage_error("compare", "--name: 1 to 40 characters");
        o->names[o->n_names++] = v;
        return 0;
    case OPT_WARMUP:
        return cli_parse_long("compare", "--warmup", v, 0, 100, &o->warmup);
    case OPT_RUNS:
        return cli_parse_long("compare", "--runs", v, 1, 100000, &o->runs);
    case OPT_PRECISION:
        if ((rc = parse_percent("--precision", v, &o->precision)))
            return rc;
        return o->precision > 0 ? 0 : cli_usage_error("compare", "--precision must be above 0");
    case OPT_MAX_TIME:
        return cli_parse_duration("compare", "--max-time", v, 1000000LL, 86400000000000LL,
                                  &o->max_time_ns);
    case OPT_ORDER:
        if (strcmp(v, "abba") != 0 && strcmp(v, "random") != 0)
            return cli_usage_error("compare", "--order: 'abba' or 'random', not '%s'", v);
        o->order = strcmp(v, "random") == 0 ? CMP_ORDER_RANDOM : CMP_ORDER_ABBA;
        return 0;
    case OPT_SEED:
        if ((rc = cli_parse_long("compare", "--seed", v, 0, 0x7fffffffL, &lv)))
            return rc;
        o->seed = (unsigned long long)lv;
        return 0;
    case OPT_PREPARE:
        o->prepare = v;
        return 0;
    case OPT_SETUP:
        o->setup = v;
        return 0;
    case OPT_SHOW_OUTPUT:
        o->show_output = 1;
        return 0;
    case OPT_FAIL_IF_MORE:
        return parse_percent("--fail-if-more", v, &o->fail_if_more);
    case OPT_BASELINE:
        o->baseline = v;
        return 0;
    case OPT_SVG:
        if ((rc = cli_check_output_name("compare", "--svg", v)))
            return rc;
        o->svg = v;
        return 0;
    default:
        if (id >= OPT_SCENARIO_A && id < OPT_SCENARIO_A + CMP_MAX_CMDS) {
            struct cli_source probe = {0};
            if ((rc = cli_take_scenario_option(&probe, "compare", v)))
                return rc;
            o->scenario_of[id - OPT_SCENARIO_A] = v;
            o->com.src.sim = 1;
        }
        return 0;
    }
}

static const struct cli_command_spec compare_spec = {
    .name = "compare",
    .help_head = compare_help_head,
    .options = compare_options,
    .help_tail = compare_help_tail,
    .take = compare_take,
};

/* All the options; optind is left at the first word after them. 0, or nonzero when the
 * command ends now with *status. */
static int parse_options(int argc, char **argv, struct compare_opts *o, int *status)
{
    o->com.src.settle_end = 1;
    o->warmup = 1;
    o->precision = 0.02;
    o->fail_if_more = -1;
    o->max_time_ns = 60000000000LL;
    o->seed = 1;
    return cli_options_parse(&compare_spec, &o->com, o, argc, argv, status);
}

struct compare_state {
    struct compare_opts o;
    struct cmp_command cmds[CMP_MAX_CMDS];
    char *text[CMP_MAX_CMDS];     /* each command as text, for the reports */
    char *scenario[CMP_MAX_CMDS]; /* the scenario text in force while it runs */
    char letter[CMP_MAX_CMDS][2];
    int n_cmds;
};

/* The argv form: words after the options, commands separated by ":::". */
static int split_commands(struct compare_state *st, int argc, char **argv)
{
    struct compare_opts *o = &st->o;
    int n = 0;
    if (o->n_shell) {
        if (optind < argc)
            return cli_usage_error("compare", "give the commands either with -c or after --, "
                                              "not both");
        for (int k = 0; k < o->n_shell; k++)
            st->cmds[n++].shell = o->shell[k];
    } else {
        int start = optind;
        for (int i = optind; i <= argc; i++) {
            if (i < argc && strcmp(argv[i], ":::") != 0)
                continue;
            if (i == start)
                return cli_usage_error("compare", "an empty command (two ':::' in a row, or "
                                                  "one at an end)");
            if (n >= CMP_MAX_CMDS)
                return cli_usage_error("compare", "at most %d commands", CMP_MAX_CMDS);
            st->cmds[n].argv = argv + start;
            if (i < argc)
                argv[i] = NULL; /* ends the previous command's argv */
            n++;
            start = i + 1;
        }
    }
    int need = o->baseline ? 1 : 2;
    if (n < need)
        return cli_usage_error("compare",
                               "%s (joules compare [OPTIONS] -- CMD_A ::: CMD_B, or -c 'A' -c "
                               "'B'; one command with --baseline FILE)",
                               n ? "only one command to compare" : "no command to compare");
    if (o->n_names > n)
        return cli_usage_error("compare", "%d names for %d commands", o->n_names, n);
    for (int k = 0; k < CMP_MAX_CMDS; k++)
        if (o->scenario_of[k] && k >= n)
            return cli_usage_error("compare", "--scenario-%c: there is no command %c", 'a' + k,
                                   'A' + k);
    st->n_cmds = n;
    for (int k = 0; k < n; k++) {
        st->letter[k][0] = (char)('A' + k);
        st->cmds[k].name = k < o->n_names ? o->names[k] : st->letter[k];
        for (int i = 0; i < k; i++)
            if (strcmp(st->cmds[i].name, st->cmds[k].name) == 0)
                return cli_usage_error("compare", "two commands are named '%s'", st->cmds[k].name);
        if (!(st->text[k] = cmp_command_text(&st->cmds[k])))
            return CLI_EXIT_FAILURE;
    }
    return 0;
}

/* The scenario text of every command, when any command has its own: each command's load must
 * be in force while it runs, so the others get --scenario's, or an idle GPU. --sim PROFILE
 * names the GPU when a scenario does not. */
static int load_scenarios(struct compare_state *st)
{
    int any = 0;
    for (int k = 0; k < st->n_cmds; k++)
        any |= st->o.scenario_of[k] != NULL;
    if (!any)
        return 0;
    for (int k = 0; k < st->n_cmds; k++) {
        const char *path = st->o.scenario_of[k] ? st->o.scenario_of[k] : st->o.com.src.scenario;
        char err[CMP_ERR_MAX];
        char *t = cmp_scenario_text(path, st->o.com.src.profile, err, sizeof err);
        if (!t) {
            fprintf(stderr, "joules compare: %s\n", err);
            return CLI_EXIT_USAGE;
        }
        st->scenario[k] = t;
        st->cmds[k].scenario_text = t;
    }
    /* The monitor opens on the first command's load. */
    if (!st->o.com.src.scenario)
        st->o.com.src.scenario = st->o.scenario_of[0];
    return 0;
}

struct progress_ctx {
    const struct compare_state *st;
    int quiet;
};

static void on_progress(void *user, const struct cmp_event *ev)
{
    const struct progress_ctx *pc = user;
    if (pc->quiet)
        return;
    const char *name = ev->cmd >= 0 ? pc->st->cmds[ev->cmd].name : "";
    if (ev->kind == CMP_EV_WARMUP)
        fprintf(stderr, "joules compare: warm-up run of %s\n", name);
    else if (ev->kind == CMP_EV_RUN) {
        const struct cmp_run *r = ev->run;
        if (r->energy_valid)
            fprintf(stderr, "  round %-3d %-8s %10.4g J %10.4g s %9.4g W   exit %d\n",
                    ev->round + 1, name, r->energy_j, r->time_s,
                    r->time_s > 0 ? r->energy_j / r->time_s : NAN, r->exit_status);
        else
            fprintf(stderr, "  round %-3d %-8s %10s   %10.4g s   exit %d (%s)\n", ev->round + 1,
                    name, "no energy", r->time_s, r->exit_status, r->note);
    } else if (ev->kind == CMP_EV_ROUND && isfinite(ev->widest_ratio_rel) && ev->round > 0)
        fprintf(stderr, "  after %d rounds: energy ratio within +/- %.2f %% (%.1f %% confidence)\n",
                ev->round + 1, 100 * ev->widest_ratio_rel, 100 * ev->ratio_coverage);
}

static void free_state(struct compare_state *st)
{
    for (int k = 0; k < CMP_MAX_CMDS; k++) {
        free(st->text[k]);
        free(st->scenario[k]);
    }
}

/* Measure, summarise, report; the monitor is open. */
static int measure_and_report(struct compare_state *st, struct cli_monitor *cm,
                              const struct cmp_baseline *bl)
{
    struct compare_opts *o = &st->o;
    struct cmp_files outs = {.json = o->com.json, .csv = o->com.csv, .svg = o->svg};
    char err[CMP_ERR_MAX];
    int rc = 0;
    static struct util_drop drop; /* under sudo, the commands run as the invoking user */
    if (util_drop_plan(&drop, o->com.as_root, err, sizeof err) != 0) {
        fprintf(stderr, "joules compare: %s; --as-root runs the commands as root\n", err);
        return CLI_EXIT_FAILURE;
    }
    if (cmp_files_open(&outs, err, sizeof err) != 0) {
        fprintf(stderr, "joules compare: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    int n_info = joules_domain_count(cm->m);
    static joules_domain_info info[JOULES_MAX_DOMAINS];
    double base_w[JOULES_MAX_DOMAINS];
    for (int i = 0; i < n_info && i < JOULES_MAX_DOMAINS; i++)
        joules_domain_info_get(cm->m, i, &info[i]);
    struct cli_baselines *bls = cli_baselines_load(cm->m, info, n_info);
    for (int i = 0; i < JOULES_MAX_DOMAINS; i++)
        base_w[i] = bls && i < n_info && bls->have[i] ? bls->b[i].power_w : NAN;
    free(bls);

    struct cmp_exec_setup es = {
        .m = cm->m,
        .cmds = st->cmds,
        .n_cmds = st->n_cmds,
        .prepare = o->prepare,
        .setup = o->setup,
        .show_output = o->show_output,
        .baseline_power_w = base_w,
        .sim_library = cm->used_sim ? cm->sim_library : NULL,
        .stop = &cli_stop_signal,
        .drop = &drop,
    };
    struct cmp_exec *x;
    if (cmp_exec_open(&x, &es, err, sizeof err) != 0) {
        fprintf(stderr, "joules compare: %s\n", err);
        cmp_files_abort(&outs);
        return CLI_EXIT_FAILURE;
    }
    struct progress_ctx pc = {st, o->com.quiet};
    struct cmp_params p = {
        .n_cmds = st->n_cmds,
        .warmup = (int)o->warmup,
        .runs = (int)(o->runs           ? o->runs
                      : st->n_cmds == 1 ? 10
                                        : 0),
        .precision = o->precision,
        .max_time_s = (double)o->max_time_ns * 1e-9,
        .order = o->order,
        .seed = o->seed,
        .level = 0.95,
        .ops = &cmp_exec_ops,
        .ctx = x,
        .progress = on_progress,
        .progress_user = &pc,
        .stop = &cli_stop_signal,
    };
    struct cmp_result res;
    int run_rc = cmp_run(&p, &res, err, sizeof err);
    int stopped = cli_stop_signal;
    if (run_rc != 0 && !stopped)
        fprintf(stderr, "joules compare: %s\n", err);
    if (res.n_runs == 0) {
        if (!stopped && run_rc == 0)
            fprintf(stderr, "joules compare: nothing was measured\n");
        cmp_files_abort(&outs);
        int not_found = cmp_exec_not_found(x);
        cmp_exec_close(x);
        cmp_result_free(&res);
        if (stopped)
            return 128 + stopped;
        return not_found ? 127 : CLI_EXIT_FAILURE;
    }
    struct cmp_summary s;
    cmp_summarize(&res, bl, 0.95, &s);
    const char *names[CMP_MAX_CMDS], *texts[CMP_MAX_CMDS];
    for (int k = 0; k < st->n_cmds; k++) {
        names[k] = st->cmds[k].name;
        texts[k] = st->text[k];
    }
    char source[1024];
    cmp_exec_energy_source(x, source, sizeof source);
    struct cmp_output rep = {
        .p = &p,
        .r = &res,
        .s = &s,
        .names = names,
        .command = texts,
        .baseline = bl,
        .energy_source = source,
        .simulated = cm->used_sim,
        .has_dynamic = cmp_exec_has_dynamic(x),
        .precision = o->precision,
        .fail_if_more = o->fail_if_more,
        .signal = stopped,
        .failure = run_rc != 0 && !stopped ? err : NULL,
    };
    if (o->fail_if_more >= 0) {
        for (int k = 1; k < st->n_cmds; k++)
            rep.gate_failed |= cmp_gate_fails(&s.ratio[k][CMP_Q_ENERGY], o->fail_if_more);
        for (int k = 0; bl && k < st->n_cmds; k++)
            rep.gate_failed |= cmp_gate_fails(&s.vs_baseline[k][CMP_Q_ENERGY], o->fail_if_more);
    }
    if (!o->com.quiet || rep.failure || stopped)
        cmp_output_table(stderr, &rep);
    char werr[1024];
    if (cmp_files_write(&outs, &rep, werr, sizeof werr) != 0) {
        fprintf(stderr, "%s", werr);
        rc = CLI_EXIT_FAILURE;
    }
    int not_found = cmp_exec_not_found(x);
    cmp_exec_close(x);
    cmp_result_free(&res);
    if (stopped)
        return 128 + stopped;
    if (run_rc != 0)
        return not_found ? 127 : CLI_EXIT_FAILURE;
    if (rc)
        return rc;
    return rep.gate_failed ? CMP_EXIT_GATE : 0;
}

int cmd_compare(int argc, char **argv)
{
    struct compare_state st;
    memset(&st, 0, sizeof st);
    int rc;
    if (parse_options(argc, argv, &st.o, &rc) != 0)
        return rc;
    for (int k = 0; k < CMP_MAX_CMDS; k++)
        if (st.o.scenario_of[k]) {
            /* A scenario per command reconfigures the simulator between runs, which only a
             * model of this process's own allows (a shared machine keeps its boot's). */
            setenv("JOULES_SIM_MACHINE", "private", 1);
            break;
        }
    if ((rc = split_commands(&st, argc, argv)) || (rc = load_scenarios(&st))) {
        free_state(&st);
        return rc;
    }
    const char *files[] = {st.o.com.json, st.o.com.csv, st.o.svg};
    for (int i = 0; i < 3; i++)
        for (int k = i + 1; k < 3; k++)
            if (files[i] && files[k] && strcmp(files[i], files[k]) == 0 &&
                strcmp(files[i], "-") != 0) {
                free_state(&st);
                return cli_usage_error("compare", "two output options name the same file '%s'",
                                       files[i]);
            }
    struct cmp_baseline bl, *blp = NULL;
    if (st.o.baseline) {
        char err[CMP_ERR_MAX];
        if (cmp_baseline_load(st.o.baseline, &bl, err, sizeof err) != 0) {
            fprintf(stderr, "joules compare: --baseline: %s\n", err);
            free_state(&st);
            return CLI_EXIT_USAGE;
        }
        blp = &bl;
    }
    /* Signals are blocked before the monitor starts its threads, so they inherit the mask
     * and only this thread takes them: its wait for a command is then interrupted. */
    sigset_t set, orig;
    cli_stop_block(&set, &orig);
    struct cli_monitor cm;
    if (cli_open_monitor("compare", &st.o.com.src, &cm) != 0) {
        cli_stop_unblock(&orig);
        rc = CLI_EXIT_FAILURE;
    } else if (joules_domain_count(cm.m) <= 0) {
        cli_print_no_sensor("compare",
                            "nothing to measure: no GPU and no CPU energy sensor was "
                            "found, so no command was run.",
                            cm.m);
        cli_close_monitor(&cm);
        cli_stop_unblock(&orig);
        rc = CLI_EXIT_FAILURE;
    } else {
        struct cli_stop stop;
        cli_stop_install(&stop);
        cli_stop_unblock(&orig);
        rc = measure_and_report(&st, &cm, blp);
        cli_stop_block(&set, NULL);
        cli_stop_restore(&stop);
        cli_close_monitor(&cm);
        cli_stop_unblock(&orig);
    }
    if (blp)
        cmp_baseline_free(blp);
    free_state(&st);
    return rc;
}
