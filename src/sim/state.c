/* SPDX-License-Identifier: MIT */
/*
 * state.c - the model's lock and clock as the entry points use them; NVML initialisation,
 * error strings and the system queries.
 *
 * The environment (jsim.h) is read at the process's first successful nvmlInit*. The machine
 * (machine.c) is booted by the first process that initialises it: that is scenario time 0.
 * The model then lives as long as the machine: nvmlShutdown only decrements the process's
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

struct sim_local sim_l;
/* Guards what is the process's own: the attachment, the reference count's changes. */
static pthread_mutex_t local_lock = PTHREAD_MUTEX_INITIALIZER;
static int attached;

long long sim_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

long long sim_realtime_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

double sim_now_s(void)
{
    if (sim_m->virtual_time || sim_m->n_dev == 0)
        return sim_m->n_dev ? sim_m->dev[0].step * SIM_DT_S : 0;
    return (sim_monotonic_ns() - sim_m->start_ns) * 1e-9;
}

int sim_initialised(void)
{
    return __atomic_load_n(&sim_l.refcount, __ATOMIC_ACQUIRE) > 0;
}

nvmlReturn_t sim_enter(void)
{
    if (!sim_initialised())
        return NVML_ERROR_UNINITIALIZED;
    sim_lock();
    if (!sim_m->virtual_time) {
        long long el = sim_monotonic_ns() - sim_m->start_ns;
        sim_model_advance(sim_m, el > 0 ? el / SIM_DT_NS : 0);
    }
    return NVML_SUCCESS;
}

void sim_leave(void)
{
    sim_unlock();
}

struct sim_dev *sim_dev_of(nvmlDevice_t h)
{
    uintptr_t a = (uintptr_t)h, base = (uintptr_t)&sim_m->dev[0];
    if (!h || a < base || a >= base + (uintptr_t)sim_m->n_dev * sizeof(struct sim_dev))
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
        rc = sim_model_fault(sim_m, d);
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

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ull;
    return h;
}

/* A hash of the scenario file's bytes (never 0). */
static uint64_t file_hash(const char *path)
{
    uint64_t h = 0xcbf29ce484222325ull;
    FILE *f = fopen(path, "r");
    if (!f)
        return h;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        h = fnv(h, buf, n);
    fclose(f);
    return h;
}

/* What the environment asks for, parsed; the privilege is the process's own. */
struct env_cfg {
    const char *profile, *path;
    int n_dev, has_seed, privileged, exact_clock, asks;
    unsigned long long seed;
    struct sim_scenario scn;
    uint64_t scenario_hash; /* of the scenario file's bytes, 0: none */
    const char *key;        /* the effective profile */
    char desc[256];
};

