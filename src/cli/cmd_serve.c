/* SPDX-License-Identifier: MIT */
/*
 * cmd_serve.c - `joules serve`: the Prometheus/OpenMetrics exporter. This file only reads
 * the options and runs the serve layer (src/serve/) until SIGINT or SIGTERM: the signals are
 * blocked before the sampler and the HTTP server start their threads (which inherit the
 * mask), and the main thread takes them with sigtimedwait, so no handler runs at all.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_options.h"
#include "cli/cli_sampling.h"
#include "cli/cli_signal.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "serve/serve.h"

enum { OPT_LISTEN = CLI_OPT_COMMAND, OPT_INTERVAL, OPT_DCGM_LABELS };

#define SERVE_STR_(x) #x
#define SERVE_STR(x)  SERVE_STR_(x)

static const char serve_help_head[] =
    "Usage: joules serve [OPTIONS]\n\n"
    "Export the energy, power, clocks and temperature of every domain (NVIDIA GPUs,\n"
    "RAPL CPU packages and DRAM) to Prometheus: GET /metrics answers in OpenMetrics\n"
    "1.0.0 or in the text format 0.0.4, as the scraper asks; GET / lists the devices.\n"
    "A sampler reads the devices every interval; a scrape formats its latest readings\n"
    "and never waits on a device. Energy counters (joules_energy_joules_total) never\n"
    "go down while the exporter runs. Runs until SIGINT or SIGTERM. docs/serve.md\n"
    "lists the metrics.\n\n"
    "Options:\n";

static const char serve_help_tail[] =
    "\nEnvironment: SLURM_JOB_ID, when set, labels every domain (hpc_job).\n\n"
    "Examples:\n"
    "  joules serve\n"
    "  joules serve --listen 127.0.0.1:9464 --interval 500ms\n"
    "  joules serve --dcgm-labels\n"
    "  joules serve --sim --scenario scenarios/demo.scn --listen 127.0.0.1:0\n\n"
    "Exit status: 0 when stopped by a signal, 1 if nothing can be measured or the\n"
    "address cannot be listened on, 2 on a wrong command line.\n";

static const struct cli_option serve_options_table[] = {
    {"listen", 0, required_argument, "ADDR",
     "HOST:PORT to listen on (default 127.0.0.1:" SERVE_STR(
         SERVE_DEFAULT_PORT) "); a\n"
                             "numeric address, [IPV6]:PORT or localhost; port 0 picks\n"
                             "a free one. Energy readings are a side channel: listening\n"
                             "beyond loopback is warned about",
     OPT_LISTEN},
    {"interval", 0, required_argument, "DUR", "time between readings (default 1s; 10ms to 1h)",
     OPT_INTERVAL},
    {"dcgm-labels", 0, no_argument, NULL,
     "also label GPUs modelName, as dcgm-exporter does, beside\n"
     "model_name, for dashboards written for dcgm-exporter\n"
     "(camelCase: promtool check metrics flags that label)",
     OPT_DCGM_LABELS},
    CLI_OPTION_SIM("export the simulated GPU (SIMULATED); also --sim=PROFILE\n" CLI_HELP_PROFILES),
    CLI_OPTION_SCENARIO("simulated GPU running a known load (docs/scenarios.md)"),
    CLI_OPTION_HELP,
    CLI_OPTIONS_END,
};

struct serve_options {
    struct cli_common com; /* --sim, --scenario */
    const char *listen;
    int64_t interval_ns;
    int dcgm_labels;
};

static int serve_take(void *ctx, int id, const char *v)
{
    struct serve_options *o = ctx;
    switch (id) {
    case OPT_LISTEN:
        o->listen = v;
        return 0;
    case OPT_DCGM_LABELS:
        o->dcgm_labels = 1;
        return 0;
    case OPT_INTERVAL:
        return cli_parse_duration("serve", "--interval", v, 10000000, 3600000000000LL,
                                  &o->interval_ns);
    default:
        return 0;
    }
}

static void serve_help(FILE *out);

static const struct cli_command_spec serve_spec = {
    .name = "serve",
    .help_head = serve_help_head,
    .options = serve_options_table,
    .help_tail = serve_help_tail,
    .take = serve_take,
    .help = serve_help,
};

/* The table's help, and what this build lacks. */
static void serve_help(FILE *out)
{
    fputs(serve_help_head, out);
    cli_options_print(serve_options_table, out);
    fputs(serve_help_tail, out);
    if (serve_unavailable())
        fprintf(out, "\nNot available in this build: %s.\n", serve_unavailable());
}

