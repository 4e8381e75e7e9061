/* SPDX-License-Identifier: MIT */
/*
 * bench_serve.c - what `joules serve` costs with 8 simulated GPUs and a fake RAPL tree of two
 * packages (package, core, DRAM each): the time to format one scrape (OpenMetrics and text
 * 0.0.4), one scrape over loopback HTTP, the exporter's CPU per scrape, and the share of a
 * core the whole process takes reading every 1 s and scraped every 1 s (sampler, the
 * monitor's tracker thread at 100 ms as `joules serve` sets it, the HTTP thread and this
 * client). Goals: <= 1 ms a scrape,
 * <= 0.5 % of a core. Where Debian's prometheus-node-exporter is installed, its scrape on the
 * same machine is timed beside ours.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "joules.h"
#include "serve/serve.h"
#include "serve/serve_format.h"
#include "serve/serve_state.h"
#include "support.h"

#define GPUS 8

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec * 1e-6;
}

static void on_round(const joules_power_sample *samples, int n, void *user)
{
    serve_state_update(user, samples, n);
}

static void fake_zone(const char *root, const char *entry, const char *name, unsigned long long uj)
{
    char path[4200], text[64];
    snprintf(path, sizeof path, "%s/class/powercap/%s/name", root, entry);
    snprintf(text, sizeof text, "%s\n", name);
    t_write_file(path, text);
    snprintf(path, sizeof path, "%s/class/powercap/%s/max_energy_range_uj", root, entry);
    t_write_file(path, "262143999938\n");
    snprintf(path, sizeof path, "%s/class/powercap/%s/energy_uj", root, entry);
    snprintf(text, sizeof text, "%020llu\n", uj);
    t_write_file(path, text);
}

static joules_monitor *open_monitor(const char *sysfs)
{
    setenv("JOULES_SIM_PROFILE", "a100", 1);
    setenv("JOULES_SIM_DEVICES", "8", 1);
    unsetenv("JOULES_SIM_SCENARIO");
    joules_options o;
    joules_options_init(&o);
    o.nvml_library = JOULES_TEST_SIM_LIB;
    o.sysfs_root = sysfs;
    o.tracker_period_ns = 100000000; /* as `joules serve` opens it */
    joules_monitor *m = NULL;
    char err[256];
    if (joules_open(&m, &o, err, sizeof err) != 0) {
        fprintf(stderr, "joules_open: %s\n", err);
        exit(1);
    }
    return m;
}

/* One GET /metrics on 127.0.0.1:port, read to the end; the bytes read, -1 on failure. */
static long http_get(unsigned port, const char *accept)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    char req[512], buf[65536];
    int n = snprintf(req, sizeof req,
                     "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: %s\r\n"
                     "Connection: close\r\n\r\n",
                     accept);
    long got = 0;
    if (send(fd, req, (size_t)n, MSG_NOSIGNAL) == n) {
        ssize_t r;
        while ((r = recv(fd, buf, sizeof buf, 0)) > 0)
            got += r;
    }
    close(fd);
    return got;
}

static const char *const om_accept = "application/openmetrics-text;version=1.0.0,text/plain;"
                                     "version=0.0.4;q=0.5,*/*;q=0.1";

/* Wall ms per scrape over n GETs, and CPU ms (whole process) per scrape. */
static void time_gets(unsigned port, const char *accept, int n, double *wall_ms, double *cpu_ms,
                      long *bytes)
{
    double c0 = cpu_s(), t0 = t_mono_s();
    for (int i = 0; i < n; i++)
        *bytes = http_get(port, accept);
    *wall_ms = (t_mono_s() - t0) * 1e3 / n;
    *cpu_ms = (cpu_s() - c0) * 1e3 / n;
}

static void format_cost(joules_monitor *m)
{
    struct serve_state st;
    char err[256];
    if (serve_state_init(&st, m, 1000000000, "bench", "12345", 0, err, sizeof err) != 0) {
        fprintf(stderr, "serve_state_init: %s\n", err);
        exit(1);
    }
    joules_sampler_options so;
    joules_sampler_options_init(&so);
    so.interval_ns = 1000000000;
    so.callback = on_round;
    so.user = &st;
    joules_sampler *s;
    if (joules_sampler_start(m, &so, &s) != 0)
        exit(1);
    t_sleep(0.2);
    static struct serve_snapshot snap;
    struct serve_buf b = {0};
    for (int f = 0; f < 2; f++) {
        const int n = 5000;
        double t0 = t_mono_s();
        for (int i = 0; i < n; i++) {
            b.len = 0;
            serve_state_snapshot(&st, &snap);
            serve_format_metrics(&b, &st, &snap, 0, f ? SERVE_OPENMETRICS : SERVE_TEXT_004);
        }
        double us = (t_mono_s() - t0) * 1e6 / n;
        printf("  format, %-11s %7.1f us a scrape (%zu bytes, %d domains)\n",
               f ? "OpenMetrics" : "text 0.0.4", us, b.len, st.n);
    }
    serve_buf_free(&b);
    joules_sampler_free(s);
    serve_state_destroy(&st);
}

