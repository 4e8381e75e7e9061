/* SPDX-License-Identifier: MIT */
/*
 * cmd_run.c - `joules run -- CMD ...`: the energy, time and average power of a command, per
 * domain, measured from outside like `perf stat`.
 *
 * Order of events, and why:
 *  1. Options are checked and the output files are created (as temporary files) before
 *     anything runs, so a wrong path costs nothing and never loses a measurement.
 *  2. SIGINT/SIGTERM/SIGHUP/SIGQUIT are blocked before the monitor opens, so its tracker thread
 *     inherits the mask and these signals always reach the main thread, whose handler
 *     forwards them to the child. joules itself outlives the child and reports.
 *  3. The window begins just before fork and ends as soon as waitid reports the exit
 *     (WNOWAIT: the child is reaped only after forwarding is disabled, so a forwarded signal
 *     can never hit a recycled process id).
 *  4. An exec failure travels back through a close-on-exec pipe: 127 (not found) or 126.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli_impact.h"
#include "cli/cli_cluster.h"
#include "cli/cli_options.h"
#include "cli/cmd_run.h"
#include "cli/cli_sampling.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "io/atomic.h"
#include "io/run_output.h"
#include "util/privdrop.h"

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define N_FORWARDED (int)(sizeof forwarded / sizeof forwarded[0])

static volatile sig_atomic_t child_pid; /* 0: nobody to forward to */

static void forward_signal(int sig, siginfo_t *si, void *uctx)
{
    (void)uctx;
    pid_t pid = (pid_t)child_pid;
#ifdef SI_KERNEL
    /* Sent by the terminal (Ctrl-C, hangup) to the whole foreground process group: the
     * child got its own copy; a second one would interrupt its clean-up. */
    if (si && si->si_code == SI_KERNEL)
        return;
#else
    (void)si;
#endif
    if (pid > 0) {
        int saved = errno;
        kill(pid, sig);
        errno = saved;
    }
}

struct run_outputs {
    const char *json, *csv;
    struct cli_series series;
    int64_t sample_ns; /* 0: no sampling */
    io_atomic json_out, csv_out;
    int json_open, csv_open, series_open;
};

static void close_on_exec(FILE *f)
{
    if (f && f != stdout)
        (void)fcntl(fileno(f), F_SETFD, FD_CLOEXEC);
}

static int open_outputs(struct run_outputs *o)
{
    char err[512];
    if (o->json) {
        if (io_atomic_open(&o->json_out, o->json, err, sizeof err) != 0) {
            fprintf(stderr, "joules run: --json: %s\n", err);
            return -1;
        }
        o->json_open = 1;
        close_on_exec(o->json_out.f);
    }
    if (o->csv) {
        if (io_atomic_open(&o->csv_out, o->csv, err, sizeof err) != 0) {
            fprintf(stderr, "joules run: --csv: %s\n", err);
            return -1;
        }
        o->csv_open = 1;
        close_on_exec(o->csv_out.f);
    }
    if (o->sample_ns) {
        if (cli_series_open(&o->series, "run") != 0)
            return -1; /* cli_series_open has removed what it created */
        o->series_open = 1;
    }
    return 0;
}

/* Remove every output not yet committed; each is aborted once. */
static void abort_outputs(struct run_outputs *o)
{
    if (o->series_open)
        cli_series_abort(&o->series);
    o->series_open = 0;
    if (o->json_open)
        io_atomic_abort(&o->json_out);
    if (o->csv_open)
        io_atomic_abort(&o->csv_out);
    o->json_open = o->csv_open = 0;
}

/* Write and commit one output; on any failure the target is left as it was. */
static int finish_output(io_atomic *a, const char *opt, const char *name,
                         int (*write)(FILE *, const io_run_output *), const io_run_output *r)
{
    char err[512];
    if (write(a->f, r) != 0) {
        fprintf(stderr, "joules run: %s: writing %s failed; no file was written\n", opt, name);
        io_atomic_abort(a);
        return -1;
    }
    if (io_atomic_commit(a, err, sizeof err) != 0) {
        fprintf(stderr, "joules run: %s: %s; no file was written\n", opt, err);
        return -1;
    }
    return 0;
}

