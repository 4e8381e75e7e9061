/* SPDX-License-Identifier: MIT */
/*
 * cmd_sim_machine.c - `joules sim status` and `joules sim reset`: the simulated machine that
 * every process shares (src/abi/jsim.h, v3), seen and cleared through the simulated library
 * like any client would reach it (dlopen, NVML, jsimGetMachine / jsimGetSettings /
 * jsimResetMachine).
 */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "abi/jsim.h"
#include "abi/nvml_abi.h"
#include "cli/cli_options.h"
#include "cli/cli_util.h"
#include "cli/cmd_sim_machine.h"

static const char status_head[] =
    "Usage: joules sim status [--machine NAME]\n"
    "\n"
    "Show the simulated machine that every process shares: its devices and their\n"
    "load, their settings (locked clocks, power limit, applications clocks) against\n"
    "those they booted with, the processes attached and the uptime. It boots at its\n"
    "first use (by this command too, if nothing booted it yet). Every figure is\n"
    "SIMULATED.\n"
    "\n";

static const char reset_head[] =
    "Usage: joules sim reset [--machine NAME]\n"
    "\n"
    "Remove the shared simulated machine: the next use boots a fresh one (its\n"
    "counters from zero, the scenario of the process that boots it). Processes\n"
    "still attached keep the old one until they exit.\n"
    "\n";

enum { OPT_MACHINE = CLI_OPT_COMMAND };

static const struct cli_option machine_options[] = {
    {"machine", 0, required_argument, "NAME",
     "the machine (default: JOULES_SIM_MACHINE, else\njoules-sim-<uid>-v<layout>)", OPT_MACHINE},
    CLI_OPTION_HELP,
    CLI_OPTIONS_END,
};

static int machine_take(void *ctx, int id, const char *v)
{
    if (id == OPT_MACHINE)
        *(const char **)ctx = v;
    return 0;
}

static const struct cli_command_spec status_spec = {
    .name = "sim status",
    .help_head = status_head,
    .options = machine_options,
    .help_tail = "",
    .take = machine_take,
};
static const struct cli_command_spec reset_spec = {
    .name = "sim reset",
    .help_head = reset_head,
    .options = machine_options,
    .help_tail = "",
    .take = machine_take,
};

/* Options: --machine NAME, --help. 0 go on, 1 done (help), 2 bad usage. */
static int options(const char *cmd, int argc, char **argv, const char **machine)
{
    int status;
    const struct cli_command_spec *spec = strcmp(cmd, "status") ? &reset_spec : &status_spec;
    if (cli_options_parse(spec, NULL, (void *)machine, argc, argv, &status) != 0)
        return status == 0 ? 1 : 2;
    if (optind < argc) {
        fprintf(stderr, "joules sim %s: unexpected argument '%s'\n", cmd, argv[optind]);
        return 2;
    }
    return 0;
}

static void *open_library(const char *cmd)
{
    char path[PATH_MAX];
    if (cli_sim_library_path(path, sizeof path) != 0)
        return NULL;
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        fprintf(stderr, "joules sim %s: cannot load the simulated GPU %s: %s\n", cmd, path,
                dlerror());
    return h;
}

static void *need(void *h, const char *cmd, const char *name)
{
    void *f = dlsym(h, name);
    if (!f)
        fprintf(stderr, "joules sim %s: the simulated GPU lacks %s (an older library?)\n", cmd,
                name);
    return f;
}

static void print_uptime(double s)
{
    long t = (long)s;
    if (t >= 86400)
        printf("%ldd %02ldh %02ldm %02lds", t / 86400, t / 3600 % 24, t / 60 % 60, t % 60);
    else
        printf("%ldh %02ldm %02lds", t / 3600, t / 60 % 60, t % 60);
}

typedef nvmlReturn_t (*get_handle_fn)(unsigned, nvmlDevice_t *);
typedef nvmlReturn_t (*get_name_fn)(nvmlDevice_t, char *, unsigned);
typedef nvmlReturn_t (*get_u_fn)(nvmlDevice_t, unsigned *);
typedef nvmlReturn_t (*get_energy_fn)(nvmlDevice_t, unsigned long long *);
typedef nvmlReturn_t (*get_util_fn)(nvmlDevice_t, nvmlUtilization_t *);
typedef nvmlReturn_t (*get_temp_fn)(nvmlDevice_t, unsigned, unsigned *);
typedef nvmlReturn_t (*get_clock_fn)(nvmlDevice_t, unsigned, unsigned *);
typedef nvmlReturn_t (*get_procs_fn)(nvmlDevice_t, unsigned *, nvmlProcessInfo_t *);

