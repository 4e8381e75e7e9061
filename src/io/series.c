/* SPDX-License-Identifier: MIT */
/* series.c - the CSV time series and the power-over-time chart (see series.h). */
#include "io/series.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io/plot_svg.h"
#include "io/run_output.h"
#include "util/util.h"

void series_clock_init(series_clock *c)
{
    struct timespec wall;
    c->t0_ns = util_now_ns();
    clock_gettime(CLOCK_REALTIME, &wall);
    c->unix_offset_s =
        ((double)wall.tv_sec + (double)wall.tv_nsec * 1e-9) - (double)c->t0_ns * 1e-9;
}

static double t_s(const series_clock *c, int64_t t_ns)
{
    return (double)(t_ns - c->t0_ns) * 1e-9;
}

static double unix_s(const series_clock *c, int64_t t_ns)
{
    return (double)t_ns * 1e-9 + c->unix_offset_s;
}

int series_csv_header(FILE *f)
{
    fputs("schema,record,t_s,unix_s,seq,domain,kind,simulated,valid,power_w,power_source,"
          "power_avg_w,power_limit_w,energy_j,clock_sm_mhz,clock_mem_mhz,temperature_c,pstate,"
          "utilization_gpu_pct,clock_event_reasons,lateness_ms,label\n",
          f);
    return ferror(f) ? -1 : 0;
}

/* A number, or an empty field when unknown (< 0). */
static void num(FILE *f, double v, int decimals)
{
    fputc(',', f);
    if (v >= 0 && isfinite(v))
        fprintf(f, "%.*f", decimals, v);
}

static void inum(FILE *f, int v)
{
    fputc(',', f);
    if (v >= 0)
        fprintf(f, "%d", v);
}

static const char *source_name(joules_power_source s)
{
    switch (s) {
    case JOULES_POWER_SENSOR:
        return "sensor";
    case JOULES_POWER_COUNTER:
        return "counter";
    default:
        return "";
    }
}

int series_csv_sample(FILE *f, const series_clock *c, const joules_domain_info *info,
                      const joules_power_sample *p)
{
    fprintf(f, "%s,sample,%.6f,%.6f,%llu,", JOULES_SERIES_CSV_SCHEMA, t_s(c, p->t_ns),
            unix_s(c, p->t_ns), (unsigned long long)p->seq);
    io_csv_field(f, info->name);
    fputc(',', f);
    io_csv_field(f, joules_kind_name(info->kind));
    fprintf(f, ",%d,%d", p->simulated ? 1 : 0, p->valid ? 1 : 0);
    num(f, p->valid ? p->power_w : -1, 3);
    fprintf(f, ",%s", p->valid && p->power_w >= 0 ? source_name(p->power_source) : "");
    num(f, p->power_avg_w, 3);
    num(f, p->power_limit_w, 3);
    num(f, p->energy_j, 6);
    inum(f, p->clock_sm_mhz);
    inum(f, p->clock_mem_mhz);
    inum(f, p->temperature_c);
    inum(f, p->pstate);
    inum(f, p->utilization_gpu_pct);
    fputc(',', f);
    if (info->kind == JOULES_KIND_GPU && p->clock_sm_mhz >= 0)
        fprintf(f, "0x%llx", (unsigned long long)p->clock_event_reasons);
    num(f, (double)(p->t_ns - p->scheduled_ns) * 1e-6, 3);
    fputs(",\n", f);
    return ferror(f) ? -1 : 0;
}

int series_csv_marker(FILE *f, const series_clock *c, const char *record, int64_t t_ns,
                      const char *label)
{
    fprintf(f, "%s,", JOULES_SERIES_CSV_SCHEMA);
    io_csv_field(f, record);
    fprintf(f, ",%.6f,%.6f,,,,,,,,,,,,,,,,,,", t_s(c, t_ns), unix_s(c, t_ns));
    io_csv_field(f, label ? label : "");
    fputc('\n', f);
    return ferror(f) ? -1 : 0;
}

/* ---- the chart ---------------------------------------------------------------------------- */

