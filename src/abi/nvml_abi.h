/* SPDX-License-Identifier: MIT */
/*
 * nvml_abi.h - the subset of the NVML ABI that joules uses and that the simulated GPU
 * exports, declared from NVIDIA's public documentation (see shared/reference/nvml.md). No
 * NVIDIA header is used: the values and layouts below are restated from the docs and the
 * layouts were checked against x86-64 sizes listed there (static asserts at the end).
 */
#ifndef JOULES_NVML_ABI_H
#define JOULES_NVML_ABI_H

#include <stdint.h>

typedef int nvmlReturn_t;
typedef struct nvmlDevice_st *nvmlDevice_t;

enum {
    NVML_SUCCESS = 0,
    NVML_ERROR_UNINITIALIZED = 1,
    NVML_ERROR_INVALID_ARGUMENT = 2,
    NVML_ERROR_NOT_SUPPORTED = 3,
    NVML_ERROR_NO_PERMISSION = 4,
    NVML_ERROR_ALREADY_INITIALIZED = 5,
    NVML_ERROR_NOT_FOUND = 6,
    NVML_ERROR_INSUFFICIENT_SIZE = 7,
    NVML_ERROR_INSUFFICIENT_POWER = 8,
    NVML_ERROR_DRIVER_NOT_LOADED = 9,
    NVML_ERROR_TIMEOUT = 10,
    NVML_ERROR_IRQ_ISSUE = 11,
    NVML_ERROR_LIBRARY_NOT_FOUND = 12,
    NVML_ERROR_FUNCTION_NOT_FOUND = 13,
    NVML_ERROR_CORRUPTED_INFOROM = 14,
    NVML_ERROR_GPU_IS_LOST = 15,
    NVML_ERROR_RESET_REQUIRED = 16,
    NVML_ERROR_OPERATING_SYSTEM = 17,
    NVML_ERROR_LIB_RM_VERSION_MISMATCH = 18,
    NVML_ERROR_IN_USE = 19,
    NVML_ERROR_MEMORY = 20,
    NVML_ERROR_NO_DATA = 21,
    NVML_ERROR_VGPU_ECC_NOT_SUPPORTED = 22,
    NVML_ERROR_INSUFFICIENT_RESOURCES = 23,
    NVML_ERROR_FREQ_NOT_SUPPORTED = 24,
    NVML_ERROR_ARGUMENT_VERSION_MISMATCH = 25,
    NVML_ERROR_DEPRECATED = 26,
    NVML_ERROR_NOT_READY = 27,
    NVML_ERROR_GPU_NOT_FOUND = 28,
    NVML_ERROR_INVALID_STATE = 29,
    NVML_ERROR_UNKNOWN = 999,
};

/* nvmlInitWithFlags flags */
#define NVML_INIT_FLAG_NO_GPUS   1u
#define NVML_INIT_FLAG_NO_ATTACH 2u

/* Buffer sizes, bytes including the NUL. */
#define NVML_DEVICE_NAME_V2_BUFFER_SIZE        96
#define NVML_DEVICE_UUID_V2_BUFFER_SIZE        96
#define NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE 80
#define NVML_SYSTEM_NVML_VERSION_BUFFER_SIZE   80
#define NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE     32
#define NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE  16

/* nvmlClockType_t */
enum { NVML_CLOCK_GRAPHICS = 0, NVML_CLOCK_SM = 1, NVML_CLOCK_MEM = 2, NVML_CLOCK_VIDEO = 3 };
/* nvmlClockId_t */
enum {
    NVML_CLOCK_ID_CURRENT = 0,
    NVML_CLOCK_ID_APP_CLOCK_TARGET = 1,
    NVML_CLOCK_ID_APP_CLOCK_DEFAULT = 2,
    NVML_CLOCK_ID_CUSTOMER_BOOST_MAX = 3
};
/* nvmlTemperatureSensors_t */
enum { NVML_TEMPERATURE_GPU = 0 };
/* nvmlPstates_t: 0..15, unknown 32 */
#define NVML_PSTATE_UNKNOWN 32

/* Symbolic values accepted by nvmlDeviceSetGpuLockedClocks. */
#define NVML_CLOCK_LIMIT_ID_TDP       0xFFFFFF01u
#define NVML_CLOCK_LIMIT_ID_UNLIMITED 0xFFFFFF02u

