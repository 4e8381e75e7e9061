/* SPDX-License-Identifier: MIT */
/*
 * ab_exec_cpu.c - a CPU BLAS as an executor: cblas_sgemm / cblas_dgemm from a library loaded
 * at run time (JOULES_BLAS_LIBRARY, else OpenBLAS, else the reference libblas.so.3 that
 * Debian's libblas3 ships with the CBLAS interface). No BLAS header at build time: the few
 * enums of the CBLAS interface are declared here (values from the CBLAS standard). fp32 and
 * fp64 only: CPUs have no tf32, and BLAS has no standard fp16/bf16 GEMM.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ab/ab.h"

enum { CBLAS_ROW_MAJOR = 101, CBLAS_NO_TRANS = 111 };

typedef void (*sgemm_fn)(int order, int ta, int tb, int m, int n, int k, float alpha,
                         const float *a, int lda, const float *b, int ldb, float beta, float *c,
                         int ldc);
typedef void (*dgemm_fn)(int order, int ta, int tb, int m, int n, int k, double alpha,
                         const double *a, int lda, const double *b, int ldb, double beta, double *c,
                         int ldc);

struct ab_exec {
    void *dl;
    char lib[256];
    sgemm_fn sgemm;
    dgemm_fn dgemm;
    struct ab_setup s;
    void *a[AB_MAX_ARMS], *b[AB_MAX_ARMS];
    int arm[AB_MAX_ARMS];
    void *c;
};

static void cpu_close(struct ab_exec *x)
{
    if (!x)
        return;
    for (int i = 0; i < AB_MAX_ARMS; i++) {
        free(x->a[i]);
        free(x->b[i]);
    }
    free(x->c);
    if (x->dl)
        dlclose(x->dl);
    free(x);
}

static int load_blas(struct ab_exec *x, char *err, size_t len)
{
    static const char *const names[] = {"libopenblas.so.0", "libopenblas.so", "libblas.so.3",
                                        "libcblas.so.3",    "libblis.so.4",   NULL};
    const char *env = getenv("JOULES_BLAS_LIBRARY");
    char tried[AB_ERR_MAX] = "";
    size_t used = 0;
    for (int i = env && *env ? -1 : 0; i < 0 || names[i]; i++) {
        const char *name = i < 0 ? env : names[i];
        void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            int w = snprintf(tried + used, sizeof tried - used, "%s%s", used ? ", " : "", name);
            if (w > 0 && (size_t)w < sizeof tried - used)
                used += (size_t)w;
        } else {
            sgemm_fn s = (sgemm_fn)dlsym(h, "cblas_sgemm");
            dgemm_fn d = (dgemm_fn)dlsym(h, "cblas_dgemm");
            if (s && d) {
                x->dl = h;
                x->sgemm = s;
                x->dgemm = d;
                snprintf(x->lib, sizeof x->lib, "%s", name);
                return 0;
            }
            dlclose(h);
            int w = snprintf(tried + used, sizeof tried - used, "%s%s (no cblas_sgemm)",
                             used ? ", " : "", name);
            if (w > 0 && (size_t)w < sizeof tried - used)
                used += (size_t)w;
        }
        if (i < 0) /* an explicit library is the only one tried */
            break;
    }
    snprintf(err, len,
             "no CPU BLAS with the CBLAS interface could be loaded (tried %s). Install one "
             "(apt-get install libopenblas0 or libblas3) or name it with JOULES_BLAS_LIBRARY",
             tried);
    return -1;
}

static int cpu_open(struct ab_exec **out, const struct ab_setup *s, char *err, size_t len)
{
    *out = NULL;
    if (s->prec != AB_FP32 && s->prec != AB_FP64) {
        snprintf(err, len,
                 "the cpu executor supports fp32 and fp64 only (%s needs a GPU: --executor "
                 "cuda or sim)",
                 ab_prec_name(s->prec));
        return -1;
    }
    struct ab_exec *x = calloc(1, sizeof *x);
    if (!x) {
        snprintf(err, len, "out of memory");
        return -1;
    }
    x->s = *s;
    if (load_blas(x, err, len) != 0) {
        cpu_close(x);
        return -1;
    }
    size_t bytes = (size_t)s->n * (size_t)s->n * ab_prec_bytes(s->prec);
    x->c = calloc(1, bytes);
    if (!x->c) {
        snprintf(err, len, "out of memory for C (%zu MiB)", bytes >> 20);
        cpu_close(x);
        return -1;
    }
    *out = x;
    return 0;
}

static int cpu_load(struct ab_exec *x, int slot, int arm, struct ab_arm_info *info, char *err,
                    size_t len)
{
    size_t count = (size_t)x->s.n * (size_t)x->s.n, bytes = count * ab_prec_bytes(x->s.prec);
    x->a[slot] = malloc(bytes);
    x->b[slot] = malloc(bytes);
    if (!x->a[slot] || !x->b[slot]) {
        snprintf(err, len, "out of memory for the inputs (2 x %zu MiB)", bytes >> 20);
        return -1;
    }
    if (x->s.prec == AB_FP64) {
        ab_fill_f64(x->a[slot], count, arm, x->s.seed, 0, 0);
        ab_fill_f64(x->b[slot], count, arm, x->s.seed, 1, 0);
    } else {
        ab_fill_f32(x->a[slot], count, arm, x->s.seed, 0, 0);
        ab_fill_f32(x->b[slot], count, arm, x->s.seed, 1, 0);
    }
    x->arm[slot] = arm;
    info->toggle = info->alpha = -1;
    return 0;
}

static int cpu_run(struct ab_exec *x, int slot, int reps, int *done, char *err, size_t len)
{
    (void)err, (void)len;
    int n = x->s.n;
    *done = 0;
    for (int r = 0; r < reps; r++) {
        if (x->s.stop && *x->s.stop)
            break;
        if (x->s.prec == AB_FP64)
            x->dgemm(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_NO_TRANS, n, n, n, 1.0, x->a[slot], n,
                     x->b[slot], n, 0.0, x->c, n);
        else
            x->sgemm(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_NO_TRANS, n, n, n, 1.0f, x->a[slot], n,
                     x->b[slot], n, 0.0f, x->c, n);
        (*done)++;
    }
    return 0;
}

static int cpu_check(struct ab_exec *x, int slot, struct ab_check *c, char *err, size_t len)
{
    int rows[AB_CHECK_SAMPLES], cols[AB_CHECK_SAMPLES];
    double v[AB_CHECK_SAMPLES];
    ab_check_indices(x->s.seed, x->s.n, AB_CHECK_SAMPLES, rows, cols);
    for (int s = 0; s < AB_CHECK_SAMPLES; s++) {
        size_t i = (size_t)rows[s] * (size_t)x->s.n + (size_t)cols[s];
        v[s] = x->s.prec == AB_FP64 ? ((const double *)x->c)[i] : ((const float *)x->c)[i];
    }
    if (ab_check_sampled(x->s.prec, x->s.n, x->arm[slot], x->s.seed, AB_CHECK_SAMPLES, rows, cols,
                         v, c) != 0) {
        snprintf(err, len, "out of memory for the correctness check");
        return -1;
    }
    snprintf(c->note, sizeof c->note, "%s", x->lib);
    return 0;
}

const struct ab_exec_ops ab_exec_cpu_ops = {
    .name = "cpu",
    .open = cpu_open,
    .load = cpu_load,
    .run = cpu_run,
    .check = cpu_check,
    .close = cpu_close,
};
