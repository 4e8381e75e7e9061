/* SPDX-License-Identifier: MIT */
/*
 * hw_table.c - the hardware facts table (data/hardware.tsv) and its sources
 * (data/hardware-sources.tsv): parsing with messages that name the file and line, and the
 * look-ups by PCI id and by name.
 *
 * Every figure column X has a column X_src: a figure without a source is refused, so no
 * number enters a report without a citation behind it. An empty cell is "not known"; "-" is
 * "the source lists no such unit" (an A100 has no FP8 tensor rate); both read as NAN.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "impact/impact.h"
#include "impact/tsv.h"

static const struct {
    const char *column;
    int is_text;
} fields[IMPACT_N_FIELDS] = {
    [IMPACT_F_NVML_NAMES] = {"nvml_names", 1},
    [IMPACT_F_PCI_IDS] = {"pci_ids", 1},
    [IMPACT_F_ARCH] = {"arch", 1},
    [IMPACT_F_PROCESS] = {"process", 1},
    [IMPACT_F_TRANSISTORS_B] = {"transistors_b", 0},
    [IMPACT_F_DIE_MM2] = {"die_mm2", 0},
    [IMPACT_F_SMS] = {"sms", 0},
    [IMPACT_F_CUDA_CORES] = {"cuda_cores", 0},
    [IMPACT_F_TENSOR_CORES] = {"tensor_cores", 0},
    [IMPACT_F_MEM_TYPE] = {"mem_type", 1},
    [IMPACT_F_MEM_GB] = {"mem_gb", 0},
    [IMPACT_F_MEM_BW_GBS] = {"mem_bw_gbs", 0},
    [IMPACT_F_L2_MB] = {"l2_mb", 0},
    [IMPACT_F_TDP_W] = {"tdp_w", 0},
    [IMPACT_F_POWER_MIN_W] = {"power_min_w", 0},
    [IMPACT_F_POWER_MAX_W] = {"power_max_w", 0},
    [IMPACT_F_CLOCK_BASE_MHZ] = {"clock_base_mhz", 0},
    [IMPACT_F_CLOCK_MAX_MHZ] = {"clock_max_mhz", 0},
    [IMPACT_F_FP64] = {"fp64_tflops", 0},
    [IMPACT_F_FP32] = {"fp32_tflops", 0},
    [IMPACT_F_TF32] = {"tf32_tflops", 0},
    [IMPACT_F_FP16] = {"fp16_tflops", 0},
    [IMPACT_F_FP8] = {"fp8_tflops", 0},
    [IMPACT_F_INT8] = {"int8_tops", 0},
    [IMPACT_F_YEAR] = {"year", 0},
    [IMPACT_F_EMBODIED_LOW_KG] = {"embodied_low_kg", 0},
    [IMPACT_F_EMBODIED_HIGH_KG] = {"embodied_high_kg", 0},
};

const char *impact_field_column(int f)
{
    return f >= 0 && f < IMPACT_N_FIELDS ? fields[f].column : "?";
}

static const char *const precision_names[IMPACT_N_PRECISIONS] = {"fp64", "fp32", "tf32",
                                                                 "fp16", "fp8",  "int8"};

const char *impact_precision_name(int p)
{
    return p >= 0 && p < IMPACT_N_PRECISIONS ? precision_names[p] : "?";
}

int impact_precision_parse(const char *s)
{
    if (!s)
        return -1;
    if (strcasecmp(s, "bf16") == 0)
        return IMPACT_FP16;
    for (int p = 0; p < IMPACT_N_PRECISIONS; p++)
        if (strcasecmp(s, precision_names[p]) == 0)
            return p;
    return -1;
}

#define MAX_COLS (3 + 2 * IMPACT_N_FIELDS)

static int fail(char *err, size_t len, const char *path, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int fail(char *err, size_t len, const char *path, int line, const char *fmt, ...)
{
    char msg[IMPACT_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line > 0)
        snprintf(err, len, "%s:%d: %s", path, line, msg);
    else
        snprintf(err, len, "%s: %s", path, msg);
    return -1;
}

static int load_sources(struct impact_hw_table *t, const char *path, char *err, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fail(err, len, path, 0, "cannot read the sources table: %s", strerror(errno));
        return IMPACT_ERR_IO;
    }
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, header = 0, rc = 0, alloc = 0;
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        if (impact_tsv_skip(line))
            continue;
        char *c[4];
        int n = impact_tsv_split(line, c, 4);
        if (!header) {
            if (n != 2 || strcmp(c[0], "key") != 0 || strcmp(c[1], "source") != 0) {
                rc = fail(err, len, path, lineno, "the header must be 'key<TAB>source'");
                break;
            }
            header = 1;
            continue;
        }
        if (n != 2 || !*c[0] || !*c[1] || strlen(c[0]) >= sizeof t->sources->key) {
            rc = fail(err, len, path, lineno, "expected a key and its citation, tab-separated");
            break;
        }
        if (t->n_sources == alloc) {
            alloc = alloc ? 2 * alloc : 32;
            void *p = realloc(t->sources, (size_t)alloc * sizeof *t->sources);
            if (!p) {
                rc = fail(err, len, path, lineno, "out of memory");
                break;
            }
            t->sources = p;
        }
        struct impact_source *s = &t->sources[t->n_sources++];
        snprintf(s->key, sizeof s->key, "%s", c[0]);
        snprintf(s->text, sizeof s->text, "%s", c[1]);
    }
    free(line);
    fclose(f);
    if (rc == 0 && !header)
        rc = fail(err, len, path, lineno, "no header line (key<TAB>source)");
    return rc;
}

const char *impact_source_text(const struct impact_hw_table *t, const char *key)
{
    for (int i = 0; i < t->n_sources; i++)
        if (strcmp(t->sources[i].key, key) == 0)
            return t->sources[i].text;
    return NULL;
}

/* Each space-separated key of a _src cell must be in the sources table. */
static int check_sources(const struct impact_hw_table *t, const char *cell, char *bad, size_t len)
{
    char buf[IMPACT_SRC_MAX];
    snprintf(buf, sizeof buf, "%s", cell);
    char *save = NULL;
    for (char *k = strtok_r(buf, " ", &save); k; k = strtok_r(NULL, " ", &save))
        if (!impact_source_text(t, k)) {
            snprintf(bad, len, "%s", k);
            return -1;
        }
    return 0;
}

