/* SPDX-License-Identifier: MIT */
/*
 * nvml.c - NVIDIA GPUs through NVML, loaded with dlopen at run time (no NVIDIA header or
 * SDK at build time: the ABI subset is in nvml_abi.h). Required symbols make the backend
 * usable; optional ones add details; versioned names are preferred with the unversioned
 * ones as fallbacks, as the driver keeps exporting both. Energy comes from the total-energy
 * counter where the device has one, else from integrated power (the core does both; this
 * file only reads). The simulated GPU is the same code path: it is recognised by its
 * jsim* extension symbols, never by its name.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/jsim.h"
#include "abi/nvml_abi.h"
#include "backends/nvml_lib.h"
#include "core/internal.h"

static const char *nvml_code_name(nvmlReturn_t r)
{
    switch (r) {
    case NVML_SUCCESS:
        return "NVML_SUCCESS";
    case NVML_ERROR_UNINITIALIZED:
        return "NVML_ERROR_UNINITIALIZED";
    case NVML_ERROR_INVALID_ARGUMENT:
        return "NVML_ERROR_INVALID_ARGUMENT";
    case NVML_ERROR_NOT_SUPPORTED:
        return "NVML_ERROR_NOT_SUPPORTED";
    case NVML_ERROR_NO_PERMISSION:
        return "NVML_ERROR_NO_PERMISSION";
    case NVML_ERROR_NOT_FOUND:
        return "NVML_ERROR_NOT_FOUND";
    case NVML_ERROR_INSUFFICIENT_POWER:
        return "NVML_ERROR_INSUFFICIENT_POWER";
    case NVML_ERROR_DRIVER_NOT_LOADED:
        return "NVML_ERROR_DRIVER_NOT_LOADED";
    case NVML_ERROR_TIMEOUT:
        return "NVML_ERROR_TIMEOUT";
    case NVML_ERROR_GPU_IS_LOST:
        return "NVML_ERROR_GPU_IS_LOST";
    case NVML_ERROR_RESET_REQUIRED:
        return "NVML_ERROR_RESET_REQUIRED";
    case NVML_ERROR_LIB_RM_VERSION_MISMATCH:
        return "NVML_ERROR_LIB_RM_VERSION_MISMATCH";
    case NVML_ERROR_NO_DATA:
        return "NVML_ERROR_NO_DATA";
    case NVML_ERROR_ARGUMENT_VERSION_MISMATCH:
        return "NVML_ERROR_ARGUMENT_VERSION_MISMATCH";
    case NVML_ERROR_UNKNOWN:
        return "NVML_ERROR_UNKNOWN";
    default:
        return "NVML error";
    }
}

/* What an NVML code means for a person, and the joules code it maps to. */
static int map_error(nvmlReturn_t r, const char **why)
{
    switch (r) {
    case NVML_ERROR_GPU_IS_LOST:
        *why = "the GPU is lost: it fell off the bus or stopped answering (check dmesg; a "
               "reset or reboot is usually needed)";
        return JOULES_E_DEVICE_LOST;
    case NVML_ERROR_NO_PERMISSION:
        *why = "permission denied by the driver (this operation needs root or CAP_SYS_ADMIN)";
        return JOULES_E_PERMISSION;
    case NVML_ERROR_NOT_SUPPORTED:
        *why = "not supported by this GPU or driver";
        return JOULES_E_NOT_SUPPORTED;
    case NVML_ERROR_DRIVER_NOT_LOADED:
        *why = "the NVIDIA kernel driver is not loaded";
        return JOULES_E_LIBRARY;
    case NVML_ERROR_LIB_RM_VERSION_MISMATCH:
        *why = "the NVML library and the kernel driver versions differ (reboot after a "
               "driver update)";
        return JOULES_E_LIBRARY;
    case NVML_ERROR_UNINITIALIZED:
        *why = "NVML is not initialised";
        return JOULES_E_STATE;
    case NVML_ERROR_INVALID_ARGUMENT:
        *why = "the driver rejected an argument";
        return JOULES_E_INVALID;
    case NVML_ERROR_INSUFFICIENT_POWER:
        *why = "the GPU's power cables are not properly attached";
        return JOULES_E_DRIVER;
    default:
        *why = "the driver reported an error";
        return JOULES_E_DRIVER;
    }
}

