/* SPDX-License-Identifier: MIT */
/*
 * serve_format.c - the exposition formats (serve_format.h). Each family is written whole
 * (its descriptors, then one sample per domain that has a value), as both formats require;
 * a family with no sample at this scrape is left out. The label sets are formatted once at
 * start (serve_state.c), so a scrape is mostly copies and a few numbers.
 */
#include "serve/serve_format.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the buffer ------------------------------------------------------------------------ */

int serve_buf_reserve(struct serve_buf *b, size_t cap)
{
    if (b->cap >= cap)
        return 0;
    size_t want = b->cap ? b->cap : 4096;
    while (want < cap)
        want *= 2;
    char *p = realloc(b->p, want);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = want;
    return 0;
}

void serve_buf_free(struct serve_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static void put(struct serve_buf *b, const char *s, size_t n)
{
    if (b->oom || serve_buf_reserve(b, b->len + n + 1) != 0)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts_(struct serve_buf *b, const char *s)
{
    put(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void putf(struct serve_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* ---- content negotiation ----------------------------------------------------------------- */

static const char *skip_space(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* One media range of an Accept header, [p, end): its q (1 when absent) and whether it is
 * OpenMetrics 1.0.0 (om = 1), the text format 0.0.4 or a wildcard (om = 0), or neither
 * (returns -1). */
static double media_range(const char *p, const char *end, int *om)
{
    p = skip_space(p, end);
    if (p >= end)
        return -1.0;
    const char *semi = memchr(p, ';', (size_t)(end - p));
    const char *type_end = semi ? semi : end;
    while (type_end > p && (type_end[-1] == ' ' || type_end[-1] == '\t'))
        type_end--;
    size_t tlen = (size_t)(type_end - p);
    const char *want_version;
    if (tlen == 28 && strncasecmp(p, "application/openmetrics-text", tlen) == 0) {
        *om = 1;
        want_version = "1.0.0";
    } else if (tlen == 10 && strncasecmp(p, "text/plain", tlen) == 0) {
        *om = 0;
        want_version = "0.0.4";
    } else if ((tlen == 6 && strncasecmp(p, "text/*", tlen) == 0) ||
               (tlen == 3 && strncmp(p, "*/*", tlen) == 0)) {
        *om = 0;
        want_version = NULL;
    } else {
        return -1.0;
    }
    double q = 1.0;
    while (semi && semi < end) {
        const char *param = skip_space(semi + 1, end);
        const char *next = memchr(param, ';', (size_t)(end - param));
        const char *pend = next ? next : end;
        const char *eq = memchr(param, '=', (size_t)(pend - param));
        if (eq) {
            size_t klen = (size_t)(eq - param);
            while (klen && (param[klen - 1] == ' ' || param[klen - 1] == '\t'))
                klen--;
            const char *v = skip_space(eq + 1, pend);
            const char *vend = pend;
            while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t'))
                vend--;
            size_t vlen = (size_t)(vend - v);
            if (klen == 1 && (*param == 'q' || *param == 'Q')) {
                char num[16];
                if (vlen >= sizeof num)
                    vlen = sizeof num - 1;
                memcpy(num, v, vlen);
                num[vlen] = '\0';
                q = strtod(num, NULL);
            } else if (klen == 7 && strncasecmp(param, "version", 7) == 0 && want_version &&
                       (vlen != strlen(want_version) || strncmp(v, want_version, vlen) != 0)) {
                return -1.0; /* a version we do not write */
            }
        }
        semi = next;
    }
    return q < 0 ? 0 : q > 1 ? 1 : q;
}

enum serve_format serve_negotiate(const char *accept)
{
    if (!accept)
        return SERVE_TEXT_004;
    double q_om = 0, q_text = 0;
    const char *p = accept, *end = accept + strlen(accept);
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *item_end = comma ? comma : end;
        int om = 0;
        double q = media_range(p, item_end, &om);
        if (q > 0) {
            if (om && q > q_om)
                q_om = q;
            else if (!om && q > q_text)
                q_text = q;
        }
        p = comma ? comma + 1 : end;
    }
    return q_om > 0 && q_om >= q_text ? SERVE_OPENMETRICS : SERVE_TEXT_004;
}

/* ---- families ---------------------------------------------------------------------------- */

enum fam_type { GAUGE, COUNTER, INFO };

struct fam {
    const char *name; /* the OpenMetrics family name */
    enum fam_type type;
    const char *unit; /* OpenMetrics UNIT (a suffix of the name), or NULL */
    const char *help;
};

struct writer {
    struct serve_buf *b;
    enum serve_format f;
    const struct fam *cur; /* the family whose descriptors are written */
};

static const char *suffix(enum fam_type t)
{
    return t == COUNTER ? "_total" : t == INFO ? "_info" : "";
}

static void header(struct writer *w, const struct fam *fm)
{
    if (w->cur == fm)
        return;
    w->cur = fm;
    if (w->f == SERVE_OPENMETRICS) {
        static const char *const om_type[] = {"gauge", "counter", "info"};
        putf(w->b, "# HELP %s %s\n# TYPE %s %s\n", fm->name, fm->help, fm->name, om_type[fm->type]);
        if (fm->unit)
            putf(w->b, "# UNIT %s %s\n", fm->name, fm->unit);
    } else {
        const char *sx = suffix(fm->type);
        putf(w->b, "# HELP %s%s %s\n# TYPE %s%s %s\n", fm->name, sx, fm->help, fm->name, sx,
             fm->type == COUNTER ? "counter" : "gauge");
    }
}

/* name{labels[,extra]} value */
static void sample(struct writer *w, const struct fam *fm, const char *labels, size_t labels_len,
                   const char *extra, const char *value)
{
    header(w, fm);
    puts_(w->b, fm->name);
    puts_(w->b, suffix(fm->type));
    if (labels_len || (extra && *extra)) {
        put(w->b, "{", 1);
        put(w->b, labels, labels_len);
        if (extra && *extra) {
            if (labels_len)
                put(w->b, ",", 1);
            puts_(w->b, extra);
        }
        put(w->b, "}", 1);
    }
    put(w->b, " ", 1);
    puts_(w->b, value);
    put(w->b, "\n", 1);
}

static const struct fam F_DEVICE = {"joules_device", INFO, NULL,
                                    "A measured domain and its device (value 1)."};
static const struct fam F_UP = {"joules_domain_up", GAUGE, NULL,
                                "1 when the latest reading of the domain succeeded, 0 when it "
                                "failed (device lost, driver error)."};
static const struct fam F_ERRORS = {"joules_read_errors", COUNTER, NULL,
                                    "Readings of the domain that failed."};
static const struct fam F_ENERGY = {"joules_energy_joules", COUNTER, "joules",
                                    "Energy used by the domain since the exporter started; "
                                    "never decreases (wraps and driver resets absorbed)."};
static const struct fam F_RESETS = {"joules_energy_resets", COUNTER, NULL,
                                    "Readings that went back (driver reset) and were absorbed "
                                    "in the energy counter."};
static const struct fam F_POWER = {"joules_power_watts", GAUGE, "watts",
                                   "Power: the sensor's reading (GPU), or the energy counter's "
                                   "mean since the previous reading (RAPL)."};
static const struct fam F_POWER_AVG = {"joules_power_average_watts", GAUGE, "watts",
                                       "GPU power averaged over 1 s by the driver."};
static const struct fam F_LIMIT = {"joules_power_limit_watts", GAUGE, "watts",
                                   "Enforced GPU power limit."};
static const struct fam F_TEMP = {"joules_temperature_celsius", GAUGE, "celsius",
                                  "GPU temperature."};
static const struct fam F_SM = {"joules_sm_clock_hertz", GAUGE, "hertz",
                                "GPU graphics (SM) clock."};
static const struct fam F_MEM = {"joules_memory_clock_hertz", GAUGE, "hertz", "GPU memory clock."};
static const struct fam F_UTIL = {"joules_gpu_utilization_ratio", GAUGE, NULL,
                                  "Fraction of the recent time the GPU was busy, 0 to 1."};
static const struct fam F_PSTATE = {"joules_gpu_pstate", GAUGE, NULL,
                                    "GPU performance state (0 fastest, 15 slowest)."};
static const struct fam F_BUILD = {"joules_exporter_build", INFO, NULL,
                                   "The joules version serving these metrics (value 1)."};
static const struct fam F_INTERVAL = {"joules_exporter_sampling_interval_seconds", GAUGE, "seconds",
                                      "Time between two readings of every domain."};
static const struct fam F_ROUNDS = {"joules_exporter_sampling_rounds", COUNTER, NULL,
                                    "Sampling rounds taken (every domain read once a round)."};
static const struct fam F_MISSED = {"joules_exporter_missed_deadlines", COUNTER, NULL,
                                    "Sampling deadlines skipped because the round would have "
                                    "started more than one interval late."};
static const struct fam F_LATE = {"joules_exporter_max_lateness_seconds", GAUGE, "seconds",
                                  "Worst start of a sampling round after its deadline."};
static const struct fam F_AGE = {"joules_exporter_last_reading_age_seconds", GAUGE, "seconds",
                                 "Age of the latest reading when this scrape was answered."};
static const struct fam F_SCRAPES = {"joules_exporter_scrapes", COUNTER, NULL,
                                     "Scrapes answered before this one."};
static const struct fam F_SCRAPE_S = {"joules_exporter_scrape_duration_seconds", GAUGE, "seconds",
                                      "Time the previous scrape took to format its answer."};

/* Per domain: which value of the live state a gauge shows (< 0: none). */
typedef double (*value_fn)(const struct serve_live *l);

static double v_power(const struct serve_live *l)
{
    return l->last.power_w;
}
static double v_power_avg(const struct serve_live *l)
{
    return l->last.power_avg_w;
}
static double v_limit(const struct serve_live *l)
{
    return l->last.power_limit_w;
}
static double v_temp(const struct serve_live *l)
{
    return l->last.temperature_c;
}
static double v_sm(const struct serve_live *l)
{
    return l->last.clock_sm_mhz < 0 ? -1.0 : l->last.clock_sm_mhz * 1e6;
}
static double v_mem(const struct serve_live *l)
{
    return l->last.clock_mem_mhz < 0 ? -1.0 : l->last.clock_mem_mhz * 1e6;
}
static double v_util(const struct serve_live *l)
{
    return l->last.utilization_gpu_pct < 0 ? -1.0 : l->last.utilization_gpu_pct / 100.0;
}
static double v_pstate(const struct serve_live *l)
{
    return l->last.pstate;
}

static void gauge_family(struct writer *w, const struct serve_state *s,
                         const struct serve_snapshot *snap, const struct fam *fm, value_fn fn)
{
    char num[48];
    for (int i = 0; i < s->n; i++) {
        const struct serve_live *l = &snap->d[i];
        if (!l->have || !l->up)
            continue;
        double v = fn(l);
        if (v < 0)
            continue;
        snprintf(num, sizeof num, "%.10g", v);
        sample(w, fm, s->d[i].labels, s->d[i].labels_len, NULL, num);
    }
}

static void domain_families(struct writer *w, const struct serve_state *s,
                            const struct serve_snapshot *snap)
{
    char num[48];
    for (int i = 0; i < s->n; i++)
        sample(w, &F_DEVICE, s->d[i].labels, s->d[i].labels_len, s->d[i].info_extra, "1");
    for (int i = 0; i < s->n; i++)
        if (snap->d[i].have)
            sample(w, &F_UP, s->d[i].labels, s->d[i].labels_len, NULL, snap->d[i].up ? "1" : "0");
    for (int i = 0; i < s->n; i++) {
        snprintf(num, sizeof num, "%llu", (unsigned long long)snap->d[i].read_errors);
        sample(w, &F_ERRORS, s->d[i].labels, s->d[i].labels_len, NULL, num);
    }
    /* Millijoules are the finest any counter resolves; %.3f keeps the order of values. */
    for (int i = 0; i < s->n; i++)
        if (snap->d[i].have_raw) {
            snprintf(num, sizeof num, "%.3f", snap->d[i].energy_j);
            sample(w, &F_ENERGY, s->d[i].labels, s->d[i].labels_len, NULL, num);
        }
    for (int i = 0; i < s->n; i++) {
        snprintf(num, sizeof num, "%llu", (unsigned long long)snap->d[i].resets);
        sample(w, &F_RESETS, s->d[i].labels, s->d[i].labels_len, NULL, num);
    }
    gauge_family(w, s, snap, &F_POWER, v_power);
    gauge_family(w, s, snap, &F_POWER_AVG, v_power_avg);
    gauge_family(w, s, snap, &F_LIMIT, v_limit);
    gauge_family(w, s, snap, &F_TEMP, v_temp);
    gauge_family(w, s, snap, &F_SM, v_sm);
    gauge_family(w, s, snap, &F_MEM, v_mem);
    gauge_family(w, s, snap, &F_UTIL, v_util);
    gauge_family(w, s, snap, &F_PSTATE, v_pstate);
}

static void exporter_families(struct writer *w, const struct serve_state *s,
                              const struct serve_snapshot *snap, int64_t now_ns)
{
    char num[48];
    sample(w, &F_BUILD, "version=\"" JOULES_VERSION_STRING "\"",
           strlen("version=\"" JOULES_VERSION_STRING "\""), NULL, "1");
    snprintf(num, sizeof num, "%.9g", (double)s->interval_ns * 1e-9);
    sample(w, &F_INTERVAL, "", 0, NULL, num);
    snprintf(num, sizeof num, "%llu", (unsigned long long)snap->rounds);
    sample(w, &F_ROUNDS, "", 0, NULL, num);
    if (snap->have_st) {
        snprintf(num, sizeof num, "%llu", (unsigned long long)snap->st.missed_deadlines);
        sample(w, &F_MISSED, "", 0, NULL, num);
        snprintf(num, sizeof num, "%.9f", (double)snap->st.max_lateness_ns * 1e-9);
        sample(w, &F_LATE, "", 0, NULL, num);
    }
    if (snap->last_round_ns > 0) {
        int64_t age = now_ns > snap->last_round_ns ? now_ns - snap->last_round_ns : 0;
        snprintf(num, sizeof num, "%.6f", (double)age * 1e-9);
        sample(w, &F_AGE, "", 0, NULL, num);
    }
    snprintf(num, sizeof num, "%llu", (unsigned long long)snap->scrapes);
    sample(w, &F_SCRAPES, "", 0, NULL, num);
    if (snap->last_scrape_s >= 0) {
        snprintf(num, sizeof num, "%.9f", snap->last_scrape_s);
        sample(w, &F_SCRAPE_S, "", 0, NULL, num);
    }
}

void serve_format_metrics(struct serve_buf *b, const struct serve_state *s,
                          const struct serve_snapshot *snap, int64_t now_ns, enum serve_format f)
{
    struct writer w = {b, f, NULL};
    domain_families(&w, s, snap);
    exporter_families(&w, s, snap, now_ns);
    if (f == SERVE_OPENMETRICS)
        puts_(b, "# EOF\n");
}

/* ---- the page at / ----------------------------------------------------------------------- */

static void put_html(struct serve_buf *b, const char *text)
{
    for (const char *p = text; *p; p++) {
        switch (*p) {
        case '<':
            puts_(b, "&lt;");
            break;
        case '>':
            puts_(b, "&gt;");
            break;
        case '&':
            puts_(b, "&amp;");
            break;
        case '"':
            puts_(b, "&quot;");
            break;
        default:
            put(b, p, 1);
        }
    }
}

void serve_format_index(struct serve_buf *b, const struct serve_state *s,
                        const struct serve_snapshot *snap)
{
    puts_(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>joules exporter"
             "</title></head>\n<body><h1>joules exporter</h1>\n<p>Host ");
    put_html(b, s->hostname);
    putf(b,
         ", joules %s, a reading every %.9g s. Metrics: <a href=\"/metrics\">/metrics</a>%s</p>\n",
         JOULES_VERSION_STRING, (double)s->interval_ns * 1e-9,
         s->simulated ? " (SIMULATED devices present)" : "");
    puts_(b, "<table border=\"1\">\n<tr><th>domain</th><th>kind</th><th>device</th><th>UUID"
             "</th><th>state</th></tr>\n");
    for (int i = 0; i < s->n; i++) {
        const joules_domain_info *in = &s->d[i].info;
        const struct serve_live *l = &snap->d[i];
        puts_(b, "<tr><td>");
        put_html(b, in->name);
        puts_(b, "</td><td>");
        put_html(b, joules_kind_name(in->kind));
        puts_(b, "</td><td>");
        put_html(b, in->device);
        puts_(b, "</td><td>");
        put_html(b, in->uuid);
        puts_(b, "</td><td>");
        put_html(b, !l->have ? "no reading yet" : l->up ? "up" : joules_strerror(l->error));
        puts_(b, "</td></tr>\n");
    }
    puts_(b, "</table>\n</body></html>\n");
}
