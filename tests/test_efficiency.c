/* SPDX-License-Identifier: MIT */
/*
 * test_efficiency.c - joules_efficiency: GFLOP per joule of a window and its +/- against
 * hand-computed values (two simulated GPUs, one of them unmeasured), the refusals (a count
 * that is negative or not a number, a result with no valid energy, one that is not the
 * monitor's), and a real window whose figure is its own flops / energy; the placement
 * (joules_efficiency_at) against the shipped hardware table's rows for the A100 SXM4 80 GB
 * (the simulated profile's model) and the reference generations, by hand, and the table's
 * errors (missing: JOULES_E_IO; malformed: JOULES_E_PARSE naming file and line).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "joules.h"
#include "support.h"
#include "testlib.h"

static joules_monitor *open_two_gpus(void)
{
    setenv("JOULES_SIM_PROFILE", "a100-sxm4-80gb", 1);
    setenv("JOULES_SIM_DEVICES", "2", 1);
    char err[256] = "";
    joules_monitor *m = t_open_sim_gpu(0, err, sizeof err);
    CHECKF(m != NULL, "joules_open: %s", err);
    if (m)
        CHECK_EQ_INT(joules_domain_count(m), 2);
    return m;
}

static void set_domain(joules_domain_energy *de, int index, int valid, double e_j, double pm_j)
{
    memset(de, 0, sizeof *de);
    de->domain = index;
    de->valid = valid;
    de->error = valid ? 0 : JOULES_E_DEVICE_LOST;
    de->method = JOULES_METHOD_COUNTER;
    de->energy_j = e_j;
    de->uncertainty_j = pm_j;
}

static void test_hand_computed(void)
{
    joules_monitor *m = open_two_gpus();
    if (!m)
        return;
    joules_domain_energy dom[2];
    joules_measurement r;
    CHECK_EQ_INT(joules_measurement_init(&r, dom, 2), 0);
    r.n_domains = 2;
    set_domain(&dom[0], 0, 1, 100.0, 3.0);
    set_domain(&dom[1], 1, 1, 50.0, 4.0);
    joules_efficiency_result e;
    /* 3e12 FLOP over 150 J +/- 5 J (3 and 4 in quadrature): 20 GFLOP/J +/- 20 * 5 / 150. */
    CHECK_EQ_INT(joules_efficiency(m, &r, 3e12, &e), 0);
    CHECK_NEAR(e.energy_j, 150.0, 1e-12);
    CHECK_NEAR(e.uncertainty_j, 5.0, 1e-12);
    CHECK_EQ_INT(e.n_domains, 2);
    CHECK_EQ_INT(e.n_gpus, 2);
    CHECK_NEAR(e.gflop_per_j, 20.0, 1e-12);
    CHECK_NEAR(e.gflop_per_j_pm, 2.0 / 3.0, 1e-12);
    CHECK_NEAR(e.gpu_gflop_per_j, 20.0, 1e-12);
    CHECK_NEAR(e.gpu_gflop_per_j_pm, 2.0 / 3.0, 1e-12);
    CHECK_NEAR(e.flops, 3e12, 0);

    /* The second GPU lost: 3e12 over 100 J +/- 3 J is 30 GFLOP/J +/- 0.9. */
    set_domain(&dom[1], 1, 0, 50.0, 4.0);
    CHECK_EQ_INT(joules_efficiency(m, &r, 3e12, &e), 0);
    CHECK_EQ_INT(e.n_domains, 1);
    CHECK_EQ_INT(e.n_gpus, 1);
    CHECK_NEAR(e.gflop_per_j, 30.0, 1e-12);
    CHECK_NEAR(e.gflop_per_j_pm, 0.9, 1e-12);
    CHECK_NEAR(e.gpu_gflop_per_j, 30.0, 1e-12);

    /* No work is 0 GFLOP/J, exactly. */
    CHECK_EQ_INT(joules_efficiency(m, &r, 0.0, &e), 0);
    CHECK(e.gflop_per_j == 0.0 && e.gflop_per_j_pm == 0.0);
    joules_close(m);
}

