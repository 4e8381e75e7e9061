/* SPDX-License-Identifier: MIT */
/*
 * nvml_identity.c - who a simulated board is, as nvidia-smi -q and dcgm-exporter read it:
 * brand, serial, minor number, board id and part number, VBIOS and InfoROM versions, CUDA
 * compute capability, cores, memory bus width; handles by PCI bus id and by serial; the
 * persistence, compute, display, MIG, accounting and power-management modes; CPU affinity.
 * The values of each board come from nvidia-smi -q dumps of real boards (the table below;
 * docs/nvml-coverage.md gives each call, each profile's answer and its source).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/nvml_exports.h"
#include "sim/sim.h"

/* Sources: thamada/gls and thamada/nvidia-smi dumps (gpu-profiles.md S1): RTX A6000 x9 on
 * 550.127.05, A100-SXM4-80GB x4 on 555.42.02, H100 80GB HBM3 x8 on 565.57.01. The A100 40 GB
 * has no dump: it answers as the 80 GB board but for its BAR1. */
static const struct sim_board boards[] = {
    {.key = "a6000",
     .brand = NVML_BRAND_NVIDIA_RTX,
     .serial_prefix = "1562521",
     .vbios = "94.02.5C.00.02",
     .part_number = "900-5G133-1700-000",
     .inforom_image = "G133.0500.00.05",
     .inforom_oem = "2.0",
     .inforom_ecc = "6.16",
     .cc_major = 8,
     .cc_minor = 6,
     .bus_width_bits = 384,
     .bar1_mib = 65536,
     .ecc = 0, /* the profile's 49140 MiB is the board with ECC off */
     .mem_temp_offset_c = -100,
     .remap_banks = 192,
     .fans = 1},
    {.key = "a100-sxm4-40gb",
     .brand = NVML_BRAND_NVIDIA,
     .serial_prefix = "1320222",
     .vbios = "92.00.9E.00.02",
     .part_number = "692-2G506-0212-005",
     .inforom_image = "G506.0212.00.01",
     .inforom_oem = "2.0",
     .inforom_ecc = "6.16",
     .cc_major = 8,
     .cc_minor = 0,
     .bus_width_bits = 5120,
     .bar1_mib = 65536,
     .ecc = 1,
     .mig_capable = 1,
     .nvlinks = 12,
     .remap_banks = 640,
     .mem_temp_offset_c = 18,
     .boost_max_mhz = 1410},
    {.key = "a100-sxm4-80gb",
     .brand = NVML_BRAND_NVIDIA,
     .serial_prefix = "1320222",
     .vbios = "92.00.9E.00.02",
     .part_number = "692-2G506-0212-005",
     .inforom_image = "G506.0212.00.01",
     .inforom_oem = "2.0",
     .inforom_ecc = "6.16",
     .cc_major = 8,
     .cc_minor = 0,
     .bus_width_bits = 5120,
     .bar1_mib = 131072,
     .ecc = 1,
     .mig_capable = 1,
     .nvlinks = 12,
     .remap_banks = 640,
     .mem_temp_offset_c = 18,
     .boost_max_mhz = 1410},
    {.key = "h100-sxm5",
     .brand = NVML_BRAND_NVIDIA,
     .serial_prefix = "1654423",
     .vbios = "96.00.74.00.01",
     .part_number = "692-2G520-0200-000",
     .inforom_image = "G520.0200.00.05",
     .inforom_oem = "2.1",
     .inforom_ecc = "7.16",
     .cc_major = 9,
     .cc_minor = 0,
     .bus_width_bits = 5120,
     .bar1_mib = 131072,
     .ecc = 1,
     .mig_capable = 1,
     .nvlinks = 18,
     .remap_banks = 2560,
     .mem_temp_offset_c = 6,
     .tlimit = 1,
     .tlimit_c = 87, /* the dump's margin of 57 at 30 C */
     .tlimit_shutdown_c = -8,
     .tlimit_slowdown_c = -2,
     .tlimit_mem_max_c = 0,
     .tlimit_gpu_max_c = 0,
     .boost_max_mhz = 1980},
    /* The test profile: round numbers, a workstation board without fan, ECC or NVLink. */
    {.key = "test",
     .brand = NVML_BRAND_NVIDIA_RTX,
     .serial_prefix = "1000000",
     .vbios = "90.00.00.00.01",
     .part_number = "900-00000-0000-000",
     .inforom_image = "G000.0000.00.01",
     .inforom_oem = "2.0",
     .inforom_ecc = "6.16",
     .cc_major = 8,
     .cc_minor = 6,
     .bus_width_bits = 256,
     .bar1_mib = 256,
     .mem_temp_offset_c = -100,
     .remap_banks = 64},
};

