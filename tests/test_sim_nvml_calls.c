/* SPDX-License-Identifier: MIT */
/*
 * test_sim_nvml_calls.c - every NVML call of docs/nvml-coverage.md that monitoring tools make
 * (nvidia-smi -q, dcgm-exporter), on each profile, through dlopen as a client reaches it:
 * the values of the real boards' nvidia-smi dumps, NOT_SUPPORTED exactly where those boards
 * print N/A, the sizing and argument checks, and the handles by PCI bus id and by serial.
 */
#include <ctype.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "test_sim_common.h"

static struct sim_api A;

/* What each profile's board answers (sources in docs/nvml-coverage.md). */
struct expect {
    const char *profile;
    unsigned brand;
    const char *serial_prefix, *vbios, *part, *image, *oem, *ecc_obj;
    int cc_major, cc_minor;
    unsigned cores, bus_bits, bar1_mib;
    int ecc, mig;
    unsigned nvlinks, banks;
    int mem_temp, tlimit;
    unsigned boost, fans, pcie_gen, app_gfx, app_mem;
};

static const struct expect boards[] = {
    {"a6000",
     13,
     "1562521",
     "94.02.5C.00.02",
     "900-5G133-1700-000",
     "G133.0500.00.05",
     "2.0",
     "6.16",
     8,
     6,
     10752,
     384,
     65536,
     0,
     0,
     0,
     192,
     0,
     0,
     0,
     1,
     4,
     1800,
     8001},
    {"a100-sxm4-40gb",
     14,
     "1320222",
     "92.00.9E.00.02",
     "692-2G506-0212-005",
     "G506.0212.00.01",
     "2.0",
     "6.16",
     8,
     0,
     6912,
     5120,
     65536,
     1,
     1,
     12,
     640,
     1,
     0,
     1410,
     0,
     4,
     1095,
     1215},
    {"a100-sxm4-80gb",
     14,
     "1320222",
     "92.00.9E.00.02",
     "692-2G506-0212-005",
     "G506.0212.00.01",
     "2.0",
     "6.16",
     8,
     0,
     6912,
     5120,
     131072,
     1,
     1,
     12,
     640,
     1,
     0,
     1410,
     0,
     4,
     1155,
     1593},
    {"h100-sxm5",
     14,
     "1654423",
     "96.00.74.00.01",
     "692-2G520-0200-000",
     "G520.0200.00.05",
     "2.1",
     "7.16",
     9,
     0,
     16896,
     5120,
     131072,
     1,
     1,
     18,
     2560,
     1,
     1,
     1980,
     0,
     5,
     1980,
     2619},
    {"test",
     13,
     "1000000",
     "90.00.00.00.01",
     "900-00000-0000-000",
     "G000.0000.00.01",
     "2.0",
     "6.16",
     8,
     6,
     256,
     256,
     256,
     0,
     0,
     0,
     64,
     0,
     0,
     0,
     0,
     4,
     1000,
     0},
};

typedef nvmlReturn_t (*u_fn)(nvmlDevice_t, unsigned *);
typedef nvmlReturn_t (*s_fn)(nvmlDevice_t, char *, unsigned);
typedef nvmlReturn_t (*uu_fn)(nvmlDevice_t, unsigned *, unsigned *);
typedef nvmlReturn_t (*xu_fn)(nvmlDevice_t, unsigned, unsigned *);

static void *need(const char *name)
{
    void *f = dlsym(A.h, name);
    CHECKF(f != NULL, "symbol %s missing", name);
    if (!f) {
        fprintf(stderr, "FATAL: %s missing\n", name);
        exit(1);
    }
    return f;
}

static unsigned u(const char *fn, nvmlDevice_t d)
{
    unsigned v = 0xDEADBEEF;
    nvmlReturn_t rc = ((u_fn)need(fn))(d, &v);
    CHECKF(rc == NVML_SUCCESS, "%s: %d", fn, rc);
    CHECKF(((u_fn)need(fn))(d, NULL) == NVML_ERROR_INVALID_ARGUMENT, "%s(NULL)", fn);
    return v;
}

static void str_is(const char *fn, nvmlDevice_t d, const char *want)
{
    char buf[96] = "";
    s_fn f = (s_fn)need(fn);
    CHECKF(f(d, buf, sizeof buf) == NVML_SUCCESS && !strcmp(buf, want), "%s: '%s', want '%s'", fn,
           buf, want);
    CHECKF(f(d, buf, (unsigned)strlen(want)) == NVML_ERROR_INSUFFICIENT_SIZE, "%s sizing", fn);
}