struct series_plot_track {
    double t[SERIES_PLOT_POINTS], p[SERIES_PLOT_POINTS], limit[SERIES_PLOT_POINTS];
    size_t n;
    unsigned stride; /* samples averaged into one point */
    double acc_t, acc_p, acc_limit;
    unsigned acc_n, acc_limit_n;
};

void series_plot_init(series_plot *sp, const series_clock *c)
{
    memset(sp, 0, sizeof *sp);
    sp->clock = *c;
}

/* Full: average neighbouring points in pairs and double the stride. */
static void halve(struct series_plot_track *k)
{
    size_t j = 0;
    for (size_t i = 0; i + 1 < k->n; i += 2, j++) {
        k->t[j] = 0.5 * (k->t[i] + k->t[i + 1]);
        k->p[j] = 0.5 * (k->p[i] + k->p[i + 1]);
        k->limit[j] = fmax(k->limit[i], k->limit[i + 1]);
    }
    k->n = j;
    k->stride *= 2;
}

int series_plot_add(series_plot *sp, const joules_power_sample *p)
{
    if (p->domain < 0 || p->domain >= JOULES_MAX_DOMAINS || !p->valid || p->power_w < 0)
        return 0;
    struct series_plot_track *k = sp->track[p->domain];
    if (!k) {
        k = calloc(1, sizeof *k);
        if (!k)
            return -1;
        k->stride = 1;
        sp->track[p->domain] = k;
    }
    k->acc_t += t_s(&sp->clock, p->t_ns);
    k->acc_p += p->power_w;
    k->acc_n++;
    if (p->power_limit_w > 0) {
        k->acc_limit += p->power_limit_w;
        k->acc_limit_n++;
    }
    if (k->acc_n < k->stride)
        return 0;
    if (k->n == SERIES_PLOT_POINTS)
        halve(k);
    k->t[k->n] = k->acc_t / k->acc_n;
    k->p[k->n] = k->acc_p / k->acc_n;
    k->limit[k->n] = k->acc_limit_n ? k->acc_limit / k->acc_limit_n : -1.0;
    k->n++;
    k->acc_t = k->acc_p = k->acc_limit = 0;
    k->acc_n = k->acc_limit_n = 0;
    return 0;
}

void series_plot_marker(series_plot *sp, int64_t t_ns, const char *label)
{
    if (sp->n_markers >= SERIES_MAX_MARKERS)
        return;
    sp->marker_s[sp->n_markers] = t_s(&sp->clock, t_ns);
    snprintf(sp->marker_label[sp->n_markers], sizeof sp->marker_label[0], "%s", label ? label : "");
    sp->n_markers++;
}

size_t series_plot_points(const series_plot *sp, int domain)
{
    if (domain < 0 || domain >= JOULES_MAX_DOMAINS || !sp->track[domain])
        return 0;
    return sp->track[domain]->n;
}

void series_plot_free(series_plot *sp)
{
    for (int i = 0; i < JOULES_MAX_DOMAINS; i++) {
        free(sp->track[i]);
        sp->track[i] = NULL;
    }
}

/* Everything the chart points at, built for one save. */
struct chart_data {
    struct plot_series series[JOULES_MAX_DOMAINS + 3];
    double *y[JOULES_MAX_DOMAINS];
    char names[JOULES_MAX_DOMAINS][JOULES_NAME_MAX + 160];
    double mark_x[3 * SERIES_MAX_MARKERS], mark_y[3 * SERIES_MAX_MARKERS];
    double limit_x[2], limit_y[2];
    double range_x[2], range_y[2];
};

