/* SPDX-License-Identifier: MIT */
/* plot_svg.c - SVG line charts (see plot_svg.h). */
#include "io/plot_svg.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

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

/* Widen [lo, hi] to the reference lines and marks on the given axis. */
static void widen(const struct plot_chart *c, int right, double *lo, double *hi)
{
    for (int i = 0; i < c->n_hlines; i++)
        if (c->hlines[i].right_axis == right && isfinite(c->hlines[i].y)) {
            *lo = fmin(*lo, c->hlines[i].y);
            *hi = fmax(*hi, c->hlines[i].y);
        }
    for (int i = 0; i < c->n_marks; i++)
        if (c->marks[i].right_axis == right && isfinite(c->marks[i].y)) {
            *lo = fmin(*lo, c->marks[i].y);
            *hi = fmax(*hi, c->marks[i].y);
        }
}

static int in_legend(const struct plot_series *ps)
{
    return ps->name && ps->name[0] && !(ps->color && strcmp(ps->color, "none") == 0);
}

/* Width in pixels of a legend entry: the sample line and the text (12 px sans-serif averages
 * under 7 px a character). */
static double legend_entry_w(const struct plot_series *ps, int right)
{
    return 40 + 7.0 * (double)strlen(ps->name) + (right ? 7.0 * 13 : 0) + 16;
}

/* Rows the legend takes under a plot of width pw. */
static int legend_rows(const struct plot_chart *c, int has_y2, double pw)
{
    int rows = 0;
    double x = pw;
    for (int s = 0; s < c->n_series; s++) {
        if (!in_legend(&c->series[s]))
            continue;
        double ew = legend_entry_w(&c->series[s], c->series[s].right_axis && has_y2);
        if (x + ew > pw && x > 0) {
            rows++;
            x = 0;
        }
        x += ew;
    }
    return rows;
}

static void marker(FILE *f, int kind, double px, double py, const char *color, int hollow)
{
    const char *fill = hollow ? "white" : color;
    if (kind == 2)
        fprintf(f,
                "<rect class=\"pt\" data-xy=\"%.1f %.1f\" x=\"%.1f\" y=\"%.1f\" width=\"7\" "
                "height=\"7\" fill=\"%s\" stroke=\"%s\" stroke-width=\"1.5\"/>\n",
                px, py, px - 3.5, py - 3.5, fill, color);
    else if (kind == 3)
        fprintf(f,
                "<path class=\"pt\" data-xy=\"%.1f %.1f\" d=\"M%.1f %.1fl4.5 4.5l-4.5 4.5l-4.5 "
                "-4.5z\" fill=\"%s\" stroke=\"%s\" stroke-width=\"1.5\"/>\n",
                px, py, px, py - 4.5, fill, color);
    else
        fprintf(f,
                "<circle class=\"pt\" data-xy=\"%.1f %.1f\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\" "
                "fill=\"%s\" stroke=\"%s\" stroke-width=\"1.5\"/>\n",
                px, py, px, py, fill, color);
}

static const char *dash(const struct plot_series *ps)
{
    return ps->dashed ? " stroke-dasharray=\"6,4\"" : "";
}

/* The chart's geometry: margins, plot area and axes, fixed before anything is drawn. */
struct frame {
    const struct plot_chart *c;
    int w, h;       /* the whole chart */
    int ml, mr, mt; /* left, right and top margins */
    double pw, ph;  /* the plot area */
    int has_y2;     /* a right axis with data on it */
    int rows;       /* rows of the legend */
    struct axis ax, ay, ay2;
};

/* Pixel coordinates of a value on the x axis, and on a y axis. */
static double px_of(const struct frame *fr, double v)
{
    return fr->ml + (v - fr->ax.lo) / (fr->ax.hi - fr->ax.lo) * fr->pw;
}

static double py_of(const struct frame *fr, double v, const struct axis *a)
{
    return fr->mt + fr->ph - (v - a->lo) / (a->hi - a->lo) * fr->ph;
}

/* The y axis a series, line or mark on the right axis is drawn against. */
static const struct axis *axis_of(const struct frame *fr, int right_axis)
{
    return right_axis && fr->has_y2 ? &fr->ay2 : &fr->ay;
}

