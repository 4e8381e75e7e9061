/* SPDX-License-Identifier: MIT */
/* cli_sampling.c - durations and the series sink of the sampling commands (cli_sampling.h). */
#include "cli/cli_sampling.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli_util.h"
#include "util/util.h"

int cli_parse_duration(const char *cmd, const char *opt, const char *text, int64_t min_ns,
                       int64_t max_ns, int64_t *out_ns)
{
    static const struct {
        const char *suffix;
        double ns;
    } units[] = {{"", 1e9},   {"s", 1e9},    {"ms", 1e6}, {"us", 1e3},
                 {"ns", 1.0}, {"min", 60e9}, {"m", 60e9}, {"h", 3600e9}};
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end != text && errno == 0 && isfinite(v) && v >= 0)
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
            if (strcmp(end, units[i].suffix) == 0) {
                double ns = v * units[i].ns;
                if (ns >= (double)min_ns && ns <= (double)max_ns) {
                    *out_ns = (int64_t)llround(ns);
                    return 0;
                }
                return cli_usage_error(cmd, "%s: '%s' is out of range (%g s to %g s)", opt, text,
                                       (double)min_ns * 1e-9, (double)max_ns * 1e-9);
            }
    return cli_usage_error(cmd, "%s: '%s' is not a duration (e.g. 100ms, 2s, 1.5min)", opt, text);
}

void cli_note_bare_seconds(const char *cmd, const char *opt, const char *text, double above_s)
{
    char *end;
    double v = strtod(text, &end);
    if (end != text && *end == '\0' && v > above_s)
        fprintf(stderr,
                "joules %s: note: %s %s is %g seconds (a bare number is seconds); write %sms "
                "for milliseconds\n",
                cmd, opt, text, v, text);
}

int cli_series_open(struct cli_series *cs, const char *cmd)
{
    char err[512];
    if (cs->csv_path) {
        if (io_atomic_open(&cs->csv, cs->csv_path, err, sizeof err) != 0) {
            fprintf(stderr, "joules %s: %s\n", cmd, err);
            return CLI_EXIT_USAGE;
        }
        cs->csv_open = 1;
        /* A measured command must not inherit our half-written file. */
        if (cs->csv.f != stdout)
            (void)fcntl(fileno(cs->csv.f), F_SETFD, FD_CLOEXEC);
        series_csv_header(cs->csv.f);
    }
    if (cs->plot_path) {
        /* Check now that the chart can be written there, before anything runs. */
        io_atomic probe;
        if (io_atomic_open(&probe, cs->plot_path, err, sizeof err) != 0) {
            fprintf(stderr, "joules %s: --plot: %s\n", cmd, err);
            if (cs->csv_open)
                io_atomic_abort(&cs->csv);
            cs->csv_open = 0;
            return CLI_EXIT_USAGE;
        }
        io_atomic_abort(&probe);
    }
    pthread_mutex_init(&cs->lock, NULL);
    cs->lock_init = 1;
    return 0;
}

/* Marker rows due before time t (lock held). */
static void flush_markers(struct cli_series *cs, int64_t t_ns)
{
    int k = 0;
    for (int i = 0; i < cs->n_pending; i++) {
        if (cs->pending_ns[i] <= t_ns) {
            if (cs->csv_open && series_csv_marker(cs->csv.f, &cs->clock, cs->pending_record[i],
                                                  cs->pending_ns[i], cs->pending_label[i]) != 0)
                cs->write_failed = 1;
            continue;
        }
        if (k != i) {
            cs->pending_ns[k] = cs->pending_ns[i];
            memcpy(cs->pending_record[k], cs->pending_record[i], sizeof cs->pending_record[0]);
            memcpy(cs->pending_label[k], cs->pending_label[i], sizeof cs->pending_label[0]);
        }
        k++;
    }
    cs->n_pending = k;
}

/* The sampler thread, once per round: every sample to the files. */
static void on_round(const joules_power_sample *p, int n, void *user)
{
    struct cli_series *cs = user;
    pthread_mutex_lock(&cs->lock);
    for (int i = 0; i < n; i++) {
        flush_markers(cs, p[i].t_ns);
        if (cs->csv_open && p[i].domain < cs->n_info &&
            series_csv_sample(cs->csv.f, &cs->clock, &cs->info[p[i].domain], &p[i]) != 0)
            cs->write_failed = 1;
        if (cs->plot_path && series_plot_add(&cs->plot, &p[i]) != 0)
            cs->write_failed = 1;
    }
    pthread_mutex_unlock(&cs->lock);
}

