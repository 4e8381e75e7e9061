/* SPDX-License-Identifier: MIT */
/*
 * state.c - the one model of the library, its lock and its clock; NVML initialisation,
 * error strings and the system queries.
 *
 * The environment (jsim.h) is read at the first successful nvmlInit*, which is also scenario
 * time 0. The model then lives for the life of the process: nvmlShutdown only decrements the
 * reference count (calls answer UNINITIALIZED at 0), and a later init finds the same GPUs
 * with their counters still running, as a real driver that stays loaded would. Every call
 * takes the lock and first advances the model to the current CLOCK_MONOTONIC time.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sim/nvml_exports.h"
#include "sim/sim.h"

struct sim_state sim_g = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The model lives as long as the library: freed when it is unloaded (dlclose) or at exit,
 * so that a client that loads and unloads the simulator leaks nothing. */
__attribute__((destructor)) static void sim_unload(void)
{
    pthread_mutex_lock(&sim_g.lock);
    sim_model_free(&sim_g);
    sim_g.built = 0;
    sim_g.refcount = 0;
    pthread_mutex_unlock(&sim_g.lock);
}

long long sim_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

double sim_now_s(void)
{
    if (sim_g.virtual_time || sim_g.n_dev == 0)
        return sim_g.n_dev ? sim_g.dev[0].step * SIM_DT_S : 0;
    return (sim_monotonic_ns() - sim_g.start_ns) * 1e-9;
}

void sim_set_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sim_g.last_error, sizeof sim_g.last_error, fmt, ap);
    va_end(ap);
    sim_g.last_error_name_len = 0;
}

/* The start of a UTF-8 character at or after s[i] (never past n): a cut there splits none. */
static size_t char_start(const char *s, size_t i, size_t n)
{
    while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80)
        i++;
    return i;
}

/* The start of a UTF-8 character at or before s[i]. */
static size_t char_start_back(const char *s, size_t i)
{
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
        i--;
    return i;
}

size_t sim_join_elided(char *dst, size_t len, const char *head, size_t head_n, const char *tail)
{
    static const char ell[] = "...";
    const size_t ell_n = sizeof ell - 1;
    size_t tail_n = strlen(tail);
    if (!dst || len == 0)
        return 0;
    if (head_n + tail_n < len) {
        memcpy(dst, head, head_n);
        memcpy(dst + head_n, tail, tail_n + 1);
        return head_n;
    }
    /* The end of a path names the file and the tail says what is wrong with it: the start of
     * the head goes first. */
    if (tail_n + ell_n + 1 < len) {
        size_t from = char_start(head, head_n - (len - 1 - tail_n - ell_n), head_n);
        size_t kept = head_n - from;
        memcpy(dst, ell, ell_n);
        memcpy(dst + ell_n, head + from, kept);
        memcpy(dst + ell_n + kept, tail, tail_n + 1);
        return ell_n + kept;
    }
    /* The tail alone does not fit: its end goes too, marked the same way, and of the head
     * only the file's own name stays, where it leaves a few words of the tail. */
    size_t slash = head_n;
    while (slash > 0 && head[slash - 1] != '/')
        slash--;
    size_t base_n = slash ? head_n - (slash - 1) : 0;
    if (base_n && 3 * ell_n + base_n + 16 < len) {
        size_t cut = char_start_back(tail, len - 1 - 2 * ell_n - base_n);
        memcpy(dst, ell, ell_n);
        memcpy(dst + ell_n, head + slash - 1, base_n);
        memcpy(dst + ell_n + base_n, tail, cut);
        memcpy(dst + ell_n + base_n + cut, ell, ell_n + 1);
        return ell_n + base_n;
    }
    if (len < 2 * ell_n + 2) {
        size_t cut = char_start_back(tail, len - 1 < tail_n ? len - 1 : tail_n);
        memcpy(dst, tail, cut);
        dst[cut] = '\0';
        return 0;
    }
    size_t cut = char_start_back(tail, len - 1 - 2 * ell_n);
    memcpy(dst, ell, ell_n);
    memcpy(dst + ell_n, tail, cut);
    memcpy(dst + ell_n + cut, ell, ell_n + 1);
    return ell_n;
}

