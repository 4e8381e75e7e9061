/* SPDX-License-Identifier: MIT */
/*
 * scenario_values.h - what the scenario parser (scenario.c) and its value readers
 * (scenario_values.c) share: the parser's place in the file, and the readers, each 0 or -1
 * after sim_scn_fail wrote "file:line: message".
 */
#ifndef JOULES_SIM_SCENARIO_VALUES_H
#define JOULES_SIM_SCENARIO_VALUES_H

#include <stddef.h>

struct sim_scenario;

struct parser {
    const char *name;
    int line;
    char *err;
    size_t len;
    struct sim_scenario *s;
};

/* "file:line: message" into the parser's error buffer; returns -1. */
__attribute__((format(printf, 2, 3))) int sim_scn_fail(struct parser *ps, const char *fmt, ...);

int sim_scn_num(struct parser *ps, const char *tok, const char *what, double *out);
int sim_scn_num_range(struct parser *ps, const char *tok, const char *what, double lo, double hi,
                      double *out);
int sim_scn_duration(struct parser *ps, const char *tok, const char *what, double *out);
int sim_scn_fraction(struct parser *ps, const char *tok, const char *what, double *out);
int sim_scn_boolean(struct parser *ps, const char *tok, const char *what, int *out);
char *sim_scn_split_kv(char *tok);
int sim_scn_device_opt(struct parser *ps, const char *v, int *dev);

#endif
