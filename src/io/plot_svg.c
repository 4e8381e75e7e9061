/* SPDX-License-Identifier: MIT */
/* plot_svg.c - SVG line charts (see plot_svg.h). */
#include "io/plot_svg.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "io/atomic.h"

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                      "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};

/* Text content with &, <, > and quotes escaped. */
static void text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

struct axis {
    double lo, hi, step;
};

/* Round the range out to "nice" ticks: 1, 2 or 5 times a power of ten, about 6 of them. */
static struct axis nice_axis(double lo, double hi)
{
    struct axis a;
    if (!(hi > lo)) {
        double pad = fabs(lo) > 0 ? fabs(lo) * 0.1 : 1;
        lo -= pad, hi += pad;
    }
    double raw = (hi - lo) / 6, mag = pow(10, floor(log10(raw))), r = raw / mag;
    a.step = (r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10) * mag;
    a.lo = floor(lo / a.step) * a.step;
    a.hi = ceil(hi / a.step) * a.step;
    return a;
}

static int range_of(const struct plot_chart *c, int right, int use_x, double *lo, double *hi)
{
    int any = 0;
    *lo = INFINITY, *hi = -INFINITY;
    for (int s = 0; s < c->n_series; s++) {
        const struct plot_series *ps = &c->series[s];
        if (!use_x && ps->right_axis != right)
            continue;
        for (size_t i = 0; i < ps->n; i++) {
            double v = use_x ? ps->x[i] : ps->y[i];
            if (!isfinite(v) || !isfinite(ps->y[i]))
                continue;
            *lo = v < *lo ? v : *lo;
            *hi = v > *hi ? v : *hi;
            any = 1;
        }
    }
    return any;
}

static void tick_label(char *buf, size_t len, double v, double step)
{
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (fabs(v) < step * 1e-9)
        v = 0;
    snprintf(buf, len, "%.*f", dec, v);
}

int plot_svg_write(FILE *f, const struct plot_chart *c)
{
    double xlo, xhi, ylo, yhi, y2lo = 0, y2hi = 1;
    if (!c || c->n_series <= 0 || !range_of(c, 0, 1, &xlo, &xhi) || !range_of(c, 0, 0, &ylo, &yhi))
        return -1;
    int has_y2 = c->y2_label && range_of(c, 1, 0, &y2lo, &y2hi);
    int w = c->width > 0 ? c->width : 960, h = c->height > 0 ? c->height : 540;
    int ml = 80, mr = has_y2 ? 80 : 30, mt = c->subtitle ? 70 : 50, mb = 60;
    double pw = w - ml - mr, ph = h - mt - mb;
    struct axis ax = nice_axis(xlo, xhi), ay = nice_axis(ylo, yhi), ay2 = nice_axis(y2lo, y2hi);
#define X(v)    (ml + ((v)-ax.lo) / (ax.hi - ax.lo) * pw)
#define Y(v, a) (mt + ph - ((v) - (a).lo) / ((a).hi - (a).lo) * ph)

    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            w, h, w, h);
    fputs("<text x=\"", f);
    fprintf(f, "%d\" y=\"24\" font-size=\"16\" font-weight=\"bold\">", ml);
    text(f, c->title);
    fputs("</text>\n", f);
    if (c->subtitle) {
        fprintf(f, "<text x=\"%d\" y=\"44\" fill=\"#444\">", ml);
        text(f, c->subtitle);
        fputs("</text>\n", f);
    }
    if (c->simulated)
        fprintf(f,
                "<text x=\"%d\" y=\"24\" text-anchor=\"end\" font-size=\"16\" "
                "font-weight=\"bold\" fill=\"#c00000\">SIMULATED</text>\n",
                w - mr);
    /* grid and ticks */
    char lab[64];
    for (double v = ax.lo; v <= ax.hi + ax.step * 1e-6; v += ax.step) {
        double px = X(v);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>\n", px,
                mt, px, mt + ph);
        tick_label(lab, sizeof lab, v, ax.step);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", px,
                mt + ph + 16, lab);
    }
    for (double v = ay.lo; v <= ay.hi + ay.step * 1e-6; v += ay.step) {
        double py = Y(v, ay);
        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>\n", ml,
                py, ml + pw, py);
        tick_label(lab, sizeof lab, v, ay.step);
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", ml - 6, py + 4,
                lab);
    }
    if (has_y2)
        for (double v = ay2.lo; v <= ay2.hi + ay2.step * 1e-6; v += ay2.step) {
            tick_label(lab, sizeof lab, v, ay2.step);
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", ml + pw + 6, Y(v, ay2) + 4, lab);
        }
    fprintf(f,
            "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
            "stroke=\"#333\"/>\n",
            ml, mt, pw, ph);
    /* axis labels */
    fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", ml + pw / 2, h - 16);
    text(f, c->x_label);
    fprintf(f,
            "</text>\n<text transform=\"translate(18,%.1f) rotate(-90)\" "
            "text-anchor=\"middle\">",
            mt + ph / 2);
    text(f, c->y_label);
    fputs("</text>\n", f);
    if (has_y2) {
        fprintf(f, "<text transform=\"translate(%d,%.1f) rotate(90)\" text-anchor=\"middle\">",
                w - 14, mt + ph / 2);
        text(f, c->y2_label);
        fputs("</text>\n", f);
    }
    /* series */
    for (int s = 0; s < c->n_series; s++) {
        const struct plot_series *ps = &c->series[s];
        const struct axis *a = ps->right_axis && has_y2 ? &ay2 : &ay;
        const char *color = ps->color ? ps->color : palette[s % 8];
        int open = 0;
        for (size_t i = 0; i < ps->n; i++) {
            if (!isfinite(ps->x[i]) || !isfinite(ps->y[i])) {
                if (open)
                    fputs("\"/>\n", f);
                open = 0;
                continue;
            }
            if (!open)
                fprintf(f,
                        "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\"%s "
                        "points=\"",
                        color, ps->dashed ? " stroke-dasharray=\"6,4\"" : "");
            fprintf(f, "%.1f,%.1f ", X(ps->x[i]), Y(ps->y[i], *a));
            open = 1;
        }
        if (open)
            fputs("\"/>\n", f);
        /* legend entry, top left inside the plot */
        double ly = mt + 14 + 18 * s;
        fprintf(f,
                "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\" "
                "stroke-width=\"2.5\"%s/>\n<text x=\"%d\" y=\"%.1f\">",
                ml + 10, ly - 4, ml + 34, ly - 4, color,
                ps->dashed ? " stroke-dasharray=\"6,4\"" : "", ml + 40, ly);
        text(f, ps->name);
        if (ps->right_axis && has_y2)
            fputs(" (right axis)", f);
        fputs("</text>\n", f);
    }
    fputs("</svg>\n", f);
#undef X
#undef Y
    return ferror(f) ? -1 : 0;
}

int plot_svg_save(const char *path, const struct plot_chart *c, char *err, size_t len)
{
    io_atomic a;
    if (io_atomic_open(&a, path, err, len) != 0)
        return -1;
    if (plot_svg_write(a.f, c) != 0) {
        snprintf(err, len, "%s: nothing to plot or write error", path);
        io_atomic_abort(&a);
        return -1;
    }
    return io_atomic_commit(&a, err, len);
}
