/* SPDX-License-Identifier: MIT */
/*
 * compare_exec.c - the executor of `joules compare`: runs one command and measures it as
 * `joules run` does (a monitor window over every domain, opened just before the fork and
 * closed as soon as the command's exit is seen), with --prepare before every run and --setup
 * once, both unmeasured. On the simulated GPU each command may have its own scenario: it is
 * put in force (jsimReconfigure on the library the monitor loaded) before the command's run,
 * and the window begins only after the energy counter has stepped a few times at the new
 * load, so the begin edge is not interpolated across the switch.
 *
 * A stop request (a signal's flag) is passed on to the running command, whose run then
 * does not count. The child gets default signal dispositions and an empty mask, as a
 * command started from a shell has.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "abi/jsim.h"
#include "compare/compare.h"

struct cmp_exec {
    struct cmp_exec_setup s;
    joules_measurement *meas;
    joules_domain_info info[JOULES_MAX_DOMAINS];
    int n_info;
    void *dl;
    jsimReconfigure_fn reconfigure;
    jsimLastError_fn last_error;
    int current_scenario; /* command whose scenario is in force; -1 none */
    int not_found;        /* a command could not be found */
};

/* Start argv (or sh -c shell), wait for its end. *status: 128 + N for signal N. 0, or -1
 * when it could not be started (err says why; *not_found for ENOENT). The window callbacks
 * run right before the fork and right after the exit is seen (before reaping). */
struct spawn_hooks {
    int (*before)(struct cmp_exec *x);
    void (*after)(struct cmp_exec *x);
};

static void child_exec(char **argv, const char *shell, int quiet, const struct util_drop *drop,
                       int fd)
{
    /* Async-signal-safe calls only: the parent has threads. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGINT, &dfl, NULL);
    sigaction(SIGTERM, &dfl, NULL);
    sigaction(SIGHUP, &dfl, NULL);
    sigaction(SIGCHLD, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int nul = open("/dev/null", O_RDWR);
    if (nul >= 0) {
        dup2(nul, 0);
        if (quiet) {
            dup2(nul, 1);
            dup2(nul, 2);
        }
        if (nul > 2)
            close(nul);
    }
    int de = util_drop_apply(drop);
    if (de != 0) { /* never the command as root when the user asked for no such thing */
        util_drop_report("compare", de);
        _exit(126);
    }
    if (shell)
        execl("/bin/sh", "sh", "-c", shell, (char *)NULL);
    else
        execvp(argv[0], argv);
    int e = errno;
    ssize_t w = write(fd, &e, sizeof e);
    (void)w;
    _exit(e == ENOENT || e == ENOTDIR ? 127 : 126);
}

static int spawn_wait(struct cmp_exec *x, char **argv, const char *shell, int quiet,
                      const struct spawn_hooks *h, int *status, int *not_found, char *err,
                      size_t len)
{
    int fds[2];
    *not_found = 0;
    if (pipe(fds) != 0) {
        snprintf(err, len, "cannot start a command: %s", strerror(errno));
        return -1;
    }
    (void)fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    (void)fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    if (h && h->before && h->before(x) != 0) {
        close(fds[0]);
        close(fds[1]);
        snprintf(err, len, "the measurement could not begin: %s", joules_last_error(x->s.m));
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, len, "cannot start a command: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        if (h && h->after)
            h->after(x);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        child_exec(argv, shell, quiet, x->s.drop, fds[1]);
    }
    close(fds[1]);
    int e = 0;
    ssize_t n;
    do
        n = read(fds[0], &e, sizeof e);
    while (n < 0 && errno == EINTR);
    close(fds[0]);
    int forwarded = 0;
    siginfo_t si;
    for (;;) {
        memset(&si, 0, sizeof si);
        if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == 0 || errno != EINTR)
            break;
        if (x->s.stop && *x->s.stop && !forwarded) {
            kill(pid, (int)*x->s.stop);
            forwarded = 1;
        }
    }
    if (h && h->after)
        h->after(x);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    *status = WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (n == (ssize_t)sizeof e) {
        *not_found = e == ENOENT || e == ENOTDIR;
        snprintf(err, len, "cannot run '%s': %s%s", argv ? argv[0] : "/bin/sh", strerror(e),
                 *not_found && argv && !strchr(argv[0], '/') ? " (not found in PATH)" : "");
        return -1;
    }
    return 0;
}

/* A shell command that must succeed (--setup, --prepare). */
static int run_shell(struct cmp_exec *x, const char *what, const char *cmd, char *err, size_t len)
{
    int status, nf;
    if (spawn_wait(x, NULL, cmd, !x->s.show_output, NULL, &status, &nf, err, len) != 0)
        return -1;
    if (status != 0) {
        snprintf(err, len, "%s '%s' failed (exit status %d)", what, cmd, status);
        return -1;
    }
    return 0;
}

