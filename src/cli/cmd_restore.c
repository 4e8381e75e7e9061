/* SPDX-License-Identifier: MIT */
/*
 * cmd_restore.c - `joules restore`: put back the clocks and power limits that a joules
 * process changed and could not restore (it was killed, or the restore failed), from the
 * restore journals it left in the runtime directory (io/journal.h). A journal of a process
 * still running is left to it.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_options.h"
#include "cli/cli_restore.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "io/journal.h"

#define CMD "restore"

static const char restore_help_head[] =
    "Usage: joules restore [OPTIONS]\n\n"
    "Put back what a joules process changed on a GPU and did not restore: before it\n"
    "locks clocks (ab, sweep) or sets a power limit (sweep), joules writes the setting\n"
    "to go back to in a journal of the runtime directory ($XDG_RUNTIME_DIR/joules,\n"
    "else /run/joules as root, else /tmp/joules-UID), and removes it once restored.\n"
    "A journal left by a process that is gone (killed, or its restore failed) is\n"
    "applied here: clocks reset (as nvidia-smi -rgc), the power limit set back; the\n"
    "journal is then removed. Needs the privilege the change needed (root).\n\n"
    "Options:\n";

static const char restore_help_tail[] =
    "\nExit status: 0 when nothing is left to restore; 1 when a GPU could not be\n"
    "restored or is not here (its journal is kept); 2 on a wrong command line.\n";

static const struct cli_option restore_options[] = {
    CLI_OPTION_SIM("restore on the simulated GPU (journals of simulated GPUs)"),
    CLI_OPTION_SCENARIO("the simulated GPU with a scenario (docs/scenarios.md)"),
    CLI_OPTION_HELP,
    CLI_OPTIONS_END,
};

static const struct cli_command_spec restore_spec = {
    .name = CMD,
    .help_head = restore_help_head,
    .options = restore_options,
    .help_tail = restore_help_tail,
};

/* The GPU domain of the monitor whose UUID (or bus id) is id, or -1. */
static int find_gpu(joules_monitor *m, const char *id)
{
    for (int i = 0; i < joules_domain_count(m); i++) {
        joules_domain_info di;
        if (joules_domain_info_get(m, i, &di) == 0 && di.kind == JOULES_KIND_GPU &&
            (strcmp(di.uuid, id) == 0 || strcmp(di.bus_id, id) == 0))
            return i;
    }
    return -1;
}

/* Apply the stale journals of e[0..n) with the monitor. The exit status. */
static int restore_all(joules_monitor *m, const io_journal_entry *e, int n)
{
    int failed = 0;
    for (int i = 0; i < n; i++) {
        int dom = find_gpu(m, e[i].uuid);
        if (dom < 0) {
            fprintf(stderr, "joules restore: %s (%s) is not a GPU here; journal kept: %s\n",
                    e[i].uuid, e[i].device, e[i].path);
            failed = 1;
            continue;
        }
        double limit_w = e[i].what == IO_JOURNAL_POWER_LIMIT ? e[i].power_limit_w : -1.0;
        if (cli_restore_gpu(CMD, m, dom, limit_w) && unlink(e[i].path) == 0)
            continue;
        failed = 1;
    }
    return failed ? CLI_EXIT_FAILURE : 0;
}

int cmd_restore(int argc, char **argv)
{
    struct cli_common com = {0};
    int rc;
    if (cli_options_parse(&restore_spec, &com, NULL, argc, argv, &rc) != 0)
        return rc;
    if (optind < argc)
        return cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    char dir[4096], err[512];
    if (io_journal_dir(dir, sizeof dir, 0, err, sizeof err) != 0) {
        cli_error("%s", err);
        return CLI_EXIT_FAILURE;
    }
    static io_journal_entry all[IO_JOURNAL_MAX], stale[IO_JOURNAL_MAX];
    int n = io_journal_list(dir, all, IO_JOURNAL_MAX), n_stale = 0;
    for (int i = 0; i < n; i++) {
        if (io_journal_pid_alive(all[i].pid))
            printf("joules restore: %s is being changed by pid %ld, still running: left to it\n",
                   all[i].uuid, all[i].pid);
        else
            stale[n_stale++] = all[i];
    }
    if (n_stale == 0) {
        printf("joules restore: nothing to restore (no journal of a finished process in %s)\n",
               dir);
        return 0;
    }
    struct cli_monitor cm;
    if (cli_open_monitor(CMD, &com.src, &cm) != 0)
        return CLI_EXIT_FAILURE;
    int status = restore_all(cm.m, stale, n_stale);
    cli_close_monitor(&cm);
    return status;
}