static void test_refusals(void)
{
    joules_monitor *m = open_two_gpus();
    if (!m)
        return;
    joules_domain_energy dom[2];
    joules_measurement r;
    CHECK_EQ_INT(joules_measurement_init(&r, dom, 2), 0);
    snprintf(r.name, sizeof r.name, "w");
    r.n_domains = 2;
    set_domain(&dom[0], 0, 1, 10.0, 1.0);
    set_domain(&dom[1], 1, 1, 10.0, 1.0);
    joules_efficiency_result e;
    const double bad[] = {-1.0, NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECKF(joules_efficiency(m, &r, bad[i], &e) == JOULES_E_INVALID, "flops %g", bad[i]);
        CHECKF(strstr(joules_last_error(m), "FLOP count") != NULL, "%s", joules_last_error(m));
        CHECK(isnan(e.gflop_per_j) && isnan(e.gpu_gflop_per_j));
    }
    CHECK_EQ_INT(joules_efficiency(m, NULL, 1e9, &e), JOULES_E_INVALID);
    CHECK_EQ_INT(joules_efficiency(m, &r, 1e9, NULL), JOULES_E_INVALID);
    CHECK_EQ_INT(joules_efficiency(NULL, &r, 1e9, &e), JOULES_E_INVALID);

    /* More domains than the monitor has: not its result. */
    r.n_domains = 3;
    CHECK_EQ_INT(joules_efficiency(m, &r, 1e9, &e), JOULES_E_INVALID);
    r.n_domains = 2;

    /* Nothing valid: no energy to divide by. */
    set_domain(&dom[0], 0, 0, 10.0, 1.0);
    set_domain(&dom[1], 1, 0, 10.0, 1.0);
    CHECK_EQ_INT(joules_efficiency(m, &r, 1e9, &e), JOULES_E_NO_DOMAIN);
    CHECKF(strstr(joules_last_error(m), "no valid energy") != NULL, "%s", joules_last_error(m));
    CHECK(isnan(e.gflop_per_j) && e.n_domains == 0);
    /* Valid but 0 J: refused the same way. */
    set_domain(&dom[0], 0, 1, 0.0, 0.0);
    CHECK_EQ_INT(joules_efficiency(m, &r, 1e9, &e), JOULES_E_NO_DOMAIN);
    joules_close(m);
}

static void test_real_window(void)
{
    joules_monitor *m = open_two_gpus();
    if (!m)
        return;
    joules_measurement *r = t_result(m);
    CHECK_EQ_INT(joules_window_begin(m, "w"), 0);
    t_sleep(0.3);
    CHECK_EQ_INT(joules_window_end(m, "w", r), 0);
    joules_efficiency_result e;
    const double flops = 5e12;
    CHECKF(joules_efficiency(m, r, flops, &e) == 0, "%s", joules_last_error(m));
    CHECK_NEAR(e.energy_j, r->total_energy_j, 1e-9 * r->total_energy_j);
    CHECK_NEAR(e.uncertainty_j, r->total_uncertainty_j, 1e-9 * r->total_energy_j);
    CHECK_NEAR(e.gflop_per_j, flops / 1e9 / r->total_energy_j, 1e-9 * e.gflop_per_j);
    CHECK_NEAR(e.gflop_per_j_pm, e.gflop_per_j * r->total_uncertainty_j / r->total_energy_j,
               1e-9 * e.gflop_per_j);
    joules_measurement_free(r);
    joules_close(m);
}

/* Two simulated A100 SXM4 80 GB (data/hardware.tsv: TDP 400 W; FP16 tensor 312 TFLOP/s,
 * FP8 none), 100 +/- 3 J and 50 +/- 4 J: 3e12 FLOP is 20 +/- 2/3 GFLOP/J. */