static int no_domain(const struct cli_monitor *cm)
{
    cli_print_no_sensor("run",
                        "nothing to measure: no GPU and no CPU energy sensor was found, so the "
                        "command was not run.",
                        cm->m);
    return CLI_EXIT_FAILURE;
}

/* Start the command. Returns its pid, or -1 with *exec_errno set (or 0 for a fork error). */
static pid_t start_child(char **cmd, const struct util_drop *drop, const sigset_t *orig_mask,
                         const struct sigaction *orig_act, int *exec_errno)
{
    int fds[2];
    *exec_errno = 0;
    if (pipe(fds) != 0)
        return -1;
    (void)fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    (void)fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        errno = e;
        return -1;
    }
    if (pid == 0) {
        /* The child: async-signal-safe calls only (the parent has threads). It gets back the
         * dispositions and mask joules was started with, as if joules were not there. */
        for (int i = 0; i < N_FORWARDED; i++)
            sigaction(forwarded[i], &orig_act[i], NULL);
        sigaction(SIGCHLD, &orig_act[N_FORWARDED], NULL);
        pthread_sigmask(SIG_SETMASK, orig_mask, NULL);
        close(fds[0]);
        int de = util_drop_apply(drop);
        if (de != 0) { /* never the command as root when the user asked for no such thing */
            util_drop_report("run", de);
            _exit(126);
        }
        execvp(cmd[0], cmd);
        int e = errno;
        ssize_t w = write(fds[1], &e, sizeof e);
        (void)w;
        _exit(e == ENOENT || e == ENOTDIR ? 127 : 126);
    }
    close(fds[1]);
    child_pid = (sig_atomic_t)pid;
    int e = 0;
    ssize_t n;
    do
        n = read(fds[0], &e, sizeof e);
    while (n < 0 && errno == EINTR);
    close(fds[0]);
    if (n == (ssize_t)sizeof e) {
        *exec_errno = e;
        child_pid = 0;
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
        return -1;
    }
    return pid;
}

/* Everything `joules run` holds, released by run_finish alone. */
struct run_ctx {
    struct cli_common com;
    struct run_outputs out;
    char **cmd;
    int cmd_argc;
    struct util_drop drop;   /* the invoking user's identity for the command, under sudo */
    sigset_t fwd, orig_mask; /* the forwarded signals; the mask at start */
    struct sigaction orig_act[N_FORWARDED + 1]; /* their dispositions, and SIGCHLD's */
    struct cli_monitor cm;
    int monitor_open;
    joules_domain_info *info;
    int n_info;
    struct cli_baselines *baselines;
    joules_measurement *meas; /* the window's result, sized for the monitor's domains */
    struct cli_impact_opts impact_opts;
    struct cli_impact impact;   /* efficiency and emissions: tables and site values */
    struct cli_cluster cluster; /* --cluster-dir */
};

static int run_take(void *ctx, int id, const char *v)
{
    struct run_outputs *o = &((struct run_ctx *)ctx)->out;
    int rc = 0;
    if (cli_is_impact_option(id))
        return cli_impact_take(&((struct run_ctx *)ctx)->impact_opts, "run", id, v);
    switch (id) {
    case OPT_SAMPLE:
        rc = cli_parse_duration("run", "--sample", v, 1000000LL, 3600000000000LL, &o->sample_ns);
        if (rc == 0)
            cli_note_bare_seconds("run", "--sample", v, 5.0);
        break;
    case OPT_SERIES:
        if ((rc = cli_check_output_name("run", "--series", v)) == 0)
            o->series.csv_path = v;
        break;
    case OPT_PLOT:
        if ((rc = cli_check_output_name("run", "--plot", v)) == 0)
            o->series.plot_path = v;
        break;
    case OPT_NORMALISE:
        o->series.normalise = 1;
        break;
    case OPT_CLUSTER_DIR:
        ((struct run_ctx *)ctx)->cluster.dir = v;
        break;
    }
    return rc;
}

static const struct cli_command_spec run_spec = {
    .name = "run",
    .help_head = run_help_head,
    .options = run_options,
    .help_tail = run_help_tail,
    .take = run_take,
};

