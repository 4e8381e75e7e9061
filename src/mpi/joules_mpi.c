/* SPDX-License-Identifier: MIT */
/*
 * joules_mpi.c - a window across an MPI communicator: one measurer per node, the nodes'
 * figures gathered to rank 0 (joules_mpi.h).
 *
 * Nodes are the groups of MPI_Comm_split_type(MPI_COMM_TYPE_SHARED), keyed by rank, so the
 * lowest rank of each node measures and rank 0 of the communicator is a measurer. The
 * measurers form a communicator of their own, in which rank 0 gathers one fixed-size record
 * per node. JOULES_HOSTNAME (tests only) groups the ranks by that name instead, so that one
 * machine can pose as several nodes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "joules_mpi.h"

struct joules_mpi {
    MPI_Comm comm, node, leaders; /* leaders: MPI_COMM_NULL on non-measurers */
    int rank, node_rank, node_size;
    joules_monitor *m;        /* on measurers whose devices opened */
    joules_measurement *meas; /* the window's result, sized for m */
    char open_error[300];     /* why m is NULL on a measurer */
    char window_error[300];   /* why the window failed */
    int begun;
    char host[64];
};

static void set_err(char *err, size_t len, const char *what)
{
    if (err && len)
        snprintf(err, len, "%s", what);
}

/* A colour for MPI_Comm_split from a posed host name. */
static int host_colour(const char *h)
{
    unsigned h32 = 2166136261u;
    for (; *h; h++)
        h32 = (h32 ^ (unsigned char)*h) * 16777619u;
    return (int)(h32 & 0x3fffffff);
}

int joules_mpi_open(joules_mpi **out, MPI_Comm comm, const joules_options *opts, char *err,
                    size_t err_len)
{
    *out = NULL;
    joules_mpi *jm = calloc(1, sizeof *jm);
    if (!jm) {
        set_err(err, err_len, "out of memory");
        return -1;
    }
    jm->comm = comm;
    jm->leaders = MPI_COMM_NULL;
    MPI_Comm_rank(comm, &jm->rank);
    const char *posed = getenv("JOULES_HOSTNAME");
    int rc;
    if (posed && *posed) {
        snprintf(jm->host, sizeof jm->host, "%s", posed);
        rc = MPI_Comm_split(comm, host_colour(posed), jm->rank, &jm->node);
    } else {
        if (gethostname(jm->host, sizeof jm->host - 1) != 0)
            snprintf(jm->host, sizeof jm->host, "unknown");
        rc = MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, jm->rank, MPI_INFO_NULL, &jm->node);
    }
    if (rc != MPI_SUCCESS) {
        set_err(err, err_len, "MPI could not group the ranks by node");
        free(jm);
        return -1;
    }
    MPI_Comm_rank(jm->node, &jm->node_rank);
    MPI_Comm_size(jm->node, &jm->node_size);
    if (MPI_Comm_split(comm, jm->node_rank == 0 ? 0 : MPI_UNDEFINED, jm->rank, &jm->leaders) !=
        MPI_SUCCESS) {
        set_err(err, err_len, "MPI could not group the measurers");
        MPI_Comm_free(&jm->node);
        free(jm);
        return -1;
    }
    if (jm->node_rank == 0) {
        char why[JOULES_MESSAGE_MAX];
        if (joules_open(&jm->m, opts, why, sizeof why) != 0) {
            jm->m = NULL;
            snprintf(jm->open_error, sizeof jm->open_error, "the devices could not be opened: %s",
                     why);
        } else if (joules_domain_count(jm->m) <= 0) {
            snprintf(jm->open_error, sizeof jm->open_error, "no device to measure on this node");
        } else if (joules_measurement_alloc(jm->m, &jm->meas) != 0) {
            snprintf(jm->open_error, sizeof jm->open_error, "%s", joules_last_error(jm->m));
        }
    }
    *out = jm;
    return 0;
}

int joules_mpi_is_measurer(const joules_mpi *jm)
{
    return jm->node_rank == 0;
}

int joules_mpi_begin(joules_mpi *jm, const char *name)
{
    if (MPI_Barrier(jm->comm) != MPI_SUCCESS)
        return -1;
    jm->window_error[0] = '\0';
    jm->begun = 0;
    if (jm->meas) {
        if (joules_window_begin(jm->m, name) == 0)
            jm->begun = 1;
        else
            snprintf(jm->window_error, sizeof jm->window_error, "the window could not begin: %s",
                     joules_last_error(jm->m));
    }
    return 0;
}

static int kind_index(joules_domain_kind k)
{
    switch (k) {
    case JOULES_KIND_GPU:
        return JOULES_MPI_GPU;
    case JOULES_KIND_CPU_PACKAGE:
    case JOULES_KIND_CPU_CORE:
    case JOULES_KIND_CPU_UNCORE:
        return JOULES_MPI_CPU;
    case JOULES_KIND_DRAM:
        return JOULES_MPI_DRAM;
    default:
        return JOULES_MPI_OTHER;
    }
}