static void print_devices(void *h, unsigned n)
{
    get_handle_fn handle = (get_handle_fn)dlsym(h, "nvmlDeviceGetHandleByIndex_v2");
    get_name_fn name = (get_name_fn)dlsym(h, "nvmlDeviceGetName");
    get_u_fn power = (get_u_fn)dlsym(h, "nvmlDeviceGetPowerUsage");
    get_energy_fn energy = (get_energy_fn)dlsym(h, "nvmlDeviceGetTotalEnergyConsumption");
    get_util_fn util = (get_util_fn)dlsym(h, "nvmlDeviceGetUtilizationRates");
    get_temp_fn temp = (get_temp_fn)dlsym(h, "nvmlDeviceGetTemperature");
    get_clock_fn clock = (get_clock_fn)dlsym(h, "nvmlDeviceGetClockInfo");
    get_procs_fn procs = (get_procs_fn)dlsym(h, "nvmlDeviceGetComputeRunningProcesses_v3");
    if (!handle || !name || !power || !energy || !util || !temp || !clock || !procs)
        return;
    printf("\n  gpu  %-32s %9s %6s %6s %10s %14s  %s\n", "name", "power W", "temp C", "util %",
           "clock MHz", "energy J", "processes (GPU memory)");
    for (unsigned i = 0; i < n; i++) {
        nvmlDevice_t d;
        char nm[96] = "?";
        unsigned mw = 0, t = 0, mhz = 0, np = 8;
        unsigned long long mj = 0;
        nvmlUtilization_t u = {0};
        nvmlProcessInfo_t p[8];
        if (handle(i, &d) != NVML_SUCCESS) {
            printf("  %-4u (unavailable)\n", i);
            continue;
        }
        name(d, nm, sizeof nm);
        power(d, &mw);
        temp(d, NVML_TEMPERATURE_GPU, &t);
        util(d, &u);
        clock(d, NVML_CLOCK_GRAPHICS, &mhz);
        energy(d, &mj);
        printf("  %-4u %-32s %9.1f %6u %6u %10u %14.3f  ", i, nm, mw * 1e-3, t, u.gpu, mhz,
               mj * 1e-3);
        if (procs(d, &np, p) != NVML_SUCCESS || np == 0)
            printf("-");
        for (unsigned k = 0; k < np && k < 8; k++)
            printf("%s%u (%llu MiB)", k ? ", " : "", p[k].pid,
                   p[k].usedGpuMemory / (1024ull * 1024ull));
        printf("\n");
    }
}

/* "1000-1400" MHz, or "-" when not locked. */
static const char *lock_text(char *buf, size_t len, unsigned lo, unsigned hi)
{
    if (!hi)
        return "-";
    snprintf(buf, len, "%u-%u", lo, hi);
    return buf;
}

/* Each device's settings against what it booted with: a process that changed them and did not
 * put them back shows here, since they outlive it on a shared machine as on a real board. */
static void print_settings(void *h, unsigned n)
{
    get_handle_fn handle = (get_handle_fn)dlsym(h, "nvmlDeviceGetHandleByIndex_v2");
    jsimGetSettings_fn get = (jsimGetSettings_fn)dlsym(h, JSIM_SYMBOL_GET_SETTINGS);
    if (!handle || !get)
        return;
    printf("\n  gpu  %-17s %-13s %-13s %-22s  %s\n", "locked clocks MHz", "power limit W",
           "app clocks MHz", "as booted", "setter calls: lock, unlock, limit, app, app reset");
    for (unsigned i = 0; i < n; i++) {
        nvmlDevice_t d;
        jsimSettings s = {.version = JSIM_STRUCT_VERSION(jsimSettings)};
        if (handle(i, &d) != NVML_SUCCESS || get(d, &s) != NVML_SUCCESS) {
            printf("  %-4u (unavailable)\n", i);
            continue;
        }
        char lock[32], boot_lock[32], app[32] = "default", booted[64] = "";
        if (s.app_gfx_mhz)
            snprintf(app, sizeof app, "%u/%u", s.app_gfx_mhz, s.app_mem_mhz);
        int clocks_same =
            s.locked_min_mhz == s.boot_locked_min_mhz && s.locked_max_mhz == s.boot_locked_max_mhz;
        if (!clocks_same)
            snprintf(booted, sizeof booted, "no: clocks %s",
                     lock_text(boot_lock, sizeof boot_lock, s.boot_locked_min_mhz,
                               s.boot_locked_max_mhz));
        if (s.power_limit_w != s.boot_power_limit_w)
            snprintf(booted + strlen(booted), sizeof booted - strlen(booted), "%s%g W",
                     booted[0] ? ", " : "no: ", s.boot_power_limit_w);
        if (s.app_gfx_mhz)
            snprintf(booted + strlen(booted), sizeof booted - strlen(booted), "%sapp default",
                     booted[0] ? ", " : "no: ");
        printf("  %-4u %-17s %-13g %-13s %-22s  %llu, %llu, %llu, %llu, %llu\n", i,
               lock_text(lock, sizeof lock, s.locked_min_mhz, s.locked_max_mhz), s.power_limit_w,
               app, booted[0] ? booted : "yes", s.set_locked_clocks, s.reset_locked_clocks,
               s.set_power_limit, s.set_app_clocks, s.reset_app_clocks);
    }
}