nvmlReturn_t sim_enter(void)
{
    pthread_mutex_lock(&sim_g.lock);
    if (sim_g.refcount == 0) {
        pthread_mutex_unlock(&sim_g.lock);
        return NVML_ERROR_UNINITIALIZED;
    }
    if (!sim_g.virtual_time) {
        long long el = sim_monotonic_ns() - sim_g.start_ns;
        sim_model_advance(&sim_g, el > 0 ? el / SIM_DT_NS : 0);
    }
    return NVML_SUCCESS;
}

void sim_leave(void)
{
    pthread_mutex_unlock(&sim_g.lock);
}

struct sim_dev *sim_dev_of(nvmlDevice_t h)
{
    uintptr_t a = (uintptr_t)h, base = (uintptr_t)&sim_g.dev[0];
    if (!h || a < base || a >= base + (uintptr_t)sim_g.n_dev * sizeof(struct sim_dev))
        return NULL;
    if ((a - base) % sizeof(struct sim_dev) != 0)
        return NULL;
    return (struct sim_dev *)h;
}

nvmlReturn_t sim_enter_dev(nvmlDevice_t h, struct sim_dev **out)
{
    nvmlReturn_t rc = sim_enter();
    if (rc != NVML_SUCCESS)
        return rc;
    struct sim_dev *d = sim_dev_of(h);
    if (!d)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else if (d->lost)
        rc = NVML_ERROR_GPU_IS_LOST;
    else
        rc = sim_model_fault(&sim_g, d);
    if (rc != NVML_SUCCESS) {
        sim_leave();
        return rc;
    }
    *out = d;
    return NVML_SUCCESS;
}

nvmlReturn_t sim_copy_str(char *dst, unsigned int len, const char *src)
{
    size_t n = strlen(src);
    if (!dst)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (len < n + 1)
        return NVML_ERROR_INSUFFICIENT_SIZE;
    memcpy(dst, src, n + 1);
    return NVML_SUCCESS;
}

/* ---- initialisation ------------------------------------------------------------------- */

/* Read the environment and build the model (lock held). 0, or -1 with last_error set. */
static int build_from_env(void)
{
    char err[512];
    const char *profile = getenv("JOULES_SIM_PROFILE");
    const char *devs = getenv("JOULES_SIM_DEVICES");
    const char *path = getenv("JOULES_SIM_SCENARIO");
    const char *seed = getenv("JOULES_SIM_SEED");
    const char *priv = getenv("JOULES_SIM_PRIVILEGED");
    int n_dev = 0, has_seed = 0;
    unsigned long long seed_v = 0;
    char *end;

    if (profile && *profile && !sim_profile_find(profile)) {
        sim_set_error("JOULES_SIM_PROFILE: unknown profile '%s' (known: %s)", profile,
                      sim_profile_keys());
        return -1;
    }
    if (devs && *devs) {
        errno = 0;
        long v = strtol(devs, &end, 10);
        if (*end || errno || v < 1 || v > SIM_MAX_DEVICES) {
            sim_set_error("JOULES_SIM_DEVICES: '%s' is not a number from 1 to %d", devs,
                          SIM_MAX_DEVICES);
            return -1;
        }
        n_dev = (int)v;
    }
    if (seed && *seed) {
        errno = 0;
        seed_v = strtoull(seed, &end, 0);
        if (*end || errno || seed[0] == '-') {
            sim_set_error("JOULES_SIM_SEED: '%s' is not an unsigned integer", seed);
            return -1;
        }
        has_seed = 1;
    }
    int privileged;
    if (!priv || !*priv)
        privileged = geteuid() == 0;
    else if (!strcmp(priv, "1"))
        privileged = 1;
    else if (!strcmp(priv, "0"))
        privileged = 0;
    else {
        sim_set_error("JOULES_SIM_PRIVILEGED: '%s' must be 1 (allow setters) or 0 (deny)", priv);
        return -1;
    }
    struct sim_scenario scn;
    sim_scenario_init(&scn);
    if (path && *path && sim_scenario_load(&scn, path, err, sizeof err) != 0) {
        sim_set_error("%s", err);
        sim_g.last_error_name_len = scn.err_name_len;
        sim_scenario_free(&scn);
        return -1;
    }
    if (sim_model_build(&sim_g, &scn, profile, n_dev, has_seed, seed_v, err, sizeof err) != 0) {
        sim_scenario_free(&scn);
        sim_set_error("%s", err);
        return -1;
    }
    sim_g.privileged = privileged;
    sim_g.virtual_time = 0;
    sim_g.start_ns = sim_monotonic_ns();
    sim_g.built = 1;
    return 0;
}

