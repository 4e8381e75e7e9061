/* SPDX-License-Identifier: MIT */
/*
 * joules_mpi.h - one energy window across an MPI communicator (libjoules_mpi, built where
 * mpi.h is found; docs/cluster.md). Every call is collective over the communicator.
 *
 * One rank per node measures: the ranks that share memory are grouped with
 * MPI_Comm_split_type(MPI_COMM_TYPE_SHARED) and the lowest of each group opens the node's
 * devices; the others open nothing. joules_mpi_end gathers every node's figures to rank 0
 * of the communicator, per node, per device kind, and in total (nodes' uncertainties in
 * quadrature). A node whose devices cannot be opened or whose window fails is reported,
 * never summed silently, and real and simulated figures are never summed together.
 *
 *     joules_mpi *jm;
 *     joules_mpi_open(&jm, MPI_COMM_WORLD, NULL, err, sizeof err);
 *     joules_mpi_begin(jm, "solve");
 *     ... the work of every rank ...
 *     joules_mpi_result r;
 *     joules_mpi_end(jm, "solve", &r);       // r filled at rank 0
 *     joules_mpi_result_free(&r);
 *     joules_mpi_close(jm);
 */
#ifndef JOULES_MPI_H
#define JOULES_MPI_H

#include <mpi.h>

#include "joules.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The device kinds of the per-kind sums. */
enum { JOULES_MPI_GPU, JOULES_MPI_CPU, JOULES_MPI_DRAM, JOULES_MPI_OTHER, JOULES_MPI_KINDS };

typedef struct joules_mpi joules_mpi;

typedef struct joules_mpi_node {
    char host[64];
    int ranks;     /* ranks of the communicator on this node */
    int measured;  /* 0: nothing measured here; message says why */
    int simulated; /* the figures are the simulated GPU's */
    int complete;  /* every domain that belongs in the total was valid */
    double energy_j[JOULES_MPI_KINDS], uncertainty_j[JOULES_MPI_KINDS];
    double total_j, total_uncertainty_j;
    double begin_unix_s, duration_s;
    char message[320];
} joules_mpi_node;

typedef struct joules_mpi_result {
    int n_nodes;            /* at rank 0; 0 elsewhere */
    joules_mpi_node *nodes; /* at rank 0: n_nodes entries, by the node's lowest rank */
    /* 1: every measured node is simulated, 0: none is, -1: mixed (then nothing is summed) */
    int simulated;
    int complete; /* every node measured, completely, and the sums are made */
    double energy_j[JOULES_MPI_KINDS], uncertainty_j[JOULES_MPI_KINDS];
    double total_j, total_uncertainty_j;
} joules_mpi_result;

/* Group the ranks by node and open the devices on one rank per node (opts as joules_open;
 * NULL: defaults). 0, or -1 with err set when MPI fails or memory runs out. A node whose
 * devices cannot be opened is not an error here: it is reported in the result. */
int joules_mpi_open(joules_mpi **out, MPI_Comm comm, const joules_options *opts, char *err,
                    size_t err_len);
/* Begin a window on every node once every rank has arrived (a barrier). 0 or -1. */
int joules_mpi_begin(joules_mpi *jm, const char *name);
/* End it once every rank has arrived, and gather the nodes' figures into *out at rank 0 of
 * the communicator. 0 or -1 (MPI failed). */
int joules_mpi_end(joules_mpi *jm, const char *name, joules_mpi_result *out);
void joules_mpi_result_free(joules_mpi_result *r);
/* 1 on the rank that measures its node. */
int joules_mpi_is_measurer(const joules_mpi *jm);
void joules_mpi_close(joules_mpi *jm);

#ifdef __cplusplus
}
#endif

#endif