/* The command line: 0, or nonzero with *status the exit status. */
static int run_parse(struct run_ctx *r, int argc, char **argv, int *status)
{
    struct run_outputs *o = &r->out;
    r->com.src.settle_end = 1;
    cli_impact_opts_init(&r->impact_opts);
    if (cli_options_parse(&run_spec, &r->com, r, argc, argv, status) != 0)
        return 1;
    *status = CLI_EXIT_USAGE;
    if (optind >= argc) {
        cli_usage_error("run", "no command to measure (joules run [OPTIONS] -- COMMAND "
                               "[ARGS...])");
        return 1;
    }
    r->cmd = argv + optind;
    r->cmd_argc = argc - optind;
    o->json = r->com.json;
    o->csv = r->com.csv;
    char same[IO_OUTPUTS_MSG_MAX];
    if (io_outputs_distinct(same, sizeof same, "--json", o->json, "--csv", o->csv, "--series",
                            o->series.csv_path, "--plot", o->series.plot_path, (char *)NULL) != 0) {
        cli_usage_error("run", "%s", same);
        return 1;
    }
    if (o->series.normalise && !o->series.plot_path) {
        cli_usage_error("run", "--normalise applies to the chart: add --plot FILE.svg");
        return 1;
    }
    if (o->sample_ns && !o->series.csv_path && !o->series.plot_path) {
        cli_usage_error("run", "--sample needs --series FILE or --plot FILE.svg");
        return 1;
    }
    if (!o->sample_ns && (o->series.csv_path || o->series.plot_path))
        o->sample_ns = 100000000LL;
    o->series.title = "joules run: power over time";
    char why[160];
    if (util_drop_plan(&r->drop, r->com.as_root, why, sizeof why) != 0) {
        fprintf(stderr, "joules run: %s; --as-root runs the command as root\n", why);
        *status = CLI_EXIT_FAILURE;
        return 1;
    }
    *status = 0;
    return 0;
}

/* Forward the signals that were not ignored when joules started (nohup, background jobs:
 * an ignored signal stays ignored, for joules and for the command). SIGCHLD goes back to
 * its default so that waitid sees the child even if it was inherited ignored. */
static void install_forwarding(struct run_ctx *r)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = forward_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&sa.sa_mask);
    for (int i = 0; i < N_FORWARDED; i++) {
        sigaction(forwarded[i], NULL, &r->orig_act[i]);
        if (r->orig_act[i].sa_handler != SIG_IGN)
            sigaction(forwarded[i], &sa, NULL);
    }
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &dfl, &r->orig_act[N_FORWARDED]);
}

/* Open the monitor and learn its domains. 0, or the exit status. */
static int open_monitor(struct run_ctx *r)
{
    if (cli_open_monitor("run", &r->com.src, &r->cm) != 0)
        return CLI_EXIT_FAILURE;
    r->monitor_open = 1;
    r->n_info = joules_domain_count(r->cm.m);
    if (r->n_info <= 0)
        return no_domain(&r->cm);
    static joules_domain_info info[JOULES_MAX_DOMAINS];
    for (int i = 0; i < r->n_info && i < JOULES_MAX_DOMAINS; i++)
        joules_domain_info_get(r->cm.m, i, &info[i]);
    r->info = info;
    return 0;
}

/* The exit status of a command that could not be started, after saying why. */
static int not_started(char **cmd, int exec_errno)
{
    if (exec_errno == 0) {
        fprintf(stderr, "joules run: cannot start '%s': %s\n", cmd[0], strerror(errno));
        return CLI_EXIT_FAILURE;
    }
    fprintf(stderr, "joules run: cannot run '%s': %s%s\n", cmd[0], strerror(exec_errno),
            exec_errno == ENOENT && !strchr(cmd[0], '/') ? " (not found in PATH)" : "");
    return exec_errno == ENOENT || exec_errno == ENOTDIR ? 127 : 126;
}

/* Wait for the child to end without reaping it: 0, or the errno of a failed wait. */
static int wait_exit(pid_t pid)
{
    siginfo_t si;
    for (;;) {
        memset(&si, 0, sizeof si);
        if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == 0)
            return 0;
        if (errno != EINTR)
            return errno;
    }
}

/* One window around the command. 0 with *status its wait status and *failure NULL or why
 * the figures are missing (in failure_buf); or nonzero with *status the exit status. */
