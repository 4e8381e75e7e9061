/* SPDX-License-Identifier: MIT */
/*
 * cmd_repeat.c - `joules repeat -- CMD ...`: the energy of one run of a short command, from
 * many runs in groups started at shifted phases of the sensors' update period
 * (joules_repeat), so that part-time power sensors and coarse counters average out.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli_impact.h"
#include "cli/cli_options.h"
#include "cli/cli_sampling.h"
#include "cli/cli_signal.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "io/atomic.h"
#include "io/json.h"
#include "io/run_output.h"
#include "util/privdrop.h"

extern char **environ;

enum { OPT_GROUPS = CLI_OPT_COMMAND, OPT_MIN_TIME, OPT_RUNS, OPT_SETTLE };

static const char repeat_help_head[] =
    "Usage: joules repeat [OPTIONS] [--] COMMAND [ARGS...]\n\n"
    "Energy of ONE run of a short command, measured over many runs. Power sensors of\n"
    "recent NVIDIA GPUs average only 25 ms of every 100 ms and energy counters step every\n"
    "~100 ms, so a command of a few milliseconds cannot be measured once. joules repeat\n"
    "runs it in groups whose starts are shifted by a fraction of the update period,\n"
    "drops the runs of each group during which the sensors settle, measures the rest\n"
    "and divides by the runs kept (after Yang, Adamek and Armour, SC24). Each group's\n"
    "end is anchored on a counter step while the command keeps running, unmeasured.\n\n"
    "Options:\n";

static const char repeat_help_tail[] =
    "\nThe command's output goes where joules' goes. A run that exits non-zero stops the\n"
    "measurement: joules repeat then exits with that status and writes no report.\n"
    "Ctrl-C stops after the current run (exit 130).\n\n"
    "Examples:\n"
    "  joules repeat -- ./kernel --size 512\n"
    "  joules repeat --groups 8 --min-time 5s --json k.json -- python3 "
    "step.py\n" CLI_IMPACT_HELP_NOTE;

static const struct cli_option repeat_options[] = {
    {"groups", 0, required_argument, "N", "phase-shifted groups (default 4)", OPT_GROUPS},
    {"min-time", 0, required_argument, "DUR", "least measured time in all (default 2s)",
     OPT_MIN_TIME},
    {"runs", 0, required_argument, "N", "measured runs in all (default: enough for --min-time)",
     OPT_RUNS},
    {"settle", 0, required_argument, "DUR",
     "time dropped at the start of each group (default: one update\n"
     "period of the slowest counter, 100 ms on NVIDIA GPUs)",
     OPT_SETTLE},
    CLI_IMPACT_WORK_OPTIONS,
    CLI_IMPACT_SITE_OPTIONS,
    CLI_IMPACT_OUTPUT_OPTIONS,
    CLI_OPTION_JSON("also write the result as JSON (schema joules.repeat/1)"),
    CLI_OPTION_SIM("measure on the simulated GPU (see joules run --help)"),
    CLI_OPTION_SCENARIO("simulated GPU under a known load; implies --sim"),
    CLI_OPTION_QUIET("no table"),
    CLI_OPTION_HELP,
    CLI_OPTION_AS_ROOT,
    CLI_OPTIONS_END,
};

struct child_work {
    char **cmd;
    int runs;
    int last_status;
    int not_started;              /* the command could not be started (said already) */
    const struct util_drop *drop; /* under sudo: the invoking user's identity */
};

/* posix_spawnp with the user's identity: fork, drop, exec. 0, or the errno of the exec (the
 * child reports a failed drop itself and exits 126). */
static int spawn_dropped(struct child_work *w, pid_t *pid)
{
    int fds[2];
    if (pipe(fds) != 0)
        return errno;
    (void)fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    (void)fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    fflush(NULL);
    *pid = fork();
    if (*pid < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        return e;
    }
    if (*pid == 0) {
        close(fds[0]);
        int de = util_drop_apply(w->drop);
        if (de != 0) { /* never the command as root when the user asked for no such thing */
            util_drop_report("repeat", de);
            _exit(126);
        }
        execvp(w->cmd[0], w->cmd);
        int e = errno;
        ssize_t n = write(fds[1], &e, sizeof e);
        (void)n;
        _exit(127);
    }
    close(fds[1]);
    int e = 0;
    ssize_t n;
    do
        n = read(fds[0], &e, sizeof e);
    while (n < 0 && errno == EINTR);
    close(fds[0]);
    if (n == (ssize_t)sizeof e) {
        while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
            ;
        return e;
    }
    return 0;
}