int joules__nvml_fail(const struct nvml_lib *lib, nvmlReturn_t r, const char *call, const char *who,
                      char *msg, size_t len)
{
    const char *why;
    int code = map_error(r, &why);
    const char *text = lib->error_string ? lib->error_string(r) : NULL;
    /* The driver's text is bounded too: a precision reads no further than it. */
    joules__msg(msg, len, "%s%s%s: %s (%s%s%.*s)", who ? who : "", who ? ": " : "", call, why,
                nvml_code_name(r), text ? ", " : "", NVML_TEXT_MAX, text ? text : "");
    return code;
}

static int transient(nvmlReturn_t r)
{
    return r == NVML_ERROR_UNKNOWN || r == NVML_ERROR_TIMEOUT || r == NVML_ERROR_NO_DATA;
}

/* A string from the driver is read only within its buffer: NVML promises a NUL inside it, but a
 * library that fills the buffer to its end must not make joules read past it. On failure the
 * buffer is left empty, whatever the library wrote into it. */
nvmlReturn_t joules__nvml_read_dev_str(fn_str f, nvmlDevice_t h, char *buf, unsigned size)
{
    nvmlReturn_t r = f(h, buf, size);
    buf[size - 1] = '\0';
    if (r != NVML_SUCCESS)
        buf[0] = '\0';
    return r;
}

nvmlReturn_t joules__nvml_read_sys_str(fn_sysstr f, char *buf, unsigned size)
{
    nvmlReturn_t r = f(buf, size);
    buf[size - 1] = '\0';
    if (r != NVML_SUCCESS)
        buf[0] = '\0';
    return r;
}

static void *sym(void *dl, const char *name)
{
    return dlsym(dl, name);
}

static void *sym2(void *dl, const char *name, const char *fallback)
{
    void *p = dlsym(dl, name);
    return p ? p : dlsym(dl, fallback);
}

static int load_symbols(struct nvml_lib *lib, char *msg, size_t len)
{
    void *dl = lib->dl;
    lib->init = (fn_void)sym2(dl, "nvmlInit_v2", "nvmlInit");
    lib->shutdown = (fn_void)sym(dl, "nvmlShutdown");
    lib->error_string = (fn_errstr)sym(dl, "nvmlErrorString");
    lib->count = (fn_u32p)sym2(dl, "nvmlDeviceGetCount_v2", "nvmlDeviceGetCount");
    lib->handle =
        (fn_handle)sym2(dl, "nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex");
    lib->name = (fn_str)sym(dl, "nvmlDeviceGetName");
    const char *missing = !lib->init       ? "nvmlInit_v2"
                          : !lib->shutdown ? "nvmlShutdown"
                          : !lib->count    ? "nvmlDeviceGetCount_v2"
                          : !lib->handle   ? "nvmlDeviceGetHandleByIndex_v2"
                          : !lib->name     ? "nvmlDeviceGetName"
                                           : NULL;
    if (missing) {
        joules__msg(msg, len, "%s does not export %s: not a usable NVML library", lib->path,
                    missing);
        return JOULES_E_LIBRARY;
    }
    lib->uuid = (fn_str)sym(dl, "nvmlDeviceGetUUID");
    lib->driver_version = (fn_sysstr)sym(dl, "nvmlSystemGetDriverVersion");
    lib->pci = (fn_pci)sym2(dl, "nvmlDeviceGetPciInfo_v3", "nvmlDeviceGetPciInfo_v2");
    if (!lib->pci)
        lib->pci = (fn_pci)sym(dl, "nvmlDeviceGetPciInfo");
    lib->arch = (fn_dev_u32p)sym(dl, "nvmlDeviceGetArchitecture");
    lib->energy = (fn_dev_u64p)sym(dl, "nvmlDeviceGetTotalEnergyConsumption");
    lib->power_usage = (fn_dev_u32p)sym(dl, "nvmlDeviceGetPowerUsage");
    lib->fields = (fn_fields)sym(dl, "nvmlDeviceGetFieldValues");
    lib->power_limit = (fn_dev_u32p)sym(dl, "nvmlDeviceGetPowerManagementLimit");
    lib->power_enforced = (fn_dev_u32p)sym(dl, "nvmlDeviceGetEnforcedPowerLimit");
    lib->power_default = (fn_dev_u32p)sym(dl, "nvmlDeviceGetPowerManagementDefaultLimit");
    lib->limit_constraints = (fn_dev_2u32p)sym(dl, "nvmlDeviceGetPowerManagementLimitConstraints");
    lib->set_power_limit = (fn_dev_u32)sym(dl, "nvmlDeviceSetPowerManagementLimit");
    lib->clock_info = (fn_dev_type_u32p)sym(dl, "nvmlDeviceGetClockInfo");
    lib->max_clock = (fn_dev_type_u32p)sym(dl, "nvmlDeviceGetMaxClockInfo");
    lib->temperature = (fn_dev_type_u32p)sym(dl, "nvmlDeviceGetTemperature");
    lib->pstate = (fn_dev_u32p)sym(dl, "nvmlDeviceGetPerformanceState");
    lib->reasons = (fn_dev_u64p)sym2(dl, "nvmlDeviceGetCurrentClocksEventReasons",
                                     "nvmlDeviceGetCurrentClocksThrottleReasons");
    lib->lock_clocks = (fn_dev_2u32)sym(dl, "nvmlDeviceSetGpuLockedClocks");
    lib->reset_clocks = (fn_dev)sym(dl, "nvmlDeviceResetGpuLockedClocks");
    lib->memory = (fn_mem)sym(dl, "nvmlDeviceGetMemoryInfo");
    lib->utilization = (fn_util)sym(dl, "nvmlDeviceGetUtilizationRates");
    jsimIsSimulated_fn is_sim = (jsimIsSimulated_fn)sym(dl, JSIM_SYMBOL_IS_SIMULATED);
    lib->simulated = is_sim && is_sim() == 1;
    lib->sim_true_energy = (jsimGetTrueEnergy_fn)sym(dl, JSIM_SYMBOL_GET_TRUE_ENERGY);
    lib->sim_last_error = (jsimLastError_fn)sym(dl, JSIM_SYMBOL_LAST_ERROR);
    lib->sim_stated_accuracy = (jsimGetStatedAccuracy_fn)sym(dl, JSIM_SYMBOL_GET_STATED_ACCURACY);
    return 0;
}

