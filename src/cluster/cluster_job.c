/* SPDX-License-Identifier: MIT */
/*
 * cluster_job.c - the checks and sums of a job's node results.
 *
 * Uncertainties: within a node, the figures of one kind are added linearly (its devices
 * may share a systematic error: one RAPL sensor, one GPU model's calibration); between
 * nodes they are independent measurements and add in quadrature. A node whose figure of a
 * kind is missing makes that sum, and the total, incomplete: nothing is silently summed.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster_job.h"

/* Start times further apart than this are said: a clock skew or a staggered launch. */
#define CLU_SKEW_NOTE_S 1.0

clu_node *clu_job_new_node(clu_job *job)
{
    if (job->n_nodes == job->cap_nodes) {
        int cap = job->cap_nodes ? 2 * job->cap_nodes : 64;
        clu_node *n = realloc(job->nodes, (size_t)cap * sizeof *n);
        if (!n)
            return NULL;
        job->nodes = n;
        job->cap_nodes = cap;
    }
    clu_node *n = &job->nodes[job->n_nodes++];
    memset(n, 0, sizeof *n);
    n->rank = n->node_id = n->ranks_expected = n->nodes_expected = -1;
    return n;
}

clu_rank *clu_job_new_rank(clu_job *job)
{
    if (job->n_ranks == job->cap_ranks) {
        int cap = job->cap_ranks ? 2 * job->cap_ranks : 64;
        clu_rank *r = realloc(job->ranks, (size_t)cap * sizeof *r);
        if (!r)
            return NULL;
        job->ranks = r;
        job->cap_ranks = cap;
    }
    clu_rank *r = &job->ranks[job->n_ranks++];
    memset(r, 0, sizeof *r);
    r->rank = -1;
    return r;
}

static void say(char ***list, int *n, const char *fmt, va_list ap)
{
    char buf[1024];
    vsnprintf(buf, sizeof buf, fmt, ap);
    char **l = realloc(*list, (size_t)(*n + 1) * sizeof *l);
    if (!l)
        return;
    *list = l;
    if ((l[*n] = strdup(buf)) != NULL)
        (*n)++;
}

void clu_job_error(clu_job *job, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say(&job->errors, &job->n_errors, fmt, ap);
    va_end(ap);
}

void clu_job_note(clu_job *job, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say(&job->notes, &job->n_notes, fmt, ap);
    va_end(ap);
}

void clu_job_free(clu_job *job)
{
    if (!job)
        return;
    for (int i = 0; i < job->n_nodes; i++) {
        free(job->nodes[i].domains);
        free(job->nodes[i].file);
    }
    for (int i = 0; i < job->n_ranks; i++)
        free(job->ranks[i].file);
    for (int i = 0; i < job->n_errors; i++)
        free(job->errors[i]);
    for (int i = 0; i < job->n_notes; i++)
        free(job->notes[i]);
    free(job->nodes);
    free(job->ranks);
    free(job->errors);
    free(job->notes);
    free(job->missing_ranks);
    free(job->missing_node_ids);
    free(job);
}

int clu_job_exit_status(const clu_job *job)
{
    return job->exit_status;
}

int clu_job_verdict(const clu_job *job)
{
    if (job->n_errors || !job->summed)
        return 2;
    return job->complete ? 0 : 1;
}

static clu_sum *sum_of(clu_sum *sums, int *n, const char *kind)
{
    for (int i = 0; i < *n; i++)
        if (strcmp(sums[i].kind, kind) == 0)
            return &sums[i];
    if (*n == CLU_KINDS_MAX)
        return NULL;
    clu_sum *s = &sums[(*n)++];
    memset(s, 0, sizeof *s);
    snprintf(s->kind, sizeof s->kind, "%s", kind);
    s->complete = 1;
    return s;
}

/* One key per measured device: host, then the UUID or the domain's name and device. */
struct dev_key {
    const char *host, *id, *id2, *file;
};

static int key_cmp(const void *a, const void *b)
{
    const struct dev_key *x = a, *y = b;
    int c = strcmp(x->host, y->host);
    if (!c)
        c = strcmp(x->id, y->id);
    return c ? c : strcmp(x->id2, y->id2);
}

/* The same host and device in two files: an error (the energy would count twice). */
static void check_duplicates(clu_job *job)
{
    size_t n = 0;
    for (int i = 0; i < job->n_nodes; i++)
        n += (size_t)job->nodes[i].n_domains + 1;
    struct dev_key *k = calloc(n ? n : 1, sizeof *k);
    if (!k) {
        clu_job_error(job, "out of memory");
        return;
    }
    n = 0;
    for (int i = 0; i < job->n_nodes; i++) {
        const clu_node *nd = &job->nodes[i];
        /* A node that measured nothing still stands for its host. */
        k[n++] = (struct dev_key){nd->host, "", "", nd->file};
        for (int d = 0; d < nd->n_domains; d++) {
            const clu_domain *dm = &nd->domains[d];
            if (dm->uuid[0])
                k[n++] = (struct dev_key){nd->host, dm->uuid, "", nd->file};
            else
                k[n++] = (struct dev_key){nd->host, dm->name, dm->device, nd->file};
        }
    }
    qsort(k, n, sizeof *k, key_cmp);
    for (size_t i = 1; i < n; i++)
        if (!(i >= 2 && key_cmp(&k[i - 2], &k[i]) == 0) && key_cmp(&k[i - 1], &k[i]) == 0) {
            if (k[i].id[0])
                clu_job_error(job, "host %s device %s%s%s is in two results (%s, %s)", k[i].host,
                              k[i].id, k[i].id2[0] ? " " : "", k[i].id2, k[i - 1].file, k[i].file);
            else
                clu_job_error(job, "host %s has two node results (%s, %s)", k[i].host,
                              k[i - 1].file, k[i].file);
        }
    free(k);
}

