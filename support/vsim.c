/* SPDX-License-Identifier: MIT */
/* vsim.c - the simulated GPU in virtual time, driving a monitor (vsim.h). */
#define _GNU_SOURCE
#include "vsim.h"
#include "support.h"

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "abi/jsim.h"

typedef nvmlReturn_t (*init_fn)(void);
typedef nvmlReturn_t (*handle_fn)(unsigned, nvmlDevice_t *);
typedef nvmlReturn_t (*energy_fn)(nvmlDevice_t, unsigned long long *);
typedef nvmlReturn_t (*usage_fn)(nvmlDevice_t, unsigned int *);

static jsimNow_fn now_fn;
static jsimAdvance_fn advance_fn;
static jsimReconfigure_fn reconfigure_fn;
static jsimGetTrueEnergy_fn truth_fn;
static jsimLaunchKernel_fn launch_fn;
static jsimGetState_fn state_fn;
static jsimGetModel_fn model_fn;
static struct vsim *active; /* the one the core's sleeps advance */
static energy_fn energy;
static usage_fn usage;
static handle_fn handle;

void *vsim_sym(void *dl, const char *name, const char *who)
{
    void *p = dlsym(dl, name);
    if (!p) {
        fprintf(stderr, "%s: the simulator lacks %s\n", who, name);
        exit(1);
    }
    return p;
}

static void *sym(void *dl, const char *name)
{
    return vsim_sym(dl, name, "vsim");
}

void vsim_load(struct vsim *v)
{
    printf("(every figure below is SIMULATED: the simulated GPU, in virtual time)\n");
    t_sim_fixture_env(); /* virtual time needs a model of the process's own */
    v->dl = dlopen(JOULES_TEST_SIM_LIB, RTLD_NOW);
    if (!v->dl) {
        fprintf(stderr, "vsim: %s\n", dlerror());
        exit(1);
    }
    /* Held initialised throughout, so that it may be reconfigured between monitors. */
    if (((init_fn)sym(v->dl, "nvmlInit_v2"))() != NVML_SUCCESS) {
        fprintf(stderr, "vsim: the simulator did not initialise\n");
        exit(1);
    }
    now_fn = (jsimNow_fn)sym(v->dl, JSIM_SYMBOL_NOW);
    advance_fn = (jsimAdvance_fn)sym(v->dl, JSIM_SYMBOL_ADVANCE);
    reconfigure_fn = (jsimReconfigure_fn)sym(v->dl, JSIM_SYMBOL_RECONFIGURE);
    truth_fn = (jsimGetTrueEnergy_fn)sym(v->dl, JSIM_SYMBOL_GET_TRUE_ENERGY);
    launch_fn = (jsimLaunchKernel_fn)sym(v->dl, JSIM_SYMBOL_LAUNCH_KERNEL);
    state_fn = (jsimGetState_fn)sym(v->dl, JSIM_SYMBOL_GET_STATE);
    model_fn = (jsimGetModel_fn)sym(v->dl, JSIM_SYMBOL_GET_MODEL);
    energy = (energy_fn)sym(v->dl, "nvmlDeviceGetTotalEnergyConsumption");
    usage = (usage_fn)sym(v->dl, "nvmlDeviceGetPowerUsage");
    handle = (handle_fn)sym(v->dl, "nvmlDeviceGetHandleByIndex_v2");
}

int64_t vsim_now_ns(void)
{
    long long t = 0;
    now_fn(&t);
    return (int64_t)t;
}

static void tick(struct vsim *v)
{
    advance_fn(0.001);
    joules__drive(v->m);
    if (v->on_tick)
        v->on_tick(v, v->user);
}

void vsim_stall(int64_t ns)
{
    int64_t until = vsim_now_ns() + ns;
    while (vsim_now_ns() < until)
        advance_fn(0.001);
}

void vsim_run_until(struct vsim *v, int64_t t_ns)
{
    while (vsim_now_ns() < t_ns)
        tick(v);
}

int vsim_busy_tick(void *vsim)
{
    tick(vsim);
    return 0;
}

/* The core's sleeps (joules_repeat's phase shifts) on the virtual clock. */
static void sleep_until(int64_t t_ns)
{
    if (active)
        vsim_run_until(active, t_ns);
}

int vsim_kernel(struct vsim *v, double flops, double alpha)
{
    jsimKernel k;
    memset(&k, 0, sizeof k);
    k.version = JSIM_STRUCT_VERSION(jsimKernel);
    k.precision = JSIM_PREC_FP32;
    k.flops = flops;
    k.alpha = alpha;
    if (launch_fn(v->dev, &k) != NVML_SUCCESS)
        return -1;
    jsimState st;
    int64_t give_up = vsim_now_ns() + 100000000000LL; /* 100 s: no kernel here is that long */
    do {
        tick(v);
        memset(&st, 0, sizeof st);
        st.version = JSIM_STRUCT_VERSION(jsimState);
        if (state_fn(v->dev, &st) != NVML_SUCCESS || st.lost || vsim_now_ns() > give_up)
            return -1;
    } while (st.kernel_active);
    return 0;
}

void vsim_open(struct vsim *v, const char *scenario_text, double warmup_s)
{
    if (reconfigure_fn(scenario_text, JSIM_FLAG_VIRTUAL_TIME) != NVML_SUCCESS) {
        fprintf(stderr, "vsim: the simulator refused the scenario:\n%s", scenario_text);
        exit(1);
    }
    handle(0, &v->dev);
    joules__set_clock(vsim_now_ns);
    joules__set_sleep(sleep_until);
    active = v;
    joules_options o;
    joules_options_init(&o);
    o.nvml_library = JOULES_TEST_SIM_LIB;
    o.kinds = JOULES_KIND_GPU;
    char err[256] = "";
    if (joules_open(&v->m, &o, err, sizeof err) != 0) {
        fprintf(stderr, "vsim: cannot open the simulated GPU: %s\n", err);
        exit(1);
    }
    v->start_ns = vsim_now_ns();
    vsim_run_until(v, v->start_ns + (int64_t)(warmup_s * 1e9));
}

void vsim_close(struct vsim *v)
{
    joules_close(v->m);
    v->m = NULL;
    joules__set_clock(NULL);
    joules__set_sleep(NULL);
    active = NULL;
}

unsigned long long vsim_counter_mj(struct vsim *v)
{
    unsigned long long mj = 0;
    energy(v->dev, &mj);
    return mj;
}

double vsim_power_usage_w(struct vsim *v)
{
    unsigned mw = 0;
    return usage(v->dev, &mw) == NVML_SUCCESS ? mw * 1e-3 : -1.0;
}

int64_t vsim_next_step(struct vsim *v)
{
    unsigned long long c = vsim_counter_mj(v);
    while (vsim_counter_mj(v) == c)
        vsim_run_until(v, vsim_now_ns() + 1000000LL);
    return vsim_now_ns();
}

int vsim_sensor_window_ms(struct vsim *v)
{
    jsimModel md;
    memset(&md, 0, sizeof md);
    md.version = JSIM_STRUCT_VERSION(jsimModel);
    if (model_fn(v->dev, &md) != NVML_SUCCESS) {
        fprintf(stderr, "vsim: the simulator gave no model\n");
        exit(1);
    }
    return (int)lround(md.sensor_window_s * 1e3);
}

double vsim_truth_j(struct vsim *v, int64_t t0_ns, int64_t t1_ns)
{
    double e0 = 0, e1 = 0;
    truth_fn(v->dev, (long long)t0_ns, &e0);
    truth_fn(v->dev, (long long)t1_ns, &e1);
    return e1 - e0;
}
