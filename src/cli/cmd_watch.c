/* SPDX-License-Identifier: MIT */
/*
 * cmd_watch.c - `joules watch`: power over time, live. A sampler reads every domain each
 * interval; its callback writes every sample to the CSV series and the chart (so the files
 * are complete however slow the terminal is), and its ring feeds the view: a table
 * redrawn in place on a terminal, one plain line per round otherwise.
 *
 * Ctrl-C (SIGINT), SIGTERM, SIGHUP, SIGQUIT and SIGPIPE end the watch cleanly: they are
 * blocked in every thread and the main thread waits for them with sigtimedwait between refreshes,
 * so the files are always completed (atomically) and the summary always printed.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_options.h"
#include "cli/cli_sampling.h"
#include "cli/cli_signal.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "io/atomic.h"
#include "util/util.h"

enum { OPT_INTERVAL = CLI_OPT_COMMAND, OPT_DURATION, OPT_PLOT, OPT_NORMALISE };

static const char watch_help_head[] =
    "Usage: joules watch [OPTIONS]\n\n"
    "Show the power of every domain over time, live: GPU power (instant and 1-s\n"
    "average), power limit, energy, clocks, temperature, P-state, utilisation and\n"
    "clock-event reasons; CPU and DRAM power from the RAPL counters. On a terminal the\n"
    "table is redrawn in place; otherwise one line is printed per sample. Runs until\n"
    "Ctrl-C (or --duration); files are then completed and a summary printed.\n\n"
    "Options:\n";

static const char watch_help_tail[] =
    "\nDurations: 250ms, 2s, 1.5min, 1h (a bare number is in seconds).\n\n"
    "Examples:\n"
    "  joules watch\n"
    "  joules watch --interval 10ms --duration 30s --csv power.csv --plot power.svg\n"
    "  joules watch --sim a100 --scenario square.scn --duration 5s --normalise "
    "--plot sq.svg\n\n"
    "Exit status: 0 on success, 1 if nothing can be measured or a file could not be\n"
    "written, 2 on a wrong command line.\n";

static const struct cli_option watch_options[] = {
    {"interval", 0, required_argument, "DUR", "time between samples (default 100ms; 1ms to 1h)",
     OPT_INTERVAL},
    {"duration", 0, required_argument, "DUR", "stop after DUR (default: until Ctrl-C)",
     OPT_DURATION},
    CLI_OPTION_CSV("write every sample (schema joules.series.csv/1, see\n"
                   "docs/output.md; '-' for standard output)"),
    {"plot", 0, required_argument, "FILE.svg", "write a chart of power per domain over time",
     OPT_PLOT},
    {"normalise", 0, no_argument, NULL, "chart the power as a percentage of each GPU's limit",
     OPT_NORMALISE},
    {"normalize", 0, no_argument, NULL, "the same as --normalise", OPT_NORMALISE},
    CLI_OPTION_SIM("watch the simulated GPU (SIMULATED); also --sim=PROFILE"),
    CLI_OPTION_SCENARIO("simulated GPU running a known load (docs/scenarios.md)"),
    CLI_OPTION_QUIET("no live view (files and summary only)"),
    CLI_OPTION_HELP,
    CLI_OPTIONS_END,
};

static const struct {
    uint64_t bit;
    const char *name;
} reasons[] = {
    {0x1, "idle"},      {0x2, "app-clocks"}, {0x4, "pwr-cap"},
    {0x8, "hw-slow"},   {0x10, "sync"},      {0x20, "sw-therm"},
    {0x40, "hw-therm"}, {0x80, "pwr-brake"}, {0x100, "display"},
};

static void reason_text(uint64_t bits, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (bits & reasons[i].bit) {
            int n = snprintf(buf + used, len - used, "%s%s", used ? "," : "", reasons[i].name);
            if (n < 0 || (size_t)n >= len - used)
                break;
            used += (size_t)n;
        }
    if (!used)
        snprintf(buf, len, "-");
}

struct view {
    const joules_domain_info *info;
    int n_info;
    int tty;
    int simulated;
    int64_t interval_ns;
    double t0_s;
    joules_power_sample latest[JOULES_MAX_DOMAINS];
    int have[JOULES_MAX_DOMAINS];
};

/* A value with the given decimals, or "-" when unknown (< 0). */
static void fmt_num(char *buf, size_t len, double v, int decimals)
{
    if (v >= 0)
        snprintf(buf, len, "%.*f", decimals, v);
    else
        snprintf(buf, len, "-");
}

