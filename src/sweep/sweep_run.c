/* SPDX-License-Identifier: MIT */
/*
 * sweep_run.c - the procedure of `joules sweep` (docs/sweep.md). For each step: apply the
 * setting (locked graphics clock or power limit; the first one before anything runs, so a
 * refusal costs nothing), then per arm: warm-up products until --warmup has passed (clock
 * ramp, the new setting taking hold), lead-in products, one window of at least --min-window
 * ended with joules_window_end_busy (the load runs across both edges, as in joules ab), and
 * a cooldown pause after the step. A command workload runs once per step inside a window,
 * with JOULES_SWEEP_STEP set for it. A sampler (joules_sampler) gives the clock held, the
 * temperature and the clock-event reasons; on the simulated GPU also the true static power
 * and activity (jsimGetState) for validating the fit. Restoring the settings is the
 * caller's job, on every path.
 */
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ab/ab_sim.h"
#include "sweep/sweep.h"
#include "util/util.h"

#define LEAD_IN_S    0.1 /* one counter update period of the same load before each window */
#define MAX_PRODUCTS 1000000
#define WINDOW_NAME  "sweep"

/* The simulated GPU's truth, reached in the library the monitor loaded. */
struct simx {
    void *dl;
    nvmlDevice_t dev;
    jsimGetState_fn state;
    jsimVoltageAt_fn volt;
};

struct acc {
    pthread_mutex_t lock;
    int active, domain;
    struct simx *sx;
    double clk_sum, temp_sum, tmin, tmax, limit;
    int n;
    unsigned long long reasons;
    double static_sum, alpha_sum;
    int n_truth;
};

static int stopped(const struct sweep_params *p)
{
    return ab_stopped(&p->setup);
}

/* Sleep s seconds in short slices, returning early on a stop request. */
static void pause_s(const struct sweep_params *p, double s)
{
    int64_t end = util_now_ns() + (int64_t)(s * 1e9);
    while (!stopped(p) && util_now_ns() < end) {
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
    }
}

static void on_samples(const joules_power_sample *s, int n, void *user)
{
    struct acc *a = user;
    pthread_mutex_lock(&a->lock);
    for (int i = 0; a->active && i < n; i++) {
        if (s[i].domain != a->domain || !s[i].valid || s[i].clock_sm_mhz < 0)
            continue;
        a->clk_sum += s[i].clock_sm_mhz;
        a->temp_sum += s[i].temperature_c;
        a->tmin = fmin(a->tmin, s[i].temperature_c);
        a->tmax = fmax(a->tmax, s[i].temperature_c);
        a->reasons |= s[i].clock_event_reasons;
        if (s[i].power_limit_w > 0)
            a->limit = s[i].power_limit_w;
        a->n++;
    }
    if (a->active && a->sx && a->sx->state) {
        jsimState st;
        st.version = JSIM_STRUCT_VERSION(jsimState);
        if (a->sx->state(a->sx->dev, &st) == NVML_SUCCESS && st.kernel_active) {
            a->static_sum += st.p_board_w + st.p_mem_w + st.p_leak_w;
            a->alpha_sum += st.alpha;
            a->n_truth++;
        }
    }
    pthread_mutex_unlock(&a->lock);
}

static void acc_begin(struct acc *a)
{
    pthread_mutex_lock(&a->lock);
    a->active = 1;
    a->clk_sum = a->temp_sum = a->static_sum = a->alpha_sum = 0;
    a->tmin = INFINITY, a->tmax = -INFINITY, a->limit = NAN;
    a->n = a->n_truth = 0;
    a->reasons = 0;
    pthread_mutex_unlock(&a->lock);
}

static void acc_end(struct acc *a, struct sweep_point *pt)
{
    pthread_mutex_lock(&a->lock);
    a->active = 0;
    pt->clock_mhz = a->n ? a->clk_sum / a->n : NAN;
    pt->temperature_c = a->n ? a->temp_sum / a->n : NAN;
    pt->temp_min_c = a->n ? a->tmin : NAN;
    pt->temp_max_c = a->n ? a->tmax : NAN;
    pt->reasons = a->reasons;
    pt->power_limit_w = a->limit;
    pt->true_static_w = a->n_truth ? a->static_sum / a->n_truth : NAN;
    pt->true_alpha = a->n_truth ? a->alpha_sum / a->n_truth : NAN;
    pthread_mutex_unlock(&a->lock);
}

