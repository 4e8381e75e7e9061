/* SPDX-License-Identifier: MIT */
/*
 * run_output.c - table, JSON and CSV of a measured command (see run_output.h, docs/output.md).
 *
 * Honesty rules applied here: a domain that is not valid shows "unavailable" and its reason,
 * never a number (null in JSON, empty fields in CSV); every figure carries its method and
 * its uncertainty; simulated domains are labelled SIMULATED in the table and carry
 * "simulated": true in the files, and the simulator's own true energy is written only for
 * them, under a name that cannot be mistaken for a measurement.
 */
#include "io/run_output.h"

#include <math.h>
#include <string.h>

#include "io/json.h"

#define SHORT_HINT_S   1.0  /* commands shorter than this ... */
#define SHORT_HINT_REL 0.25 /* ... with a bar this wide get a hint */

static const joules_domain_info *info_of(const io_run_output *r, const joules_domain_energy *e)
{
    if (e->domain >= 0 && e->domain < r->n_info)
        return &r->info[e->domain];
    return NULL;
}

static const char *domain_name(const io_run_output *r, const joules_domain_energy *e)
{
    const joules_domain_info *di = info_of(r, e);
    return di ? di->name : "?";
}

static int counted(const io_run_output *r, const joules_domain_energy *e)
{
    const joules_domain_info *di = info_of(r, e);
    return di ? di->counted_in_total : 0;
}

/* The command as a shell would show it: words with special characters in single quotes. */
void io_format_command(char *buf, size_t len, char *const *argv, int argc)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < argc && n + 1 < len; i++) {
        const char *w = argv[i];
        int plain = *w != '\0';
        for (const char *p = w; *p; p++)
            if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                        "-_./=:,+@%",
                        *p))
                plain = 0;
        if (i > 0 && n + 1 < len)
            buf[n++] = ' ';
        if (!plain && n + 1 < len)
            buf[n++] = '\'';
        for (const char *p = w; *p && n + 1 < len; p++) {
            if (*p == '\'' && n + 5 < len) {
                memcpy(buf + n, "'\\''", 4);
                n += 4;
            } else if ((unsigned char)*p < 0x20) {
                buf[n++] = '?'; /* keep the table on its lines */
            } else {
                buf[n++] = *p;
            }
        }
        if (!plain && n + 1 < len)
            buf[n++] = '\'';
    }
    buf[n < len ? n : len - 1] = '\0';
    /* Long commands are shortened with an ellipsis; the files keep every word. */
    if (len > 4 && strlen(buf) >= len - 1)
        memcpy(buf + len - 4, "...", 4);
}

static void format_exit(char *buf, size_t len, const io_run_output *r)
{
    if (r->signal > 0)
        snprintf(buf, len, "killed by signal %d (%s)", r->signal, strsignal(r->signal));
    else
        snprintf(buf, len, "exit status %d", r->exit_status);
}

/* The device column holds 30 characters: a simulated board's name keeps its label, shortened,
 * rather than lose it to the cut. */
static const char *device_cell(char *buf, size_t len, const char *dev)
{
    static const char suffix[] = " (simulated)";
    size_t n = strlen(dev), ns = sizeof suffix - 1;
    if (n > 30 && n > ns && !strcmp(dev + n - ns, suffix)) {
        snprintf(buf, len, "%.*s (sim.)", (int)(n - ns < 23 ? n - ns : 23), dev);
        return buf;
    }
    return dev;
}