/* The command line into o: 0, or nonzero when the command ends now with *status. */
static int parse_options(int argc, char **argv, struct serve_options *o, int *status)
{
    memset(o, 0, sizeof *o);
    o->listen = "127.0.0.1:" SERVE_STR(SERVE_DEFAULT_PORT);
    o->interval_ns = 1000000000;
    if (cli_options_parse(&serve_spec, &o->com, o, argc, argv, status) != 0)
        return 1;
    if (optind < argc) {
        *status = cli_usage_error("serve", "unexpected argument '%s'", argv[optind]);
        return 1;
    }
    return 0;
}

int cmd_serve(int argc, char **argv)
{
    struct serve_options o;
    int rc;
    if (parse_options(argc, argv, &o, &rc) != 0)
        return rc;
    struct serve_config cfg;
    char err[JOULES_MESSAGE_MAX + 256];
    memset(&cfg, 0, sizeof cfg);
    if (serve_parse_listen(o.listen, &cfg.listen, err, sizeof err) != 0)
        return cli_usage_error("serve", "--listen: %s", err);
    if (serve_unavailable()) {
        cli_error("serve: %s", serve_unavailable());
        return CLI_EXIT_FAILURE;
    }
    if (!cfg.listen.loopback)
        fprintf(stderr,
                "joules serve: warning: %s is reachable from other machines. Energy readings "
                "are a side channel (RAPL: CVE-2020-8694, PLATYPUS): expose them only to "
                "trusted scrapers (a firewall, or a reverse proxy with TLS and "
                "authentication).\n",
                cfg.listen.text);
    cfg.interval_ns = o.interval_ns;
    cfg.dcgm_labels = o.dcgm_labels;
    cfg.hpc_job = getenv("SLURM_JOB_ID");

    /* The tracker thread polls GPU counters every 5 ms by default, for the edges of windows,
     * which the exporter has none of: at a tenth of a second (or the interval, if shorter)
     * it still integrates the power of devices without a counter finely, at a fraction of
     * the CPU (bench/bench_serve.c). */
    o.com.src.tracker_period_ns = o.interval_ns < 100000000 ? (uint64_t)o.interval_ns : 100000000u;

    /* Blocked in every thread (the library's and the server's inherit the mask). */
    sigset_t stop_set, orig_mask;
    cli_stop_block(&stop_set, &orig_mask);
    struct cli_monitor cm;
    if (cli_open_monitor("serve", &o.com.src, &cm) != 0) {
        cli_stop_unblock(&orig_mask);
        return CLI_EXIT_FAILURE;
    }
    int n = joules_domain_count(cm.m);
    if (n <= 0) {
        cli_print_no_sensor("serve", "nothing to export: no GPU and no CPU energy sensor.", cm.m);
        cli_close_monitor(&cm);
        cli_stop_unblock(&orig_mask);
        return CLI_EXIT_FAILURE;
    }
    serve_server *srv;
    if (serve_start(&srv, cm.m, &cfg, err, sizeof err) != 0) {
        cli_error("serve: %s", err);
        cli_close_monitor(&cm);
        cli_stop_unblock(&orig_mask);
        return CLI_EXIT_FAILURE;
    }
    /* What is exported and what is not (RAPL unreadable, no driver), for the service's log. */
    cli_print_backends(stderr, cm.m, "joules serve: ");
    fprintf(stderr, "joules serve: listening on %s (%d domain%s, a reading every %g s)%s\n",
            serve_url(srv), n, n == 1 ? "" : "s", (double)o.interval_ns * 1e-9,
            cm.used_sim ? "   SIMULATED" : "");
    int sig;
    while ((sig = cli_stop_wait(&stop_set, 3600LL * 1000000000LL)) == 0)
        ;
    struct serve_totals t;
    serve_stop(srv, &t);
    fprintf(stderr, "joules serve: stopped by %s after %llu scrape%s\n", strsignal(sig),
            (unsigned long long)t.scrapes, t.scrapes == 1 ? "" : "s");
    cli_series_print_stats(stderr, "serve", &t.sampler, o.interval_ns);
    cli_close_monitor(&cm);
    /* The stop signals stay blocked to the end: a second one on its way (a launcher that
     * signals the process and its group) must not turn a clean stop into a death by signal. */
    (void)orig_mask;
    return 0;
}
