/* SPDX-License-Identifier: MIT */
/*
 * cli_impact_out.c - the files of the efficiency and emissions report: JSON (schema
 * joules.impact/1), CSV (joules.impact.csv/1, one row per subject) and rows appended to a
 * CodeCarbon-compatible emissions.csv (docs/impact.md lists the columns and what joules puts
 * in each). JSON and CSV files appear whole or not at all (io/atomic.h); the CodeCarbon
 * file is appended to, as CodeCarbon does.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_impact.h"
#include "io/atomic.h"
#include "io/run_output.h"

#define J_PER_KWH 3.6e6

void cli_impact_json_site(io_json *j, const struct cli_impact *ci)
{
    const struct impact_setting *s[3] = {&ci->site.grid, &ci->site.pue, &ci->site.lifetime};
    static const char *const names[3] = {"grid", "pue", "lifetime_years"};
    io_json_object_begin(j);
    for (int i = 0; i < 3; i++) {
        io_json_key(j, names[i]);
        io_json_object_begin(j);
        io_json_kv_string(j, "value", s[i]->value[0] ? s[i]->value : NULL);
        io_json_kv_string(j, "origin", impact_origin_name(s[i]->origin));
        io_json_kv_string(j, "where", s[i]->where);
        io_json_object_end(j);
    }
    io_json_kv_number(j, "g_per_kwh", ci->grid.set ? ci->grid.g_per_kwh : NAN);
    if (ci->grid.zone) {
        io_json_key(j, "zone");
        io_json_object_begin(j);
        io_json_kv_string(j, "code", ci->grid.zone->zone);
        io_json_kv_string(j, "name", ci->grid.zone->name);
        io_json_kv_int(j, "year", ci->grid.zone->year);
        io_json_kv_string(j, "source", ci->grid.zone->source);
        io_json_object_end(j);
    } else {
        io_json_kv_null(j, "zone");
    }
    io_json_kv_number(j, "pue_value", ci->pue);
    io_json_kv_number(j, "lifetime_y", ci->lifetime_y);
    io_json_kv_string(j, "config_file", ci->site.config_path[0] ? ci->site.config_path : NULL);
    io_json_kv_bool(j, "config_file_found", ci->site.config_found);
    io_json_object_end(j);
}

static void json_job(io_json *j, const struct cli_impact_job *job)
{
    static const char *const refs[IMPACT_N_REFERENCES] = {"V100", "A100", "H100", "B200"};
    const struct impact_efficiency *e = &job->eff;
    const struct impact_emissions *m = &job->em;
    io_json_object_begin(j);
    io_json_kv_string(j, "subject", job->subject);
    io_json_kv_bool(j, "simulated", job->simulated);
    io_json_key(j, "devices");
    io_json_array_begin(j);
    for (int i = 0; i < job->n_devices; i++) {
        io_json_object_begin(j);
        io_json_kv_string(j, "name", job->device_names[i]);
        io_json_kv_string(j, "model", job->devices[i] ? job->devices[i]->key : NULL);
        io_json_object_end(j);
    }
    io_json_array_end(j);
    io_json_key(j, "efficiency");
    io_json_object_begin(j);
    io_json_kv_number(j, "flops", job->flops >= 0 ? job->flops : NAN);
    io_json_kv_string(j, "precision", impact_precision_name(e->precision));
    io_json_kv_number(j, "gflop_per_j", e->gflop_per_j);
    io_json_kv_number(j, "gflop_per_j_uncertainty", e->gflop_per_j_pm);
    io_json_kv_number(j, "peak_gflop_per_j", e->peak_gflop_per_j);
    io_json_kv_number(j, "share_of_peak", e->share_of_peak);
    io_json_key(j, "references");
    io_json_object_begin(j);
    for (int r = 0; r < IMPACT_N_REFERENCES; r++) {
        io_json_key(j, refs[r]);
        io_json_object_begin(j);
        io_json_kv_number(j, "peak_gflop_per_j", e->ref_gflop_per_j[r]);
        io_json_kv_number(j, "share", e->ref_share[r]);
        io_json_object_end(j);
    }
    io_json_object_end(j);
    io_json_object_end(j);
    io_json_key(j, "emissions");
    io_json_object_begin(j);
    io_json_kv_number(j, "duration_s", m->duration_s);
    io_json_kv_number(j, "device_energy_j", m->device_energy_j);
    io_json_kv_number(j, "device_energy_uncertainty_j", m->device_energy_pm_j);
    io_json_kv_number(j, "pue", m->pue);
    io_json_kv_number(j, "facility_energy_j", m->facility_energy_j);
    io_json_kv_number(j, "facility_energy_uncertainty_j", m->facility_energy_pm_j);
    io_json_kv_number(j, "g_per_kwh", m->g_per_kwh);
    io_json_kv_number(j, "use_g", m->use_g);
    io_json_kv_number(j, "use_uncertainty_g", m->use_pm_g);
    io_json_kv_number(j, "embodied_low_g", m->embodied_low_g);
    io_json_kv_number(j, "embodied_high_g", m->embodied_high_g);
    io_json_kv_number(j, "lifetime_y", m->lifetime_y);
    io_json_kv_number(j, "use_share_low", m->use_share_low);
    io_json_kv_number(j, "use_share_high", m->use_share_high);
    io_json_object_end(j);
    io_json_object_end(j);
}

/* The object of schema joules.impact/1: the site values in force and one entry per subject. */
static void json_impact(io_json *j, const struct cli_impact *ci, const char *cmd,
                        const struct cli_impact_job *jobs, int n)
{
    io_json_object_begin(j);
    io_json_kv_string(j, "schema", "joules.impact/1");
    io_json_kv_string(j, "command", cmd);
    io_json_key(j, "site");
    cli_impact_json_site(j, ci);
    io_json_key(j, "subjects");
    io_json_array_begin(j);
    for (int i = 0; i < n; i++)
        json_job(j, &jobs[i]);
    io_json_array_end(j);
    io_json_object_end(j);
}