int cli_series_start(struct cli_series *cs, const char *cmd, joules_monitor *m,
                     const joules_domain_info *info, int n_info, int64_t interval_ns,
                     size_t ring_capacity)
{
    cs->info = info;
    cs->n_info = n_info;
    series_clock_init(&cs->clock);
    series_plot_init(&cs->plot, &cs->clock);
    joules_sampler_options o;
    joules_sampler_options_init(&o);
    o.interval_ns = (uint64_t)interval_ns;
    o.ring_capacity = ring_capacity;
    if (cs->csv_path || cs->plot_path) {
        o.callback = on_round;
        o.user = cs;
    }
    int rc = joules_sampler_start(m, &o, &cs->sampler);
    if (rc != 0) {
        fprintf(stderr, "joules %s: cannot start sampling: %s\n", cmd, joules_last_error(m));
        return CLI_EXIT_FAILURE;
    }
    return 0;
}

int64_t cli_series_mark(struct cli_series *cs, const char *record, const char *label)
{
    pthread_mutex_lock(&cs->lock);
    int64_t t_ns = util_now_ns();
    if (cs->n_pending < CLI_SERIES_MARKERS) {
        int i = cs->n_pending++;
        cs->pending_ns[i] = t_ns;
        snprintf(cs->pending_record[i], sizeof cs->pending_record[i], "%s", record);
        snprintf(cs->pending_label[i], sizeof cs->pending_label[i], "%s", label ? label : "");
    }
    if (cs->plot_path)
        series_plot_marker(&cs->plot, t_ns, label);
    pthread_mutex_unlock(&cs->lock);
    return t_ns;
}

void cli_series_stop(struct cli_series *cs, joules_sampler_stats *stats)
{
    if (cs->sampler)
        joules_sampler_stop(cs->sampler, stats);
}

static void release(struct cli_series *cs)
{
    joules_sampler_free(cs->sampler);
    cs->sampler = NULL;
    series_plot_free(&cs->plot);
    if (cs->lock_init)
        pthread_mutex_destroy(&cs->lock);
    cs->lock_init = 0;
}

int cli_series_finish(struct cli_series *cs, const char *cmd)
{
    char err[512];
    int rc = 0;
    cli_series_stop(cs, NULL);
    if (cs->lock_init)
        flush_markers(cs, INT64_MAX);
    if (cs->csv_open) {
        if (cs->write_failed) {
            fprintf(stderr, "joules %s: writing %s failed; no file was written\n", cmd,
                    cs->csv_path);
            io_atomic_abort(&cs->csv);
            rc = -1;
        } else if (io_atomic_commit(&cs->csv, err, sizeof err) != 0) {
            fprintf(stderr, "joules %s: %s; no file was written\n", cmd, err);
            rc = -1;
        }
        cs->csv_open = 0;
    }
    if (cs->plot_path && cs->info) {
        series_plot_options po = {.title = cs->title, .normalise = cs->normalise};
        if (series_plot_save(&cs->plot, cs->info, cs->n_info, &po, cs->plot_path, err,
                             sizeof err) != 0) {
            fprintf(stderr, "joules %s: --plot: %s; no chart was written\n", cmd, err);
            rc = -1;
        }
    }
    release(cs);
    return rc;
}

void cli_series_abort(struct cli_series *cs)
{
    cli_series_stop(cs, NULL);
    if (cs->csv_open)
        io_atomic_abort(&cs->csv);
    cs->csv_open = 0;
    release(cs);
}

void cli_series_print_stats(FILE *out, const char *cmd, const joules_sampler_stats *st,
                            int64_t interval_ns)
{
    fprintf(out,
            "joules %s: %llu rounds of %d domain(s) every %g ms; %llu missed deadline(s); "
            "lateness mean %.3f ms, max %.3f ms",
            cmd, (unsigned long long)st->rounds, st->n_domains, (double)interval_ns * 1e-6,
            (unsigned long long)st->missed_deadlines, st->mean_lateness_ns * 1e-6,
            (double)st->max_lateness_ns * 1e-6);
    if (st->read_errors)
        fprintf(out, "; %llu failed read(s)", (unsigned long long)st->read_errors);
    fputc('\n', out);
}

/* ---- baselines ------------------------------------------------------------------------- */

