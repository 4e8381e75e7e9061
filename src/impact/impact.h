/* SPDX-License-Identifier: MIT */
/*
 * impact.h - what a measured energy means beyond joules (docs/impact.md): the shipped facts
 * about GPU models (data/hardware.tsv with its sources), the shipped carbon intensities of
 * electricity (data/carbon-intensity.tsv), the site settings (grid, PUE, device lifetime) and
 * their precedence, and the arithmetic of efficiency (FLOP per joule against the peak of this
 * GPU and of reference generations) and of emissions (use and manufacturing).
 *
 * Nothing here guesses: an unknown figure stays unknown (NAN) and is reported as such; no
 * location is inferred; nothing touches the network. Functions that can fail return 0 or -1
 * with a message naming the file, line and field in err.
 */
#ifndef JOULES_IMPACT_H
#define JOULES_IMPACT_H

#include <stddef.h>
#include <stdint.h>

#define IMPACT_ERR_MAX 512

/* Precisions of the peak throughput columns (dense, no sparsity). */
enum impact_precision {
    IMPACT_FP64,
    IMPACT_FP32,
    IMPACT_TF32,
    IMPACT_FP16, /* FP16/BF16 tensor */
    IMPACT_FP8,
    IMPACT_INT8,
    IMPACT_N_PRECISIONS
};
const char *impact_precision_name(int p);
/* "fp64", "fp32", "tf32", "fp16" (or "bf16"), "fp8", "int8" (any case): the precision, or -1. */
int impact_precision_parse(const char *s);

/* The figures of a hardware row, in the order of the table's columns. */
enum impact_field {
    IMPACT_F_NVML_NAMES, /* text: '|'-separated names as NVML reports them */
    IMPACT_F_PCI_IDS,    /* text: '|'-separated 0xDDDDVVVV ids */
    IMPACT_F_ARCH,       /* text */
    IMPACT_F_PROCESS,    /* text */
    IMPACT_F_TRANSISTORS_B,
    IMPACT_F_DIE_MM2,
    IMPACT_F_SMS,
    IMPACT_F_CUDA_CORES,
    IMPACT_F_TENSOR_CORES,
    IMPACT_F_MEM_TYPE, /* text */
    IMPACT_F_MEM_GB,
    IMPACT_F_MEM_BW_GBS,
    IMPACT_F_L2_MB,
    IMPACT_F_TDP_W,
    IMPACT_F_POWER_MIN_W,
    IMPACT_F_POWER_MAX_W,
    IMPACT_F_CLOCK_BASE_MHZ,
    IMPACT_F_CLOCK_MAX_MHZ,
    IMPACT_F_FP64, /* peak dense TFLOP/s, IMPACT_F_FP64 + precision */
    IMPACT_F_FP32,
    IMPACT_F_TF32,
    IMPACT_F_FP16,
    IMPACT_F_FP8,
    IMPACT_F_INT8, /* TOP/s */
    IMPACT_F_YEAR, /* release year */
    IMPACT_F_EMBODIED_LOW_KG,
    IMPACT_F_EMBODIED_HIGH_KG,
    IMPACT_N_FIELDS
};
/* The column name of a field ("tdp_w"). */
const char *impact_field_column(int f);

#define IMPACT_TEXT_MAX  160
#define IMPACT_SRC_MAX   64
#define IMPACT_VALUE_MAX 64

struct impact_hw {
    char key[32];   /* "a100-sxm4-40gb" */
    char model[48]; /* "A100 SXM4 40 GB" */
    char vendor[16];
    char text[IMPACT_N_FIELDS][IMPACT_TEXT_MAX]; /* the cell as written ("" unknown, "-" none) */
    double num[IMPACT_N_FIELDS];                 /* numeric fields; NAN unknown or none */
    char src[IMPACT_N_FIELDS][IMPACT_SRC_MAX];   /* space-separated source keys */
    uint32_t pci_ids[4];
    int n_pci;
    int line; /* in the file, for messages */
};

struct impact_source {
    char key[24];
    char text[256];
};

struct impact_hw_table {
    char path[512];
    struct impact_hw *rows;
    int n;
    struct impact_source *sources;
    int n_sources;
};

/* The directory of the shipped tables (data_dir.c), found one way for the command line and
 * the library alike: $JOULES_DATA_DIR; else ../share/joules beside the binary that holds
 * this code (the executable when linked statically, libjoules.so when loaded as a shared
 * library, in the build tree and the installed tree alike); else, when that directory has
 * no hardware.tsv, the installed one (IMPACT_INSTALL_DATADIR, set by the build). */
void impact_data_dir(char *buf, size_t len);

/* impact_hw_load's failures: the table is malformed, or a file cannot be read. */
#define IMPACT_ERR_PARSE -1
#define IMPACT_ERR_IO    -2

/* Read the hardware table and the sources it cites (sources_path NULL: not checked). A
 * missing file (IMPACT_ERR_IO), a malformed header or row, a figure without a source or a
 * source key that is not in the sources file (IMPACT_ERR_PARSE) fail with "FILE:LINE: ..."
 * in err. */
int impact_hw_load(struct impact_hw_table *t, const char *path, const char *sources_path, char *err,
                   size_t len);
void impact_hw_free(struct impact_hw_table *t);
/* By PCI id: the full 0xDDDDVVVV id of NVML, or a 16-bit device id. NULL if absent. */
const struct impact_hw *impact_hw_by_pci(const struct impact_hw_table *t, uint32_t id);
/* By name: a key, a model, an NVML name or a simulated profile's name ("a6000"), in any
 * case and spacing. NULL if absent. */
