/* SPDX-License-Identifier: MIT */
/*
 * ab_exec_cuda.c - a real NVIDIA GPU as an executor: cublasGemmEx through libcudart and
 * libcublas loaded at run time. No CUDA header or SDK at build time: the few prototypes and
 * enum values below are declared from NVIDIA's public documentation (CUDA runtime API,
 * cuBLAS library guide; docs/ab.md says how they were checked). Matrices are row-major on the
 * host; cuBLAS is column-major, so C = A.B is computed as C^T = B^T.A^T (the operands swapped),
 * which gives C row-major.
 */
#include <ctype.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ab/ab.h"

/* cudaError_t values (CUDA runtime API, driver_types.h). */
enum {
    CUDA_SUCCESS_ = 0,
    CUDA_ERROR_MEMORY_ALLOCATION = 2,
    CUDA_ERROR_INSUFFICIENT_DRIVER = 35,
    CUDA_ERROR_NO_DEVICE = 100,
};
enum { CUDA_MEMCPY_HOST_TO_DEVICE = 1, CUDA_MEMCPY_DEVICE_TO_HOST = 2 };
/* cudaDataType_t (library_types.h). */
enum { CUDA_R_32F = 0, CUDA_R_64F = 1, CUDA_R_16F = 2, CUDA_R_16BF = 14 };
/* cublasComputeType_t, cublasOperation_t, cublasGemmAlgo_t (cublas_api.h). */
enum {
    CUBLAS_COMPUTE_32F = 68,
    CUBLAS_COMPUTE_64F = 70,
    CUBLAS_COMPUTE_32F_FAST_TF32 = 77,
};
enum { CUBLAS_OP_N = 0, CUBLAS_GEMM_DEFAULT = -1, CUBLAS_STATUS_SUCCESS = 0 };

typedef int (*cuda_count_fn)(int *);
typedef int (*cuda_set_fn)(int);
typedef int (*cuda_malloc_fn)(void **, size_t);
typedef int (*cuda_free_fn)(void *);
typedef int (*cuda_memcpy_fn)(void *, const void *, size_t, int);
typedef int (*cuda_sync_fn)(void);
typedef const char *(*cuda_errstr_fn)(int);
typedef int (*cuda_busid_fn)(char *, int, int);
typedef int (*cublas_create_fn)(void **);
typedef int (*cublas_destroy_fn)(void *);
typedef int (*cublas_gemmex_fn)(void *, int, int, int, int, int, const void *, const void *, int,
                                int, const void *, int, int, const void *, void *, int, int, int,
                                int);

struct cuda_lib {
    void *rt, *blas;
    cuda_count_fn count;
    cuda_set_fn set;
    cuda_malloc_fn malloc_;
    cuda_free_fn free_;
    cuda_memcpy_fn memcpy_;
    cuda_sync_fn sync;
    cuda_errstr_fn errstr;
    cuda_busid_fn busid; /* optional */
    cublas_create_fn create;
    cublas_destroy_fn destroy;
    cublas_gemmex_fn gemm;
};

struct ab_exec {
    struct cuda_lib L;
    void *handle;
    struct ab_setup s;
    int device;
    void *a[AB_MAX_ARMS], *b[AB_MAX_ARMS], *c;
    int arm[AB_MAX_ARMS];
};

/* The libraries' names, newest CUDA first (sonames: CUDA 13 .13, CUDA 12 .12, CUDA 11
 * libcudart.so.11.0 and libcublas.so.11); entry i of both lists is the same CUDA release, the
 * unversioned names being the toolkit's development links. */
static const char *const rt_names[] = {"libcudart.so", "libcudart.so.13", "libcudart.so.12",
                                       "libcudart.so.11.0", NULL};
static const char *const blas_names[] = {"libcublas.so", "libcublas.so.13", "libcublas.so.12",
                                         "libcublas.so.11", NULL};

/* The library that env names, when set (that one only; *at = -1), else the first of
 * names[from..] that loads (*at its index). What failed is appended to tried. */
