/* SPDX-License-Identifier: MIT */
/*
 * test_sim_basic.c - the simulated GPU seen as a stock NVML client sees it: init reference
 * counting, enumeration and identity, the INSUFFICIENT_SIZE protocols, bad arguments,
 * version checks and setters refused without privilege.
 */
#include <string.h>

#include "test_sim_common.h"

static struct sim_api A;
static nvmlDevice_t dev0, dev1;

static void test_uninitialized(void)
{
    unsigned n = 0;
    CHECK_EQ_INT(A.GetCount_v2(&n), NVML_ERROR_UNINITIALIZED);
    CHECK_EQ_INT(A.Shutdown(), NVML_ERROR_UNINITIALIZED);
    CHECK(A.IsSimulated() == 1);
    CHECK(strcmp(A.ErrorString(NVML_ERROR_UNINITIALIZED), "Uninitialized") == 0);
    CHECK(strcmp(A.ErrorString(NVML_ERROR_GPU_IS_LOST), "GPU is lost") == 0);
    CHECK(strcmp(A.ErrorString(NVML_ERROR_NO_PERMISSION), "Insufficient Permissions") == 0);
    CHECK(strcmp(A.ErrorString(12345), "Unknown Error") == 0);
}

static void test_refcount(void)
{
    unsigned n = 0;
    CHECK_EQ_INT(A.InitWithFlags(0), NVML_SUCCESS);
    CHECK_EQ_INT(A.Init_v2(), NVML_SUCCESS);
    CHECK_EQ_INT(A.Init(), NVML_SUCCESS);
    CHECK_EQ_INT(A.Shutdown(), NVML_SUCCESS);
    CHECK_EQ_INT(A.Shutdown(), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetCount_v2(&n), NVML_SUCCESS); /* one reference left */
    CHECK_EQ_INT(A.Shutdown(), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetCount_v2(&n), NVML_ERROR_UNINITIALIZED);
    CHECK_EQ_INT(A.Shutdown(), NVML_ERROR_UNINITIALIZED);
    CHECK_EQ_INT(A.Init_v2(), NVML_SUCCESS); /* the same model again */
}