static void setup_placed(joules_measurement *r, joules_domain_energy *dom)
{
    CHECK_EQ_INT(joules_measurement_init(r, dom, 2), 0);
    r->n_domains = 2;
    set_domain(&dom[0], 0, 1, 100.0, 3.0);
    set_domain(&dom[1], 1, 1, 50.0, 4.0);
}

static void test_placed_by_hand(void)
{
    unsetenv("JOULES_DATA_DIR"); /* the table beside the program: build/share/joules */
    joules_monitor *m = open_two_gpus();
    if (!m)
        return;
    joules_domain_energy dom[2];
    joules_measurement r;
    setup_placed(&r, dom);
    joules_efficiency_result e;
    CHECKF(joules_efficiency_at(m, &r, 3e12, JOULES_PRECISION_FP16, &e) == 0, "%s",
           joules_last_error(m));
    CHECK_NEAR(e.gpu_gflop_per_j, 20.0, 1e-12);
    CHECK_EQ_INT(e.precision, JOULES_PRECISION_FP16);
    CHECK(strcmp(e.gpu_model, "a100-sxm4-80gb") == 0);
    CHECK_EQ_INT(e.simulated, 1);
    /* 312e12 FLOP/s / 400 W = 780 GFLOP/J; 20 / 780 of it, +/- (2/3) / 780. */
    CHECK_NEAR(e.peak_gflop_per_j, 780.0, 1e-9);
    CHECK_NEAR(e.share_of_peak, 20.0 / 780.0, 1e-12);
    CHECK_NEAR(e.share_of_peak_pm, (2.0 / 3.0) / 780.0, 1e-12);
    /* V100 125e12 / 300; A100 40 GB 312e12 / 400; H100 989.4e12 / 700; B200 2250e12 / 1000. */
    static const char *const keys[4] = {"v100-sxm2", "a100-sxm4-40gb", "h100-sxm5", "b200"};
    const double peaks[4] = {125e3 / 300, 312e3 / 400, 989.4e3 / 700, 2250e3 / 1000};
    for (int k = 0; k < JOULES_N_REFERENCES; k++) {
        CHECKF(strcmp(e.ref_model[k], keys[k]) == 0, "%s", e.ref_model[k]);
        CHECK_NEAR(e.ref_peak_gflop_per_j[k], peaks[k], 1e-9);
        CHECK_NEAR(e.ref_share[k], 20.0 / peaks[k], 1e-12);
    }
    CHECKF(e.message[0] == '\0', "%s", e.message);

    /* FP8: the A100 has none ('-'), nor has the V100; the H100 1978.9e12 / 700 W. */
    CHECK_EQ_INT(joules_efficiency_at(m, &r, 3e12, JOULES_PRECISION_FP8, &e), 0);
    CHECK(isnan(e.peak_gflop_per_j) && isnan(e.share_of_peak) && isnan(e.share_of_peak_pm));
    CHECK(strcmp(e.gpu_model, "a100-sxm4-80gb") == 0);
    CHECKF(strstr(e.message, "no fp8 peak") != NULL, "%s", e.message);
    CHECK(isnan(e.ref_peak_gflop_per_j[0]));
    CHECK_NEAR(e.ref_peak_gflop_per_j[2], 1978.9e3 / 700, 1e-9);

    /* One GPU lost: the other alone, 100 +/- 3 J: 30 +/- 0.9 GFLOP/J, FP32 19.5e12 / 400. */
    set_domain(&dom[1], 1, 0, 50.0, 4.0);
    CHECK_EQ_INT(joules_efficiency_at(m, &r, 3e12, JOULES_PRECISION_FP32, &e), 0);
    CHECK_NEAR(e.peak_gflop_per_j, 48.75, 1e-9);
    CHECK_NEAR(e.share_of_peak, 30.0 / 48.75, 1e-12);
    CHECK_NEAR(e.share_of_peak_pm, 0.9 / 48.75, 1e-12);

    /* Without a precision: the figure only, not placed. */
    CHECK_EQ_INT(joules_efficiency(m, &r, 3e12, &e), 0);
    CHECK_EQ_INT(e.precision, JOULES_PRECISION_NONE);
    CHECK(e.gpu_model[0] == '\0' && isnan(e.peak_gflop_per_j) && isnan(e.ref_share[0]));
    CHECK_EQ_INT(joules_efficiency_at(m, &r, 3e12, (joules_precision)6, &e), JOULES_E_INVALID);
    CHECK_EQ_INT(joules_efficiency_at(m, &r, 3e12, (joules_precision)-2, &e), JOULES_E_INVALID);
    joules_close(m);
}