const struct sim_board *sim_board_of(const struct sim_dev *d)
{
    for (size_t i = 0; i < sizeof boards / sizeof boards[0]; i++)
        if (!strcmp(boards[i].key, d->p.key))
            return &boards[i];
    return &boards[sizeof boards / sizeof boards[0] - 1];
}

/* 13 digits: the board family's prefix, then 6 from the UUID (seed and index). */
static void serial_of(const struct sim_dev *d, char *out, size_t len)
{
    unsigned long h = strtoul(d->uuid + 4, NULL, 16); /* first 8 hex digits of GPU-... */
    snprintf(out, len, "%s%06lu", sim_board_of(d)->serial_prefix, h % 1000000ul);
}

/* ---- values --------------------------------------------------------------------------- */

#define GET_UINT(fn, expr)                                                                         \
    JSIM_EXPORT nvmlReturn_t fn(nvmlDevice_t device, unsigned int *out)                            \
    {                                                                                              \
        DEV_ENTER(device);                                                                         \
        if (!out)                                                                                  \
            rc = NVML_ERROR_INVALID_ARGUMENT;                                                      \
        else                                                                                       \
            *out = (expr);                                                                         \
        DEV_RETURN();                                                                              \
    }

GET_UINT(nvmlDeviceGetBrand, sim_board_of(d)->brand)
GET_UINT(nvmlDeviceGetMinorNumber, (unsigned)d->index)
GET_UINT(nvmlDeviceGetBoardId, (0x01u + (unsigned)d->index) << 8) /* bus << 8, as the dumps */
GET_UINT(nvmlDeviceGetMultiGpuBoard, 0u)
GET_UINT(nvmlDeviceGetNumGpuCores, d->p.fp32_cores)
GET_UINT(nvmlDeviceGetMemoryBusWidth, sim_board_of(d)->bus_width_bits)
GET_UINT(nvmlDeviceGetPersistenceMode, (unsigned)NVML_FEATURE_ENABLED)
GET_UINT(nvmlDeviceGetComputeMode, (unsigned)NVML_COMPUTEMODE_DEFAULT)
GET_UINT(nvmlDeviceGetDisplayMode, (unsigned)NVML_FEATURE_ENABLED)
GET_UINT(nvmlDeviceGetDisplayActive, (unsigned)NVML_FEATURE_DISABLED)
GET_UINT(nvmlDeviceGetAccountingMode, (unsigned)NVML_FEATURE_DISABLED)
GET_UINT(nvmlDeviceGetAccountingBufferSize, 4000u)
GET_UINT(nvmlDeviceGetPowerManagementMode, (unsigned)NVML_FEATURE_ENABLED)