static void lib_close(void *state)
{
    struct nvml_lib *lib = state;
    if (!lib)
        return;
    if (lib->initialised)
        lib->shutdown();
    if (lib->dl)
        dlclose(lib->dl);
    free(lib->devices);
    free(lib);
}

/* One unsigned field (nvmlDeviceGetFieldValues): the call's or the field's own status, the
 * value in *out when NVML_SUCCESS. */
nvmlReturn_t joules__nvml_field_u32(const struct nvml_lib *lib, nvmlDevice_t h, unsigned id,
                                    unsigned *out)
{
    if (!lib->fields)
        return NVML_ERROR_FUNCTION_NOT_FOUND;
    nvmlFieldValue_t fv;
    memset(&fv, 0, sizeof fv);
    fv.fieldId = id;
    nvmlReturn_t r = lib->fields(h, 1, &fv);
    if (r == NVML_SUCCESS)
        r = (nvmlReturn_t)fv.nvmlReturn;
    if (r == NVML_SUCCESS)
        *out = fv.value.uiVal;
    return r;
}

int joules__nvml_read_power(struct nvml_dev *dev, double *power_w, nvmlReturn_t *r)
{
    struct nvml_lib *lib = dev->lib;
    unsigned mw = 0;
    if (dev->power == POWER_FIELD_INSTANT) {
        *r = joules__nvml_field_u32(lib, dev->handle, NVML_FI_DEV_POWER_INSTANT, &mw);
        if (*r != NVML_SUCCESS)
            return -1;
        *power_w = (double)mw * 1e-3;
        return 0;
    }
    *r = lib->power_usage(dev->handle, &mw);
    if (*r != NVML_SUCCESS)
        return -1;
    *power_w = (double)mw * 1e-3;
    return 0;
}

static int dev_read(struct joules__domain *d, struct joules__sample *s, char *msg, size_t len)
{
    struct nvml_dev *dev = d->backend;
    struct nvml_lib *lib = dev->lib;
    nvmlReturn_t r = NVML_SUCCESS;
    for (int attempt = 0; attempt <= TRANSIENT_RETRIES; attempt++) {
        s->t_ns = joules__now_ns();
        if (dev->have_counter) {
            unsigned long long mj = 0;
            r = lib->energy(dev->handle, &mj);
            if (r != NVML_SUCCESS) {
                if (transient(r))
                    continue;
                return joules__nvml_fail(lib, r, "nvmlDeviceGetTotalEnergyConsumption",
                                         d->info.name, msg, len);
            }
            s->counter_done_ns = joules__now_ns();
            s->have_counter = 1;
            s->counter_raw = mj;
        }
        if (dev->power != POWER_NONE) {
            double p;
            if (joules__nvml_read_power(dev, &p, &r) != 0) {
                if (transient(r))
                    continue;
                return joules__nvml_fail(lib, r, "power reading", d->info.name, msg, len);
            }
            s->have_power = 1;
            s->power_w = p;
        }
        return 0;
    }
    return joules__nvml_fail(lib, r, "reading energy and power (after retries)", d->info.name, msg,
                             len);
}