static void num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.9g", v);
}

/* The figures of a subject, in the columns of both CSVs: --impact-csv's own rows and the
 * impact_ columns of run's and ab's --csv. */
static const char *const figure_columns[] = {
    "flops",
    "precision",
    "gflop_per_j",
    "gflop_per_j_uncertainty",
    "peak_gflop_per_j",
    "share_of_peak",
    "share_of_v100",
    "share_of_a100",
    "share_of_h100",
    "share_of_b200",
    "duration_s",
    "device_energy_j",
    "device_energy_uncertainty_j",
    "pue",
    "facility_energy_j",
    "facility_energy_uncertainty_j",
    "grid",
    "g_per_kwh",
    "grid_year",
    "use_g",
    "use_uncertainty_g",
    "embodied_low_g",
    "embodied_high_g",
    "lifetime_y",
    "use_share_low",
    "use_share_high",
};
#define N_FIGURE_COLUMNS (sizeof figure_columns / sizeof figure_columns[0])

/* Each cell with its leading comma; job NULL: the cells left empty. */
static void csv_figures(FILE *f, const struct cli_impact *ci, const struct cli_impact_job *jb)
{
    if (!jb) {
        for (size_t k = 0; k < N_FIGURE_COLUMNS; k++)
            fputc(',', f);
        return;
    }
    const struct impact_efficiency *e = &jb->eff;
    const struct impact_emissions *m = &jb->em;
    fputc(',', f);
    num(f, jb->flops >= 0 ? jb->flops : NAN);
    fprintf(f, ",%s", impact_precision_name(e->precision));
    double v[] = {e->gflop_per_j,       e->gflop_per_j_pm,      e->peak_gflop_per_j,
                  e->share_of_peak,     e->ref_share[0],        e->ref_share[1],
                  e->ref_share[2],      e->ref_share[3],        m->duration_s,
                  m->device_energy_j,   m->device_energy_pm_j,  m->pue,
                  m->facility_energy_j, m->facility_energy_pm_j};
    for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
        fputc(',', f);
        num(f, v[k]);
    }
    fputc(',', f);
    io_csv_field(f, ci->grid.zone ? ci->grid.zone->zone : ci->grid.set ? "custom" : "");
    fputc(',', f);
    num(f, m->g_per_kwh);
    fputc(',', f);
    if (ci->grid.zone)
        fprintf(f, "%d", ci->grid.zone->year);
    double w[] = {m->use_g,      m->use_pm_g,      m->embodied_low_g, m->embodied_high_g,
                  m->lifetime_y, m->use_share_low, m->use_share_high};
    for (size_t k = 0; k < sizeof w / sizeof w[0]; k++) {
        fputc(',', f);
        num(f, w[k]);
    }
}