static void *open_from(const char *env, const char *const *names, int from, int *at, char *tried,
                       size_t len)
{
    const char *e = getenv(env);
    size_t used = strlen(tried);
    *at = -1;
    if (e && *e) {
        void *h = dlopen(e, RTLD_NOW | RTLD_LOCAL);
        if (!h)
            snprintf(tried + used, len - used, "%s%s (%s: %s)", used ? "; " : "", e, env,
                     dlerror());
        return h;
    }
    for (int i = from; names[i]; i++) {
        void *h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (h) {
            *at = i;
            return h;
        }
    }
    snprintf(tried + used, len - used, "%s%s, ...", used ? "; " : "", names[from]);
    return NULL;
}

static void lib_close(struct cuda_lib *L)
{
    if (L->blas)
        dlclose(L->blas);
    if (L->rt)
        dlclose(L->rt);
    memset(L, 0, sizeof *L);
}

/* Load the runtime found first from rt_names[from] on, and cuBLAS of the same release when it
 * is there (else the first that loads). *next: where an older runtime would be looked for, -1
 * when there is none to try (JOULES_CUDART_LIBRARY names the one to use). */
static int lib_open(struct cuda_lib *L, int from, int *next, char *err, size_t len)
{
    char tried[AB_ERR_MAX] = "";
    int rt_at, blas_at;
    memset(L, 0, sizeof *L);
    *next = -1;
    L->rt = open_from("JOULES_CUDART_LIBRARY", rt_names, from, &rt_at, tried, sizeof tried);
    if (L->rt) {
        *next = rt_at >= 0 && rt_names[rt_at + 1] ? rt_at + 1 : -1;
        if (rt_at >= 0 && !getenv("JOULES_CUBLAS_LIBRARY"))
            L->blas = dlopen(blas_names[rt_at], RTLD_NOW | RTLD_LOCAL);
        if (!L->blas)
            L->blas =
                open_from("JOULES_CUBLAS_LIBRARY", blas_names, 0, &blas_at, tried, sizeof tried);
    }
    if (!L->rt || !L->blas) {
        snprintf(err, len,
                 "the CUDA runtime or cuBLAS library cannot be loaded (%s). Install the CUDA "
                 "toolkit libraries (libcudart, libcublas) or name them with "
                 "JOULES_CUDART_LIBRARY and JOULES_CUBLAS_LIBRARY",
                 tried);
        lib_close(L);
        return -1;
    }
    struct {
        void **slot;
        void *lib;
        const char *name;
    } syms[] = {
        {(void **)&L->count, L->rt, "cudaGetDeviceCount"},
        {(void **)&L->set, L->rt, "cudaSetDevice"},
        {(void **)&L->malloc_, L->rt, "cudaMalloc"},
        {(void **)&L->free_, L->rt, "cudaFree"},
        {(void **)&L->memcpy_, L->rt, "cudaMemcpy"},
        {(void **)&L->sync, L->rt, "cudaDeviceSynchronize"},
        {(void **)&L->errstr, L->rt, "cudaGetErrorString"},
        {(void **)&L->create, L->blas, "cublasCreate_v2"},
        {(void **)&L->destroy, L->blas, "cublasDestroy_v2"},
        {(void **)&L->gemm, L->blas, "cublasGemmEx"},
    };
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        *syms[i].slot = dlsym(syms[i].lib, syms[i].name);
        if (!*syms[i].slot) {
            snprintf(err, len, "the CUDA libraries lack %s (too old a CUDA?)", syms[i].name);
            lib_close(L);
            return -1;
        }
    }
    *(void **)&L->busid = dlsym(L->rt, "cudaDeviceGetPCIBusId");
    return 0;
}

static const char *cuda_err(const struct cuda_lib *L, int rc)
{
    const char *s = L->errstr ? L->errstr(rc) : NULL;
    return s ? s : "unknown CUDA error";
}

