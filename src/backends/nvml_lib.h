/* SPDX-License-Identifier: MIT */
/*
 * nvml_lib.h - what the NVML backend's two files share: the loaded library's symbols, a
 * device's state, and the helpers both call. nvml.c loads the library and reads energy and
 * power; nvml_status.c answers the GPU operations (status, live state, clocks, power limit,
 * the simulator's truth).
 */
#ifndef JOULES_BACKENDS_NVML_LIB_H
#define JOULES_BACKENDS_NVML_LIB_H

#include <stddef.h>
#include <stdint.h>

#include "abi/jsim.h"
#include "abi/nvml_abi.h"
#include "core/internal.h"

#define NVML_COUNTER_PERIOD_NS 100000000ull /* NVIDIA's counter steps every ~100 ms */
#define NVML_SENSOR_ACCURACY   0.05         /* NVIDIA: +/-5 % of draw (nvml.md section 9) */
#define TRANSIENT_RETRIES      2
#define NVML_TEXT_MAX          160 /* the longest error text of a driver joules quotes */

typedef nvmlReturn_t (*fn_void)(void);
typedef nvmlReturn_t (*fn_u32p)(unsigned int *);
typedef nvmlReturn_t (*fn_handle)(unsigned int, nvmlDevice_t *);
typedef nvmlReturn_t (*fn_str)(nvmlDevice_t, char *, unsigned int);
typedef nvmlReturn_t (*fn_sysstr)(char *, unsigned int);
typedef nvmlReturn_t (*fn_dev_u32p)(nvmlDevice_t, unsigned int *);
typedef nvmlReturn_t (*fn_dev_u32)(nvmlDevice_t, unsigned int);
typedef nvmlReturn_t (*fn_dev_u64p)(nvmlDevice_t, unsigned long long *);
typedef nvmlReturn_t (*fn_dev_2u32p)(nvmlDevice_t, unsigned int *, unsigned int *);
typedef nvmlReturn_t (*fn_dev_2u32)(nvmlDevice_t, unsigned int, unsigned int);
typedef nvmlReturn_t (*fn_dev)(nvmlDevice_t);
typedef nvmlReturn_t (*fn_dev_type_u32p)(nvmlDevice_t, unsigned int, unsigned int *);
typedef nvmlReturn_t (*fn_pci)(nvmlDevice_t, nvmlPciInfo_t *);
typedef nvmlReturn_t (*fn_fields)(nvmlDevice_t, int, nvmlFieldValue_t *);
typedef nvmlReturn_t (*fn_mem)(nvmlDevice_t, nvmlMemory_t *);
typedef nvmlReturn_t (*fn_util)(nvmlDevice_t, nvmlUtilization_t *);
typedef const char *(*fn_errstr)(nvmlReturn_t);

struct nvml_lib {
    void *dl;
    char path[1024];
    int initialised;
    int simulated;
    fn_void init;
    fn_void shutdown;
    fn_errstr error_string;
    fn_u32p count;
    fn_handle handle;
    fn_str name, uuid;
    fn_sysstr driver_version;
    fn_pci pci;
    fn_dev_u32p arch, power_usage, power_limit, power_enforced, power_default, pstate;
    fn_dev_2u32p limit_constraints;
    fn_dev_u64p energy, reasons;
    fn_fields fields;
    fn_dev_type_u32p clock_info, max_clock, temperature;
    fn_dev_2u32 lock_clocks;
    fn_dev reset_clocks;
    fn_dev_u32 set_power_limit;
    fn_mem memory;
    fn_util utilization;
    jsimGetTrueEnergy_fn sim_true_energy;
    jsimLastError_fn sim_last_error;
    jsimGetStatedAccuracy_fn sim_stated_accuracy;
    int n_devices;
    struct nvml_dev *devices;
};

enum power_source { POWER_NONE, POWER_FIELD_INSTANT, POWER_USAGE };

struct nvml_dev {
    struct nvml_lib *lib;
    nvmlDevice_t handle;
    unsigned index;
    int have_counter;
    enum power_source power;
};

/* The message of a failed call into msg ("who: call: why (NVML_ERROR_X, driver text)");
 * returns the JOULES_E_* code it maps to. */
int joules__nvml_fail(const struct nvml_lib *lib, nvmlReturn_t r, const char *call, const char *who,
                      char *msg, size_t len);
/* A driver's string read within its buffer (empty on failure). */
nvmlReturn_t joules__nvml_read_dev_str(fn_str f, nvmlDevice_t h, char *buf, unsigned size);
nvmlReturn_t joules__nvml_read_sys_str(fn_sysstr f, char *buf, unsigned size);
/* One unsigned field value (nvmlDeviceGetFieldValues). */
nvmlReturn_t joules__nvml_field_u32(const struct nvml_lib *lib, nvmlDevice_t h, unsigned id,
                                    unsigned *out);

/* The device's power now, from the source probed at open: 0, or -1 with *r the failure. */
int joules__nvml_read_power(struct nvml_dev *dev, double *power_w, nvmlReturn_t *r);
/* A milliwatt reading in watts, -1 where the driver has none. */
double joules__nvml_mw_or(fn_dev_u32p f, nvmlDevice_t h);

/* The GPU operations of a domain (nvml_status.c). */
int joules__nvml_status(struct joules__domain *d, joules_gpu_status *out, char *msg, size_t len);
int joules__nvml_live(struct joules__domain *d, struct joules__gpu_live *out, char *msg,
                      size_t len);
int joules__nvml_lock_clocks(struct joules__domain *d, unsigned min_mhz, unsigned max_mhz,
                             char *msg, size_t len);
int joules__nvml_reset_clocks(struct joules__domain *d, char *msg, size_t len);
int joules__nvml_set_power_limit(struct joules__domain *d, double limit_w, char *msg, size_t len);
int joules__nvml_sim_truth(struct joules__domain *d, int64_t t0_ns, int64_t t1_ns,
                           double *energy_j);

#endif