static void fmt_int(char *buf, size_t len, int v, const char *prefix)
{
    if (v >= 0)
        snprintf(buf, len, "%s%d", prefix, v);
    else
        snprintf(buf, len, "-");
}

static void draw_table(struct view *v, double elapsed_s, const joules_sampler_stats *st)
{
    /* Home, clear to the end: redraw in place without scrolling. */
    fputs("\033[H\033[J", stdout);
    printf("joules watch: every %g ms, %.1f s%s; Ctrl-C to stop\n", (double)v->interval_ns * 1e-6,
           elapsed_s, v->simulated ? "   SIMULATED" : "");
    printf("%-10s %9s %9s %7s %12s %6s %6s %5s %4s %5s  %s\n", "domain", "power W", "avg1s W",
           "limit%", "energy J", "SM MHz", "memMHz", "temp", "P", "util%", "reasons");
    for (int d = 0; d < v->n_info; d++) {
        if (!v->have[d])
            continue;
        const joules_power_sample *p = &v->latest[d];
        char pw[32], avg[32], lim[32], en[48], sm[24], mem[24], temp[24], ps[24], ut[24], rs[96];
        if (!p->valid) {
            printf("%-10s read failed (%s)\n", v->info[d].name, joules_strerror(p->error));
            continue;
        }
        fmt_num(pw, sizeof pw, p->power_w, 1);
        fmt_num(avg, sizeof avg, p->power_avg_w, 1);
        fmt_num(lim, sizeof lim,
                p->power_limit_w > 0 && p->power_w >= 0 ? 100.0 * p->power_w / p->power_limit_w
                                                        : -1,
                0);
        fmt_num(en, sizeof en, p->energy_j, 1);
        fmt_int(sm, sizeof sm, p->clock_sm_mhz, "");
        fmt_int(mem, sizeof mem, p->clock_mem_mhz, "");
        fmt_int(temp, sizeof temp, p->temperature_c, "");
        fmt_int(ps, sizeof ps, p->pstate, "P");
        fmt_int(ut, sizeof ut, p->utilization_gpu_pct, "");
        if (v->info[d].kind == JOULES_KIND_GPU)
            reason_text(p->clock_event_reasons, rs, sizeof rs);
        else
            snprintf(rs, sizeof rs, "-");
        printf("%-10s %9s %9s %7s %12s %6s %6s %5s %4s %5s  %s%s\n", v->info[d].name, pw, avg, lim,
               en, sm, mem, temp, ps, ut, rs, p->simulated ? "  SIMULATED" : "");
    }
    if (st->missed_deadlines || st->dropped)
        printf("%llu missed deadline(s), %llu sample(s) not shown\n",
               (unsigned long long)st->missed_deadlines, (unsigned long long)st->dropped);
    fflush(stdout);
}

/* One plain line per round: "t_s name power ... | name power ...". */
static void print_round(struct view *v, const joules_power_sample *p, int n)
{
    printf("%.3f", (double)p[0].t_ns * 1e-9 - v->t0_s);
    for (int i = 0; i < n; i++) {
        const joules_domain_info *in = &v->info[p[i].domain];
        printf("%s %s ", i ? " |" : "", in->name);
        if (!p[i].valid)
            printf("error");
        else if (p[i].power_w >= 0)
            printf("%.1fW", p[i].power_w);
        else
            printf("-");
        if (in->kind == JOULES_KIND_GPU && p[i].valid && p[i].pstate >= 0)
            printf(" P%d %dMHz %dC %d%%", p[i].pstate, p[i].clock_sm_mhz, p[i].temperature_c,
                   p[i].utilization_gpu_pct);
    }
    printf("%s\n", v->simulated ? " SIMULATED" : "");
}

