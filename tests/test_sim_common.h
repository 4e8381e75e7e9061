/* SPDX-License-Identifier: MIT */
/*
 * test_sim_common.h - what the simulated-GPU tests share: the library is reached only as a
 * stock NVML client would, with dlopen(JOULES_TEST_SIM_LIB) and dlsym, never linked. The
 * library reads its environment at the first nvmlInit* of the process, so each test file
 * sets its variables before that and is its own process.
 */
#ifndef JOULES_TEST_SIM_COMMON_H
#define JOULES_TEST_SIM_COMMON_H

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "abi/nvml_abi.h"
#include "abi/jsim.h"
#include "testlib.h"

struct sim_api {
    void *h;
    nvmlReturn_t (*Init)(void);
    nvmlReturn_t (*Init_v2)(void);
    nvmlReturn_t (*InitWithFlags)(unsigned int);
    nvmlReturn_t (*Shutdown)(void);
    const char *(*ErrorString)(nvmlReturn_t);
    nvmlReturn_t (*SystemGetDriverVersion)(char *, unsigned int);
    nvmlReturn_t (*SystemGetNVMLVersion)(char *, unsigned int);
    nvmlReturn_t (*GetCount)(unsigned int *);
    nvmlReturn_t (*GetCount_v2)(unsigned int *);
    nvmlReturn_t (*GetHandleByIndex)(unsigned int, nvmlDevice_t *);
    nvmlReturn_t (*GetHandleByIndex_v2)(unsigned int, nvmlDevice_t *);
    nvmlReturn_t (*GetName)(nvmlDevice_t, char *, unsigned int);
    nvmlReturn_t (*GetUUID)(nvmlDevice_t, char *, unsigned int);
    nvmlReturn_t (*GetPciInfo_v3)(nvmlDevice_t, nvmlPciInfo_t *);
    nvmlReturn_t (*GetArchitecture)(nvmlDevice_t, unsigned int *);
    nvmlReturn_t (*GetMemoryInfo)(nvmlDevice_t, nvmlMemory_t *);
    nvmlReturn_t (*GetMemoryInfo_v2)(nvmlDevice_t, nvmlMemory_v2_t *);
    nvmlReturn_t (*GetComputeRunningProcesses_v3)(nvmlDevice_t, unsigned int *,
                                                  nvmlProcessInfo_t *);
    nvmlReturn_t (*GetTotalEnergyConsumption)(nvmlDevice_t, unsigned long long *);
    nvmlReturn_t (*GetPowerUsage)(nvmlDevice_t, unsigned int *);
    nvmlReturn_t (*GetFieldValues)(nvmlDevice_t, int, nvmlFieldValue_t *);
    nvmlReturn_t (*GetPowerManagementLimit)(nvmlDevice_t, unsigned int *);
    nvmlReturn_t (*GetPowerManagementLimitConstraints)(nvmlDevice_t, unsigned int *,
                                                       unsigned int *);
    nvmlReturn_t (*SetPowerManagementLimit)(nvmlDevice_t, unsigned int);
    nvmlReturn_t (*SetPowerManagementLimit_v2)(nvmlDevice_t, nvmlPowerValue_v2_t *);
    nvmlReturn_t (*GetClockInfo)(nvmlDevice_t, unsigned int, unsigned int *);
    nvmlReturn_t (*GetMaxClockInfo)(nvmlDevice_t, unsigned int, unsigned int *);
    nvmlReturn_t (*GetSupportedMemoryClocks)(nvmlDevice_t, unsigned int *, unsigned int *);
    nvmlReturn_t (*GetSupportedGraphicsClocks)(nvmlDevice_t, unsigned int, unsigned int *,
                                               unsigned int *);
    nvmlReturn_t (*SetGpuLockedClocks)(nvmlDevice_t, unsigned int, unsigned int);
    nvmlReturn_t (*ResetGpuLockedClocks)(nvmlDevice_t);
    nvmlReturn_t (*GetCurrentClocksEventReasons)(nvmlDevice_t, unsigned long long *);
    nvmlReturn_t (*GetTemperature)(nvmlDevice_t, unsigned int, unsigned int *);
    nvmlReturn_t (*GetPerformanceState)(nvmlDevice_t, unsigned int *);
    nvmlReturn_t (*GetUtilizationRates)(nvmlDevice_t, nvmlUtilization_t *);
    jsimIsSimulated_fn IsSimulated;
    jsimLastError_fn LastError;
    jsimGetTrueEnergy_fn GetTrueEnergy;
    jsimGetTruePower_fn GetTruePower;
    jsimGetState_fn GetState;
    jsimReconfigure_fn Reconfigure;
    jsimAdvance_fn Advance;
    jsimNow_fn Now;
    jsimRunKernel_fn RunKernel;
    jsimLaunchKernel_fn LaunchKernel;
    jsimToggleRate_fn ToggleRate;
    jsimAlphaFromToggle_fn AlphaFromToggle;
    jsimGetSettings_fn GetSettings;
    nvmlReturn_t (*SetApplicationsClocks)(nvmlDevice_t, unsigned int, unsigned int);
    nvmlReturn_t (*ResetApplicationsClocks)(nvmlDevice_t);
};

/* Look a symbol up; a missing one is a failed check and exits (nothing else can run). */
static inline void sim_sym(struct sim_api *a, void *slot, const char *name)
{
    void *f = dlsym(a->h, name);
    if (!f) {
        fprintf(stderr, "FATAL: symbol %s missing from %s\n", name, JOULES_TEST_SIM_LIB);
        exit(1);
    }
    *(void **)slot = f;
}