static int measure(struct run_ctx *r, joules_measurement *meas, int *status, const char **failure,
                   char *failure_buf, size_t failure_len)
{
    struct run_outputs *o = &r->out;
    *failure = NULL;
    if (o->sample_ns)
        cli_series_mark(&o->series, "window-begin", "run");
    int begun = joules_window_begin(r->cm.m, "run");
    if (begun != 0) {
        snprintf(failure_buf, failure_len, "the measurement could not begin: %s",
                 joules_last_error(r->cm.m));
        *failure = failure_buf;
    }
    int exec_errno = 0;
    pid_t pid = start_child(r->cmd, &r->drop, &r->orig_mask, r->orig_act, &exec_errno);
    if (pid < 0) {
        int fork_errno = errno;
        if (begun == 0)
            joules_window_cancel(r->cm.m, "run");
        errno = fork_errno;
        *status = not_started(r->cmd, exec_errno);
        return 1;
    }
    /* Let forwarded signals in, and wait for the end (without reaping yet). */
    pthread_sigmask(SIG_UNBLOCK, &r->fwd, NULL);
    int wait_failed = wait_exit(pid);
    if (o->sample_ns)
        cli_series_mark(&o->series, "window-end", "run");
    if (begun == 0 && joules_window_end(r->cm.m, "run", meas) != 0) {
        snprintf(failure_buf, failure_len, "the measurement failed: %s",
                 joules_last_error(r->cm.m));
        *failure = failure_buf;
    }
    pthread_sigmask(SIG_BLOCK, &r->fwd, NULL);
    child_pid = 0;
    pid_t w;
    while ((w = waitpid(pid, status, 0)) < 0 && errno == EINTR)
        ;
    if (w < 0) {
        fprintf(stderr, "joules run: waiting for the command failed: %s\n",
                strerror(wait_failed ? wait_failed : errno));
        *status = CLI_EXIT_FAILURE;
        return 1;
    }
    return 0;
}

/* The simulated GPU lives inside joules: a command (another process) cannot load it, only a
 * scenario can. Without one it idles through the window, which a user who expected their
 * command to run on it should be told, with the way to give it a load. The simulator's own
 * utilisation reading confirms it. */
static void note_idle_sim(const struct run_ctx *c)
{
    const char *env = getenv("JOULES_SIM_SCENARIO");
    if (!c->cm.used_sim || c->com.src.scenario || (env && *env))
        return;
    for (int i = 0; i < c->n_info; i++) {
        joules_gpu_status st;
        if (c->info[i].kind != JOULES_KIND_GPU || !c->info[i].simulated ||
            joules_gpu_status_get(c->cm.m, i, &st) != 0 || st.utilization_gpu_pct != 0)
            continue;
        fprintf(stderr,
                "joules run: the simulated GPU ran no load (utilisation 0 %%): it lives inside "
                "joules and '%s' cannot run on it, so %s's figures are its idle power.\nGive it a "
                "known load with --scenario FILE (e.g. --scenario demo.scn; docs/scenarios.md).\n",
                c->cmd[0], c->info[i].name);
        return;
    }
}

/* The table, the series and the files, from the report r of the window. */
static void report(struct run_ctx *c, const io_run_output *r, const joules_measurement *meas)
{
    struct run_outputs *o = &c->out;
    int quiet = c->com.quiet;
    if (o->series_open) {
        /* The series is complete whether or not the window could be measured. */
        joules_sampler_stats st;
        char command[256];
        io_format_command(command, sizeof command, r->argv, r->argc);
        o->series.command = command;
        cli_series_stop(&o->series, &st);
        /* How the sampler kept time is joules' business, not the command's: shown with -v,
         * or when readings were lost. */
        if (cli_series_finish(&o->series, "run") == 0 && !quiet &&
            (c->com.verbose || st.read_errors))
            cli_series_print_stats(stderr, "run", &st, o->sample_ns);
        o->series_open = 0;
    }
    if (!quiet || r->failure)
        io_run_table(stderr, r);
    if (!quiet && !r->failure)
        cli_baselines_report(stderr, c->baselines, meas, c->info);
    if (!quiet && !r->failure)
        note_idle_sim(c);
    if (r->failure) {
        if (o->json || o->csv)
            fprintf(stderr, "joules run: no report file written: %s\n", r->failure);
        return; /* run_finish removes the files */
    }
    struct cli_impact_report impact;
    cli_impact_report_run(&c->impact_opts, &c->impact, "run", NULL, c->cm.m, meas, c->info,
                          c->n_info, quiet, &impact);
    /* The files carry the efficiency and emissions figures reported above. */
    io_extra extra;
    io_run_output doc = *r;
    doc.extra = cli_impact_extra(&extra, &impact);
    if (o->json_open)
        finish_output(&o->json_out, "--json", o->json, io_run_json, &doc);
    if (o->csv_open)
        finish_output(&o->csv_out, "--csv", o->csv, io_run_csv, &doc);
    o->json_open = o->csv_open = 0;
}

