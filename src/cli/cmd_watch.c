/* SPDX-License-Identifier: MIT */
/*
 * cmd_watch.c - `joules watch`: power over time, live. A sampler reads every domain each
 * interval; its callback writes every sample to the CSV series and the chart (so the files
 * are complete however slow the terminal is), and its ring feeds the view: a table
 * redrawn in place on a terminal, one plain line per round otherwise.
 *
 * Ctrl-C (SIGINT), SIGTERM and SIGHUP end the watch cleanly: they are blocked in every
 * thread and the main thread waits for them with sigtimedwait between refreshes, so the
 * files are always completed (atomically) and the summary always printed.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_sampling.h"
#include "cli/cli_signal.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "io/atomic.h"

enum { OPT_INTERVAL = 0x200, OPT_DURATION, OPT_PLOT, OPT_NORMALISE };

static void help(FILE *out)
{
    fprintf(out,
            "Usage: joules watch [OPTIONS]\n\n"
            "Show the power of every domain over time, live: GPU power (instant and 1-s\n"
            "average), power limit, energy, clocks, temperature, P-state, utilisation and\n"
            "clock-event reasons; CPU and DRAM power from the RAPL counters. On a terminal the\n"
            "table is redrawn in place; otherwise one line is printed per sample. Runs until\n"
            "Ctrl-C (or --duration); files are then completed and a summary printed.\n\n"
            "Options:\n"
            "  --interval DUR    time between samples (default 100ms; 1ms to 1h)\n"
            "  --duration DUR    stop after DUR (default: until Ctrl-C)\n"
            "  --csv FILE        write every sample (schema joules.series.csv/1, see\n"
            "                    docs/output.md; '-' for standard output)\n"
            "  --plot FILE.svg   write a chart of power per domain over time\n"
            "  --normalise       chart the power as a percentage of each GPU's limit\n"
            "  --sim [PROFILE]   watch the simulated GPU (SIMULATED); also --sim=PROFILE\n"
            "  --scenario FILE   simulated GPU running a known load (docs/scenarios.md)\n"
            "  -q, --quiet       no live view (files and summary only)\n"
            "  -h, --help        this help\n\n"
            "Durations: 250ms, 2s, 1.5min, 1h (a bare number is in seconds).\n\n"
            "Examples:\n"
            "  joules watch\n"
            "  joules watch --interval 10ms --duration 30s --csv power.csv --plot power.svg\n"
            "  joules watch --sim a100 --scenario square.scn --duration 5s --normalise "
            "--plot sq.svg\n\n"
            "Exit status: 0 on success, 1 if nothing can be measured or a file could not be\n"
            "written, 2 on a wrong command line.\n");
}

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

int cmd_watch(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"interval", required_argument, NULL, OPT_INTERVAL},
        {"duration", required_argument, NULL, OPT_DURATION},
        {"csv", required_argument, NULL, CLI_OPT_CSV},
        {"plot", required_argument, NULL, OPT_PLOT},
        {"normalise", no_argument, NULL, OPT_NORMALISE},
        {"normalize", no_argument, NULL, OPT_NORMALISE},
        {"sim", optional_argument, NULL, CLI_OPT_SIM},
        {"scenario", required_argument, NULL, CLI_OPT_SCENARIO},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cli_source src = {0};
    struct cli_series cs = {0};
    int64_t interval_ns = 100000000, duration_ns = 0;
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
        case OPT_INTERVAL:
            if ((rc = cli_parse_duration("watch", "--interval", optarg, 1000000, 3600000000000LL,
                                         &interval_ns)))
                return rc;
            cli_note_bare_seconds("watch", "--interval", optarg, 5.0);
            break;
        case OPT_DURATION:
            if ((rc = cli_parse_duration("watch", "--duration", optarg, 1000000,
                                         366LL * 86400 * 1000000000LL, &duration_ns)))
                return rc;
            break;
        case CLI_OPT_CSV:
            if ((rc = cli_check_output_name("watch", "--csv", optarg)))
                return rc;
            cs.csv_path = optarg;
            break;
        case OPT_PLOT:
            if ((rc = cli_check_output_name("watch", "--plot", optarg)))
                return rc;
            cs.plot_path = optarg;
            break;
        case OPT_NORMALISE:
            cs.normalise = 1;
            break;
        case CLI_OPT_SIM:
            if ((rc = cli_take_sim_option(&src, "watch", 0, argc, argv)))
                return rc;
            break;
        case CLI_OPT_SCENARIO:
            if ((rc = cli_take_scenario_option(&src, "watch", optarg)))
                return rc;
            break;
        default:
            return cli_getopt_error("watch", c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("watch", "unexpected argument '%s'", argv[optind]);
    if (cs.normalise && !cs.plot_path)
        return cli_usage_error("watch", "--normalise applies to the chart: add --plot FILE.svg");
    char same[JOULES_OUTPUTS_MSG_MAX];
    if (joules_outputs_distinct(same, sizeof same, "--csv", cs.csv_path, "--plot", cs.plot_path,
                                (char *)NULL) != 0)
        return cli_usage_error("watch", "%s", same);
    if (cs.csv_path && strcmp(cs.csv_path, "-") == 0)
        quiet = 1; /* standard output carries the CSV */
    cs.title = "joules watch: power over time";
    if ((rc = cli_series_open(&cs, "watch")))
        return rc;

    /* Blocked in every thread (the library's inherit the mask): sigtimedwait takes them. */
    sigset_t stop_set, orig_mask;
    cli_stop_block(&stop_set, &orig_mask);

    struct cli_monitor cm;
    if (cli_open_monitor("watch", &src, &cm) != 0) {
        cli_series_abort(&cs);
        cli_stop_unblock(&orig_mask);
        return CLI_EXIT_FAILURE;
    }
    static joules_domain_info info[JOULES_MAX_DOMAINS];
    int n_info = joules_domain_count(cm.m);
    if (n_info <= 0) {
        cli_print_no_sensor("watch", "nothing to watch: no GPU and no CPU energy sensor.", cm.m);
        cli_close_monitor(&cm);
        cli_series_abort(&cs);
        cli_stop_unblock(&orig_mask);
        return CLI_EXIT_FAILURE;
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
    if ((rc = cli_series_start(&cs, "watch", cm.m, info, n_info, interval_ns, ring))) {
        cli_close_monitor(&cm);
        cli_series_abort(&cs);
        cli_stop_unblock(&orig_mask);
        return rc;
    }
    v.t0_s = (double)cs.clock.t0_ns * 1e-9;
    int64_t start = cs.clock.t0_ns;
    int got_signal = 0;
    joules_sampler_stats st;
    for (;;) {
        struct timespec now_ts;
        clock_gettime(CLOCK_MONOTONIC, &now_ts);
        int64_t now = (int64_t)now_ts.tv_sec * 1000000000LL + now_ts.tv_nsec;
        int64_t wait = refresh_ns;
        if (duration_ns > 0) {
            int64_t left = start + duration_ns - now;
            if (left <= 0)
                break;
            wait = left < wait ? left : wait;
        }
        int sig = cli_stop_wait(&stop_set, wait);
        if (sig > 0) {
            got_signal = sig;
            break;
        }
        pump(cs.sampler, &v, quiet);
        joules_sampler_stats_get(cs.sampler, &st);
        if (v.tty && !quiet)
            draw_table(&v, (double)(now - start) * 1e-9, &st);
    }
    cli_series_stop(&cs, &st);
    pump(cs.sampler, &v, quiet);
    if (v.tty && !quiet)
        fputc('\n', stdout);
    fflush(stdout);
    rc = cli_series_finish(&cs, "watch") == 0 ? 0 : CLI_EXIT_FAILURE;
    cli_series_print_stats(stderr, "watch", &st, interval_ns);
    if (got_signal)
        fprintf(stderr, "joules watch: stopped by %s\n", strsignal(got_signal));
    if (v.simulated)
        fprintf(stderr, "joules watch: SIMULATED: the GPU figures come from the simulated GPU\n");
    if (rc == 0 && cs.csv_path && strcmp(cs.csv_path, "-") != 0)
        fprintf(stderr, "joules watch: series written to %s\n", cs.csv_path);
    if (rc == 0 && cs.plot_path)
        fprintf(stderr, "joules watch: chart written to %s\n", cs.plot_path);
    cli_close_monitor(&cm);
    cli_stop_unblock(&orig_mask);
    return rc;
}
