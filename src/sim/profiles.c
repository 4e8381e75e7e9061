/* SPDX-License-Identifier: MIT */
/*
 * profiles.c - the simulated GPUs, from public datasheet numbers and observed nvidia-smi
 * dumps (shared/reference/gpu-profiles.md; every value and its source or reasoning is listed
 * in docs/physics.md). One number is derived, not given: the effective switched capacitance
 * C_eff, computed so that a realistic full load (alpha_cal) at the maximum clock and the
 * usual load temperature (t_cal) draws exactly the TDP. Nothing is tuned to hit one result.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "sim/sim.h"

/* Fields, in order: see struct sim_profile in sim.h. */
static struct sim_profile profiles[] = {
    {
        .key = "a6000",
        .name = "NVIDIA RTX A6000",
        .pci_device_id = 0x223010DE,
        .pci_subsys_id = 0x145910DE,
        .arch = NVML_DEVICE_ARCH_AMPERE,
        .mem_total_mib = 49140,
        .mem_reserved_mib = 0,
        .sms = 84,
        .fp32_cores = 10752,
        .tensor_cores = 336,
        .clk_min = 210,
        .clk_max = 2100,
        .clk_step = 15,
        .clk_app_default = 1800,
        .clk_idle = 210,
        .video_max = 1950,
        .mem_clocks = {8001, 5001, 810, 405},
        .n_mem_clocks = 4,
        .mem_clk_low = 405,
        .tdp_w = 300,
        .limit_min_w = 100,
        .limit_max_w = 300,
        .t_shutdown = 98,
        .t_slowdown = 95,
        .t_max_op = 93,
        .t_mem_max = 0,
        .t_sw = 84,
        .pstate_idle = 8,
        .pstate_ctx = 2,
        .pstate_busy = 2,
        .v_floor = 0.725,
        .f_ridge = 1200,
        .v_max = 1.081,
        .p_board_w = 16,
        .p_mem_static_w = 38,
        .leak_ref_w = 8,
        .leak_v_exp = 2,
        .leak_t_double = 30,
        .gate_low = 0.1,
        .alpha_idle = 0.02,
        .alpha_cal = 0.5,
        .t_cal = 83,
        .mem_bw_gbs = 768,
        .mem_pj_per_byte = 60,
        .tf_fp64 = 0.60,
        .tf_fp32 = 38.7,
        .tf_tf32 = 77.4,
        .tf_fp16 = 154.8,
        .ref_clk_vector = 1800,
        .ref_clk_tensor = 1800,
        .toggle_base = 0.5,
        .toggle_k = 1.0,
        .r_th = 0.17,
        .c_th = 150,
        .t_amb = 30,
        .sensor_window_ms = 100,
        .avg_supported = 1,
        .usage_is_avg = 1,
        .memory_scope = 0,
        .has_fan = 1,
    },
    {
        .key = "a100-sxm4-40gb",
        .name = "NVIDIA A100-SXM4-40GB",
        .pci_device_id = 0x20B010DE,
        .pci_subsys_id = 0x144E10DE,
        .arch = NVML_DEVICE_ARCH_AMPERE,
        .mem_total_mib = 40960,
        .mem_reserved_mib = 0,
        .sms = 108,
        .fp32_cores = 6912,
        .tensor_cores = 432,
        .clk_min = 210,
        .clk_max = 1410,
        .clk_step = 15,
        .clk_app_default = 1095,
        .clk_idle = 210,
        .video_max = 1290,
        .mem_clocks = {1215},
        .n_mem_clocks = 1,
        .mem_clk_low = 1215,
        .tdp_w = 400,
        .limit_min_w = 100,
        .limit_max_w = 400,
        .t_shutdown = 92,
        .t_slowdown = 89,
        .t_max_op = 85,
        .t_mem_max = 95,
        .t_sw = 85,
        .pstate_idle = 0,
        .pstate_ctx = 0,
        .pstate_busy = 0,
        .v_floor = 0.70,
        .f_ridge = 900,
        .v_max = 0.90,
        .p_board_w = 14,
        .p_mem_static_w = 15,
        .leak_ref_w = 14,
        .leak_v_exp = 2,
        .leak_t_double = 30,
        .gate_low = 1,
        .alpha_idle = 0.02,
        .alpha_cal = 0.5,
        .t_cal = 60,
        .mem_bw_gbs = 1555,
        .mem_pj_per_byte = 31,
        .tf_fp64 = 19.5,
        .tf_fp32 = 19.5,
        .tf_tf32 = 156,
        .tf_fp16 = 312,
        .ref_clk_vector = 1410,
        .ref_clk_tensor = 1410,
        .toggle_base = 0.5,
        .toggle_k = 1.0,
        .r_th = 0.09,
        .c_th = 300,
        .t_amb = 25,
        .sensor_window_ms = 25,
        .avg_supported = 0,
        .usage_is_avg = 0,
        .memory_scope = 0,
        .has_fan = 0,
    },
    {
        .key = "a100-sxm4-80gb",
        .name = "NVIDIA A100-SXM4-80GB",
        .pci_device_id = 0x20B210DE,
        .pci_subsys_id = 0x147F10DE,
        .arch = NVML_DEVICE_ARCH_AMPERE,
        .mem_total_mib = 81920,
        .mem_reserved_mib = 763,
        .sms = 108,
        .fp32_cores = 6912,
        .tensor_cores = 432,
        .clk_min = 210,
        .clk_max = 1410,
        .clk_step = 15,
        .clk_app_default = 1155,
        .clk_idle = 210,
        .video_max = 1290,
        .mem_clocks = {1593},
        .n_mem_clocks = 1,
        .mem_clk_low = 1593,
        .tdp_w = 400,
        .limit_min_w = 100,
        .limit_max_w = 400,
        .t_shutdown = 92,
        .t_slowdown = 89,
        .t_max_op = 85,
        .t_mem_max = 95,
        .t_sw = 85,
        .pstate_idle = 0,
        .pstate_ctx = 0,
        .pstate_busy = 0,
        .v_floor = 0.70,
        .f_ridge = 900,
        .v_max = 0.90,
        .p_board_w = 18,
        .p_mem_static_w = 22,
        .leak_ref_w = 17,
        .leak_v_exp = 2,
        .leak_t_double = 30,
        .gate_low = 1,
        .alpha_idle = 0.02,
        .alpha_cal = 0.5,
        .t_cal = 60,
        .mem_bw_gbs = 2039,
        .mem_pj_per_byte = 31,
        .tf_fp64 = 19.5,
        .tf_fp32 = 19.5,
        .tf_tf32 = 156,
        .tf_fp16 = 312,
        .ref_clk_vector = 1410,
        .ref_clk_tensor = 1410,
        .toggle_base = 0.5,
        .toggle_k = 1.0,
        .r_th = 0.09,
        .c_th = 300,
        .t_amb = 25,
        .sensor_window_ms = 25,
        .avg_supported = 0,
        .usage_is_avg = 0,
        .memory_scope = 0,
        .has_fan = 0,
    },
    {
        .key = "h100-sxm5",
        .name = "NVIDIA H100 80GB HBM3",
        .pci_device_id = 0x233010DE,
        .pci_subsys_id = 0x16C110DE,
        .arch = NVML_DEVICE_ARCH_HOPPER,
        .mem_total_mib = 81559,
        .mem_reserved_mib = 454,
        .sms = 132,
        .fp32_cores = 16896,
        .tensor_cores = 528,
        .clk_min = 210,
        .clk_max = 1980,
        .clk_step = 15,
        .clk_app_default = 1980,
        .clk_idle = 345,
        .video_max = 1545,
        .mem_clocks = {2619},
        .n_mem_clocks = 1,
        .mem_clk_low = 2619,
        .tdp_w = 700,
        .limit_min_w = 200,
        .limit_max_w = 700,
        .t_shutdown = 95,
        .t_slowdown = 89,
        .t_max_op = 87,
        .t_mem_max = 95,
        .t_sw = 87,
        .pstate_idle = 0,
        .pstate_ctx = 0,
        .pstate_busy = 0,
        .v_floor = 0.67,
        .f_ridge = 1200,
        .v_max = 0.95,
        .p_board_w = 15,
        .p_mem_static_w = 50,
        .leak_ref_w = 17,
        .leak_v_exp = 2,
        .leak_t_double = 30,
        .gate_low = 1,
        .alpha_idle = 0.02,
        .alpha_cal = 0.5,
        .t_cal = 65,
        .mem_bw_gbs = 3350,
        .mem_pj_per_byte = 28,
        .tf_fp64 = 66.9,
        .tf_fp32 = 66.9,
        .tf_tf32 = 494.7,
        .tf_fp16 = 989.4,
        .ref_clk_vector = 1980,
        .ref_clk_tensor = 1830,
        .toggle_base = 0.5,
        .toggle_k = 1.0,
        .r_th = 0.06,
        .c_th = 500,
        .t_amb = 25,
        .sensor_window_ms = 25,
        .avg_supported = 1,
        .usage_is_avg = 1,
        .memory_scope = 1,
        .has_fan = 0,
    },
    {
        /* Round numbers for tests and teaching; not a real product. */
        .key = "test",
        .name = "Joules Test GPU",
        .pci_device_id = 0x000010DE,
        .pci_subsys_id = 0x000010DE,
        .arch = NVML_DEVICE_ARCH_AMPERE,
        .mem_total_mib = 1024,
        .mem_reserved_mib = 0,
        .sms = 4,
        .fp32_cores = 256,
        .tensor_cores = 16,
        .clk_min = 500,
        .clk_max = 1500,
        .clk_step = 100,
        .clk_app_default = 1000,
        .clk_idle = 500,
        .video_max = 1000,
        .mem_clocks = {1000},
        .n_mem_clocks = 1,
        .mem_clk_low = 1000,
        .tdp_w = 100,
        .limit_min_w = 50,
        .limit_max_w = 150,
        .t_shutdown = 95,
        .t_slowdown = 90,
        .t_max_op = 85,
        .t_mem_max = 95,
        .t_sw = 85,
        .pstate_idle = 0,
        .pstate_ctx = 0,
        .pstate_busy = 0,
        .v_floor = 0.70,
        .f_ridge = 1000,
        .v_max = 0.90,
        .p_board_w = 5,
        .p_mem_static_w = 5,
        .leak_ref_w = 5,
        .leak_v_exp = 2,
        .leak_t_double = 30,
        .gate_low = 1,
        .alpha_idle = 0,
        .alpha_cal = 0.5,
        .t_cal = 50,
        .mem_bw_gbs = 100,
        .mem_pj_per_byte = 30,
        .tf_fp64 = 1,
        .tf_fp32 = 2,
        .tf_tf32 = 4,
        .tf_fp16 = 8,
        .ref_clk_vector = 1500,
        .ref_clk_tensor = 1500,
        .toggle_base = 0.5,
        .toggle_k = 1.0,
        .r_th = 0.3,
        .c_th = 30,
        .t_amb = 25,
        .sensor_window_ms = 100,
        .avg_supported = 1,
        .usage_is_avg = 0,
        .memory_scope = 0,
        .has_fan = 0,
        .for_tests = 1,
    },
};

