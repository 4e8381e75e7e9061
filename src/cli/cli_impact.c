/* SPDX-License-Identifier: MIT */
/*
 * cli_impact.c - the efficiency and emissions options, the shipped tables beside the
 * executable, and the table block (cli_impact.h). The outputs are in cli_impact_out.c, the
 * chart in cli_impact_svg.c, `joules info`'s part in cli_impact_info.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_impact.h"
#include "cli/cli_util.h"

void cli_impact_opts_init(struct cli_impact_opts *o)
{
    memset(o, 0, sizeof *o);
    o->flops = -1;
    o->precision = IMPACT_FP32;
}

int cli_impact_take(struct cli_impact_opts *o, const char *cmd, int id, const char *arg)
{
    char err[IMPACT_ERR_MAX];
    double x;
    switch (id) {
    case CLI_OPT_IMPACT_FLOPS:
        if (impact_check_flops(arg, &o->flops, err, sizeof err) != 0)
            return cli_usage_error(cmd, "--flops: %s", err);
        break;
    case CLI_OPT_IMPACT_PRECISION:
        if ((o->precision = impact_precision_parse(arg)) < 0)
            return cli_usage_error(cmd,
                                   "--precision: '%s' is none of fp64, fp32, tf32, fp16, bf16, "
                                   "fp8, int8",
                                   arg);
        break;
    case CLI_OPT_IMPACT_GRID:
        /* A number is checked here; a zone when the table is read. */
        if (*arg >= '0' && *arg <= '9') {
            struct impact_grid g;
            if (impact_grid_parse(NULL, arg, &g, err, sizeof err) != 0)
                return cli_usage_error(cmd, "--grid: %s", err);
        } else if (*arg == '-' || *arg == '.') {
            return cli_usage_error(cmd, "--grid: '%s' is not a carbon intensity in [0, %g] g/kWh",
                                   arg, IMPACT_INTENSITY_MAX_G_PER_KWH);
        }
        o->grid = arg;
        break;
    case CLI_OPT_IMPACT_PUE:
        if (impact_check_pue(arg, &x, err, sizeof err) != 0)
            return cli_usage_error(cmd, "--pue: %s", err);
        o->pue = arg;
        break;
    case CLI_OPT_IMPACT_LIFETIME:
        if (impact_check_lifetime(arg, &x, err, sizeof err) != 0)
            return cli_usage_error(cmd, "--lifetime: %s", err);
        o->lifetime = arg;
        break;
    case CLI_OPT_IMPACT_CODECARBON_CSV:
    case CLI_OPT_IMPACT_CSV:
    case CLI_OPT_IMPACT_SVG:
        if (!*arg)
            return cli_usage_error(cmd, "an output option has an empty file name");
        if (id == CLI_OPT_IMPACT_CODECARBON_CSV)
            o->codecarbon_csv = arg;
        else if (id == CLI_OPT_IMPACT_CSV)
            o->csv = arg;
        else
            o->svg = arg;
        break;
    default:
        return -1;
    }
    o->given = 1;
    return 0;
}

static const char *getenv_cb(const char *name)
{
    return getenv(name);
}

int cli_impact_open(struct cli_impact *ci, const struct cli_impact_opts *o, const char *cmd)
{
    memset(ci, 0, sizeof *ci);
    char err[IMPACT_ERR_MAX + 1200], p1[4200], p2[4200];
    impact_data_dir(ci->data_dir, sizeof ci->data_dir);
    snprintf(p1, sizeof p1, "%s/hardware.tsv", ci->data_dir);
    snprintf(p2, sizeof p2, "%s/hardware-sources.tsv", ci->data_dir);
    if (impact_hw_load(&ci->hw, p1, p2, err, sizeof err) != 0) {
        fprintf(stderr, "joules %s: %s\n", cmd, err);
        return CLI_EXIT_FAILURE;
    }
    snprintf(p1, sizeof p1, "%s/carbon-intensity.tsv", ci->data_dir);
    if (impact_zones_load(&ci->zones, p1, err, sizeof err) != 0) {
        fprintf(stderr, "joules %s: %s\n", cmd, err);
        impact_hw_free(&ci->hw);
        return CLI_EXIT_FAILURE;
    }
    ci->loaded = 1;
    char config[1024];
    impact_config_path(getenv("XDG_CONFIG_HOME"), getenv("HOME"), config, sizeof config);
    if (impact_site_resolve(&ci->site, config, getenv_cb, o ? o->grid : NULL, o ? o->pue : NULL,
                            o ? o->lifetime : NULL, err, sizeof err) != 0) {
        fprintf(stderr, "joules %s: %s\n", cmd, err);
        cli_impact_close(ci);
        return CLI_EXIT_USAGE;
    }
    char msg[IMPACT_ERR_MAX];
    if (ci->site.grid.value[0] &&
        impact_grid_parse(&ci->zones, ci->site.grid.value, &ci->grid, msg, sizeof msg) != 0) {
        fprintf(stderr, "joules %s: %s: %s\n", cmd, ci->site.grid.where, msg);
        cli_impact_close(ci);
        return CLI_EXIT_USAGE;
    }
    /* Both were checked when they came in. */
    (void)impact_check_pue(ci->site.pue.value, &ci->pue, msg, sizeof msg);
    (void)impact_check_lifetime(ci->site.lifetime.value, &ci->lifetime_y, msg, sizeof msg);
    return 0;
}