/* Clock-event (throttle) reason bits. */
#define NVML_CLOCKS_EVENT_REASON_GPU_IDLE                    0x1ull
#define NVML_CLOCKS_EVENT_REASON_APPLICATIONS_CLOCKS_SETTING 0x2ull
#define NVML_CLOCKS_EVENT_REASON_SW_POWER_CAP                0x4ull
#define NVML_CLOCKS_EVENT_REASON_HW_SLOWDOWN                 0x8ull
#define NVML_CLOCKS_EVENT_REASON_SYNC_BOOST                  0x10ull
#define NVML_CLOCKS_EVENT_REASON_SW_THERMAL                  0x20ull
#define NVML_CLOCKS_EVENT_REASON_HW_THERMAL                  0x40ull
#define NVML_CLOCKS_EVENT_REASON_HW_POWER_BRAKE              0x80ull
#define NVML_CLOCKS_EVENT_REASON_DISPLAY_CLOCK               0x100ull

/* nvmlDeviceArchitecture_t */
enum {
    NVML_DEVICE_ARCH_KEPLER = 2,
    NVML_DEVICE_ARCH_MAXWELL = 3,
    NVML_DEVICE_ARCH_PASCAL = 4,
    NVML_DEVICE_ARCH_VOLTA = 5,
    NVML_DEVICE_ARCH_TURING = 6,
    NVML_DEVICE_ARCH_AMPERE = 7,
    NVML_DEVICE_ARCH_ADA = 8,
    NVML_DEVICE_ARCH_HOPPER = 9,
    NVML_DEVICE_ARCH_BLACKWELL = 10,
};
#define NVML_DEVICE_ARCH_UNKNOWN 0xFFFFFFFFu

/* Field ids (nvmlDeviceGetFieldValues). */
#define NVML_FI_DEV_TOTAL_ENERGY_CONSUMPTION 83
#define NVML_FI_DEV_POWER_AVERAGE            185
#define NVML_FI_DEV_POWER_INSTANT            186
#define NVML_FI_DEV_POWER_MIN_LIMIT          187
#define NVML_FI_DEV_POWER_MAX_LIMIT          188
#define NVML_FI_DEV_POWER_DEFAULT_LIMIT      189
#define NVML_FI_DEV_POWER_CURRENT_LIMIT      190
#define NVML_FI_DEV_ENERGY                   191
#define NVML_FI_DEV_POWER_REQUESTED_LIMIT    192

/* Power scopes (nvmlFieldValue_t.scopeId). */
#define NVML_POWER_SCOPE_GPU    0u
#define NVML_POWER_SCOPE_MODULE 1u
#define NVML_POWER_SCOPE_MEMORY 2u

/* nvmlValueType_t */
enum {
    NVML_VALUE_TYPE_DOUBLE = 0,
    NVML_VALUE_TYPE_UNSIGNED_INT = 1,
    NVML_VALUE_TYPE_UNSIGNED_LONG = 2,
    NVML_VALUE_TYPE_UNSIGNED_LONG_LONG = 3,
    NVML_VALUE_TYPE_SIGNED_LONG_LONG = 4,
    NVML_VALUE_TYPE_SIGNED_INT = 5,
};

typedef union nvmlValue_st {
    double dVal;
    int siVal;
    unsigned int uiVal;
    unsigned long ulVal;
    unsigned long long ullVal;
    signed long long sllVal;
    unsigned short usVal;
} nvmlValue_t;

typedef struct nvmlFieldValue_st {
    unsigned int fieldId;
    unsigned int scopeId;
    long long timestamp; /* CPU microseconds since the epoch */
    long long latencyUsec;
    unsigned int valueType;
    unsigned int nvmlReturn;
    nvmlValue_t value;
} nvmlFieldValue_t;

typedef struct nvmlPciInfo_st {
    char busIdLegacy[NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE];
    unsigned int domain;
    unsigned int bus;
    unsigned int device;
    unsigned int pciDeviceId;
    unsigned int pciSubSystemId;
    char busId[NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE];
} nvmlPciInfo_t;

typedef struct nvmlMemory_st {
    unsigned long long total;
    unsigned long long free;
    unsigned long long used;
} nvmlMemory_t;