static inline void sim_load(struct sim_api *a)
{
    /* Unless the test (or its parent process) chose otherwise: a model of the process's own
     * with its sensors on the exact grid, also when run outside CTest's environment. */
    setenv("JOULES_SIM_MACHINE", "private", 0);
    setenv("JOULES_SIM_SENSOR_CLOCK", "exact", 0);
    a->h = dlopen(JOULES_TEST_SIM_LIB, RTLD_NOW | RTLD_LOCAL);
    if (!a->h) {
        fprintf(stderr, "FATAL: dlopen %s: %s\n", JOULES_TEST_SIM_LIB, dlerror());
        exit(1);
    }
#define S(field, name) sim_sym(a, &a->field, name)
    S(Init, "nvmlInit");
    S(Init_v2, "nvmlInit_v2");
    S(InitWithFlags, "nvmlInitWithFlags");
    S(Shutdown, "nvmlShutdown");
    S(ErrorString, "nvmlErrorString");
    S(SystemGetDriverVersion, "nvmlSystemGetDriverVersion");
    S(SystemGetNVMLVersion, "nvmlSystemGetNVMLVersion");
    S(GetCount, "nvmlDeviceGetCount");
    S(GetCount_v2, "nvmlDeviceGetCount_v2");
    S(GetHandleByIndex, "nvmlDeviceGetHandleByIndex");
    S(GetHandleByIndex_v2, "nvmlDeviceGetHandleByIndex_v2");
    S(GetName, "nvmlDeviceGetName");
    S(GetUUID, "nvmlDeviceGetUUID");
    S(GetPciInfo_v3, "nvmlDeviceGetPciInfo_v3");
    S(GetArchitecture, "nvmlDeviceGetArchitecture");
    S(GetMemoryInfo, "nvmlDeviceGetMemoryInfo");
    S(GetMemoryInfo_v2, "nvmlDeviceGetMemoryInfo_v2");
    S(GetComputeRunningProcesses_v3, "nvmlDeviceGetComputeRunningProcesses_v3");
    S(GetTotalEnergyConsumption, "nvmlDeviceGetTotalEnergyConsumption");
    S(GetPowerUsage, "nvmlDeviceGetPowerUsage");
    S(GetFieldValues, "nvmlDeviceGetFieldValues");
    S(GetPowerManagementLimit, "nvmlDeviceGetPowerManagementLimit");
    S(GetPowerManagementLimitConstraints, "nvmlDeviceGetPowerManagementLimitConstraints");
    S(SetPowerManagementLimit, "nvmlDeviceSetPowerManagementLimit");
    S(SetPowerManagementLimit_v2, "nvmlDeviceSetPowerManagementLimit_v2");
    S(GetClockInfo, "nvmlDeviceGetClockInfo");
    S(GetMaxClockInfo, "nvmlDeviceGetMaxClockInfo");
    S(GetSupportedMemoryClocks, "nvmlDeviceGetSupportedMemoryClocks");
    S(GetSupportedGraphicsClocks, "nvmlDeviceGetSupportedGraphicsClocks");
    S(SetGpuLockedClocks, "nvmlDeviceSetGpuLockedClocks");
    S(ResetGpuLockedClocks, "nvmlDeviceResetGpuLockedClocks");
    S(GetCurrentClocksEventReasons, "nvmlDeviceGetCurrentClocksEventReasons");
    S(GetTemperature, "nvmlDeviceGetTemperature");
    S(GetPerformanceState, "nvmlDeviceGetPerformanceState");
    S(GetUtilizationRates, "nvmlDeviceGetUtilizationRates");
    S(IsSimulated, JSIM_SYMBOL_IS_SIMULATED);
    S(LastError, JSIM_SYMBOL_LAST_ERROR);
    S(GetTrueEnergy, JSIM_SYMBOL_GET_TRUE_ENERGY);
    S(GetTruePower, JSIM_SYMBOL_GET_TRUE_POWER);
    S(GetState, JSIM_SYMBOL_GET_STATE);
    S(Reconfigure, JSIM_SYMBOL_RECONFIGURE);
    S(Advance, JSIM_SYMBOL_ADVANCE);
    S(Now, JSIM_SYMBOL_NOW);
    S(RunKernel, JSIM_SYMBOL_RUN_KERNEL);
    S(LaunchKernel, JSIM_SYMBOL_LAUNCH_KERNEL);
    S(ToggleRate, JSIM_SYMBOL_TOGGLE_RATE);
    S(AlphaFromToggle, JSIM_SYMBOL_ALPHA_FROM_TOGGLE);
    S(GetSettings, JSIM_SYMBOL_GET_SETTINGS);
    S(SetApplicationsClocks, "nvmlDeviceSetApplicationsClocks");
    S(ResetApplicationsClocks, "nvmlDeviceResetApplicationsClocks");
#undef S
}

/* The true state of a device (checks the call). */
static inline jsimState sim_state(struct sim_api *a, nvmlDevice_t d)
{
    jsimState s = {.version = JSIM_STRUCT_VERSION(jsimState)};
    CHECK_EQ_INT(a->GetState(d, &s), NVML_SUCCESS);
    return s;
}

/* One field value (fieldId, scope); returns the per-entry nvmlReturn. */
static inline unsigned sim_field(struct sim_api *a, nvmlDevice_t d, unsigned id, unsigned scope,
                                 nvmlFieldValue_t *out)
{
    nvmlFieldValue_t v = {.fieldId = id, .scopeId = scope};
    CHECK_EQ_INT(a->GetFieldValues(d, 1, &v), NVML_SUCCESS);
    if (out)
        *out = v;
    return v.nvmlReturn;
}

#endif /* JOULES_TEST_SIM_COMMON_H */