static void test_enumeration(void)
{
    unsigned n = 0, n1 = 0;
    CHECK_EQ_INT(A.GetCount_v2(&n), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetCount(&n1), NVML_SUCCESS);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(n1, 2);
    CHECK_EQ_INT(A.GetCount_v2(NULL), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(A.GetHandleByIndex_v2(0, &dev0), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetHandleByIndex(1, &dev1), NVML_SUCCESS);
    CHECK(dev0 != dev1);
    nvmlDevice_t x;
    CHECK_EQ_INT(A.GetHandleByIndex_v2(2, &x), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(A.GetHandleByIndex_v2(0, NULL), NVML_ERROR_INVALID_ARGUMENT);
    /* bad handles */
    char buf[96];
    CHECK_EQ_INT(A.GetName(NULL, buf, sizeof buf), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(A.GetName((nvmlDevice_t)(void *)buf, buf, sizeof buf),
                 NVML_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(A.GetName((nvmlDevice_t)(void *)((char *)dev0 + 8), buf, sizeof buf),
                 NVML_ERROR_INVALID_ARGUMENT);
}

static void test_identity(void)
{
    char name[96], uuid0[96], uuid1[96];
    CHECK_EQ_INT(A.GetName(dev0, name, sizeof name), NVML_SUCCESS);
    CHECK(strcmp(name, "NVIDIA RTX A6000 (simulated)") == 0);
    CHECK_EQ_INT(A.GetUUID(dev0, uuid0, sizeof uuid0), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetUUID(dev1, uuid1, sizeof uuid1), NVML_SUCCESS);
    CHECKF(strlen(uuid0) == 40 && strncmp(uuid0, "GPU-", 4) == 0 && uuid0[12] == '-' &&
               uuid0[17] == '-' && uuid0[22] == '-' && uuid0[27] == '-',
           "uuid %s", uuid0);
    CHECK(strcmp(uuid0, uuid1) != 0);

    nvmlPciInfo_t pci;
    CHECK_EQ_INT(A.GetPciInfo_v3(dev1, &pci), NVML_SUCCESS);
    CHECK_EQ_INT(pci.pciDeviceId, 0x223010DE);
    CHECK_EQ_INT(pci.pciSubSystemId, 0x145910DE);
    CHECK_EQ_INT(pci.bus, 2);
    CHECK(strcmp(pci.busId, "00000000:02:00.0") == 0);
    CHECK(strcmp(pci.busIdLegacy, "0000:02:00.0") == 0);
    CHECK_EQ_INT(A.GetPciInfo_v3(dev1, NULL), NVML_ERROR_INVALID_ARGUMENT);

    unsigned arch = 0;
    CHECK_EQ_INT(A.GetArchitecture(dev0, &arch), NVML_SUCCESS);
    CHECK_EQ_INT(arch, NVML_DEVICE_ARCH_AMPERE);

    char drv[80];
    CHECK_EQ_INT(A.SystemGetDriverVersion(drv, sizeof drv), NVML_SUCCESS);
    /* Dotted numbers as a real driver's (a client parses them); the simulator is told apart by
     * the device name and jsimIsSimulated, not by the version. */
    unsigned major = 0, minor = 0, patch = 0;
    int used = 0;
    CHECKF(sscanf(drv, "%u.%u.%u%n", &major, &minor, &patch, &used) == 3 &&
               used == (int)strlen(drv) && major >= 535,
           "driver version '%s'", drv);
    char nv[80];
    unsigned cuda_major = 0, n_major = 0;
    CHECK_EQ_INT(A.SystemGetNVMLVersion(nv, sizeof nv), NVML_SUCCESS);
    CHECKF(sscanf(nv, "%u.%u.%u.%u%n", &cuda_major, &n_major, &minor, &patch, &used) == 4 &&
               used == (int)strlen(nv) && n_major == major && cuda_major == 12,
           "NVML version '%s' (driver '%s')", nv, drv);
    char dev_name[96];
    CHECK_EQ_INT(A.GetName(dev0, dev_name, sizeof dev_name), NVML_SUCCESS);
    CHECK(strstr(dev_name, " (simulated)") != NULL);
    CHECK_EQ_INT(A.IsSimulated(), 1);
}

static void test_memory_processes(void)
{
    nvmlMemory_t m;
    nvmlMemory_v2_t m2 = {.version = nvmlMemory_v2};
    CHECK_EQ_INT(A.GetMemoryInfo(dev0, &m), NVML_SUCCESS);
    CHECK_EQ_INT(m.total, 49140ull * 1024 * 1024);
    CHECK_EQ_INT(m.free + m.used, m.total);
    CHECK_EQ_INT(A.GetMemoryInfo_v2(dev0, &m2), NVML_SUCCESS);
    CHECK_EQ_INT(m2.total, m.total);
    CHECK_EQ_INT(m2.free + m2.used + m2.reserved, m2.total);
    m2.version = 2; /* what nvtop passes: not the versioned constant */
    CHECK_EQ_INT(A.GetMemoryInfo_v2(dev0, &m2), NVML_ERROR_ARGUMENT_VERSION_MISMATCH);

    unsigned count = 0;
    CHECK_EQ_INT(A.GetComputeRunningProcesses_v3(dev0, &count, NULL), NVML_SUCCESS);
    CHECK_EQ_INT(count, 0);
    CHECK_EQ_INT(A.GetComputeRunningProcesses_v3(dev0, NULL, NULL), NVML_ERROR_INVALID_ARGUMENT);
}

static void test_insufficient_size(void)
{
    char small[8], name[96];
    CHECK_EQ_INT(A.GetName(dev0, small, sizeof small), NVML_ERROR_INSUFFICIENT_SIZE);
    CHECK_EQ_INT(A.GetName(dev0, name, (unsigned)strlen("NVIDIA RTX A6000 (simulated)")),
                 NVML_ERROR_INSUFFICIENT_SIZE);
    CHECK_EQ_INT(A.GetName(dev0, name, (unsigned)strlen("NVIDIA RTX A6000 (simulated)") + 1),
                 NVML_SUCCESS);
    CHECK_EQ_INT(A.GetUUID(dev0, small, sizeof small), NVML_ERROR_INSUFFICIENT_SIZE);
    CHECK_EQ_INT(A.SystemGetDriverVersion(small, 4), NVML_ERROR_INSUFFICIENT_SIZE);

    unsigned n = 0, clocks[256];
    CHECK_EQ_INT(A.GetSupportedMemoryClocks(dev0, &n, NULL), NVML_ERROR_INSUFFICIENT_SIZE);
    CHECK_EQ_INT(n, 4);
    CHECK_EQ_INT(A.GetSupportedMemoryClocks(dev0, &n, clocks), NVML_SUCCESS);
    CHECK_EQ_INT(clocks[0], 8001);
    CHECK_EQ_INT(clocks[3], 405);
    n = 0;
    CHECK_EQ_INT(A.GetSupportedGraphicsClocks(dev0, 8001, &n, NULL), NVML_ERROR_INSUFFICIENT_SIZE);
    CHECK_EQ_INT(n, (2100 - 210) / 15 + 1);
    unsigned need = n;
    n = 3;
    CHECK_EQ_INT(A.GetSupportedGraphicsClocks(dev0, 8001, &n, clocks),
                 NVML_ERROR_INSUFFICIENT_SIZE);
    CHECK_EQ_INT(n, need);
    CHECK_EQ_INT(A.GetSupportedGraphicsClocks(dev0, 8001, &n, clocks), NVML_SUCCESS);
    CHECK_EQ_INT(clocks[0], 2100);
    CHECK_EQ_INT(clocks[n - 1], 210);
    CHECK_EQ_INT(clocks[0] - clocks[1], 15);
    n = 256;
    CHECK_EQ_INT(A.GetSupportedGraphicsClocks(dev0, 1234, &n, clocks), NVML_ERROR_NOT_FOUND);
    CHECK_EQ_INT(A.GetSupportedMemoryClocks(dev0, NULL, clocks), NVML_ERROR_INVALID_ARGUMENT);
}

static void test_no_permission(void)
{
    unsigned lim = 0, lo = 0, hi = 0;
    CHECK_EQ_INT(A.SetGpuLockedClocks(dev0, 1000, 1000), NVML_ERROR_NO_PERMISSION);
    CHECK_EQ_INT(A.ResetGpuLockedClocks(dev0), NVML_ERROR_NO_PERMISSION);
    CHECK_EQ_INT(A.SetPowerManagementLimit(dev0, 200000), NVML_ERROR_NO_PERMISSION);
    nvmlPowerValue_v2_t pv = {
        .version = nvmlPowerValue_v2, .powerScope = 0, .powerValueMw = 200000};
    CHECK_EQ_INT(A.SetPowerManagementLimit_v2(dev0, &pv), NVML_ERROR_NO_PERMISSION);
    pv.version = 1;
    CHECK_EQ_INT(A.SetPowerManagementLimit_v2(dev0, &pv), NVML_ERROR_ARGUMENT_VERSION_MISMATCH);
    CHECK_EQ_INT(A.GetPowerManagementLimit(dev0, &lim), NVML_SUCCESS);
    CHECK_EQ_INT(lim, 300000); /* unchanged */
    CHECK_EQ_INT(A.GetPowerManagementLimitConstraints(dev0, &lo, &hi), NVML_SUCCESS);
    CHECK_EQ_INT(lo, 100000);
    CHECK_EQ_INT(hi, 300000);
}

static void test_idle_state(void)
{
    unsigned ps = 99, clk = 0, mclk = 0, t = 0, p = 0;
    unsigned long long reasons = 0;
    nvmlUtilization_t u;
    /* The default scenario is idle without a context: the A6000 sits in P8. */
    CHECK_EQ_INT(A.GetPerformanceState(dev0, &ps), NVML_SUCCESS);
    CHECK_EQ_INT(ps, 8);
    CHECK_EQ_INT(A.GetClockInfo(dev0, NVML_CLOCK_SM, &clk), NVML_SUCCESS);
    CHECK_EQ_INT(clk, 210);
    CHECK_EQ_INT(A.GetClockInfo(dev0, NVML_CLOCK_MEM, &mclk), NVML_SUCCESS);
    CHECK_EQ_INT(mclk, 405);
    CHECK_EQ_INT(A.GetClockInfo(dev0, 77, &clk), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(A.GetMaxClockInfo(dev0, NVML_CLOCK_GRAPHICS, &clk), NVML_SUCCESS);
    CHECK_EQ_INT(clk, 2100);
    CHECK_EQ_INT(A.GetCurrentClocksEventReasons(dev0, &reasons), NVML_SUCCESS);
    CHECK(reasons & NVML_CLOCKS_EVENT_REASON_GPU_IDLE);
    CHECK_EQ_INT(A.GetUtilizationRates(dev0, &u), NVML_SUCCESS);
    CHECK_EQ_INT(u.gpu, 0);
    CHECK_EQ_INT(A.GetTemperature(dev0, NVML_TEMPERATURE_GPU, &t), NVML_SUCCESS);
    CHECK(t >= 20 && t <= 60);
    CHECK_EQ_INT(A.GetPowerUsage(dev0, &p), NVML_SUCCESS);
    CHECKF(p > 12000 && p < 35000, "P8 idle power %u mW (observed 18-30 W)", p);
}

int main(void)
{
    sim_load(&A);
    RUN(test_uninitialized);
    unsetenv("JOULES_SIM_PROFILE");
    unsetenv("JOULES_SIM_SCENARIO");
    setenv("JOULES_SIM_DEVICES", "2", 1);
    setenv("JOULES_SIM_PRIVILEGED", "0", 1);
    setenv("JOULES_SIM_SEED", "42", 1);
    RUN(test_refcount);
    unsetenv("JOULES_SIM_DEVICES");
    unsetenv("JOULES_SIM_PRIVILEGED");
    unsetenv("JOULES_SIM_SEED");
    RUN(test_enumeration);
    RUN(test_identity);
    RUN(test_memory_processes);
    RUN(test_insufficient_size);
    RUN(test_no_permission);
    RUN(test_idle_state);
    A.Shutdown();
    return t_end();
}
