/* SPDX-License-Identifier: MIT */
/*
 * test_impact.c - the impact layer: the shipped tables parse and hold the figures of their
 * sources, malformed tables are refused naming file and line, look-ups by PCI id and by
 * name, the range checks, the configuration precedence and the arithmetic against values
 * computed by hand.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "impact/impact.h"
#include "testlib.h"

#ifndef JOULES_SOURCE_DIR
#define JOULES_SOURCE_DIR "."
#endif

static char hw_path[1024], src_path[1024], zone_path[1024];
static char tmpdir[] = "/tmp/joules-impact-XXXXXX";
static char err[IMPACT_ERR_MAX];

static const char *write_file(const char *name, const char *text)
{
    static char path[1200];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return path;
}

static void test_shipped_tables(void)
{
    struct impact_hw_table t;
    int rc = impact_hw_load(&t, hw_path, src_path, err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    if (rc)
        return;
    static const char *const models[] = {
        "v100-sxm2", "a100-sxm4-40gb", "a100-sxm4-80gb", "a100-pcie-40gb", "a100-pcie-80gb",
        "h100-sxm5", "h100-pcie",      "h200-sxm",       "b200",           "l4",
        "l40s",      "rtx-a6000",      "rtx-4090",       "mi250x",         "mi300x"};
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++)
        CHECKF(impact_hw_by_name(&t, models[i]) != NULL, "%s missing", models[i]);
    /* By PCI id, full and 16-bit, as NVML reports it. */
    const struct impact_hw *a = impact_hw_by_pci(&t, 0x20B010DEu);
    CHECK(a && strcmp(a->key, "a100-sxm4-40gb") == 0);
    CHECK(impact_hw_by_pci(&t, 0x2330u) == impact_hw_by_name(&t, "h100-sxm5"));
    CHECK(impact_hw_by_pci(&t, 0x12345678u) == NULL);
    /* By NVML name, model, key and the simulated profiles' names. */
    CHECK(impact_hw_by_name(&t, "NVIDIA A100-SXM4-40GB") == a);
    CHECK(impact_hw_by_name(&t, "a100 sxm4 40 gb") == a);
    CHECK(impact_hw_by_name(&t, "NVIDIA RTX A6000") == impact_hw_by_name(&t, "a6000"));
    CHECK(impact_hw_by_name(&t, "a100") == impact_hw_by_name(&t, "NVIDIA A100-SXM4-80GB"));
    CHECK(impact_hw_by_name(&t, "h100") == impact_hw_by_name(&t, "NVIDIA H100 80GB HBM3"));
    CHECK(impact_hw_by_name(&t, "Joules Test GPU") == NULL);
    /* Figures of the sources (impact.md, gpu-profiles.md), with their source keys. */
    CHECK_NEAR(a->num[IMPACT_F_FP16], 312, 1e-9);
    CHECK_NEAR(a->num[IMPACT_F_TDP_W], 400, 1e-9);
    CHECK_NEAR(a->num[IMPACT_F_SMS], 108, 1e-9);
    CHECK(strcmp(a->src[IMPACT_F_SMS], "S10") == 0);
    CHECK(isnan(a->num[IMPACT_F_FP8]) && strcmp(a->text[IMPACT_F_FP8], "-") == 0);
    CHECK(impact_source_text(&t, "EPOCH") != NULL);
    /* Peak FLOP/J = peak FLOP/s / TDP: A100 FP16 312e12 / 400 = 0.78e12; H100 989.4e12 / 700. */
    CHECK_NEAR(impact_peak_flop_per_j(a, IMPACT_FP16), 0.78e12, 1e3);
    CHECK_NEAR(impact_peak_flop_per_j(impact_hw_by_name(&t, "h100"), IMPACT_FP16), 989.4e12 / 700.0,
               1e3);
    CHECK(isnan(impact_peak_flop_per_j(a, IMPACT_FP8)));
    CHECK(isnan(impact_peak_flop_per_j(impact_hw_by_name(&t, "b200"), IMPACT_INT8)));
    CHECK_NEAR(impact_peak_flop_per_j(impact_hw_by_name(&t, "rtx 4090"), IMPACT_FP32),
               82.6e12 / 450, 1e3);
    /* Every figure of every row has a source that is in the sources table. */
    for (int i = 0; i < t.n; i++)
        for (int f = 0; f < IMPACT_N_FIELDS; f++)
            CHECKF(!t.rows[i].text[f][0] || t.rows[i].src[f][0], "%s %s", t.rows[i].key,
                   impact_field_column(f));
    impact_hw_free(&t);

    struct impact_zone_table z;
    rc = impact_zones_load(&z, zone_path, err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    if (rc)
        return;
    const struct impact_zone *fr = impact_zone_find(&z, "fra");
    CHECK(fr && fabs(fr->g_per_kwh - 56.039) < 1e-9 && fr->year == 2023);
    CHECK(impact_zone_find(&z, "France") == fr);
    CHECK(impact_zone_find(&z, "WORLD") && impact_zone_find(&z, "WORLD")->g_per_kwh == 475);
    for (int i = 0; i < z.n; i++)
        CHECK(z.rows[i].source[0] && z.rows[i].year >= 2000);
    struct impact_grid g;
    CHECK(impact_grid_parse(&z, "DEU", &g, err, sizeof err) == 0 && g.zone &&
          fabs(g.g_per_kwh - 380.95) < 1e-9);
    CHECK(impact_grid_parse(&z, "250", &g, err, sizeof err) == 0 && !g.zone && g.g_per_kwh == 250);
    CHECK(impact_grid_parse(&z, "2001", &g, err, sizeof err) != 0 && strstr(err, "[0, 2000]"));
    CHECK(impact_grid_parse(&z, "-5", &g, err, sizeof err) != 0);
    CHECK(impact_grid_parse(&z, "Frnace", &g, err, sizeof err) != 0);
    CHECKF(strstr(err, "unknown zone 'Frnace'") && strstr(err, "FRA (France)"), "%s", err);
    impact_zones_free(&z);
}

