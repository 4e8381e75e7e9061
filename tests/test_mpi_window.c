/* SPDX-License-Identifier: MIT */
/*
 * test_mpi_window.c - an MPI program for tests/cli/test_cli_cluster.py (MpiLibraryTest): one
 * window across MPI_COMM_WORLD with libjoules_mpi on the simulated GPU (JOULES_SIM_LIB), every
 * rank busy for 0.3 s; rank 0 prints the gathered result as JSON on standard output for the
 * test to check. Started by mpirun, never by CTest directly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "joules_mpi.h"

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    joules_options o;
    joules_options_init(&o);
    o.nvml_library = getenv("JOULES_SIM_LIB");
    o.sysfs_root = getenv("JOULES_SYSFS_ROOT");
    char err[256];
    joules_mpi *jm;
    if (joules_mpi_open(&jm, MPI_COMM_WORLD, &o, err, sizeof err) != 0) {
        fprintf(stderr, "test_mpi_window: %s\n", err);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    int mine = joules_mpi_is_measurer(jm), measurers = 0;
    MPI_Reduce(&mine, &measurers, 1, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
    if (joules_mpi_begin(jm, "work") != 0)
        MPI_Abort(MPI_COMM_WORLD, 1);
    struct timespec ts = {0, 300000000L};
    nanosleep(&ts, NULL);
    joules_mpi_result r;
    if (joules_mpi_end(jm, "work", &r) != 0)
        MPI_Abort(MPI_COMM_WORLD, 1);
    if (rank == 0) {
        printf("{\"measurers\": %d, \"simulated\": %d, \"complete\": %d, \"total_j\": %.9g, "
               "\"total_uncertainty_j\": %.9g, \"gpu_j\": %.9g, \"nodes\": [",
               measurers, r.simulated, r.complete, r.total_j, r.total_uncertainty_j,
               r.energy_j[JOULES_MPI_GPU]);
        for (int i = 0; i < r.n_nodes; i++) {
            const joules_mpi_node *n = &r.nodes[i];
            printf("%s{\"host\": \"%s\", \"ranks\": %d, \"measured\": %d, \"complete\": %d, "
                   "\"total_j\": %.9g, \"total_uncertainty_j\": %.9g, \"gpu_j\": %.9g, "
                   "\"duration_s\": %.9g, \"message\": \"%s\"}",
                   i ? ", " : "", n->host, n->ranks, n->measured, n->complete, n->total_j,
                   n->total_uncertainty_j, n->energy_j[JOULES_MPI_GPU], n->duration_s, n->message);
        }
        printf("]}\n");
    }
    joules_mpi_result_free(&r);
    joules_mpi_close(jm);
    MPI_Finalize();
    return 0;
}