/* Widen the y ranges so that every error bar lies inside its axis. */
static void widen_errors(const struct plot_chart *c, int has_y2, double *ylo, double *yhi,
                         double *y2lo, double *y2hi)
{
    for (int s = 0; s < c->n_series; s++) {
        const struct plot_series *ps = &c->series[s];
        for (size_t i = 0; ps->y_err && i < ps->n; i++) {
            if (!isfinite(ps->y[i]) || !isfinite(ps->y_err[i]))
                continue;
            double *lo = ps->right_axis && has_y2 ? y2lo : ylo;
            double *hi = ps->right_axis && has_y2 ? y2hi : yhi;
            *lo = fmin(*lo, ps->y[i] - ps->y_err[i]);
            *hi = fmax(*hi, ps->y[i] + ps->y_err[i]);
        }
    }
}

/* The frame of chart c: 0, or -1 when there is nothing to plot. */
static int frame_layout(const struct plot_chart *c, struct frame *fr)
{
    double xlo, xhi, ylo, yhi, y2lo = 0, y2hi = 1;
    if (!c || c->n_series <= 0 || !range_of(c, 0, 1, &xlo, &xhi) || !range_of(c, 0, 0, &ylo, &yhi))
        return -1;
    fr->c = c;
    fr->has_y2 = c->y2_label && range_of(c, 1, 0, &y2lo, &y2hi);
    widen(c, 0, &ylo, &yhi);
    if (fr->has_y2)
        widen(c, 1, &y2lo, &y2hi);
    widen_errors(c, fr->has_y2, &ylo, &yhi, &y2lo, &y2hi);
    fr->w = c->width > 0 ? c->width : 960;
    fr->h = c->height > 0 ? c->height : 540;
    fr->ml = 80, fr->mr = fr->has_y2 ? 80 : 30, fr->mt = c->subtitle ? 70 : 50;
    fr->pw = fr->w - fr->ml - fr->mr;
    /* The legend goes under the plot, so that it never hides data: the plot gives up the
     * height of its rows. */
    fr->rows = legend_rows(c, fr->has_y2, fr->pw);
    int mb = 50 + 18 * fr->rows + (c->note ? 18 : 0);
    fr->ph = fr->h - fr->mt - mb;
    if (fr->ph < 60)
        fr->ph = 60;
    fr->ax = nice_axis(xlo, xhi);
    fr->ay = nice_axis(ylo, yhi);
    fr->ay2 = nice_axis(y2lo, y2hi);
    return 0;
}

/* The document's start: the canvas, the title, the subtitle and the SIMULATED label. */
static void write_head(FILE *f, const struct frame *fr)
{
    const struct plot_chart *c = fr->c;
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            fr->w, fr->h, fr->w, fr->h);
    fputs("<text x=\"", f);
    fprintf(f, "%d\" y=\"24\" font-size=\"16\" font-weight=\"bold\">", fr->ml);
    text(f, c->title);
    fputs("</text>\n", f);
    if (c->subtitle) {
        fprintf(f, "<text x=\"%d\" y=\"44\" fill=\"#444\">", fr->ml);
        text(f, c->subtitle);
        fputs("</text>\n", f);
    }
    if (c->simulated)
        fprintf(f,
                "<text x=\"%d\" y=\"24\" text-anchor=\"end\" font-size=\"16\" "
                "font-weight=\"bold\" fill=\"#c00000\">SIMULATED</text>\n",
                fr->w - fr->mr);
}

/* The grid, the ticks and their labels on every axis, and the plot's border. */
static void write_grid(FILE *f, const struct frame *fr)
{
    const struct axis *ax = &fr->ax, *ay = &fr->ay, *ay2 = &fr->ay2;
    char lab[64];
    for (double v = ax->lo; v <= ax->hi + ax->step * 1e-6; v += ax->step) {
        double px = px_of(fr, v);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>\n", px,
                fr->mt, px, fr->mt + fr->ph);
        tick_label(lab, sizeof lab, v, ax->step);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", px,
                fr->mt + fr->ph + 16, lab);
    }
    for (double v = ay->lo; v <= ay->hi + ay->step * 1e-6; v += ay->step) {
        double py = py_of(fr, v, ay);
        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>\n",
                fr->ml, py, fr->ml + fr->pw, py);
        tick_label(lab, sizeof lab, v, ay->step);
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", fr->ml - 6, py + 4,
                lab);
    }
    if (fr->has_y2)
        for (double v = ay2->lo; v <= ay2->hi + ay2->step * 1e-6; v += ay2->step) {
            tick_label(lab, sizeof lab, v, ay2->step);
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", fr->ml + fr->pw + 6,
                    py_of(fr, v, ay2) + 4, lab);
        }
    fprintf(f,
            "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
            "stroke=\"#333\"/>\n",
            fr->ml, fr->mt, fr->pw, fr->ph);
}