/* Release what r holds, outputs not committed included; returns status. */
static int run_finish(struct run_ctx *r, int status)
{
    abort_outputs(&r->out);
    free(r->baselines);
    joules_measurement_free(r->meas);
    if (r->monitor_open)
        cli_close_monitor(&r->cm);
    cli_impact_close(&r->impact);
    return status;
}

int cmd_run(int argc, char **argv)
{
    static struct run_ctx r;
    memset(&r, 0, sizeof r);
    int status;
    if (run_parse(&r, argc, argv, &status) != 0)
        return status;
    /* The tables and site values are checked before anything runs. */
    if ((status = cli_impact_open(&r.impact, &r.impact_opts, "run")) != 0)
        return run_finish(&r, status);
    if (open_outputs(&r.out) != 0)
        return run_finish(&r, CLI_EXIT_USAGE);
    /* A rank that does not measure its node only runs the command (cli_cluster.c). */
    r.cluster.quiet = r.com.quiet;
    r.cluster.drop = &r.drop;
    if (r.cluster.dir && (status = cli_cluster_begin(&r.cluster)) != 0)
        return run_finish(&r, status);
    if (r.cluster.dir && !r.cluster.measurer)
        return run_finish(&r, cli_cluster_run_only(&r.cluster, r.cmd, NULL, NULL));

    /* Block the forwarded signals before any thread exists (see the top of the file). */
    sigemptyset(&r.fwd);
    for (int i = 0; i < N_FORWARDED; i++)
        sigaddset(&r.fwd, forwarded[i]);
    pthread_sigmask(SIG_BLOCK, &r.fwd, &r.orig_mask);
    if ((status = open_monitor(&r)) != 0) {
        if (r.cluster.dir) /* the other ranks still run: so does this one, and says why */
            status = cli_cluster_run_only(&r.cluster, r.cmd,
                                          "the node's devices could not be opened (the "
                                          "measuring rank's standard error says why)",
                                          &r.orig_mask);
        return run_finish(&r, status);
    }
    install_forwarding(&r);

    /* Baselines are chosen by the clock state at rest, before the command changes it. */
    r.baselines = cli_baselines_load(r.cm.m, r.info, r.n_info);
    if (r.out.sample_ns &&
        cli_series_start(&r.out.series, "run", r.cm.m, r.info, r.n_info, r.out.sample_ns, 0) != 0)
        return run_finish(&r, CLI_EXIT_FAILURE);

    if (joules_measurement_alloc(r.cm.m, &r.meas) != 0) {
        fprintf(stderr, "joules run: %s\n", joules_last_error(r.cm.m));
        return run_finish(&r, CLI_EXIT_FAILURE);
    }
    const char *failure;
    char failure_buf[JOULES_MESSAGE_MAX + 64];
    if (measure(&r, r.meas, &status, &failure, failure_buf, sizeof failure_buf) != 0)
        return run_finish(&r, status);

    io_run_output rep = {
        .m = failure ? NULL : r.meas,
        .info = r.info,
        .n_info = r.n_info,
        .argv = r.cmd,
        .argc = r.cmd_argc,
        .exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1,
        .signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0,
        .failure = failure,
    };
    static io_run_dynamic dynamic[JOULES_MAX_DOMAINS];
    if (r.baselines && !failure) {
        cli_baselines_dynamic(r.baselines, r.meas, dynamic);
        rep.dynamic = dynamic; /* points into r.baselines, freed by run_finish */
    }
    report(&r, &rep, r.meas);
    status = rep.signal ? 128 + rep.signal : rep.exit_status;
    if (r.cluster.dir)
        status = cli_cluster_end(&r.cluster, &rep, status);
    return run_finish(&r, status);
}