/* 0 when the runtime sees a GPU; else the CUDA error (-1: no error but no device), said in err. */
static int device_count(struct cuda_lib *L, int *count, char *err, size_t len)
{
    *count = 0;
    int rc = L->count(count);
    if (rc == CUDA_ERROR_NO_DEVICE || (rc == CUDA_SUCCESS_ && *count == 0)) {
        snprintf(err, len, "the CUDA runtime sees no GPU (%s)", rc ? cuda_err(L, rc) : "0 devices");
        return rc ? rc : -1;
    }
    if (rc != CUDA_SUCCESS_) {
        snprintf(err, len, "the CUDA runtime cannot list the GPUs: %s (error %d)%s",
                 cuda_err(L, rc), rc,
                 rc == CUDA_ERROR_INSUFFICIENT_DRIVER
                     ? "; no NVIDIA driver, or one older than the CUDA runtime"
                     : "");
        return rc;
    }
    return 0;
}

/*
 * Load a runtime that can talk to the driver. A runtime newer than the driver answers
 * cudaErrorInsufficientDriver; an older CUDA release installed beside it may still work, so
 * the next older name is tried. When none does, the first runtime's reason is the one given.
 */
static int lib_find(struct cuda_lib *L, int *count, char *err, size_t len)
{
    char first[AB_ERR_MAX] = "";
    /* The runtime that refused, kept open so that the same file under another name (the
     * development link and its soname) is recognised by its handle and not asked again. */
    void *refused = NULL;
    int from = 0, next, rc = -1;
    while (lib_open(L, from, &next, err, len) == 0) {
        if (L->rt != refused) {
            rc = device_count(L, count, err, len);
            if (rc == 0)
                break;
            if (!first[0])
                snprintf(first, sizeof first, "%s", err);
        }
        if (L->rt != refused && rc == CUDA_ERROR_INSUFFICIENT_DRIVER && next >= 0) {
            if (refused)
                dlclose(refused);
            refused = L->rt;
            L->rt = NULL;
        }
        lib_close(L);
        if (rc != CUDA_ERROR_INSUFFICIENT_DRIVER || next < 0)
            break;
        from = next;
    }
    if (refused)
        dlclose(refused);
    if (rc == 0)
        return 0;
    if (first[0])
        snprintf(err, len, "%s", first);
    return -1;
}

int ab_cuda_available(char *why, size_t len)
{
    struct cuda_lib L;
    int n;
    if (lib_find(&L, &n, why, len) != 0)
        return 0;
    lib_close(&L);
    return 1;
}

static void cuda_close(struct ab_exec *x)
{
    if (!x)
        return;
    if (x->L.free_) {
        for (int i = 0; i < AB_MAX_ARMS; i++) {
            if (x->a[i])
                x->L.free_(x->a[i]);
            if (x->b[i])
                x->L.free_(x->b[i]);
        }
        if (x->c)
            x->L.free_(x->c);
    }
    if (x->handle)
        x->L.destroy(x->handle);
    lib_close(&x->L);
    free(x);
}

/* The CUDA device whose PCI bus id ends like the monitor's GPU ("01:00.0"); 0 if unknown. */
static int match_device(struct ab_exec *x, int count)
{
    joules_domain_info di;
    if (!x->L.busid || joules_domain_info_get(x->s.m, x->s.gpu_domain, &di) != 0 || !di.bus_id[0])
        return 0;
    const char *want = strchr(di.bus_id, ':');
    want = want ? want + 1 : di.bus_id;
    for (int d = 0; d < count; d++) {
        char b[64] = "";
        if (x->L.busid(b, (int)sizeof b, d) != CUDA_SUCCESS_)
            continue;
        const char *got = strchr(b, ':');
        got = got ? got + 1 : b;
        if (strlen(got) == strlen(want)) {
            size_t i = 0;
            while (got[i] && tolower((unsigned char)got[i]) == tolower((unsigned char)want[i]))
                i++;
            if (!got[i])
                return d;
        }
    }
    return 0;
}