static void test_precision_names(void)
{
    CHECK_EQ_INT(joules_precision_parse("FP16"), JOULES_PRECISION_FP16);
    CHECK_EQ_INT(joules_precision_parse("bf16"), JOULES_PRECISION_BF16);
    CHECK_EQ_INT(joules_precision_parse("int8"), JOULES_PRECISION_INT8);
    CHECK_EQ_INT(joules_precision_parse("fp4"), JOULES_E_INVALID);
    CHECK_EQ_INT(joules_precision_parse(NULL), JOULES_E_INVALID);
    CHECK(strcmp(joules_precision_name(JOULES_PRECISION_TF32), "tf32") == 0);
    CHECK(strcmp(joules_precision_name(JOULES_PRECISION_NONE), "none") == 0);
}

static void test_table_errors(void)
{
    char dir[512], path[600];
    CHECK_EQ_INT(t_mkdtemp(dir, sizeof dir), 0);
    setenv("JOULES_DATA_DIR", dir, 1);
    joules_monitor *m = open_two_gpus();
    if (m) {
        joules_domain_energy dom[2];
        joules_measurement r;
        setup_placed(&r, dom);
        joules_efficiency_result e;
        /* No table: an input/output error naming the file; the figure is still there. */
        CHECK_EQ_INT(joules_efficiency_at(m, &r, 3e12, JOULES_PRECISION_FP16, &e), JOULES_E_IO);
        CHECKF(strstr(joules_last_error(m), "hardware-sources.tsv") != NULL, "%s",
               joules_last_error(m));
        CHECK_NEAR(e.gpu_gflop_per_j, 20.0, 1e-12);
        CHECK(isnan(e.peak_gflop_per_j));
        /* A malformed table: its file and line. */
        snprintf(path, sizeof path, "%s/hardware-sources.tsv", dir);
        CHECK_EQ_INT(t_write_file(path, "key\tsource\nS1\tsomewhere\n"), 0);
        snprintf(path, sizeof path, "%s/hardware.tsv", dir);
        CHECK_EQ_INT(t_write_file(path, "# a comment\nkey\tmodel\tvendor\n"), 0);
        CHECK_EQ_INT(joules_efficiency_at(m, &r, 3e12, JOULES_PRECISION_FP16, &e), JOULES_E_PARSE);
        CHECKF(strstr(joules_last_error(m), "hardware.tsv:2: missing column") != NULL, "%s",
               joules_last_error(m));
        CHECKF(strstr(e.message, "hardware.tsv:2:") != NULL, "%s", e.message);
        /* Without a precision the table is not read. */
        CHECK_EQ_INT(joules_efficiency(m, &r, 3e12, &e), 0);
        joules_close(m);
    }
    unsetenv("JOULES_DATA_DIR");
    t_rmtree(dir);
}

int main(void)
{
    RUN(test_hand_computed);
    RUN(test_refusals);
    RUN(test_real_window);
    RUN(test_placed_by_hand);
    RUN(test_precision_names);
    RUN(test_table_errors);
    return t_end();
}