void cli_impact_close(struct cli_impact *ci)
{
    if (ci->loaded) {
        impact_hw_free(&ci->hw);
        impact_zones_free(&ci->zones);
    }
    ci->loaded = 0;
}

const struct impact_hw *cli_impact_find_hw(const struct cli_impact *ci, const char *name)
{
    return ci->loaded ? impact_hw_by_device(&ci->hw, name) : NULL;
}

void cli_impact_job_from_run(struct cli_impact_job *j, const struct cli_impact *ci,
                             joules_monitor *m, const joules_measurement *meas,
                             const joules_domain_info *info, int n_info, double flops,
                             int precision)
{
    memset(j, 0, sizeof *j);
    snprintf(j->subject, sizeof j->subject, "run");
    j->flops = flops;
    j->precision = precision;
    j->duration_s = meas->duration_s;
    j->energy_j = meas->total_energy_j;
    j->energy_pm_j = meas->total_uncertainty_j;
    double gpu_var = 0;
    for (int i = 0; i < meas->n_domains; i++) {
        const joules_domain_energy *e = &meas->domains[i];
        if (e->domain < 0 || e->domain >= n_info || !e->valid)
            continue;
        const joules_domain_info *di = &info[e->domain];
        j->simulated |= e->simulated;
        if (di->kind == JOULES_KIND_GPU) {
            j->gpu_energy_j += e->energy_j;
            gpu_var += e->uncertainty_j * e->uncertainty_j;
            if (j->n_devices < CLI_IMPACT_MAX_DEVICES) {
                joules_gpu_status g;
                const char *name = di->device;
                if (m && joules_gpu_status_get(m, e->domain, &g) == 0 && g.name[0])
                    name = g.name;
                snprintf(j->device_names[j->n_devices], sizeof j->device_names[0], "%s", name);
                j->devices[j->n_devices] = cli_impact_find_hw(ci, name);
                j->n_devices++;
            }
        } else if (di->counted_in_total) {
            if (di->kind == JOULES_KIND_DRAM)
                j->ram_energy_j += e->energy_j;
            else
                j->cpu_energy_j += e->energy_j;
        }
    }
    /* Independent sensors: the GPUs' bounds add in quadrature, as the total's do. */
    j->gpu_energy_pm_j = sqrt(gpu_var);
}

void cli_impact_compute(const struct cli_impact *ci, struct cli_impact_job *j)
{
    const struct impact_hw *hw = j->n_devices > 0 ? j->devices[0] : NULL;
    double e = j->gpu_energy_j > 0 ? j->gpu_energy_j : j->energy_j;
    double pm = j->gpu_energy_j > 0 ? j->gpu_energy_pm_j : j->energy_pm_j;
    impact_efficiency(j->flops, e, pm, j->precision, hw, ci->loaded ? &ci->hw : NULL, &j->eff);
    impact_emissions(j->energy_j, j->energy_pm_j, j->duration_s, ci->pue, &ci->grid, ci->lifetime_y,
                     j->devices, j->n_devices, &j->em);
}

void cli_impact_report_run(const struct cli_impact_opts *o, const struct cli_impact *ci,
                           const char *cmd, const char *subject, joules_monitor *m,
                           const joules_measurement *meas, const joules_domain_info *info,
                           int n_info, int quiet, struct cli_impact_report *out)
{
    memset(out, 0, sizeof *out);
    if (!o->given && !ci->grid.set) {
        if (!quiet)
            cli_impact_hint(stderr, cmd);
        return;
    }
    static struct cli_impact_job job;
    cli_impact_job_from_run(&job, ci, m, meas, info, n_info, o->flops, o->precision);
    if (subject)
        snprintf(job.subject, sizeof job.subject, "%s", subject);
    cli_impact_compute(ci, &job);
    if (!quiet)
        cli_impact_print(stderr, ci, &job, 1);
    (void)cli_impact_write(o, ci, cmd, &job, 1);
    *out = (struct cli_impact_report){ci, cmd, &job, 1, 1};
}