static int cuda_open(struct ab_exec **out, const struct ab_setup *s, char *err, size_t len)
{
    *out = NULL;
    struct ab_exec *x = calloc(1, sizeof *x);
    if (!x) {
        snprintf(err, len, "out of memory");
        return -1;
    }
    x->s = *s;
    int count;
    if (lib_find(&x->L, &count, err, len) != 0) {
        cuda_close(x);
        return -1;
    }
    x->device = s->gpu_domain >= 0 ? match_device(x, count) : 0;
    int rc = x->L.set(x->device);
    if (rc != CUDA_SUCCESS_) {
        snprintf(err, len, "cudaSetDevice(%d): %s", x->device, cuda_err(&x->L, rc));
        cuda_close(x);
        return -1;
    }
    if ((rc = x->L.create(&x->handle)) != CUBLAS_STATUS_SUCCESS) {
        x->handle = NULL;
        snprintf(err, len, "cublasCreate failed (cuBLAS status %d)", rc);
        cuda_close(x);
        return -1;
    }
    size_t cbytes = (size_t)s->n * (size_t)s->n * (s->prec == AB_FP64 ? 8 : 4);
    if ((rc = x->L.malloc_(&x->c, cbytes)) != CUDA_SUCCESS_) {
        x->c = NULL;
        snprintf(err, len, "cudaMalloc of C (%zu MiB): %s%s", cbytes >> 20, cuda_err(&x->L, rc),
                 rc == CUDA_ERROR_MEMORY_ALLOCATION ? "; try a smaller -n" : "");
        cuda_close(x);
        return -1;
    }
    *out = x;
    return 0;
}

static int cuda_load(struct ab_exec *x, int slot, int arm, struct ab_arm_info *info, char *err,
                     size_t len)
{
    size_t count = (size_t)x->s.n * (size_t)x->s.n, esz = ab_prec_bytes(x->s.prec);
    size_t bytes = count * esz;
    void *host = malloc(x->s.prec == AB_FP64 ? bytes : count * sizeof(float));
    if (!host) {
        snprintf(err, len, "out of host memory for the inputs (%zu MiB)", bytes >> 20);
        return -1;
    }
    info->toggle = info->alpha = -1;
    x->arm[slot] = arm;
    for (int which = 0; which < 2; which++) {
        void **dst = which ? &x->b[slot] : &x->a[slot];
        int rc = x->L.malloc_(dst, bytes);
        if (rc != CUDA_SUCCESS_) {
            *dst = NULL;
            snprintf(err, len,
                     "out of GPU memory: cudaMalloc of %zu MiB for %s of arm %s: %s; %d arms at "
                     "n = %d need about %zu MiB: try a smaller -n or fewer --arms",
                     bytes >> 20, which ? "B" : "A", ab_arm_name(arm), cuda_err(&x->L, rc),
                     slot + 1, x->s.n, (2 * (size_t)(slot + 1) * bytes + bytes) >> 20);
            free(host);
            return -1;
        }
        if (x->s.prec == AB_FP64) {
            ab_fill_f64(host, count, arm, x->s.seed, which, 0);
        } else {
            float *f = host;
            ab_fill_f32(f, count, arm, x->s.seed, which, 0);
            uint16_t *h = host; /* in place: element i is read before i/2 is written */
            if (x->s.prec == AB_FP16)
                for (size_t i = 0; i < count; i++)
                    h[i] = ab_f32_to_f16(f[i]);
            else if (x->s.prec == AB_BF16)
                for (size_t i = 0; i < count; i++)
                    h[i] = ab_f32_to_bf16(f[i]);
        }
        rc = x->L.memcpy_(*dst, host, bytes, CUDA_MEMCPY_HOST_TO_DEVICE);
        if (rc != CUDA_SUCCESS_) {
            snprintf(err, len, "cudaMemcpy to the GPU: %s", cuda_err(&x->L, rc));
            free(host);
            return -1;
        }
    }
    free(host);
    return 0;
}

