/* SPDX-License-Identifier: MIT */
/*
 * bench_merge.c - `joules merge` of 1,000 node results (8 GPUs, two CPU packages and two
 * DRAM domains each, as `joules run --cluster-dir` writes them): the library's read and sum,
 * and the whole command as a user runs it. Goal: under 1 s for the command.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cluster/cluster.h"
#include "support.h"

#define NODES  1000
#define GOAL_S 1.0

static void domain(FILE *f, const char *name, const char *kind, const char *uuid, int last,
                   double e)
{
    fprintf(f,
            "      {\"name\": \"%s\", \"kind\": \"%s\", \"device\": \"NVIDIA H100 80GB HBM3\", "
            "\"uuid\": %s, \"simulated\": false, \"method\": \"counter\", \"valid\": true, "
            "\"energy_j\": %.3f, \"energy_uncertainty_j\": %.3f, \"avg_power_w\": %.3f, "
            "\"counted_in_total\": true, \"message\": null}%s\n",
            name, kind, uuid, e, e * 1e-3, e / 60.0, last ? "" : ",");
}

static int write_node(const char *dir, int node)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/node-1234.0-node%04d.json", dir, node);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f,
            "{\n  \"schema\": \"joules.node/1\", \"joules_version\": \"0.2.0\",\n"
            "  \"host\": \"node%04d\", \"host_overridden\": false, \"pid\": 4242,\n"
            "  \"rank\": %d, \"local_rank\": 0, \"node_id\": %d,\n"
            "  \"job\": {\"launcher\": \"slurm\", \"id\": \"1234\", \"step\": \"0\", "
            "\"ranks\": %d, \"nodes\": %d},\n"
            "  \"elected_by\": \"local-rank\", \"exit_status\": 0, \"signal\": null,\n"
            "  \"gpus\": {\"from\": \"SLURM_STEP_GPUS\", \"list\": \"0,1,2,3,4,5,6,7\", "
            "\"note\": null, \"selected\": [\"gpu0\", \"gpu1\", \"gpu2\", \"gpu3\", \"gpu4\", "
            "\"gpu5\", \"gpu6\", \"gpu7\"]},\n"
            "  \"failure\": null,\n  \"run\": {\"schema\": \"joules.run/1\", \"joules_version\": "
            "\"0.2.0\", \"simulated\": false, \"command\": [\"./train\"], \"exit_status\": 0, "
            "\"signal\": null, \"start_unix_s\": 1764081600.%03d, \"duration_s\": 60.0,\n"
            "    \"domains\": [\n",
            node, node, node, NODES, NODES, node % 1000);
    char name[16], uuid[64];
    for (int g = 0; g < 8; g++) {
        snprintf(name, sizeof name, "gpu%d", g);
        snprintf(uuid, sizeof uuid, "\"GPU-%08d-%04d\"", node, g);
        domain(f, name, "gpu", uuid, 0, 24000.0 + g);
    }
    domain(f, "cpu0", "cpu-package", "null", 0, 9000.0);
    domain(f, "cpu1", "cpu-package", "null", 0, 9100.0);
    domain(f, "dram0", "dram", "null", 0, 1200.0);
    domain(f, "dram1", "dram", "null", 1, 1250.0);
    fprintf(f, "    ],\n    \"total\": null}\n}\n");
    return fclose(f);
}

int main(void)
{
    char dir[4096];
    if (t_mkdtemp(dir, sizeof dir) != 0)
        return 1;
    for (int i = 0; i < NODES; i++)
        if (write_node(dir, i) != 0) {
            fprintf(stderr, "bench_merge: cannot write the node files in %s\n", dir);
            return 1;
        }
    if (!clu_merge_available()) {
        printf("bench_merge: built without libjansson; nothing to measure\n");
        t_rmtree(dir);
        return 0;
    }
    static char paths[NODES][4200];
    char *files[NODES];
    for (int i = 0; i < NODES; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/node-1234.0-node%04d.json", dir, i);
        files[i] = paths[i];
    }
    double t0 = t_mono_s();
    clu_job *job = clu_merge_files(files, NODES, 0);
    double lib_s = t_mono_s() - t0;
    int verdict = job ? clu_job_verdict(job) : -1;
    clu_job_free(job);

    char cmd[8400];
    snprintf(cmd, sizeof cmd, "%s merge -q --json %s/job.json %s/node-*.json", JOULES_TEST_BIN, dir,
             dir);
    t0 = t_mono_s();
    int rc = system(cmd);
    double cmd_s = t_mono_s() - t0;
    t_rmtree(dir);
    printf("bench_merge: %d node files (12 domains each): library %.3f s, `joules merge` %.3f s "
           "(goal < %.1f s)\n",
           NODES, lib_s, cmd_s, GOAL_S);
    if (verdict != 0 || rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
        fprintf(stderr, "bench_merge: the merge did not succeed (verdict %d, status %d)\n", verdict,
                rc);
        return 1;
    }
    return cmd_s < GOAL_S ? 0 : 1;
}
