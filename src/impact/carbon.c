/* SPDX-License-Identifier: MIT */
/*
 * carbon.c - the carbon intensity table (data/carbon-intensity.tsv: zone, name, g/kWh, year,
 * source), the --grid value (a zone or a number) and the range checks of the site values.
 * An unknown zone is answered with the nearest known ones, never with a guess.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "impact/impact.h"
#include "impact/tsv.h"

int impact_zones_load(struct impact_zone_table *t, const char *path, char *err, size_t len)
{
    memset(t, 0, sizeof *t);
    snprintf(t->path, sizeof t->path, "%s", path);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, len, "%s: cannot read the carbon intensity table: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, header = 0, alloc = 0, rc = 0;
    while (rc == 0 && getline(&line, &cap, f) >= 0) {
        lineno++;
        if (impact_tsv_skip(line))
            continue;
        char *c[6];
        int n = impact_tsv_split(line, c, 6);
        if (!header) {
            if (n != 5 || strcmp(c[0], "zone") != 0 || strcmp(c[1], "name") != 0 ||
                strcmp(c[2], "g_per_kwh") != 0 || strcmp(c[3], "year") != 0 ||
                strcmp(c[4], "source") != 0) {
                snprintf(err, len,
                         "%s:%d: the header must be zone, name, g_per_kwh, year, source "
                         "(tab-separated)",
                         path, lineno);
                rc = -1;
            }
            header = 1;
            continue;
        }
        double g, y;
        if (n != 5) {
            snprintf(err, len, "%s:%d: %d fields, the header has 5", path, lineno, n);
            rc = -1;
        } else if (!*c[0] || strlen(c[0]) >= sizeof t->rows->zone || !*c[1]) {
            snprintf(err, len, "%s:%d: zone: empty or longer than %zu characters", path, lineno,
                     sizeof t->rows->zone - 1);
            rc = -1;
        } else if (impact_parse_number(c[2], &g) != 0 || g < 0 ||
                   g > IMPACT_INTENSITY_MAX_G_PER_KWH) {
            snprintf(err, len, "%s:%d: g_per_kwh: '%s' is not a number in [0, %g]", path, lineno,
                     c[2], IMPACT_INTENSITY_MAX_G_PER_KWH);
            rc = -1;
        } else if (impact_parse_number(c[3], &y) != 0 || y != floor(y) || y < 1990 || y > 2100) {
            snprintf(err, len, "%s:%d: year: '%s' is not a year", path, lineno, c[3]);
            rc = -1;
        } else if (!*c[4]) {
            snprintf(err, len, "%s:%d: source: empty (every intensity has a source)", path, lineno);
            rc = -1;
        } else if (impact_zone_find(t, c[0])) {
            snprintf(err, len, "%s:%d: zone '%s' appears twice", path, lineno, c[0]);
            rc = -1;
        }
        if (rc)
            break;
        if (t->n == alloc) {
            alloc = alloc ? 2 * alloc : 256;
            void *p = realloc(t->rows, (size_t)alloc * sizeof *t->rows);
            if (!p) {
                snprintf(err, len, "%s:%d: out of memory", path, lineno);
                rc = -1;
                break;
            }
            t->rows = p;
        }
        struct impact_zone *z = &t->rows[t->n++];
        snprintf(z->zone, sizeof z->zone, "%s", c[0]);
        snprintf(z->name, sizeof z->name, "%s", c[1]);
        z->g_per_kwh = g;
        z->year = (int)y;
        snprintf(z->source, sizeof z->source, "%s", c[4]);
    }
    free(line);
    fclose(f);
    if (rc == 0 && t->n == 0) {
        snprintf(err, len, "%s:%d: no zone in the table", path, lineno);
        rc = -1;
    }
    if (rc)
        impact_zones_free(t);
    return rc;
}

void impact_zones_free(struct impact_zone_table *t)
{
    free(t->rows);
    t->rows = NULL;
    t->n = 0;
}

const struct impact_zone *impact_zone_find(const struct impact_zone_table *t, const char *s)
{
    for (int i = 0; i < t->n; i++)
        if (strcasecmp(t->rows[i].zone, s) == 0 || strcasecmp(t->rows[i].name, s) == 0)
            return &t->rows[i];
    return NULL;
}

/* Edit distance, case-insensitive, on at most 63 characters of each word. */
static int distance(const char *a, const char *b)
{
    int la = (int)strlen(a), lb = (int)strlen(b);
    if (la > 63)
        la = 63;
    if (lb > 63)
        lb = 63;
    int prev[64], cur[64];
    for (int j = 0; j <= lb; j++)
        prev[j] = j;
    for (int i = 1; i <= la; i++) {
        cur[0] = i;
        for (int j = 1; j <= lb; j++) {
            int sub = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            int v = prev[j - 1] + sub;
            if (prev[j] + 1 < v)
                v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            cur[j] = v;
        }
        memcpy(prev, cur, sizeof prev);
    }
    return prev[lb];
}

