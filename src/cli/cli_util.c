/* SPDX-License-Identifier: MIT */
/*
 * cli_util.c - shared option handling and monitor opening for the subcommands (see
 * cli_util.h). The simulated GPU is a library named libnvidia-ml.so.1 kept beside the
 * joules executable (../lib/joules/, in the build tree and the installed tree alike); using
 * it is always explicit (--sim, --scenario, --sim-if-absent), so a missing driver is never
 * hidden behind simulated figures.
 */
#include "cli/cli_util.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli_profiles.h"
#include "io/plot_svg.h"

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("joules: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "joules %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fprintf(stderr, "Try 'joules %s --help'.\n", cmd);
    return CLI_EXIT_USAGE;
}

int cli_getopt_error(const char *cmd, int c, char **argv)
{
    /* getopt_long leaves the offending word just before optind. */
    const char *word = optind > 0 ? argv[optind - 1] : "?";
    if (c == ':')
        return cli_usage_error(cmd, "option '%s' needs a value", word);
    if (optopt && optopt < 0x100 && strncmp(word, "--", 2) != 0)
        return cli_usage_error(cmd, "unknown option '-%c'", optopt);
    /* Long options: strip "=value" so the message names the option only. */
    char name[64];
    snprintf(name, sizeof name, "%s", word);
    char *eq = strchr(name, '=');
    if (eq && optopt)
        return cli_usage_error(cmd, "option '%.*s' takes no value", (int)(eq - name), name);
    if (eq)
        *eq = '\0';
    return cli_usage_error(cmd, "unknown option '%s'", name);
}

int cli_take_sim_option(struct cli_source *s, const char *cmd, int if_absent, int argc, char **argv)
{
    const char *opt = if_absent ? "--sim-if-absent" : "--sim";
    const char *p = optarg;
    int from_next = 0;
    if (!p && optind < argc && argv[optind][0] != '-') {
        p = argv[optind];
        from_next = 1;
    }
    if (p) {
        int known = cli_sim_profile_known(p);
        if (known < 0)
            return CLI_EXIT_FAILURE;
        if (!known) {
            char list[256];
            cli_sim_profile_list(list, sizeof list, 0);
            fprintf(stderr, "joules %s: unknown simulated GPU profile '%s' after %s\n", cmd, p,
                    opt);
            fprintf(stderr, "Profiles: %s.\n", list);
            /* Only where a command may follow (not info, idle, watch). */
            int takes_command =
                !strcmp(cmd, "run") || !strcmp(cmd, "repeat") || !strcmp(cmd, "sweep");
            if (from_next && takes_command)
                fprintf(stderr,
                        "If '%s' is the command to run, put '--' before it: "
                        "joules %s %s -- %s ...\n",
                        p, cmd, opt, p);
            fprintf(stderr, "Try 'joules %s --help'.\n", cmd);
            return CLI_EXIT_USAGE;
        }
        if (s->profile && strcmp(s->profile, p) != 0)
            return cli_usage_error(cmd, "two different simulated profiles: '%s' and '%s'",
                                   s->profile, p);
        s->profile = p;
        if (from_next)
            optind++;
    }
    if (if_absent)
        s->sim_if_absent = 1;
    else
        s->sim = 1;
    return 0;
}

int cli_take_scenario_option(struct cli_source *s, const char *cmd, const char *path)
{
    struct stat st;
    static char found[PATH_MAX]; /* one scenario per process */
    if (!path[0])
        return cli_usage_error(cmd, "--scenario needs a file name");
    int rc = cli_find_scenario(cmd, path, found, sizeof found);
    if (rc != 0)
        return rc;
    path = found;
    if (stat(path, &st) != 0)
        return cli_usage_error(cmd, "cannot read the scenario file '%s': %s", path,
                               strerror(errno));
    if (!S_ISREG(st.st_mode))
        return cli_usage_error(cmd, "the scenario '%s' is not a regular file", path);
    if (access(path, R_OK) != 0)
        return cli_usage_error(cmd, "cannot read the scenario file '%s': %s", path,
                               strerror(errno));
    s->scenario = path;
    s->sim = 1;
    return 0;
}

