/* SPDX-License-Identifier: MIT */
/*
 * fake_nvml_nonul.c - a broken NVML library for test_nvml_strings: one GPU whose name, UUID,
 * PCI bus id and driver version fill the caller's buffer to its last byte, with no NUL. NVML
 * promises a NUL; joules must not depend on the promise. Built as a shared library and
 * loaded with dlopen, like the real one.
 */
#include <string.h>

#include "abi/nvml_abi.h"

#define FAKE_EXPORT __attribute__((visibility("default")))

static int fake_device;
static unsigned long long fake_energy_mj;

FAKE_EXPORT nvmlReturn_t nvmlInit_v2(void);
FAKE_EXPORT nvmlReturn_t nvmlShutdown(void);
FAKE_EXPORT nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count);
FAKE_EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *h);
FAKE_EXPORT nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t h, char *buf, unsigned int len);
FAKE_EXPORT nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t h, char *buf, unsigned int len);
FAKE_EXPORT nvmlReturn_t nvmlSystemGetDriverVersion(char *buf, unsigned int len);
FAKE_EXPORT nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t h, nvmlPciInfo_t *pci);
FAKE_EXPORT nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t h,
                                                             unsigned long long *mj);

nvmlReturn_t nvmlInit_v2(void)
{
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlShutdown(void)
{
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count)
{
    *count = 1;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *h)
{
    if (index != 0)
        return NVML_ERROR_INVALID_ARGUMENT;
    *h = (nvmlDevice_t)(void *)&fake_device;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t h, char *buf, unsigned int len)
{
    (void)h;
    memset(buf, 'N', len);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t h, char *buf, unsigned int len)
{
    (void)h;
    memset(buf, 'U', len);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlSystemGetDriverVersion(char *buf, unsigned int len)
{
    memset(buf, 'D', len);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t h, nvmlPciInfo_t *pci)
{
    (void)h;
    memset(pci, 'B', sizeof *pci);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t h, unsigned long long *mj)
{
    (void)h;
    fake_energy_mj += 7;
    *mj = fake_energy_mj;
    return NVML_SUCCESS;
}