static const char *ref_label(int r)
{
    static const char *const labels[IMPACT_N_REFERENCES] = {"V100", "A100", "H100", "B200"};
    return labels[r];
}

static void print_efficiency(FILE *out, const struct cli_impact_job *j)
{
    const struct impact_efficiency *e = &j->eff;
    if (isnan(e->gflop_per_j))
        return;
    fprintf(out, "   efficiency %-10s %10.4g +/- %.2g GFLOP/J (%s, %s energy)\n", j->subject,
            e->gflop_per_j, e->gflop_per_j_pm, impact_precision_name(e->precision),
            j->gpu_energy_j > 0 ? "GPU" : "total");
    if (!isnan(e->share_of_peak)) {
        fprintf(out, "     %.2f %% of this GPU's peak %.4g GFLOP/J (%s: peak FLOP/s / TDP)\n",
                100 * e->share_of_peak, e->peak_gflop_per_j, j->devices[0]->model);
        if (e->share_of_peak > 1)
            fprintf(out, "     (above 100 %%: the board drew less than its TDP for this work, "
                         "as at locked clocks,\n      a lower power limit or a light load; "
                         "peak / TDP is a reference, not a ceiling)\n");
    } else
        fprintf(out, "     this GPU's peak FLOP/J at %s: unknown (%s)\n",
                impact_precision_name(e->precision),
                j->n_devices && j->devices[0] ? "no peak or TDP in the table"
                : j->n_devices                ? "model not in the table"
                                              : "no GPU");
    fprintf(out, "     against reference peaks:");
    for (int r = 0; r < IMPACT_N_REFERENCES; r++) {
        if (isnan(e->ref_gflop_per_j[r]))
            fprintf(out, " %s n/a%s", ref_label(r), r + 1 < IMPACT_N_REFERENCES ? "," : "");
        else
            fprintf(out, " %s %.3g%%%s", ref_label(r), 100 * e->ref_share[r],
                    r + 1 < IMPACT_N_REFERENCES ? "," : "");
    }
    fputc('\n', out);
}

static void print_emissions(FILE *out, const struct cli_impact *ci, const struct cli_impact_job *j)
{
    const struct impact_emissions *m = &j->em;
    fprintf(out,
            "   energy     %-10s device %.6g +/- %.2g J; facility (x PUE %g) %.6g +/- %.2g J\n",
            j->subject, m->device_energy_j, m->device_energy_pm_j, m->pue, m->facility_energy_j,
            m->facility_energy_pm_j);
    if (m->have_grid) {
        char where[128];
        if (ci->grid.zone)
            snprintf(where, sizeof where, "%s %s, %d", ci->grid.zone->zone, ci->grid.zone->name,
                     ci->grid.zone->year);
        else
            snprintf(where, sizeof where, "given");
        fprintf(out, "   CO2e use   %-10s %.4g +/- %.2g g (%g g/kWh, %s)\n", j->subject, m->use_g,
                m->use_pm_g, m->g_per_kwh, where);
    }
    if (!isnan(m->embodied_low_g))
        fprintf(out, "   CO2e made  %-10s %.4g .. %.4g g (embodied, %.4g h of a %g-year life)\n",
                j->subject, m->embodied_low_g, m->embodied_high_g, m->duration_s / 3600.0,
                m->lifetime_y);
    else if (j->n_devices)
        fprintf(out, "   CO2e made  %-10s unknown (no published embodied figure for %s)\n",
                j->subject, j->device_names[0]);
    if (m->have_grid && !isnan(m->use_share_low))
        fprintf(out, "   shares     %-10s use %.1f .. %.1f %%, manufacturing %.1f .. %.1f %%\n",
                j->subject, 100 * m->use_share_low, 100 * m->use_share_high,
                100 * (1 - m->use_share_high), 100 * (1 - m->use_share_low));
}

void cli_impact_print(FILE *out, const struct cli_impact *ci, const struct cli_impact_job *jobs,
                      int n)
{
    fprintf(out, "\n   Efficiency and emissions (docs/impact.md)%s\n",
            n > 0 && jobs[0].simulated ? "   SIMULATED" : "");
    for (int i = 0; i < n; i++) {
        print_efficiency(out, &jobs[i]);
        print_emissions(out, ci, &jobs[i]);
    }
    if (!ci->grid.set)
        cli_impact_hint(out, NULL);
}

void cli_impact_hint(FILE *out, const char *cmd)
{
    fprintf(out,
            "%s%s%sno grid given, so energy only: add --grid ZONE or G_PER_KWH (or JOULES_GRID, or "
            "grid = ZONE in ~/.config/joules/config) for CO2e\n",
            cmd ? "joules " : "   ", cmd ? cmd : "", cmd ? ": " : "");
}