/* Move what the ring holds into the view; plain mode prints each whole round. */
static void pump(joules_sampler *s, struct view *v, int quiet)
{
    joules_power_sample buf[256];
    static joules_power_sample round[JOULES_MAX_DOMAINS];
    static int n_round;
    static uint64_t round_seq;
    int n;
    while ((n = joules_sampler_drain(s, buf, 256)) > 0)
        for (int i = 0; i < n; i++) {
            const joules_power_sample *p = &buf[i];
            if (p->domain >= 0 && p->domain < JOULES_MAX_DOMAINS) {
                v->latest[p->domain] = *p;
                v->have[p->domain] = 1;
            }
            if (quiet || v->tty)
                continue;
            if (n_round > 0 && p->seq != round_seq) {
                print_round(v, round, n_round);
                n_round = 0;
            }
            round_seq = p->seq;
            if (n_round < JOULES_MAX_DOMAINS)
                round[n_round++] = *p;
        }
    /* A round is complete once the ring is empty (rounds are pushed whole). */
    if (n_round > 0 && !quiet && !v->tty) {
        print_round(v, round, n_round);
        n_round = 0;
        fflush(stdout);
    }
}

/* Drain the sampler and redraw the view every refresh_ns until duration_ns (0: no limit)
 * has passed or a signal of stop_set arrives. Returns that signal, or 0; *st the sampler's
 * statistics at the last refresh. */
static int refresh_until_stopped(struct view *v, struct cli_series *cs, const sigset_t *stop_set,
                                 int64_t refresh_ns, int64_t duration_ns, int quiet,
                                 joules_sampler_stats *st)
{
    int64_t start = cs->clock.t0_ns;
    memset(st, 0, sizeof *st);
    for (;;) {
        int64_t now = util_now_ns();
        int64_t wait = refresh_ns;
        if (duration_ns > 0) {
            int64_t left = start + duration_ns - now;
            if (left <= 0)
                return 0;
            wait = left < wait ? left : wait;
        }
        int sig = cli_stop_wait(stop_set, wait);
        if (sig > 0)
            return sig;
        pump(cs->sampler, v, quiet);
        joules_sampler_stats_get(cs->sampler, st);
        if (v->tty && !quiet)
            draw_table(v, (double)(now - start) * 1e-9, st);
    }
}

struct watch_options {
    struct cli_series cs;
    int64_t interval_ns, duration_ns;
};

static int watch_take(void *ctx, int id, const char *v)
{
    struct watch_options *o = ctx;
    int rc = 0;
    switch (id) {
    case OPT_INTERVAL:
        rc =
            cli_parse_duration("watch", "--interval", v, 1000000, 3600000000000LL, &o->interval_ns);
        if (rc == 0)
            cli_note_bare_seconds("watch", "--interval", v, 5.0);
        break;
    case OPT_DURATION:
        rc = cli_parse_duration("watch", "--duration", v, 1000000, 366LL * 86400 * 1000000000LL,
                                &o->duration_ns);
        break;
    case OPT_PLOT:
        if ((rc = cli_check_output_name("watch", "--plot", v)) == 0)
            o->cs.plot_path = v;
        break;
    case OPT_NORMALISE:
        o->cs.normalise = 1;
        break;
    }
    return rc;
}

static const struct cli_command_spec watch_spec = {
    .name = "watch",
    .help_head = watch_help_head,
    .options = watch_options,
    .help_tail = watch_help_tail,
    .take = watch_take,
};