typedef struct nvmlMemory_v2_st {
    unsigned int version;
    unsigned long long total;
    unsigned long long reserved;
    unsigned long long free;
    unsigned long long used;
} nvmlMemory_v2_t;
#define nvmlMemory_v2 0x02000028u

typedef struct nvmlUtilization_st {
    unsigned int gpu;
    unsigned int memory;
} nvmlUtilization_t;

typedef struct nvmlProcessInfo_v1_st {
    unsigned int pid;
    unsigned long long usedGpuMemory;
} nvmlProcessInfo_v1_t;

typedef struct nvmlProcessInfo_st {
    unsigned int pid;
    unsigned long long usedGpuMemory;
    unsigned int gpuInstanceId;
    unsigned int computeInstanceId;
} nvmlProcessInfo_t;

typedef struct nvmlPowerValue_v2_st {
    unsigned int version;
    unsigned char powerScope;
    unsigned int powerValueMw;
} nvmlPowerValue_v2_t;
#define nvmlPowerValue_v2 0x0200000Cu

typedef struct nvmlTemperature_v1_st {
    unsigned int version;
    unsigned int sensorType;
    int temperature;
} nvmlTemperature_v1_t;
#define nvmlTemperature_v1 0x0100000Cu

/* ---- what monitoring tools read (docs/nvml-coverage.md) --------------------------------- */

#define NVML_DEVICE_SERIAL_BUFFER_SIZE          30
#define NVML_DEVICE_PART_NUMBER_BUFFER_SIZE     80
#define NVML_DEVICE_VBIOS_VERSION_BUFFER_SIZE   32
#define NVML_DEVICE_INFOROM_VERSION_BUFFER_SIZE 16

/* nvmlBrandType_t (the values used) */
enum { NVML_BRAND_UNKNOWN = 0, NVML_BRAND_NVIDIA_RTX = 13, NVML_BRAND_NVIDIA = 14 };
/* nvmlEnableState_t */
enum { NVML_FEATURE_DISABLED = 0, NVML_FEATURE_ENABLED = 1 };
/* nvmlComputeMode_t */
enum {
    NVML_COMPUTEMODE_DEFAULT = 0,
    NVML_COMPUTEMODE_EXCLUSIVE_THREAD = 1,
    NVML_COMPUTEMODE_PROHIBITED = 2,
    NVML_COMPUTEMODE_EXCLUSIVE_PROCESS = 3
};
/* nvmlInforomObject_t */
enum { NVML_INFOROM_OEM = 0, NVML_INFOROM_ECC = 1, NVML_INFOROM_POWER = 2 };
/* nvmlMemoryErrorType_t, nvmlEccCounterType_t */
enum { NVML_MEMORY_ERROR_TYPE_CORRECTED = 0, NVML_MEMORY_ERROR_TYPE_UNCORRECTED = 1 };
enum { NVML_VOLATILE_ECC = 0, NVML_AGGREGATE_ECC = 1 };
/* nvmlPageRetirementCause_t */
enum {
    NVML_PAGE_RETIREMENT_CAUSE_MULTIPLE_SINGLE_BIT_ECC_ERRORS = 0,
    NVML_PAGE_RETIREMENT_CAUSE_DOUBLE_BIT_ECC_ERROR = 1
};
/* nvmlPerfPolicyType_t */
enum {
    NVML_PERF_POLICY_POWER = 0,
    NVML_PERF_POLICY_THERMAL = 1,
    NVML_PERF_POLICY_SYNC_BOOST = 2,
    NVML_PERF_POLICY_BOARD_LIMIT = 3,
    NVML_PERF_POLICY_LOW_UTILIZATION = 4,
    NVML_PERF_POLICY_RELIABILITY = 5,
    NVML_PERF_POLICY_TOTAL_APP_CLOCKS = 10,
    NVML_PERF_POLICY_TOTAL_BASE_CLOCKS = 11
};
/* nvmlDeviceGetPcieLinkMaxSpeed */
#define NVML_PCIE_LINK_MAX_SPEED_16000MBPS 4u
#define NVML_PCIE_LINK_MAX_SPEED_32000MBPS 5u
#define NVML_CLOCKS_EVENT_REASON_ALL       0x1FFull

