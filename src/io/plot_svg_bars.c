/* SPDX-License-Identifier: MIT */
/*
 * plot_svg_bars.c - SVG bar charts with interval whiskers (panels side by side, each with its
 * own axis from zero), and figures that stack a bar chart above a line chart in one file.
 * The line chart is rendered by plot_svg_write into memory and embedded as a nested <svg>
 * element, so plot_svg.c stays as it is.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/atomic.h"
#include "io/plot_svg.h"

static const char *const bar_palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                          "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};

static void esc(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '"')
            fputs("&quot;", f);
        else
            fputc(*s, f);
    }
}

/* A "nice" step (1, 2, 5 x 10^k) for about 5 ticks from 0 to hi. */
static double nice_step(double hi)
{
    if (!(hi > 0))
        return 1;
    double raw = hi / 5, mag = pow(10, floor(log10(raw))), r = raw / mag;
    return (r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10) * mag;
}

static void value_text(char *buf, size_t len, double v)
{
    double a = fabs(v);
    snprintf(buf, len, a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : a >= 1 ? "%.2f" : "%.3g", v);
}

/* The body of a bar chart (no XML declaration, no outer <svg>), in a w x h box. */
static int bars_body(FILE *f, const struct plot_bar_chart *c, int w, int h)
{
    int mt = c->subtitle ? 64 : 44, mb = c->note ? 58 : 40, gap = 48;
    int n = c->n_groups;
    double pw = (w - 20.0 - gap * n) / n, ph = h - mt - mb - 24;
    fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", w, h);
    fputs("<text x=\"20\" y=\"24\" font-size=\"16\" font-weight=\"bold\">", f);
    esc(f, c->title);
    fputs("</text>\n", f);
    if (c->subtitle) {
        fputs("<text x=\"20\" y=\"44\" fill=\"#444\">", f);
        esc(f, c->subtitle);
        fputs("</text>\n", f);
    }
    if (c->simulated)
        fprintf(f,
                "<text x=\"%d\" y=\"24\" text-anchor=\"end\" font-size=\"16\" "
                "font-weight=\"bold\" fill=\"#c00000\">SIMULATED</text>\n",
                w - 20);
    for (int g = 0; g < n; g++) {
        const struct plot_bar_group *gr = &c->groups[g];
        double x0 = gap + g * (pw + gap), y0 = mt + 24, hi = 0;
        for (int b = 0; b < gr->n_bars; b++) {
            const struct plot_bar *br = &gr->bars[b];
            if (isfinite(br->value) && br->value > hi)
                hi = br->value;
            if (isfinite(br->hi) && br->hi > hi)
                hi = br->hi;
        }
        double step = nice_step(hi), top = hi > 0 ? ceil(hi / step) * step : 1;
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" font-weight=\"bold\">",
                x0 + pw / 2, mt + 12);
        esc(f, gr->title);
        fputs("</text>\n", f);
        for (double v = 0; v <= top + step * 1e-6; v += step) {
            double py = y0 + ph - v / top * ph;
            char lab[32];
            int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
            snprintf(lab, sizeof lab, "%.*f", dec, v);
            fprintf(f,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>\n"
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"10\">%s</text>\n",
                    x0, py, x0 + pw, py, x0 - 3, py + 3, lab);
        }
        fprintf(f,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
                "stroke=\"#333\"/>\n",
                x0, y0, pw, ph);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#444\">", x0 + pw / 2,
                y0 + ph + 34);
        esc(f, gr->y_label);
        fputs("</text>\n", f);
        double slot = pw / (gr->n_bars > 0 ? gr->n_bars : 1), bw = slot * 0.6;
        for (int b = 0; b < gr->n_bars; b++) {
            const struct plot_bar *br = &gr->bars[b];
            const char *col = br->color ? br->color : bar_palette[b % 8];
            double cx = x0 + slot * (b + 0.5);
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", cx, y0 + ph + 16);
            esc(f, br->label);
            fputs("</text>\n", f);
            if (!isfinite(br->value)) {
                fprintf(f,
                        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#888\">n/a"
                        "</text>\n",
                        cx, y0 + ph - 6);
                continue;
            }
            double v = br->value < 0 ? 0 : br->value, py = y0 + ph - v / top * ph;
            char lab[32];
            value_text(lab, sizeof lab, br->value);
            fprintf(f,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
                    "fill-opacity=\"0.8\"/>\n",
                    cx - bw / 2, py, bw, y0 + ph - py, col);
            double ty = py - 4;
            if (isfinite(br->lo) && isfinite(br->hi)) {
                double plo = y0 + ph - br->lo / top * ph, phi = y0 + ph - br->hi / top * ph;
                fprintf(f,
                        "<path d=\"M%.1f %.1fV%.1fM%.1f %.1fH%.1fM%.1f %.1fH%.1f\" "
                        "stroke=\"#111\" stroke-width=\"1.5\" fill=\"none\"/>\n",
                        cx, plo, phi, cx - bw / 4, plo, cx + bw / 4, cx - bw / 4, phi, cx + bw / 4);
                ty = phi - 4 < ty ? phi - 4 : ty;
            }
            fprintf(f,
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\">%s"
                    "</text>\n",
                    cx, ty, lab);
        }
    }
    if (c->note) {
        fprintf(f, "<text x=\"20\" y=\"%d\" fill=\"#444\" font-size=\"11\">", h - 10);
        esc(f, c->note);
        fputs("</text>\n", f);
    }
    return ferror(f) ? -1 : 0;
}