static int parse_pci_ids(struct impact_hw *r, const char *cell)
{
    char buf[IMPACT_TEXT_MAX];
    snprintf(buf, sizeof buf, "%s", cell);
    char *save = NULL;
    r->n_pci = 0;
    for (char *k = strtok_r(buf, "|", &save); k; k = strtok_r(NULL, "|", &save)) {
        char *end;
        if (strncmp(k, "0x", 2) != 0 && strncmp(k, "0X", 2) != 0)
            return -1;
        unsigned long v = strtoul(k, &end, 16);
        if (*end || end == k + 2 || v > 0xFFFFFFFFul || r->n_pci >= 4)
            return -1;
        r->pci_ids[r->n_pci++] = (uint32_t)v;
    }
    return 0;
}

/* The column of each field and of its source, from the header. */
struct layout {
    int key, model, vendor, val[IMPACT_N_FIELDS], src[IMPACT_N_FIELDS], n;
};

static int read_header(struct layout *L, char **c, int n, const char *path, int lineno, char *err,
                       size_t len)
{
    if (n > MAX_COLS)
        return fail(err, len, path, lineno, "the header has %d columns, more than the %d known", n,
                    MAX_COLS);
    L->key = L->model = L->vendor = -1;
    for (int f = 0; f < IMPACT_N_FIELDS; f++)
        L->val[f] = L->src[f] = -1;
    L->n = n;
    for (int i = 0; i < n; i++) {
        int known = 0;
        if (strcmp(c[i], "key") == 0)
            L->key = i, known = 1;
        else if (strcmp(c[i], "model") == 0)
            L->model = i, known = 1;
        else if (strcmp(c[i], "vendor") == 0)
            L->vendor = i, known = 1;
        for (int f = 0; f < IMPACT_N_FIELDS && !known; f++) {
            size_t cl = strlen(fields[f].column);
            if (strcmp(c[i], fields[f].column) == 0)
                L->val[f] = i, known = 1;
            else if (strncmp(c[i], fields[f].column, cl) == 0 && strcmp(c[i] + cl, "_src") == 0)
                L->src[f] = i, known = 1;
        }
        if (!known)
            return fail(err, len, path, lineno, "unknown column '%s'", c[i]);
    }
    if (L->key < 0 || L->model < 0 || L->vendor < 0)
        return fail(err, len, path, lineno, "the header needs the columns key, model and vendor");
    for (int f = 0; f < IMPACT_N_FIELDS; f++) {
        if (L->val[f] < 0)
            return fail(err, len, path, lineno, "missing column '%s'", fields[f].column);
        if (L->src[f] < 0)
            return fail(err, len, path, lineno,
                        "missing column '%s_src' (every figure has a source)", fields[f].column);
    }
    return 0;
}

