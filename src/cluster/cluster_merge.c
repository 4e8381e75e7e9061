/* SPDX-License-Identifier: MIT */
/*
 * cluster_merge.c - read node and rank results (joules.node/1, joules.rank/1) with Jansson,
 * Debian's libjansson: a strict RFC 8259 parser that says the line and column of what it
 * rejects, which is what a user needs to find the bad file among a thousand.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster_job.h"

int clu_merge_available(void)
{
    return 1;
}

static void get_text(const json_t *o, const char *key, char *out, size_t len)
{
    const char *s = json_string_value(json_object_get(o, key));
    snprintf(out, len, "%s", s ? s : "");
}

static long get_long(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) && json_integer_value(v) >= 0 ? (long)json_integer_value(v) : -1;
}

static double get_number(const json_t *o, const char *key, int *ok)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_number(v)) {
        *ok = 0;
        return 0.0;
    }
    return json_number_value(v);
}

/* exit_status / signal as written by joules run: one of the two is null. */
static void get_exit(const json_t *o, int *status, int *sig)
{
    long s = get_long(o, "signal");
    *sig = s > 0 ? (int)s : 0;
    long st = get_long(o, "exit_status");
    *status = *sig ? -1 : (int)st;
}

static void get_job(const json_t *doc, char *launcher, size_t ll, char *id, size_t il, char *step,
                    size_t sl, long *ranks, long *nodes)
{
    const json_t *job = json_object_get(doc, "job");
    get_text(job, "launcher", launcher, ll);
    get_text(job, "id", id, il);
    get_text(job, "step", step, sl);
    *ranks = get_long(job, "ranks");
    *nodes = get_long(job, "nodes");
}

static int in_list(const json_t *arr, const char *name)
{
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v)
    {
        const char *s = json_string_value(v);
        if (s && strcmp(s, name) == 0)
            return 1;
    }
    return 0;
}

static int read_domains(clu_job *job, clu_node *nd, const json_t *doc, const json_t *run)
{
    const json_t *doms = json_object_get(run, "domains");
    const json_t *gpus = json_object_get(doc, "gpus");
    const json_t *selected = json_object_get(gpus, "selected");
    int filtered = json_is_string(json_object_get(gpus, "from")) && json_is_array(selected);
    if (!json_is_array(doms)) {
        clu_job_error(job, "%s: run.domains is not an array", nd->file);
        return -1;
    }
    size_t n = json_array_size(doms);
    nd->domains = calloc(n ? n : 1, sizeof *nd->domains);
    if (!nd->domains) {
        clu_job_error(job, "out of memory");
        return -1;
    }
    size_t i;
    const json_t *d;
    json_array_foreach(doms, i, d)
    {
        clu_domain *dm = &nd->domains[nd->n_domains++];
        get_text(d, "name", dm->name, sizeof dm->name);
        get_text(d, "kind", dm->kind, sizeof dm->kind);
        get_text(d, "device", dm->device, sizeof dm->device);
        get_text(d, "uuid", dm->uuid, sizeof dm->uuid);
        dm->simulated = json_is_true(json_object_get(d, "simulated"));
        dm->valid = json_is_true(json_object_get(d, "valid"));
        dm->counted = json_is_true(json_object_get(d, "counted_in_total"));
        dm->selected = !filtered || strcmp(dm->kind, "gpu") != 0 || in_list(selected, dm->name);
        if (!dm->name[0] || !dm->kind[0]) {
            clu_job_error(job, "%s: domain %zu has no name or kind", nd->file, i);
            return -1;
        }
        if (dm->valid) {
            int ok = 1;
            dm->energy_j = get_number(d, "energy_j", &ok);
            dm->uncertainty_j = get_number(d, "energy_uncertainty_j", &ok);
            if (!ok) {
                clu_job_error(job, "%s: domain %s is valid but has no energy_j or uncertainty",
                              nd->file, dm->name);
                return -1;
            }
        }
    }
    return 0;
}

