/* SPDX-License-Identifier: MIT */
/*
 * cli_profiles.h - the simulated GPU's profiles, asked from the simulator itself
 * (jsimGetProfile, through dlopen of the library cli_sim_library_path names), so that the
 * command line keeps no list of its own to fall out of step with src/sim.
 */
#ifndef JOULES_CLI_PROFILES_H
#define JOULES_CLI_PROFILES_H

#include <stddef.h>

/* 1: the simulator accepts profile (a key or an alias); 0: it does not; -1: the simulator
 * cannot be asked (missing, not the simulated GPU), after printing why. */
int cli_sim_profile_known(const char *profile);

/* The accepted names for messages, "a6000, a100-sxm4-80gb (a100), ...": aliases in
 * parentheses after their profile; boards_only leaves out the profiles for tests. When the
 * simulator cannot be asked, says so instead (why is printed once). */
void cli_sim_profile_list(char *buf, size_t len, int boards_only);

#endif