static void expect_hw_error(const char *name, const char *text, const char *want)
{
    struct impact_hw_table t;
    const char *p = write_file(name, text);
    char path[1200];
    snprintf(path, sizeof path, "%s", p);
    int rc = impact_hw_load(&t, path, src_path, err, sizeof err);
    CHECKF(rc != 0, "%s loaded", name);
    CHECKF(strstr(err, path) && strstr(err, want), "%s: got '%s', want '%s'", name, err, want);
}

/* A table of the real header with one row, the row given as the cells to change. */
static void malformed_rows(void)
{
    FILE *f = fopen(hw_path, "r");
    char *line = NULL, header[4096] = "";
    size_t cap = 0;
    while (f && getline(&line, &cap, f) >= 0)
        if (line[0] != '#' && line[0] != '\n') {
            snprintf(header, sizeof header, "%s", line);
            break;
        }
    free(line);
    if (f)
        fclose(f);
    int ncols = 1;
    for (char *p = header; *p; p++)
        ncols += *p == '\t';
    char row[4096], text[8192];
    /* A good row first: key, model, vendor and empty cells. */
    snprintf(row, sizeof row, "x\tX\tV");
    for (int i = 3; i < ncols; i++)
        strcat(row, "\t");
    snprintf(text, sizeof text, "# comment\n%s%s\n", header, row);
    struct impact_hw_table t;
    const char *p = write_file("ok.tsv", text);
    CHECKF(impact_hw_load(&t, p, src_path, err, sizeof err) == 0, "%s", err);
    impact_hw_free(&t);

    snprintf(text, sizeof text, "%s%s\textra\n", header, row);
    expect_hw_error("extra.tsv", text, ":2: ");
    snprintf(text, sizeof text, "%s%s\n%s\n", header, row, row);
    expect_hw_error("dup.tsv", text, ":3: key 'x' already on line 2");
    /* tdp_w is column 29 (0-based 28) in the shipped header; find it by name instead. */
    int tdp = -1, k = 0;
    char hcopy[4096];
    snprintf(hcopy, sizeof hcopy, "%s", header);
    hcopy[strcspn(hcopy, "\n")] = '\0';
    for (char *s = strtok(hcopy, "\t"); s; s = strtok(NULL, "\t"), k++)
        if (strcmp(s, "tdp_w") == 0)
            tdp = k;
    CHECK(tdp > 3);
    char cells[64][32];
    for (int i = 0; i < ncols && i < 64; i++)
        cells[i][0] = '\0';
    strcpy(cells[0], "x");
    strcpy(cells[1], "X");
    strcpy(cells[2], "V");
    struct {
        const char *tdp, *src, *want;
    } cases[] = {
        {"300", "", "tdp_w '300' has no source"},
        {"", "EPOCH", "tdp_w_src 'EPOCH' cites a source for an empty tdp_w"},
        {"3OO", "EPOCH", "tdp_w: '3OO' is not a number >= 0"},
        {"-1", "EPOCH", "tdp_w: '-1' is not a number >= 0"},
        {"300", "NOBODY", "source 'NOBODY' is not in the sources table"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        strcpy(cells[tdp], cases[c].tdp);
        strcpy(cells[tdp + 1], cases[c].src);
        size_t n = 0;
        for (int i = 0; i < ncols; i++)
            n += (size_t)snprintf(row + n, sizeof row - n, "%s%s", i ? "\t" : "", cells[i]);
        snprintf(text, sizeof text, "%s\n%s%s\n", "# two comment lines", header, row);
        expect_hw_error("bad.tsv", text, cases[c].want);
        CHECKF(strstr(err, ":3: ") != NULL, "line number in '%s'", err);
    }
    expect_hw_error("nohdr.tsv", "# only comments\n", "no header line");
    expect_hw_error("badcol.tsv", "key\tmodel\tvendor\tfoo\n", ":1: unknown column 'foo'");
    expect_hw_error("missing.tsv", "key\tmodel\tvendor\n", ":1: missing column 'nvml_names'");
    CHECK(impact_hw_load(&t, "/nonexistent/hardware.tsv", NULL, err, sizeof err) != 0 &&
          strstr(err, "/nonexistent/hardware.tsv: cannot read"));
}

static void malformed_zones(void)
{
    struct impact_zone_table z;
    const char *h = "zone\tname\tg_per_kwh\tyear\tsource\n";
    char text[512];
    struct {
        const char *row, *want;
    } cases[] = {
        {"FRA\tFrance\t56\t2023\n", ":2: 4 fields"},
        {"FRA\tFrance\t2500\t2023\tX\n", ":2: g_per_kwh: '2500' is not a number in [0, 2000]"},
        {"FRA\tFrance\t56\t20x3\tX\n", ":2: year: '20x3'"},
        {"FRA\tFrance\t56\t2023\t\n", ":2: source: empty"},
        {"FRA\tFrance\t56\t2023\tX\nfra\tFrance\t56\t2023\tX\n", ":3: zone 'fra' appears twice"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        snprintf(text, sizeof text, "%s%s", h, cases[c].row);
        const char *p = write_file("zones.tsv", text);
        CHECK(impact_zones_load(&z, p, err, sizeof err) != 0);
        CHECKF(strstr(err, "zones.tsv") && strstr(err, cases[c].want), "got '%s'", err);
    }
    const char *p = write_file("zones.tsv", "zone\tname\n");
    CHECK(impact_zones_load(&z, p, err, sizeof err) != 0 && strstr(err, ":1: the header"));
}

static void test_ranges(void)
{
    double x;
    CHECK(impact_check_pue("1.2", &x, err, sizeof err) == 0 && x == 1.2);
    CHECK(impact_check_pue("0.9", &x, err, sizeof err) != 0 && strstr(err, "[1, 10]"));
    CHECK(impact_check_pue("nan", &x, err, sizeof err) != 0);
    CHECK(impact_check_lifetime("4", &x, err, sizeof err) == 0 && x == 4);
    CHECK(impact_check_lifetime("26280h", &x, err, sizeof err) == 0 && fabs(x - 3) < 1e-12);
    CHECK(impact_check_lifetime("0", &x, err, sizeof err) != 0 && strstr(err, "(0, 20]"));
    CHECK(impact_check_lifetime("21y", &x, err, sizeof err) != 0);
    CHECK(impact_check_flops("2e12", &x, err, sizeof err) == 0 && x == 2e12);
    CHECK(impact_check_flops("-1", &x, err, sizeof err) != 0 && strstr(err, ">= 0"));
    CHECK(impact_check_flops("NaN", &x, err, sizeof err) != 0);
    CHECK(impact_check_flops("inf", &x, err, sizeof err) != 0);
    CHECK(impact_precision_parse("BF16") == IMPACT_FP16);
    CHECK(impact_precision_parse("fp4") == -1);
}

static const char *env_grid, *env_pue;
static const char *fake_getenv(const char *name)
{
    if (strcmp(name, "JOULES_GRID") == 0)
        return env_grid;
    if (strcmp(name, "JOULES_PUE") == 0)
        return env_pue;
    return NULL;
}

static void test_precedence(void)
{
    char path[1024];
    impact_config_path("/xdg", "/home/u", path, sizeof path);
    CHECK(strcmp(path, "/xdg/joules/config") == 0);
    impact_config_path("relative", "/home/u", path, sizeof path);
    CHECK(strcmp(path, "/home/u/.config/joules/config") == 0);
    impact_config_path(NULL, "/home/u", path, sizeof path);
    CHECK(strcmp(path, "/home/u/.config/joules/config") == 0);

    struct impact_site s;
    env_grid = env_pue = NULL;
    CHECK(impact_site_resolve(&s, "/nonexistent/config", fake_getenv, NULL, NULL, NULL, err,
                              sizeof err) == 0);
    CHECK(s.grid.origin == IMPACT_FROM_DEFAULT && s.grid.value[0] == '\0');
    CHECK(s.pue.origin == IMPACT_FROM_DEFAULT && strcmp(s.pue.value, "1") == 0);
    CHECK(strcmp(s.lifetime.value, "3") == 0 && !s.config_found);

    snprintf(path, sizeof path, "%s",
             write_file("config", "# site\ngrid = FRA\npue=1.3\n\nlifetime = 5\n"));
    CHECK(impact_site_resolve(&s, path, fake_getenv, NULL, NULL, NULL, err, sizeof err) == 0);
    CHECK(s.config_found && s.grid.origin == IMPACT_FROM_CONFIG &&
          strcmp(s.grid.value, "FRA") == 0);
    CHECK(strstr(s.pue.where, "config:3") != NULL && strcmp(s.lifetime.value, "5") == 0);

    env_grid = "DEU";
    env_pue = "1.5";
    CHECK(impact_site_resolve(&s, path, fake_getenv, NULL, NULL, NULL, err, sizeof err) == 0);
    CHECK(s.grid.origin == IMPACT_FROM_ENV && strcmp(s.grid.value, "DEU") == 0);
    CHECK(strcmp(s.pue.where, "JOULES_PUE") == 0 && s.lifetime.origin == IMPACT_FROM_CONFIG);

    CHECK(impact_site_resolve(&s, path, fake_getenv, "USA", "1.1", "4", err, sizeof err) == 0);
    CHECK(s.grid.origin == IMPACT_FROM_OPTION && strcmp(s.grid.value, "USA") == 0);
    CHECK(strcmp(s.pue.value, "1.1") == 0 && strcmp(s.lifetime.where, "--lifetime") == 0);

    env_pue = "0.5";
    CHECK(impact_site_resolve(&s, path, fake_getenv, NULL, NULL, NULL, err, sizeof err) != 0);
    CHECKF(strstr(err, "JOULES_PUE") && strstr(err, "[1, 10]"), "%s", err);
    env_pue = NULL;
    CHECK(impact_site_resolve(&s, path, fake_getenv, NULL, "0.99", NULL, err, sizeof err) != 0 &&
          strstr(err, "--pue"));

    snprintf(path, sizeof path, "%s", write_file("config", "grid = FRA\npower = 3\n"));
    CHECK(impact_site_resolve(&s, path, NULL, NULL, NULL, NULL, err, sizeof err) != 0);
    CHECKF(strstr(err, "config:2: unknown key 'power'"), "%s", err);
    snprintf(path, sizeof path, "%s", write_file("config", "lifetime = 0\n"));
    CHECK(impact_site_resolve(&s, path, NULL, NULL, NULL, NULL, err, sizeof err) != 0);
    CHECKF(strstr(err, "config:1: lifetime:") && strstr(err, "(0, 20]"), "%s", err);
    snprintf(path, sizeof path, "%s", write_file("config", "just words\n"));
    CHECK(impact_site_resolve(&s, path, NULL, NULL, NULL, NULL, err, sizeof err) != 0 &&
          strstr(err, "config:1: expected 'key = value'"));
}

static void test_arithmetic(void)
{
    struct impact_hw_table t;
    if (impact_hw_load(&t, hw_path, src_path, err, sizeof err) != 0) {
        CHECKF(0, "%s", err);
        return;
    }
    const struct impact_hw *a100 = impact_hw_by_name(&t, "a100-sxm4-40gb");
    const struct impact_hw *h100 = impact_hw_by_name(&t, "h100-sxm5");
    /* 2e12 FLOP in 38.17 +/- 0.5 J: 52.397 GFLOP/J, +/- 52.397 * 0.5 / 38.17 = 0.6864. */
    struct impact_efficiency e;
    impact_efficiency(2e12, 38.17, 0.5, IMPACT_FP16, a100, &t, &e);
    CHECK_NEAR(e.gflop_per_j, 2e12 / 38.17 / 1e9, 1e-9);
    CHECK_NEAR(e.gflop_per_j_pm, 52.39717 * 0.5 / 38.17, 1e-4);
    CHECK_NEAR(e.peak_gflop_per_j, 780.0, 1e-9);
    CHECK_NEAR(e.share_of_peak, 52.39717 / 780.0, 1e-6);
    /* References: V100 125/300, A100 312/400, H100 989.4/700, B200 2250/1000 TFLOP/J. */
    CHECK_NEAR(e.ref_gflop_per_j[0], 125e3 / 300, 1e-6);
    CHECK_NEAR(e.ref_gflop_per_j[1], 780, 1e-6);
    CHECK_NEAR(e.ref_gflop_per_j[2], 989.4e3 / 700, 1e-6);
    CHECK_NEAR(e.ref_gflop_per_j[3], 2250, 1e-6);
    CHECK_NEAR(e.ref_share[3], 52.39717 / 2250, 1e-6);
    impact_efficiency(2e12, 38.17, 0.5, IMPACT_FP8, a100, &t, &e);
    CHECK(isnan(e.peak_gflop_per_j) && isnan(e.share_of_peak) && isnan(e.ref_gflop_per_j[0]));
    CHECK_NEAR(e.ref_gflop_per_j[2], 1978.9e3 / 700, 1e-6);
    impact_efficiency(0, 0, 0, IMPACT_FP32, NULL, &t, &e);
    CHECK(isnan(e.gflop_per_j));

    /* Use: 3.6e6 J +/- 3.6e4 J (1 kWh +/- 1 %), PUE 1.5, 400 g/kWh: 600 +/- 6 g.
     * Embodied: one H100 (575 kg) for 1 h of a 3-year life: 575e3 / 26280 = 21.880 g. */
    struct impact_grid g = {.set = 1, .g_per_kwh = 400};
    const struct impact_hw *devs[2] = {h100, a100};
    struct impact_emissions m;
    impact_emissions(3.6e6, 3.6e4, 3600, 1.5, &g, 3, devs, 1, &m);
    CHECK_NEAR(m.facility_energy_j, 5.4e6, 1e-6);
    CHECK_NEAR(m.facility_energy_pm_j, 5.4e4, 1e-6);
    CHECK_NEAR(m.device_energy_j, 3.6e6, 0);
    CHECK_NEAR(m.use_g, 600, 1e-9);
    CHECK_NEAR(m.use_pm_g, 6, 1e-9);
    CHECK_NEAR(m.embodied_low_g, 575e3 / 26280.0, 1e-9);
    CHECK_NEAR(m.embodied_high_g, 575e3 / 26280.0, 1e-9);
    CHECK_NEAR(m.use_share_low, 600 / (600 + 575e3 / 26280.0), 1e-12);
    /* Two devices (A100 40 GB: 273..318 kg), 5-year life, half an hour. */
    impact_emissions(3.6e6, 0, 1800, 1.0, &g, 5, devs, 2, &m);
    double hours = 0.5, life = 5 * 8760.0;
    CHECK_NEAR(m.embodied_low_g, (575e3 + 273e3) * hours / life, 1e-9);
    CHECK_NEAR(m.embodied_high_g, (575e3 + 318e3) * hours / life, 1e-9);
    CHECK_NEAR(m.use_share_low, 400 / (400 + m.embodied_high_g), 1e-12);
    CHECK_NEAR(m.use_share_high, 400 / (400 + m.embodied_low_g), 1e-12);
    /* No grid: energy only. An unknown device: embodied unknown. */
    struct impact_grid none = {0};
    const struct impact_hw *unknown[1] = {impact_hw_by_name(&t, "l40s")};
    impact_emissions(1000, 10, 10, 1.2, &none, 3, unknown, 1, &m);
    CHECK(isnan(m.use_g) && isnan(m.embodied_low_g) && isnan(m.use_share_low));
    CHECK_NEAR(m.facility_energy_j, 1200, 1e-9);
    impact_hw_free(&t);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(hw_path, sizeof hw_path, "%s/data/hardware.tsv", JOULES_SOURCE_DIR);
    snprintf(src_path, sizeof src_path, "%s/data/hardware-sources.tsv", JOULES_SOURCE_DIR);
    snprintf(zone_path, sizeof zone_path, "%s/data/carbon-intensity.tsv", JOULES_SOURCE_DIR);
    RUN(test_shipped_tables);
    RUN(malformed_rows);
    RUN(malformed_zones);
    RUN(test_ranges);
    RUN(test_precedence);
    RUN(test_arithmetic);
    static const char *const names[] = {"ok.tsv",      "extra.tsv", "dup.tsv",
                                        "bad.tsv",     "nohdr.tsv", "badcol.tsv",
                                        "missing.tsv", "zones.tsv", "config"};
    char p[1200];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", tmpdir, names[i]);
        unlink(p);
    }
    rmdir(tmpdir);
    return t_end();
}
