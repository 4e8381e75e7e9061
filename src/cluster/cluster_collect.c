/* SPDX-License-Identifier: MIT */
/*
 * cluster_collect.c - the end of a job step: wait for its results in the job's directory,
 * merge them, and write the job result beside them. Rank 0 of `joules run --cluster-dir`
 * and srun's side of the SPANK plugin do this; results written later (a node that is
 * slower to end) are left to `joules merge`.
 */
#include <glob.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cluster/cluster.h"
#include "io/atomic.h"

/* Results of ranks that end together arrive within milliseconds: poll often, cheaply. */
#define CLU_POLL_NS 5000000L

/* "<job>.<step>", file-name safe, as the results' names begin. */
static void step_tag(const char *job_id, const char *step_id, char *out, size_t len)
{
    char raw[160];
    snprintf(raw, sizeof raw, "%s.%s", job_id[0] ? job_id : "nojob", step_id[0] ? step_id : "0");
    clu_safe_name(out, len, raw);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

clu_job *clu_collect_step(const char *dir, const char *job_id, const char *step_id, int nodes_only,
                          long want, long expect_nodes, double wait_s)
{
    char tag[160], pattern[4400];
    step_tag(job_id, step_id, tag, sizeof tag);
    glob_t g;
    memset(&g, 0, sizeof g);
    double end = mono_s() + wait_s;
    struct timespec nap = {0, CLU_POLL_NS};
    for (;;) {
        globfree(&g);
        memset(&g, 0, sizeof g);
        snprintf(pattern, sizeof pattern, "%s/node-%s-*.json", dir, tag);
        int rc = glob(pattern, 0, NULL, &g);
        if (!nodes_only) {
            snprintf(pattern, sizeof pattern, "%s/rank-%s-rank*.json", dir, tag);
            rc = glob(pattern, rc == 0 ? GLOB_APPEND : 0, NULL, &g);
        }
        (void)rc;
        if ((want > 0 && (long)g.gl_pathc >= want) || mono_s() > end)
            break;
        nanosleep(&nap, NULL);
    }
    clu_job *job = NULL;
    if (g.gl_pathc > 0)
        job = clu_merge_files(g.gl_pathv, (int)g.gl_pathc, expect_nodes);
    globfree(&g);
    return job;
}

int clu_write_job(const char *dir, const char *job_id, const char *step_id, const clu_job *job,
                  char *err, size_t err_len)
{
    char tag[160], path[4400];
    step_tag(job_id, step_id, tag, sizeof tag);
    snprintf(path, sizeof path, "%s/job-%s.json", dir, tag);
    io_atomic out;
    if (io_atomic_open(&out, path, err, err_len) != 0)
        return -1;
    if (clu_job_json(out.f, job) != 0) {
        io_atomic_abort(&out);
        snprintf(err, err_len, "writing %s failed", path);
        return -1;
    }
    return io_atomic_commit(&out, err, err_len);
}