void io_run_table(FILE *out, const io_run_output *r)
{
    const joules_measurement *m = r->m;
    char cmd[72], ex[96];
    io_format_command(cmd, sizeof cmd, r->argv, r->argc);
    format_exit(ex, sizeof ex, r);

    fprintf(out, "\n Energy of: %s   (joules %s%s)\n\n", cmd, JOULES_VERSION_STRING,
            m && m->simulated ? ", SIMULATED" : "");
    if (!m) {
        fprintf(out, "   measurement failed: %s\n\n", r->failure ? r->failure : "unknown error");
        fprintf(out, "   %s\n\n", ex);
        return;
    }

    int any_model = 0, any_invalid = 0, any_sim = 0, any_notes = 0;
    fprintf(out, "   %-9s %-30s %14s %13s %11s  %s\n", "domain", "device", "energy", "+/- (95 %)",
            "avg power", "method");
    for (int i = 0; i < m->n_domains; i++) {
        const joules_domain_energy *e = &m->domains[i];
        const joules_domain_info *di = info_of(r, e);
        char cell[32];
        const char *dev = device_cell(cell, sizeof cell, di ? di->device : "");
        any_sim |= e->simulated;
        if (!e->valid) {
            any_invalid = 1;
            fprintf(out, "   %-9s %-30.30s %14s %13s %11s  %s%s\n", domain_name(r, e), dev,
                    "unavailable", "", "", joules_method_name(e->method),
                    e->simulated ? "  SIMULATED" : "");
            continue;
        }
        char part[JOULES_NAME_MAX + 16] = "";
        if (di && !di->counted_in_total && di->parent >= 0 && di->parent < r->n_info)
            snprintf(part, sizeof part, "  (part of %s)", r->info[di->parent].name);
        else if (di && !di->counted_in_total)
            snprintf(part, sizeof part, "  (not in total)");
        fprintf(out, "   %-9s %-30.30s %12.3f J %9.3f J %9.2f W  %s%s%s\n", domain_name(r, e), dev,
                e->energy_j, e->uncertainty_j, e->avg_power_w, joules_method_name(e->method),
                e->simulated ? "  SIMULATED" : "", part);
        any_model |= e->method == JOULES_METHOD_MODEL;
        any_notes |= e->message[0] != '\0';
    }

    /* The disjoint total: only domains counted in it (no package counted with its cores). */
    char names[256] = "";
    size_t nl = 0;
    int complete = 1;
    for (int i = 0; i < m->n_domains; i++) {
        const joules_domain_energy *e = &m->domains[i];
        if (!counted(r, e))
            continue;
        if (!e->valid) {
            complete = 0;
            continue;
        }
        int w = snprintf(names + nl, sizeof names - nl, "%s%s", nl ? "+" : "", domain_name(r, e));
        if (w > 0 && nl + (size_t)w < sizeof names)
            nl += (size_t)w;
    }
    double avg = m->duration_s > 0 ? m->total_energy_j / m->duration_s : NAN;
    char label[64];
    snprintf(label, sizeof label, "total (%s)", nl ? names : "none");
    fprintf(out, "   %-40.40s %12.3f J %9.3f J %9.2f W%s\n", label, m->total_energy_j,
            m->total_uncertainty_j, avg, complete ? "" : "  INCOMPLETE");

    fprintf(out, "\n   %14.6f s elapsed   (%s)\n\n", m->duration_s, ex);

    for (int i = 0; i < m->n_domains; i++) {
        const joules_domain_energy *e = &m->domains[i];
        const char *name = domain_name(r, e);
        const char *msg = e->message[0] ? e->message : joules_strerror(e->error);
        /* Library messages often begin with the domain's name already. */
        size_t len = strlen(name);
        int named = strncmp(msg, name, len) == 0 && msg[len] == ':';
        if (!e->valid)
            fprintf(out, "   not measured: %s%s%s\n", named ? "" : name, named ? "" : ": ", msg);
        else if (e->message[0])
            fprintf(out, "   %s%s%s\n", named ? "" : name, named ? "" : ": ", msg);
    }

    /* A wide bar on a short command is the sensors' limit, not a fault: say what helps. */
    for (int i = 0; i < m->n_domains; i++) {
        const joules_domain_energy *e = &m->domains[i];
        if (!e->valid || m->duration_s >= SHORT_HINT_S || e->energy_j <= 0 ||
            e->uncertainty_j < SHORT_HINT_REL * e->energy_j)
            continue;
        fprintf(out,
                "   %s: +/- is %.0f %% of the figure: %.3f s is short against this sensor's\n"
                "   updates. For one run of short work, `joules repeat -- COMMAND` runs it in\n"
                "   phase-shifted groups and divides (docs/accuracy.md).\n",
                domain_name(r, e), 100 * e->uncertainty_j / e->energy_j, m->duration_s);
        any_notes = 1;
        break;
    }
    if (any_invalid || any_notes)
        fputc('\n', out);
    if (!complete)
        fprintf(out, "   The total misses domains that could not be measured (see above).\n");
    fprintf(out,
            "   +/- is a bound of about 95 %% on the error of each figure (docs/accuracy.md).\n"
            "   counter: hardware energy counter, window edges placed between its steps;\n"
            "   integrated-power: power samples integrated over time.%s\n",
            any_model ? " model: estimated from a model, not a sensor." : "");
    if (any_sim)
        fprintf(out, "   SIMULATED: the figures marked SIMULATED come from the simulated GPU (a\n"
                     "   physics model run by joules), not from a real sensor.\n");
    fputc('\n', out);
}

