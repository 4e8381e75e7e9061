/* SPDX-License-Identifier: MIT */
/*
 * cmd_info.c - `joules info`: what this machine can measure and how. Every domain with its
 * method and the origin of its numbers, the details and live state of each GPU (the
 * anatomy of the talk: name, limits, clocks, P-state, temperature, memory), and for each
 * backend either "loaded" or why it is absent and what to do about it. Finding nothing is
 * not an error (exit 0): the output says so and how to use the simulated GPU.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "abi/nvml_abi.h"
#include "cli/cli_options.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "io/atomic.h"
#include "io/json.h"

static const char info_help_head[] =
    "Usage: joules info [--sim [PROFILE] | --scenario FILE | --sim-if-absent [PROFILE]]\n"
    "                   [--json FILE]\n\n"
    "Show what this machine can measure: every energy domain (GPUs through NVML, CPU\n"
    "package/core/uncore, DRAM and psys through RAPL powercap) with the method joules\n"
    "will use and where its numbers come from; for each GPU its name, UUID, bus id,\n"
    "driver, architecture, power now and its limits, clocks, P-state, temperature,\n"
    "memory and utilisation; and for each backend whether it loaded, or why not and\n"
    "what to do. Simulated devices are labelled SIMULATED.\n\n"
    "Options:\n";

static const char info_help_tail[] =
    "\nExamples:\n"
    "  joules info\n"
    "  joules info --sim h100-sxm5\n"
    "  joules info --sim-if-absent a6000 --json info.json\n\n"
    "Environment:\n"
    "  JOULES_NVML_LIBRARY  libnvidia-ml.so.1 to load (default: the system's)\n"
    "  JOULES_SYSFS_ROOT    directory standing for /sys (default: /sys)\n"
    "  JOULES_SIM_LIBRARY   the simulated GPU library (default: "
    "<bin>/../lib/joules/libnvidia-ml.so.1)\n"
    "  JOULES_SIM_PROFILE, JOULES_SIM_DEVICES, JOULES_SIM_SEED, JOULES_SIM_PRIVILEGED\n"
    "                       configure the simulated GPU (docs/scenarios.md)\n\n"
    "Exit status: 0 (also when nothing is found), 1 if joules failed, 2 on a wrong\n"
    "command line.\n";

static const struct cli_option info_options[] = {
    CLI_OPTION_SIM("show the simulated GPU instead of the real NVML\n"
                   "(default a6000; also --sim=PROFILE)\n" CLI_HELP_PROFILES),
    CLI_OPTION_SCENARIO("simulated GPU configured by a scenario (implies --sim)"),
    CLI_OPTION_SIM_IF_ABSENT("the real NVML when it loads and has GPUs, else the\n"
                             "simulated GPU; the output says which was used"),
    CLI_OPTION_JSON("also write the description as JSON (schema joules.info/1,\n"
                    "docs/output.md); '-' for standard output instead of text"),
    CLI_OPTION_HELP,
    CLI_OPTIONS_END,
};

static const struct cli_command_spec info_spec = {
    .name = "info",
    .help_head = info_help_head,
    .options = info_options,
    .help_tail = info_help_tail,
};

static const struct {
    uint64_t bit;
    const char *name;
} event_reasons[] = {
    {NVML_CLOCKS_EVENT_REASON_GPU_IDLE, "gpu-idle"},
    {NVML_CLOCKS_EVENT_REASON_APPLICATIONS_CLOCKS_SETTING, "applications-clocks-setting"},
    {NVML_CLOCKS_EVENT_REASON_SW_POWER_CAP, "sw-power-cap"},
    {NVML_CLOCKS_EVENT_REASON_HW_SLOWDOWN, "hw-slowdown"},
    {NVML_CLOCKS_EVENT_REASON_SYNC_BOOST, "sync-boost"},
    {NVML_CLOCKS_EVENT_REASON_SW_THERMAL, "sw-thermal-slowdown"},
    {NVML_CLOCKS_EVENT_REASON_HW_THERMAL, "hw-thermal-slowdown"},
    {NVML_CLOCKS_EVENT_REASON_HW_POWER_BRAKE, "hw-power-brake"},
    {NVML_CLOCKS_EVENT_REASON_DISPLAY_CLOCK, "display-clock-setting"},
};
#define N_REASONS (sizeof event_reasons / sizeof event_reasons[0])

static const char *method_words(joules_method m)
{
    switch (m) {
    case JOULES_METHOD_COUNTER:
        return "hardware energy counter; window edges placed between its steps "
               "(docs/measurement.md)";
    case JOULES_METHOD_INTEGRATED:
        return "power samples integrated over time";
    case JOULES_METHOD_MODEL:
        return "estimated from a model, not a sensor";
    default:
        return "no energy figure available";
    }
}

static void caps_words(uint32_t caps, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s%s%s", caps & JOULES_CAP_ENERGY_COUNTER ? "energy-counter " : "",
             caps & JOULES_CAP_POWER ? "power-sensor " : "",
             caps & JOULES_CAP_CLOCK_CONTROL ? "clock-control " : "",
             caps & JOULES_CAP_POWER_LIMIT ? "power-limit " : "");
    size_t n = strlen(buf);
    if (n)
        buf[n - 1] = '\0';
    else
        snprintf(buf, len, "none");
}

/* "%.1f W" or "n/a" for the fields the driver does not report (-1). */
static const char *watts(char *buf, size_t len, double w)
{
    if (w < 0)
        snprintf(buf, len, "n/a");
    else
        snprintf(buf, len, "%.1f W", w);
    return buf;
}

