/* SPDX-License-Identifier: MIT */
#include "cli/cli_impact.h"
