/* SPDX-License-Identifier: MIT */
/*
 * cmd_run.c - `joules run -- CMD ...`: the energy, time and average power of a command, per
 * domain, measured from outside like `perf stat`.
 *
 * Order of events, and why:
 *  1. Options are checked and the output files are created (as temporary files) before
 *     anything runs, so a wrong path costs nothing and never loses a measurement.
 *  2. SIGINT/SIGTERM/SIGHUP are blocked before the monitor opens, so its tracker thread
 *     inherits the mask and these signals always reach the main thread, whose handler
 *     forwards them to the child. joules itself outlives the child and reports.
 *  3. The window begins just before fork and ends as soon as waitid reports the exit
 *     (WNOWAIT: the child is reaped only after forwarding is disabled, so a forwarded signal
 *     can never hit a recycled process id).
 *  4. An exec failure travels back through a close-on-exec pipe: 127 (not found) or 126.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli_sampling.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "io/atomic.h"
#include "io/report.h"

static void help(FILE *out)
{
    fprintf(out,
            "Usage: joules run [OPTIONS] [--] COMMAND [ARGS...]\n\n"
            "Run COMMAND and measure the energy it costs on every domain joules finds (GPUs\n"
            "through NVML, CPU package/core/uncore and DRAM through RAPL), with the wall time,\n"
            "the average power, the method of each figure and its uncertainty (+/- J, about a\n"
            "95 %% bound). The table goes to standard error; the command keeps standard input\n"
            "and output. Figures from the simulated GPU are labelled SIMULATED.\n\n"
            "Options:\n"
            "  --json FILE       also write the result as JSON (schema joules.run/1)\n"
            "  --csv FILE        also write one CSV row per domain (schema joules.run.csv/1)\n"
            "                    ('-' writes to standard output; files appear whole or not at\n"
            "                    all: temporary file + rename; see docs/output.md)\n"
            "  --sample DUR      sample power every DUR while the command runs (default\n"
            "                    100ms when --series or --plot is given; e.g. 10ms, 1s)\n"
            "  --series FILE     write the power time series, with the begin and end of the\n"
            "                    command marked (schema joules.series.csv/1)\n"
            "  --plot FILE.svg   write a chart of power per domain over time\n"
            "  --normalise       chart power as a percentage of each GPU's power limit\n"
            "  --sim [PROFILE]   measure on the simulated GPU (PROFILE: a6000 (default),\n"
            "                    a100-sxm4-40gb, a100-sxm4-80gb (a100), h100-sxm5 (h100),\n"
            "                    test; also --sim=PROFILE). Without it, only real sensors\n"
            "                    are used. Write --sim -- CMD when no profile is given.\n"
            "  --scenario FILE   simulated GPU running a known load (docs/scenarios.md);\n"
            "                    implies --sim\n"
            "  --no-settle       end at once instead of waiting for the next step of each\n"
            "                    GPU energy counter (~100 ms apart; the wait is at most\n"
            "                    max(10 ms, a tenth of the command's time)); the end edge is\n"
            "                    then extrapolated with the power sensor (wider +/-)\n"
            "  -q, --quiet       no table (errors are still reported)\n"
            "  -h, --help        this help\n\n"
            "Options end at '--' or at the first word that is not an option.\n\n"
            "Examples:\n"
            "  joules run -- python3 train.py\n"
            "  joules run --json run.json --csv run.csv -- ./bench --size 10000\n"
            "  joules run --sim h100-sxm5 --scenario load.scn -- sleep 2\n"
            "  joules run --sample 10ms --series power.csv --plot power.svg -- ./train\n\n"
            "Static power: after `joules idle` has stored a baseline for a device (in its\n"
            "current clock state), the table also gives the dynamic energy: the energy minus\n"
            "the baseline power x the time (derived, method model), with its uncertainty.\n\n"
            "Environment:\n"
            "  JOULES_NVML_LIBRARY  libnvidia-ml.so.1 to load (default: the system's)\n"
            "  JOULES_SYSFS_ROOT    directory standing for /sys (default: /sys)\n"
            "  JOULES_SIM_LIBRARY   the simulated GPU library (default: "
            "<bin>/../lib/joules/libnvidia-ml.so.1)\n"
            "  JOULES_SIM_PROFILE, JOULES_SIM_DEVICES, JOULES_SIM_SEED, JOULES_SIM_SCENARIO\n"
            "                       configure the simulated GPU (docs/scenarios.md); --sim\n"
            "                       PROFILE and --scenario set them for the simulator\n\n"
            "Signals: SIGINT, SIGTERM and SIGHUP sent to joules are passed on to COMMAND;\n"
            "joules waits for it to end and still reports.\n\n"
            "Exit status: the status of COMMAND; 128+N if it died of signal N; 127 if it was\n"
            "not found, 126 if it could not be executed; 1 if there is nothing to measure\n"
            "(no sensor and no --sim) or the simulated GPU did not start (for instance a\n"
            "malformed scenario); 2 on a wrong command line or an output file that cannot be\n"
            "created. In the last three cases COMMAND is not run. A report that cannot be\n"
            "written after COMMAND ran is an error message; the status stays COMMAND's.\n");
}

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP};
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

enum { OPT_SAMPLE = 0x200, OPT_SERIES, OPT_PLOT, OPT_NORMALISE };

struct run_outputs {
    const char *json, *csv;
    struct cli_series series;
    int64_t sample_ns; /* 0: no sampling */
    joules_atomic json_out, csv_out;
    int json_open, csv_open;
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
        if (joules_atomic_open(&o->json_out, o->json, err, sizeof err) != 0) {
            fprintf(stderr, "joules run: --json: %s\n", err);
            return -1;
        }
        o->json_open = 1;
        close_on_exec(o->json_out.f);
    }
    if (o->csv) {
        if (joules_atomic_open(&o->csv_out, o->csv, err, sizeof err) != 0) {
            fprintf(stderr, "joules run: --csv: %s\n", err);
            return -1;
        }
        o->csv_open = 1;
        close_on_exec(o->csv_out.f);
    }
    return 0;
}