static const char *mhz(char *buf, size_t len, int v)
{
    if (v < 0)
        snprintf(buf, len, "n/a");
    else
        snprintf(buf, len, "%d MHz", v);
    return buf;
}

static void print_gpu(FILE *out, const joules_domain_info *di, const joules_gpu_status *g)
{
    char a[32], b[32], c[32], d[32], e[32];
    fprintf(out, "\nGPU %s%s\n", di->name, g->simulated ? "   SIMULATED" : "");
    fprintf(out, "  Name            %s\n", g->name[0] ? g->name : "n/a");
    fprintf(out, "  UUID            %s\n", g->uuid[0] ? g->uuid : "n/a");
    fprintf(out, "  Bus id          %s\n", g->bus_id[0] ? g->bus_id : "n/a");
    fprintf(out, "  Driver          %s\n", g->driver_version[0] ? g->driver_version : "n/a");
    fprintf(out, "  Architecture    %s\n", g->architecture[0] ? g->architecture : "n/a");
    fprintf(out, "  Power           %s now, %s averaged over 1 s\n", watts(a, sizeof a, g->power_w),
            watts(b, sizeof b, g->power_avg_w));
    fprintf(out, "  Power limit     %s (enforced %s, default %s, allowed %s .. %s)\n",
            watts(a, sizeof a, g->power_limit_w), watts(b, sizeof b, g->power_limit_enforced_w),
            watts(c, sizeof c, g->power_limit_default_w), watts(d, sizeof d, g->power_limit_min_w),
            watts(e, sizeof e, g->power_limit_max_w));
    fprintf(out, "  Clocks          SM %s (max %s), memory %s\n", mhz(a, sizeof a, g->clock_sm_mhz),
            mhz(b, sizeof b, g->clock_sm_max_mhz), mhz(c, sizeof c, g->clock_mem_mhz));
    if (g->pstate >= 0)
        fprintf(out, "  P-state         P%d\n", g->pstate);
    else
        fprintf(out, "  P-state         n/a\n");
    if (g->temperature_c >= 0)
        fprintf(out, "  Temperature     %d C\n", g->temperature_c);
    else
        fprintf(out, "  Temperature     n/a\n");
    if (g->memory_total_bytes > 0)
        fprintf(out, "  Memory          %.0f MiB used of %.0f MiB\n",
                (double)g->memory_used_bytes / 1048576.0,
                (double)g->memory_total_bytes / 1048576.0);
    else
        fprintf(out, "  Memory          n/a\n");
    if (g->utilization_gpu_pct >= 0)
        fprintf(out, "  Utilisation     %d %%\n", g->utilization_gpu_pct);
    else
        fprintf(out, "  Utilisation     n/a\n");
    fprintf(out, "  Clock events    ");
    if (!g->clock_event_reasons) {
        fprintf(out, "none");
    } else {
        int first = 1;
        for (size_t i = 0; i < N_REASONS; i++)
            if (g->clock_event_reasons & event_reasons[i].bit) {
                fprintf(out, "%s%s", first ? "" : ", ", event_reasons[i].name);
                first = 0;
            }
        fprintf(out, " (0x%" PRIx64 ")", g->clock_event_reasons);
    }
    fputc('\n', out);
    if (g->energy_counter_j >= 0)
        fprintf(out, "  Energy counter  %.3f J since the driver loaded\n", g->energy_counter_j);
}

