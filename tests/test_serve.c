/* SPDX-License-Identifier: MIT */
/*
 * test_serve.c - the exporter's insides without HTTP: the energy counter it exports never
 * goes down (a reading that goes back moves the offset), a failed read sets up to 0 and
 * hides the gauges, the two formats' structure, content negotiation on Accept headers,
 * label escaping and the --listen addresses.
 */
#include <stdlib.h>
#include <string.h>

#include "serve/serve.h"
#include "serve/serve_format.h"
#include "serve/serve_state.h"
#include "support.h"
#include "testlib.h"

static joules_power_sample sample(int valid, double energy_j, int64_t t_ns)
{
    joules_power_sample p;
    memset(&p, 0, sizeof p);
    p.valid = valid;
    p.error = valid ? 0 : JOULES_E_DEVICE_LOST;
    p.energy_j = energy_j;
    p.t_ns = t_ns;
    p.power_w = 100.0;
    p.power_avg_w = p.power_limit_w = -1;
    p.clock_sm_mhz = p.clock_mem_mhz = p.temperature_c = p.pstate = p.utilization_gpu_pct = -1;
    return p;
}

static void format(const struct serve_state *s, enum serve_format f, struct serve_buf *b)
{
    static struct serve_snapshot snap;
    serve_state_snapshot((struct serve_state *)s, &snap);
    b->len = 0;
    serve_format_metrics(b, s, &snap, 5000000000LL, f);
}

static void test_counter_and_lost_device(void)
{
    char err[256];
    setenv("JOULES_SIM_PROFILE", "a100", 1);
    joules_monitor *m = t_open_sim_gpu(0, err, sizeof err);
    CHECKF(m != NULL, "%s", err);
    if (!m)
        return;
    static struct serve_state s;
    CHECK_EQ_INT(serve_state_init(&s, m, 1000000000, "host\"1", "77", 0, err, sizeof err), 0);
    CHECK_EQ_INT(s.n, 1);
    CHECKF(strstr(s.d[0].labels, "hostname=\"host\\\"1\"") != NULL, "%s", s.d[0].labels);
    CHECKF(strstr(s.d[0].labels, "hpc_job=\"77\"") && strstr(s.d[0].labels, "simulated=\"1\""),
           "%s", s.d[0].labels);

    const double readings[] = {100, 150, 20, 50}; /* a driver reset between 150 and 20 */
    const double exported[] = {100, 150, 150, 180};
    for (int i = 0; i < 4; i++) {
        joules_power_sample p = sample(1, readings[i], 1000000000LL * (i + 1));
        serve_state_update(&s, &p, 1);
        CHECKF(s.live.d[0].energy_j == exported[i], "step %d: %.3f, expected %.3f", i,
               s.live.d[0].energy_j, exported[i]);
    }
    CHECK_EQ_INT((int)s.live.d[0].resets, 1);
    struct serve_buf b = {0};
    format(&s, SERVE_TEXT_004, &b);
    CHECKF(strstr(b.p, "simulated=\"1\"} 180.000\n") != NULL, "%s", b.p);
    CHECK(strstr(b.p, "joules_power_watts{") != NULL);
    CHECK(strstr(b.p, "joules_exporter_last_reading_age_seconds 1.000000\n") != NULL);

    /* The device is lost: up 0, the counter where it stood, no stale power. */
    joules_power_sample lost = sample(0, 50, 5000000000LL);
    serve_state_update(&s, &lost, 1);
    format(&s, SERVE_TEXT_004, &b);
    CHECKF(strstr(b.p, "simulated=\"1\"} 180.000\n") != NULL, "%s", b.p);
    CHECK(strstr(b.p, "joules_power_watts{") == NULL);
    CHECK(strstr(b.p, "# TYPE joules_power_watts") == NULL); /* an empty family is left out */
    const char *up = strstr(b.p, "joules_domain_up{");
    CHECK(up && strstr(up, "} 0\n") && strstr(up, "} 0\n") < strstr(up, "# HELP"));
    CHECK(strstr(b.p, "joules_read_errors_total{") != NULL);
    /* It comes back after a reset: the counter goes on from 180. */
    joules_power_sample back = sample(1, 5, 6000000000LL);
    serve_state_update(&s, &back, 1);
    CHECK(s.live.d[0].energy_j == 180.0 && s.live.d[0].up);
    back = sample(1, 15, 7000000000LL);
    serve_state_update(&s, &back, 1);
    CHECK(s.live.d[0].energy_j == 190.0);

    /* The two formats. */
    format(&s, SERVE_OPENMETRICS, &b);
    size_t n = strlen(b.p);
    CHECK(n > 6 && strcmp(b.p + n - 6, "# EOF\n") == 0);
    CHECK(strstr(b.p, "# TYPE joules_energy_joules counter\n# UNIT joules_energy_joules joules\n"));
    CHECK(strstr(b.p, "# TYPE joules_device info\n") && strstr(b.p, "joules_device_info{"));
    CHECK(strstr(b.p, "joules_energy_joules_total{") != NULL);
    format(&s, SERVE_TEXT_004, &b);
    CHECK(strstr(b.p, "# EOF") == NULL && strstr(b.p, "# UNIT") == NULL);
    CHECK(strstr(b.p, "# TYPE joules_energy_joules_total counter\n") != NULL);
    CHECK(strstr(b.p, "# TYPE joules_device_info gauge\n") != NULL);
    serve_buf_free(&b);
    serve_state_destroy(&s);
    joules_close(m);
}