int impact_zone_nearest(const struct impact_zone_table *t, const char *s,
                        const struct impact_zone **out, int n)
{
    int best[16];
    if (n > 16)
        n = 16;
    int k = 0;
    for (int i = 0; i < t->n; i++) {
        int d = distance(s, t->rows[i].zone), dn = distance(s, t->rows[i].name);
        if (dn < d)
            d = dn;
        /* Insertion into the n best so far; ties keep the table's order. */
        int pos = k;
        while (pos > 0 && best[pos - 1] > d)
            pos--;
        if (pos >= n)
            continue;
        int last = k < n ? k : n - 1;
        for (int m = last; m > pos; m--) {
            best[m] = best[m - 1];
            out[m] = out[m - 1];
        }
        best[pos] = d;
        out[pos] = &t->rows[i];
        if (k < n)
            k++;
    }
    return k;
}

int impact_grid_parse(const struct impact_zone_table *t, const char *s, struct impact_grid *g,
                      char *err, size_t len)
{
    memset(g, 0, sizeof *g);
    double x;
    if (s && (isdigit((unsigned char)*s) || *s == '-' || *s == '.' || *s == '+')) {
        if (impact_parse_number(s, &x) != 0 || x < 0 || x > IMPACT_INTENSITY_MAX_G_PER_KWH) {
            snprintf(err, len, "'%s' is not a carbon intensity in [0, %g] g/kWh", s,
                     IMPACT_INTENSITY_MAX_G_PER_KWH);
            return -1;
        }
        g->set = 1;
        g->g_per_kwh = x;
        return 0;
    }
    const struct impact_zone *z = s && t ? impact_zone_find(t, s) : NULL;
    if (!z) {
        const struct impact_zone *near[3];
        int k = t ? impact_zone_nearest(t, s ? s : "", near, 3) : 0;
        int w = snprintf(err, len, "unknown zone '%s'", s ? s : "");
        for (int i = 0; i < k && w > 0 && (size_t)w < len; i++)
            w += snprintf(err + w, len - (size_t)w, "%s%s (%s)",
                          i ? ", " : "; nearest: ", near[i]->zone, near[i]->name);
        if (w > 0 && (size_t)w < len)
            snprintf(err + w, len - (size_t)w, "; or give g/kWh as a number in [0, %g]",
                     IMPACT_INTENSITY_MAX_G_PER_KWH);
        return -1;
    }
    g->set = 1;
    g->zone = z;
    g->g_per_kwh = z->g_per_kwh;
    return 0;
}

int impact_check_pue(const char *s, double *out, char *err, size_t len)
{
    double x;
    if (impact_parse_number(s, &x) != 0 || x < 1.0 || x > IMPACT_PUE_MAX) {
        snprintf(err, len, "PUE '%s' is not a number in [1, %g] (facility energy / IT energy)", s,
                 IMPACT_PUE_MAX);
        return -1;
    }
    *out = x;
    return 0;
}

int impact_check_lifetime(const char *s, double *years, char *err, size_t len)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", s ? s : "");
    size_t n = strlen(buf);
    double scale = 1.0;
    if (n && (buf[n - 1] == 'y' || buf[n - 1] == 'h')) {
        scale = buf[n - 1] == 'h' ? 1.0 / 8760.0 : 1.0;
        buf[n - 1] = '\0';
    }
    double x;
    if (impact_parse_number(buf, &x) != 0 || !(x * scale > 0) ||
        x * scale > IMPACT_LIFETIME_MAX_Y) {
        snprintf(err, len,
                 "lifetime '%s' is not in (0, %g] years (a number of years, '3y', or hours "
                 "'26280h')",
                 s ? s : "", IMPACT_LIFETIME_MAX_Y);
        return -1;
    }
    *years = x * scale;
    return 0;
}

int impact_check_flops(const char *s, double *out, char *err, size_t len)
{
    double x;
    if (impact_parse_number(s, &x) != 0 || x < 0) {
        snprintf(err, len, "FLOP count '%s' is not a finite number >= 0 (e.g. 2e12)", s);
        return -1;
    }
    *out = x;
    return 0;
}