static const struct joules__domain_ops nvml_ops = {
    .read = dev_read,
    .gpu_status = joules__nvml_status,
    .lock_clocks = joules__nvml_lock_clocks,
    .reset_clocks = joules__nvml_reset_clocks,
    .set_power_limit = joules__nvml_set_power_limit,
    .gpu_live = joules__nvml_live,
    .sim_truth = joules__nvml_sim_truth,
};

/* Which power reading to use: the instant field where the driver has it (a 1-s average
 * would smear every edge), else nvmlDeviceGetPowerUsage. */
static enum power_source probe_power(struct nvml_lib *lib, nvmlDevice_t h)
{
    unsigned mw;
    if (joules__nvml_field_u32(lib, h, NVML_FI_DEV_POWER_INSTANT, &mw) == NVML_SUCCESS)
        return POWER_FIELD_INSTANT;
    if (lib->power_usage && lib->power_usage(h, &mw) == NVML_SUCCESS)
        return POWER_USAGE;
    return POWER_NONE;
}

/*
 * GA100 (A100, A30, A800) is the Ampere chip whose nvmlDeviceGetPowerUsage is instantaneous.
 * Its PCI device IDs are 0x2080-0x20FF (pci.ids: 20B0 A100 SXM4 40GB ... 20F5 A800); GA10x
 * chips start at 0x2200. Without a PCI ID, GA100 is the Ampere chip that lacks the 1-s
 * average field (185), but only on a driver that has the power fields (R535 and later: the
 * instant field 186 answers); older ones lack 185 on every board. 1, 0, or -1: unknown.
 */
static int is_ga100(unsigned pci_device_id, int have_avg_field, int have_power_fields)
{
    unsigned dev_id = pci_device_id >> 16, vendor = pci_device_id & 0xFFFFu;
    if (vendor == 0x10DEu && dev_id != 0)
        return dev_id >= 0x2080u && dev_id <= 0x20FFu;
    return have_power_fields ? !have_avg_field : -1;
}

/*
 * How much of each ~100 ms update period the power reading averages (reference/nvml.md §9,
 * after Yang, Adamek and Armour): the instant reading of GA100 and GH100 boards shows the
 * last 25 ms of each period, that of GA10x, Ada and Turing the whole period; Volta and Pascal
 * about 10 ms; nvmlDeviceGetPowerUsage outside GA100 and older is a 1-s moving average (the
 * only reading drivers before R535 give, which lack field 186). Unknown chips get the whole
 * period: edges then assume nothing of where the reading looked.
 */
static double reading_window_s(struct nvml_lib *lib, nvmlDevice_t h, enum power_source source,
                               unsigned pci_device_id)
{
    unsigned a = NVML_DEVICE_ARCH_UNKNOWN;
    if (lib->arch)
        (void)lib->arch(h, &a);
    unsigned mw;
    int have_avg = joules__nvml_field_u32(lib, h, NVML_FI_DEV_POWER_AVERAGE, &mw) == NVML_SUCCESS;
    /* An Ampere board that may be either chip gets the whole period below. */
    int ga100 = a == NVML_DEVICE_ARCH_AMPERE
                    ? is_ga100(pci_device_id, have_avg, source == POWER_FIELD_INSTANT)
                    : 0;
    int averaged_usage = a >= NVML_DEVICE_ARCH_ADA && a != NVML_DEVICE_ARCH_UNKNOWN;
    averaged_usage |= a == NVML_DEVICE_ARCH_AMPERE && ga100 == 0;
    if (source == POWER_USAGE && averaged_usage)
        return 1.0;
    if (a == NVML_DEVICE_ARCH_HOPPER || ga100 == 1)
        return 0.025;
    if (a == NVML_DEVICE_ARCH_VOLTA || a == NVML_DEVICE_ARCH_PASCAL)
        return 0.01;
    return 0.1;
}

