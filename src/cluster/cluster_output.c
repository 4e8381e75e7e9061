/* SPDX-License-Identifier: MIT */
/*
 * cluster_output.c - the job table and the job result (schema joules.job/1, docs/cluster.md).
 */
#include <stdio.h>

#include "cluster/cluster_job.h"
#include "io/json.h"
#include "joules.h"

#define CLU_TABLE_ERRORS 20

static const char *or_none(const char *s)
{
    return s && s[0] ? s : "-";
}

static void print_sum(FILE *out, const char *what, const char *kind, const clu_sum *s)
{
    fprintf(out, "   %-24s %-12s %14.3f J %11.3f J  %s\n", what, kind, s->energy_j,
            s->uncertainty_j, s->complete ? "" : "INCOMPLETE");
}

void clu_job_table(FILE *out, const clu_job *job)
{
    fprintf(out, " Energy of job %s step %s (%s, joules %s%s)\n\n", or_none(job->job_id),
            or_none(job->step_id), or_none(job->launcher), JOULES_VERSION_STRING,
            job->simulated ? ", SIMULATED" : "");
    if (job->summed) {
        fprintf(out, "   %-24s %-12s %16s %13s\n", "node", "kind", "energy", "+/- (95 %)");
        for (int i = 0; i < job->n_nodes; i++) {
            const clu_node *nd = &job->nodes[i];
            if (nd->failure[0])
                fprintf(out, "   %-24s %-12s %16s  %s\n", nd->host, "-", "-", "FAILED");
            for (int k = 0; k < nd->n_kinds; k++)
                print_sum(out, nd->host, nd->kinds[k].kind, &nd->kinds[k]);
        }
        for (int k = 0; k < job->n_kinds; k++)
            print_sum(out, "all nodes", job->kinds[k].kind, &job->kinds[k]);
        print_sum(out, "total", "", &job->total);
        fprintf(out, "\n   %d node%s of %ld expected", job->n_nodes, job->n_nodes == 1 ? "" : "s",
                job->nodes_expected > 0 ? job->nodes_expected : (long)job->n_nodes);
        if (job->exit_status >= 0)
            fprintf(out, "; worst exit status of the ranks: %d", job->exit_status);
        fprintf(out, "\n");
    }
    /* The JSON lists every error; the table the first ones. */
    for (int i = 0; i < job->n_errors && i < CLU_TABLE_ERRORS; i++)
        fprintf(out, "   error: %s\n", job->errors[i]);
    if (job->n_errors > CLU_TABLE_ERRORS)
        fprintf(out, "   ... and %d more errors (--json lists them all)\n",
                job->n_errors - CLU_TABLE_ERRORS);
    for (int i = 0; i < job->n_notes; i++)
        fprintf(out, "   note: %s\n", job->notes[i]);
}

static void kv_text(io_json *j, const char *key, const char *v)
{
    if (v && v[0])
        io_json_kv_string(j, key, v);
    else
        io_json_kv_null(j, key);
}

static void kv_id(io_json *j, const char *key, long v)
{
    if (v >= 0)
        io_json_kv_int(j, key, v);
    else
        io_json_kv_null(j, key);
}

static void json_sum(io_json *j, const clu_sum *s, const char *count_key)
{
    io_json_object_begin(j);
    if (s->kind[0])
        io_json_kv_string(j, "kind", s->kind);
    io_json_kv_number(j, "energy_j", s->energy_j);
    io_json_kv_number(j, "energy_uncertainty_j", s->uncertainty_j);
    io_json_kv_int(j, count_key, s->n);
    io_json_kv_bool(j, "complete", s->complete);
    io_json_object_end(j);
}

