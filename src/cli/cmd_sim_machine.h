/* SPDX-License-Identifier: MIT */
/* cmd_sim_machine.h - `joules sim status` and `joules sim reset` (cmd_sim_machine.c). */
#ifndef JOULES_CLI_CMD_SIM_MACHINE_H
#define JOULES_CLI_CMD_SIM_MACHINE_H

/* argv[0] is the subcommand's name ("status" / "reset"); returns the exit status. */
int cmd_sim_status(int argc, char **argv);
int cmd_sim_reset(int argc, char **argv);

#endif