static void sim_open(const struct sweep_params *p, struct simx *sx, struct sweep_result *r)
{
    memset(sx, 0, sizeof *sx);
    if (!p->setup.sim_library)
        return;
    sx->dl = dlopen(p->setup.sim_library, RTLD_NOW | RTLD_NOLOAD);
    if (!sx->dl)
        return;
    jsimGetModel_fn model = (jsimGetModel_fn)dlsym(sx->dl, JSIM_SYMBOL_GET_MODEL);
    char why[256];
    if (ab_sim_device(sx->dl, &p->setup, &sx->dev, why, sizeof why) != 0)
        return; /* no truth to compare with: the sweep itself does not need it */
    sx->state = (jsimGetState_fn)dlsym(sx->dl, JSIM_SYMBOL_GET_STATE);
    sx->volt = (jsimVoltageAt_fn)dlsym(sx->dl, JSIM_SYMBOL_VOLTAGE_AT);
    jsimModel jm;
    jm.version = JSIM_STRUCT_VERSION(jsimModel);
    if (model && model(sx->dev, &jm) == NVML_SUCCESS) {
        struct sweep_truth *t = &r->truth;
        t->have = 1;
        t->c_eff_f = jm.c_eff_f, t->alpha_idle = jm.alpha_idle, t->p_board_w = jm.p_board_w;
        t->p_mem_static_w = jm.p_mem_static_w, t->leak_ref_w = jm.leak_ref_w;
        t->leak_t_double_c = jm.leak_t_double_c, t->v_floor_v = jm.v_floor_v;
        t->f_ridge_mhz = jm.f_ridge_mhz, t->v_max_v = jm.v_max_v, t->clk_min_mhz = jm.clk_min_mhz;
        t->clk_max_mhz = jm.clk_max_mhz, t->clk_step_mhz = jm.clk_step_mhz, t->tdp_w = jm.tdp_w;
    }
    r->voltage_known = sx->volt != NULL;
}

static void sim_close(struct simx *sx)
{
    if (sx->dl)
        dlclose(sx->dl);
    sx->dl = NULL;
}

static int apply(const struct sweep_params *p, struct sweep_result *r, int step, char *err,
                 size_t len)
{
    double s = p->settings[step];
    int rc = p->mode == SWEEP_CLOCKS
                 ? joules_gpu_lock_clocks(p->setup.m, p->setup.gpu_domain, (unsigned)s, (unsigned)s)
                 : joules_gpu_set_power_limit(p->setup.m, p->setup.gpu_domain, s);
    if (rc != 0) {
        snprintf(err, len, "cannot %s %g %s: %s",
                 p->mode == SWEEP_CLOCKS ? "lock the graphics clock at" : "set the power limit to",
                 s, p->mode == SWEEP_CLOCKS ? "MHz" : "W", joules_last_error(p->setup.m));
        return rc;
    }
    r->changed = 1;
    return 0;
}

/* The window's energy on the GPU domain into pt (per run once runs is known). */
static void record(const struct sweep_params *p, const joules_measurement *m,
                   struct sweep_point *pt)
{
    pt->window_s = m->duration_s;
    pt->valid = 0;
    pt->sim_truth_j = -1;
    for (int i = 0; i < m->n_domains; i++) {
        const joules_domain_energy *de = &m->domains[i];
        if (de->domain != p->setup.gpu_domain)
            continue;
        if (!de->valid) {
            snprintf(pt->note, sizeof pt->note, "%s", de->message);
            continue;
        }
        pt->valid = 1;
        pt->window_j = de->energy_j;
        pt->uncertainty_j = de->uncertainty_j;
        if (de->simulated && de->sim_truth_j >= 0)
            pt->sim_truth_j = de->sim_truth_j;
    }
    int n = pt->runs > 0 ? pt->runs : 1;
    pt->time_s = pt->window_s / n;
    pt->energy_j = pt->valid ? pt->window_j / n : NAN;
    pt->uncertainty_j = pt->valid ? pt->uncertainty_j / n : NAN;
    pt->power_w = pt->valid && pt->window_s > 0 ? pt->window_j / pt->window_s : NAN;
    if (pt->sim_truth_j >= 0)
        pt->sim_truth_j /= n;
}

