/* SPDX-License-Identifier: MIT */
/* fuzz_merge.c - `joules merge`'s reader of node and rank results (src/cluster/cluster_merge.c,
 * Jansson) and the job it sums, on any text. Form feeds (never JSON whitespace) split the
 * input into up to four files, so that nodes and ranks meet in one job. Everything the
 * reader accepts must then sum, print and write without fault. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "fuzz.h"

#define FUZZ_MERGE_FILES 4

static FILE *devnull;

/* Each part in a memory file, named through /proc as the merge opens names. */
static int part_file(const uint8_t *p, size_t n, char *name, size_t len)
{
    int fd = memfd_create("fuzz-merge", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    if (n && write(fd, p, n) != (ssize_t)n) {
        close(fd);
        return -1;
    }
    snprintf(name, len, "/proc/self/fd/%d", fd);
    return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    if (!devnull && !(devnull = fopen("/dev/null", "w")))
        return 0;
    char names[FUZZ_MERGE_FILES][40];
    char *files[FUZZ_MERGE_FILES];
    int fds[FUZZ_MERGE_FILES], n = 0;
    size_t start = 0;
    for (size_t i = 0; i <= size && n < FUZZ_MERGE_FILES; i++) {
        if (i < size && (data[i] != '\f' || n == FUZZ_MERGE_FILES - 1))
            continue;
        fds[n] = part_file(data + start, i - start, names[n], sizeof names[n]);
        if (fds[n] < 0)
            break;
        files[n] = names[n];
        n++;
        start = i + 1;
    }
    /* The expected node count: none, or the number of parts. */
    long expect = size && (data[0] & 1) ? n : -1;
    clu_job *job = clu_merge_files(files, n, expect);
    if (job) {
        int verdict = clu_job_verdict(job);
        (void)verdict;
        clu_job_table(devnull, job);
        (void)clu_job_json(devnull, job);
        (void)clu_job_exit_status(job);
        clu_job_free(job);
    }
    for (int i = 0; i < n; i++)
        close(fds[i]);
    return 0;
}