static void sum_node(clu_node *nd)
{
    nd->n_kinds = 0;
    memset(&nd->total, 0, sizeof nd->total);
    snprintf(nd->total.kind, sizeof nd->total.kind, "total");
    nd->total.complete = !nd->failure[0];
    for (int d = 0; d < nd->n_domains; d++) {
        const clu_domain *dm = &nd->domains[d];
        if (!dm->counted || !dm->selected)
            continue;
        clu_sum *s = sum_of(nd->kinds, &nd->n_kinds, dm->kind);
        if (!s)
            continue;
        if (!dm->valid) {
            s->complete = nd->total.complete = 0;
            continue;
        }
        s->energy_j += dm->energy_j;
        s->uncertainty_j += dm->uncertainty_j;
        s->n++;
        nd->total.energy_j += dm->energy_j;
        nd->total.uncertainty_j += dm->uncertainty_j;
        nd->total.n++;
        nd->simulated |= dm->simulated;
    }
}

/* Real and simulated figures are never summed together. */
static void check_simulated(clu_job *job)
{
    const char *real = NULL, *sim = NULL;
    for (int i = 0; i < job->n_nodes; i++)
        for (int d = 0; d < job->nodes[i].n_domains; d++) {
            const clu_domain *dm = &job->nodes[i].domains[d];
            if (dm->counted && dm->selected && dm->valid)
                *(dm->simulated ? &sim : &real) = job->nodes[i].file;
        }
    if (real && sim)
        clu_job_error(job,
                      "real and simulated figures are never summed together (real: %s; "
                      "simulated: %s)",
                      real, sim);
    job->simulated = sim != NULL;
}

/* The job's identity: every file must come from the same job and step. */
static void check_identity(clu_job *job)
{
    const char *file0 = NULL;
    for (int i = 0; i < job->n_nodes + job->n_ranks; i++) {
        const char *id, *step, *file;
        if (i < job->n_nodes) {
            id = job->nodes[i].job_id, step = job->nodes[i].step_id, file = job->nodes[i].file;
            if (job->nodes[i].nodes_expected > job->nodes_expected)
                job->nodes_expected = job->nodes[i].nodes_expected;
            if (job->nodes[i].ranks_expected > job->ranks_expected)
                job->ranks_expected = job->nodes[i].ranks_expected;
            if (!job->launcher[0])
                snprintf(job->launcher, sizeof job->launcher, "%s", job->nodes[i].launcher);
        } else {
            const clu_rank *r = &job->ranks[i - job->n_nodes];
            id = r->job_id, step = r->step_id, file = r->file;
        }
        if (!file0) {
            file0 = file;
            snprintf(job->job_id, sizeof job->job_id, "%s", id);
            snprintf(job->step_id, sizeof job->step_id, "%s", step);
        } else if (strcmp(job->job_id, id) != 0 || strcmp(job->step_id, step) != 0) {
            clu_job_error(job, "%s is from job %s step %s, %s from job %s step %s", file0,
                          job->job_id[0] ? job->job_id : "(none)",
                          job->step_id[0] ? job->step_id : "(none)", file, id[0] ? id : "(none)",
                          step[0] ? step : "(none)");
            return;
        }
    }
    if (job->expect_nodes > 0)
        job->nodes_expected = job->expect_nodes;
}

