/* SPDX-License-Identifier: MIT */
/*
 * cli_impact_info.c - `joules info`'s part of the impact work: the anatomy of a GPU as the
 * shipped table describes it (chip, SMs and cores, memory, L2, TDP and limits, clocks,
 * peaks, release year, embodied emissions), each line with its sources, and the site values
 * in force with where each came from.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli_impact.h"

/* "%g" of a figure or "?" when unknown ("-": the source lists none). */
static const char *fig(char *buf, size_t len, const struct impact_hw *h, int f, const char *unit)
{
    if (!h->text[f][0])
        snprintf(buf, len, "?");
    else if (strcmp(h->text[f], "-") == 0)
        snprintf(buf, len, "none");
    else
        snprintf(buf, len, "%s%s", h->text[f], unit);
    return buf;
}

/* The distinct source keys of some fields, or "no source: unknown". */
static void srcs(char *buf, size_t len, const struct impact_hw *h, const int *f, int n)
{
    buf[0] = '\0';
    size_t used = 0;
    for (int i = 0; i < n; i++) {
        char copy[IMPACT_SRC_MAX];
        snprintf(copy, sizeof copy, "%s", h->src[f[i]]);
        char *save = NULL;
        for (char *k = strtok_r(copy, " ", &save); k; k = strtok_r(NULL, " ", &save)) {
            char pad[32];
            snprintf(pad, sizeof pad, " %s ", k);
            char have[300];
            snprintf(have, sizeof have, " %s ", buf);
            if (strstr(have, pad))
                continue;
            int w = snprintf(buf + used, len - used, "%s%s", used ? " " : "", k);
            if (w > 0 && (size_t)w < len - used)
                used += (size_t)w;
        }
    }
    if (!used)
        snprintf(buf, len, "unknown to joules");
}

void cli_impact_info_gpu(FILE *out, const struct cli_impact *ci, const char *gpu_name)
{
    const struct impact_hw *h = cli_impact_find_hw(ci, gpu_name);
    if (!h) {
        fprintf(out, "  Anatomy         not in joules' hardware table (%s/hardware.tsv)\n",
                ci->data_dir);
        return;
    }
    char a[64], b[64], c[64], d[64], e[64], f[64], s[256];
    fprintf(out, "  Anatomy         %s (hardware.tsv line %d; [sources]: hardware-sources.tsv)\n",
            h->model, h->line);
    static const int chip[] = {IMPACT_F_ARCH, IMPACT_F_PROCESS, IMPACT_F_TRANSISTORS_B,
                               IMPACT_F_DIE_MM2};
    srcs(s, sizeof s, h, chip, 4);
    fprintf(out, "    chip          %s, %s, %s transistors, die %s  [%s]\n",
            fig(a, sizeof a, h, IMPACT_F_ARCH, ""), fig(b, sizeof b, h, IMPACT_F_PROCESS, ""),
            fig(c, sizeof c, h, IMPACT_F_TRANSISTORS_B, " B"),
            fig(d, sizeof d, h, IMPACT_F_DIE_MM2, " mm2"), s);
    static const int cores[] = {IMPACT_F_SMS, IMPACT_F_CUDA_CORES, IMPACT_F_TENSOR_CORES};
    srcs(s, sizeof s, h, cores, 3);
    /* AMD rows keep compute units, stream processors and matrix cores in the same columns. */
    int amd = strcmp(h->vendor, "AMD") == 0;
    fprintf(out, "    compute       %s %s, %s %s, %s %s  [%s]\n",
            fig(a, sizeof a, h, IMPACT_F_SMS, ""), amd ? "CUs" : "SMs",
            fig(b, sizeof b, h, IMPACT_F_CUDA_CORES, ""), amd ? "stream processors" : "CUDA cores",
            fig(c, sizeof c, h, IMPACT_F_TENSOR_CORES, ""), amd ? "matrix cores" : "tensor cores",
            s);
    static const int mem[] = {IMPACT_F_MEM_TYPE, IMPACT_F_MEM_GB, IMPACT_F_MEM_BW_GBS,
                              IMPACT_F_L2_MB};
    srcs(s, sizeof s, h, mem, 4);
    fprintf(out, "    memory        %s %s, %s; L2 %s  [%s]\n",
            fig(a, sizeof a, h, IMPACT_F_MEM_TYPE, ""), fig(b, sizeof b, h, IMPACT_F_MEM_GB, " GB"),
            fig(c, sizeof c, h, IMPACT_F_MEM_BW_GBS, " GB/s"),
            fig(d, sizeof d, h, IMPACT_F_L2_MB, " MB"), s);
    static const int pw[] = {IMPACT_F_TDP_W, IMPACT_F_POWER_MIN_W, IMPACT_F_POWER_MAX_W};
    srcs(s, sizeof s, h, pw, 3);
    fprintf(out, "    power         TDP %s, limits %s .. %s  [%s]\n",
            fig(a, sizeof a, h, IMPACT_F_TDP_W, " W"),
            fig(b, sizeof b, h, IMPACT_F_POWER_MIN_W, " W"),
            fig(c, sizeof c, h, IMPACT_F_POWER_MAX_W, " W"), s);
    static const int clk[] = {IMPACT_F_CLOCK_BASE_MHZ, IMPACT_F_CLOCK_MAX_MHZ};
    srcs(s, sizeof s, h, clk, 2);
    fprintf(out, "    clocks        base %s, max %s  [%s]\n",
            fig(a, sizeof a, h, IMPACT_F_CLOCK_BASE_MHZ, " MHz"),
            fig(b, sizeof b, h, IMPACT_F_CLOCK_MAX_MHZ, " MHz"), s);
    static const int pk[] = {IMPACT_F_FP64, IMPACT_F_FP32, IMPACT_F_TF32,
                             IMPACT_F_FP16, IMPACT_F_FP8,  IMPACT_F_INT8};
    srcs(s, sizeof s, h, pk, 6);
    fprintf(out,
            "    peak dense    FP64 %s, FP32 %s, TF32 %s, FP16 %s, FP8 %s TFLOP/s; INT8 %s TOP/s  "
            "[%s]\n",
            fig(a, sizeof a, h, IMPACT_F_FP64, ""), fig(b, sizeof b, h, IMPACT_F_FP32, ""),
            fig(c, sizeof c, h, IMPACT_F_TF32, ""), fig(d, sizeof d, h, IMPACT_F_FP16, ""),
            fig(e, sizeof e, h, IMPACT_F_FP8, ""), fig(f, sizeof f, h, IMPACT_F_INT8, ""), s);
    fprintf(out, "    peak / TDP   ");
    for (int p = 0; p < IMPACT_N_PRECISIONS; p++) {
        double v = impact_peak_flop_per_j(h, p);
        if (!isnan(v))
            fprintf(out, " %s %.3g %s", impact_precision_name(p), v / 1e9,
                    p == IMPACT_INT8 ? "GOP/J" : "GFLOP/J");
    }
    fputc('\n', out);
    static const int yr[] = {IMPACT_F_YEAR};
    srcs(s, sizeof s, h, yr, 1);
    fprintf(out, "    released      %s  [%s]\n", fig(a, sizeof a, h, IMPACT_F_YEAR, ""), s);
    static const int emb[] = {IMPACT_F_EMBODIED_LOW_KG, IMPACT_F_EMBODIED_HIGH_KG};
    srcs(s, sizeof s, h, emb, 2);
    if (h->text[IMPACT_F_EMBODIED_LOW_KG][0])
        fprintf(out, "    embodied      %s .. %s kgCO2e per card  [%s]\n",
                h->text[IMPACT_F_EMBODIED_LOW_KG], h->text[IMPACT_F_EMBODIED_HIGH_KG], s);
    else
        fprintf(out, "    embodied      unknown (no published figure found for this model)\n");
}