int cli_check_output_name(const char *cmd, const char *opt, const char *path)
{
    if (!path[0])
        return cli_usage_error(cmd, "%s needs a file name ('-' for standard output)", opt);
    if (path[0] == '-' && path[1])
        return cli_usage_error(cmd,
                               "%s '%s' looks like an option; a file of that name is "
                               "written as ./%s",
                               opt, path, path);
    size_t n = strlen(path);
    if (path[n - 1] == '/')
        return cli_usage_error(cmd, "%s '%s' names a directory, not a file", opt, path);
    if (!strcmp(path, "-"))
        return 0;
    char why[512];
    if ((!strcmp(opt, "--svg") || !strcmp(opt, "--plot")) &&
        plot_svg_check_path(path, why, sizeof why) != 0)
        return cli_usage_error(cmd, "%s %s", opt, why);
    /* Said now, before any measurement, rather than when the report is written. */
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return cli_usage_error(cmd, "%s '%s' is a directory; name a file in it (%s/NAME)", opt,
                               path, path);
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) { /* a device or pipe: written in place */
        if (access(path, W_OK) != 0)
            return cli_usage_error(cmd, "%s '%s': %s", opt, path, strerror(errno));
        return 0;
    }
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else if (slash)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    else
        snprintf(dir, sizeof dir, ".");
    if (stat(dir, &st) != 0)
        return cli_usage_error(cmd, "%s '%s': the directory '%s' %s", opt, path, dir,
                               errno == ENOENT ? "does not exist (create it first)"
                                               : strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return cli_usage_error(cmd, "%s '%s': '%s' is not a directory", opt, path, dir);
    if (access(dir, W_OK | X_OK) != 0)
        return cli_usage_error(cmd, "%s '%s': cannot write in '%s': %s", opt, path, dir,
                               strerror(errno));
    return 0;
}

int cli_parse_long(const char *cmd, const char *opt, const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (end == v || *end || errno || x < lo || x > hi)
        return cli_usage_error(cmd, "%s: '%s' is not an integer in [%ld, %ld]", opt, v, lo, hi);
    *out = x;
    return 0;
}

int cli_parse_double(const char *cmd, const char *opt, const char *v, double lo, double hi,
                     double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || *end || errno || !(x >= lo && x <= hi))
        return cli_usage_error(cmd, "%s: '%s' is not a number in [%g, %g]", opt, v, lo, hi);
    *out = x;
    return 0;
}

int cli_parse_steps(const char *cmd, const char *opt, const char *v, double lo, double hi,
                    double *out, int max, int *n)
{
    char buf[512];
    if (strlen(v) >= sizeof buf)
        return cli_usage_error(cmd, "%s: too long", opt);
    snprintf(buf, sizeof buf, "%s", v);
    *n = 0;
    if (strchr(buf, ':')) {
        double a = 0, b = 0, s = 1;
        char *c1 = strchr(buf, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            return cli_usage_error(cmd, "%s: '%s' is not FROM:TO:STEP", opt, v);
        *c1 = *c2 = 0;
        int rc;
        if ((rc = cli_parse_double(cmd, opt, buf, lo, hi, &a)) ||
            (rc = cli_parse_double(cmd, opt, c1 + 1, lo, hi, &b)) ||
            (rc = cli_parse_double(cmd, opt, c2 + 1, 1e-3, hi, &s)))
            return rc;
        if (b < a)
            return cli_usage_error(cmd, "%s: TO (%g) is below FROM (%g)", opt, b, a);
        if ((b - a) / s + 1 > max)
            return cli_usage_error(cmd, "%s: more than %d steps", opt, max);
        /* The count is bounded again: x accumulates rounding as it goes. */
        for (double x = a; x <= b + 1e-9 * s && *n < max; x += s)
            out[(*n)++] = x;
    } else {
        for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            if (*n == max)
                return cli_usage_error(cmd, "%s: more than %d steps", opt, max);
            int rc = cli_parse_double(cmd, opt, t, lo, hi, &out[*n]);
            if (rc)
                return rc;
            (*n)++;
        }
    }
    if (*n < 1)
        return cli_usage_error(cmd, "%s: no step", opt);
    return 0;
}