static int add_device(joules_monitor *m, const joules_options *o, struct nvml_lib *lib,
                      unsigned index, char *msg, size_t len)
{
    struct nvml_dev *dev = &lib->devices[lib->n_devices];
    dev->lib = lib;
    dev->index = index;
    nvmlReturn_t r = lib->handle(index, &dev->handle);
    if (r != NVML_SUCCESS)
        return joules__nvml_fail(lib, r, "nvmlDeviceGetHandleByIndex", NULL, msg, len);

    struct joules__domain d;
    memset(&d, 0, sizeof d);
    snprintf(d.info.name, sizeof d.info.name, "gpu%u", index);
    d.info.kind = JOULES_KIND_GPU;
    d.info.parent = -1;
    d.info.counted_in_total = 1;
    d.info.simulated = lib->simulated;
    char name[NVML_DEVICE_NAME_V2_BUFFER_SIZE] = "";
    r = joules__nvml_read_dev_str(lib->name, dev->handle, name, sizeof name);
    if (r != NVML_SUCCESS)
        return joules__nvml_fail(lib, r, "nvmlDeviceGetName", d.info.name, msg, len);
    snprintf(d.info.device, sizeof d.info.device, "%s", name);
    if (lib->uuid)
        (void)joules__nvml_read_dev_str(lib->uuid, dev->handle, d.info.uuid, sizeof d.info.uuid);
    nvmlPciInfo_t pci;
    memset(&pci, 0, sizeof pci);
    if (lib->pci && lib->pci(dev->handle, &pci) == NVML_SUCCESS)
        snprintf(d.info.bus_id, sizeof d.info.bus_id, "%.*s", (int)sizeof pci.busId, pci.busId);

    unsigned long long mj;
    r = lib->energy ? lib->energy(dev->handle, &mj) : NVML_ERROR_FUNCTION_NOT_FOUND;
    if (r == NVML_ERROR_GPU_IS_LOST)
        return joules__nvml_fail(lib, r, "nvmlDeviceGetTotalEnergyConsumption", d.info.name, msg,
                                 len);
    dev->have_counter = r == NVML_SUCCESS;
    dev->power = probe_power(lib, dev->handle);
    if (!dev->have_counter && dev->power == POWER_NONE) {
        joules__msg(msg, len, "%s (%s): neither the energy counter nor a power sensor is readable",
                    d.info.name, name);
        return JOULES_E_NOT_SUPPORTED;
    }
    d.info.caps = (dev->have_counter ? JOULES_CAP_ENERGY_COUNTER : 0) |
                  (dev->power != POWER_NONE ? JOULES_CAP_POWER : 0) |
                  (lib->lock_clocks ? JOULES_CAP_CLOCK_CONTROL : 0) |
                  (lib->set_power_limit ? JOULES_CAP_POWER_LIMIT : 0);
    d.info.method = dev->have_counter ? JOULES_METHOD_COUNTER : JOULES_METHOD_INTEGRATED;
    d.info.update_interval_ns = NVML_COUNTER_PERIOD_NS;
    d.info.resolution_j = 1e-3;
    /* The simulator's sensors have no gain error unless a scenario asks for one. */
    d.info.sensor_accuracy = lib->simulated ? 0.0 : NVML_SENSOR_ACCURACY;
    double stated = 0.0;
    if (lib->simulated && lib->sim_stated_accuracy &&
        lib->sim_stated_accuracy(dev->handle, &stated) == NVML_SUCCESS)
        d.info.sensor_accuracy = stated;
    const char *power_name = dev->power == POWER_FIELD_INSTANT ? "instant power (field 186)"
                             : dev->power == POWER_USAGE       ? "nvmlDeviceGetPowerUsage"
                                                               : "no power sensor";
    joules__msg(d.info.source, sizeof d.info.source, "%s%s, edges from %s, via %s",
                lib->simulated ? "SIMULATED GPU: " : "",
                dev->have_counter ? "NVML total-energy counter (mJ, ~100 ms steps)"
                                  : "NVML power samples integrated (energy counter not supported)",
                power_name, lib->path);
    d.ops = &nvml_ops;
    d.backend = dev;
    d.counter_unit_j = 1e-3;
    d.counter_range = 0;
    d.poll_ns = (int64_t)o->tracker_period_ns;
    d.power_window_s = dev->power == POWER_NONE
                           ? 0.0
                           : reading_window_s(lib, dev->handle, dev->power, pci.pciDeviceId);
    d.info.power_window_s = d.power_window_s;
    /* The most the board may draw: what a sensor that has not caught up yet could hide. */
    unsigned lo_mw = 0, hi_mw = 0;
    if (lib->limit_constraints &&
        lib->limit_constraints(dev->handle, &lo_mw, &hi_mw) == NVML_SUCCESS)
        d.power_max_w = hi_mw * 1e-3;
    else
        d.power_max_w = joules__nvml_mw_or(lib->power_limit, dev->handle);
    int idx = joules__add_domain(m, &d);
    if (idx < 0) {
        joules__msg(msg, len, "%s", joules_last_error(m));
        return idx;
    }
    lib->n_devices++;
    return 0;
}

