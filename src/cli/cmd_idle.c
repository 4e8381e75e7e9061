/* SPDX-License-Identifier: MIT */
/*
 * cmd_idle.c - `joules idle`: the static power of each domain at rest (the talk's idle
 * RTX A6000 drawing 78 W of 300 W in P2). Over --duration, a window gives the mean power
 * from the energy counter (with its uncertainty) and a sampler gives the spread, the
 * P-states seen and the utilisation, which tell whether the machine really was at rest.
 * The result is stored per device and clock state in the user's cache (io/baseline.h), for
 * `joules run` to report the dynamic energy above it.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli_options.h"
#include "cli/cli_sampling.h"
#include "cli/cli_signal.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "io/baseline.h"

#define IDLE_UTIL_PCT   5    /* above this the GPU was working */
#define IDLE_SPREAD_REL 0.05 /* relative standard deviation above which power was not steady */
#define IDLE_SPREAD_W   1.0  /* ... and at least this many watts (small domains are noisy) */

enum { OPT_INTERVAL = CLI_OPT_COMMAND, OPT_DURATION, OPT_NO_STORE, OPT_FORCE };

static const char idle_help_head[] =
    "Usage: joules idle [OPTIONS]\n\n"
    "Measure the static (idle) power of every domain while the machine is at rest:\n"
    "the mean power from the energy counter with its uncertainty, the spread of the\n"
    "samples, the P-states seen and the utilisation. Warns when the machine was not\n"
    "idle. The result is stored as a baseline per device and clock state in\n"
    "$XDG_CACHE_HOME/joules (default ~/.cache/joules); `joules run` then also\n"
    "reports the dynamic energy of a command: its energy minus baseline x time.\n\n"
    "Options:\n";

static const char idle_help_tail[] =
    "\nStop every job on the GPUs first; a CUDA context left open keeps a GPU in a\n"
    "higher P-state (P2 instead of P8 on an A6000), and the baseline of each clock\n"
    "state is kept apart.\n\n"
    "Exit status: 0 when baselines were stored (or --no-store); 1 if nothing could\n"
    "be measured, Ctrl-C interrupted it, or the machine was not idle (nothing\n"
    "stored without --force); 2 on a wrong command line.\n";

static const struct cli_option idle_options[] = {
    {"duration", 0, required_argument, "DUR", "how long to measure (default 10s; 200ms to 1h)",
     OPT_DURATION},
    {"interval", 0, required_argument, "DUR", "time between samples (default 100ms)", OPT_INTERVAL},
    {"no-store", 0, no_argument, NULL, "measure and report only", OPT_NO_STORE},
    {"force", 0, no_argument, NULL, "store the baseline even if the machine was not idle",
     OPT_FORCE},
    CLI_OPTION_SIM("measure the simulated GPU (SIMULATED); also --sim=PROFILE"),
    CLI_OPTION_SCENARIO("simulated GPU running a known load (docs/scenarios.md)"),
    CLI_OPTION_HELP,
    CLI_OPTIONS_END,
};

struct idle_options {
    int64_t duration_ns, interval_ns;
    int store, force;
};

static int idle_take(void *ctx, int id, const char *v)
{
    struct idle_options *o = ctx;
    switch (id) {
    case OPT_DURATION:
        return cli_parse_duration("idle", "--duration", v, 200000000LL, 3600000000000LL,
                                  &o->duration_ns);
    case OPT_INTERVAL:
        return cli_parse_duration("idle", "--interval", v, 1000000LL, 10000000000LL,
                                  &o->interval_ns);
    case OPT_NO_STORE:
        o->store = 0;
        return 0;
    case OPT_FORCE:
        o->force = 1;
        return 0;
    default:
        return 0;
    }
}

static const struct cli_command_spec idle_spec = {
    .name = "idle",
    .help_head = idle_help_head,
    .options = idle_options,
    .help_tail = idle_help_tail,
    .take = idle_take,
};

/* Running statistics of one domain, kept by the sampler's callback. */
struct idle_stats {
    long n;
    double mean_w, m2; /* Welford */
    double min_w, max_w;
    long pstate_count[16];
    int util_max;
};

struct idle_acc {
    struct idle_stats d[JOULES_MAX_DOMAINS];
};

static void on_round(const joules_power_sample *p, int n, void *user)
{
    struct idle_acc *a = user;
    for (int i = 0; i < n; i++) {
        if (!p[i].valid || p[i].domain < 0 || p[i].domain >= JOULES_MAX_DOMAINS)
            continue;
        struct idle_stats *s = &a->d[p[i].domain];
        if (p[i].pstate >= 0 && p[i].pstate < 16)
            s->pstate_count[p[i].pstate]++;
        if (p[i].utilization_gpu_pct > s->util_max)
            s->util_max = p[i].utilization_gpu_pct;
        if (p[i].power_w < 0)
            continue;
        double x = p[i].power_w;
        if (s->n == 0 || x < s->min_w)
            s->min_w = x;
        if (s->n == 0 || x > s->max_w)
            s->max_w = x;
        s->n++;
        double delta = x - s->mean_w;
        s->mean_w += delta / (double)s->n;
        s->m2 += delta * (x - s->mean_w);
    }
}