/* The axes' titles: x under the plot, y rotated on the left, y2 on the right. */
static void write_axis_labels(FILE *f, const struct frame *fr)
{
    const struct plot_chart *c = fr->c;
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", fr->ml + fr->pw / 2,
            fr->mt + fr->ph + 36);
    text(f, c->x_label);
    fprintf(f,
            "</text>\n<text transform=\"translate(18,%.1f) rotate(-90)\" "
            "text-anchor=\"middle\">",
            fr->mt + fr->ph / 2);
    text(f, c->y_label);
    fputs("</text>\n", f);
    if (fr->has_y2) {
        fprintf(f, "<text transform=\"translate(%d,%.1f) rotate(90)\" text-anchor=\"middle\">",
                fr->w - 14, fr->mt + fr->ph / 2);
        text(f, c->y2_label);
        fputs("</text>\n", f);
    }
}

/* The horizontal reference lines with their labels, drawn under the data. */
static void write_hlines(FILE *f, const struct frame *fr)
{
    const struct plot_chart *c = fr->c;
    for (int i = 0; i < c->n_hlines; i++) {
        const struct plot_hline *hl = &c->hlines[i];
        const char *color = hl->color ? hl->color : "#7f7f7f";
        double py = py_of(fr, hl->y, axis_of(fr, hl->right_axis));
        fprintf(f,
                "<line class=\"ref\" x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                "stroke-width=\"1.2\" stroke-dasharray=\"2,3\"/>\n"
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\" fill=\"%s\">",
                fr->ml, py, fr->ml + fr->pw, py, color, fr->ml + fr->pw - 4, py - 4, color);
        text(f, hl->label);
        fputs("</text>\n", f);
    }
}

/* A series' line: one polyline per run of finite points (a NaN breaks it). */
static void write_series_line(FILE *f, const struct frame *fr, const struct plot_series *ps,
                              const char *color)
{
    const struct axis *a = axis_of(fr, ps->right_axis);
    double lw = ps->line_width > 0 ? ps->line_width : 1.8;
    int open = 0;
    for (size_t i = 0; !ps->no_line && i < ps->n; i++) {
        if (!isfinite(ps->x[i]) || !isfinite(ps->y[i])) {
            if (open)
                fputs("\"/>\n", f);
            open = 0;
            continue;
        }
        if (!open)
            fprintf(f,
                    "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\"%s "
                    "stroke-linejoin=\"round\" points=\"",
                    color, lw, dash(ps));
        fprintf(f, "%.1f,%.1f ", px_of(fr, ps->x[i]), py_of(fr, ps->y[i], a));
        open = 1;
    }
    if (open)
        fputs("\"/>\n", f);
}

/* A series' error bars and markers, over the lines. */
static void write_series_points(FILE *f, const struct frame *fr, const struct plot_series *ps,
                                const char *color)
{
    const struct axis *a = axis_of(fr, ps->right_axis);
    for (size_t i = 0; i < ps->n; i++) {
        if (!isfinite(ps->x[i]) || !isfinite(ps->y[i]))
            continue;
        double px = px_of(fr, ps->x[i]), py = py_of(fr, ps->y[i], a);
        if (ps->y_err && isfinite(ps->y_err[i]) && ps->y_err[i] > 0) {
            double p1 = py_of(fr, ps->y[i] - ps->y_err[i], a);
            double p2 = py_of(fr, ps->y[i] + ps->y_err[i], a);
            fprintf(f,
                    "<path class=\"err\" d=\"M%.1f %.1fV%.1fM%.1f %.1fh8M%.1f %.1fh8\" "
                    "stroke=\"%s\" stroke-width=\"1.2\" fill=\"none\"/>\n",
                    px, p1, p2, px - 4, p1, px - 4, p2, color);
        }
        if (ps->marker)
            marker(f, ps->marker, px, py, color, ps->marker == 1);
    }
}

/* The annotated points, above everything plotted; a label that would leave the plot on the
 * right goes to the left of its ring. */
static void write_marks(FILE *f, const struct frame *fr)
{
    const struct plot_chart *c = fr->c;
    for (int i = 0; i < c->n_marks; i++) {
        const struct plot_mark *mk = &c->marks[i];
        const char *color = mk->color ? mk->color : "#000000";
        double px = px_of(fr, mk->x), py = py_of(fr, mk->y, axis_of(fr, mk->right_axis));
        double est_w = 6.8 * (double)strlen(mk->label ? mk->label : "");
        int left = px + 12 + est_w > fr->ml + fr->pw && px - 12 - est_w >= 0;
        fprintf(f,
                "<circle class=\"mark\" cx=\"%.1f\" cy=\"%.1f\" r=\"8\" fill=\"none\" "
                "stroke=\"%s\" stroke-width=\"2\"/>\n"
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"11\" "
                "font-weight=\"bold\" fill=\"%s\" stroke=\"white\" stroke-width=\"3\" "
                "paint-order=\"stroke\">",
                px, py, color, left ? px - 12 : px + 12, py - 10, left ? "end" : "start", color);
        text(f, mk->label);
        fputs("</text>\n", f);
    }
}