static void test_identity(const struct expect *e, nvmlDevice_t d0, nvmlDevice_t d1)
{
    CHECK_EQ_INT(u("nvmlDeviceGetBrand", d0), e->brand);
    CHECK_EQ_INT(u("nvmlDeviceGetMinorNumber", d1), 1);
    CHECK_EQ_INT(u("nvmlDeviceGetBoardId", d0), 0x0100);
    CHECK_EQ_INT(u("nvmlDeviceGetBoardId", d1), 0x0200);
    CHECK_EQ_INT(u("nvmlDeviceGetMultiGpuBoard", d0), 0);
    CHECK_EQ_INT(u("nvmlDeviceGetNumGpuCores", d0), e->cores);
    CHECK_EQ_INT(u("nvmlDeviceGetMemoryBusWidth", d0), e->bus_bits);
    CHECK_EQ_INT(u("nvmlDeviceGetPersistenceMode", d0), 1);
    CHECK_EQ_INT(u("nvmlDeviceGetComputeMode", d0), 0);
    CHECK_EQ_INT(u("nvmlDeviceGetDisplayMode", d0), 1);
    CHECK_EQ_INT(u("nvmlDeviceGetDisplayActive", d0), 0);
    CHECK_EQ_INT(u("nvmlDeviceGetAccountingMode", d0), 0);
    CHECK_EQ_INT(u("nvmlDeviceGetAccountingBufferSize", d0), 4000);
    CHECK_EQ_INT(u("nvmlDeviceGetPowerManagementMode", d0), 1);
    str_is("nvmlDeviceGetVbiosVersion", d0, e->vbios);
    str_is("nvmlDeviceGetBoardPartNumber", d0, e->part);
    str_is("nvmlDeviceGetInforomImageVersion", d0, e->image);

    nvmlReturn_t (*inforom)(nvmlDevice_t, unsigned, char *, unsigned) = (nvmlReturn_t(*)(
        nvmlDevice_t, unsigned, char *, unsigned))need("nvmlDeviceGetInforomVersion");
    char buf[96];
    CHECK(inforom(d0, NVML_INFOROM_OEM, buf, sizeof buf) == NVML_SUCCESS && !strcmp(buf, e->oem));
    CHECK(inforom(d0, NVML_INFOROM_ECC, buf, sizeof buf) == NVML_SUCCESS &&
          !strcmp(buf, e->ecc_obj));
    CHECK_EQ_INT(inforom(d0, NVML_INFOROM_POWER, buf, sizeof buf), NVML_ERROR_NOT_SUPPORTED);
    CHECK_EQ_INT(inforom(d0, 7, buf, sizeof buf), NVML_ERROR_INVALID_ARGUMENT);

    int major = -1, minor = -1;
    CHECK_EQ_INT(((nvmlReturn_t(*)(nvmlDevice_t, int *, int *))need(
                     "nvmlDeviceGetCudaComputeCapability"))(d0, &major, &minor),
                 NVML_SUCCESS);
    CHECK(major == e->cc_major && minor == e->cc_minor);

    unsigned cur = 9, pend = 9;
    nvmlReturn_t rc = ((uu_fn)need("nvmlDeviceGetMigMode"))(d0, &cur, &pend);
    if (e->mig)
        CHECK(rc == NVML_SUCCESS && cur == 0 && pend == 0);
    else
        CHECK_EQ_INT(rc, NVML_ERROR_NOT_SUPPORTED);

    unsigned long set[4] = {0};
    CHECK_EQ_INT(((nvmlReturn_t(*)(nvmlDevice_t, unsigned, unsigned long *))need(
                     "nvmlDeviceGetCpuAffinity"))(d0, 4, set),
                 NVML_SUCCESS);
    CHECK(set[0] & 1ul);

    /* Serial: 13 digits of the family, one per board; a handle by it. */
    char s0[32], s1[32];
    CHECK_EQ_INT(((s_fn)need("nvmlDeviceGetSerial"))(d0, s0, sizeof s0), NVML_SUCCESS);
    CHECK_EQ_INT(((s_fn)need("nvmlDeviceGetSerial"))(d1, s1, sizeof s1), NVML_SUCCESS);
    CHECKF(strlen(s0) == 13 && !strncmp(s0, e->serial_prefix, 7), "serial %s", s0);
    for (int i = 0; s0[i]; i++)
        CHECK(isdigit((unsigned char)s0[i]));
    CHECK(strcmp(s0, s1) != 0);
    nvmlReturn_t (*by_serial)(const char *, nvmlDevice_t *) =
        (nvmlReturn_t(*)(const char *, nvmlDevice_t *))need("nvmlDeviceGetHandleBySerial");
    nvmlDevice_t h = NULL;
    CHECK(by_serial(s1, &h) == NVML_SUCCESS && h == d1);
    CHECK_EQ_INT(by_serial("0000000000000", &h), NVML_ERROR_NOT_FOUND);

    nvmlReturn_t (*by_bus)(const char *, nvmlDevice_t *) =
        (nvmlReturn_t(*)(const char *, nvmlDevice_t *))need("nvmlDeviceGetHandleByPciBusId_v2");
    nvmlPciInfo_t pci;
    CHECK_EQ_INT(A.GetPciInfo_v3(d1, &pci), NVML_SUCCESS);
    CHECK(by_bus(pci.busId, &h) == NVML_SUCCESS && h == d1);
    CHECK(by_bus("0000:01:00.0", &h) == NVML_SUCCESS && h == d0);
    CHECK(by_bus("00000000:02:00.0", &h) == NVML_SUCCESS && h == d1);
    CHECK_EQ_INT(by_bus("00000000:09:00.0", &h), NVML_ERROR_NOT_FOUND);
    CHECK_EQ_INT(by_bus("not a bus id", &h), NVML_ERROR_NOT_FOUND);
    CHECK_EQ_INT(by_bus(NULL, &h), NVML_ERROR_INVALID_ARGUMENT);
    CHECK(((nvmlReturn_t(*)(const char *, nvmlDevice_t *))need("nvmlDeviceGetHandleByPciBusId"))(
              "01:00.0", &h) == NVML_SUCCESS &&
          h == d0);
}