int io_run_json(FILE *out, const io_run_output *r)
{
    const joules_measurement *m = r->m;
    io_json j;
    io_json_init(&j, out, 1);
    io_json_object_begin(&j);
    io_json_kv_string(&j, "schema", JOULES_RUN_SCHEMA);
    io_json_kv_string(&j, "joules_version", JOULES_VERSION_STRING);
    io_json_kv_bool(&j, "simulated", m->simulated);
    io_json_key(&j, "command");
    io_json_array_begin(&j);
    for (int i = 0; i < r->argc; i++)
        io_json_string(&j, r->argv[i]);
    io_json_array_end(&j);
    if (r->signal > 0) {
        io_json_kv_null(&j, "exit_status");
        io_json_kv_int(&j, "signal", r->signal);
    } else {
        io_json_kv_int(&j, "exit_status", r->exit_status);
        io_json_kv_null(&j, "signal");
    }
    io_json_kv_number(&j, "start_unix_s", m->begin_unix_s);
    io_json_kv_number(&j, "duration_s", m->duration_s);

    io_json_key(&j, "domains");
    io_json_array_begin(&j);
    int complete = 1;
    for (int i = 0; i < m->n_domains; i++) {
        const joules_domain_energy *e = &m->domains[i];
        const joules_domain_info *di = info_of(r, e);
        io_json_object_begin(&j);
        io_json_kv_string(&j, "name", domain_name(r, e));
        io_json_kv_string(&j, "kind", di ? joules_kind_name(di->kind) : NULL);
        io_json_kv_string(&j, "device", di ? di->device : NULL);
        if (di && di->uuid[0])
            io_json_kv_string(&j, "uuid", di->uuid);
        else
            io_json_kv_null(&j, "uuid");
        io_json_kv_bool(&j, "simulated", e->simulated);
        io_json_kv_string(&j, "method", joules_method_name(e->method));
        io_json_kv_bool(&j, "valid", e->valid);
        if (e->valid) {
            io_json_kv_number(&j, "energy_j", e->energy_j);
            io_json_kv_number(&j, "energy_uncertainty_j", e->uncertainty_j);
            io_json_kv_number(&j, "avg_power_w", e->avg_power_w);
        } else {
            io_json_kv_null(&j, "energy_j");
            io_json_kv_null(&j, "energy_uncertainty_j");
            io_json_kv_null(&j, "avg_power_w");
            if (counted(r, e))
                complete = 0;
        }
        io_json_kv_bool(&j, "counted_in_total", counted(r, e));
        if (e->message[0])
            io_json_kv_string(&j, "message", e->message);
        else if (!e->valid)
            io_json_kv_string(&j, "message", joules_strerror(e->error));
        else
            io_json_kv_null(&j, "message");
        if (e->simulated) {
            if (e->sim_truth_j >= 0)
                io_json_kv_number(&j, "simulator_true_energy_j", e->sim_truth_j);
            else
                io_json_kv_null(&j, "simulator_true_energy_j");
        }
        const io_run_dynamic *dy = r->dynamic && e->domain >= 0 && e->domain < JOULES_MAX_DOMAINS
                                       ? &r->dynamic[e->domain]
                                       : NULL;
        if (dy && dy->have && e->valid) {
            io_json_key(&j, "dynamic");
            io_json_object_begin(&j);
            io_json_kv_string(&j, "method", "model");
            io_json_kv_number(&j, "energy_j", dy->energy_j);
            io_json_kv_number(&j, "energy_uncertainty_j", dy->uncertainty_j);
            io_json_kv_number(&j, "baseline_power_w", dy->baseline_power_w);
            io_json_kv_string(&j, "baseline_file", dy->baseline_file);
            io_json_kv_number(&j, "baseline_age_s", dy->baseline_age_s);
            io_json_object_end(&j);
        }
        io_json_object_end(&j);
    }
    io_json_array_end(&j);

    io_json_key(&j, "total");
    io_json_object_begin(&j);
    io_json_kv_number(&j, "energy_j", m->total_energy_j);
    io_json_kv_number(&j, "energy_uncertainty_j", m->total_uncertainty_j);
    io_json_kv_number(&j, "avg_power_w",
                      m->duration_s > 0 ? m->total_energy_j / m->duration_s : NAN);
    io_json_key(&j, "domains");
    io_json_array_begin(&j);
    for (int i = 0; i < m->n_domains; i++)
        if (counted(r, &m->domains[i]) && m->domains[i].valid)
            io_json_string(&j, domain_name(r, &m->domains[i]));
    io_json_array_end(&j);
    io_json_kv_bool(&j, "complete", complete);
    io_json_object_end(&j);

    if (r->extra && r->extra->json)
        r->extra->json(&j, r->extra->ctx);
    io_json_object_end(&j);
    return io_json_finish(&j);
}