int cli_sim_library_path(char *buf, size_t len)
{
    const char *env = getenv("JOULES_SIM_LIBRARY");
    if (env && *env) {
        snprintf(buf, len, "%s", env);
    } else {
        /* The kernel's link is already the canonical path, symbolic links resolved. */
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n > 0)
            exe[n] = '\0';
        if (n <= 0 || (size_t)n >= sizeof exe - 1) {
            cli_error("cannot find the joules executable (/proc/self/exe: %s); set "
                      "JOULES_SIM_LIBRARY to the simulated libnvidia-ml.so.1",
                      strerror(errno));
            return -1;
        }
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        if ((size_t)snprintf(buf, len, "%s/../lib/joules/libnvidia-ml.so.1", exe) >= len) {
            cli_error("the path of the joules executable is too long");
            return -1;
        }
    }
    if (access(buf, R_OK) != 0) {
        cli_error("the simulated GPU library %s is missing (%s).\n"
                  "It is built with joules (make) and installed in <prefix>/lib/joules/; "
                  "JOULES_SIM_LIBRARY may name it.",
                  buf, strerror(errno));
        return -1;
    }
    return 0;
}

static void env_options(joules_options *o)
{
    joules_options_init(o);
    const char *v = getenv("JOULES_NVML_LIBRARY");
    if (v && *v)
        o->nvml_library = v;
    v = getenv("JOULES_SYSFS_ROOT");
    if (v && *v)
        o->sysfs_root = v;
}

int cli_count_gpus(joules_monitor *m, int simulated_only)
{
    int n = 0, count = joules_domain_count(m);
    for (int i = 0; i < count; i++) {
        joules_domain_info di;
        if (joules_domain_info_get(m, i, &di) == 0 && di.kind == JOULES_KIND_GPU &&
            (!simulated_only || di.simulated))
            n++;
    }
    return n;
}

int cli_gpu_domain(joules_monitor *m, int gpu)
{
    int count = joules_domain_count(m), seen = 0;
    for (int i = 0; i < count; i++) {
        joules_domain_info di;
        if (joules_domain_info_get(m, i, &di) == 0 && di.kind == JOULES_KIND_GPU && seen++ == gpu)
            return i;
    }
    return -1;
}

const char *cli_sim_profile_name(const struct cli_source *s, const struct cli_monitor *cm)
{
    if (!cm->used_sim)
        return NULL;
    const char *p = s->profile ? s->profile : getenv("JOULES_SIM_PROFILE");
    return p ? p : s->scenario ? "(scenario)" : "a6000";
}

static int open_with(const char *cmd, const joules_options *o, joules_monitor **m)
{
    char err[JOULES_MESSAGE_MAX] = "";
    int rc = joules_open(m, o, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "joules %s: cannot open the monitor: %s\n", cmd,
                err[0] ? err : joules_strerror(rc));
        return CLI_EXIT_FAILURE;
    }
    return 0;
}

int cli_open_monitor(const char *cmd, const struct cli_source *s, struct cli_monitor *out)
{
    memset(out, 0, sizeof *out);
    joules_options o;
    env_options(&o);
    o.settle_end = s->settle_end;
    o.tracker_period_ns = s->tracker_period_ns;
    /* A command's end waits for a counter step only as long as a tenth of its own time. */
    o.settle_max_fraction = s->settle_end ? 0.1 : 0.0;

    if (s->sim_if_absent && !s->sim) {
        /* The real NVML first; the simulator only when it has no GPU to offer. */
        if (open_with(cmd, &o, &out->m) != 0)
            return CLI_EXIT_FAILURE;
        if (cli_count_gpus(out->m, 0) > 0)
            return 0;
        int code = 0;
        char msg[JOULES_MESSAGE_MAX] = "";
        joules_backend_status(out->m, JOULES_BACKEND_NVML, &code, msg, sizeof msg);
        snprintf(out->why, sizeof out->why, "%s",
                 code != 0 && msg[0] ? msg : "the NVIDIA driver reports no GPU");
        joules_close(out->m);
        out->m = NULL;
    } else if (!s->sim) {
        return open_with(cmd, &o, &out->m);
    }

    if (cli_sim_library_path(out->sim_library, sizeof out->sim_library) != 0)
        return CLI_EXIT_FAILURE;
    /* The simulator reads its configuration from the environment at nvmlInit; the
     * variables are inherited by the measured command too, which is harmless. */
    if (s->profile && setenv("JOULES_SIM_PROFILE", s->profile, 1) != 0)
        return CLI_EXIT_FAILURE;
    if (s->scenario && setenv("JOULES_SIM_SCENARIO", s->scenario, 1) != 0)
        return CLI_EXIT_FAILURE;
    o.nvml_library = out->sim_library;
    out->used_sim = 1;
    if (open_with(cmd, &o, &out->m) != 0)
        return CLI_EXIT_FAILURE;
    if (cli_count_gpus(out->m, 1) == 0) {
        int code = 0;
        char msg[JOULES_MESSAGE_MAX] = "";
        joules_backend_status(out->m, JOULES_BACKEND_NVML, &code, msg, sizeof msg);
        fprintf(stderr, "joules %s: the simulated GPU did not start: %s\n", cmd,
                msg[0] ? msg : "it reports no device");
        if (s->scenario)
            fprintf(stderr, "Check the scenario file %s (its format: docs/scenarios.md).\n",
                    s->scenario);
        cli_close_monitor(out);
        return CLI_EXIT_FAILURE;
    }
    return 0;
}