struct trail {
    const struct sweep_params *p;
    struct ab_exec *x;
    int slot;
    int64_t first_ns; /* when the first trailing product was called; 0: none yet */
};

static int trail_product(void *user)
{
    struct trail *t = user;
    if (!t->first_ns)
        t->first_ns = util_now_ns();
    char e[256];
    int done = 0;
    return stopped(t->p) || t->p->ops->run(t->x, t->slot, 1, &done, e, sizeof e) != 0 || done < 1;
}

/* When the GPU finished the last run: the executor's own time where it knows it. */
static int64_t device_done_ns(const struct sweep_params *p, struct ab_exec *x)
{
    int64_t now = util_now_ns();
    int64_t end = p->ops->last_end_ns ? p->ops->last_end_ns(x) : 0;
    return end > 0 && end < now ? end : now;
}

/* One arm at one step with the product workload. 0, 1 when stopped, -1 on error. */
static int product_step(const struct sweep_params *p, struct ab_exec *x, int slot, struct acc *a,
                        struct sweep_point *pt, char *err, size_t len)
{
    int done = 0;
    double t1 = NAN;
    int64_t until = util_now_ns() + (int64_t)(p->warmup_s * 1e9);
    do { /* warm-up: at least one product, timed */
        int64_t t0 = util_now_ns();
        if (p->ops->run(x, slot, 1, &done, err, len) != 0)
            return -1;
        if (done < 1)
            return 1;
        t1 = (util_now_ns() - t0) * 1e-9;
    } while (util_now_ns() < until && !stopped(p));
    if (stopped(p))
        return 1;
    double k = ceil(p->min_window_s / t1), lead = ceil(LEAD_IN_S / t1);
    pt->runs = k < 1 ? 1 : k > MAX_PRODUCTS ? MAX_PRODUCTS : (int)k;
    if (p->ops->run(x, slot,
                    lead < 1              ? 1
                    : lead > MAX_PRODUCTS ? MAX_PRODUCTS
                                          : (int)lead,
                    &done, err, len) != 0)
        return -1;
    int64_t lead_done_ns = device_done_ns(p, x);
    acc_begin(a);
    if (joules_window_begin(p->setup.m, WINDOW_NAME) != 0) {
        snprintf(err, len, "the measurement could not begin: %s", joules_last_error(p->setup.m));
        acc_end(a, pt);
        return -1;
    }
    int64_t begun_ns = util_now_ns();
    int rc = p->ops->run(x, slot, pt->runs, &done, err, len);
    int64_t done_ns = device_done_ns(p, x);
    if (rc != 0 || done < pt->runs) {
        joules_window_cancel(p->setup.m, WINDOW_NAME);
        acc_end(a, pt);
        return rc != 0 ? -1 : 1;
    }
    joules_measurement *m = NULL;
    struct trail tr = {p, x, slot, 0};
    rc = joules_measurement_alloc(p->setup.m, &m);
    if (rc == 0)
        rc = joules_window_end_busy(p->setup.m, WINDOW_NAME, m, trail_product, &tr);
    else
        joules_window_cancel(p->setup.m, WINDOW_NAME);
    acc_end(a, pt);
    if (rc != 0) {
        snprintf(err, len, "the measurement failed: %s", joules_last_error(p->setup.m));
        joules_measurement_free(m);
        return -1;
    }
    /* The GPU idled while the host ran between products at both edges (a loaded host holds
     * the thread back): the energy placed before an edge may move by the gap times the power,
     * and the window's mean power reads low by as much. */
    int64_t resumed_ns = tr.first_ns ? tr.first_ns : util_now_ns();
    double gap_s = (double)((begun_ns - lead_done_ns) + (resumed_ns - done_ns)) * 1e-9;
    record(p, m, pt);
    pt->host_gap_s = gap_s > 0 ? gap_s : 0.0;
    if (pt->valid && isfinite(pt->power_w))
        pt->uncertainty_j += pt->host_gap_s * pt->power_w / (pt->runs > 0 ? pt->runs : 1);
    joules_measurement_free(m);
    return 0;
}