const struct impact_hw *impact_hw_by_name(const struct impact_hw_table *t, const char *name);
/* By a device's name as NVML or a domain reports it: impact_hw_by_name, then without a
 * trailing " (...)" note such as " (simulated)". NULL if absent. */
const struct impact_hw *impact_hw_by_device(const struct impact_hw_table *t, const char *name);
/* The citation of a source key, or NULL. */
const char *impact_source_text(const struct impact_hw_table *t, const char *key);
/* Peak FLOP per joule at a precision (peak FLOP/s / TDP); NAN when either is unknown. */
double impact_peak_flop_per_j(const struct impact_hw *hw, int precision);

/* ---- carbon intensity of electricity (carbon.c) ------------------------------------------ */

struct impact_zone {
    char zone[16]; /* "FRA", "WORLD" */
    char name[64];
    double g_per_kwh;
    int year;
    char source[160];
};

struct impact_zone_table {
    char path[512];
    struct impact_zone *rows;
    int n;
};

int impact_zones_load(struct impact_zone_table *t, const char *path, char *err, size_t len);
void impact_zones_free(struct impact_zone_table *t);
/* By zone code or name, any case. NULL if absent. */
const struct impact_zone *impact_zone_find(const struct impact_zone_table *t, const char *s);
/* Up to n zones nearest to s by edit distance of code or name ("FRA (France)" each). */
int impact_zone_nearest(const struct impact_zone_table *t, const char *s,
                        const struct impact_zone **out, int n);

#define IMPACT_INTENSITY_MAX_G_PER_KWH 2000.0
#define IMPACT_PUE_MAX                 10.0
#define IMPACT_LIFETIME_MAX_Y          20.0

/* A --grid value resolved: a zone of the table or a number of g/kWh. */
struct impact_grid {
    int set;
    double g_per_kwh;
    const struct impact_zone *zone; /* NULL: a number given directly */
};
/* Parse ZONE or G_PER_KWH (0..2000). Zone unknown: err lists the nearest names. */
int impact_grid_parse(const struct impact_zone_table *t, const char *s, struct impact_grid *g,
                      char *err, size_t len);
/* Range checks, with the valid range in err. */
int impact_check_pue(const char *s, double *out, char *err, size_t len);
/* Years: "3", "3y", or hours "26280h"; (0, 20] years. */
int impact_check_lifetime(const char *s, double *years, char *err, size_t len);
/* A FLOP count: finite, >= 0 ("1e12", "2.5e15"). */
int impact_check_flops(const char *s, double *out, char *err, size_t len);

/* ---- site settings and where they came from (site.c) ------------------------------------ */

enum impact_origin { IMPACT_FROM_DEFAULT, IMPACT_FROM_CONFIG, IMPACT_FROM_ENV, IMPACT_FROM_OPTION };
const char *impact_origin_name(int o);

struct impact_setting {
    char value[IMPACT_VALUE_MAX]; /* as written; "" when unset */
    int origin;
    char where[560]; /* "--pue", "JOULES_PUE", "FILE:LINE", "default" */
};

struct impact_site {
    struct impact_setting grid, pue, lifetime;
    char config_path[512]; /* the file that was read, or would have been */
    int config_found;
};

/* The configuration file: $XDG_CONFIG_HOME/joules/config, else $HOME/.config/joules/config
 * (environment passed in, so tests can give their own). "" when neither is set. */
void impact_config_path(const char *xdg_config_home, const char *home, char *buf, size_t len);
/* Defaults, then the file (if present), then JOULES_GRID/JOULES_PUE/JOULES_LIFETIME from
 * getenv_fn, then the options (NULL: not given). Values are checked where they come in:
 * a bad file value or unknown key fails naming file, line and key. */
int impact_site_resolve(struct impact_site *s, const char *config_path,
                        const char *(*getenv_fn)(const char *), const char *opt_grid,
                        const char *opt_pue, const char *opt_lifetime, char *err, size_t len);

/* ---- the arithmetic (calc.c) ------------------------------------------------------------ */

#define IMPACT_N_REFERENCES 4
/* The reference generations: keys of the hardware table (V100, A100, H100, B200). */
extern const char *const impact_reference_keys[IMPACT_N_REFERENCES];

struct impact_efficiency {
    double gflop_per_j, gflop_per_j_pm; /* NAN without FLOPs or energy */
    int precision;
    double peak_gflop_per_j; /* this GPU at that precision; NAN unknown */
    double share_of_peak;    /* fraction; NAN unknown */
    double ref_gflop_per_j[IMPACT_N_REFERENCES];
    double ref_share[IMPACT_N_REFERENCES]; /* run / reference peak */
};
void impact_efficiency(double flops, double energy_j, double energy_pm_j, int precision,
                       const struct impact_hw *hw, const struct impact_hw_table *t,
                       struct impact_efficiency *e);

struct impact_emissions {
    double device_energy_j, device_energy_pm_j;
    double pue;
    double facility_energy_j, facility_energy_pm_j;
    int have_grid;
    double g_per_kwh;
    double use_g, use_pm_g; /* NAN without a grid */
    double embodied_low_g;  /* NAN when a device's figure is unknown */
    double embodied_high_g;
    double lifetime_y, duration_s;
    double use_share_low, use_share_high; /* of use + manufacturing, fraction; NAN unknown */
};
/* Use and embodied emissions of a job of duration_s on n_devices devices of the given rows
 * (a NULL row: that device's embodied figure is unknown). */
void impact_emissions(double energy_j, double energy_pm_j, double duration_s, double pue,
                      const struct impact_grid *grid, double lifetime_y,
                      const struct impact_hw *const *devices, int n_devices,
                      struct impact_emissions *out);

#endif