int series_plot_save(const series_plot *sp, const joules_domain_info *info, int n_info,
                     const series_plot_options *o, const char *path, char *err, size_t len)
{
    struct chart_data *cd = calloc(1, sizeof *cd);
    if (!cd) {
        snprintf(err, len, "out of memory");
        return -1;
    }
    int ns = 0, simulated = 0, left_out = 0, rc = -1;
    double tmin = INFINITY, tmax = -INFINITY, ymax = 0;
    for (int d = 0; d < n_info && d < JOULES_MAX_DOMAINS; d++) {
        const struct series_plot_track *k = sp->track[d];
        if (!k || k->n == 0)
            continue;
        cd->y[d] = malloc(k->n * sizeof(double));
        if (!cd->y[d]) {
            snprintf(err, len, "out of memory");
            goto out;
        }
        int usable = 0;
        for (size_t i = 0; i < k->n; i++) {
            if (o->normalise) {
                cd->y[d][i] = k->limit[i] > 0 ? 100.0 * k->p[i] / k->limit[i] : NAN;
                usable |= k->limit[i] > 0;
            } else {
                cd->y[d][i] = k->p[i];
                usable = 1;
            }
            if (isfinite(cd->y[d][i])) {
                ymax = fmax(ymax, cd->y[d][i]);
                tmin = fmin(tmin, k->t[i]);
                tmax = fmax(tmax, k->t[i]);
            }
        }
        if (!usable) {
            left_out++;
            continue;
        }
        simulated |= info[d].simulated;
        snprintf(cd->names[d], sizeof cd->names[d], "%s (%s)%s", info[d].name, info[d].device,
                 info[d].simulated && !strstr(info[d].device, "imulated") ? " SIMULATED" : "");
        cd->series[ns++] =
            (struct plot_series){.name = cd->names[d], .x = k->t, .y = cd->y[d], .n = k->n};
    }
    if (ns == 0) {
        snprintf(err, len, "%s: nothing to plot (%s)", path,
                 o->normalise && left_out ? "no domain has a known power limit"
                                          : "no power sample");
        goto out;
    }
    if (o->normalise) {
        /* The limit itself: the talk's point is how close the series comes to it. */
        cd->limit_x[0] = tmin;
        cd->limit_x[1] = tmax;
        cd->limit_y[0] = cd->limit_y[1] = 100.0;
        ymax = fmax(ymax, 100.0);
        cd->series[ns++] = (struct plot_series){.name = "power limit",
                                                .x = cd->limit_x,
                                                .y = cd->limit_y,
                                                .n = 2,
                                                .color = "#7f7f7f",
                                                .dashed = 1};
    }
    if (sp->n_markers > 0) {
        /* Vertical dashed lines, one polyline broken by NaN between markers. */
        size_t m = 0;
        for (int i = 0; i < sp->n_markers; i++) {
            cd->mark_x[m] = cd->mark_x[m + 1] = sp->marker_s[i];
            cd->mark_y[m] = 0.0;
            cd->mark_y[m + 1] = ymax;
            cd->mark_x[m + 2] = cd->mark_y[m + 2] = NAN;
            m += 3;
        }
        cd->series[ns++] =
            (struct plot_series){.name = sp->n_markers == 2 ? "command begins / ends" : "markers",
                                 .x = cd->mark_x,
                                 .y = cd->mark_y,
                                 .n = m - 1,
                                 .color = "#000000",
                                 .dashed = 1};
    }
    /* Power axes start at 0 W (a bar of truth for the eye) and leave room above the highest
     * point for the legend: an invisible vertical segment spans that range. */
    cd->range_x[0] = cd->range_x[1] = tmin;
    cd->range_y[0] = 0.0;
    cd->range_y[1] = ymax * 1.18;
    cd->series[ns++] = (struct plot_series){
        .name = "", .x = cd->range_x, .y = cd->range_y, .n = 2, .color = "none"};
    char subtitle[512];
    if (left_out && o->normalise)
        snprintf(subtitle, sizeof subtitle, "%s%s%d domain(s) without a known power limit left out",
                 o->subtitle ? o->subtitle : "", o->subtitle ? "; " : "", left_out);
    struct plot_chart chart = {
        .title = o->title ? o->title : "Power over time",
        .subtitle = (left_out && o->normalise) ? subtitle : o->subtitle,
        .x_label = "time (s)",
        .y_label = o->normalise ? "power (% of the power limit)" : "power (W)",
        .simulated = simulated,
        .series = cd->series,
        .n_series = ns,
    };
    rc = plot_svg_save(path, &chart, err, len);
out:
    for (int d = 0; d < JOULES_MAX_DOMAINS; d++)
        free(cd->y[d]);
    free(cd);
    return rc;
}