void cli_impact_info_site(FILE *out, const struct cli_impact *ci)
{
    fprintf(out, "\nSite values for CO2e (docs/impact.md):\n");
    const struct impact_site *s = &ci->site;
    if (ci->grid.zone)
        fprintf(out, "  grid      %s: %s, %g g/kWh (%d, %s)   from %s\n", ci->grid.zone->zone,
                ci->grid.zone->name, ci->grid.zone->g_per_kwh, ci->grid.zone->year,
                ci->grid.zone->source, s->grid.where);
    else if (ci->grid.set)
        fprintf(out, "  grid      %g g/kWh   from %s\n", ci->grid.g_per_kwh, s->grid.where);
    else
        fprintf(out, "  grid      none: energy only (the location is never guessed)\n");
    fprintf(out, "  pue       %g   from %s\n", ci->pue, s->pue.where);
    fprintf(out, "  lifetime  %g years   from %s\n", ci->lifetime_y, s->lifetime.where);
    fprintf(out, "  config    %s%s\n", s->config_path[0] ? s->config_path : "(no HOME)",
            s->config_found ? "" : " (not present)");
    fprintf(out, "  tables    %s/{hardware,hardware-sources,carbon-intensity}.tsv\n", ci->data_dir);
}

void cli_impact_json_gpu(io_json *j, const struct cli_impact *ci, const char *gpu_name)
{
    const struct impact_hw *h = cli_impact_find_hw(ci, gpu_name);
    if (!h) {
        io_json_null(j);
        return;
    }
    io_json_object_begin(j);
    io_json_kv_string(j, "key", h->key);
    io_json_kv_string(j, "model", h->model);
    io_json_kv_string(j, "vendor", h->vendor);
    for (int f = 0; f < IMPACT_N_FIELDS; f++) {
        const char *col = impact_field_column(f);
        io_json_key(j, col);
        io_json_object_begin(j);
        if (!h->text[f][0] || strcmp(h->text[f], "-") == 0)
            io_json_kv_null(j, "value");
        else if (!isnan(h->num[f]))
            io_json_kv_number(j, "value", h->num[f]);
        else
            io_json_kv_string(j, "value", h->text[f]);
        io_json_kv_bool(j, "none", strcmp(h->text[f], "-") == 0);
        io_json_kv_string(j, "source", h->src[f][0] ? h->src[f] : NULL);
        io_json_object_end(j);
    }
    io_json_key(j, "peak_gflop_per_j");
    io_json_object_begin(j);
    for (int p = 0; p < IMPACT_N_PRECISIONS; p++)
        io_json_kv_number(j, impact_precision_name(p), impact_peak_flop_per_j(h, p) / 1e9);
    io_json_object_end(j);
    io_json_object_end(j);
}