static nvmlReturn_t init_common(unsigned int flags)
{
    (void)flags; /* NO_GPUS / NO_ATTACH change nothing: the simulated GPUs always exist */
    pthread_mutex_lock(&sim_g.lock);
    if (!sim_g.built && build_from_env() != 0) {
        pthread_mutex_unlock(&sim_g.lock);
        return NVML_ERROR_UNKNOWN;
    }
    sim_g.refcount++;
    pthread_mutex_unlock(&sim_g.lock);
    return NVML_SUCCESS;
}

JSIM_EXPORT nvmlReturn_t nvmlInit_v2(void)
{
    return init_common(0);
}

JSIM_EXPORT nvmlReturn_t nvmlInit(void)
{
    return init_common(0);
}

JSIM_EXPORT nvmlReturn_t nvmlInitWithFlags(unsigned int flags)
{
    return init_common(flags);
}

JSIM_EXPORT nvmlReturn_t nvmlShutdown(void)
{
    nvmlReturn_t rc = NVML_SUCCESS;
    pthread_mutex_lock(&sim_g.lock);
    if (sim_g.refcount == 0)
        rc = NVML_ERROR_UNINITIALIZED;
    else
        sim_g.refcount--;
    pthread_mutex_unlock(&sim_g.lock);
    return rc;
}

JSIM_EXPORT const char *nvmlErrorString(nvmlReturn_t result)
{
    switch (result) {
    case NVML_SUCCESS:
        return "Success";
    case NVML_ERROR_UNINITIALIZED:
        return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT:
        return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED:
        return "Not Supported";
    case NVML_ERROR_NO_PERMISSION:
        return "Insufficient Permissions";
    case NVML_ERROR_ALREADY_INITIALIZED:
        return "Already Initialized";
    case NVML_ERROR_NOT_FOUND:
        return "Not Found";
    case NVML_ERROR_INSUFFICIENT_SIZE:
        return "Insufficient Size";
    case NVML_ERROR_INSUFFICIENT_POWER:
        return "Insufficient External Power";
    case NVML_ERROR_DRIVER_NOT_LOADED:
        return "Driver Not Loaded";
    case NVML_ERROR_TIMEOUT:
        return "Timeout";
    case NVML_ERROR_IRQ_ISSUE:
        return "Interrupt request issue";
    case NVML_ERROR_LIBRARY_NOT_FOUND:
        return "NVML Shared Library Not Found";
    case NVML_ERROR_FUNCTION_NOT_FOUND:
        return "Function Not Found";
    case NVML_ERROR_CORRUPTED_INFOROM:
        return "Corrupted infoROM";
    case NVML_ERROR_GPU_IS_LOST:
        return "GPU is lost";
    case NVML_ERROR_RESET_REQUIRED:
        return "GPU requires restart";
    case NVML_ERROR_OPERATING_SYSTEM:
        return "The operating system has blocked the request.";
    case NVML_ERROR_LIB_RM_VERSION_MISMATCH:
        return "RM has detected an NVML/RM version mismatch.";
    case NVML_ERROR_IN_USE:
        return "In use by another client";
    case NVML_ERROR_MEMORY:
        return "Insufficient Memory";
    case NVML_ERROR_NO_DATA:
        return "No data";
    case NVML_ERROR_VGPU_ECC_NOT_SUPPORTED:
        return "The requested vgpu operation is not available on target device, because ECC is "
               "enabled";
    case NVML_ERROR_INSUFFICIENT_RESOURCES:
        return "Ran out of critical resources, other than memory";
    case NVML_ERROR_FREQ_NOT_SUPPORTED:
        return "The requested frequency is not supported";
    case NVML_ERROR_ARGUMENT_VERSION_MISMATCH:
        return "Argument version mismatch";
    case NVML_ERROR_DEPRECATED:
        return "Deprecated";
    case NVML_ERROR_NOT_READY:
        return "Not ready";
    case NVML_ERROR_GPU_NOT_FOUND:
        return "GPU not found";
    case NVML_ERROR_INVALID_STATE:
        return "Invalid state";
    case NVML_ERROR_UNKNOWN:
        return "Unknown Error";
    default:
        return "Unknown Error";
    }
}