struct info_data {
    int n;
    joules_domain_info di[JOULES_MAX_DOMAINS];
    joules_gpu_status gs[JOULES_MAX_DOMAINS];
    int gs_rc[JOULES_MAX_DOMAINS];
    char gs_err[JOULES_MAX_DOMAINS][JOULES_MESSAGE_MAX];
};

static void source_line(FILE *out, const struct cli_monitor *cm, const struct cli_source *s)
{
    int nvml_code = JOULES_E_LIBRARY;
    if (!cm->used_sim && cm->m)
        (void)joules_backend_status(cm->m, JOULES_BACKEND_NVML, &nvml_code, NULL, 0);
    if (!cm->used_sim && nvml_code == JOULES_E_LIBRARY)
        fprintf(out, "GPU source: none (the NVIDIA driver's NVML did not load: see Backends)\n");
    else if (!cm->used_sim && nvml_code != 0)
        fprintf(out, "GPU source: none (NVML gave no usable GPU: see Backends)\n");
    else if (!cm->used_sim)
        fprintf(out, "GPU source: the NVIDIA driver (NVML)%s\n",
                s->sim_if_absent ? ", found by --sim-if-absent" : "");
    else if (s->sim)
        fprintf(out, "GPU source: the SIMULATED GPU (%s), library %s\n",
                s->scenario ? "--scenario" : "--sim", cm->sim_library);
    else
        fprintf(out, "GPU source: the SIMULATED GPU, because no real GPU was found (%s)\n",
                cm->why);
}