static int main_pstate(const struct idle_stats *s, int *n_seen)
{
    int best = -1;
    *n_seen = 0;
    for (int k = 0; k < 16; k++) {
        if (!s->pstate_count[k])
            continue;
        (*n_seen)++;
        if (best < 0 || s->pstate_count[k] > s->pstate_count[best])
            best = k;
    }
    return best;
}

/* Fill a baseline from the window and the samples; returns the number of warnings printed. */
static int assess(const joules_domain_info *in, const joules_domain_energy *e,
                  const struct idle_stats *s, double duration_s, io_baseline *b)
{
    memset(b, 0, sizeof b[0]);
    snprintf(b->domain, sizeof b->domain, "%s", in->name);
    snprintf(b->kind, sizeof b->kind, "%s", joules_kind_name(in->kind));
    snprintf(b->device, sizeof b->device, "%s", in->device);
    snprintf(b->uuid, sizeof b->uuid, "%s", in->uuid);
    snprintf(b->method, sizeof b->method, "%s", joules_method_name(e->method));
    b->simulated = in->simulated;
    b->created_unix_s = (double)time(NULL);
    b->duration_s = duration_s;
    b->samples = s->n;
    b->power_w = e->energy_j / duration_s;
    double sd = s->n > 1 ? sqrt(s->m2 / (double)(s->n - 1)) : 0.0;
    b->power_stddev_w = sd;
    b->power_min_w = s->n ? s->min_w : -1;
    b->power_max_w = s->n ? s->max_w : -1;
    /* The counter's own bound, and how well this mean stands for the static power at
     * another time: twice the standard error of the samples. */
    b->power_uncertainty_w =
        hypot(e->uncertainty_j / duration_s, s->n > 1 ? 2.0 * sd / sqrt((double)s->n) : 0.0);
    b->utilization_max_pct = in->kind == JOULES_KIND_GPU ? s->util_max : -1;
    int n_seen = 0, ps = main_pstate(s, &n_seen);
    baseline_clock_state(ps, b->clock_state, sizeof b->clock_state);
    int warnings = 0;
    if (in->kind == JOULES_KIND_GPU && s->util_max > IDLE_UTIL_PCT) {
        fprintf(stderr, "joules idle: warning: %s was not idle: utilisation reached %d %%\n",
                in->name, s->util_max);
        warnings++;
    }
    if (sd > IDLE_SPREAD_W && sd > IDLE_SPREAD_REL * b->power_w) {
        fprintf(stderr,
                "joules idle: warning: %s power was not steady: %.2f W standard deviation "
                "(%.0f %% of the mean; %.1f to %.1f W)\n",
                in->name, sd, 100.0 * sd / fmax(b->power_w, 1e-9), s->min_w, s->max_w);
        warnings++;
    }
    if (n_seen > 1) {
        fprintf(stderr, "joules idle: warning: %s changed P-state during the measurement\n",
                in->name);
        warnings++;
    }
    b->idle_ok = warnings == 0;
    return warnings;
}

