/* SPDX-License-Identifier: MIT */
/*
 * machine.c - where the model lives: in the process (JOULES_SIM_MACHINE=private) or in a
 * POSIX shared-memory segment that every process on the host maps, so that a monitor, an
 * exporter and a workload see one GPU as they do on real hardware.
 *
 * The segment is created by the first process that asks for it and initialised before its
 * magic is published; a process that finds it mid-initialisation waits for the magic. Its
 * lock is process-shared and robust: a process killed while holding it hands the next owner
 * EOWNERDEAD, and the model, possibly left between two devices' steps, is brought level
 * before the lock is marked consistent. The scenario is loaded once, by the process that
 * boots the machine (docs/physics.md §7): the others attach to what runs, and one whose
 * environment asks for something else is refused, never silently given another model.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sim/nvml_exports.h"
#include "sim/sim.h"

static struct sim_state private_machine = {.lock = PTHREAD_MUTEX_INITIALIZER};
struct sim_state *sim_m = &private_machine;

void sim_lock(void)
{
    int rc = pthread_mutex_lock(&sim_m->lock);
    if (rc == EOWNERDEAD) {
        sim_model_repair(sim_m);
        sim_m->lock_recoveries++;
        pthread_mutex_consistent(&sim_m->lock);
    }
}

void sim_unlock(void)
{
    pthread_mutex_unlock(&sim_m->lock);
}

/* ---- names ---------------------------------------------------------------------------- */

/* The machine's name from JOULES_SIM_MACHINE (or `given`): 1 private, 0 shared, -1 bad. */
static int machine_name(const char *given, char *out, size_t len)
{
    const char *v = given ? given : getenv("JOULES_SIM_MACHINE");
    if (!v || !*v) {
        /* The default name carries the layout (its version and size), so that a build with
         * another layout boots a machine of its own instead of finding one it must refuse. */
        snprintf(out, len, "joules-sim-%u-v%u.%zu", (unsigned)geteuid(), JSIM_MACHINE_VERSION,
                 sizeof(struct sim_state));
        return 0;
    }
    if (!strcmp(v, JSIM_MACHINE_PRIVATE)) {
        snprintf(out, len, "%s", v);
        return 1;
    }
    size_t n = strlen(v);
    if (n >= len || n > 60)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        if (!ok || (i == 0 && c == '.'))
            return -1;
    }
    memcpy(out, v, n + 1);
    return 0;
}

/* ---- the segment ---------------------------------------------------------------------- */

/* Kept short (clients relay about 127 characters): what is wrong, then the remedy. */
static int refuse(const char *name, const char *why)
{
    sim_set_error("simulated machine '%s': %s; `joules sim reset` removes it", name, why);
    return -1;
}

static int create_segment(int fd, const char *name)
{
    if (ftruncate(fd, (off_t)sizeof(struct sim_state)) != 0) {
        sim_set_error("simulated machine '%s': cannot size the segment: %s", name, strerror(errno));
        return -1;
    }
    struct sim_state *m = mmap(NULL, sizeof *m, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        sim_set_error("simulated machine '%s': cannot map the segment: %s", name, strerror(errno));
        return -1;
    }
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&m->lock, &a);
    pthread_mutexattr_destroy(&a);
    m->shared = 1;
    m->version = JSIM_MACHINE_VERSION;
    m->size = (uint32_t)sizeof *m;
    snprintf(m->name, sizeof m->name, "%s", name);
    /* Published last: a process that sees the magic sees an initialised lock. */
    __atomic_store_n(&m->magic, (uint64_t)JSIM_MACHINE_MAGIC, __ATOMIC_RELEASE);
    sim_m = m;
    return 0;
}

/* An existing segment: 0 attached, 1 not ready yet (retry), -1 refused. */
static int open_segment(int fd, const char *name)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        sim_set_error("simulated machine '%s': %s", name, strerror(errno));
        return -1;
    }
    if ((size_t)st.st_size < sizeof(jsimMachineHeader))
        return 1; /* its creator has not sized it yet */
    jsimMachineHeader *h = mmap(NULL, sizeof *h, PROT_READ, MAP_SHARED, fd, 0);
    if (h == MAP_FAILED) {
        sim_set_error("simulated machine '%s': cannot map the segment: %s", name, strerror(errno));
        return -1;
    }
    unsigned long long magic = __atomic_load_n(&h->magic, __ATOMIC_ACQUIRE);
    unsigned version = h->version, size = h->size;
    munmap(h, sizeof *h);
    char why[200];
    if (magic == 0)
        return 1; /* being initialised */
    if (magic != JSIM_MACHINE_MAGIC)
        return refuse(name, "corrupt segment (no machine's magic)");
    if (version != JSIM_MACHINE_VERSION) {
        snprintf(why, sizeof why, "layout version %u, not this library's %u", version,
                 JSIM_MACHINE_VERSION);
        return refuse(name, why);
    }
    if (size != sizeof(struct sim_state) || (size_t)st.st_size != sizeof(struct sim_state)) {
        snprintf(why, sizeof why, "layout of %u bytes, not %zu (another build, or corrupt)", size,
                 sizeof(struct sim_state));
        return refuse(name, why);
    }
    struct sim_state *m = mmap(NULL, sizeof *m, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        sim_set_error("simulated machine '%s': cannot map the segment: %s", name, strerror(errno));
        return -1;
    }
    if (m->n_dev < 0 || m->n_dev > SIM_MAX_DEVICES || (m->built && m->n_dev < 1) ||
        m->scn.n_phases < 0 || m->scn.n_phases > SIM_MAX_PHASES) {
        munmap(m, sizeof *m);
        return refuse(name, "corrupt contents");
    }
    sim_m = m;
    return 0;
}