static void csv_figure_header(FILE *f, const char *prefix)
{
    for (size_t k = 0; k < N_FIGURE_COLUMNS; k++)
        fprintf(f, ",%s%s", prefix, figure_columns[k]);
}

static int write_csv(FILE *f, const struct cli_impact *ci, const char *cmd,
                     const struct cli_impact_job *jobs, int n)
{
    fputs("schema,command,subject,simulated,device,model", f);
    csv_figure_header(f, "");
    fputc('\n', f);
    for (int i = 0; i < n; i++) {
        const struct cli_impact_job *jb = &jobs[i];
        fprintf(f, "joules.impact.csv/1,%s,", cmd);
        io_csv_field(f, jb->subject);
        fprintf(f, ",%d,", jb->simulated);
        io_csv_field(f, jb->n_devices ? jb->device_names[0] : "");
        fputc(',', f);
        io_csv_field(f, jb->n_devices && jb->devices[0] ? jb->devices[0]->key : "");
        csv_figures(f, ci, jb);
        fputc('\n', f);
    }
    return ferror(f) ? -1 : 0;
}

/* ---- the figures inside a command's own --json and --csv (io/extra.h) ------------------ */

static void extra_json(io_json *j, const void *ctx)
{
    const struct cli_impact_report *rep = ctx;
    if (rep->n <= 0)
        return;
    io_json_key(j, "impact");
    json_impact(j, rep->ci, rep->cmd, rep->jobs, rep->n);
}

static void extra_csv_header(FILE *f, const void *ctx)
{
    (void)ctx;
    fputs(",impact_subject,impact_model", f);
    csv_figure_header(f, "impact_");
}

static void extra_csv_row(FILE *f, const void *ctx, const char *subject)
{
    const struct cli_impact_report *rep = ctx;
    const struct cli_impact_job *jb = NULL;
    for (int i = 0; i < rep->n && !jb; i++)
        if (!subject || strcmp(rep->jobs[i].subject, subject) == 0)
            jb = &rep->jobs[i];
    fputc(',', f);
    if (jb)
        io_csv_field(f, jb->subject);
    fputc(',', f);
    if (jb && jb->n_devices && jb->devices[0])
        io_csv_field(f, jb->devices[0]->key);
    csv_figures(f, rep->ci, jb);
}

const io_extra *cli_impact_extra(io_extra *x, const struct cli_impact_report *rep)
{
    if (!rep || rep->n <= 0)
        return NULL;
    memset(x, 0, sizeof *x);
    x->json = extra_json;
    if (rep->columns) {
        x->csv_header = extra_csv_header;
        x->csv_row = extra_csv_row;
    }
    x->ctx = rep;
    return x;
}

/* CodeCarbon 3.x emissions.csv, in its order (codecarbon/output_methods/emissions_data.py). */
static const char codecarbon_header[] =
    "timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate,cpu_power,"
    "gpu_power,ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,water_consumed,"
    "country_name,country_iso_code,region,cloud_provider,cloud_region,os,python_version,"
    "codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,longitude,latitude,"
    "ram_total_size,tracking_mode,cpu_utilization_percent,gpu_utilization_percent,"
    "ram_utilization_percent,ram_used_gb,on_cloud,pue,wue\n";

