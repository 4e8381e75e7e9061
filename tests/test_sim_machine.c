/* SPDX-License-Identifier: MIT */
/*
 * test_sim_machine.c - one simulated machine that every process shares (jsim.h, v3): other
 * processes (fork and exec of this program) read the same counter from the same boot and see
 * each other's load within one sensor update, with their processes listed; the counter never
 * goes back as processes attach and detach; a process killed with SIGKILL while it holds the
 * machine's lock leaves the machine usable; a segment of another layout version, or a
 * corrupt one, is refused with the way to reset it; a process that asks for another
 * scenario is refused, and jsimReconfigure too. Each test uses a machine of its own name,
 * removed at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_sim_common.h"

static struct sim_api A;
static jsimGetMachine_fn GetMachine;
static jsimResetMachine_fn ResetMachine;
static char self_exe[1024];
static char machine[64];
static nvmlDevice_t dev;

/* ---- the child side: argv[1] "child", argv[2] what to do; answers "key value" lines ------ */

static int child(const char *what, double arg)
{
    struct sim_api c;
    sim_load(&c);
    if (!strcmp(what, "hold")) { /* JOULES_SIM_DEBUG_HOLD_LOCK_MS is set by the parent */
        printf("init 1\n");
        fflush(stdout);
    }
    nvmlReturn_t rc = c.Init_v2();
    printf("init_rc %d\n", (int)rc);
    if (rc != NVML_SUCCESS) {
        char msg[512] = "";
        c.LastError(msg, sizeof msg);
        printf("error %s\n", msg);
        return 0;
    }
    nvmlDevice_t d;
    c.GetHandleByIndex_v2(0, &d);
    if (!strcmp(what, "read")) {
        unsigned long long mj = 0;
        jsimState s = {.version = JSIM_STRUCT_VERSION(jsimState)};
        c.GetTotalEnergyConsumption(d, &mj);
        c.GetState(d, &s);
        printf("counter %llu\nstart_ns %lld\npid %d\n", mj, s.start_ns, (int)getpid());
    } else if (!strcmp(what, "kernel")) {
        printf("pid %d\n", (int)getpid());
        fflush(stdout);
        double t0 = t_mono_s();
        jsimKernel k = {.version = JSIM_STRUCT_VERSION(jsimKernel), .flops = 5e10, .alpha = 0.9};
        jsimKernelResult r = {.version = JSIM_STRUCT_VERSION(jsimKernelResult)};
        int kernels = 0;
        while (t_mono_s() - t0 < arg && c.RunKernel(d, &k, &r) == NVML_SUCCESS)
            kernels++;
        printf("kernels %d\n", kernels);
    } else if (!strcmp(what, "energy")) {
        long long now = 0;
        double e = 0;
        jsimState s = {.version = JSIM_STRUCT_VERSION(jsimState)};
        c.Now(&now);
        c.GetState(d, &s);
        c.GetTrueEnergy(d, now, &e);
        if (arg > 0) { /* a private model in virtual time, stepped through the same time */
            c.Reconfigure("profile test\n", JSIM_FLAG_VIRTUAL_TIME);
            c.GetHandleByIndex_v2(0, &d);
            c.Advance(arg);
            c.Now(&now);
            c.GetTrueEnergy(d, now, &e);
            c.GetState(d, &s);
        }
        printf("uptime %.6f\nenergy %.9f\ntemp %.6f\n", (s.t_ns - s.start_ns) * 1e-9, e,
               s.temperature_c);
    } else if (!strcmp(what, "reconfigure")) {
        char msg[512] = "";
        rc = c.Reconfigure("profile test\nidle 1s\n", 0);
        c.LastError(msg, sizeof msg);
        printf("reconfigure_rc %d\nerror %s\n", (int)rc, msg);
    }
    c.Shutdown();
    return 0;
}

/* ---- the parent side ------------------------------------------------------------------ */

struct kid {
    pid_t pid;
    FILE *out;
};