static int read_row(struct impact_hw_table *t, const struct layout *L, struct impact_hw *r,
                    char **c, int n, const char *path, int lineno, char *err, size_t len)
{
    memset(r, 0, sizeof *r);
    r->line = lineno;
    if (n != L->n)
        return fail(err, len, path, lineno, "%d fields, the header has %d", n, L->n);
    if (!*c[L->key] || strlen(c[L->key]) >= sizeof r->key)
        return fail(err, len, path, lineno, "the key is empty or longer than %zu characters",
                    sizeof r->key - 1);
    snprintf(r->key, sizeof r->key, "%s", c[L->key]);
    snprintf(r->model, sizeof r->model, "%s", c[L->model]);
    snprintf(r->vendor, sizeof r->vendor, "%s", c[L->vendor]);
    for (int i = 0; i < t->n; i++)
        if (strcmp(t->rows[i].key, r->key) == 0)
            return fail(err, len, path, lineno, "key '%s' already on line %d", r->key,
                        t->rows[i].line);
    for (int f = 0; f < IMPACT_N_FIELDS; f++) {
        const char *v = c[L->val[f]], *s = c[L->src[f]], *col = fields[f].column;
        if (strlen(v) >= IMPACT_TEXT_MAX || strlen(s) >= IMPACT_SRC_MAX)
            return fail(err, len, path, lineno, "%s: the cell is too long", col);
        snprintf(r->text[f], sizeof r->text[f], "%s", v);
        snprintf(r->src[f], sizeof r->src[f], "%s", s);
        r->num[f] = NAN;
        if (*v && !*s)
            return fail(err, len, path, lineno, "%s '%s' has no source (%s_src is empty)", col, v,
                        col);
        if (!*v && *s)
            return fail(err, len, path, lineno, "%s_src '%s' cites a source for an empty %s", col,
                        s, col);
        char bad[IMPACT_SRC_MAX];
        if (*s && t->n_sources && check_sources(t, s, bad, sizeof bad) != 0)
            return fail(err, len, path, lineno, "%s_src: source '%s' is not in the sources table",
                        col, bad);
        if (!*v || strcmp(v, "-") == 0 || fields[f].is_text)
            continue;
        double x;
        if (impact_parse_number(v, &x) != 0 || x < 0)
            return fail(err, len, path, lineno, "%s: '%s' is not a number >= 0", col, v);
        r->num[f] = x;
    }
    if (*r->text[IMPACT_F_PCI_IDS] && parse_pci_ids(r, r->text[IMPACT_F_PCI_IDS]) != 0)
        return fail(err, len, path, lineno,
                    "pci_ids: '%s' is not a '|'-separated list of at most 4 hex ids (0x20B010DE)",
                    r->text[IMPACT_F_PCI_IDS]);
    double lo = r->num[IMPACT_F_EMBODIED_LOW_KG], hi = r->num[IMPACT_F_EMBODIED_HIGH_KG];
    if (isnan(lo) != isnan(hi) || (!isnan(lo) && lo > hi))
        return fail(err, len, path, lineno,
                    "embodied_low_kg and embodied_high_kg: both or neither, low <= high");
    return 0;
}