/* The command once, inside a window. 0, 1 when stopped, -1 on error, -2 when it failed. */
static int command_step(const struct sweep_params *p, int step, struct acc *a,
                        struct sweep_point *pt, char *err, size_t len)
{
    char sv[32], setting[32];
    snprintf(sv, sizeof sv, "%d", step);
    snprintf(setting, sizeof setting, "%g", p->settings[step]);
    acc_begin(a);
    if (joules_window_begin(p->setup.m, WINDOW_NAME) != 0) {
        snprintf(err, len, "the measurement could not begin: %s", joules_last_error(p->setup.m));
        acc_end(a, pt);
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        joules_window_cancel(p->setup.m, WINDOW_NAME);
        acc_end(a, pt);
        snprintf(err, len, "cannot start the command: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        setenv("JOULES_SWEEP_STEP", sv, 1);
        setenv(p->mode == SWEEP_CLOCKS ? "JOULES_SWEEP_CLOCK_MHZ" : "JOULES_SWEEP_POWER_LIMIT_W",
               setting, 1);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        int de = util_drop_apply(p->drop);
        if (de != 0) { /* never the command as root when the user asked for no such thing */
            util_drop_report("sweep", de);
            _exit(126);
        }
        execvp(p->argv[0], p->argv);
        /* The child says why the command did not start: it is the command's process, and
         * this is the command's standard error. */
        fprintf(stderr, "joules sweep: cannot run %s: %s\n", p->argv[0], strerror(errno));
        _exit(127);
    }
    int status = 0, killed = 0;
    for (;;) { /* poll: the stop flag may be set on any thread */
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid || (w < 0 && errno != EINTR))
            break;
        if (stopped(p) && !killed) {
            kill(pid, SIGTERM);
            killed = 1;
        }
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    joules_measurement *m = NULL;
    int rc = joules_measurement_alloc(p->setup.m, &m);
    if (rc == 0)
        rc = joules_window_end(p->setup.m, WINDOW_NAME, m);
    else
        joules_window_cancel(p->setup.m, WINDOW_NAME);
    acc_end(a, pt);
    if (killed || rc != 0) {
        if (!killed)
            snprintf(err, len, "the measurement failed: %s", joules_last_error(p->setup.m));
        joules_measurement_free(m);
        return killed ? 1 : -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (WIFEXITED(status))
            snprintf(err, len, "the command failed at step %d (%s %s): exit status %d", step,
                     setting, p->mode == SWEEP_CLOCKS ? "MHz" : "W", WEXITSTATUS(status));
        else
            snprintf(err, len, "the command was killed by signal %d at step %d (%s %s)",
                     WTERMSIG(status), step, setting, p->mode == SWEEP_CLOCKS ? "MHz" : "W");
        joules_measurement_free(m);
        return -2;
    }
    pt->runs = 1;
    record(p, m, pt);
    joules_measurement_free(m);
    return 0;
}

static void progress(const struct sweep_params *p, enum sweep_phase phase, int step, int slot,
                     const struct sweep_point *pt)
{
    if (!p->progress)
        return;
    struct sweep_progress ev = {phase, step, p->n_steps, slot, pt};
    p->progress(&ev, p->progress_user);
}

static int sweep_steps(const struct sweep_params *p, struct sweep_result *r, struct ab_exec *x,
                       struct acc *a, struct simx *sx, char *err, size_t len)
{
    for (int step = 0; step < p->n_steps && !stopped(p); step++) {
        if (step > 0 && apply(p, r, step, err, len) != 0)
            return -1;
        int n = p->workload == SWEEP_WL_PRODUCT ? r->n_arms : 1;
        for (int j = 0; j < n; j++) {
            int slot = step % 2 == 0 ? j : n - 1 - j; /* alternate the order: drift hits all */
            struct sweep_point *pt = &r->pt[step][slot];
            memset(pt, 0, sizeof *pt);
            pt->setting = p->settings[step];
            int rc = p->workload == SWEEP_WL_PRODUCT ? product_step(p, x, slot, a, pt, err, len)
                                                     : command_step(p, step, a, pt, err, len);
            if (rc == 1) {
                r->interrupted = 1;
                return 0;
            }
            if (rc == -2)
                r->failed_step = step;
            if (rc != 0)
                return -1;
            pt->voltage_v = NAN;
            double v;
            if (sx->volt && isfinite(pt->clock_mhz) && sx->volt(sx->dev, pt->clock_mhz, &v) == 0)
                pt->voltage_v = v;
            progress(p, SWEEP_PHASE_POINT, step, slot, pt);
        }
        r->n_steps_done = step + 1;
        if (step + 1 < p->n_steps && p->cooldown_s > 0) {
            progress(p, SWEEP_PHASE_COOLDOWN, step, 0, NULL);
            pause_s(p, p->cooldown_s);
        }
    }
    if (stopped(p))
        r->interrupted = 1;
    return 0;
}

int sweep_run(const struct sweep_params *p, struct sweep_result *r, char *err, size_t len)
{
    memset(r, 0, sizeof *r);
    r->failed_step = -1;
    r->n_arms = p->workload == SWEEP_WL_PRODUCT ? p->n_arms : 1;
    memcpy(r->arms, p->arms, sizeof r->arms);
    r->flops = p->workload == SWEEP_WL_PRODUCT
                   ? 2.0 * (double)p->setup.n * (double)p->setup.n * (double)p->setup.n
                   : 0;
    joules_domain_info di;
    if (joules_domain_info_get(p->setup.m, p->setup.gpu_domain, &di) == 0) {
        r->simulated = di.simulated;
        snprintf(r->device, sizeof r->device, "%s", di.device);
        snprintf(r->energy_source, sizeof r->energy_source, "%s (%s)", di.name,
                 joules_method_name(di.method));
    }
    /* The first setting before anything runs: without privilege nothing is measured. */
    int refused = apply(p, r, 0, err, len);
    if (refused != 0) {
        r->refused = refused;
        return -1;
    }
    struct simx sx;
    sim_open(p, &sx, r);
    struct ab_exec *x = NULL;
    int rc = 0;
    if (p->workload == SWEEP_WL_PRODUCT) {
        if (p->ops->open(&x, &p->setup, err, len) != 0) {
            sim_close(&sx);
            return -1;
        }
        for (int k = 0; k < p->n_arms && rc == 0; k++) {
            r->info[k].toggle = r->info[k].alpha = -1;
            progress(p, SWEEP_PHASE_LOAD, 0, k, NULL);
            rc = p->ops->load(x, k, p->arms[k], &r->info[k], err, len);
        }
    }
    struct acc a;
    memset(&a, 0, sizeof a);
    pthread_mutex_init(&a.lock, NULL);
    a.domain = p->setup.gpu_domain;
    a.sx = sx.state ? &sx : NULL;
    joules_sampler *smp = NULL;
    if (rc == 0) {
        joules_sampler_options so;
        joules_sampler_options_init(&so);
        so.interval_ns = 50000000;
        so.kinds = JOULES_KIND_GPU;
        so.callback = on_samples;
        so.user = &a;
        /* The sampler's thread takes no signal (joules_sampler_start blocks them there): the
         * flag set on this thread stops the sweep. */
        if (joules_sampler_start(p->setup.m, &so, &smp) != 0) {
            snprintf(err, len, "cannot start the sampler: %s", joules_last_error(p->setup.m));
            rc = -1;
        }
    }
    if (rc == 0)
        rc = sweep_steps(p, r, x, &a, &sx, err, len);
    if (smp)
        joules_sampler_free(smp);
    pthread_mutex_destroy(&a.lock);
    if (x)
        p->ops->close(x);
    sim_close(&sx);
    if (stopped(p))
        r->interrupted = 1;
    return rc;
}