/* Map (creating if needed) the shared machine `name`: 0, or -1 with the error set. */
static int attach_shared(const char *name)
{
    char path[80];
    snprintf(path, sizeof path, "/%s", name);
    for (int tries = 0; tries < 200; tries++) {
        int fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
        if (fd >= 0) {
            int rc = create_segment(fd, name);
            close(fd);
            if (rc != 0)
                shm_unlink(path);
            return rc;
        }
        if (errno != EEXIST) {
            sim_set_error("simulated machine '%s': cannot create /dev/shm/%s: %s", name, name,
                          strerror(errno));
            return -1;
        }
        fd = shm_open(path, O_RDWR, 0);
        if (fd < 0) {
            if (errno == ENOENT)
                continue; /* removed meanwhile: create it */
            sim_set_error("simulated machine '%s': cannot open /dev/shm/%s: %s", name, name,
                          strerror(errno));
            return -1;
        }
        int rc = open_segment(fd, name);
        close(fd);
        if (rc <= 0)
            return rc;
        struct timespec ts = {0, 10000000}; /* its creator is initialising it */
        nanosleep(&ts, NULL);
    }
    return refuse(name, "corrupt: never initialised");
}

int sim_machine_attach(void)
{
    char name[64];
    int kind = machine_name(NULL, name, sizeof name);
    if (kind < 0) {
        sim_set_error("JOULES_SIM_MACHINE: '%s' is not a machine name (1-60 letters, digits, "
                      "'.', '_' or '-'; or 'private')",
                      getenv("JOULES_SIM_MACHINE"));
        return -1;
    }
    if (kind == 1) {
        sim_m = &private_machine;
        return 0;
    }
    return attach_shared(name);
}

/* ---- processes ------------------------------------------------------------------------ */

static int alive(int pid)
{
    return pid > 0 && (kill(pid, 0) == 0 || errno != ESRCH);
}

void sim_machine_prune(struct sim_state *m)
{
    for (int i = 0; i < SIM_MAX_PROCS; i++)
        if (m->procs[i].pid && !alive(m->procs[i].pid))
            m->procs[i].pid = 0;
    /* A dead process's kernel stops: nothing drives it any more. */
    for (int i = 0; i < m->n_dev; i++)
        if (m->dev[i].kernel.active && !alive(m->dev[i].kernel_pid))
            m->dev[i].kernel.active = 0;
}

void sim_machine_register(struct sim_state *m, int attach)
{
    int pid = (int)getpid(), free_slot = -1;
    for (int i = 0; i < SIM_MAX_PROCS; i++) {
        if (m->procs[i].pid == pid) {
            if (!attach)
                m->procs[i].pid = 0;
            return;
        }
        if (!m->procs[i].pid && free_slot < 0)
            free_slot = i;
    }
    if (attach && free_slot >= 0) { /* a full table only leaves the process unlisted */
        m->procs[free_slot].pid = pid;
        m->procs[free_slot].attached_ns = sim_monotonic_ns();
    }
}

/* Library unloaded or process exiting: leave the table and unmap. */
__attribute__((destructor)) static void machine_unload(void)
{
    if (sim_m == &private_machine)
        return;
    struct sim_state *m = sim_m;
    sim_lock();
    sim_machine_register(m, 0);
    sim_unlock();
    sim_m = &private_machine;
    munmap(m, sizeof *m);
}

/* ---- entry points --------------------------------------------------------------------- */

JSIM_EXPORT nvmlReturn_t jsimGetMachine(jsimMachine *out)
{
    nvmlReturn_t rc = sim_enter();
    if (rc != NVML_SUCCESS)
        return rc;
    if (!out) {
        rc = NVML_ERROR_INVALID_ARGUMENT;
    } else if (out->version != JSIM_STRUCT_VERSION(jsimMachine)) {
        rc = NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    } else {
        struct sim_state *m = sim_m;
        memset((char *)out + sizeof out->version, 0, sizeof *out - sizeof out->version);
        sim_machine_prune(m);
        out->shared = m->shared;
        snprintf(out->name, sizeof out->name, "%s", m->shared ? m->name : JSIM_MACHINE_PRIVATE);
        out->boot_ns = m->start_ns;
        out->uptime_s = sim_now_s();
        out->devices = (unsigned)m->n_dev;
        out->loader_pid = (unsigned)m->loader_pid;
        snprintf(out->config, sizeof out->config, "%s", m->config);
        for (int i = 0; i < SIM_MAX_PROCS && out->n_attached < 64; i++)
            if (m->procs[i].pid)
                out->attached_pids[out->n_attached++] = (unsigned)m->procs[i].pid;
        out->lock_recoveries = (unsigned)m->lock_recoveries;
    }
    sim_leave();
    return rc;
}

JSIM_EXPORT nvmlReturn_t jsimResetMachine(const char *given)
{
    char name[64], path[80];
    if (machine_name(given, name, sizeof name) != 0)
        return NVML_ERROR_INVALID_ARGUMENT;
    snprintf(path, sizeof path, "/%s", name);
    if (shm_unlink(path) != 0)
        return errno == ENOENT ? NVML_ERROR_NOT_FOUND : NVML_ERROR_NO_PERMISSION;
    return NVML_SUCCESS;
}