static nvmlReturn_t str_out(nvmlDevice_t device, char *out, unsigned len, int which)
{
    DEV_ENTER(device);
    const struct sim_board *b = sim_board_of(d);
    char serial[NVML_DEVICE_SERIAL_BUFFER_SIZE];
    const char *s = which == 0   ? b->vbios
                    : which == 1 ? b->part_number
                    : which == 2 ? b->inforom_image
                                 : serial;
    if (which == 3)
        serial_of(d, serial, sizeof serial);
    rc = sim_copy_str(out, len, s);
    DEV_RETURN();
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetVbiosVersion(nvmlDevice_t device, char *version,
                                                   unsigned int length)
{
    return str_out(device, version, length, 0);
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetBoardPartNumber(nvmlDevice_t device, char *part,
                                                      unsigned int length)
{
    return str_out(device, part, length, 1);
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetInforomImageVersion(nvmlDevice_t device, char *version,
                                                          unsigned int length)
{
    return str_out(device, version, length, 2);
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetSerial(nvmlDevice_t device, char *serial, unsigned int length)
{
    return str_out(device, serial, length, 3);
}

/* The power-management object is "N/A" on every dump. */
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetInforomVersion(nvmlDevice_t device, unsigned int object,
                                                     char *version, unsigned int length)
{
    DEV_ENTER(device);
    const struct sim_board *b = sim_board_of(d);
    if (object == NVML_INFOROM_OEM)
        rc = sim_copy_str(version, length, b->inforom_oem);
    else if (object == NVML_INFOROM_ECC)
        rc = sim_copy_str(version, length, b->inforom_ecc);
    else if (object == NVML_INFOROM_POWER)
        rc = version ? NVML_ERROR_NOT_SUPPORTED : NVML_ERROR_INVALID_ARGUMENT;
    else
        rc = NVML_ERROR_INVALID_ARGUMENT;
    DEV_RETURN();
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetCudaComputeCapability(nvmlDevice_t device, int *major,
                                                            int *minor)
{
    DEV_ENTER(device);
    if (!major || !minor) {
        rc = NVML_ERROR_INVALID_ARGUMENT;
    } else {
        *major = sim_board_of(d)->cc_major;
        *minor = sim_board_of(d)->cc_minor;
    }
    DEV_RETURN();
}

/* MIG: off and not pending on A100/H100; the A6000 has none ("N/A"). */
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t device, unsigned int *current,
                                              unsigned int *pending)
{
    DEV_ENTER(device);
    if (!current || !pending)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else if (!sim_board_of(d)->mig_capable)
        rc = NVML_ERROR_NOT_SUPPORTED;
    else
        *current = *pending = NVML_FEATURE_DISABLED;
    DEV_RETURN();
}

/* Every online CPU: the simulated machine has one NUMA node. */
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetCpuAffinity(nvmlDevice_t device, unsigned int size,
                                                  unsigned long *set)
{
    DEV_ENTER(device);
    (void)d;
    if (!set || size == 0) {
        rc = NVML_ERROR_INVALID_ARGUMENT;
    } else {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        const unsigned bits = 8 * sizeof(unsigned long);
        memset(set, 0, size * sizeof *set);
        for (long c = 0; c < n && (unsigned long)c < (unsigned long)size * bits; c++)
            set[c / bits] |= 1ul << (c % bits);
    }
    DEV_RETURN();
}

/* ---- handles -------------------------------------------------------------------------- */

/* "DDDDDDDD:BB:DD.F", "DDDD:BB:DD.F" or "BB:DD.F" (hex, any case): the bus, or -1. */
static int parse_bus_id(const char *s)
{
    unsigned long dom = 0, bus, dev, fn;
    char *e;
    const char *p = s;
    int colons = 0;
    for (const char *q = s; *q; q++)
        colons += *q == ':';
    if (colons == 2) {
        dom = strtoul(p, &e, 16);
        if (e == p || *e != ':')
            return -1;
        p = e + 1;
    } else if (colons != 1) {
        return -1;
    }
    if (!isxdigit((unsigned char)*p))
        return -1;
    bus = strtoul(p, &e, 16);
    if (*e != ':' || !isxdigit((unsigned char)e[1]))
        return -1;
    dev = strtoul(e + 1, &e, 16);
    if (*e != '.' || !isxdigit((unsigned char)e[1]))
        return -1;
    fn = strtoul(e + 1, &e, 16);
    if (*e || dom != 0 || dev != 0 || fn != 0 || bus > 0xFF)
        return -1;
    return (int)bus;
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetHandleByPciBusId_v2(const char *bus_id, nvmlDevice_t *device)
{
    nvmlReturn_t rc = sim_enter();
    if (rc != NVML_SUCCESS)
        return rc;
    if (!bus_id || !device) {
        rc = NVML_ERROR_INVALID_ARGUMENT;
    } else {
        int bus = parse_bus_id(bus_id);
        rc = NVML_ERROR_NOT_FOUND;
        for (int i = 0; i < sim_m->n_dev; i++)
            if (bus == 0x01 + i) {
                *device = (nvmlDevice_t)(void *)&sim_m->dev[i];
                rc = NVML_SUCCESS;
            }
    }
    sim_leave();
    return rc;
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetHandleByPciBusId(const char *bus_id, nvmlDevice_t *device)
{
    return nvmlDeviceGetHandleByPciBusId_v2(bus_id, device);
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetHandleBySerial(const char *serial, nvmlDevice_t *device)
{
    nvmlReturn_t rc = sim_enter();
    if (rc != NVML_SUCCESS)
        return rc;
    if (!serial || !device) {
        rc = NVML_ERROR_INVALID_ARGUMENT;
    } else {
        rc = NVML_ERROR_NOT_FOUND;
        for (int i = 0; i < sim_m->n_dev; i++) {
            char s[NVML_DEVICE_SERIAL_BUFFER_SIZE];
            serial_of(&sim_m->dev[i], s, sizeof s);
            if (!strcmp(s, serial)) {
                *device = (nvmlDevice_t)(void *)&sim_m->dev[i];
                rc = NVML_SUCCESS;
                break;
            }
        }
    }
    sim_leave();
    return rc;
}