/* A random (version 4) UUID for run_id; /dev/urandom, else the clock. */
static void uuid4(char *buf, size_t len)
{
    unsigned char b[16];
    FILE *f = fopen("/dev/urandom", "rb");
    size_t got = f ? fread(b, 1, sizeof b, f) : 0;
    if (f)
        fclose(f);
    if (got != sizeof b) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        unsigned long long x =
            (unsigned long long)ts.tv_nsec ^ ((unsigned long long)getpid() << 32);
        for (int i = 0; i < 16; i++, x = x * 6364136223846793005ull + 1442695040888963407ull)
            b[i] = (unsigned char)(x >> 56);
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(buf, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

static void cc_row(FILE *f, const struct cli_impact *ci, const struct cli_impact_job *jb)
{
    const struct impact_emissions *m = &jb->em;
    char ts[40], id[40];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    uuid4(id, sizeof id);
    double d = jb->duration_s;
    double gpu_j = jb->gpu_energy_j;
    /* CodeCarbon's emissions include PUE; its energy columns here are the devices' own. */
    double kg = m->have_grid ? m->use_g / 1000.0 : NAN;
    fprintf(f, "%s,joules,%s,,", ts, id);
    num(f, d);
    fputc(',', f);
    num(f, kg);
    fputc(',', f);
    num(f, d > 0 ? kg / d : NAN);
    double p[] = {jb->cpu_energy_j / d, gpu_j / d, jb->ram_energy_j / d};
    double e[] = {jb->cpu_energy_j / J_PER_KWH, gpu_j / J_PER_KWH, jb->ram_energy_j / J_PER_KWH,
                  (jb->cpu_energy_j + gpu_j + jb->ram_energy_j) / J_PER_KWH};
    for (int i = 0; i < 3; i++) {
        fputc(',', f);
        num(f, d > 0 ? p[i] : NAN);
    }
    for (int i = 0; i < 4; i++) {
        fputc(',', f);
        num(f, e[i]);
    }
    fputs(",,", f); /* water_consumed: not measured */
    io_csv_field(f, ci->grid.zone ? ci->grid.zone->name : "");
    fputc(',', f);
    io_csv_field(f, ci->grid.zone && strlen(ci->grid.zone->zone) == 3 ? ci->grid.zone->zone : "");
    fputs(",,,,", f); /* region, cloud_provider, cloud_region */
    struct utsname u;
    char os[400] = "";
    if (uname(&u) == 0)
        snprintf(os, sizeof os, "%s-%s-%s", u.sysname, u.release, u.machine);
    io_csv_field(f, os);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    fputs(",,,", f); /* python_version, codecarbon_version */
    if (ncpu > 0)
        fprintf(f, "%ld", ncpu);
    fputs(",,", f); /* cpu_model */
    fprintf(f, "%d,", jb->n_devices);
    io_csv_field(f, jb->n_devices ? jb->device_names[0] : "");
    fputs(",,,", f); /* longitude, latitude: never guessed */
    if (pages > 0 && page > 0)
        fprintf(f, "%.3f", (double)pages * (double)page / 1e9);
    fprintf(f, ",machine,,,,,N,%g,\n", m->pue);
}

static int append_codecarbon(const char *path, const struct cli_impact *ci,
                             const struct cli_impact_job *jobs, int n, char *err, size_t len)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, len, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    int fresh = fstat(fd, &st) == 0 && st.st_size == 0;
    FILE *f = fdopen(fd, "a");
    if (!f) {
        snprintf(err, len, "%s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (fresh)
        fputs(codecarbon_header, f);
    for (int i = 0; i < n; i++)
        cc_row(f, ci, &jobs[i]);
    if (fclose(f) != 0) {
        snprintf(err, len, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int atomic_write(const char *path, const char *what,
                        int (*fn)(FILE *, const struct cli_impact *, const char *,
                                  const struct cli_impact_job *, int),
                        const struct cli_impact *ci, const char *cmd,
                        const struct cli_impact_job *jobs, int n)
{
    io_atomic a;
    char err[600];
    if (io_atomic_open(&a, path, err, sizeof err) != 0) {
        fprintf(stderr, "joules %s: %s: %s\n", cmd, what, err);
        return -1;
    }
    if (fn(a.f, ci, cmd, jobs, n) != 0) {
        io_atomic_abort(&a);
        fprintf(stderr, "joules %s: %s: writing %s failed\n", cmd, what, path);
        return -1;
    }
    if (io_atomic_commit(&a, err, sizeof err) != 0) {
        fprintf(stderr, "joules %s: %s: %s\n", cmd, what, err);
        return -1;
    }
    return 0;
}

int cli_impact_write(const struct cli_impact_opts *o, const struct cli_impact *ci, const char *cmd,
                     const struct cli_impact_job *jobs, int n)
{
    int rc = 0;
    char err[700];
    if (o->csv && atomic_write(o->csv, "--impact-csv", write_csv, ci, cmd, jobs, n) != 0)
        rc = -1;
    if (o->codecarbon_csv && append_codecarbon(o->codecarbon_csv, ci, jobs, n, err, sizeof err)) {
        fprintf(stderr, "joules %s: --codecarbon-csv: %s\n", cmd, err);
        rc = -1;
    }
    if (o->svg && cli_impact_svg(o->svg, ci, jobs, n, err, sizeof err) != 0) {
        fprintf(stderr, "joules %s: --efficiency-svg: %s\n", cmd, err);
        rc = -1;
    }
    return rc;
}