static int cuda_run(struct ab_exec *x, int slot, int reps, int *done, char *err, size_t len)
{
    int n = x->s.n, p = x->s.prec;
    int in_type = p == AB_FP64   ? CUDA_R_64F
                  : p == AB_FP16 ? CUDA_R_16F
                  : p == AB_BF16 ? CUDA_R_16BF
                                 : CUDA_R_32F;
    int out_type = p == AB_FP64 ? CUDA_R_64F : CUDA_R_32F;
    int compute = p == AB_FP64   ? CUBLAS_COMPUTE_64F
                  : p == AB_TF32 ? CUBLAS_COMPUTE_32F_FAST_TF32
                                 : CUBLAS_COMPUTE_32F;
    float one_f = 1.0f, zero_f = 0.0f;
    double one_d = 1.0, zero_d = 0.0;
    const void *alpha = p == AB_FP64 ? (const void *)&one_d : (const void *)&one_f;
    const void *beta = p == AB_FP64 ? (const void *)&zero_d : (const void *)&zero_f;
    *done = 0;
    for (int r = 0; r < reps; r++) {
        if (x->s.stop && *x->s.stop)
            break;
        /* Row-major C = A.B is column-major C^T = B^T.A^T: B first. */
        int rc = x->L.gemm(x->handle, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, alpha, x->b[slot], in_type,
                           n, x->a[slot], in_type, n, beta, x->c, out_type, n, compute,
                           CUBLAS_GEMM_DEFAULT);
        if (rc != CUBLAS_STATUS_SUCCESS) {
            x->L.sync();
            snprintf(err, len, "cublasGemmEx failed (cuBLAS status %d) for %s", rc,
                     ab_prec_name(p));
            return -1;
        }
        (*done)++;
    }
    int rc = x->L.sync(); /* the window's clock is read only after the products finished */
    if (rc != CUDA_SUCCESS_) {
        snprintf(err, len, "cudaDeviceSynchronize: %s", cuda_err(&x->L, rc));
        return -1;
    }
    return 0;
}

static int cuda_check(struct ab_exec *x, int slot, struct ab_check *c, char *err, size_t len)
{
    int rows[AB_CHECK_SAMPLES], cols[AB_CHECK_SAMPLES];
    double v[AB_CHECK_SAMPLES];
    size_t esz = x->s.prec == AB_FP64 ? 8 : 4;
    ab_check_indices(x->s.seed, x->s.n, AB_CHECK_SAMPLES, rows, cols);
    for (int s = 0; s < AB_CHECK_SAMPLES; s++) {
        size_t i = (size_t)rows[s] * (size_t)x->s.n + (size_t)cols[s];
        union {
            float f;
            double d;
        } u;
        int rc = x->L.memcpy_(&u, (const char *)x->c + i * esz, esz, CUDA_MEMCPY_DEVICE_TO_HOST);
        if (rc != CUDA_SUCCESS_) {
            snprintf(err, len, "cudaMemcpy from the GPU: %s", cuda_err(&x->L, rc));
            return -1;
        }
        v[s] = esz == 8 ? u.d : u.f;
    }
    if (ab_check_sampled(x->s.prec, x->s.n, x->arm[slot], x->s.seed, AB_CHECK_SAMPLES, rows, cols,
                         v, c) != 0) {
        snprintf(err, len, "out of memory for the correctness check");
        return -1;
    }
    /* NVIDIA's libraries read NVIDIA_TF32_OVERRIDE=0 as "never TF32": a tf32 product may then
     * run in fp32, which the check cannot tell apart (fp32 is within the tf32 tolerance). */
    const char *tf32 = getenv("NVIDIA_TF32_OVERRIDE");
    snprintf(c->note, sizeof c->note, "cublasGemmEx on CUDA device %d%s", x->device,
             x->s.prec == AB_TF32 && tf32 && strcmp(tf32, "0") == 0
                 ? "; NVIDIA_TF32_OVERRIDE=0 is set: cuBLAS may have computed it in fp32"
                 : "");
    return 0;
}

const struct ab_exec_ops ab_exec_cuda_ops = {
    .name = "cuda",
    .open = cuda_open,
    .load = cuda_load,
    .run = cuda_run,
    .check = cuda_check,
    .close = cuda_close,
};