/* Start this program as a child doing `what`, its stdout to a pipe. */
static struct kid spawn(const char *what, const char *arg)
{
    struct kid k = {-1, NULL};
    int fd[2];
    if (pipe(fd) != 0)
        return k;
    fflush(stdout);
    k.pid = fork();
    if (k.pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        execl(self_exe, self_exe, "child", what, arg, (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    k.out = fdopen(fd[0], "r");
    return k;
}

/* The next line that starts with `key `: its value in val (0), or -1 at the end. */
static int answer(struct kid *k, const char *key, char *val, size_t len)
{
    char line[700];
    size_t n = strlen(key);
    while (fgets(line, sizeof line, k->out)) {
        line[strcspn(line, "\n")] = '\0';
        if (!strncmp(line, key, n) && line[n] == ' ') {
            snprintf(val, len, "%s", line + n + 1);
            return 0;
        }
    }
    return -1;
}

static int reap(struct kid *k)
{
    int st = 0;
    if (k->out)
        fclose(k->out);
    waitpid(k->pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static unsigned long long counter(void)
{
    unsigned long long mj = 0;
    CHECK_EQ_INT(A.GetTotalEnergyConsumption(dev, &mj), NVML_SUCCESS);
    return mj;
}

static jsimMachine machine_info(void)
{
    jsimMachine m = {.version = JSIM_STRUCT_VERSION(jsimMachine)};
    CHECK_EQ_INT(GetMachine(&m), NVML_SUCCESS);
    return m;
}

static int attached(const jsimMachine *m, int pid)
{
    for (unsigned i = 0; i < m->n_attached; i++)
        if ((int)m->attached_pids[i] == pid)
            return 1;
    return 0;
}

static void test_same_counter(void)
{
    jsimMachine m = machine_info();
    CHECK_EQ_INT(m.shared, 1);
    CHECK(strcmp(m.name, machine) == 0);
    CHECK(attached(&m, (int)getpid()));
    jsimState s = sim_state(&A, dev);
    unsigned long long before = counter();
    struct kid k = spawn("read", "0");
    char v[600];
    CHECK(answer(&k, "counter", v, sizeof v) == 0);
    unsigned long long theirs = strtoull(v, NULL, 10);
    CHECK(answer(&k, "start_ns", v, sizeof v) == 0);
    long long their_boot = atoll(v);
    CHECK_EQ_INT(reap(&k), 0);
    unsigned long long after = counter();
    CHECKF(before <= theirs && theirs <= after, "counters %llu, theirs %llu, %llu", before, theirs,
           after);
    CHECKF(their_boot == s.start_ns, "boot %lld vs %lld", their_boot, s.start_ns);
    CHECK(before > 0); /* counted from the boot, not from this process's init */
}

/* Another process's kernel: this one sees it in the model at once and in the sensor within
 * one update, and lists the process with its memory. */
static void test_load_seen(void)
{
    unsigned idle_mw = 0, mw = 0;
    CHECK_EQ_INT(A.GetPowerUsage(dev, &idle_mw), NVML_SUCCESS);
    struct kid k = spawn("kernel", "2.0");
    char v[600];
    CHECK(answer(&k, "pid", v, sizeof v) == 0);
    int pid = atoi(v);
    double t_active = -1, t_sensor = -1, t0 = t_mono_s();
    int listed = 0;
    unsigned long long listed_mem = 0;
    while (t_mono_s() - t0 < 10 && (t_sensor < 0 || !listed)) {
        jsimState s = sim_state(&A, dev);
        if (s.kernel_active && t_active < 0)
            t_active = t_mono_s();
        CHECK_EQ_INT(A.GetPowerUsage(dev, &mw), NVML_SUCCESS);
        if (t_active >= 0 && t_sensor < 0 && mw > idle_mw + 5000)
            t_sensor = t_mono_s();
        nvmlProcessInfo_t p[4];
        unsigned n = 4;
        if (A.GetComputeRunningProcesses_v3(dev, &n, p) == NVML_SUCCESS)
            for (unsigned i = 0; i < n; i++)
                if ((int)p[i].pid == pid)
                    listed = 1, listed_mem = p[i].usedGpuMemory;
        t_sleep(0.002);
    }
    CHECK(answer(&k, "kernels", v, sizeof v) == 0);
    CHECKF(atoi(v) > 3, "the child ran %s kernels", v);
    CHECK_EQ_INT(reap(&k), 0);
    CHECKF(t_active >= 0, "the child's kernel was never seen");
    /* The test profile's reading is the mean of each 100 ms period: it moves (by 5 W: a few
     * busy ms of the window) at the first update after the load starts, one period
     * (<= 102 ms) later at most, plus the polls' slack. */
    CHECKF(t_sensor >= 0 && t_sensor - t_active < 0.35, "sensor %.3f s after the load",
           t_sensor - t_active);
    CHECK(listed);
    CHECK_EQ_INT(listed_mem, 256ull * 1024 * 1024);
    unsigned n = 0;
    t_sleep(0.05);
    CHECK_EQ_INT(A.GetComputeRunningProcesses_v3(dev, &n, NULL), NVML_SUCCESS);
    CHECK_EQ_INT(n, 0); /* the child is gone, and its kernels with it */
}

static void test_monotonic_across_processes(void)
{
    unsigned long long last = counter(), first = last;
    for (int i = 0; i < 6; i++) {
        struct kid k = spawn("read", "0");
        char v[600];
        CHECK(answer(&k, "counter", v, sizeof v) == 0);
        unsigned long long c = strtoull(v, NULL, 10);
        CHECK(answer(&k, "pid", v, sizeof v) == 0);
        int pid = atoi(v);
        CHECK_EQ_INT(reap(&k), 0);
        CHECKF(c >= last, "child %d read %llu after %llu", i, c, last);
        unsigned long long mine = counter();
        CHECKF(mine >= c, "read %llu after the child's %llu", mine, c);
        last = mine;
        jsimMachine m = machine_info();
        CHECK(!attached(&m, pid));
        t_sleep(0.03);
    }
    CHECK(last > first);
}

/* The rule: the scenario is the booting process's; others may not replace it. */
static void test_scenario_rule(void)
{
    char v[600];
    setenv("JOULES_SIM_PROFILE", "a100", 1);
    struct kid k = spawn("read", "0");
    unsetenv("JOULES_SIM_PROFILE");
    CHECK(answer(&k, "init_rc", v, sizeof v) == 0);
    CHECK_EQ_INT(atoi(v), NVML_ERROR_UNKNOWN);
    CHECK(answer(&k, "error", v, sizeof v) == 0);
    CHECKF(strstr(v, "already runs") && strstr(v, "a100") && strstr(v, "joules sim reset"),
           "message: %s", v);
    reap(&k);

    setenv("JOULES_SIM_PROFILE", "test", 1); /* what runs: accepted */
    k = spawn("read", "0");
    unsetenv("JOULES_SIM_PROFILE");
    CHECK(answer(&k, "init_rc", v, sizeof v) == 0);
    CHECK_EQ_INT(atoi(v), NVML_SUCCESS);
    reap(&k);

    k = spawn("reconfigure", "0");
    CHECK(answer(&k, "reconfigure_rc", v, sizeof v) == 0);
    CHECK_EQ_INT(atoi(v), NVML_ERROR_IN_USE);
    CHECK(answer(&k, "error", v, sizeof v) == 0);
    CHECKF(strstr(v, "shared") && strstr(v, "private"), "message: %s", v);
    reap(&k);
    CHECK_EQ_INT(A.Reconfigure("profile test\nidle 1s\n", JSIM_FLAG_VIRTUAL_TIME),
                 NVML_ERROR_IN_USE);
}

struct blocked_call {
    int done;
    jsimMachine m;
    nvmlReturn_t rc;
};

static void *call_machine(void *arg)
{
    struct blocked_call *b = arg;
    b->m.version = JSIM_STRUCT_VERSION(jsimMachine);
    b->rc = GetMachine(&b->m);
    __atomic_store_n(&b->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* A process killed while it holds the lock: the next user recovers it. */
static void test_kill_holding_lock(void)
{
    unsigned recoveries = machine_info().lock_recoveries;
    setenv("JOULES_SIM_DEBUG_HOLD_LOCK_MS", "20000", 1);
    struct kid k = spawn("hold", "0");
    unsetenv("JOULES_SIM_DEBUG_HOLD_LOCK_MS");
    char v[600];
    CHECK(answer(&k, "init", v, sizeof v) == 0); /* about to take the lock */
    struct blocked_call b = {0};
    pthread_t th;
    int blocked = 0;
    double t0 = t_mono_s();
    /* Wait until a call of ours stays blocked: the child then holds the lock. */
    while (!blocked && t_mono_s() - t0 < 15) {
        memset(&b, 0, sizeof b);
        pthread_create(&th, NULL, call_machine, &b);
        t_sleep(0.3);
        if (__atomic_load_n(&b.done, __ATOMIC_ACQUIRE)) {
            pthread_join(th, NULL);
            CHECK(!attached(&b.m, k.pid)); /* registered means holding: not yet */
        } else {
            blocked = 1;
        }
    }
    CHECKF(blocked, "the child never held the lock");
    kill(k.pid, SIGKILL);
    reap(&k);
    double t_kill = t_mono_s();
    if (blocked) {
        while (!__atomic_load_n(&b.done, __ATOMIC_ACQUIRE) && t_mono_s() - t_kill < 5)
            t_sleep(0.01);
        CHECKF(__atomic_load_n(&b.done, __ATOMIC_ACQUIRE), "still blocked 5 s after the kill");
        pthread_join(th, NULL);
        CHECK_EQ_INT(b.rc, NVML_SUCCESS);
        CHECK_EQ_INT(b.m.lock_recoveries, recoveries + 1);
    }
    /* Usable by this process and by a new one. */
    unsigned long long c0 = counter();
    struct kid r = spawn("read", "0");
    CHECK(answer(&r, "init_rc", v, sizeof v) == 0);
    CHECK_EQ_INT(atoi(v), NVML_SUCCESS);
    reap(&r);
    CHECK(counter() >= c0);
    jsimMachine m = machine_info();
    CHECK(!attached(&m, k.pid));
}

/* A segment written by another layout version, or garbage, is refused with the remedy. */
static void fake_segment(const char *name, unsigned long long magic, unsigned version)
{
    char path[96];
    snprintf(path, sizeof path, "/%s", name);
    shm_unlink(path);
    int fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    CHECK(fd >= 0);
    jsimMachineHeader h = {.magic = magic, .version = version, .size = 4096};
    CHECK(ftruncate(fd, 4096) == 0);
    CHECK(write(fd, &h, sizeof h) == (ssize_t)sizeof h);
    close(fd);
}

static void test_foreign_segments(void)
{
    char name[96], v[600];
    snprintf(name, sizeof name, "%s-old", machine);
    fake_segment(name, JSIM_MACHINE_MAGIC, 9999);
    setenv("JOULES_SIM_MACHINE", name, 1);
    struct kid k = spawn("read", "0");
    CHECK(answer(&k, "init_rc", v, sizeof v) == 0);
    CHECK_EQ_INT(atoi(v), NVML_ERROR_UNKNOWN);
    CHECK(answer(&k, "error", v, sizeof v) == 0);
    CHECKF(strstr(v, "version 9999") && strstr(v, "joules sim reset"), "message: %s", v);
    reap(&k);

    fake_segment(name, 0x0123456789abcdefULL, 1);
    k = spawn("read", "0");
    CHECK(answer(&k, "init_rc", v, sizeof v) == 0);
    CHECK_EQ_INT(atoi(v), NVML_ERROR_UNKNOWN);
    CHECK(answer(&k, "error", v, sizeof v) == 0);
    CHECKF(strstr(v, "corrupt") && strstr(v, "joules sim reset"), "message: %s", v);
    reap(&k);

    fake_segment(name, JSIM_MACHINE_MAGIC, JSIM_MACHINE_VERSION); /* a wrong size */
    k = spawn("read", "0");
    CHECK(answer(&k, "init_rc", v, sizeof v) == 0);
    CHECK_EQ_INT(atoi(v), NVML_ERROR_UNKNOWN);
    reap(&k);

    /* After a reset, the name boots a fresh machine. */
    CHECK_EQ_INT(ResetMachine(name), NVML_SUCCESS);
    k = spawn("read", "0");
    CHECK(answer(&k, "init_rc", v, sizeof v) == 0);
    CHECK_EQ_INT(atoi(v), NVML_SUCCESS);
    reap(&k);
    CHECK_EQ_INT(ResetMachine(name), NVML_SUCCESS);
    CHECK_EQ_INT(ResetMachine(name), NVML_ERROR_NOT_FOUND);
    CHECK_EQ_INT(ResetMachine("private"), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(ResetMachine("../etc"), NVML_ERROR_INVALID_ARGUMENT);
    setenv("JOULES_SIM_MACHINE", machine, 1);
}

/* A machine nobody used for a long time: its first call crosses the gap at once, and the
 * energy is what stepping every ms of it gives. */
static void test_long_gap(void)
{
    char name[96], v[600];
    snprintf(name, sizeof name, "%s-gap", machine);
    setenv("JOULES_SIM_MACHINE", name, 1);
    setenv("JOULES_SIM_PROFILE", "test", 1);
    setenv("JOULES_SIM_DEBUG_BOOTED_AGO_S", "86400", 1);
    double t0 = t_mono_s();
    struct kid k = spawn("energy", "0");
    CHECK(answer(&k, "uptime", v, sizeof v) == 0);
    double took = t_mono_s() - t0, up = atof(v);
    CHECK(answer(&k, "energy", v, sizeof v) == 0);
    double e_day = atof(v);
    reap(&k);
    printf("   a day of idle crossed in %.3f s: %.1f J\n", took, e_day);
    CHECKF(up >= 86400 && up < 86500, "uptime %.3f s", up);
    CHECKF(took < 5, "a day's gap took %.2f s", took);
    CHECK_EQ_INT(ResetMachine(name), NVML_SUCCESS);

    /* 15 min: the jump against every step of a private model in virtual time. */
    setenv("JOULES_SIM_DEBUG_BOOTED_AGO_S", "900", 1);
    k = spawn("energy", "0");
    CHECK(answer(&k, "uptime", v, sizeof v) == 0);
    up = atof(v);
    CHECK(answer(&k, "energy", v, sizeof v) == 0);
    double e_jump = atof(v);
    CHECK(answer(&k, "temp", v, sizeof v) == 0);
    double t_jump = atof(v);
    reap(&k);
    unsetenv("JOULES_SIM_DEBUG_BOOTED_AGO_S");
    setenv("JOULES_SIM_MACHINE", "private", 1);
    char arg[32];
    snprintf(arg, sizeof arg, "%.3f", up);
    k = spawn("energy", arg);
    CHECK(answer(&k, "energy", v, sizeof v) == 0);
    double e_step = atof(v);
    CHECK(answer(&k, "temp", v, sizeof v) == 0);
    double t_step = atof(v);
    reap(&k);
    printf("   15 min: jump %.6f J, every step %.6f J\n", e_jump, e_step);
    CHECKF(fabs(e_jump - e_step) <= 1e-5 * e_step, "jump %.6f J vs steps %.6f J", e_jump, e_step);
    CHECKF(fabs(t_jump - t_step) < 1e-3, "temperature %.5f vs %.5f", t_jump, t_step);
    CHECK_EQ_INT(ResetMachine(name), NVML_SUCCESS);
    unsetenv("JOULES_SIM_PROFILE");
    setenv("JOULES_SIM_MACHINE", machine, 1);
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "child"))
        return child(argv[2], argc > 3 ? atof(argv[3]) : 0);
    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    if (n <= 0)
        return 1;
    self_exe[n] = '\0';
    sim_load(&A);
    sim_sym(&A, &GetMachine, JSIM_SYMBOL_GET_MACHINE);
    sim_sym(&A, &ResetMachine, JSIM_SYMBOL_RESET_MACHINE);
    snprintf(machine, sizeof machine, "joules-test-machine-%d", (int)getpid());
    setenv("JOULES_SIM_MACHINE", machine, 1);
    setenv("JOULES_SIM_PROFILE", "test", 1);
    unsetenv("JOULES_SIM_SCENARIO");
    unsetenv("JOULES_SIM_DEVICES");
    unsetenv("JOULES_SIM_DEBUG_HOLD_LOCK_MS");
    CHECK_EQ_INT(A.Init_v2(), NVML_SUCCESS);
    unsetenv("JOULES_SIM_PROFILE");
    CHECK_EQ_INT(A.GetHandleByIndex_v2(0, &dev), NVML_SUCCESS);
    t_sleep(0.25); /* a few counter updates since the boot */
    RUN(test_same_counter);
    RUN(test_load_seen);
    RUN(test_monotonic_across_processes);
    RUN(test_scenario_rule);
    RUN(test_kill_holding_lock);
    RUN(test_foreign_segments);
    RUN(test_long_gap);
    CHECK_EQ_INT(A.Shutdown(), NVML_SUCCESS);
    CHECK_EQ_INT(ResetMachine(machine), NVML_SUCCESS);
    return t_end();
}