static void print_text(FILE *out, const struct cli_monitor *cm, const struct cli_source *s,
                       const struct info_data *d)
{
    fprintf(out, "joules %s\n", JOULES_VERSION_STRING);
    source_line(out, cm, s);
    if (d->n == 0) {
        fprintf(out, "\nNo measurable domain was found on this machine.\n");
    } else {
        fprintf(out, "\nDomains (%d):\n", d->n);
        for (int i = 0; i < d->n; i++) {
            const joules_domain_info *di = &d->di[i];
            char caps[96];
            caps_words(di->caps, caps, sizeof caps);
            fprintf(out, "  %-9s %-12s %s%s\n", di->name, joules_kind_name(di->kind), di->device,
                    di->simulated ? "   SIMULATED" : "");
            fprintf(out, "            method    %s (%s)\n", joules_method_name(di->method),
                    method_words(di->method));
            fprintf(out, "            source    %s\n", di->source[0] ? di->source : "n/a");
            fprintf(out, "            sensor    ");
            if (di->update_interval_ns)
                fprintf(out, "updates every %.0f ms, ", (double)di->update_interval_ns / 1e6);
            else
                fprintf(out, "update period unknown, ");
            if (di->resolution_j > 0)
                fprintf(out, "resolution %g J, ", di->resolution_j);
            if (di->sensor_accuracy > 0)
                fprintf(out, "stated accuracy +/-%g %%\n", di->sensor_accuracy * 100.0);
            else
                fprintf(out, "accuracy not stated\n");
            if (di->power_window_s > 0 && di->update_interval_ns &&
                di->power_window_s * 1e9 < (double)di->update_interval_ns)
                fprintf(out,
                        "            power     each reading averages the last %.0f ms of every "
                        "%.0f ms (the rest is unseen)\n",
                        di->power_window_s * 1e3, (double)di->update_interval_ns / 1e6);
            else if (di->power_window_s > 0)
                fprintf(out, "            power     each reading averages %.0f ms\n",
                        di->power_window_s * 1e3);
            fprintf(out, "            caps      %s\n", caps);
            if (di->counted_in_total)
                fprintf(out, "            total     counted in the disjoint total\n");
            else if (di->parent >= 0 && di->parent < d->n)
                fprintf(out, "            total     part of %s, not counted twice\n",
                        d->di[di->parent].name);
            else
                fprintf(out, "            total     not counted in the total\n");
        }
        for (int i = 0; i < d->n; i++) {
            if (d->di[i].kind != JOULES_KIND_GPU)
                continue;
            if (d->gs_rc[i] == 0)
                print_gpu(out, &d->di[i], &d->gs[i]);
            else
                fprintf(out, "\nGPU %s: status unavailable: %s\n", d->di[i].name, d->gs_err[i]);
        }
    }
    fprintf(out, "\nBackends:\n");
    cli_print_backends(out, cm->m, "  ");
    int any_sim = 0;
    for (int i = 0; i < d->n; i++)
        any_sim |= d->di[i].simulated;
    if (any_sim)
        fprintf(out, "\nSIMULATED: devices marked SIMULATED are a physics model run by joules, "
                     "not hardware;\nfigures measured on them are simulated figures.\n");
    if (cli_count_gpus(cm->m, 0) == 0 && !cm->used_sim) {
        fputc('\n', out);
        cli_print_sim_hint(out, "info");
    }
}

static void json_or_null(io_json *j, const char *key, double v)
{
    if (v < 0)
        io_json_kv_null(j, key);
    else
        io_json_kv_number(j, key, v);
}

static void json_int_or_null(io_json *j, const char *key, long long v)
{
    if (v < 0)
        io_json_kv_null(j, key);
    else
        io_json_kv_int(j, key, v);
}

