# SPDX-License-Identifier: MIT
"""Run by mpirun from tests/cli/test_cli_cluster.py (MpiPythonTest): one joules.mpi window
across COMM_WORLD on the simulated GPU (JOULES_SIM_LIB), every rank busy for 0.3 s; rank 0
prints the gathered result as JSON."""
import json
import os
import time

from mpi4py import MPI

import joules.mpi

comm = MPI.COMM_WORLD
with joules.mpi.Window(comm, "work", nvml_library=os.environ["JOULES_SIM_LIB"],
                       sysfs_root=os.environ.get("JOULES_SYSFS_ROOT")) as w:
    time.sleep(0.3)
measurers = comm.reduce(int(w.measurer), op=MPI.SUM, root=0)
if comm.rank == 0:
    print(json.dumps(dict(w.result, measurers=measurers)))