int cmd_idle(int argc, char **argv)
{
    struct cli_common com = {0};
    com.src.settle_end = 1;
    struct idle_options o = {.duration_ns = 10000000000LL, .interval_ns = 100000000LL, .store = 1};
    int rc;
    if (cli_options_parse(&idle_spec, &com, &o, argc, argv, &rc) != 0)
        return rc;
    struct cli_source src = com.src;
    int64_t duration_ns = o.duration_ns, interval_ns = o.interval_ns;
    int store = o.store, force = o.force;
    if (optind < argc)
        return cli_usage_error("idle", "unexpected argument '%s'", argv[optind]);
    char dir[4096], err[512];
    if (store && baseline_dir(dir, sizeof dir, 1, err, sizeof err) != 0) {
        fprintf(stderr, "joules idle: %s\n", err);
        return CLI_EXIT_FAILURE;
    }

    sigset_t stop_set, orig_mask;
    cli_stop_block(&stop_set, &orig_mask);
    struct cli_monitor cm;
    int monitor_open = 0;
    rc = CLI_EXIT_FAILURE;
    joules_sampler *s = NULL;
    joules_domain_energy *meas_dom = NULL;
    if (cli_open_monitor("idle", &src, &cm) != 0)
        goto out;
    monitor_open = 1;
    int n_info = joules_domain_count(cm.m);
    static joules_domain_info info[JOULES_MAX_DOMAINS];
    static struct idle_acc acc;
    /* The result's domains on the heap, one per domain of the monitor (freed at out). */
    meas_dom = calloc(n_info > 0 ? (size_t)n_info : 1, sizeof *meas_dom);
    joules_measurement meas;
    joules_measurement_init(&meas, meas_dom, meas_dom && n_info > 0 ? n_info : 0);
    memset(&acc, 0, sizeof acc);
    if (!meas_dom) {
        fprintf(stderr, "joules idle: out of memory\n");
        goto out;
    }
    if (n_info <= 0) {
        cli_print_no_sensor("idle", "nothing to measure: no GPU and no CPU energy sensor.", cm.m);
        goto out;
    }
    int simulated = 0;
    for (int i = 0; i < n_info; i++) {
        joules_domain_info_get(cm.m, i, &info[i]);
        simulated |= info[i].simulated;
    }
    /* Let the sensors publish a first reading of their own (power-on values, a P-state
     * change as the driver is opened) before measuring: two update periods, at least 250 ms. */
    int64_t settle_ns = 250000000LL;
    for (int i = 0; i < n_info; i++)
        if ((int64_t)info[i].update_interval_ns * 2 > settle_ns)
            settle_ns = (int64_t)info[i].update_interval_ns * 2;
    if (cli_stop_wait(&stop_set, settle_ns) != 0) {
        fprintf(stderr, "joules idle: interrupted; nothing stored\n");
        goto out;
    }
    joules_sampler_options so;
    joules_sampler_options_init(&so);
    so.interval_ns = (uint64_t)interval_ns;
    so.callback = on_round;
    so.user = &acc;
    if (joules_sampler_start(cm.m, &so, &s) != 0 || joules_window_begin(cm.m, "idle") != 0) {
        fprintf(stderr, "joules idle: cannot start measuring: %s\n", joules_last_error(cm.m));
        goto out;
    }
    fprintf(stderr,
            "joules idle: measuring the static power for %.1f s; leave the machine at "
            "rest...\n",
            (double)duration_ns * 1e-9);
    int sig = cli_stop_wait(&stop_set, duration_ns);
    int erc = joules_window_end(cm.m, "idle", &meas);
    joules_sampler_stop(s, NULL);
    if (sig) {
        fprintf(stderr, "joules idle: interrupted by %s; nothing stored\n", strsignal(sig));
        goto out;
    }
    if (erc != 0) {
        fprintf(stderr, "joules idle: the measurement failed: %s\n", joules_last_error(cm.m));
        goto out;
    }

    printf("Static power over %.1f s%s\n", meas.duration_s, simulated ? "   SIMULATED" : "");
    printf("%-10s %22s %9s %17s %6s %5s\n", "domain", "mean power", "spread", "min..max", "state",
           "util");
    int warnings = 0, stored = 0, valid = 0;
    static io_baseline b[JOULES_MAX_DOMAINS];
    for (int i = 0; i < meas.n_domains; i++) {
        const joules_domain_energy *e = &meas.domains[i];
        const joules_domain_info *in = &info[e->domain];
        if (!e->valid) {
            printf("%-10s not measured: %s\n", in->name, e->message);
            continue;
        }
        valid++;
        warnings += assess(in, e, &acc.d[e->domain], meas.duration_s, &b[i]);
        char util[16] = "-", mm[40] = "-";
        if (b[i].utilization_max_pct >= 0)
            snprintf(util, sizeof util, "%d%%", b[i].utilization_max_pct);
        if (b[i].power_min_w >= 0)
            snprintf(mm, sizeof mm, "%.1f..%.1f W", b[i].power_min_w, b[i].power_max_w);
        printf("%-10s %10.2f W +/- %6.2f %7.2f W %17s %6s %5s%s\n", in->name, b[i].power_w,
               b[i].power_uncertainty_w, b[i].power_stddev_w, mm, b[i].clock_state, util,
               in->simulated ? "  SIMULATED" : "");
    }
    if (!valid) {
        fprintf(stderr, "joules idle: no domain could be measured\n");
        goto out;
    }
    if (!store) {
        rc = 0;
        goto out;
    }
    if (warnings && !force) {
        fprintf(stderr, "joules idle: the machine was not idle: no baseline stored (stop the "
                        "load and run again, or keep it with --force)\n");
        goto out;
    }
    for (int i = 0; i < meas.n_domains; i++) {
        if (!meas.domains[i].valid)
            continue;
        char path[4400];
        if (baseline_path(path, sizeof path, dir, &info[meas.domains[i].domain],
                          b[i].clock_state) != 0 ||
            baseline_store(path, &b[i], err, sizeof err) != 0) {
            fprintf(stderr, "joules idle: cannot store the baseline of %s: %s\n", b[i].domain, err);
            continue;
        }
        printf("baseline of %s (%s) stored in %s\n", b[i].domain, b[i].clock_state, path);
        stored++;
    }
    rc = stored ? 0 : CLI_EXIT_FAILURE;
out:
    joules_sampler_free(s);
    free(meas_dom);
    if (monitor_open)
        cli_close_monitor(&cm);
    cli_stop_unblock(&orig_mask);
    return rc;
}
