/* SPDX-License-Identifier: MIT */
/*
 * tsv.h - the shipped tables are tab-separated text: '#' lines and blank lines are comments,
 * the first other line is the header. Split in place, so the fields point into the line.
 */
#ifndef JOULES_IMPACT_TSV_H
#define JOULES_IMPACT_TSV_H

#include <stddef.h>

/* Split line at tabs (the line ending removed). Returns the number of fields, which may
 * exceed max (only max are stored). */
int impact_tsv_split(char *line, char **fields, int max);
/* 1 when the line is a comment or blank. */
int impact_tsv_skip(const char *line);
/* A whole-string number: 0 and *out, or -1. */
int impact_parse_number(const char *s, double *out);

#endif