/* This node's record; within a node the uncertainties of a kind add linearly (its devices
 * may share a systematic error), as in joules merge. */
static void node_record(joules_mpi *jm, const char *name, joules_mpi_node *n)
{
    memset(n, 0, sizeof *n);
    snprintf(n->host, sizeof n->host, "%s", jm->host);
    n->ranks = jm->node_size;
    if (!jm->meas || !jm->begun) {
        snprintf(n->message, sizeof n->message, "%s",
                 jm->open_error[0] ? jm->open_error : jm->window_error);
        return;
    }
    if (joules_window_end(jm->m, name, jm->meas) != 0) {
        snprintf(n->message, sizeof n->message, "the window failed: %s", joules_last_error(jm->m));
        return;
    }
    const joules_measurement *r = jm->meas;
    n->measured = 1;
    n->complete = 1;
    n->simulated = r->simulated;
    n->begin_unix_s = r->begin_unix_s;
    n->duration_s = r->duration_s;
    for (int i = 0; i < r->n_domains; i++) {
        joules_domain_info info;
        if (joules_domain_info_get(jm->m, r->domains[i].domain, &info) != 0 ||
            !info.counted_in_total)
            continue;
        if (!r->domains[i].valid) {
            n->complete = 0;
            continue;
        }
        int k = kind_index(info.kind);
        n->energy_j[k] += r->domains[i].energy_j;
        n->uncertainty_j[k] += r->domains[i].uncertainty_j;
    }
    n->total_j = r->total_energy_j;
    n->total_uncertainty_j = r->total_uncertainty_j;
}

/* At rank 0: the sums over the nodes, in quadrature between nodes. */
static void sum_nodes(joules_mpi_result *out)
{
    double var[JOULES_MPI_KINDS] = {0}, var_total = 0.0;
    int real = 0, sim = 0;
    out->complete = 1;
    for (int i = 0; i < out->n_nodes; i++) {
        const joules_mpi_node *n = &out->nodes[i];
        if (!n->measured || !n->complete)
            out->complete = 0;
        if (n->measured)
            *(n->simulated ? &sim : &real) = 1;
    }
    out->simulated = real && sim ? -1 : sim;
    if (out->simulated < 0) {
        out->complete = 0;
        return;
    }
    for (int i = 0; i < out->n_nodes; i++) {
        const joules_mpi_node *n = &out->nodes[i];
        if (!n->measured)
            continue;
        for (int k = 0; k < JOULES_MPI_KINDS; k++) {
            out->energy_j[k] += n->energy_j[k];
            var[k] += n->uncertainty_j[k] * n->uncertainty_j[k];
        }
        out->total_j += n->total_j;
        var_total += n->total_uncertainty_j * n->total_uncertainty_j;
    }
    for (int k = 0; k < JOULES_MPI_KINDS; k++)
        out->uncertainty_j[k] = sqrt(var[k]);
    out->total_uncertainty_j = sqrt(var_total);
}

int joules_mpi_end(joules_mpi *jm, const char *name, joules_mpi_result *out)
{
    memset(out, 0, sizeof *out);
    if (MPI_Barrier(jm->comm) != MPI_SUCCESS)
        return -1;
    if (jm->node_rank != 0)
        return 0;
    joules_mpi_node mine;
    node_record(jm, name, &mine);
    jm->begun = 0;
    int n_leaders = 0, lrank = 0;
    MPI_Comm_size(jm->leaders, &n_leaders);
    MPI_Comm_rank(jm->leaders, &lrank);
    joules_mpi_node *all = NULL;
    if (lrank == 0 && !(all = calloc((size_t)n_leaders, sizeof *all)))
        return -1;
    /* The record is plain data (chars and doubles), gathered as bytes. */
    if (MPI_Gather(&mine, (int)sizeof mine, MPI_BYTE, all, (int)sizeof mine, MPI_BYTE, 0,
                   jm->leaders) != MPI_SUCCESS) {
        free(all);
        return -1;
    }
    if (lrank == 0) {
        out->nodes = all;
        out->n_nodes = n_leaders;
        sum_nodes(out);
    }
    return 0;
}

void joules_mpi_result_free(joules_mpi_result *r)
{
    if (!r)
        return;
    free(r->nodes);
    r->nodes = NULL;
    r->n_nodes = 0;
}

void joules_mpi_close(joules_mpi *jm)
{
    if (!jm)
        return;
    joules_measurement_free(jm->meas);
    if (jm->m)
        joules_close(jm->m);
    if (jm->leaders != MPI_COMM_NULL)
        MPI_Comm_free(&jm->leaders);
    MPI_Comm_free(&jm->node);
    free(jm);
}