static void test_bus_and_memory(const struct expect *e, nvmlDevice_t d0)
{
    CHECK_EQ_INT(u("nvmlDeviceGetPcieSpeed", d0), e->pcie_gen == 5 ? 32000 : 16000);
    CHECK_EQ_INT(u("nvmlDeviceGetPcieLinkMaxSpeed", d0), e->pcie_gen == 5 ? 5 : 4);
    CHECK_EQ_INT(u("nvmlDeviceGetPcieReplayCounter", d0), 0);
    nvmlBAR1Memory_t bar1;
    CHECK_EQ_INT(((nvmlReturn_t(*)(nvmlDevice_t, nvmlBAR1Memory_t *))need(
                     "nvmlDeviceGetBAR1MemoryInfo"))(d0, &bar1),
                 NVML_SUCCESS);
    CHECK_EQ_INT(bar1.bar1Total, (unsigned long long)e->bar1_mib << 20);
    CHECK_EQ_INT(bar1.bar1Free + bar1.bar1Used, bar1.bar1Total);

    unsigned cur = 9, pend = 9;
    CHECK_EQ_INT(((uu_fn)need("nvmlDeviceGetEccMode"))(d0, &cur, &pend), NVML_SUCCESS);
    CHECK(cur == (unsigned)e->ecc && pend == (unsigned)e->ecc);
    unsigned long long n = 99;
    nvmlReturn_t rc = ((nvmlReturn_t(*)(nvmlDevice_t, unsigned, unsigned,
                                        unsigned long long *))need("nvmlDeviceGetTotalEccErrors"))(
        d0, NVML_MEMORY_ERROR_TYPE_UNCORRECTED, NVML_VOLATILE_ECC, &n);
    CHECK(e->ecc ? rc == NVML_SUCCESS && n == 0 : rc == NVML_ERROR_NOT_SUPPORTED);
    rc = ((nvmlReturn_t(*)(nvmlDevice_t, unsigned, unsigned, unsigned, unsigned long long *))need(
        "nvmlDeviceGetMemoryErrorCounter"))(d0, 0, NVML_AGGREGATE_ECC, 2, &n);
    CHECK(e->ecc ? rc == NVML_SUCCESS && n == 0 : rc == NVML_ERROR_NOT_SUPPORTED);
    unsigned count = 4;
    unsigned long long addr[4];
    CHECK_EQ_INT(((nvmlReturn_t(*)(nvmlDevice_t, unsigned, unsigned *, unsigned long long *))need(
                     "nvmlDeviceGetRetiredPages"))(d0, 0, &count, addr),
                 NVML_ERROR_NOT_SUPPORTED);
    CHECK_EQ_INT(((u_fn)need("nvmlDeviceGetRetiredPagesPendingStatus"))(d0, &count),
                 NVML_ERROR_NOT_SUPPORTED);
    unsigned a = 9, b = 9, c = 9, f = 9;
    CHECK_EQ_INT(((nvmlReturn_t(*)(nvmlDevice_t, unsigned *, unsigned *, unsigned *, unsigned *))
                      need("nvmlDeviceGetRemappedRows"))(d0, &a, &b, &c, &f),
                 NVML_SUCCESS);
    CHECK(a == 0 && b == 0 && c == 0 && f == 0);
    nvmlRowRemapperHistogramValues_t hist;
    CHECK_EQ_INT(((nvmlReturn_t(*)(nvmlDevice_t, nvmlRowRemapperHistogramValues_t *))need(
                     "nvmlDeviceGetRowRemapperHistogram"))(d0, &hist),
                 NVML_SUCCESS);
    CHECK_EQ_INT(hist.max, e->banks);

    xu_fn link = (xu_fn)need("nvmlDeviceGetNvLinkState");
    unsigned on = 9;
    if (e->nvlinks) {
        CHECK(link(d0, 0, &on) == NVML_SUCCESS && on == 1);
        CHECK(link(d0, e->nvlinks - 1, &on) == NVML_SUCCESS && on == 1);
        CHECK_EQ_INT(link(d0, e->nvlinks, &on), NVML_ERROR_INVALID_ARGUMENT);
    } else {
        CHECK_EQ_INT(link(d0, 0, &on), NVML_ERROR_NOT_SUPPORTED);
    }
    /* MPS: no server, no process. */
    unsigned np = 0;
    CHECK_EQ_INT(((nvmlReturn_t(*)(nvmlDevice_t, unsigned *, nvmlProcessInfo_t *))need(
                     "nvmlDeviceGetMPSComputeRunningProcesses_v3"))(d0, &np, NULL),
                 NVML_SUCCESS);
    CHECK_EQ_INT(np, 0);
}