static int write_json(FILE *f, const struct cli_monitor *cm, const struct info_data *d)
{
    static const char *const bnames[JOULES_BACKEND_COUNT] = {"nvml", "rapl"};
    io_json j;
    io_json_init(&j, f, 1);
    io_json_object_begin(&j);
    io_json_kv_string(&j, "schema", "joules.info/1");
    io_json_kv_string(&j, "joules_version", JOULES_VERSION_STRING);
    int any_sim = 0;
    for (int i = 0; i < d->n; i++)
        any_sim |= d->di[i].simulated;
    io_json_kv_bool(&j, "simulated", any_sim);
    io_json_kv_string(&j, "gpu_source", cm->used_sim ? "simulator" : "nvml");
    if (cm->why[0])
        io_json_kv_string(&j, "simulator_reason", cm->why);
    else
        io_json_kv_null(&j, "simulator_reason");

    io_json_key(&j, "domains");
    io_json_array_begin(&j);
    for (int i = 0; i < d->n; i++) {
        const joules_domain_info *di = &d->di[i];
        io_json_object_begin(&j);
        io_json_kv_string(&j, "name", di->name);
        io_json_kv_string(&j, "kind", joules_kind_name(di->kind));
        io_json_kv_string(&j, "device", di->device);
        io_json_kv_string(&j, "uuid", di->uuid[0] ? di->uuid : NULL);
        io_json_kv_string(&j, "bus_id", di->bus_id[0] ? di->bus_id : NULL);
        io_json_kv_bool(&j, "simulated", di->simulated);
        io_json_kv_string(&j, "method", joules_method_name(di->method));
        io_json_kv_string(&j, "source", di->source);
        io_json_key(&j, "capabilities");
        io_json_array_begin(&j);
        if (di->caps & JOULES_CAP_ENERGY_COUNTER)
            io_json_string(&j, "energy-counter");
        if (di->caps & JOULES_CAP_POWER)
            io_json_string(&j, "power-sensor");
        if (di->caps & JOULES_CAP_CLOCK_CONTROL)
            io_json_string(&j, "clock-control");
        if (di->caps & JOULES_CAP_POWER_LIMIT)
            io_json_string(&j, "power-limit");
        io_json_array_end(&j);
        io_json_kv_bool(&j, "counted_in_total", di->counted_in_total);
        io_json_kv_string(&j, "parent",
                          di->parent >= 0 && di->parent < d->n ? d->di[di->parent].name : NULL);
        if (di->update_interval_ns)
            io_json_kv_number(&j, "update_interval_s", (double)di->update_interval_ns / 1e9);
        else
            io_json_kv_null(&j, "update_interval_s");
        json_or_null(&j, "resolution_j", di->resolution_j > 0 ? di->resolution_j : -1);
        json_or_null(&j, "sensor_accuracy", di->sensor_accuracy > 0 ? di->sensor_accuracy : -1);
        json_or_null(&j, "power_window_s", di->power_window_s > 0 ? di->power_window_s : -1);
        io_json_object_end(&j);
    }
    io_json_array_end(&j);

    io_json_key(&j, "gpus");
    io_json_array_begin(&j);
    for (int i = 0; i < d->n; i++) {
        if (d->di[i].kind != JOULES_KIND_GPU)
            continue;
        const joules_gpu_status *g = &d->gs[i];
        io_json_object_begin(&j);
        io_json_kv_string(&j, "domain", d->di[i].name);
        if (d->gs_rc[i] != 0) {
            io_json_kv_string(&j, "error", d->gs_err[i]);
            io_json_object_end(&j);
            continue;
        }
        io_json_kv_null(&j, "error");
        io_json_kv_string(&j, "name", g->name);
        io_json_kv_string(&j, "uuid", g->uuid[0] ? g->uuid : NULL);
        io_json_kv_string(&j, "bus_id", g->bus_id[0] ? g->bus_id : NULL);
        io_json_kv_string(&j, "driver_version", g->driver_version[0] ? g->driver_version : NULL);
        io_json_kv_string(&j, "architecture", g->architecture[0] ? g->architecture : NULL);
        io_json_kv_bool(&j, "simulated", g->simulated);
        json_or_null(&j, "power_w", g->power_w);
        json_or_null(&j, "power_avg_w", g->power_avg_w);
        json_or_null(&j, "power_limit_w", g->power_limit_w);
        json_or_null(&j, "power_limit_enforced_w", g->power_limit_enforced_w);
        json_or_null(&j, "power_limit_default_w", g->power_limit_default_w);
        json_or_null(&j, "power_limit_min_w", g->power_limit_min_w);
        json_or_null(&j, "power_limit_max_w", g->power_limit_max_w);
        json_int_or_null(&j, "clock_sm_mhz", g->clock_sm_mhz);
        json_int_or_null(&j, "clock_sm_max_mhz", g->clock_sm_max_mhz);
        json_int_or_null(&j, "clock_mem_mhz", g->clock_mem_mhz);
        json_int_or_null(&j, "pstate", g->pstate);
        json_int_or_null(&j, "temperature_c", g->temperature_c);
        json_int_or_null(&j, "utilization_gpu_pct", g->utilization_gpu_pct);
        if (g->memory_total_bytes > 0) {
            io_json_kv_number(&j, "memory_total_bytes", (double)g->memory_total_bytes);
            io_json_kv_number(&j, "memory_used_bytes", (double)g->memory_used_bytes);
        } else {
            io_json_kv_null(&j, "memory_total_bytes");
            io_json_kv_null(&j, "memory_used_bytes");
        }
        io_json_key(&j, "clock_event_reasons");
        io_json_array_begin(&j);
        for (size_t r = 0; r < N_REASONS; r++)
            if (g->clock_event_reasons & event_reasons[r].bit)
                io_json_string(&j, event_reasons[r].name);
        io_json_array_end(&j);
        json_or_null(&j, "energy_counter_j", g->energy_counter_j);
        io_json_object_end(&j);
    }
    io_json_array_end(&j);

    io_json_key(&j, "backends");
    io_json_array_begin(&j);
    for (int b = 0; b < JOULES_BACKEND_COUNT; b++) {
        int code = 0;
        char msg[JOULES_MESSAGE_MAX] = "";
        if (joules_backend_status(cm->m, (joules_backend_id)b, &code, msg, sizeof msg) != 0)
            continue;
        io_json_object_begin(&j);
        io_json_kv_string(&j, "name", bnames[b]);
        io_json_kv_bool(&j, "loaded", code == 0);
        io_json_kv_string(&j, "error", code ? joules_strerror(code) : NULL);
        io_json_kv_string(&j, "message", msg[0] ? msg : NULL);
        io_json_kv_string(&j, "remedy",
                          code ? cli_backend_remedy((joules_backend_id)b, code) : NULL);
        io_json_object_end(&j);
    }
    io_json_array_end(&j);
    io_json_object_end(&j);
    return io_json_finish(&j);
}

