/* SPDX-License-Identifier: MIT */
/*
 * ab_exec_sim.c - the simulated GPU as an executor. It reaches the very library the monitor
 * loaded (dlopen RTLD_NOLOAD: the same model, the same device, the same clocks) and runs the
 * product through its extension entry points (src/abi/jsim.h): jsimRunKernel with the FLOP
 * count and memory traffic of C = A.B and an activity alpha computed from the bit-toggle rate
 * (jsimToggleRate, jsimAlphaFromToggle) of the operands actually generated. The simulator
 * computes no values, so nothing is checked; energy comes from the monitor's NVML backend,
 * exactly as for a real GPU.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ab/ab.h"
#include "ab/ab_sim.h"
#include "util/util.h"

/* The toggle rate is taken on stretches of the generated operands: all of them up to this
 * many elements, else SAMPLE_RUNS stretches of SAMPLE_LEN consecutive elements at seeded
 * offsets (consecutive, because the rate is between consecutive operands). */
#define SAMPLE_RUNS 16
#define SAMPLE_LEN  65536

typedef nvmlReturn_t (*handle_fn)(unsigned int, nvmlDevice_t *);
typedef nvmlReturn_t (*uuid_fn)(nvmlDevice_t, char *, unsigned int);

struct ab_exec {
    void *dl;
    nvmlDevice_t dev;
    jsimRunKernel_fn run_kernel;
    jsimToggleRate_fn toggle;
    jsimAlphaFromToggle_fn alpha_of;
    jsimLastError_fn last_error;
    struct ab_setup s;
    double alpha[AB_MAX_ARMS];
    int64_t end_ns; /* when the last kernel ended; 0 before the first */
};

int ab_sim_device(void *dl, const struct ab_setup *s, nvmlDevice_t *out, char *err, size_t len)
{
    handle_fn handle = (handle_fn)dlsym(dl, "nvmlDeviceGetHandleByIndex_v2");
    uuid_fn uuid = (uuid_fn)dlsym(dl, "nvmlDeviceGetUUID");
    joules_domain_info di;
    if (!handle || !uuid || joules_domain_info_get(s->m, s->gpu_domain, &di) != 0) {
        snprintf(err, len, "the simulated GPU library lacks the NVML device entry points");
        return -1;
    }
    for (unsigned i = 0; i < 16; i++) {
        nvmlDevice_t d;
        char u[96] = "";
        if (handle(i, &d) != NVML_SUCCESS)
            break;
        if (uuid(d, u, sizeof u) == NVML_SUCCESS && strcmp(u, di.uuid) == 0) {
            *out = d;
            return 0;
        }
    }
    snprintf(err, len, "the simulated GPU %s (%s) is not among the devices of %s", di.name, di.uuid,
             s->sim_library);
    return -1;
}

static void sim_close(struct ab_exec *x)
{
    if (!x)
        return;
    if (x->dl)
        dlclose(x->dl);
    free(x);
}

static int sim_open(struct ab_exec **out, const struct ab_setup *s, char *err, size_t len)
{
    *out = NULL;
    if (!s->sim_library || s->gpu_domain < 0) {
        snprintf(err, len, "the sim executor needs the simulated GPU (--sim)");
        return -1;
    }
    struct ab_exec *x = calloc(1, sizeof *x);
    if (!x) {
        snprintf(err, len, "out of memory");
        return -1;
    }
    x->s = *s;
    /* RTLD_NOLOAD: only the copy the monitor already loaded (its model is the one measured). */
    x->dl = dlopen(s->sim_library, RTLD_NOW | RTLD_NOLOAD);
    if (!x->dl) {
        snprintf(err, len, "the simulated GPU library %s is not loaded by the monitor",
                 s->sim_library);
        sim_close(x);
        return -1;
    }
    x->run_kernel = (jsimRunKernel_fn)dlsym(x->dl, JSIM_SYMBOL_RUN_KERNEL);
    x->toggle = (jsimToggleRate_fn)dlsym(x->dl, JSIM_SYMBOL_TOGGLE_RATE);
    x->alpha_of = (jsimAlphaFromToggle_fn)dlsym(x->dl, JSIM_SYMBOL_ALPHA_FROM_TOGGLE);
    x->last_error = (jsimLastError_fn)dlsym(x->dl, JSIM_SYMBOL_LAST_ERROR);
    if (!x->run_kernel || !x->toggle || !x->alpha_of || !x->last_error) {
        snprintf(err, len, "%s lacks the kernel entry points (jsimRunKernel): an older simulator?",
                 s->sim_library);
        sim_close(x);
        return -1;
    }
    if (ab_sim_device(x->dl, &x->s, &x->dev, err, len) != 0) {
        sim_close(x);
        return -1;
    }
    *out = x;
    return 0;
}

