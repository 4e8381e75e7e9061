/* SPDX-License-Identifier: MIT */
/*
 * cmd_run_options.c - what `joules run` accepts and its --help: the option table (which the
 * option layer turns into both the parser and the help's option lines) and the text around
 * it. cmd_run.c takes the options and runs the command.
 */
#include <getopt.h>
#include <stddef.h>

#include "cli/cli_cluster.h"
#include "cli/cli_impact.h"
#include "cli/cli_options.h"
#include "cli/cli_sampling.h"
#include "cli/cli_util.h"
#include "cli/cmd_run.h"
#include "cli/commands.h"

const char run_help_head[] =
    "Usage: joules run [OPTIONS] [--] COMMAND [ARGS...]\n\n"
    "Run COMMAND and measure the energy it costs on every domain joules finds (GPUs\n"
    "through NVML, CPU package/core/uncore and DRAM through RAPL), with the wall time,\n"
    "the average power, the method of each figure and its uncertainty (+/- J, about a\n"
    "95 % bound). The table goes to standard error; the command keeps standard input\n"
    "and output. Figures from the simulated GPU are labelled SIMULATED.\n\n"
    "Options:\n";

const char run_help_tail[] =
    "\nOptions end at '--' or at the first word that is not an option.\n\n"
    "Examples:\n"
    "  joules run -- python3 train.py\n"
    "  joules run --json run.json --csv run.csv -- ./bench --size 10000\n"
    "  joules run --sim h100-sxm5 --scenario load.scn -- sleep 2\n"
    "  joules run --sample 10ms --series power.csv --plot power.svg -- ./train\n\n"
    "Static power: after `joules idle` has stored a baseline for a device (in its\n"
    "current clock state), the table also gives the dynamic energy: the energy minus\n"
    "the baseline power x the time (derived, method model), with its uncertainty.\n\n"
    "Environment:\n"
    "  JOULES_NVML_LIBRARY  libnvidia-ml.so.1 to load (default: the system's)\n"
    "  JOULES_SYSFS_ROOT    directory standing for /sys (default: /sys)\n"
    "  JOULES_SIM_LIBRARY   the simulated GPU library (default: "
    "<bin>/../lib/joules/libnvidia-ml.so.1)\n"
    "  JOULES_SIM_PROFILE, JOULES_SIM_DEVICES, JOULES_SIM_SEED, JOULES_SIM_SCENARIO\n"
    "                       configure the simulated GPU (docs/scenarios.md); --sim\n"
    "                       PROFILE and --scenario set them for the simulator\n"
    "  JOULES_HOSTNAME      --cluster-dir: this rank's host name (tests: one machine\n"
    "                       posing as several nodes)\n\n"
    "Signals: SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to joules are passed on to COMMAND;\n"
    "joules waits for it to end and still reports.\n\n"
    "Exit status: the status of COMMAND; 128+N if it died of signal N; 127 if it was\n"
    "not found, 126 if it could not be executed; 1 if there is nothing to measure\n"
    "(no sensor and no --sim) or the simulated GPU did not start (for instance a\n"
    "malformed scenario); 2 on a wrong command line or an output file that cannot be\n"
    "created. In the last three cases COMMAND is not run. A report that cannot be\n"
    "written after COMMAND ran is an error message; the status stays "
    "COMMAND's.\n" CLI_IMPACT_HELP_NOTE;

const struct cli_option run_options[] = {
    CLI_OPTION_JSON("also write the result as JSON (schema joules.run/1)"),
    CLI_OPTION_CSV("also write one CSV row per domain (schema joules.run.csv/1)\n"
                   "('-' writes to standard output; files appear whole or not at\n"
                   "all: temporary file + rename; see docs/output.md)"),
    {"sample", 0, required_argument, "DUR",
     "sample power every DUR while the command runs (default\n"
     "100ms when --series or --plot is given; e.g. 10ms, 1s)",
     OPT_SAMPLE},
    {"series", 0, required_argument, "FILE",
     "write the power time series, with the begin and end of the\n"
     "command marked (schema joules.series.csv/1)",
     OPT_SERIES},
    {"plot", 0, required_argument, "FILE.svg", "write a chart of power per domain over time",
     OPT_PLOT},
    {"normalise", 0, no_argument, NULL, "chart power as a percentage of each GPU's power limit",
     OPT_NORMALISE},
    {"normalize", 0, no_argument, NULL, "the same as --normalise", OPT_NORMALISE},
    CLI_IMPACT_WORK_OPTIONS,
    CLI_IMPACT_SITE_OPTIONS,
    CLI_IMPACT_OUTPUT_OPTIONS,
    CLI_OPTION_SIM("measure on the simulated GPU (default a6000; also\n"
                   "--sim=PROFILE). Without it, only real sensors are used.\n"
                   "Write --sim -- CMD when no profile is given.\n" CLI_HELP_PROFILES),
    CLI_OPTION_SCENARIO("simulated GPU running a known load (docs/scenarios.md);\n"
                        "implies --sim"),
    CLI_OPTION_NO_SETTLE("end at once instead of waiting for the next step of each\n"
                         "GPU energy counter (~100 ms apart; the wait is at most\n"
                         "max(10 ms, a tenth of the command's time)); the end edge is\n"
                         "then extrapolated with the power sensor (wider +/-)"),
    {"cluster-dir", 0, required_argument, "DIR",
     "under srun or mpirun: every rank runs COMMAND, one rank per\n"
     "node measures the job's devices there and writes its node\n"
     "result into DIR (shared by the nodes); rank 0 then prints\n"
     "the job table and exits with the worst status of the ranks;\n"
     "`joules merge DIR/*.json` sums them later (docs/cluster.md)",
     OPT_CLUSTER_DIR},
    CLI_OPTION_QUIET("no table (errors are still reported)"),
    CLI_OPTION_VERBOSE("also how the sampler kept time (--sample, --series, --plot)"),
    CLI_OPTION_HELP,
    CLI_OPTION_AS_ROOT,
    CLI_OPTIONS_END,
};
