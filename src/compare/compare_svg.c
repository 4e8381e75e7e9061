/* SPDX-License-Identifier: MIT */
/*
 * compare_svg.c - the figure of `joules compare`: one panel per quantity (energy, time,
 * average power, energy-delay product), a bar per command at its median with the interval
 * as a whisker, and every run as a point over its bar, so a reader sees the spread and any
 * run that stands out, not only the summary.
 */
#include <math.h>
#include <stdlib.h>

#include "compare/compare.h"
#include "io/plot_svg.h"

int cmp_output_svg(const char *path, const struct cmp_output *rep, char *err, size_t len)
{
    static const int qs[4] = {CMP_Q_ENERGY, CMP_Q_TIME, CMP_Q_POWER, CMP_Q_EDP};
    static const char *const titles[4] = {"energy per run", "time per run", "average power",
                                          "energy x time (EDP)"};
    static const char *const units[4] = {"J", "s", "W", "J s"};
    const struct cmp_result *r = rep->r;
    int nc = r->n_cmds;
    struct plot_bar bars[4][CMP_MAX_CMDS];
    struct plot_bar_points pts[4][CMP_MAX_CMDS];
    const struct plot_bar_points *pp[4];
    struct plot_bar_group groups[4];
    double *vals = malloc((size_t)(r->n_runs > 0 ? r->n_runs : 1) * 4 * sizeof *vals);
    if (!vals) {
        snprintf(err, len, "out of memory");
        return -1;
    }
    double *next = vals;
    for (int g = 0; g < 4; g++) {
        for (int k = 0; k < nc; k++) {
            const struct ab_interval *iv = &rep->s->q[k][qs[g]];
            bars[g][k] = (struct plot_bar){rep->names[k], iv->median, iv->lo, iv->hi, NULL};
            pts[g][k].y = next;
            pts[g][k].n = 0;
            for (int i = 0; i < r->n_runs; i++)
                if (r->runs[i].cmd == k)
                    next[pts[g][k].n++] = cmp_run_value(&r->runs[i], qs[g]);
            next += pts[g][k].n;
        }
        pp[g] = pts[g];
        groups[g] = (struct plot_bar_group){titles[g], units[g], bars[g], nc};
    }
    char title[256], sub[600] = "", note[200];
    snprintf(title, sizeof title, "joules compare: %d command(s), %d round(s)", nc, r->rounds_done);
    size_t used = 0;
    for (int k = 1; k < nc && used < sizeof sub; k++) {
        const struct ab_interval *e = &rep->s->ratio[k][CMP_Q_ENERGY];
        int w = snprintf(sub + used, sizeof sub - used, "%senergy %s/%s %.3f [%.3f, %.3f]",
                         used ? "; " : "", rep->names[k], rep->names[0], e->median, e->lo, e->hi);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    snprintf(note, sizeof note,
             "bars: medians; whiskers: %.0f %% confidence intervals; points: every run",
             100 * rep->s->level);
    struct plot_bar_chart bc = {title, sub[0] ? sub : NULL, 960, 380, rep->simulated, note, groups,
                                4};
    int rc = plot_svg_bars_save(path, &bc, pp, err, len);
    free(vals);
    return rc;
}