int cmd_sim_status(int argc, char **argv)
{
    const char *machine = NULL;
    int rc = options("status", argc, argv, &machine);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (machine && setenv("JOULES_SIM_MACHINE", machine, 1) != 0)
        return 1;
    const char *m_env = getenv("JOULES_SIM_MACHINE");
    if (m_env && !strcmp(m_env, JSIM_MACHINE_PRIVATE)) {
        fprintf(stderr, "joules sim status: JOULES_SIM_MACHINE=private gives every process a "
                        "model of its own: there is no shared machine to show.\n");
        return 2;
    }
    /* Attach to what runs, asking for nothing: never refused for a scenario of its own. */
    unsetenv("JOULES_SIM_SCENARIO");
    unsetenv("JOULES_SIM_PROFILE");
    unsetenv("JOULES_SIM_DEVICES");
    unsetenv("JOULES_SIM_SEED");
    unsetenv("JOULES_SIM_SENSOR_CLOCK");
    void *h = open_library("status");
    if (!h)
        return 1;
    nvmlReturn_t (*init)(void) = (nvmlReturn_t(*)(void))need(h, "status", "nvmlInit_v2");
    jsimLastError_fn last_error = (jsimLastError_fn)need(h, "status", JSIM_SYMBOL_LAST_ERROR);
    jsimGetMachine_fn get = (jsimGetMachine_fn)need(h, "status", JSIM_SYMBOL_GET_MACHINE);
    if (!init || !last_error || !get)
        return 1;
    if (init() != NVML_SUCCESS) {
        char msg[512] = "";
        last_error(msg, sizeof msg);
        fprintf(stderr, "joules sim status: %s\n", msg);
        return 1;
    }
    jsimMachine m = {.version = JSIM_STRUCT_VERSION(jsimMachine)};
    if (get(&m) != NVML_SUCCESS) {
        fprintf(stderr, "joules sim status: the simulated GPU gave no machine\n");
        return 1;
    }
    int me = (int)getpid();
    printf("Simulated machine '%s' (shared, /dev/shm/%s)   SIMULATED\n", m.name, m.name);
    printf("  up        ");
    print_uptime(m.uptime_s);
    if ((int)m.loader_pid == me)
        printf("   (booted now, by this command)");
    printf("\n  runs      %s\n  booted by pid %u\n", m.config, m.loader_pid);
    printf("  processes attached: %u", m.n_attached > 0 ? m.n_attached - 1 : 0);
    for (unsigned i = 0, k = 0; i < m.n_attached; i++)
        if ((int)m.attached_pids[i] != me)
            printf("%s%u", k++ ? ", " : " (pids ", m.attached_pids[i]);
    printf("%s (not counting this command)\n", m.n_attached > 1 ? ")" : "");
    if (m.lock_recoveries)
        printf("  lock recovered %u time%s from a process that died holding it\n",
               m.lock_recoveries, m.lock_recoveries == 1 ? "" : "s");
    print_devices(h, m.devices);
    print_settings(h, m.devices);
    return 0;
}

int cmd_sim_reset(int argc, char **argv)
{
    const char *machine = NULL;
    int rc = options("reset", argc, argv, &machine);
    if (rc)
        return rc == 1 ? 0 : rc;
    const char *name = machine ? machine : getenv("JOULES_SIM_MACHINE");
    if (name && !strcmp(name, JSIM_MACHINE_PRIVATE)) {
        fprintf(stderr, "joules sim reset: 'private' is no shared machine: nothing to reset\n");
        return 2;
    }
    void *h = open_library("reset");
    if (!h)
        return 1;
    jsimResetMachine_fn reset = (jsimResetMachine_fn)need(h, "reset", JSIM_SYMBOL_RESET_MACHINE);
    if (!reset)
        return 1;
    char shown[80];
    if (name && *name)
        snprintf(shown, sizeof shown, "%s", name);
    else
        snprintf(shown, sizeof shown, "joules-sim-%u", (unsigned)geteuid());
    switch (reset(machine)) {
    case NVML_SUCCESS:
        printf("Removed the simulated machine '%s': the next use boots a fresh one (processes "
               "still attached keep the old one until they exit).\n",
               shown);
        return 0;
    case NVML_ERROR_NOT_FOUND:
        printf("No simulated machine '%s' to remove.\n", shown);
        return 0;
    case NVML_ERROR_INVALID_ARGUMENT:
        fprintf(stderr,
                "joules sim reset: '%s' is not a machine name (letters, digits, '.', "
                "'_', '-')\n",
                shown);
        return 2;
    default:
        fprintf(stderr, "joules sim reset: cannot remove /dev/shm/%s (permission?)\n", shown);
        return 1;
    }
}
