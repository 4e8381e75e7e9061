/* SPDX-License-Identifier: MIT */
/*
 * nvml_pci_ecc.c - the bus and the memory's health as a simulated board reports them: PCIe
 * link speed and replay counter, BAR1, ECC mode and error counters, retired pages and
 * remapped rows, NVLink state. No bus error is simulated: the counters stay at zero, and
 * what a board does not have (ECC switched off on the A6000, page retirement on Ampere and
 * Hopper, NVLink without a bridge) answers NOT_SUPPORTED as the real board does
 * (docs/nvml-coverage.md).
 */
#include <string.h>

#include "sim/nvml_exports.h"
#include "sim/sim.h"

static unsigned pcie_gen(const struct sim_dev *d)
{
    return d->p.arch == NVML_DEVICE_ARCH_HOPPER ? 5 : 4;
}

/* Mbps per lane: 16000 on Gen4, 32000 on Gen5. */
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetPcieSpeed(nvmlDevice_t device, unsigned int *speed)
{
    DEV_ENTER(device);
    if (!speed)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        *speed = pcie_gen(d) == 5 ? 32000u : 16000u;
    DEV_RETURN();
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetPcieLinkMaxSpeed(nvmlDevice_t device, unsigned int *speed)
{
    DEV_ENTER(device);
    if (!speed)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        *speed = pcie_gen(d) == 5 ? NVML_PCIE_LINK_MAX_SPEED_32000MBPS
                                  : NVML_PCIE_LINK_MAX_SPEED_16000MBPS;
    DEV_RETURN();
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetPcieReplayCounter(nvmlDevice_t device, unsigned int *value)
{
    DEV_ENTER(device);
    (void)d;
    if (!value)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        *value = 0;
    DEV_RETURN();
}

/* BAR1: the dumps' totals; 1 MiB in use, as an idle board shows. */
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetBAR1MemoryInfo(nvmlDevice_t device, nvmlBAR1Memory_t *bar1)
{
    DEV_ENTER(device);
    if (!bar1) {
        rc = NVML_ERROR_INVALID_ARGUMENT;
    } else {
        const unsigned long long mib = 1024ull * 1024ull;
        bar1->bar1Total = sim_board_of(d)->bar1_mib * mib;
        bar1->bar1Used = mib;
        bar1->bar1Free = bar1->bar1Total - bar1->bar1Used;
    }
    DEV_RETURN();
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetEccMode(nvmlDevice_t device, unsigned int *current,
                                              unsigned int *pending)
{
    DEV_ENTER(device);
    if (!current || !pending)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        *current = *pending = sim_board_of(d)->ecc ? NVML_FEATURE_ENABLED : NVML_FEATURE_DISABLED;
    DEV_RETURN();
}

/* Error counters exist only with ECC on; none is ever injected. */
static nvmlReturn_t ecc_counter(nvmlDevice_t device, unsigned type, unsigned counter,
                                unsigned location, unsigned long long *out)
{
    DEV_ENTER(device);
    if (!out || type > NVML_MEMORY_ERROR_TYPE_UNCORRECTED || counter > NVML_AGGREGATE_ECC ||
        location > 7) /* nvmlMemoryLocation_t: L1 .. SRAM */
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else if (!sim_board_of(d)->ecc)
        rc = NVML_ERROR_NOT_SUPPORTED;
    else
        *out = 0;
    DEV_RETURN();
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetTotalEccErrors(nvmlDevice_t device, unsigned int type,
                                                     unsigned int counter,
                                                     unsigned long long *count)
{
    return ecc_counter(device, type, counter, 0, count);
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetMemoryErrorCounter(nvmlDevice_t device, unsigned int type,
                                                         unsigned int counter,
                                                         unsigned int location,
                                                         unsigned long long *count)
{
    return ecc_counter(device, type, counter, location, count);
}

/* Ampere and Hopper remap rows instead of retiring pages: "N/A" on every dump. */
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetRetiredPages(nvmlDevice_t device, unsigned int cause,
                                                   unsigned int *count,
                                                   unsigned long long *addresses)
{
    DEV_ENTER(device);
    (void)d;
    (void)addresses;
    rc = !count || cause > NVML_PAGE_RETIREMENT_CAUSE_DOUBLE_BIT_ECC_ERROR
             ? NVML_ERROR_INVALID_ARGUMENT
             : NVML_ERROR_NOT_SUPPORTED;
    DEV_RETURN();
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetRetiredPagesPendingStatus(nvmlDevice_t device,
                                                                unsigned int *pending)
{
    DEV_ENTER(device);
    (void)d;
    rc = pending ? NVML_ERROR_NOT_SUPPORTED : NVML_ERROR_INVALID_ARGUMENT;
    DEV_RETURN();
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetRemappedRows(nvmlDevice_t device, unsigned int *corrected,
                                                   unsigned int *uncorrected, unsigned int *pending,
                                                   unsigned int *failure)
{
    DEV_ENTER(device);
    (void)d;
    if (!corrected || !uncorrected || !pending || !failure)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        *corrected = *uncorrected = *pending = *failure = 0;
    DEV_RETURN();
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetRowRemapperHistogram(nvmlDevice_t device,
                                                           nvmlRowRemapperHistogramValues_t *v)
{
    DEV_ENTER(device);
    if (!v) {
        rc = NVML_ERROR_INVALID_ARGUMENT;
    } else {
        memset(v, 0, sizeof *v);
        v->max = sim_board_of(d)->remap_banks;
    }
    DEV_RETURN();
}

/* NVLink: every link of an SXM board up; a board without links answers NOT_SUPPORTED. */
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetNvLinkState(nvmlDevice_t device, unsigned int link,
                                                  unsigned int *active)
{
    DEV_ENTER(device);
    unsigned n = sim_board_of(d)->nvlinks;
    if (!active)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else if (n == 0)
        rc = NVML_ERROR_NOT_SUPPORTED;
    else if (link >= n)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        *active = NVML_FEATURE_ENABLED;
    DEV_RETURN();
}