/* model_name always; dcgm-exporter's camelCase modelName beside it only on request. */
static void test_dcgm_labels(void)
{
    char err[256];
    setenv("JOULES_SIM_PROFILE", "a100", 1);
    joules_monitor *m = t_open_sim_gpu(0, err, sizeof err);
    CHECKF(m != NULL, "%s", err);
    if (!m)
        return;
    static struct serve_state s;
    for (int dcgm = 0; dcgm <= 1; dcgm++) {
        CHECK_EQ_INT(serve_state_init(&s, m, 1000000000, "h", NULL, dcgm, err, sizeof err), 0);
        const char *snake = strstr(s.d[0].labels, ",model_name=\"");
        const char *camel = strstr(s.d[0].labels, ",modelName=\"");
        CHECKF(snake != NULL, "%s", s.d[0].labels);
        CHECKF(dcgm ? camel != NULL && camel > snake : camel == NULL, "%s", s.d[0].labels);
        CHECKF(strstr(s.d[0].labels, "hpc_job") == NULL, "%s", s.d[0].labels);
        serve_state_destroy(&s);
    }
    joules_close(m);
}

static void test_negotiation(void)
{
    const struct {
        const char *accept;
        enum serve_format f;
    } cases[] = {
        {NULL, SERVE_TEXT_004},
        {"", SERVE_TEXT_004},
        {"*/*", SERVE_TEXT_004},
        {"application/openmetrics-text", SERVE_OPENMETRICS},
        {"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
         "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
         SERVE_OPENMETRICS},
        {"text/plain;q=0.9, application/openmetrics-text;q=0.5", SERVE_TEXT_004},
        {"application/openmetrics-text; version=0.0.1", SERVE_TEXT_004},
        {"application/openmetrics-text;q=0", SERVE_TEXT_004},
        {"APPLICATION/OpenMetrics-Text ; Version=1.0.0 ; q=0.8, text/plain;q=0.7",
         SERVE_OPENMETRICS},
        {"text/plain;version=0.0.4, application/openmetrics-text;version=1.0.0", SERVE_OPENMETRICS},
        {"application/json", SERVE_TEXT_004},
        {",,;;=,", SERVE_TEXT_004},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECKF(serve_negotiate(cases[i].accept) == cases[i].f, "Accept: %s",
               cases[i].accept ? cases[i].accept : "(none)");
}

static void test_escape_and_listen(void)
{
    char out[64];
    serve_escape_label(out, sizeof out, "a\"b\\c\nd");
    CHECKF(strcmp(out, "a\\\"b\\\\c\\nd") == 0, "%s", out);
    serve_escape_label(out, 4, "\"\"\"");
    CHECKF(strcmp(out, "\\\"") == 0, "truncated whole: %s", out);

    struct serve_listen l;
    char err[256];
    const struct {
        const char *in, *text;
        int loopback;
    } ok[] = {
        {"9464", "127.0.0.1:9464", 1},       {"127.0.0.1:0", "127.0.0.1:0", 1},
        {"localhost:80", "127.0.0.1:80", 1}, {"0.0.0.0:9464", "0.0.0.0:9464", 0},
        {"[::1]:9000", "[::1]:9000", 1},     {"[::]:9000", "[::]:9000", 0},
        {"10.1.2.3", "10.1.2.3:9464", 0},    {"127.0.0.2:1", "127.0.0.2:1", 1},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int rc = serve_parse_listen(ok[i].in, &l, err, sizeof err);
        CHECKF(rc == 0, "%s: %s", ok[i].in, err);
        if (rc == 0)
            CHECKF(strcmp(l.text, ok[i].text) == 0 && l.loopback == ok[i].loopback, "%s: %s %d",
                   ok[i].in, l.text, l.loopback);
    }
    const char *bad[] = {"",       "host:80", "1.2.3.4:99999", "[::1",
                         "[::1]x", ":x",      "1.2.3.4:",      "::1:80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECKF(serve_parse_listen(bad[i], &l, err, sizeof err) == JOULES_E_PARSE, "%s", bad[i]);
}

int main(void)
{
    RUN(test_counter_and_lost_device);
    RUN(test_dcgm_labels);
    RUN(test_negotiation);
    RUN(test_escape_and_listen);
    return t_end();
}