int impact_hw_load(struct impact_hw_table *t, const char *path, const char *sources_path, char *err,
                   size_t len)
{
    memset(t, 0, sizeof *t);
    snprintf(t->path, sizeof t->path, "%s", path);
    int src_rc = sources_path ? load_sources(t, sources_path, err, len) : 0;
    if (src_rc != 0) {
        impact_hw_free(t);
        return src_rc;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        fail(err, len, path, 0, "cannot read the hardware table: %s", strerror(errno));
        impact_hw_free(t);
        return IMPACT_ERR_IO;
    }
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, have_header = 0, rc = 0, alloc = 0;
    struct layout L = {0};
    while (rc == 0 && getline(&line, &cap, f) >= 0) {
        lineno++;
        if (impact_tsv_skip(line))
            continue;
        char *c[MAX_COLS + 1];
        int n = impact_tsv_split(line, c, MAX_COLS + 1);
        if (!have_header) {
            rc = read_header(&L, c, n, path, lineno, err, len);
            have_header = 1;
            continue;
        }
        if (t->n == alloc) {
            alloc = alloc ? 2 * alloc : 16;
            void *p = realloc(t->rows, (size_t)alloc * sizeof *t->rows);
            if (!p) {
                rc = fail(err, len, path, lineno, "out of memory");
                break;
            }
            t->rows = p;
        }
        rc = read_row(t, &L, &t->rows[t->n], c, n, path, lineno, err, len);
        if (rc == 0)
            t->n++;
    }
    free(line);
    fclose(f);
    if (rc == 0 && !have_header)
        rc = fail(err, len, path, lineno, "no header line: the table is empty");
    if (rc == 0 && t->n == 0)
        rc = fail(err, len, path, lineno, "no model in the table");
    if (rc != 0)
        impact_hw_free(t);
    return rc;
}

void impact_hw_free(struct impact_hw_table *t)
{
    free(t->rows);
    free(t->sources);
    t->rows = NULL;
    t->sources = NULL;
    t->n = t->n_sources = 0;
}

const struct impact_hw *impact_hw_by_pci(const struct impact_hw_table *t, uint32_t id)
{
    for (int i = 0; i < t->n; i++)
        for (int k = 0; k < t->rows[i].n_pci; k++) {
            uint32_t p = t->rows[i].pci_ids[k];
            if (p == id || (id <= 0xFFFFu && p >> 16 == id))
                return &t->rows[i];
        }
    return NULL;
}

/* Letters and digits only, lower case: "NVIDIA A100-SXM4-40GB" and "a100 sxm4 40gb" meet. */
static void squash(const char *s, char *out, size_t len)
{
    size_t k = 0;
    for (; *s && k + 1 < len; s++)
        if (isalnum((unsigned char)*s))
            out[k++] = (char)tolower((unsigned char)*s);
    out[k] = '\0';
}

static int same_name(const char *a, const char *b)
{
    char x[IMPACT_TEXT_MAX], y[IMPACT_TEXT_MAX];
    squash(a, x, sizeof x);
    squash(b, y, sizeof y);
    return *x && strcmp(x, y) == 0;
}

/* The simulated GPU's short profile names (src/sim/profiles.c) and the rows they stand for. */
static const struct {
    const char *alias, *key;
} aliases[] = {
    {"a6000", "rtx-a6000"},
    {"a100", "a100-sxm4-80gb"},
    {"h100", "h100-sxm5"},
};

const struct impact_hw *impact_hw_by_name(const struct impact_hw_table *t, const char *name)
{
    if (!name || !*name)
        return NULL;
    for (size_t a = 0; a < sizeof aliases / sizeof aliases[0]; a++)
        if (strcasecmp(name, aliases[a].alias) == 0)
            name = aliases[a].key;
    for (int i = 0; i < t->n; i++) {
        const struct impact_hw *r = &t->rows[i];
        if (same_name(name, r->key) || same_name(name, r->model))
            return r;
        char buf[IMPACT_TEXT_MAX];
        snprintf(buf, sizeof buf, "%s", r->text[IMPACT_F_NVML_NAMES]);
        char *save = NULL;
        for (char *k = strtok_r(buf, "|", &save); k; k = strtok_r(NULL, "|", &save))
            if (same_name(name, k))
                return r;
    }
    return NULL;
}

const struct impact_hw *impact_hw_by_device(const struct impact_hw_table *t, const char *name)
{
    const struct impact_hw *r = name ? impact_hw_by_name(t, name) : NULL;
    if (r || !name)
        return r;
    char buf[IMPACT_TEXT_MAX];
    snprintf(buf, sizeof buf, "%s", name);
    char *paren = strstr(buf, " (");
    if (!paren)
        return NULL;
    *paren = '\0';
    return impact_hw_by_name(t, buf);
}

double impact_peak_flop_per_j(const struct impact_hw *hw, int precision)
{
    if (!hw || precision < 0 || precision >= IMPACT_N_PRECISIONS)
        return NAN;
    double peak = hw->num[IMPACT_F_FP64 + precision], tdp = hw->num[IMPACT_F_TDP_W];
    if (isnan(peak) || isnan(tdp) || tdp <= 0)
        return NAN;
    return peak * 1e12 / tdp;
}