static const struct {
    const char *alias, *key;
} aliases[] = {{"a100", "a100-sxm4-80gb"}, {"h100", "h100-sxm5"}};

double sim_voltage(const struct sim_profile *p, double f_mhz)
{
    if (f_mhz <= p->f_ridge)
        return p->v_floor;
    return p->v_floor + (p->v_max - p->v_floor) * (f_mhz - p->f_ridge) / (p->clk_max - p->f_ridge);
}

double sim_leakage(const struct sim_profile *p, double v, double t_c)
{
    double rv = v / p->v_floor;
    return p->leak_ref_w * pow(rv, p->leak_v_exp) * exp2((t_c - 25.0) / p->leak_t_double);
}

double sim_peak_flops(const struct sim_profile *p, int precision, double f_mhz)
{
    double tf, ref;
    switch (precision) {
    case JSIM_PREC_FP64:
        tf = p->tf_fp64, ref = p->ref_clk_vector;
        break;
    case JSIM_PREC_TF32:
        tf = p->tf_tf32, ref = p->ref_clk_tensor;
        break;
    case JSIM_PREC_FP16:
    case JSIM_PREC_BF16:
        tf = p->tf_fp16, ref = p->ref_clk_tensor;
        break;
    default:
        tf = p->tf_fp32, ref = p->ref_clk_vector;
        break;
    }
    return tf * 1e12 * f_mhz / ref;
}

