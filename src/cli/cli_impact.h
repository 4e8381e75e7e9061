/* SPDX-License-Identifier: MIT */
/* cli_impact.h - efficiency and emissions in the command line (docs/impact.md). */
#ifndef JOULES_CLI_IMPACT_H
#define JOULES_CLI_IMPACT_H
#endif