static void check_missing(clu_job *job)
{
    if (job->nodes_expected > 0 && job->n_nodes < job->nodes_expected) {
        job->complete = 0;
        /* Node ids (Slurm's SLURM_NODEID) name the missing ones where every file has one. */
        char *seen = calloc((size_t)job->nodes_expected, 1);
        int ids = seen != NULL;
        for (int i = 0; ids && i < job->n_nodes; i++) {
            long id = job->nodes[i].node_id;
            if (id < 0 || id >= job->nodes_expected)
                ids = 0;
            else
                seen[id] = 1;
        }
        if (ids && (job->missing_node_ids = calloc((size_t)job->nodes_expected, sizeof(long))))
            for (long id = 0; id < job->nodes_expected; id++)
                if (!seen[id])
                    job->missing_node_ids[job->n_missing_node_ids++] = id;
        free(seen);
        clu_job_note(job, "%ld of %ld nodes have no node result: their energy is not in the total",
                     job->nodes_expected - job->n_nodes, job->nodes_expected);
    } else if (job->nodes_expected > 0 && job->n_nodes > job->nodes_expected) {
        clu_job_note(job, "%d node results for a job of %ld nodes", job->n_nodes,
                     job->nodes_expected);
    }
    if (job->ranks_expected <= 0 || job->ranks_expected > 10000000)
        return;
    char *seen = calloc((size_t)job->ranks_expected, 1);
    job->missing_ranks = calloc((size_t)job->ranks_expected, sizeof(long));
    if (!seen || !job->missing_ranks) {
        free(seen);
        return;
    }
    int unknown = 0;
    for (int i = 0; i < job->n_nodes + job->n_ranks; i++) {
        long r = i < job->n_nodes ? job->nodes[i].rank : job->ranks[i - job->n_nodes].rank;
        if (r >= 0 && r < job->ranks_expected)
            seen[r] = 1;
        else
            unknown = 1;
    }
    if (!unknown)
        for (long r = 0; r < job->ranks_expected; r++)
            if (!seen[r])
                job->missing_ranks[job->n_missing_ranks++] = r;
    if (job->n_missing_ranks)
        clu_job_note(job,
                     "%d of %ld ranks left no result (the rank died, or was not started with "
                     "joules run --cluster-dir): its exit status is unknown",
                     job->n_missing_ranks, job->ranks_expected);
    free(seen);
}

static void worst_exit(clu_job *job)
{
    job->exit_status = -1;
    for (int i = 0; i < job->n_nodes + job->n_ranks; i++) {
        int st, sig;
        if (i < job->n_nodes)
            st = job->nodes[i].exit_status, sig = job->nodes[i].signal;
        else
            st = job->ranks[i - job->n_nodes].exit_status,
            sig = job->ranks[i - job->n_nodes].signal;
        int code = sig > 0 ? 128 + sig : st;
        if (code > job->exit_status)
            job->exit_status = code;
    }
}

static void clock_spread(clu_job *job)
{
    double lo = INFINITY, hi = -INFINITY, elo = INFINITY, ehi = -INFINITY;
    for (int i = 0; i < job->n_nodes; i++) {
        const clu_node *nd = &job->nodes[i];
        if (nd->failure[0] || !(nd->start_unix_s > 0))
            continue;
        lo = fmin(lo, nd->start_unix_s), hi = fmax(hi, nd->start_unix_s);
        double end = nd->start_unix_s + nd->duration_s;
        elo = fmin(elo, end), ehi = fmax(ehi, end);
    }
    job->start_spread_s = hi >= lo ? hi - lo : 0.0;
    job->end_spread_s = ehi >= elo ? ehi - elo : 0.0;
    if (job->start_spread_s > CLU_SKEW_NOTE_S || job->end_spread_s > CLU_SKEW_NOTE_S)
        clu_job_note(job,
                     "the nodes' windows start %.3f s and end %.3f s apart by their own clocks: "
                     "a clock skew between nodes or a staggered launch (the two cannot be told "
                     "apart from the files); each node's energy is over its own window",
                     job->start_spread_s, job->end_spread_s);
}

void clu_job_sum(clu_job *job)
{
    job->complete = 1;
    check_identity(job);
    check_duplicates(job);
    check_simulated(job);
    check_missing(job);
    worst_exit(job);
    clock_spread(job);
    if (job->n_nodes == 0)
        clu_job_error(job, "no node result among the files");
    if (job->n_errors)
        return;
    snprintf(job->total.kind, sizeof job->total.kind, "total");
    job->total.complete = 1;
    double var_total = 0.0;
    double var[CLU_KINDS_MAX] = {0};
    for (int i = 0; i < job->n_nodes; i++) {
        clu_node *nd = &job->nodes[i];
        sum_node(nd);
        if (!nd->total.complete) {
            job->total.complete = 0;
            if (nd->failure[0])
                clu_job_note(job, "node %s measured nothing: %s", nd->host, nd->failure);
        }
        for (int k = 0; k < nd->n_kinds; k++) {
            clu_sum *s = sum_of(job->kinds, &job->n_kinds, nd->kinds[k].kind);
            if (!s)
                continue;
            s->energy_j += nd->kinds[k].energy_j;
            var[s - job->kinds] += nd->kinds[k].uncertainty_j * nd->kinds[k].uncertainty_j;
            s->n++;
            s->complete &= nd->kinds[k].complete;
        }
        job->total.energy_j += nd->total.energy_j;
        var_total += nd->total.uncertainty_j * nd->total.uncertainty_j;
        job->total.n++;
    }
    for (int k = 0; k < job->n_kinds; k++) {
        job->kinds[k].uncertainty_j = sqrt(var[k]);
        /* A kind that some node lacks is complete only if that node has none of it. */
        job->kinds[k].complete &= job->nodes_expected <= 0 || job->n_nodes >= job->nodes_expected;
    }
    job->total.uncertainty_j = sqrt(var_total);
    if (job->nodes_expected > 0 && job->n_nodes < job->nodes_expected)
        job->total.complete = 0;
    job->complete &= job->total.complete;
    job->summed = 1;
}