void cli_close_monitor(struct cli_monitor *cm)
{
    if (cm->m)
        joules_close(cm->m);
    cm->m = NULL;
}

static const char *const backend_names[JOULES_BACKEND_COUNT] = {"nvml", "rapl"};

const char *cli_backend_remedy(joules_backend_id b, int code)
{
    if (b == JOULES_BACKEND_NVML) {
        switch (code) {
        case JOULES_E_LIBRARY:
            return "install the NVIDIA driver, or name libnvidia-ml.so.1 with "
                   "JOULES_NVML_LIBRARY; without a GPU, use --sim";
        case JOULES_E_PERMISSION:
            return "check the permissions of /dev/nvidia*";
        case JOULES_E_NO_DOMAIN:
            return "no NVIDIA GPU is visible (check nvidia-smi); without a GPU, use --sim";
        default:
            return "check the driver with nvidia-smi; without a GPU, use --sim";
        }
    }
    switch (code) {
    case JOULES_E_PERMISSION:
        return "energy_uj is readable by root only since Linux 5.10: run as root, or "
               "chmod o+r /sys/class/powercap/intel-rapl:*/energy_uj";
    case JOULES_E_NOT_FOUND:
    case JOULES_E_NO_DOMAIN:
        return "no powercap RAPL tree: not an x86 CPU with RAPL, or a VM/container without "
               "/sys/class/powercap (modprobe intel_rapl_common on bare metal)";
    default:
        return "check /sys/class/powercap/intel-rapl:*";
    }
}

void cli_print_backends(FILE *out, joules_monitor *m, const char *indent)
{
    for (int b = 0; b < JOULES_BACKEND_COUNT; b++) {
        int code = 0;
        char msg[JOULES_MESSAGE_MAX] = "";
        if (joules_backend_status(m, (joules_backend_id)b, &code, msg, sizeof msg) != 0)
            continue;
        if (code == 0) {
            fprintf(out, "%s%-5s loaded%s%s\n", indent, backend_names[b], msg[0] ? ": " : "", msg);
        } else {
            fprintf(out, "%s%-5s absent: %s\n", indent, backend_names[b],
                    msg[0] ? msg : joules_strerror(code));
            fprintf(out, "%s      remedy: %s\n", indent,
                    cli_backend_remedy((joules_backend_id)b, code));
        }
    }
}

int cli_check_profile(const char *cmd, const char *opt, const char *profile)
{
    int known = cli_sim_profile_known(profile);
    if (known)
        return known < 0 ? CLI_EXIT_FAILURE : 0;
    char list[256];
    cli_sim_profile_list(list, sizeof list, 0);
    return cli_usage_error(cmd, "%s: unknown simulated GPU profile '%s' (profiles: %s)", opt,
                           profile, list);
}

void cli_print_sim_hint(FILE *out, const char *cmd)
{
    char list[256];
    cli_sim_profile_list(list, sizeof list, 0);
    fprintf(out,
            "To use the simulated GPU instead (always labelled SIMULATED):\n"
            "  joules %s --sim [PROFILE]%s\n"
            "      PROFILE: %s (default a6000)\n"
            "  joules run --scenario FILE -- CMD ...   a known load (docs/scenarios.md)\n",
            cmd, strcmp(cmd, "run") == 0 ? " -- CMD ..." : "", list);
    if (strcmp(cmd, "info") != 0)
        fprintf(out, "  joules info --sim                       what the simulated GPU looks "
                     "like\n");
}

void cli_print_no_sensor(const char *cmd, const char *headline, joules_monitor *m)
{
    fprintf(stderr, "joules %s: %s\n\nWhy the real sensors are absent:\n", cmd, headline);
    cli_print_backends(stderr, m, "  ");
    fputc('\n', stderr);
    cli_print_sim_hint(stderr, cmd);
}
