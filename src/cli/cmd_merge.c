/* SPDX-License-Identifier: MIT */
/*
 * cmd_merge.c - `joules merge FILE...`: the node results of a job (joules run --cluster-dir)
 * summed into one job result: per node, per device kind, and in total (src/cluster).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli_options.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cluster/cluster.h"
#include "io/atomic.h"

static const char merge_help_head[] =
    "Usage: joules merge [OPTIONS] FILE...\n\n"
    "Sum the node results of a job into one job result: per node, per device kind, and\n"
    "the total with its uncertainty (nodes are independent: their errors add in\n"
    "quadrature). The FILEs are what `joules run --cluster-dir DIR` wrote into DIR, one\n"
    "node result (joules.node/1) per node and one rank result (joules.rank/1) per other\n"
    "rank: `joules merge DIR/*.json`. The same host and device twice is an error, and\n"
    "real and simulated figures are never summed together. A missing node, a rank that\n"
    "left no result, a node whose measurement failed and a clock skew between nodes are\n"
    "said. The table goes to standard error (docs/cluster.md).\n\n"
    "Options:\n";

static const char merge_help_tail[] =
    "\nExit status: 0 when the job is complete; 3 when it is summed but incomplete (a node\n"
    "or a figure is missing: the total lacks its energy); 1 when nothing could be summed\n"
    "(an unreadable file, the same device twice, real with simulated figures, files of\n"
    "different jobs; the errors are listed and still written to --json); 2 on a wrong\n"
    "command line.\n";

enum { OPT_NODES = CLI_OPT_COMMAND };

static const struct cli_option merge_options[] = {
    CLI_OPTION_JSON("also write the job result as JSON (schema joules.job/1;\n"
                    "'-' writes to standard output)"),
    {"nodes", 0, required_argument, "N",
     "the job has N nodes (default: what the files say: Slurm's\n"
     "node count, or MPI's ranks over local ranks)",
     OPT_NODES},
    CLI_OPTION_QUIET("no table (errors are still reported)"),
    CLI_OPTION_HELP,
    CLI_OPTIONS_END,
};

struct merge_options {
    struct cli_common com;
    long nodes;
};

static int merge_take(void *ctx, int id, const char *v)
{
    struct merge_options *o = ctx;
    if (id == OPT_NODES)
        return cli_parse_long("merge", "--nodes", v, 1, 1000000, &o->nodes);
    return 0;
}

static const struct cli_command_spec merge_spec = {
    .name = "merge",
    .help_head = merge_help_head,
    .options = merge_options,
    .help_tail = merge_help_tail,
    .take = merge_take,
};

int cmd_merge(int argc, char **argv)
{
    struct merge_options o;
    int status;
    memset(&o, 0, sizeof o);
    if (cli_options_parse(&merge_spec, &o.com, &o, argc, argv, &status) != 0)
        return status;
    if (optind >= argc)
        return cli_usage_error("merge", "no file to merge (joules merge DIR/*.json)");
    if (!clu_merge_available()) {
        cli_error("merge: this joules was built without libjansson, so it cannot read JSON "
                  "(apt-get install libjansson-dev, then rebuild)");
        return CLI_EXIT_FAILURE;
    }
    io_atomic out;
    char err[512];
    if (o.com.json && io_atomic_open(&out, o.com.json, err, sizeof err) != 0) {
        fprintf(stderr, "joules merge: --json: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    clu_job *job = clu_merge_files(argv + optind, argc - optind, o.nodes);
    if (!job) {
        if (o.com.json)
            io_atomic_abort(&out);
        cli_error("merge: out of memory");
        return CLI_EXIT_FAILURE;
    }
    int verdict = clu_job_verdict(job);
    if (!o.com.quiet || verdict == 2)
        clu_job_table(stderr, job);
    if (o.com.json) {
        if (clu_job_json(out.f, job) != 0) {
            fprintf(stderr, "joules merge: --json: writing %s failed; no file was written\n",
                    o.com.json);
            io_atomic_abort(&out);
        } else if (io_atomic_commit(&out, err, sizeof err) != 0) {
            fprintf(stderr, "joules merge: --json: %s; no file was written\n", err);
        }
    }
    clu_job_free(job);
    return verdict == 0 ? 0 : verdict == 1 ? 3 : CLI_EXIT_FAILURE;
}