int joules__nvml_open(joules_monitor *m, const joules_options *o)
{
    struct nvml_lib *lib = calloc(1, sizeof *lib);
    if (!lib)
        return joules__fail(m, JOULES_E_NOMEM, "out of memory loading NVML");
    snprintf(lib->path, sizeof lib->path, "%s", o->nvml_library);
    char msg[JOULES_MESSAGE_MAX] = "";
    dlerror();
    lib->dl = dlopen(lib->path, RTLD_NOW | RTLD_LOCAL);
    if (!lib->dl) {
        const char *e = dlerror();
        joules__backend_set(m, JOULES_BACKEND_NVML, JOULES_E_LIBRARY, NULL, NULL,
                            "cannot load the NVIDIA management library %s: %s (no NVIDIA driver "
                            "installed, or set the library path)",
                            lib->path, e ? e : "unknown reason");
        free(lib);
        return 0;
    }
    int rc = load_symbols(lib, msg, sizeof msg);
    if (rc == 0) {
        nvmlReturn_t r = lib->init();
        if (r != NVML_SUCCESS) {
            rc = joules__nvml_fail(lib, r, "nvmlInit", NULL, msg, sizeof msg);
            /* Room for all the message can show: the simulator shortens what does not fit
             * (the start of a file's path first), so that file:line: message stays whole. */
            static const char lead[] = "simulated GPU: ";
            char detail[sizeof msg - (sizeof lead - 1)] = "";
            if (lib->sim_last_error && lib->sim_last_error(detail, sizeof detail) == 0 && detail[0])
                joules__msg(msg, sizeof msg, "%s%s", lead, detail);
        } else {
            lib->initialised = 1;
        }
    }
    unsigned count = 0;
    if (rc == 0) {
        nvmlReturn_t r = lib->count(&count);
        if (r != NVML_SUCCESS)
            rc = joules__nvml_fail(lib, r, "nvmlDeviceGetCount", NULL, msg, sizeof msg);
        else if (count == 0) {
            rc = JOULES_E_NO_DOMAIN;
            joules__msg(msg, sizeof msg, "NVML loaded from %s but reports no GPU", lib->path);
        } else if (count > JOULES_MAX_DOMAINS)
            count = JOULES_MAX_DOMAINS;
    }
    if (rc == 0) {
        lib->devices = calloc(count, sizeof *lib->devices);
        if (!lib->devices) {
            lib_close(lib);
            return joules__fail(m, JOULES_E_NOMEM, "out of memory for %u GPUs", count);
        }
        for (unsigned i = 0; i < count && rc == 0; i++) {
            rc = add_device(m, o, lib, i, msg, sizeof msg);
            if (rc == JOULES_E_NOMEM || rc == JOULES_E_SYSTEM) {
                lib_close(lib);
                return joules__fail(m, rc, "%s", msg);
            }
        }
    }
    if (rc != 0 && lib->n_devices == 0) {
        joules__backend_set(m, JOULES_BACKEND_NVML, rc, NULL, NULL, "%s", msg);
        lib_close(lib);
        return 0;
    }
    /* Devices added before a failing one stay: measure what can be measured, and say it. */
    joules__backend_set(m, JOULES_BACKEND_NVML, 0, lib, lib_close, "%s%u GPU%s via %s%s%s",
                        lib->simulated ? "SIMULATED: " : "", lib->n_devices,
                        lib->n_devices == 1 ? "" : "s", lib->path, rc ? "; " : "", rc ? msg : "");
    return 0;
}