static void abort_outputs(struct run_outputs *o)
{
    if (o->sample_ns)
        cli_series_abort(&o->series);
    o->sample_ns = 0;
    if (o->json_open)
        joules_atomic_abort(&o->json_out);
    if (o->csv_open)
        joules_atomic_abort(&o->csv_out);
    o->json_open = o->csv_open = 0;
}

/* Write and commit one output; on any failure the target is left as it was. */
static int finish_output(joules_atomic *a, const char *opt, const char *name,
                         int (*write)(FILE *, const joules_run_report *),
                         const joules_run_report *r)
{
    char err[512];
    if (write(a->f, r) != 0) {
        fprintf(stderr, "joules run: %s: writing %s failed; no file was written\n", opt, name);
        joules_atomic_abort(a);
        return -1;
    }
    if (joules_atomic_commit(a, err, sizeof err) != 0) {
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
static pid_t start_child(char **cmd, const sigset_t *orig_mask, const struct sigaction *orig_act,
                         int *exec_errno)
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

int cmd_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", required_argument, NULL, CLI_OPT_JSON},
        {"csv", required_argument, NULL, CLI_OPT_CSV},
        {"sim", optional_argument, NULL, CLI_OPT_SIM},
        {"scenario", required_argument, NULL, CLI_OPT_SCENARIO},
        {"quiet", no_argument, NULL, 'q'},
        {"no-settle", no_argument, NULL, CLI_OPT_NO_SETTLE},
        {"sample", required_argument, NULL, OPT_SAMPLE},
        {"series", required_argument, NULL, OPT_SERIES},
        {"plot", required_argument, NULL, OPT_PLOT},
        {"normalise", no_argument, NULL, OPT_NORMALISE},
        {"normalize", no_argument, NULL, OPT_NORMALISE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cli_source src = {0};
    struct run_outputs out = {0};
    src.settle_end = 1;
    int quiet = 0, c, rc;

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
        case CLI_OPT_NO_SETTLE:
            src.settle_end = 0;
            break;
        case CLI_OPT_SIM:
            if ((rc = cli_take_sim_option(&src, "run", 0, argc, argv)))
                return rc;
            break;
        case CLI_OPT_SCENARIO:
            if ((rc = cli_take_scenario_option(&src, "run", optarg)))
                return rc;
            break;
        case CLI_OPT_JSON:
            if ((rc = cli_check_output_name("run", "--json", optarg)))
                return rc;
            out.json = optarg;
            break;
        case CLI_OPT_CSV:
            if ((rc = cli_check_output_name("run", "--csv", optarg)))
                return rc;
            out.csv = optarg;
            break;
        case OPT_SAMPLE:
            if ((rc = cli_parse_duration("run", "--sample", optarg, 1000000LL, 3600000000000LL,
                                         &out.sample_ns)))
                return rc;
            cli_note_bare_seconds("run", "--sample", optarg, 5.0);
            break;
        case OPT_SERIES:
            if ((rc = cli_check_output_name("run", "--series", optarg)))
                return rc;
            out.series.csv_path = optarg;
            break;
        case OPT_PLOT:
            if ((rc = cli_check_output_name("run", "--plot", optarg)))
                return rc;
            out.series.plot_path = optarg;
            break;
        case OPT_NORMALISE:
            out.series.normalise = 1;
            break;
        default:
            return cli_getopt_error("run", c, argv);
        }
    }
    if (optind >= argc)
        return cli_usage_error("run", "no command to measure (joules run [OPTIONS] -- COMMAND "
                                      "[ARGS...])");
    char **cmd = argv + optind;
    int cmd_argc = argc - optind;
    char same[JOULES_OUTPUTS_MSG_MAX];
    if (joules_outputs_distinct(same, sizeof same, "--json", out.json, "--csv", out.csv, "--series",
                                out.series.csv_path, "--plot", out.series.plot_path,
                                (char *)NULL) != 0)
        return cli_usage_error("run", "%s", same);
    if (out.series.normalise && !out.series.plot_path)
        return cli_usage_error("run", "--normalise applies to the chart: add --plot FILE.svg");
    if (out.sample_ns && !out.series.csv_path && !out.series.plot_path)
        return cli_usage_error("run", "--sample needs --series FILE or --plot FILE.svg");
    if (!out.sample_ns && (out.series.csv_path || out.series.plot_path))
        out.sample_ns = 100000000LL;
    out.series.title = "joules run: power over time";

    if (open_outputs(&out) != 0 || (out.sample_ns && cli_series_open(&out.series, "run") != 0)) {
        if (out.sample_ns && !out.series.lock_init)
            out.sample_ns = 0; /* cli_series_open cleaned up after itself */
        abort_outputs(&out);
        return CLI_EXIT_USAGE;
    }

    /* Block the forwarded signals before any thread exists (see the top of the file). */
    sigset_t fwd, orig_mask;
    sigemptyset(&fwd);
    for (int i = 0; i < N_FORWARDED; i++)
        sigaddset(&fwd, forwarded[i]);
    pthread_sigmask(SIG_BLOCK, &fwd, &orig_mask);

    struct cli_monitor cm;
    if (cli_open_monitor("run", &src, &cm) != 0) {
        abort_outputs(&out);
        return CLI_EXIT_FAILURE;
    }
    int n_info = joules_domain_count(cm.m);
    if (n_info <= 0) {
        rc = no_domain(&cm);
        cli_close_monitor(&cm);
        abort_outputs(&out);
        return rc;
    }
    joules_measurement *meas;
    if (joules_measurement_alloc(cm.m, &meas) != 0) {
        fprintf(stderr, "joules run: %s\n", joules_last_error(cm.m));
        cli_close_monitor(&cm);
        abort_outputs(&out);
        return CLI_EXIT_FAILURE;
    }
    static joules_domain_info info[JOULES_MAX_DOMAINS];
    for (int i = 0; i < n_info && i < JOULES_MAX_DOMAINS; i++)
        joules_domain_info_get(cm.m, i, &info[i]);

    /* Forward the signals that were not ignored when joules started (nohup, background
     * jobs: an ignored signal stays ignored, for joules and for the command). SIGCHLD goes
     * back to its default so that waitid sees the child even if it was inherited ignored. */
    struct sigaction orig_act[N_FORWARDED + 1], sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = forward_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&sa.sa_mask);
    for (int i = 0; i < N_FORWARDED; i++) {
        sigaction(forwarded[i], NULL, &orig_act[i]);
        if (orig_act[i].sa_handler != SIG_IGN)
            sigaction(forwarded[i], &sa, NULL);
    }
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &dfl, &orig_act[N_FORWARDED]);

    /* Baselines are chosen by the clock state at rest, before the command changes it. */
    struct cli_baselines *baselines = cli_baselines_load(cm.m, info, n_info);
    if (out.sample_ns &&
        cli_series_start(&out.series, "run", cm.m, info, n_info, out.sample_ns, 0) != 0) {
        free(baselines);
        joules_measurement_free(meas);
        cli_close_monitor(&cm);
        abort_outputs(&out);
        return CLI_EXIT_FAILURE;
    }

    const char *failure = NULL;
    char failure_buf[JOULES_MESSAGE_MAX + 64];
    if (out.sample_ns)
        cli_series_mark(&out.series, "window-begin", "run");
    int begun = joules_window_begin(cm.m, "run");
    if (begun != 0) {
        snprintf(failure_buf, sizeof failure_buf, "the measurement could not begin: %s",
                 joules_last_error(cm.m));
        failure = failure_buf;
    }

    int exec_errno = 0;
    pid_t pid = start_child(cmd, &orig_mask, orig_act, &exec_errno);
    if (pid < 0) {
        if (begun == 0)
            joules_window_cancel(cm.m, "run");
        free(baselines);
        joules_measurement_free(meas);
        abort_outputs(&out);
        cli_close_monitor(&cm);
        abort_outputs(&out);
        if (exec_errno == 0) {
            fprintf(stderr, "joules run: cannot start '%s': %s\n", cmd[0], strerror(errno));
            return CLI_EXIT_FAILURE;
        }
        fprintf(stderr, "joules run: cannot run '%s': %s%s\n", cmd[0], strerror(exec_errno),
                exec_errno == ENOENT && !strchr(cmd[0], '/') ? " (not found in PATH)" : "");
        return exec_errno == ENOENT || exec_errno == ENOTDIR ? 127 : 126;
    }

    /* Let forwarded signals in, and wait for the end (without reaping yet). */
    pthread_sigmask(SIG_UNBLOCK, &fwd, NULL);
    siginfo_t si;
    int wait_failed = 0;
    for (;;) {
        memset(&si, 0, sizeof si);
        if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == 0)
            break;
        if (errno != EINTR) {
            wait_failed = errno;
            break;
        }
    }
    if (out.sample_ns)
        cli_series_mark(&out.series, "window-end", "run");
    if (begun == 0) {
        int erc = joules_window_end(cm.m, "run", meas);
        if (erc != 0) {
            snprintf(failure_buf, sizeof failure_buf, "the measurement failed: %s",
                     joules_last_error(cm.m));
            failure = failure_buf;
        }
    }
    pthread_sigmask(SIG_BLOCK, &fwd, NULL);
    child_pid = 0;
    int status = 0;
    pid_t w;
    while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
        ;
    if (w < 0) {
        fprintf(stderr, "joules run: waiting for the command failed: %s\n",
                strerror(wait_failed ? wait_failed : errno));
        free(baselines);
        joules_measurement_free(meas);
        abort_outputs(&out);
        cli_close_monitor(&cm);
        abort_outputs(&out);
        return CLI_EXIT_FAILURE;
    }

    joules_run_report r = {
        .m = failure ? NULL : meas,
        .info = info,
        .n_info = n_info,
        .argv = cmd,
        .argc = cmd_argc,
        .exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1,
        .signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0,
        .failure = failure,
    };
    static joules_report_dynamic dynamic[JOULES_MAX_DOMAINS];
    if (baselines && !failure) {
        cli_baselines_dynamic(baselines, meas, dynamic);
        r.dynamic = dynamic;
    }
    int code = r.signal ? 128 + r.signal : r.exit_status;

    if (out.sample_ns) {
        /* The series is complete whether or not the window could be measured. */
        joules_sampler_stats st;
        cli_series_stop(&out.series, &st);
        if (cli_series_finish(&out.series, "run") == 0 && !quiet)
            cli_series_print_stats(stderr, "run", &st, out.sample_ns);
        out.sample_ns = 0;
    }
    if (!quiet || failure)
        joules_report_table(stderr, &r);
    if (!quiet && !failure)
        cli_baselines_report(stderr, baselines, meas, info);
    if (failure) {
        if (out.json || out.csv)
            fprintf(stderr, "joules run: no report file written: %s\n", failure);
        abort_outputs(&out);
    } else {
        if (out.json_open &&
            finish_output(&out.json_out, "--json", out.json, joules_report_json, &r) != 0)
            out.json_open = 0;
        if (out.csv_open &&
            finish_output(&out.csv_out, "--csv", out.csv, joules_report_csv, &r) != 0)
            out.csv_open = 0;
        out.json_open = out.csv_open = 0;
    }
    free(baselines); /* the report's dynamic figures point into it */
    joules_measurement_free(meas);
    cli_close_monitor(&cm);
    return code;
}