static void test_clocks_and_cooling(const struct expect *e, nvmlDevice_t d0)
{
    xu_fn app = (xu_fn)need("nvmlDeviceGetApplicationsClock");
    xu_fn dflt = (xu_fn)need("nvmlDeviceGetDefaultApplicationsClock");
    unsigned g = 0, m = 0, g2 = 0;
    CHECK(app(d0, NVML_CLOCK_GRAPHICS, &g) == NVML_SUCCESS && g == e->app_gfx);
    CHECK(dflt(d0, NVML_CLOCK_MEM, &m) == NVML_SUCCESS);
    if (e->app_mem)
        CHECK_EQ_INT(m, e->app_mem);
    /* Set a supported pair (privileged), read it back, reset to the defaults. */
    nvmlReturn_t (*set)(nvmlDevice_t, unsigned, unsigned) =
        (nvmlReturn_t(*)(nvmlDevice_t, unsigned, unsigned))need("nvmlDeviceSetApplicationsClocks");
    unsigned mem[8], nm = 8, gfx[256], ng = 256;
    CHECK_EQ_INT(A.GetSupportedMemoryClocks(d0, &nm, mem), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetSupportedGraphicsClocks(d0, mem[0], &ng, gfx), NVML_SUCCESS);
    CHECK_EQ_INT(set(d0, mem[0], gfx[ng / 2]), NVML_SUCCESS);
    CHECK(app(d0, NVML_CLOCK_GRAPHICS, &g2) == NVML_SUCCESS && g2 == gfx[ng / 2]);
    CHECK_EQ_INT(set(d0, mem[0], gfx[0] + 1), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(set(d0, 1, gfx[0]), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(((nvmlReturn_t(*)(nvmlDevice_t))need("nvmlDeviceResetApplicationsClocks"))(d0),
                 NVML_SUCCESS);
    CHECK(app(d0, NVML_CLOCK_GRAPHICS, &g2) == NVML_SUCCESS && g2 == e->app_gfx);

    unsigned boost = 0;
    nvmlReturn_t rc =
        ((xu_fn)need("nvmlDeviceGetMaxCustomerBoostClock"))(d0, NVML_CLOCK_GRAPHICS, &boost);
    if (e->boost)
        CHECK(rc == NVML_SUCCESS && boost == e->boost);
    else
        CHECK_EQ_INT(rc, NVML_ERROR_NOT_SUPPORTED);

    unsigned long long r = 0;
    CHECK_EQ_INT(((nvmlReturn_t(*)(nvmlDevice_t, unsigned long long *))need(
                     "nvmlDeviceGetSupportedClocksEventReasons"))(d0, &r),
                 NVML_SUCCESS);
    CHECK_EQ_INT(r, 0x1FF);

    unsigned fans = 0, sp = 0, lo = 0, hi = 0;
    rc = ((u_fn)need("nvmlDeviceGetNumFans"))(d0, &fans);
    nvmlReturn_t rs = ((xu_fn)need("nvmlDeviceGetFanSpeed_v2"))(d0, 0, &sp);
    nvmlReturn_t rm = ((uu_fn)need("nvmlDeviceGetMinMaxFanSpeed"))(d0, &lo, &hi);
    if (e->fans) {
        CHECK(rc == NVML_SUCCESS && fans == e->fans);
        CHECK(rs == NVML_SUCCESS && sp >= 30 && sp <= 100);
        CHECK(rm == NVML_SUCCESS && lo == 30 && hi == 100);
    } else {
        CHECK(rc == NVML_ERROR_NOT_SUPPORTED && rs == NVML_ERROR_NOT_SUPPORTED &&
              rm == NVML_ERROR_NOT_SUPPORTED);
    }

    /* Memory temperature (82) and the T.Limit fields (193-196). */
    nvmlFieldValue_t v;
    unsigned temp = 0;
    CHECK_EQ_INT(A.GetTemperature(d0, NVML_TEMPERATURE_GPU, &temp), NVML_SUCCESS);
    rc = sim_field(&A, d0, NVML_FI_DEV_MEMORY_TEMP, 0, &v);
    if (e->mem_temp)
        CHECK(rc == NVML_SUCCESS && v.valueType == NVML_VALUE_TYPE_UNSIGNED_INT &&
              v.value.uiVal > temp);
    else
        CHECK_EQ_INT(rc, NVML_ERROR_NOT_SUPPORTED);
    nvmlMarginTemperature_v1_t mt = {.version = nvmlMarginTemperature_v1};
    rc = ((nvmlReturn_t(*)(nvmlDevice_t, nvmlMarginTemperature_v1_t *))need(
        "nvmlDeviceGetMarginTemperature"))(d0, &mt);
    if (e->tlimit)
        CHECKF(rc == NVML_SUCCESS && mt.marginTemperature == 87 - (int)temp, "margin %d at %u C",
               mt.marginTemperature, temp);
    else
        CHECK_EQ_INT(rc, NVML_ERROR_NOT_SUPPORTED);
    mt.version = 1;
    CHECK_EQ_INT(((nvmlReturn_t(*)(nvmlDevice_t, nvmlMarginTemperature_v1_t *))need(
                     "nvmlDeviceGetMarginTemperature"))(d0, &mt),
                 NVML_ERROR_ARGUMENT_VERSION_MISMATCH);
    static const int margins[4] = {-8, -2, 0, 0}; /* the H100 dump */
    for (unsigned id = 193; id <= 196; id++) {
        rc = sim_field(&A, d0, id, 0, &v);
        if (e->tlimit)
            CHECK(rc == NVML_SUCCESS && v.valueType == NVML_VALUE_TYPE_SIGNED_INT &&
                  v.value.siVal == margins[id - 193]);
        else
            CHECKF(rc == NVML_ERROR_NOT_SUPPORTED, "field %u on %s", id, e->profile);
    }
}

/* Time under the power cap: a load above a low limit is capped every step. */
static void test_violations(const struct expect *e)
{
    char text[256];
    snprintf(text, sizeof text, "profile %s\npower-limit 1\nphase 5s util=1 alpha=1\n", e->profile);
    CHECK_EQ_INT(A.Reconfigure(text, JSIM_FLAG_VIRTUAL_TIME), NVML_SUCCESS);
    nvmlDevice_t d;
    CHECK_EQ_INT(A.GetHandleByIndex_v2(0, &d), NVML_SUCCESS);
    nvmlReturn_t (*viol)(nvmlDevice_t, unsigned, nvmlViolationTime_t *) = (nvmlReturn_t(*)(
        nvmlDevice_t, unsigned, nvmlViolationTime_t *))need("nvmlDeviceGetViolationStatus");
    nvmlViolationTime_t v0, v1, vt;
    CHECK_EQ_INT(viol(d, NVML_PERF_POLICY_POWER, &v0), NVML_SUCCESS);
    CHECK_EQ_INT(A.Advance(1.0), NVML_SUCCESS);
    CHECK_EQ_INT(viol(d, NVML_PERF_POLICY_POWER, &v1), NVML_SUCCESS);
    CHECK_EQ_INT(viol(d, NVML_PERF_POLICY_THERMAL, &vt), NVML_SUCCESS);
    CHECKF(v1.violationTime - v0.violationTime >= 990000000ull, "%s: %llu ns capped of 1 s",
           e->profile, v1.violationTime - v0.violationTime);
    CHECK(v1.referenceTime >= v0.referenceTime && v1.referenceTime > 0);
    CHECK_EQ_INT(vt.violationTime, 0);
    CHECK_EQ_INT(viol(d, 7, &vt), NVML_ERROR_INVALID_ARGUMENT);
}

/* The last ten sensor updates (nvmlDeviceGetSamples) and the busy process's share. */
static void test_samples(const struct expect *e)
{
    char text[256];
    snprintf(text, sizeof text, "profile %s\nphase 5s util=1 alpha=0.5\n", e->profile);
    CHECK_EQ_INT(A.Reconfigure(text, JSIM_FLAG_VIRTUAL_TIME), NVML_SUCCESS);
    nvmlDevice_t d;
    CHECK_EQ_INT(A.GetHandleByIndex_v2(0, &d), NVML_SUCCESS);
    nvmlReturn_t (*samples)(nvmlDevice_t, unsigned, unsigned long long, unsigned *, unsigned *,
                            nvmlSample_t *) =
        (nvmlReturn_t(*)(nvmlDevice_t, unsigned, unsigned long long, unsigned *, unsigned *,
                         nvmlSample_t *))need("nvmlDeviceGetSamples");
    unsigned vt = 9, n = 0;
    nvmlSample_t s[16];
    CHECK_EQ_INT(samples(d, NVML_TOTAL_POWER_SAMPLES, 0, &vt, &n, s), NVML_ERROR_NOT_FOUND);
    CHECK_EQ_INT(A.Advance(1.5), NVML_SUCCESS);
    CHECK_EQ_INT(samples(d, NVML_TOTAL_POWER_SAMPLES, 0, &vt, &n, NULL), NVML_SUCCESS);
    CHECK_EQ_INT(n, 10);
    n = 16;
    CHECK_EQ_INT(samples(d, NVML_TOTAL_POWER_SAMPLES, 0, &vt, &n, s), NVML_SUCCESS);
    CHECK_EQ_INT(vt, NVML_VALUE_TYPE_UNSIGNED_INT);
    CHECK_EQ_INT(n, 10);
    unsigned mw = 0;
    CHECK_EQ_INT(A.GetPowerUsage(d, &mw), NVML_SUCCESS);
    for (unsigned i = 1; i < n; i++) {
        long long gap = (long long)(s[i].timeStamp - s[i - 1].timeStamp);
        /* one sensor period apart: 100 ms, +/- 2 ms on the wandering clock */
        CHECKF(gap >= 98000 - 1 && gap <= 102000 + 1, "%s: samples %lld us apart", e->profile, gap);
        CHECK(s[i].sampleValue.uiVal > 0);
    }
    double mean = 0;
    for (unsigned i = 0; i < n; i++)
        mean += s[i].sampleValue.uiVal / 10.0;
    if (!strcmp(e->profile, "a6000") || !strcmp(e->profile, "h100-sxm5"))
        CHECKF(fabs(mean - mw) <= 10, "mean of the samples %.0f mW, 1-s average %u", mean, mw);
    unsigned k = 9;
    CHECK_EQ_INT(samples(d, NVML_TOTAL_POWER_SAMPLES, s[4].timeStamp, &vt, &k, s + 10 - 9),
                 NVML_SUCCESS);
    CHECK_EQ_INT(k, 5); /* only the newer ones */
    k = 16;
    CHECK_EQ_INT(samples(d, NVML_TOTAL_POWER_SAMPLES, s[9].timeStamp, &vt, &k, s),
                 NVML_ERROR_NOT_FOUND);
    k = 16;
    CHECK_EQ_INT(samples(d, NVML_GPU_UTILIZATION_SAMPLES, 0, &vt, &k, s), NVML_SUCCESS);
    CHECK(k == 10 && s[9].sampleValue.uiVal == 100);
    k = 16;
    CHECK_EQ_INT(samples(d, 7, 0, &vt, &k, s), NVML_ERROR_INVALID_ARGUMENT);

    nvmlReturn_t (*putil)(nvmlDevice_t, nvmlProcessUtilizationSample_t *, unsigned *,
                          unsigned long long) =
        (nvmlReturn_t(*)(nvmlDevice_t, nvmlProcessUtilizationSample_t *, unsigned *,
                         unsigned long long))need("nvmlDeviceGetProcessUtilization");
    nvmlProcessUtilizationSample_t p[4];
    unsigned np = 0;
    CHECK_EQ_INT(putil(d, NULL, &np, 0), NVML_ERROR_INSUFFICIENT_SIZE);
    CHECK_EQ_INT(np, 1);
    np = 4;
    CHECK_EQ_INT(putil(d, p, &np, 0), NVML_SUCCESS);
    CHECK(np == 1 && p[0].pid == (unsigned)getpid() && p[0].smUtil == 100);
    snprintf(text, sizeof text, "profile %s\nidle 5s\n", e->profile);
    CHECK_EQ_INT(A.Reconfigure(text, JSIM_FLAG_VIRTUAL_TIME), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetHandleByIndex_v2(0, &d), NVML_SUCCESS);
    np = 4;
    CHECK_EQ_INT(putil(d, p, &np, 0), NVML_ERROR_NOT_FOUND);
}

/* Event sets: an Xid a scenario injects, the Xid 79 of a board that leaves the bus. */
static void test_events(const struct expect *e)
{
    char text[256];
    snprintf(text, sizeof text,
             "profile %s\ndevices 2\nphase 2s util=1\nfault xid at=0.5s xid=13 device=1\n"
             "fault lost at=1s device=1\n",
             e->profile);
    CHECK_EQ_INT(A.Reconfigure(text, JSIM_FLAG_VIRTUAL_TIME), NVML_SUCCESS);
    nvmlDevice_t d0, d1;
    CHECK_EQ_INT(A.GetHandleByIndex_v2(0, &d0), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetHandleByIndex_v2(1, &d1), NVML_SUCCESS);
    unsigned long long types = 0;
    CHECK_EQ_INT(((nvmlReturn_t(*)(nvmlDevice_t, unsigned long long *))need(
                     "nvmlDeviceGetSupportedEventTypes"))(d1, &types),
                 NVML_SUCCESS);
    CHECK_EQ_INT(types, NVML_EVENT_TYPE_XID_CRITICAL_ERROR | NVML_EVENT_TYPE_PSTATE |
                            (e->ecc ? 0x3ull : 0));
    nvmlEventSet_t set = NULL;
    CHECK_EQ_INT(((nvmlReturn_t(*)(nvmlEventSet_t *))need("nvmlEventSetCreate"))(&set),
                 NVML_SUCCESS);
    nvmlReturn_t (*reg)(nvmlDevice_t, unsigned long long, nvmlEventSet_t) = (nvmlReturn_t(*)(
        nvmlDevice_t, unsigned long long, nvmlEventSet_t))need("nvmlDeviceRegisterEvents");
    nvmlReturn_t (*wait)(nvmlEventSet_t, nvmlEventData_t *, unsigned) =
        (nvmlReturn_t(*)(nvmlEventSet_t, nvmlEventData_t *, unsigned))need("nvmlEventSetWait_v2");
    CHECK_EQ_INT(reg(d1, NVML_EVENT_TYPE_XID_CRITICAL_ERROR, set), NVML_SUCCESS);
    CHECK_EQ_INT(reg(d0, NVML_EVENT_TYPE_XID_CRITICAL_ERROR, set), NVML_SUCCESS);
    CHECK_EQ_INT(reg(d1, NVML_EVENT_TYPE_CLOCK, set), NVML_ERROR_NOT_SUPPORTED);
    CHECK_EQ_INT(reg(d1, NVML_EVENT_TYPE_XID_CRITICAL_ERROR, NULL), NVML_ERROR_INVALID_ARGUMENT);
    nvmlEventData_t ev;
    CHECK_EQ_INT(wait(set, &ev, 0), NVML_ERROR_TIMEOUT);
    CHECK_EQ_INT(A.Advance(0.6), NVML_SUCCESS);
    CHECK_EQ_INT(wait(set, &ev, 10), NVML_SUCCESS);
    CHECK(ev.device == d1 && ev.eventType == NVML_EVENT_TYPE_XID_CRITICAL_ERROR &&
          ev.eventData == 13 && ev.gpuInstanceId == 0xFFFFFFFFu);
    CHECK_EQ_INT(wait(set, &ev, 0), NVML_ERROR_TIMEOUT);
    CHECK_EQ_INT(A.Advance(0.6), NVML_SUCCESS);
    CHECK_EQ_INT(wait(set, &ev, 0), NVML_SUCCESS);
    CHECK(ev.device == d1 && ev.eventData == 79);
    CHECK_EQ_INT(wait(set, &ev, 0), NVML_ERROR_TIMEOUT);
    CHECK_EQ_INT(((nvmlReturn_t(*)(nvmlEventSet_t))need("nvmlEventSetFree"))(set), NVML_SUCCESS);

    /* P-state changes: the board goes busy at the scenario's start. */
    snprintf(text, sizeof text, "profile %s\nidle 0.5s\nphase 1s util=1\n", e->profile);
    CHECK_EQ_INT(A.Reconfigure(text, JSIM_FLAG_VIRTUAL_TIME), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetHandleByIndex_v2(0, &d0), NVML_SUCCESS);
    CHECK_EQ_INT(((nvmlReturn_t(*)(nvmlEventSet_t *))need("nvmlEventSetCreate"))(&set),
                 NVML_SUCCESS);
    CHECK_EQ_INT(reg(d0, NVML_EVENT_TYPE_PSTATE, set), NVML_SUCCESS);
    unsigned ps0 = 99, ps = 99;
    CHECK_EQ_INT(A.Advance(0.2), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetPerformanceState(d0, &ps0), NVML_SUCCESS);
    CHECK_EQ_INT(A.Advance(0.8), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetPerformanceState(d0, &ps), NVML_SUCCESS);
    nvmlReturn_t rc = wait(set, &ev, 0);
    if (ps != ps0) /* the A6000 idles in P8 and works in P2 */
        CHECK(rc == NVML_SUCCESS && ev.eventType == NVML_EVENT_TYPE_PSTATE && ev.eventData == ps);
    else /* the others stay in P0 */
        CHECK_EQ_INT(rc, NVML_ERROR_TIMEOUT);
    CHECKF(strcmp(e->profile, "a6000") || (ps0 == 8 && ps == 2), "%s: P%u then P%u", e->profile,
           ps0, ps);
    ((nvmlReturn_t(*)(nvmlEventSet_t))need("nvmlEventSetFree"))(set);
}

int main(void)
{
    sim_load(&A);
    setenv("JOULES_SIM_PRIVILEGED", "1", 1);
    unsetenv("JOULES_SIM_SCENARIO");
    CHECK_EQ_INT(A.Init_v2(), NVML_SUCCESS);
    for (size_t i = 0; i < sizeof boards / sizeof boards[0]; i++) {
        const struct expect *e = &boards[i];
        char text[128];
        snprintf(text, sizeof text, "profile %s\ndevices 2\n", e->profile);
        CHECK_EQ_INT(A.Reconfigure(text, JSIM_FLAG_VIRTUAL_TIME), NVML_SUCCESS);
        nvmlDevice_t d0, d1;
        CHECK_EQ_INT(A.GetHandleByIndex_v2(0, &d0), NVML_SUCCESS);
        CHECK_EQ_INT(A.GetHandleByIndex_v2(1, &d1), NVML_SUCCESS);
        CHECK_EQ_INT(A.Advance(1.0), NVML_SUCCESS);
        printf("-- %s\n", e->profile);
        test_identity(e, d0, d1);
        test_bus_and_memory(e, d0);
        test_clocks_and_cooling(e, d0);
        test_violations(e);
        test_samples(e);
        test_events(e);
    }
    CHECK_EQ_INT(A.Shutdown(), NVML_SUCCESS);
    return t_end();
}
