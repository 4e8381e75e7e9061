/* SPDX-License-Identifier: MIT */
/*
 * cluster_write.c - node and rank results (joules.node/1, joules.rank/1) into a job's
 * directory, for `joules run --cluster-dir` and the SPANK plugin alike. Files appear whole or
 * not at all (temporary file + rename), so `joules merge` never reads half a result.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "io/atomic.h"
#include "io/json.h"
#include "io/run_output.h"

/* "<job>.<step>-<host>", file-name safe: the identity of this node in this step. */
void clu_node_tag(const clu_env *e, char *out, size_t len)
{
    char raw[512];
    snprintf(raw, sizeof raw, "%s.%s-%s", e->job_id[0] ? e->job_id : "nojob",
             e->step_id[0] ? e->step_id : "0", e->host);
    clu_safe_name(out, len, raw);
}

static void write_exit(io_json *j, int exit_status, int sig)
{
    if (sig > 0) {
        io_json_kv_null(j, "exit_status");
        io_json_kv_int(j, "signal", sig);
    } else {
        io_json_kv_int(j, "exit_status", exit_status);
        io_json_kv_null(j, "signal");
    }
}

/* The GPUs of the job on this node, from the environment, and which domains they are. */
static void write_gpus(io_json *j, const clu_env *e, const io_run_output *r)
{
    io_json_key(j, "gpus");
    io_json_object_begin(j);
    if (!e->gpus_from[0]) {
        io_json_kv_null(j, "from");
        io_json_kv_null(j, "list");
        io_json_kv_string(j, "note",
                          "no SLURM_STEP_GPUS, SLURM_JOB_GPUS or CUDA_VISIBLE_DEVICES: "
                          "every GPU of the node is measured");
    } else {
        io_json_kv_string(j, "from", e->gpus_from);
        io_json_kv_string(j, "list", e->gpus);
        io_json_kv_null(j, "note");
    }
    io_json_key(j, "selected");
    io_json_array_begin(j);
    for (int i = 0; r && r->m && i < r->m->n_domains; i++) {
        int k = r->m->domains[i].domain;
        if (k < 0 || k >= r->n_info || r->info[k].kind != JOULES_KIND_GPU)
            continue;
        int index = -1;
        (void)sscanf(r->info[k].name, "gpu%d", &index);
        if (clu_gpu_selected(e, index, r->info[k].uuid))
            io_json_string(j, r->info[k].name);
    }
    io_json_array_end(j);
    io_json_object_end(j);
}

int clu_write_result(const char *dir, const clu_env *e, int measurer, const char *elected_by,
                     const io_run_output *r, const char *failure, int exit_status, int sig,
                     char *err, size_t err_len)
{
    char tag[700], path[4096];
    if (measurer) {
        clu_node_tag(e, tag, sizeof tag);
        snprintf(path, sizeof path, "%s/node-%s.json", dir, tag);
    } else {
        /* Long host names are cut: the rank and pid keep the name unique. */
        char raw[700];
        int n =
            snprintf(raw, sizeof raw, "%s.%s-rank%ld-%ld-%s", e->job_id[0] ? e->job_id : "nojob",
                     e->step_id[0] ? e->step_id : "0", e->rank, (long)getpid(), e->host);
        (void)n;
        clu_safe_name(tag, sizeof tag, raw);
        snprintf(path, sizeof path, "%s/rank-%s.json", dir, tag);
    }
    char *run_text = NULL;
    size_t run_len = 0;
    if (r && !failure) {
        FILE *mem = open_memstream(&run_text, &run_len);
        if (!mem || io_run_json(mem, r) != 0 || fclose(mem) != 0) {
            free(run_text);
            snprintf(err, err_len, "the node result could not be formatted");
            return -1;
        }
    }
    io_atomic out;
    if (io_atomic_open(&out, path, err, err_len) != 0) {
        free(run_text);
        return -1;
    }
    io_json j;
    io_json_init(&j, out.f, 1);
    io_json_object_begin(&j);
    io_json_kv_string(&j, "schema", measurer ? JOULES_NODE_SCHEMA : JOULES_RANK_SCHEMA);
    io_json_kv_string(&j, "joules_version", JOULES_VERSION_STRING);
    clu_env_json(&j, e);
    io_json_kv_string(&j, "elected_by", elected_by);
    write_exit(&j, exit_status, sig);
    if (measurer) {
        write_gpus(&j, e, r);
        if (failure)
            io_json_kv_string(&j, "failure", failure);
        else
            io_json_kv_null(&j, "failure");
        io_json_key(&j, "run");
        if (run_text)
            io_json_raw(&j, run_text);
        else
            io_json_null(&j);
    }
    io_json_object_end(&j);
    free(run_text);
    if (io_json_finish(&j) != 0) {
        io_atomic_abort(&out);
        snprintf(err, err_len, "writing %s failed", path);
        return -1;
    }
    return io_atomic_commit(&out, err, err_len);
}