static void read_node(clu_job *job, const char *file, const json_t *doc)
{
    clu_node *nd = clu_job_new_node(job);
    if (!nd) {
        clu_job_error(job, "out of memory");
        return;
    }
    nd->file = strdup(file);
    if (!nd->file) {
        clu_job_error(job, "out of memory");
        return;
    }
    get_text(doc, "host", nd->host, sizeof nd->host);
    if (!nd->host[0]) {
        clu_job_error(job, "%s: no host", file);
        return;
    }
    nd->rank = get_long(doc, "rank");
    nd->node_id = get_long(doc, "node_id");
    get_job(doc, nd->launcher, sizeof nd->launcher, nd->job_id, sizeof nd->job_id, nd->step_id,
            sizeof nd->step_id, &nd->ranks_expected, &nd->nodes_expected);
    get_exit(doc, &nd->exit_status, &nd->signal);
    const json_t *gpus = json_object_get(doc, "gpus");
    get_text(gpus, "from", nd->gpus_from, sizeof nd->gpus_from);
    get_text(gpus, "list", nd->gpus, sizeof nd->gpus);
    get_text(doc, "failure", nd->failure, sizeof nd->failure);
    const json_t *run = json_object_get(doc, "run");
    if (nd->failure[0])
        return;
    const char *schema = json_string_value(json_object_get(run, "schema"));
    if (!schema || strcmp(schema, "joules.run/1") != 0) {
        clu_job_error(job, "%s: no failure and no run result (joules.run/1)", file);
        return;
    }
    int ok = 1;
    nd->start_unix_s = get_number(run, "start_unix_s", &ok);
    nd->duration_s = get_number(run, "duration_s", &ok);
    if (!ok) {
        clu_job_error(job, "%s: run.start_unix_s or run.duration_s is not a number", file);
        return;
    }
    (void)read_domains(job, nd, doc, run);
}

static void read_rank(clu_job *job, const char *file, const json_t *doc)
{
    clu_rank *r = clu_job_new_rank(job);
    if (!r) {
        clu_job_error(job, "out of memory");
        return;
    }
    r->file = strdup(file);
    if (!r->file) {
        clu_job_error(job, "out of memory");
        return;
    }
    get_text(doc, "host", r->host, sizeof r->host);
    r->rank = get_long(doc, "rank");
    get_exit(doc, &r->exit_status, &r->signal);
    char launcher[16];
    long ranks, nodes;
    get_job(doc, launcher, sizeof launcher, r->job_id, sizeof r->job_id, r->step_id,
            sizeof r->step_id, &ranks, &nodes);
}

clu_job *clu_merge_files(char *const *files, int n_files, long expect_nodes)
{
    clu_job *job = calloc(1, sizeof *job);
    if (!job)
        return NULL;
    job->expect_nodes = expect_nodes;
    job->nodes_expected = job->ranks_expected = -1;
    for (int i = 0; i < n_files; i++) {
        json_error_t err;
        json_t *doc = json_load_file(files[i], JSON_REJECT_DUPLICATES, &err);
        if (!doc) {
            clu_job_error(job, "%s: line %d, column %d: %s", files[i], err.line, err.column,
                          err.text);
            continue;
        }
        const char *schema = json_string_value(json_object_get(doc, "schema"));
        if (schema && strcmp(schema, JOULES_NODE_SCHEMA) == 0)
            read_node(job, files[i], doc);
        else if (schema && strcmp(schema, JOULES_RANK_SCHEMA) == 0)
            read_rank(job, files[i], doc);
        else if (schema && strcmp(schema, JOULES_JOB_SCHEMA) == 0)
            /* A job result written beside the node results (DIR/job-*.json): no input. */
            clu_job_note(job, "%s: a job result, not summed again", files[i]);
        else if (schema && strcmp(schema, "joules.run/1") == 0)
            clu_job_error(job,
                          "%s: a joules.run/1 result says no host or job; write node results "
                          "with joules run --cluster-dir DIR",
                          files[i]);
        else
            clu_job_error(job, "%s: schema %s, not %s or %s", files[i], schema ? schema : "(none)",
                          JOULES_NODE_SCHEMA, JOULES_RANK_SCHEMA);
        json_decref(doc);
    }
    clu_job_sum(job);
    return job;
}