/* Toggle rate of one operand over the sample; fp64 data is generated as double. */
static int operand_toggle(struct ab_exec *x, int arm, int which, double *rate)
{
    size_t total = (size_t)x->s.n * (size_t)x->s.n;
    int runs = total <= (size_t)SAMPLE_RUNS * SAMPLE_LEN ? 1 : SAMPLE_RUNS;
    size_t len = runs == 1 ? total : SAMPLE_LEN;
    int fp64 = x->s.prec == AB_FP64;
    void *buf = malloc(len * (fp64 ? sizeof(double) : sizeof(float)));
    if (!buf)
        return -1;
    uint64_t st = x->s.seed * 0x9E3779B97F4A7C15ull + (uint64_t)which + 1;
    double sum = 0;
    for (int r = 0; r < runs; r++) {
        st = st * 6364136223846793005ull + 1442695040888963407ull;
        size_t first = runs == 1 ? 0 : (size_t)(st >> 20) % (total - len + 1);
        if (fp64)
            ab_fill_f64(buf, len, arm, x->s.seed, which, first);
        else
            ab_fill_f32(buf, len, arm, x->s.seed, which, first);
        double t = 0;
        if (x->toggle(buf, len, x->s.prec, &t) != NVML_SUCCESS) {
            free(buf);
            return -1;
        }
        sum += t;
    }
    free(buf);
    *rate = sum / runs;
    return 0;
}

static int sim_load(struct ab_exec *x, int slot, int arm, struct ab_arm_info *info, char *err,
                    size_t len)
{
    double ta, tb, a;
    if (operand_toggle(x, arm, 0, &ta) != 0 || operand_toggle(x, arm, 1, &tb) != 0) {
        snprintf(err, len, "cannot compute the toggle rate of the inputs (memory?)");
        return -1;
    }
    info->toggle = 0.5 * (ta + tb);
    nvmlReturn_t rc = x->alpha_of(x->dev, info->toggle, &a);
    if (rc != NVML_SUCCESS) {
        snprintf(err, len, "jsimAlphaFromToggle failed (NVML error %d)", (int)rc);
        return -1;
    }
    info->alpha = a;
    x->alpha[slot] = a;
    return 0;
}

static int sim_run(struct ab_exec *x, int slot, int reps, int *done, char *err, size_t len)
{
    double n = x->s.n;
    /* The products of a window run as one kernel: back-to-back launches on a real GPU queue
     * without a gap, and so does one long kernel here (no idle step between them). Traffic:
     * A and B read and C written once per product (a tiled GEMM at this size is compute
     * bound; the traffic only adds its small memory energy). */
    jsimKernel k = {.version = JSIM_STRUCT_VERSION(jsimKernel),
                    .precision = x->s.prec,
                    .flops = 2.0 * n * n * n * reps,
                    .bytes = 3.0 * n * n * (double)ab_prec_bytes(x->s.prec) * reps,
                    .alpha = x->alpha[slot],
                    .toggle = 0,
                    .efficiency = x->s.sim_efficiency};
    jsimKernelResult r = {.version = JSIM_STRUCT_VERSION(jsimKernelResult)};
    *done = 0;
    int64_t t0 = util_now_ns();
    nvmlReturn_t rc = x->run_kernel(x->dev, &k, &r);
    if (rc != NVML_SUCCESS) {
        char msg[256] = "";
        x->last_error(msg, sizeof msg);
        snprintf(err, len, "the simulated kernel failed (NVML error %d%s%s)", (int)rc,
                 msg[0] ? ": " : "", msg);
        return -1;
    }
    /* The model starts the kernel at its last 1 ms step, at most a step before the call: it
     * ended at most a step before this. What passes after it, until the window's edge is
     * read (a host slow to wake the thread), is idle time the procedure counts as a gap. */
    x->end_ns = t0 + (int64_t)(r.time_s * 1e9);
    *done = reps;
    return 0;
}

static int64_t sim_last_end_ns(struct ab_exec *x)
{
    return x->end_ns;
}

static int sim_check(struct ab_exec *x, int slot, struct ab_check *c, char *err, size_t len)
{
    (void)x, (void)slot, (void)err, (void)len;
    memset(c, 0, sizeof *c);
    snprintf(c->note, sizeof c->note, "not checked: the simulated GPU computes no values");
    return 0;
}

const struct ab_exec_ops ab_exec_sim_ops = {
    .name = "sim",
    .open = sim_open,
    .load = sim_load,
    .run = sim_run,
    .last_end_ns = sim_last_end_ns,
    .check = sim_check,
    .close = sim_close,
};