void io_csv_field(FILE *out, const char *s)
{
    if (!s)
        return;
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void csv_number(FILE *out, double v)
{
    if (isfinite(v))
        fprintf(out, "%.9g", v);
}

int io_run_csv(FILE *out, const io_run_output *r)
{
    const joules_measurement *m = r->m;
    fputs("schema,start_unix_s,duration_s,exit_status,signal,name,kind,device,uuid,simulated,"
          "method,valid,energy_j,energy_uncertainty_j,avg_power_w,counted_in_total,"
          "simulator_true_energy_j,message",
          out);
    if (r->extra && r->extra->csv_header)
        r->extra->csv_header(out, r->extra->ctx);
    fputc('\n', out);
    for (int i = 0; i < m->n_domains; i++) {
        const joules_domain_energy *e = &m->domains[i];
        const joules_domain_info *di = info_of(r, e);
        fprintf(out, "%s,%.6f,%.9g,", JOULES_RUN_CSV_SCHEMA, m->begin_unix_s, m->duration_s);
        if (r->signal > 0)
            fprintf(out, ",%d,", r->signal);
        else
            fprintf(out, "%d,,", r->exit_status);
        io_csv_field(out, domain_name(r, e));
        fputc(',', out);
        io_csv_field(out, di ? joules_kind_name(di->kind) : "");
        fputc(',', out);
        io_csv_field(out, di ? di->device : "");
        fputc(',', out);
        io_csv_field(out, di ? di->uuid : "");
        fprintf(out, ",%d,%s,%d,", e->simulated ? 1 : 0, joules_method_name(e->method),
                e->valid ? 1 : 0);
        if (e->valid) {
            csv_number(out, e->energy_j);
            fputc(',', out);
            csv_number(out, e->uncertainty_j);
            fputc(',', out);
            csv_number(out, e->avg_power_w);
        } else {
            fputs(",,", out);
        }
        fprintf(out, ",%d,", counted(r, e) ? 1 : 0);
        if (e->simulated && e->sim_truth_j >= 0)
            csv_number(out, e->sim_truth_j);
        fputc(',', out);
        io_csv_field(out, e->message[0] ? e->message : (e->valid ? "" : joules_strerror(e->error)));
        if (r->extra && r->extra->csv_row)
            r->extra->csv_row(out, r->extra->ctx, NULL);
        fputc('\n', out);
    }
    return ferror(out) ? -1 : 0;
}