static void json_node(io_json *j, const clu_node *nd)
{
    io_json_object_begin(j);
    io_json_kv_string(j, "host", nd->host);
    io_json_kv_string(j, "file", nd->file);
    kv_id(j, "node_id", nd->node_id);
    kv_id(j, "rank", nd->rank);
    if (nd->signal > 0) {
        io_json_kv_null(j, "exit_status");
        io_json_kv_int(j, "signal", nd->signal);
    } else {
        io_json_kv_int(j, "exit_status", nd->exit_status);
        io_json_kv_null(j, "signal");
    }
    kv_text(j, "failure", nd->failure);
    if (nd->failure[0]) {
        io_json_kv_null(j, "start_unix_s");
        io_json_kv_null(j, "duration_s");
    } else {
        io_json_kv_number(j, "start_unix_s", nd->start_unix_s);
        io_json_kv_number(j, "duration_s", nd->duration_s);
    }
    io_json_key(j, "gpus");
    io_json_object_begin(j);
    kv_text(j, "from", nd->gpus_from);
    kv_text(j, "list", nd->gpus_from[0] ? nd->gpus : NULL);
    io_json_object_end(j);
    io_json_key(j, "kinds");
    io_json_array_begin(j);
    for (int k = 0; k < nd->n_kinds; k++)
        json_sum(j, &nd->kinds[k], "domains");
    io_json_array_end(j);
    io_json_key(j, "total");
    clu_sum t = nd->total;
    t.kind[0] = '\0';
    json_sum(j, &t, "domains");
    io_json_object_end(j);
}

static void json_longs(io_json *j, const char *key, const long *v, int n)
{
    io_json_key(j, key);
    io_json_array_begin(j);
    for (int i = 0; i < n; i++)
        io_json_int(j, v[i]);
    io_json_array_end(j);
}

static void json_strings(io_json *j, const char *key, char *const *v, int n)
{
    io_json_key(j, key);
    io_json_array_begin(j);
    for (int i = 0; i < n; i++)
        io_json_string(j, v[i]);
    io_json_array_end(j);
}

int clu_job_json(FILE *out, const clu_job *job)
{
    io_json j;
    io_json_init(&j, out, 1);
    io_json_object_begin(&j);
    io_json_kv_string(&j, "schema", JOULES_JOB_SCHEMA);
    io_json_kv_string(&j, "joules_version", JOULES_VERSION_STRING);
    io_json_key(&j, "job");
    io_json_object_begin(&j);
    kv_text(&j, "launcher", job->launcher);
    kv_text(&j, "id", job->job_id);
    kv_text(&j, "step", job->step_id);
    io_json_object_end(&j);
    io_json_kv_bool(&j, "simulated", job->simulated);
    io_json_kv_bool(&j, "summed", job->summed);
    io_json_kv_bool(&j, "complete", job->summed && job->complete);
    kv_id(&j, "exit_status", job->exit_status);
    kv_id(&j, "nodes_expected", job->nodes_expected);
    io_json_kv_int(&j, "nodes_found", job->n_nodes);
    json_longs(&j, "missing_node_ids", job->missing_node_ids, job->n_missing_node_ids);
    kv_id(&j, "ranks_expected", job->ranks_expected);
    io_json_kv_int(&j, "ranks_reported", job->n_nodes + job->n_ranks);
    json_longs(&j, "missing_ranks", job->missing_ranks, job->n_missing_ranks);
    io_json_key(&j, "clock");
    io_json_object_begin(&j);
    io_json_kv_number(&j, "start_spread_s", job->start_spread_s);
    io_json_kv_number(&j, "end_spread_s", job->end_spread_s);
    io_json_object_end(&j);
    io_json_key(&j, "nodes");
    io_json_array_begin(&j);
    for (int i = 0; job->summed && i < job->n_nodes; i++)
        json_node(&j, &job->nodes[i]);
    io_json_array_end(&j);
    io_json_key(&j, "kinds");
    io_json_array_begin(&j);
    for (int k = 0; k < job->n_kinds; k++)
        json_sum(&j, &job->kinds[k], "nodes");
    io_json_array_end(&j);
    io_json_key(&j, "total");
    if (job->summed) {
        clu_sum t = job->total;
        t.kind[0] = '\0';
        json_sum(&j, &t, "nodes");
    } else {
        io_json_null(&j);
    }
    json_strings(&j, "errors", job->errors, job->n_errors);
    json_strings(&j, "notes", job->notes, job->n_notes);
    io_json_object_end(&j);
    return io_json_finish(&j);
}
