/* SPDX-License-Identifier: MIT */
/*
 * cmd_sim.h - what the files of `joules sim` share: the simulated library's entry points,
 * loaded with dlopen as any client loads them, and the demonstrations of cmd_sim_demos.c
 * (ab, idle) beside the thermal loop of cmd_sim.c.
 */
#ifndef JOULES_CLI_CMD_SIM_H
#define JOULES_CLI_CMD_SIM_H

#include <stdio.h>

#include "abi/jsim.h"
#include "abi/nvml_abi.h"

struct simlib {
    void *h;
    nvmlReturn_t (*init)(void);
    nvmlReturn_t (*handle)(unsigned, nvmlDevice_t *);
    nvmlReturn_t (*name)(nvmlDevice_t, char *, unsigned);
    jsimReconfigure_fn reconfigure;
    jsimAdvance_fn advance;
    jsimGetState_fn state;
    jsimRunKernel_fn run_kernel;
    jsimToggleRate_fn toggle;
    jsimLastError_fn last_error;
    jsimGetProfile_fn profile;
};

/* Load the simulated library into L (a model of this process's own): 0, or 1 after the
 * message. */
int cmd_sim_load(struct simlib *L);
/* Reconfigure the model with a scenario's text; its first device in *dev. 0, or 1. */
int cmd_sim_scenario(struct simlib *L, const char *text, nvmlDevice_t *dev);
/* The model's true state of device d now. */
jsimState cmd_sim_state(struct simlib *L, nvmlDevice_t d);
/* joules sim --help. */
void cmd_sim_usage(FILE *f);

/* joules sim ab and joules sim idle (cmd_sim_demos.c): the exit status. */
int cmd_sim_ab(struct simlib *L, int argc, char **argv);
int cmd_sim_idle(struct simlib *L, int argc, char **argv);

#endif
