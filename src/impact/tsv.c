/* SPDX-License-Identifier: MIT */
/* tsv.c - splitting the lines of the shipped tables (tsv.h). */
#include "impact/tsv.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int impact_tsv_split(char *line, char **fields, int max)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    int k = 0;
    char *p = line;
    for (;;) {
        char *tab = strchr(p, '\t');
        if (k < max)
            fields[k] = p;
        k++;
        if (!tab)
            break;
        *tab = '\0';
        p = tab + 1;
    }
    return k;
}

int impact_tsv_skip(const char *line)
{
    const char *p = line;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    return *p == '\0' || *p == '#';
}

int impact_parse_number(const char *s, double *out)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(x))
        return -1;
    *out = x;
    return 0;
}