static unsigned free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    socklen_t len = sizeof a;
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

static double proc_cpu_s(pid_t pid)
{
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    const char *p = strrchr(text, ')');
    unsigned long long ut = 0, stt = 0;
    if (!p ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &stt) != 2)
        return -1;
    return (double)(ut + stt) / (double)sysconf(_SC_CLK_TCK);
}

/* prometheus-node-exporter with its default collectors, scraped the same way. */
static void node_exporter(double ours_ms)
{
    const char *exe = "/usr/bin/prometheus-node-exporter";
    if (access(exe, X_OK) != 0) {
        printf("  prometheus-node-exporter: not installed (apt-get install "
               "prometheus-node-exporter to compare)\n");
        return;
    }
    unsigned port = free_port();
    char listen[64];
    snprintf(listen, sizeof listen, "--web.listen-address=127.0.0.1:%u", port);
    pid_t pid = fork();
    if (pid == 0) {
        freopen("/dev/null", "w", stderr);
        execl(exe, exe, listen, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100 && http_get(port, "text/plain") <= 0; i++)
        t_sleep(0.05);
    const int n = 50;
    double c0 = proc_cpu_s(pid), t0 = t_mono_s();
    long bytes = 0;
    for (int i = 0; i < n; i++)
        bytes = http_get(port, "text/plain");
    double wall = (t_mono_s() - t0) * 1e3 / n, cpu = (proc_cpu_s(pid) - c0) * 1e3 / n;
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    if (bytes <= 0) {
        printf("  prometheus-node-exporter: did not answer\n");
        return;
    }
    printf("  prometheus-node-exporter (default collectors): %.3f ms a scrape, %.3f ms CPU "
           "(%ld bytes); joules serve is %.0f times faster\n",
           wall, cpu, bytes, ours_ms > 0 ? wall / ours_ms : 0.0);
}

int main(void)
{
    char root[4096];
    if (t_mkdtemp(root, sizeof root) != 0)
        return 1;
    const char *zones[][2] = {{"intel-rapl:0", "package-0"}, {"intel-rapl:0:0", "core"},
                              {"intel-rapl:0:1", "dram"},    {"intel-rapl:1", "package-1"},
                              {"intel-rapl:1:0", "core"},    {"intel-rapl:1:1", "dram"}};
    for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++)
        fake_zone(root, zones[i][0], zones[i][1], 1000000ull * (i + 1));
    joules_monitor *m = open_monitor(root);
    printf("bench_serve: %d simulated GPUs + %d fake RAPL domains\n", GPUS,
           joules_domain_count(m) - GPUS);
    format_cost(m);
    if (serve_unavailable()) {
        printf("  HTTP: not built (%s)\n", serve_unavailable());
        joules_close(m);
        t_rmtree(root);
        return 0;
    }

    struct serve_config cfg;
    memset(&cfg, 0, sizeof cfg);
    char err[512];
    serve_parse_listen("127.0.0.1:0", &cfg.listen, err, sizeof err);
    cfg.interval_ns = 1000000000;
    serve_server *srv;
    if (serve_start(&srv, m, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "serve_start: %s\n", err);
        return 1;
    }
    unsigned port = serve_port(srv);
    t_sleep(0.2);
    double wall_ms, cpu_ms, ours_ms = 0;
    long bytes = 0;
    time_gets(port, om_accept, 20, &wall_ms, &cpu_ms, &bytes); /* warm-up */
    for (int f = 0; f < 2; f++) {
        time_gets(port, f ? om_accept : "text/plain", 500, &wall_ms, &cpu_ms, &bytes);
        printf("  HTTP scrape, %-11s %.3f ms a scrape (wall), %.3f ms CPU of the process "
               "incl. the client (%ld bytes)   goal <= 1 ms\n",
               f ? "OpenMetrics" : "text 0.0.4", wall_ms, cpu_ms, bytes);
        if (!f)
            ours_ms = wall_ms;
    }

    /* As deployed: a reading every 1 s, a scrape every 1 s, for 10 s. */
    const double seconds = 10.0;
    double c0 = cpu_s(), t0 = t_mono_s();
    for (int i = 0; i < (int)seconds; i++) {
        http_get(port, om_accept);
        t_sleep(1.0 - (t_mono_s() - t0 - i));
    }
    double share = (cpu_s() - c0) / (t_mono_s() - t0) * 100.0;
    struct serve_totals tot;
    serve_stop(srv, &tot);
    printf("  at a 1 s interval, scraped every 1 s: %.3f %% of a core (whole process: sampler, "
           "tracker, HTTP, client)   goal <= 0.5 %%\n",
           share);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("  %llu scrapes answered, %llu missed deadlines; peak resident memory %.1f MiB "
           "(the whole process, simulator included)\n",
           (unsigned long long)tot.scrapes, (unsigned long long)tot.sampler.missed_deadlines,
           (double)ru.ru_maxrss / 1024.0);
    node_exporter(ours_ms);
    joules_close(m);
    t_rmtree(root);
    return 0;
}