static int run_once(void *user)
{
    struct child_work *w = user;
    if (cli_stop_signal)
        return -1;
    pid_t pid = -1;
    int rc = w->drop && w->drop->active
                 ? spawn_dropped(w, &pid)
                 : posix_spawnp(&pid, w->cmd[0], NULL, NULL, w->cmd, environ);
    if (rc == 0 && pid <= 0)
        rc = ECHILD; /* no child to wait for: never waitpid(-1), which would reap any */
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
    io_format_command(text, sizeof text, cmd, argc);
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

static int write_json(FILE *f, const joules_repeat_result *r, const joules_domain_info *info,
                      char **cmd, int argc, const io_extra *extra)
{
    const joules_measurement *m = &r->per_rep;
    io_json j;
    io_json_init(&j, f, 1);
    io_json_object_begin(&j);
    io_json_kv_string(&j, "schema", "joules.repeat/1");
    io_json_kv_string(&j, "joules_version", joules_version());
    io_json_kv_bool(&j, "simulated", m->simulated);
    io_json_key(&j, "command");
    io_json_array_begin(&j);
    for (int i = 0; i < argc; i++)
        io_json_string(&j, cmd[i]);
    io_json_array_end(&j);
    io_json_kv_int(&j, "groups", r->groups);
    io_json_kv_int(&j, "runs_measured", r->repetitions_kept);
    io_json_kv_int(&j, "runs_total", r->repetitions_run);
    io_json_kv_number(&j, "time_per_run_s", r->time_per_rep_s);
    io_json_key(&j, "domains");
    io_json_array_begin(&j);
    for (int i = 0; i < m->n_domains; i++) {
        const joules_domain_energy *e = &m->domains[i];
        io_json_object_begin(&j);
        io_json_kv_string(&j, "name", info[i].name);
        io_json_kv_string(&j, "kind", joules_kind_name(info[i].kind));
        io_json_kv_string(&j, "device", info[i].device);
        io_json_kv_bool(&j, "simulated", e->simulated);
        io_json_kv_string(&j, "method", joules_method_name(e->method));
        io_json_kv_bool(&j, "valid", e->valid);
        io_json_kv_number(&j, "energy_per_run_j", e->valid ? e->energy_j : NAN);
        io_json_kv_number(&j, "energy_uncertainty_j", e->valid ? e->uncertainty_j : NAN);
        io_json_kv_number(&j, "avg_power_w", e->valid ? e->avg_power_w : NAN);
        io_json_kv_string(&j, "message", e->message);
        if (e->simulated)
            io_json_kv_number(&j, "simulator_true_energy_per_run_j",
                              e->sim_truth_j >= 0 ? e->sim_truth_j : NAN);
        io_json_object_end(&j);
    }
    io_json_array_end(&j);
    io_json_kv_number(&j, "total_energy_per_run_j", m->total_energy_j);
    io_json_kv_number(&j, "total_uncertainty_j", m->total_uncertainty_j);
    if (extra && extra->json)
        extra->json(&j, extra->ctx);
    io_json_object_end(&j);
    return io_json_finish(&j);
}

/* What the options set, and the impact tables (cli_impact.h) opened from them. */
struct repeat_ctx {
    joules_repeat_options ro;
    struct cli_impact_opts impact_opts; /* --flops per run, the site values, the outputs */
    struct cli_impact impact;
};

static int repeat_take(void *ctx, int id, const char *v)
{
    joules_repeat_options *ro = &((struct repeat_ctx *)ctx)->ro;
    int64_t ns;
    int rc;
    if (cli_is_impact_option(id))
        return cli_impact_take(&((struct repeat_ctx *)ctx)->impact_opts, "repeat", id, v);
    switch (id) {
    case OPT_GROUPS:
        return parse_count("repeat", "--groups", v, 1, 64, &ro->groups);
    case OPT_RUNS:
        return parse_count("repeat", "--runs", v, 1, 10000000, &ro->repetitions);
    case OPT_MIN_TIME:
        rc = cli_parse_duration("repeat", "--min-time", v, 1000000LL, 86400000000000LL, &ns);
        if (rc == 0)
            ro->min_time_s = (double)ns * 1e-9;
        return rc;
    case OPT_SETTLE:
        rc = cli_parse_duration("repeat", "--settle", v, 1000000LL, 60000000000LL, &ns);
        if (rc == 0)
            ro->settle_s = (double)ns * 1e-9;
        return rc;
    default:
        return 0;
    }
}

static const struct cli_command_spec repeat_spec = {
    .name = "repeat",
    .help_head = repeat_help_head,
    .options = repeat_options,
    .help_tail = repeat_help_tail,
    .take = repeat_take,
};

/* The exit status of a measurement that failed, after saying why. */
static int failed(const struct child_work *w, joules_monitor *m)
{
    if (cli_stop_signal) {
        fprintf(stderr, "joules repeat: interrupted after %d runs; nothing measured\n", w->runs);
        return 128 + (int)cli_stop_signal;
    }
    if (w->not_started)
        return w->last_status;
    if (w->last_status) {
        fprintf(stderr, "joules repeat: %s exited with status %d on run %d; stopped\n", w->cmd[0],
                w->last_status, w->runs);
        return w->last_status;
    }
    fprintf(stderr, "joules repeat: %s\n", joules_last_error(m));
    return CLI_EXIT_FAILURE;
}

/* Write and commit --json: 0, or CLI_EXIT_FAILURE (nothing written). */
static int commit_json(io_atomic *out, const char *json, const joules_repeat_result *res,
                       const joules_domain_info *info, char **cmd, int cmd_argc,
                       const io_extra *extra)
{
    char err[512];
    if (write_json(out->f, res, info, cmd, cmd_argc, extra) != 0) {
        cli_error("--json: writing %s failed; no file was written", json);
        io_atomic_abort(out);
        return CLI_EXIT_FAILURE;
    }
    if (io_atomic_commit(out, err, sizeof err) != 0) {
        cli_error("--json: %s; no file was written", err);
        return CLI_EXIT_FAILURE;
    }
    return 0;
}

int cmd_repeat(int argc, char **argv)
{
    struct cli_common com = {0};
    static struct repeat_ctx c;
    memset(&c, 0, sizeof c);
    joules_repeat_options_init(&c.ro);
    cli_impact_opts_init(&c.impact_opts);
    int status;
    if (cli_options_parse(&repeat_spec, &com, &c, argc, argv, &status) != 0)
        return status;
    if (optind < argc && strcmp(argv[optind], "--") == 0)
        optind++;
    if (optind >= argc)
        return cli_usage_error("repeat", "no command given (write: joules repeat -- CMD ...)");
    char **cmd = argv + optind;
    int cmd_argc = argc - optind;
    const char *json = com.json;
    char err_drop[160];
    static struct util_drop drop; /* under sudo, the command runs as the invoking user */
    if (util_drop_plan(&drop, com.as_root, err_drop, sizeof err_drop) != 0) {
        fprintf(stderr, "joules repeat: %s; --as-root runs the command as root\n", err_drop);
        return CLI_EXIT_FAILURE;
    }

    /* The tables and site values are checked before anything runs. */
    if ((status = cli_impact_open(&c.impact, &c.impact_opts, "repeat")) != 0)
        return status;
    io_atomic out;
    char err[512];
    if (json && io_atomic_open(&out, json, err, sizeof err) != 0) {
        cli_error("--json: %s", err);
        cli_impact_close(&c.impact);
        return CLI_EXIT_USAGE;
    }
    int json_open = json != NULL;
    struct cli_monitor cm;
    if (cli_open_monitor("repeat", &com.src, &cm) != 0) {
        status = CLI_EXIT_FAILURE;
        goto no_monitor;
    }
    status = CLI_EXIT_FAILURE;
    joules_domain_energy *res_dom = NULL;
    int n_info = joules_domain_count(cm.m);
    if (n_info <= 0) {
        fprintf(stderr, "joules repeat: nothing to measure: no GPU and no CPU energy sensor.\n");
        cli_print_backends(stderr, cm.m, "  ");
        cli_print_sim_hint(stderr, "repeat");
        goto done;
    }
    static joules_domain_info info[JOULES_MAX_DOMAINS];
    for (int i = 0; i < n_info; i++)
        joules_domain_info_get(cm.m, i, &info[i]);

    struct cli_stop stop;
    cli_stop_install(&stop);
    struct child_work w = {cmd, 0, 0, 0, &drop};
    joules_repeat_result res; /* per_rep's domains on the heap, one per domain */
    res_dom = calloc((size_t)n_info, sizeof *res_dom);
    joules_measurement_init(&res.per_rep, res_dom, res_dom ? n_info : 0);
    int rc = res_dom ? joules_repeat(cm.m, run_once, &w, &c.ro, &res) : JOULES_E_NOMEM;
    cli_stop_restore(&stop);
    if (rc != 0) {
        if (res_dom) {
            status = failed(&w, cm.m);
        } else {
            fprintf(stderr, "joules repeat: out of memory\n");
            status = CLI_EXIT_FAILURE;
        }
        goto done;
    }
    if (!com.quiet)
        print_table(&res, info, cmd);
    struct cli_impact_report impact;
    io_extra extra;
    cli_impact_report_run(&c.impact_opts, &c.impact, "repeat", "one run", cm.m, &res.per_rep, info,
                          n_info, com.quiet, &impact);
    status = 0;
    if (json_open) {
        json_open = 0;
        status =
            commit_json(&out, json, &res, info, cmd, cmd_argc, cli_impact_extra(&extra, &impact));
    }
done:
    free(res_dom);
    cli_close_monitor(&cm);
no_monitor:
    if (json_open)
        io_atomic_abort(&out);
    cli_impact_close(&c.impact);
    return status;
}