int cmd_info(int argc, char **argv)
{
    struct cli_common com = {0};
    int rc;
    if (cli_options_parse(&info_spec, &com, NULL, argc, argv, &rc) != 0)
        return rc;
    struct cli_source src = com.src;
    const char *json = com.json;
    if (optind < argc)
        return cli_usage_error("info", "unexpected argument '%s'", argv[optind]);
    if (src.sim && src.sim_if_absent)
        return cli_usage_error("info", "--sim/--scenario and --sim-if-absent exclude each other");

    /* Create the output first: a name that cannot be written is found before any work. */
    io_atomic out;
    char err[512];
    if (json && io_atomic_open(&out, json, err, sizeof err) != 0) {
        cli_error("info: %s", err);
        return CLI_EXIT_USAGE;
    }

    int json_open = json != NULL, status = CLI_EXIT_FAILURE;
    struct cli_monitor cm;
    if (cli_open_monitor("info", &src, &cm) != 0)
        goto no_monitor;
    static struct info_data d; /* ~100 KB: kept off the stack */
    memset(&d, 0, sizeof d);
    d.n = joules_domain_count(cm.m);
    if (d.n < 0)
        d.n = 0;
    for (int i = 0; i < d.n; i++) {
        joules_domain_info_get(cm.m, i, &d.di[i]);
        if (d.di[i].kind == JOULES_KIND_GPU) {
            d.gs_rc[i] = joules_gpu_status_get(cm.m, i, &d.gs[i]);
            if (d.gs_rc[i] != 0)
                snprintf(d.gs_err[i], sizeof d.gs_err[i], "%s", joules_last_error(cm.m));
        }
    }

    status = 0;
    int json_to_stdout = json && strcmp(json, "-") == 0;
    if (!json_to_stdout)
        print_text(stdout, &cm, &src, &d);
    if (json) {
        json_open = 0;
        if (write_json(out.f, &cm, &d) != 0) {
            cli_error("info: writing %s failed", json);
            io_atomic_abort(&out);
            status = CLI_EXIT_FAILURE;
        } else if (io_atomic_commit(&out, err, sizeof err) != 0) {
            cli_error("info: %s", err);
            status = CLI_EXIT_FAILURE;
        }
    }
    if (fflush(stdout) != 0)
        status = CLI_EXIT_FAILURE;
    cli_close_monitor(&cm);
no_monitor:
    if (json_open)
        io_atomic_abort(&out);
    return status;
}
