/* SPDX-License-Identifier: MIT */
/*
 * cmd_repeat.c - `joules repeat -- CMD ...`: the energy of one run of a short command, from
 * many runs in groups started at shifted phases of the sensors' update period
 * (joules_repeat), so that part-time power sensors and coarse counters average out.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cli/cli_sampling.h"
#include "cli/cli_signal.h"
#include "cli/cli_impact.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "io/atomic.h"
#include "io/json.h"
#include "io/report.h"

extern char **environ;

enum { OPT_GROUPS = 0x200, OPT_MIN_TIME, OPT_RUNS, OPT_SETTLE };

static void help(FILE *f)
{
    fputs("Usage: joules repeat [OPTIONS] [--] COMMAND [ARGS...]\n\n"
          "Energy of ONE run of a short command, measured over many runs. Power sensors of\n"
          "recent NVIDIA GPUs average only 25 ms of every 100 ms and energy counters step every\n"
          "~100 ms, so a command of a few milliseconds cannot be measured once. joules repeat\n"
          "runs it in groups whose starts are shifted by a fraction of the update period,\n"
          "drops the runs of each group during which the sensors settle, measures the rest\n"
          "and divides by the runs kept (after Yang, Adamek and Armour, SC24). Each group's\n"
          "end is anchored on a counter step while the command keeps running, unmeasured.\n\n"
          "Options:\n"
          "  --groups N        phase-shifted groups (default 4)\n"
          "  --min-time DUR    least measured time in all (default 2s)\n"
          "  --runs N          measured runs in all (default: enough for --min-time)\n"
          "  --settle DUR      time dropped at the start of each group (default: one update\n"
          "                    period of the slowest counter, 100 ms on NVIDIA GPUs)\n"
          "  --json FILE       also write the result as JSON (schema joules.repeat/1)\n"
          "  --sim [PROFILE]   measure on the simulated GPU (see joules run --help)\n"
          "  --scenario FILE   simulated GPU under a known load; implies --sim\n"
          "  -q, --quiet       no table\n"
          "  -h, --help        this help\n\n"
          "The command's output goes where joules' goes. A run that exits non-zero stops the\n"
          "measurement: joules repeat then exits with that status and writes no report.\n"
          "Ctrl-C stops after the current run (exit 130).\n\n"
          "Examples:\n"
          "  joules repeat -- ./kernel --size 512\n"
          "  joules repeat --groups 8 --min-time 5s --json k.json -- python3 step.py\n\n",
          f);
    fputs(cli_impact_help_work, f);
    fputs(cli_impact_help_site, f);
}

struct child_work {
    char **cmd;
    int runs;
    int last_status;
    int not_started; /* the command could not be started (said already) */
};