/* A legend entry's marker, centred on (x, y); it carries no "pt" class: it is not data. */
static void legend_marker(FILE *f, int kind, double x, double y, const char *color)
{
    fprintf(f, "<g transform=\"translate(%.1f %.1f)\">", x, y);
    switch (kind) {
    case 2:
        fprintf(f, "<rect x=\"-3.5\" y=\"-3.5\" width=\"7\" height=\"7\" fill=\"%s\"/>", color);
        break;
    case 3:
        fprintf(f, "<path d=\"M0 -4.5l4.5 4.5l-4.5 4.5l-4.5 -4.5z\" fill=\"%s\"/>", color);
        break;
    default:
        fprintf(f, "<circle r=\"4\" fill=\"%s\" stroke=\"%s\" stroke-width=\"1.5\"/>", "white",
                color);
    }
    fputs("</g>\n", f);
}

/* The legend, under the plot and its x label, in rows as legend_rows counts them. */
static void write_legend(FILE *f, const struct frame *fr)
{
    const struct plot_chart *c = fr->c;
    double ly0 = fr->mt + fr->ph + 46, lx = 0, ly = ly0;
    fprintf(f, "<g class=\"legend\" data-box=\"%d %.1f %.1f %d\">\n", fr->ml, ly0, fr->pw,
            18 * fr->rows);
    for (int s = 0; s < c->n_series; s++) {
        const struct plot_series *ps = &c->series[s];
        if (!in_legend(ps))
            continue;
        int right = ps->right_axis && fr->has_y2;
        double ew = legend_entry_w(ps, right);
        if (lx > 0 && lx + ew > fr->pw) {
            lx = 0;
            ly += 18;
        }
        const char *color = ps->color ? ps->color : palette[s % 8];
        double x0 = fr->ml + lx, yc = ly + 9;
        if (!ps->no_line)
            fprintf(f,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                    "stroke-width=\"%.1f\"%s/>\n",
                    x0 + 2, yc, x0 + 30, yc, color,
                    ps->line_width > 0 ? fmin(ps->line_width, 4.0) : 2.5, dash(ps));
        if (ps->marker)
            legend_marker(f, ps->marker, x0 + 16, yc, color);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", x0 + 36, yc + 4);
        text(f, ps->name);
        if (right)
            fputs(" (right axis)", f);
        fputs("</text>\n", f);
        lx += ew;
    }
    fputs("</g>\n", f);
}

int plot_svg_write(FILE *f, const struct plot_chart *c)
{
    struct frame fr;
    if (frame_layout(c, &fr) != 0)
        return -1;
    write_head(f, &fr);
    write_grid(f, &fr);
    write_axis_labels(f, &fr);
    write_hlines(f, &fr);
    /* series: lines, then error bars and markers on top */
    for (int s = 0; s < c->n_series; s++) {
        const struct plot_series *ps = &c->series[s];
        const char *color = ps->color ? ps->color : palette[s % 8];
        write_series_line(f, &fr, ps, color);
        write_series_points(f, &fr, ps, color);
    }
    write_marks(f, &fr);
    write_legend(f, &fr);
    if (c->note) {
        fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"#a05000\">", fr.ml, fr.h - 8);
        text(f, c->note);
        fputs("</text>\n", f);
    }
    fputs("</svg>\n", f);
    return ferror(f) ? -1 : 0;
}

static int ends_with_svg(const char *path)
{
    size_t n = strlen(path);
    return n >= 4 && strcasecmp(path + n - 4, ".svg") == 0;
}

int plot_svg_check_path(const char *path, char *err, size_t len)
{
    if (!path || strcmp(path, "-") == 0 || ends_with_svg(path))
        return 0;
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (!dot || dot <= base) /* no extension: the name says nothing else */
        return 0;
    snprintf(err, len,
             "%s: joules writes charts as SVG, not as '%s': name the file .svg "
             "(for a PNG: rsvg-convert -o chart.png chart.svg)",
             path, dot);
    return -1;
}

int plot_svg_save(const char *path, const struct plot_chart *c, char *err, size_t len)
{
    if (plot_svg_check_path(path, err, len) != 0)
        return -1;
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