int cli_baseline_load_one(joules_monitor *m, int dom, const joules_domain_info *info,
                          io_baseline *b, char *path, size_t path_len)
{
    char dir[4096], err[512], state[16];
    if (baseline_dir(dir, sizeof dir, 0, err, sizeof err) != 0)
        return 0;
    int pstate = -1;
    if (info->kind == JOULES_KIND_GPU) {
        joules_gpu_status g;
        if (joules_gpu_status_get(m, dom, &g) == 0)
            pstate = g.pstate;
    }
    baseline_clock_state(pstate, state, sizeof state);
    int missing = 0;
    if (baseline_path(path, path_len, dir, info, state) != 0 ||
        baseline_load(path, b, &missing, err, sizeof err) != 0)
        return 0;
    /* A baseline of another device (or a simulated one for a real one) is no baseline. */
    int same = info->uuid[0]
                   ? strcmp(b->uuid, info->uuid) == 0
                   : strcmp(b->domain, info->name) == 0 && strcmp(b->device, info->device) == 0;
    return same && b->simulated == info->simulated;
}

struct cli_baselines *cli_baselines_load(joules_monitor *m, const joules_domain_info *info,
                                         int n_info)
{
    struct cli_baselines *bl = calloc(1, sizeof *bl);
    if (!bl)
        return NULL;
    int any = 0;
    for (int i = 0; i < n_info && i < JOULES_MAX_DOMAINS; i++)
        if (cli_baseline_load_one(m, i, &info[i], &bl->b[i], bl->path[i], sizeof bl->path[i]))
            bl->have[i] = any = 1;
    if (!any) {
        free(bl);
        return NULL;
    }
    return bl;
}

void cli_age_text(double age_s, char *buf, size_t len)
{
    if (age_s < 120)
        snprintf(buf, len, "%.0f s", age_s);
    else if (age_s < 7200)
        snprintf(buf, len, "%.0f min", age_s / 60);
    else if (age_s < 172800)
        snprintf(buf, len, "%.1f h", age_s / 3600);
    else
        snprintf(buf, len, "%.1f days", age_s / 86400);
}

void cli_baselines_dynamic(const struct cli_baselines *bl, const joules_measurement *meas,
                           io_run_dynamic *out)
{
    for (int i = 0; i < JOULES_MAX_DOMAINS; i++)
        out[i].have = 0;
    if (!bl || !meas)
        return;
    for (int i = 0; i < meas->n_domains; i++) {
        const joules_domain_energy *e = &meas->domains[i];
        if (e->domain < 0 || e->domain >= JOULES_MAX_DOMAINS || !bl->have[e->domain] || !e->valid)
            continue;
        const io_baseline *b = &bl->b[e->domain];
        io_run_dynamic *d = &out[e->domain];
        baseline_dynamic(b, e->energy_j, e->uncertainty_j, meas->duration_s, &d->energy_j,
                         &d->uncertainty_j);
        d->have = 1;
        d->baseline_power_w = b->power_w;
        d->baseline_file = bl->path[e->domain];
        double age = (double)time(NULL) - b->created_unix_s;
        d->baseline_age_s = age > 0 ? age : 0;
    }
}

void cli_baselines_report(FILE *out, const struct cli_baselines *bl, const joules_measurement *meas,
                          const joules_domain_info *info)
{
    if (!bl || !meas)
        return;
    int header = 0;
    for (int i = 0; i < meas->n_domains; i++) {
        const joules_domain_energy *e = &meas->domains[i];
        if (e->domain < 0 || e->domain >= JOULES_MAX_DOMAINS || !bl->have[e->domain] || !e->valid)
            continue;
        const io_baseline *b = &bl->b[e->domain];
        if (!header) {
            fprintf(out,
                    "\nDynamic energy (derived, method %s): energy - static baseline x %.3f s\n",
                    joules_method_name(JOULES_METHOD_MODEL), meas->duration_s);
            header = 1;
        }
        double dyn, unc, age = (double)time(NULL) - b->created_unix_s;
        char age_buf[32];
        cli_age_text(age > 0 ? age : 0, age_buf, sizeof age_buf);
        baseline_dynamic(b, e->energy_j, e->uncertainty_j, meas->duration_s, &dyn, &unc);
        fprintf(out, "  %-10s %12.3f J +/- %.3f J   (static %.2f W +/- %.2f in %s)%s\n",
                info[e->domain].name, dyn, unc, b->power_w, b->power_uncertainty_w, b->clock_state,
                e->simulated ? "  SIMULATED" : "");
        fprintf(out, "  %-10s baseline %s, %s old%s\n", "", bl->path[e->domain], age_buf,
                b->idle_ok ? "" : "; measured while NOT idle (--force)");
    }
}