#define NVML_FI_DEV_MEMORY_TEMP                 82
#define NVML_FI_DEV_TEMPERATURE_SHUTDOWN_TLIMIT 193
#define NVML_FI_DEV_TEMPERATURE_SLOWDOWN_TLIMIT 194
#define NVML_FI_DEV_TEMPERATURE_MEM_MAX_TLIMIT  195
#define NVML_FI_DEV_TEMPERATURE_GPU_MAX_TLIMIT  196

typedef struct nvmlBAR1Memory_st {
    unsigned long long bar1Total;
    unsigned long long bar1Free;
    unsigned long long bar1Used;
} nvmlBAR1Memory_t;

typedef struct nvmlViolationTime_st {
    unsigned long long referenceTime; /* CPU timestamp, us */
    unsigned long long violationTime; /* ns the clock was held below its target */
} nvmlViolationTime_t;

typedef struct nvmlRowRemapperHistogramValues_st {
    unsigned int max, high, partial, low, none;
} nvmlRowRemapperHistogramValues_t;

/* nvmlSamplingType_t */
enum {
    NVML_TOTAL_POWER_SAMPLES = 0,
    NVML_GPU_UTILIZATION_SAMPLES = 1,
    NVML_MEMORY_UTILIZATION_SAMPLES = 2,
    NVML_ENC_UTILIZATION_SAMPLES = 3,
    NVML_DEC_UTILIZATION_SAMPLES = 4,
    NVML_PROCESSOR_CLK_SAMPLES = 5,
    NVML_MEMORY_CLK_SAMPLES = 6
};

typedef struct nvmlSample_st {
    unsigned long long timeStamp; /* CPU timestamp, us */
    nvmlValue_t sampleValue;
} nvmlSample_t;

typedef struct nvmlProcessUtilizationSample_st {
    unsigned int pid;
    unsigned long long timeStamp; /* CPU timestamp, us */
    unsigned int smUtil, memUtil, encUtil, decUtil;
} nvmlProcessUtilizationSample_t;

typedef struct nvmlMarginTemperature_v1_st {
    unsigned int version; /* nvmlMarginTemperature_v1 */
    int marginTemperature;
} nvmlMarginTemperature_v1_t;
#define nvmlMarginTemperature_v1 0x01000008u

/* Event sets */
typedef struct nvmlEventSet_st *nvmlEventSet_t;
#define NVML_EVENT_TYPE_SINGLE_BIT_ECC_ERROR 0x1ull
#define NVML_EVENT_TYPE_DOUBLE_BIT_ECC_ERROR 0x2ull
#define NVML_EVENT_TYPE_PSTATE               0x4ull
#define NVML_EVENT_TYPE_XID_CRITICAL_ERROR   0x8ull
#define NVML_EVENT_TYPE_CLOCK                0x10ull

typedef struct nvmlEventData_st {
    nvmlDevice_t device;
    unsigned long long eventType;
    unsigned long long eventData; /* XID: the Xid number */
    unsigned int gpuInstanceId;   /* _v2 */
    unsigned int computeInstanceId;
} nvmlEventData_t;

/* Layouts as documented for x86-64 (LP64); a mismatch would corrupt caller memory. */
_Static_assert(sizeof(nvmlPciInfo_t) == 68, "nvmlPciInfo_t layout");
_Static_assert(sizeof(nvmlFieldValue_t) == 40, "nvmlFieldValue_t layout");
_Static_assert(sizeof(nvmlMemory_t) == 24, "nvmlMemory_t layout");
_Static_assert(sizeof(nvmlMemory_v2_t) == 40, "nvmlMemory_v2_t layout");
_Static_assert(sizeof(nvmlProcessInfo_t) == 24, "nvmlProcessInfo_t layout");
_Static_assert(sizeof(nvmlPowerValue_v2_t) == 12, "nvmlPowerValue_v2_t layout");
_Static_assert(sizeof(nvmlBAR1Memory_t) == 24, "nvmlBAR1Memory_t layout");
_Static_assert(sizeof(nvmlViolationTime_t) == 16, "nvmlViolationTime_t layout");
_Static_assert(sizeof(nvmlRowRemapperHistogramValues_t) == 20, "histogram layout");
_Static_assert(sizeof(nvmlSample_t) == 16, "nvmlSample_t layout");
_Static_assert(sizeof(nvmlEventData_t) == 32, "nvmlEventData_t layout");
_Static_assert(sizeof(nvmlProcessUtilizationSample_t) == 32, "process sample layout");

#endif /* JOULES_NVML_ABI_H */