int plot_svg_bars_write(FILE *f, const struct plot_bar_chart *c)
{
    if (!c || c->n_groups <= 0)
        return -1;
    int w = c->width > 0 ? c->width : 960, h = c->height > 0 ? c->height : 360;
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
            w, h, w, h);
    if (bars_body(f, c, w, h) != 0)
        return -1;
    fputs("</svg>\n", f);
    return ferror(f) ? -1 : 0;
}

/* The line chart as a nested <svg> element at y offset: rendered, then its XML declaration
 * dropped and its root placed. */
static int embed_lines(FILE *f, const struct plot_chart *lines, int y)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&buf, &n);
    if (!m)
        return -1;
    int rc = plot_svg_write(m, lines);
    if (fclose(m) != 0)
        rc = -1;
    const char *root = rc == 0 && buf ? strstr(buf, "<svg ") : NULL;
    if (!root) {
        free(buf);
        return -1;
    }
    fprintf(f, "<svg x=\"0\" y=\"%d\" ", y);
    fputs(root + 5, f);
    free(buf);
    return ferror(f) ? -1 : 0;
}

int plot_svg_figure_save(const char *path, const struct plot_bar_chart *bars,
                         const struct plot_chart *lines, char *err, size_t len)
{
    if ((!bars || bars->n_groups <= 0) && !lines) {
        snprintf(err, len, "%s: nothing to plot", path);
        return -1;
    }
    int has_bars = bars && bars->n_groups > 0;
    int wb = has_bars ? (bars->width > 0 ? bars->width : 960) : 0;
    int hb = has_bars ? (bars->height > 0 ? bars->height : 360) : 0;
    int wl = lines ? (lines->width > 0 ? lines->width : 960) : 0;
    int hl = lines ? (lines->height > 0 ? lines->height : 540) : 0;
    int w = wb > wl ? wb : wl, h = hb + hl;
    io_atomic a;
    if (io_atomic_open(&a, path, err, len) != 0)
        return -1;
    fprintf(a.f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            w, h, w, h);
    int rc = 0;
    if (has_bars) {
        fputs("<g>\n", a.f);
        rc = bars_body(a.f, bars, wb, hb);
        fputs("</g>\n", a.f);
    }
    if (rc == 0 && lines)
        rc = embed_lines(a.f, lines, hb);
    fputs("</svg>\n", a.f);
    if (rc != 0 || ferror(a.f)) {
        snprintf(err, len, "%s: nothing to plot or write error", path);
        io_atomic_abort(&a);
        return -1;
    }
    return io_atomic_commit(&a, err, len);
}
