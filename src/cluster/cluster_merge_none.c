/* SPDX-License-Identifier: MIT */
/*
 * cluster_merge_none.c - a build without libjansson: `joules merge` says how to get it
 * (apt-get install libjansson-dev, then rebuild); node results are still written.
 */
#include <stdlib.h>

#include "cluster/cluster_job.h"

int clu_merge_available(void)
{
    return 0;
}

clu_job *clu_merge_files(char *const *files, int n_files, long expect_nodes)
{
    (void)files;
    (void)n_files;
    clu_job *job = calloc(1, sizeof *job);
    if (!job)
        return NULL;
    job->expect_nodes = expect_nodes;
    clu_job_error(job, "this joules was built without libjansson, so it cannot read JSON "
                       "(apt-get install libjansson-dev, then rebuild)");
    return job;
}