/* Read the environment (0, or -1 with the error set; e->scn must then be freed). */
static int read_env(struct env_cfg *e)
{
    char err[512];
    const char *devs = getenv("JOULES_SIM_DEVICES");
    const char *seed = getenv("JOULES_SIM_SEED");
    const char *priv = getenv("JOULES_SIM_PRIVILEGED");
    const char *clock = getenv("JOULES_SIM_SENSOR_CLOCK");
    char *end;
    memset(e, 0, sizeof *e);
    sim_scenario_init(&e->scn);
    e->profile = getenv("JOULES_SIM_PROFILE");
    e->path = getenv("JOULES_SIM_SCENARIO");
    e->asks = (e->profile && *e->profile) || (devs && *devs) || (e->path && *e->path) ||
              (seed && *seed) || (clock && *clock);
    if (e->profile && *e->profile && !sim_profile_find(e->profile)) {
        sim_set_error("JOULES_SIM_PROFILE: unknown profile '%s' (known: %s)", e->profile,
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
        e->n_dev = (int)v;
    }
    if (seed && *seed) {
        errno = 0;
        e->seed = strtoull(seed, &end, 0);
        if (*end || errno || seed[0] == '-') {
            sim_set_error("JOULES_SIM_SEED: '%s' is not an unsigned integer", seed);
            return -1;
        }
        e->has_seed = 1;
    }
    if (!priv || !*priv)
        e->privileged = geteuid() == 0;
    else if (!strcmp(priv, "1"))
        e->privileged = 1;
    else if (!strcmp(priv, "0"))
        e->privileged = 0;
    else {
        sim_set_error("JOULES_SIM_PRIVILEGED: '%s' must be 1 (allow setters) or 0 (deny)", priv);
        return -1;
    }
    if (clock && *clock && strcmp(clock, "exact") != 0 && strcmp(clock, "real") != 0) {
        sim_set_error("JOULES_SIM_SENSOR_CLOCK: '%s' must be real (each update period wanders "
                      "by a few ms, each device at its own phase) or exact (a 100 ms grid)",
                      clock);
        return -1;
    }
    e->exact_clock = clock && !strcmp(clock, "exact");
    if (e->path && *e->path && sim_scenario_load(&e->scn, e->path, err, sizeof err) != 0) {
        sim_set_error("%s", err);
        sim_l.last_error_name_len = e->scn.err_name_len;
        return -1;
    }
    /* The effective configuration, as the model will be built from it. */
    const char *key = e->profile && *e->profile ? e->profile
                      : e->scn.profile[0]       ? e->scn.profile
                                                : "a6000";
    const struct sim_profile *p = sim_profile_find(key);
    int n = e->n_dev > 0 ? e->n_dev : e->scn.devices > 0 ? e->scn.devices : 1;
    unsigned long long sd = e->has_seed ? e->seed : e->scn.has_seed ? e->scn.seed : 1;
    snprintf(e->desc, sizeof e->desc, "%s x%d, seed %llu, sensor clock %s, %s%s", p ? p->key : key,
             n, sd, e->exact_clock ? "exact" : "real",
             e->path && *e->path ? "scenario " : "no scenario (idle)",
             e->path && *e->path ? e->path : "");
    e->scenario_hash = e->path && *e->path ? file_hash(e->path) : 0;
    e->key = p ? p->key : key;
    return 0;
}

/* Whether a live process other than this one is attached to m (lock held). */
static int others_attached(struct sim_state *m)
{
    sim_machine_prune(m);
    int self = (int)getpid();
    for (int i = 0; i < SIM_MAX_PROCS; i++)
        if (m->procs[i].pid && m->procs[i].pid != self)
            return 1;
    return 0;
}

/* Build the machine's model from the environment, or check that what runs is what the
 * environment asks for (lock held). 0, or -1 with the error set. */
static int build_or_check(struct env_cfg *e)
{
    char err[512];
    struct sim_state *m = sim_m;
    if (m->built) {
        /* A private model is the process's own: what it built or reconfigured stays. */
        if (!m->shared)
            return 0;
        /* Each setting the process asks for must be the machine's. */
        const char *env_profile = getenv("JOULES_SIM_PROFILE");
        const char *env_devs = getenv("JOULES_SIM_DEVICES");
        const char *env_seed = getenv("JOULES_SIM_SEED");
        const char *env_clock = getenv("JOULES_SIM_SENSOR_CLOCK");
        int n = e->n_dev > 0 ? e->n_dev : e->scn.devices > 0 ? e->scn.devices : 1;
        unsigned long long sd = e->has_seed ? e->seed : e->scn.has_seed ? e->scn.seed : 1;
        char what[160] = "";
        if (e->path && *e->path && e->scenario_hash != m->scenario_hash)
            snprintf(what, sizeof what, "another scenario");
        else if (((env_profile && *env_profile) || e->scn.profile[0]) &&
                 strcmp(e->key, m->dev[0].p.key) != 0)
            snprintf(what, sizeof what, "%s, not %s", m->dev[0].p.key, e->key);
        else if (((env_devs && *env_devs) || e->scn.devices) && n != m->n_dev)
            snprintf(what, sizeof what, "%d devices, not %d", m->n_dev, n);
        else if (((env_seed && *env_seed) || e->scn.has_seed) && sd != m->seed)
            snprintf(what, sizeof what, "seed %llu, not %llu", m->seed, sd);
        else if (env_clock && *env_clock && e->exact_clock != m->exact_clock)
            snprintf(what, sizeof what, "the %s sensor clock", m->exact_clock ? "exact" : "real");
        if (!what[0])
            return 0;
        if (others_attached(m)) {
            /* Short (clients relay about 127 characters); `joules sim status` shows the rest. */
            sim_set_error("machine '%s' already runs %s; `joules sim reset`, or "
                          "JOULES_SIM_MACHINE=private",
                          m->name, what);
            return -1;
        }
        /* Nobody else uses it: the machine is switched off and on again with what this
         * process asks for (a new boot: counters from zero), as when its last user left. */
        m->built = 0;
    }
    m->exact_clock = e->exact_clock;
    if (sim_model_build(m, &e->scn, e->profile, e->n_dev, e->has_seed, e->seed, err, sizeof err) !=
        0) {
        sim_set_error("%s", err);
        return -1;
    }
    m->virtual_time = 0;
    m->start_ns = sim_monotonic_ns();
    m->start_real_us = sim_realtime_us();
    /* A test aid (jsim.h): a machine booted this long ago, to cross a long gap at once. */
    const char *ago = getenv("JOULES_SIM_DEBUG_BOOTED_AGO_S");
    double ago_s = ago && *ago ? strtod(ago, NULL) : 0;
    if (ago_s > 0 && ago_s <= 1e7)
        m->start_ns -= (long long)(ago_s * 1e9), m->start_real_us -= (long long)(ago_s * 1e6);
    m->scenario_hash = e->scenario_hash;
    snprintf(m->config, sizeof m->config, "%s", e->desc);
    m->loader_pid = (int)getpid();
    m->built = 1;
    return 0;
}

/* A test aid (jsim.h): hold the machine's lock this long at init, as a stalled process. */
static void debug_hold(void)
{
    const char *v = getenv("JOULES_SIM_DEBUG_HOLD_LOCK_MS");
    long ms = v && *v ? strtol(v, NULL, 10) : 0;
    if (ms > 0 && ms <= 60000) {
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static nvmlReturn_t init_common(unsigned int flags)
{
    (void)flags; /* NO_GPUS / NO_ATTACH change nothing: the simulated GPUs always exist */
    struct env_cfg e;
    pthread_mutex_lock(&local_lock);
    if (sim_l.refcount > 0) { /* attached and built: only count */
        __atomic_add_fetch(&sim_l.refcount, 1, __ATOMIC_RELEASE);
        pthread_mutex_unlock(&local_lock);
        return NVML_SUCCESS;
    }
    if (read_env(&e) != 0 || (!attached && sim_machine_attach() != 0)) {
        sim_scenario_free(&e.scn);
        pthread_mutex_unlock(&local_lock);
        return NVML_ERROR_UNKNOWN;
    }
    attached = 1;
    {
        sim_lock();
        int rc = build_or_check(&e);
        sim_scenario_free(&e.scn);
        if (rc != 0) {
            sim_unlock();
            pthread_mutex_unlock(&local_lock);
            return NVML_ERROR_UNKNOWN;
        }
        sim_machine_prune(sim_m);
        sim_machine_register(sim_m, 1);
        sim_l.privileged = e.privileged;
        debug_hold();
        sim_unlock();
    }
    __atomic_add_fetch(&sim_l.refcount, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&local_lock);
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
    pthread_mutex_lock(&local_lock);
    if (sim_l.refcount == 0) {
        rc = NVML_ERROR_UNINITIALIZED;
    } else if (__atomic_sub_fetch(&sim_l.refcount, 1, __ATOMIC_RELEASE) == 0) {
        sim_lock();
        sim_machine_register(sim_m, 0);
        sim_unlock();
    }
    pthread_mutex_unlock(&local_lock);
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

/* A driver of the R570 branch, whose CUDA version (12.8) the simulator reports: clients parse
 * these as dotted numbers (and compare them with the R535 of the power fields), so they carry
 * no marker; the device names (" (simulated)") and jsimIsSimulated tell the simulator apart. */
#define SIM_DRIVER_VERSION "570.124.06"
#define SIM_NVML_VERSION   "12.570.124.06"
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
        *count = (unsigned)sim_m->n_dev;
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
    if (!device || index >= (unsigned)sim_m->n_dev)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        *device = (nvmlDevice_t)(void *)&sim_m->dev[index];
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
        for (int i = 0; i < sim_m->n_dev; i++)
            if (!strcmp(uuid, sim_m->dev[i].uuid)) {
                *device = (nvmlDevice_t)(void *)&sim_m->dev[i];
                rc = NVML_SUCCESS;
            }
    sim_leave();
    return rc;
}