static int run_once(void *user)
{
    struct child_work *w = user;
    if (cli_stop_signal)
        return -1;
    pid_t pid;
    int rc = posix_spawnp(&pid, w->cmd[0], NULL, NULL, w->cmd, environ);
    if (rc != 0) {
        w->last_status = rc == ENOENT ? 127 : 126;
        w->not_started = 1;
        fprintf(stderr, "joules repeat: cannot start %s: %s\n", w->cmd[0], strerror(rc));
        return w->last_status;
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return 126;
    w->runs++;
    w->last_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return w->last_status;
}

static int parse_count(const char *cmd, const char *opt, const char *text, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (end == text || *end || errno || v < lo || v > hi)
        return cli_usage_error(cmd, "%s: '%s' is not a whole number in %d..%d", opt, text, lo, hi);
    *out = (int)v;
    return 0;
}

static void print_table(const joules_repeat_result *r, const joules_domain_info *info, char **cmd)
{
    const joules_measurement *m = &r->per_rep;
    char text[72];
    int argc = 0;
    while (cmd[argc])
        argc++;
    joules_format_command(text, sizeof text, cmd, argc);
    fprintf(stderr, "\n Energy of ONE run of: %s%s\n", text, m->simulated ? "   (SIMULATED)" : "");
    fprintf(stderr,
            "   %d runs measured in %d phase-shifted groups (%d run in all), %.6f s per run\n\n",
            r->repetitions_kept, r->groups, r->repetitions_run, r->time_per_rep_s);
    fprintf(stderr, "   %-9s %-34s %14s %12s %11s  %s\n", "domain", "device", "energy/run",
            "+/- (95 %)", "avg power", "method");
    for (int i = 0; i < m->n_domains; i++) {
        const joules_domain_energy *e = &m->domains[i];
        const joules_domain_info *d = &info[i];
        if (!e->valid) {
            fprintf(stderr, "   %-9s %-34.34s %14s  %s\n", d->name, d->device, "unavailable",
                    e->message);
            continue;
        }
        fprintf(stderr, "   %-9s %-34.34s %12.6f J %10.6f J %9.2f W  %s%s\n", d->name, d->device,
                e->energy_j, e->uncertainty_j, e->avg_power_w, joules_method_name(e->method),
                e->simulated ? "  SIMULATED" : "");
    }
    if (m->n_domains > 1)
        fprintf(stderr, "   %-44s %12.6f J %10.6f J\n", "total (disjoint domains)",
                m->total_energy_j, m->total_uncertainty_j);
    if (m->simulated)
        fprintf(stderr, "\n   SIMULATED: figures from the simulated GPU (a physics model run by "
                        "joules), not a sensor.\n");
}

/* Efficiency and emissions of one run (--flops: the work of one run), after the table. */
static void report_impact(const struct cli_impact_opts *o, const struct cli_impact *ci,
                          joules_monitor *m, const joules_measurement *per_rep,
                          const joules_domain_info *info, int n_info, int quiet)
{
    if (!o->given && !ci->grid.set) {
        if (!quiet)
            cli_impact_hint(stderr, "repeat");
        return;
    }
    static struct cli_impact_job job;
    cli_impact_job_from_run(&job, ci, m, per_rep, info, n_info, o->flops, o->precision);
    snprintf(job.subject, sizeof job.subject, "one run");
    cli_impact_compute(ci, &job);
    if (!quiet)
        cli_impact_print(stderr, ci, &job, 1);
    (void)cli_impact_write(o, ci, "repeat", &job, 1);
}

static int write_json(FILE *f, const joules_repeat_result *r, const joules_domain_info *info,
                      char **cmd, int argc)
{
    const joules_measurement *m = &r->per_rep;
    joules_json j;
    joules_json_init(&j, f, 1);
    joules_json_object_begin(&j);
    joules_json_kv_string(&j, "schema", "joules.repeat/1");
    joules_json_kv_string(&j, "joules_version", joules_version());
    joules_json_kv_bool(&j, "simulated", m->simulated);
    joules_json_key(&j, "command");
    joules_json_array_begin(&j);
    for (int i = 0; i < argc; i++)
        joules_json_string(&j, cmd[i]);
    joules_json_array_end(&j);
    joules_json_kv_int(&j, "groups", r->groups);
    joules_json_kv_int(&j, "runs_measured", r->repetitions_kept);
    joules_json_kv_int(&j, "runs_total", r->repetitions_run);
    joules_json_kv_number(&j, "time_per_run_s", r->time_per_rep_s);
    joules_json_key(&j, "domains");
    joules_json_array_begin(&j);
    for (int i = 0; i < m->n_domains; i++) {
        const joules_domain_energy *e = &m->domains[i];
        joules_json_object_begin(&j);
        joules_json_kv_string(&j, "name", info[i].name);
        joules_json_kv_string(&j, "kind", joules_kind_name(info[i].kind));
        joules_json_kv_string(&j, "device", info[i].device);
        joules_json_kv_bool(&j, "simulated", e->simulated);
        joules_json_kv_string(&j, "method", joules_method_name(e->method));
        joules_json_kv_bool(&j, "valid", e->valid);
        joules_json_kv_number(&j, "energy_per_run_j", e->valid ? e->energy_j : NAN);
        joules_json_kv_number(&j, "energy_uncertainty_j", e->valid ? e->uncertainty_j : NAN);
        joules_json_kv_number(&j, "avg_power_w", e->valid ? e->avg_power_w : NAN);
        joules_json_kv_string(&j, "message", e->message);
        if (e->simulated)
            joules_json_kv_number(&j, "simulator_true_energy_per_run_j",
                                  e->sim_truth_j >= 0 ? e->sim_truth_j : NAN);
        joules_json_object_end(&j);
    }
    joules_json_array_end(&j);
    joules_json_kv_number(&j, "total_energy_per_run_j", m->total_energy_j);
    joules_json_kv_number(&j, "total_uncertainty_j", m->total_uncertainty_j);
    joules_json_object_end(&j);
    return joules_json_finish(&j);
}

int cmd_repeat(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"groups", required_argument, NULL, OPT_GROUPS},
        {"min-time", required_argument, NULL, OPT_MIN_TIME},
        {"runs", required_argument, NULL, OPT_RUNS},
        {"settle", required_argument, NULL, OPT_SETTLE},
        {"json", required_argument, NULL, CLI_OPT_JSON},
        {"sim", optional_argument, NULL, CLI_OPT_SIM},
        {"scenario", required_argument, NULL, CLI_OPT_SCENARIO},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        CLI_IMPACT_SITE_OPTIONS,
        CLI_IMPACT_WORK_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    struct cli_impact_opts impact_opts;
    cli_impact_opts_init(&impact_opts);
    struct cli_source src = {0};
    joules_repeat_options ro;
    joules_repeat_options_init(&ro);
    const char *json = NULL;
    int quiet = 0, c, rc;
    int64_t ns;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:hq", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            help(stdout);
            return 0;
        case 'q':
            quiet = 1;
            break;
        case OPT_GROUPS:
            if ((rc = parse_count("repeat", "--groups", optarg, 1, 64, &ro.groups)))
                return rc;
            break;
        case OPT_RUNS:
            if ((rc = parse_count("repeat", "--runs", optarg, 1, 10000000, &ro.repetitions)))
                return rc;
            break;
        case OPT_MIN_TIME:
            if ((rc = cli_parse_duration("repeat", "--min-time", optarg, 1000000LL,
                                         86400000000000LL, &ns)))
                return rc;
            ro.min_time_s = (double)ns * 1e-9;
            break;
        case OPT_SETTLE:
            if ((rc = cli_parse_duration("repeat", "--settle", optarg, 1000000LL, 60000000000LL,
                                         &ns)))
                return rc;
            ro.settle_s = (double)ns * 1e-9;
            break;
        case CLI_OPT_JSON:
            if ((rc = cli_check_output_name("repeat", "--json", optarg)))
                return rc;
            json = optarg;
            break;
        case CLI_OPT_SIM:
            if ((rc = cli_take_sim_option(&src, "repeat", 0, argc, argv)))
                return rc;
            break;
        case CLI_OPT_SCENARIO:
            if ((rc = cli_take_scenario_option(&src, "repeat", optarg)))
                return rc;
            break;
        default:
            if ((rc = cli_impact_take(&impact_opts, "repeat", c, optarg)) >= 0) {
                if (rc)
                    return rc;
                break;
            }
            return cli_getopt_error("repeat", c, argv);
        }
    }
    if (optind < argc && strcmp(argv[optind], "--") == 0)
        optind++;
    if (optind >= argc)
        return cli_usage_error("repeat", "no command given (write: joules repeat -- CMD ...)");
    char **cmd = argv + optind;
    int cmd_argc = argc - optind;

    /* The tables and site values are checked before anything runs. */
    static struct cli_impact impact;
    if ((rc = cli_impact_open(&impact, &impact_opts, "repeat")) != 0)
        return rc;
    joules_atomic out;
    char err[512];
    if (json && joules_atomic_open(&out, json, err, sizeof err) != 0) {
        cli_error("--json: %s", err);
        return CLI_EXIT_USAGE;
    }
    struct cli_monitor cm;
    if (cli_open_monitor("repeat", &src, &cm) != 0) {
        if (json)
            joules_atomic_abort(&out);
        return CLI_EXIT_FAILURE;
    }
    int n_info = joules_domain_count(cm.m);
    if (n_info <= 0) {
        fprintf(stderr, "joules repeat: nothing to measure: no GPU and no CPU energy sensor.\n");
        cli_print_backends(stderr, cm.m, "  ");
        cli_print_sim_hint(stderr, "repeat");
        if (json)
            joules_atomic_abort(&out);
        cli_close_monitor(&cm);
        return CLI_EXIT_FAILURE;
    }
    static joules_domain_info info[JOULES_MAX_DOMAINS];
    for (int i = 0; i < n_info; i++)
        joules_domain_info_get(cm.m, i, &info[i]);

    struct cli_stop stop;
    cli_stop_install(&stop);

    struct child_work w = {cmd, 0, 0, 0};
    joules_repeat_result res; /* per_rep's domains on the heap, one per domain */
    joules_domain_energy *res_dom = calloc((size_t)n_info, sizeof *res_dom);
    joules_measurement_init(&res.per_rep, res_dom, res_dom ? n_info : 0);
    rc = res_dom ? joules_repeat(cm.m, run_once, &w, &ro, &res) : JOULES_E_NOMEM;
    cli_stop_restore(&stop);
    int code = 0;
    if (rc != 0) {
        if (cli_stop_signal) {
            fprintf(stderr, "joules repeat: interrupted after %d runs; nothing measured\n", w.runs);
            code = 128 + (int)cli_stop_signal;
        } else if (w.not_started) {
            code = w.last_status;
        } else if (w.last_status) {
            fprintf(stderr, "joules repeat: %s exited with status %d on run %d; stopped\n", cmd[0],
                    w.last_status, w.runs);
            code = w.last_status;
        } else {
            fprintf(stderr, "joules repeat: %s\n",
                    res_dom ? joules_last_error(cm.m) : "out of memory");
            code = CLI_EXIT_FAILURE;
        }
        if (json)
            joules_atomic_abort(&out);
        free(res_dom);
        cli_close_monitor(&cm);
        return code;
    }
    if (!quiet)
        print_table(&res, info, cmd);
    report_impact(&impact_opts, &impact, cm.m, &res.per_rep, info, n_info, quiet);
    cli_impact_close(&impact);
    if (json) {
        if (write_json(out.f, &res, info, cmd, cmd_argc) != 0) {
            cli_error("--json: writing %s failed; no file was written", json);
            joules_atomic_abort(&out);
            code = CLI_EXIT_FAILURE;
        } else if (joules_atomic_commit(&out, err, sizeof err) != 0) {
            cli_error("--json: %s; no file was written", err);
            code = CLI_EXIT_FAILURE;
        }
    }
    free(res_dom);
    cli_close_monitor(&cm);
    return code;
}