static void calibrate(struct sim_profile *p)
{
    /* TDP = board + memory static + leakage(V_max, t_cal) + alpha_cal * C_eff * V_max^2 * f_max */
    double rest = p->tdp_w - p->p_board_w - p->p_mem_static_w - sim_leakage(p, p->v_max, p->t_cal);
    p->c_eff = rest / (p->alpha_cal * p->v_max * p->v_max * p->clk_max * 1e6);
}

const struct sim_profile *sim_profile_find(const char *key)
{
    size_t i;
    for (i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcmp(key, aliases[i].alias) == 0)
            key = aliases[i].key;
    for (i = 0; i < sizeof profiles / sizeof profiles[0]; i++) {
        if (strcmp(key, profiles[i].key) == 0) {
            if (profiles[i].c_eff == 0)
                calibrate(&profiles[i]);
            return &profiles[i];
        }
    }
    return NULL;
}

int sim_profile_entry(unsigned index, const char **key, const char **alias_of,
                      const struct sim_profile **p)
{
    const size_t n_profiles = sizeof profiles / sizeof profiles[0];
    const size_t n_aliases = sizeof aliases / sizeof aliases[0];
    if (index < n_profiles) {
        *key = profiles[index].key;
        *alias_of = NULL;
        *p = &profiles[index];
        return 0;
    }
    if (index - n_profiles >= n_aliases)
        return -1;
    *key = aliases[index - n_profiles].alias;
    *alias_of = aliases[index - n_profiles].key;
    *p = NULL;
    for (size_t i = 0; i < n_profiles; i++)
        if (strcmp(*alias_of, profiles[i].key) == 0)
            *p = &profiles[i];
    return 0;
}

static char keys_text[256];

static void keys_append(size_t *n, const char *before, const char *word, const char *after)
{
    if (*n >= sizeof keys_text - 1)
        return;
    int w = snprintf(keys_text + *n, sizeof keys_text - *n, "%s%s%s", before, word, after);
    if (w > 0)
        *n += (size_t)w < sizeof keys_text - *n ? (size_t)w : sizeof keys_text - 1 - *n;
}

static void build_keys_text(void)
{
    size_t n = 0;
    for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++) {
        keys_append(&n, i ? ", " : "", profiles[i].key, "");
        for (size_t k = 0; k < sizeof aliases / sizeof aliases[0]; k++)
            if (strcmp(aliases[k].key, profiles[i].key) == 0)
                keys_append(&n, " (", aliases[k].alias, ")");
    }
}

const char *sim_profile_keys(void)
{
    /* Built once from the tables above; messages may come from any thread. */
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, build_keys_text);
    return keys_text;
}