/* ---- system --------------------------------------------------------------------------- */

/* "-sim" marks the version as not a driver's; 999 keeps version comparisons permissive. */
#define SIM_DRIVER_VERSION "999.00.00-sim"
#define SIM_NVML_VERSION   "12.999.00.00-sim"
#define SIM_CUDA_VERSION   12080

JSIM_EXPORT nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length)
{
    nvmlReturn_t rc = sim_enter();
    if (rc != NVML_SUCCESS)
        return rc;
    rc = sim_copy_str(version, length, SIM_DRIVER_VERSION);
    sim_leave();
    return rc;
}

JSIM_EXPORT nvmlReturn_t nvmlSystemGetNVMLVersion(char *version, unsigned int length)
{
    return sim_copy_str(version, length, SIM_NVML_VERSION);
}

JSIM_EXPORT nvmlReturn_t nvmlSystemGetCudaDriverVersion(int *version)
{
    if (!version)
        return NVML_ERROR_INVALID_ARGUMENT;
    *version = SIM_CUDA_VERSION;
    return NVML_SUCCESS;
}

JSIM_EXPORT nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int *version)
{
    return nvmlSystemGetCudaDriverVersion(version);
}

/* ---- enumeration ---------------------------------------------------------------------- */

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count)
{
    nvmlReturn_t rc = sim_enter();
    if (rc != NVML_SUCCESS)
        return rc;
    if (!count)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        *count = (unsigned)sim_g.n_dev;
    sim_leave();
    return rc;
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetCount(unsigned int *count)
{
    return nvmlDeviceGetCount_v2(count);
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device)
{
    nvmlReturn_t rc = sim_enter();
    if (rc != NVML_SUCCESS)
        return rc;
    if (!device || index >= (unsigned)sim_g.n_dev)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        *device = (nvmlDevice_t)(void *)&sim_g.dev[index];
    sim_leave();
    return rc;
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex(unsigned int index, nvmlDevice_t *device)
{
    return nvmlDeviceGetHandleByIndex_v2(index, device);
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetHandleByUUID(const char *uuid, nvmlDevice_t *device)
{
    nvmlReturn_t rc = sim_enter();
    if (rc != NVML_SUCCESS)
        return rc;
    rc = NVML_ERROR_NOT_FOUND;
    if (!uuid || !device)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        for (int i = 0; i < sim_g.n_dev; i++)
            if (!strcmp(uuid, sim_g.dev[i].uuid)) {
                *device = (nvmlDevice_t)(void *)&sim_g.dev[i];
                rc = NVML_SUCCESS;
            }
    sim_leave();
    return rc;
}