int cmd_watch(int argc, char **argv)
{
    static struct watch_options o;
    memset(&o, 0, sizeof o);
    o.interval_ns = 100000000;
    struct cli_common com = {0};
    int rc;
    if (cli_options_parse(&watch_spec, &com, &o, argc, argv, &rc) != 0)
        return rc;
    struct cli_source src = com.src;
    struct cli_series *cs = &o.cs;
    cs->csv_path = com.csv;
    int64_t interval_ns = o.interval_ns, duration_ns = o.duration_ns;
    int quiet = com.quiet;
    if (optind < argc)
        return cli_usage_error("watch", "unexpected argument '%s'", argv[optind]);
    if (cs->normalise && !cs->plot_path)
        return cli_usage_error("watch", "--normalise applies to the chart: add --plot FILE.svg");
    char same[IO_OUTPUTS_MSG_MAX];
    if (io_outputs_distinct(same, sizeof same, "--csv", cs->csv_path, "--plot", cs->plot_path,
                            (char *)NULL) != 0)
        return cli_usage_error("watch", "%s", same);
    if (cs->csv_path && strcmp(cs->csv_path, "-") == 0)
        quiet = 1; /* standard output carries the CSV */
    cs->title = "joules watch: power over time";
    if ((rc = cli_series_open(cs, "watch")))
        return rc;

    /* Blocked in every thread (the library's inherit the mask): sigtimedwait takes them. */
    sigset_t stop_set, orig_mask;
    cli_stop_block(&stop_set, &orig_mask);

    struct cli_monitor cm;
    int monitor_open = 0, finished = 0;
    rc = CLI_EXIT_FAILURE;
    if (cli_open_monitor("watch", &src, &cm) != 0)
        goto done;
    monitor_open = 1;
    static joules_domain_info info[JOULES_MAX_DOMAINS];
    int n_info = joules_domain_count(cm.m);
    if (n_info <= 0) {
        cli_print_no_sensor("watch", "nothing to watch: no GPU and no CPU energy sensor.", cm.m);
        goto done;
    }
    static struct view v;
    memset(&v, 0, sizeof v);
    for (int i = 0; i < n_info; i++) {
        joules_domain_info_get(cm.m, i, &info[i]);
        v.simulated |= info[i].simulated;
    }
    v.info = info;
    v.n_info = n_info;
    v.tty = isatty(STDOUT_FILENO);
    v.interval_ns = interval_ns;

    /* Refresh every interval, but not faster than 20 times a second nor slower than twice. */
    int64_t refresh_ns = interval_ns < 50000000    ? 50000000
                         : interval_ns > 500000000 ? 500000000
                                                   : interval_ns;
    size_t ring = (size_t)n_info * (size_t)(4 * (refresh_ns / interval_ns) + 64);
    if ((rc = cli_series_start(cs, "watch", cm.m, info, n_info, interval_ns, ring)))
        goto done;
    v.t0_s = (double)cs->clock.t0_ns * 1e-9;
    joules_sampler_stats st;
    int got_signal = refresh_until_stopped(&v, cs, &stop_set, refresh_ns, duration_ns, quiet, &st);
    cli_series_stop(cs, &st);
    pump(cs->sampler, &v, quiet);
    if (v.tty && !quiet)
        fputc('\n', stdout);
    fflush(stdout);
    rc = cli_series_finish(cs, "watch") == 0 ? 0 : CLI_EXIT_FAILURE;
    finished = 1;
    cli_series_print_stats(stderr, "watch", &st, interval_ns);
    if (got_signal)
        fprintf(stderr, "joules watch: stopped by %s\n", strsignal(got_signal));
    if (v.simulated)
        fprintf(stderr, "joules watch: SIMULATED: the GPU figures come from the simulated GPU\n");
    if (rc == 0 && cs->csv_path && strcmp(cs->csv_path, "-") != 0)
        fprintf(stderr, "joules watch: series written to %s\n", cs->csv_path);
    if (rc == 0 && cs->plot_path)
        fprintf(stderr, "joules watch: chart written to %s\n", cs->plot_path);
done:
    if (!finished)
        cli_series_abort(cs);
    if (monitor_open)
        cli_close_monitor(&cm);
    cli_stop_unblock(&orig_mask);
    return rc;
}