static int window_begin(struct cmp_exec *x)
{
    return joules_window_begin(x->s.m, "compare");
}

static void window_end(struct cmp_exec *x)
{
    if (joules_window_end(x->s.m, "compare", x->meas) != 0)
        x->meas->n_domains = -1; /* the failure is read back by the caller */
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int apply_scenario(struct cmp_exec *x, int k, char *err, size_t len)
{
    const char *text = x->s.cmds[k].scenario_text;
    if (!text || x->current_scenario == k)
        return 0;
    if (!x->reconfigure) {
        snprintf(err, len, "a scenario per command needs the simulated GPU (--sim)");
        return -1;
    }
    if (x->reconfigure(text, 0) != NVML_SUCCESS) {
        char msg[512] = "";
        if (x->last_error)
            x->last_error(msg, sizeof msg);
        snprintf(err, len, "the scenario of %s was refused by the simulated GPU: %s",
                 x->s.cmds[k].name, msg);
        return -1;
    }
    x->current_scenario = k;
    sleep_s(x->s.scenario_settle_s > 0 ? x->s.scenario_settle_s : 0.3);
    return 0;
}

static void fill_run(struct cmp_exec *x, struct cmp_run *rec)
{
    const joules_measurement *m = x->meas;
    rec->time_s = m->duration_s;
    rec->energy_valid = 1;
    double truth = 0, base = 0;
    int any = 0, truth_ok = 1, base_ok = x->s.baseline_power_w != NULL;
    for (int i = 0; i < m->n_domains; i++) {
        const joules_domain_energy *e = &m->domains[i];
        if (e->domain < 0 || e->domain >= x->n_info || !x->info[e->domain].counted_in_total)
            continue;
        any = 1;
        if (!e->valid) {
            rec->energy_valid = 0;
            snprintf(rec->note, sizeof rec->note, "%.40s: %.200s", x->info[e->domain].name,
                     e->message);
            continue;
        }
        if (e->simulated && e->sim_truth_j >= 0)
            truth += e->sim_truth_j;
        else
            truth_ok = 0;
        double pw = base_ok ? x->s.baseline_power_w[e->domain] : NAN;
        if (isfinite(pw))
            base += pw * m->duration_s;
        else
            base_ok = 0;
    }
    if (!any) {
        rec->energy_valid = 0;
        snprintf(rec->note, sizeof rec->note, "no domain is counted in the total");
    }
    rec->energy_j = m->total_energy_j;
    rec->uncertainty_j = m->total_uncertainty_j;
    rec->sim_truth_j = any && truth_ok ? truth : -1;
    rec->dynamic_j = rec->energy_valid && base_ok ? rec->energy_j - base : NAN;
}

static int exec_run(void *ctx, int k, int measured, struct cmp_run *rec, char *err, size_t len)
{
    struct cmp_exec *x = ctx;
    const struct cmp_command *c = &x->s.cmds[k];
    if (x->s.prepare && run_shell(x, "--prepare", x->s.prepare, err, len) != 0)
        return -1;
    if (apply_scenario(x, k, err, len) != 0)
        return -1;
    static const struct spawn_hooks window = {window_begin, window_end};
    int status = 0, not_found = 0;
    x->meas->n_domains = 0;
    int rc = spawn_wait(x, c->argv, c->argv ? NULL : c->shell, !x->s.show_output,
                        measured ? &window : NULL, &status, &not_found, err, len);
    if (rc != 0) {
        x->not_found = not_found;
        return -1;
    }
    /* sh -c says 127 when it cannot find the command: it never did the work. */
    if (!c->argv && status == 127) {
        snprintf(err, len, "%s: the shell could not find the command '%s' (exit status 127)",
                 c->name, c->shell);
        x->not_found = 1;
        return -1;
    }
    rec->exit_status = status;
    if (!measured)
        return 0;
    if (x->meas->n_domains < 0) {
        snprintf(err, len, "the measurement of %s failed: %s", c->name, joules_last_error(x->s.m));
        return -1;
    }
    fill_run(x, rec);
    return 0;
}

static int exec_setup(void *ctx, char *err, size_t len)
{
    struct cmp_exec *x = ctx;
    return x->s.setup ? run_shell(x, "--setup", x->s.setup, err, len) : 0;
}

const struct cmp_runner_ops cmp_exec_ops = {exec_run, exec_setup};

int cmp_exec_open(struct cmp_exec **out, const struct cmp_exec_setup *s, char *err, size_t len)
{
    *out = NULL;
    struct cmp_exec *x = calloc(1, sizeof *x);
    if (!x) {
        snprintf(err, len, "out of memory");
        return -1;
    }
    x->s = *s;
    x->current_scenario = -1;
    x->n_info = joules_domain_count(s->m);
    if (x->n_info > JOULES_MAX_DOMAINS)
        x->n_info = JOULES_MAX_DOMAINS;
    for (int i = 0; i < x->n_info; i++)
        joules_domain_info_get(s->m, i, &x->info[i]);
    if (joules_measurement_alloc(s->m, &x->meas) != 0) {
        snprintf(err, len, "%s", joules_last_error(s->m));
        free(x);
        return -1;
    }
    int scenarios = 0;
    for (int k = 0; k < s->n_cmds; k++)
        scenarios |= s->cmds[k].scenario_text != NULL;
    if (scenarios) {
        /* RTLD_NOLOAD: the very model the monitor reads, not a second copy. */
        x->dl = s->sim_library ? dlopen(s->sim_library, RTLD_NOW | RTLD_NOLOAD) : NULL;
        if (x->dl) {
            x->reconfigure = (jsimReconfigure_fn)dlsym(x->dl, JSIM_SYMBOL_RECONFIGURE);
            x->last_error = (jsimLastError_fn)dlsym(x->dl, JSIM_SYMBOL_LAST_ERROR);
        }
        if (!x->reconfigure) {
            snprintf(err, len, "a scenario per command needs the simulated GPU (--sim)%s%s",
                     s->sim_library ? ": cannot reach it in " : "",
                     s->sim_library ? s->sim_library : "");
            cmp_exec_close(x);
            return -1;
        }
    }
    *out = x;
    return 0;
}

void cmp_exec_close(struct cmp_exec *x)
{
    if (!x)
        return;
    if (x->dl)
        dlclose(x->dl);
    joules_measurement_free(x->meas);
    free(x);
}

void cmp_exec_energy_source(const struct cmp_exec *x, char *buf, size_t len)
{
    size_t used = 0;
    if (len)
        buf[0] = '\0';
    for (int i = 0; i < x->n_info; i++) {
        if (!x->info[i].counted_in_total)
            continue;
        int w = snprintf(buf + used, len - used, "%s%s (%s%s)", used ? " + " : "", x->info[i].name,
                         joules_method_name(x->info[i].method),
                         x->info[i].simulated ? ", SIMULATED" : "");
        if (w < 0 || (size_t)w >= len - used)
            break;
        used += (size_t)w;
    }
}

int cmp_exec_not_found(const struct cmp_exec *x)
{
    return x->not_found;
}

int cmp_exec_has_dynamic(const struct cmp_exec *x)
{
    if (!x->s.baseline_power_w)
        return 0;
    int any = 0;
    for (int i = 0; i < x->n_info; i++)
        if (x->info[i].counted_in_total) {
            if (!isfinite(x->s.baseline_power_w[i]))
                return 0;
            any = 1;
        }
    return any;
}

char *cmp_command_text(const struct cmp_command *c)
{
    size_t len = 1;
    if (c->argv)
        for (char **a = c->argv; *a; a++)
            len += strlen(*a) + 1;
    else
        len += strlen(c->shell);
    char *t = calloc(1, len);
    if (!t)
        return NULL;
    if (!c->argv) {
        memcpy(t, c->shell, len - 1);
        return t;
    }
    size_t at = 0; /* len counts every word, a space after each and the NUL */
    for (char **a = c->argv; *a; a++) {
        if (a != c->argv)
            t[at++] = ' ';
        size_t n = strlen(*a);
        memcpy(t + at, *a, n);
        at += n;
    }
    t[at] = '\0';
    return t;
}

char *cmp_scenario_text(const char *path, const char *profile, char *err, size_t len)
{
    char *t = NULL;
    size_t n = 0;
    if (path) {
        FILE *f = fopen(path, "r");
        if (!f) {
            snprintf(err, len, "cannot read the scenario %s: %s", path, strerror(errno));
            return NULL;
        }
        size_t cap = 4096, got;
        t = malloc(cap);
        while (t && (got = fread(t + n, 1, cap - n - 1, f)) > 0) {
            n += got;
            if (n + 1 < cap)
                continue;
            char *bigger = cap < (1u << 22) ? realloc(t, 2 * cap) : NULL;
            if (!bigger)
                free(t);
            t = bigger;
            cap *= 2;
        }
        fclose(f);
    } else
        t = malloc(1);
    if (!t) {
        snprintf(err, len, "%s: out of memory or larger than 4 MiB", path ? path : "scenario");
        return NULL;
    }
    t[n] = '\0';
    /* --sim PROFILE names the GPU when the scenario does not (a directive appears once). */
    int has_profile = strncmp(t, "profile", 7) == 0 || strstr(t, "\nprofile") != NULL;
    if (profile && !has_profile) {
        size_t l = n + strlen(profile) + 16;
        char *u = malloc(l);
        if (!u) {
            free(t);
            snprintf(err, len, "out of memory");
            return NULL;
        }
        snprintf(u, l, "profile %s\n%s", profile, t);
        free(t);
        t = u;
    }
    return t;
}
