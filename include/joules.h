/* SPDX-License-Identifier: MIT */
/*
 * joules.h - the whole public C API of libjoules.
 *
 * Contract:
 *  - A monitor (joules_monitor) is opened once with joules_open() and owns every backend
 *    (NVML for NVIDIA GPUs, powercap/perf for RAPL CPU and DRAM) and one background tracker
 *    thread that follows counter steps and wraps.
 *  - Every function returns 0 (JOULES_OK) or a negative JOULES_E_* code; nothing prints and
 *    nothing exits. joules_last_error() gives the contextual message of the last failure on
 *    that monitor (per thread), joules_strerror() the generic text of a code and
 *    joules_err_name() its name.
 *  - Units are in every name: _j joules, _w watts, _ns nanoseconds, _s seconds, _mhz, _mw.
 *  - Windows are named regions; they may nest and overlap and may be begun and ended from any
 *    thread. Times are CLOCK_MONOTONIC.
 *  - Energy figures always carry the method that produced them, an uncertainty (+/- J,
 *    roughly a 95 % bound) and whether they come from a simulated device. A figure that cannot
 *    be defended is reported as not valid, with the reason.
 *  - A result (joules_measurement) keeps its domains in storage the caller provides and
 *    sizes: from joules_measurement_alloc(), or any array of joules_domain_count() entries
 *    given to joules_measurement_init(). No result has a fixed number of domains.
 *
 * API 0.2, against 0.1:
 *  - joules_measurement.domains is a pointer to the caller's storage of `capacity` entries,
 *    no longer a fixed array of JOULES_MAX_DOMAINS entries inside the struct. Set it up
 *    with joules_measurement_init() or joules_measurement_alloc() (free with
 *    joules_measurement_free()) before any call that fills it: joules_window_end,
 *    joules_window_end_busy, joules_window_collect, and joules_repeat (its per_rep). A result
 *    too small for the monitor's domains fails with JOULES_E_RANGE before the window is
 *    touched; it stays open (or its ticket pending), so the call can be made again.
 *  - Field accesses (r->domains[i].energy_j, r->n_domains) read as before; a plain struct
 *    copy of a result now shares the domains' storage instead of copying them.
 *  - JOULES_MAX_DOMAINS bounds only the domains one monitor opens, not results.
 *  - New: joules_efficiency() gives the GFLOP per joule of a window from a FLOP count the
 *    caller gives, over the total and over the GPUs' energy, each with its +/-.
 *
 * API 0.3, against 0.2:
 *  - New: joules_efficiency_at() places that figure against the shipped hardware table at a
 *    precision (joules_precision; joules_precision_parse/name): the share of this GPU's peak
 *    FLOP per joule and the reference generations' peaks. The library reads the table
 *    (share/joules/hardware.tsv beside it, or $JOULES_DATA_DIR).
 *  - joules_efficiency_result grows: fields appended after gpu_gflop_per_j_pm. The fields of
 *    0.2 keep their offsets, but the struct is larger and both functions fill all of it, so a
 *    program built against 0.2 is rebuilt against this header.
 */
#ifndef JOULES_H
#define JOULES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The version of joules, written here and nowhere else: CMake (the project version, the
 * shared library's file name, joules.pc) and the Python package's metadata read these
 * three lines, and the binding asks joules_version() at run time. Kept in this header so
 * that it stays self-contained (no generated file beside it) wherever it is copied.
 */
#define JOULES_VERSION_MAJOR    0
#define JOULES_VERSION_MINOR    3
#define JOULES_VERSION_PATCH    0
#define JOULES_VERSION_STR_(x)  #x
#define JOULES_VERSION_XSTR_(x) JOULES_VERSION_STR_(x)
/* "MAJOR.MINOR.PATCH" */
#define JOULES_VERSION_STRING                                                                      \
    JOULES_VERSION_XSTR_(JOULES_VERSION_MAJOR)                                                     \
    "." JOULES_VERSION_XSTR_(JOULES_VERSION_MINOR) "." JOULES_VERSION_XSTR_(JOULES_VERSION_PATCH)

/* The most domains one monitor opens (joules_domain_count() is never above it); results
 * are sized by the caller, not by this bound. */
#define JOULES_MAX_DOMAINS 64
/* Upper bounds of fixed-size strings in the public structs. */
#define JOULES_NAME_MAX    64
#define JOULES_MESSAGE_MAX 256

/*
 * Error codes: 0 or negative, one table. Each row is the code's name, its value and the
 * generic text joules_strerror() returns; joules_err_name() returns the name itself. The
 * enum below and both functions expand this one table, so a code, its name and its text
 * never drift apart; a binding asks joules_err_name() and joules_strerror() instead of
 * keeping a copy.
 */
#define JOULES_ERROR_TABLE(X)                                                                      \
    X(JOULES_OK, 0, "success")                                                                     \
    /* an argument or option is invalid */                                                         \
    X(JOULES_E_INVALID, -1, "invalid argument")                                                    \
    X(JOULES_E_NOMEM, -2, "out of memory")                                                         \
    /* no measurable domain (no GPU, no readable RAPL) */                                          \
    X(JOULES_E_NO_DOMAIN, -3, "no measurable domain")                                              \
    /* a vendor library is missing, corrupt or lacks symbols */                                    \
    X(JOULES_E_LIBRARY, -4, "vendor library missing or unusable")                                  \
    /* the operating system or driver refused access */                                            \
    X(JOULES_E_PERMISSION, -5, "permission denied")                                                \
    X(JOULES_E_NOT_SUPPORTED, -6, "not supported by the device")                                   \
    /* the device fell off the bus or stopped answering */                                         \
    X(JOULES_E_DEVICE_LOST, -7, "device lost")                                                     \
    /* reading or writing a file failed */                                                         \
    X(JOULES_E_IO, -8, "input/output error")                                                       \
    /* wrong state: window unknown, already begun, ... */                                          \
    X(JOULES_E_STATE, -9, "invalid state")                                                         \
    /* no such domain, window or file */                                                           \
    X(JOULES_E_NOT_FOUND, -10, "not found")                                                        \
    X(JOULES_E_SYNC, -11, "synchronisation callback failed")                                       \
    /* the driver returned an error not listed above */                                            \
    X(JOULES_E_DRIVER, -12, "driver error")                                                        \
    /* malformed input (file contents, option value) */                                            \
    X(JOULES_E_PARSE, -13, "malformed input")                                                      \
    X(JOULES_E_RANGE, -14, "value out of range")                                                   \
    /* a system call failed (thread, clock, ...) */                                                \
    X(JOULES_E_SYSTEM, -15, "system error")

#define JOULES_ERROR_ENUM_(name, value, text) name = value,
enum joules_error { JOULES_ERROR_TABLE(JOULES_ERROR_ENUM_) };
#undef JOULES_ERROR_ENUM_

/* What a domain measures. */
typedef enum joules_domain_kind {
    JOULES_KIND_GPU = 1u << 0,
    JOULES_KIND_CPU_PACKAGE = 1u << 1,
    JOULES_KIND_CPU_CORE = 1u << 2,
    JOULES_KIND_CPU_UNCORE = 1u << 3,
    JOULES_KIND_DRAM = 1u << 4,
    JOULES_KIND_PSYS = 1u << 5,
} joules_domain_kind;

#define JOULES_KINDS_ALL 0x3Fu
#define JOULES_KINDS_CPU                                                                           \
    (JOULES_KIND_CPU_PACKAGE | JOULES_KIND_CPU_CORE | JOULES_KIND_CPU_UNCORE | JOULES_KIND_DRAM |  \
     JOULES_KIND_PSYS)

/* How an energy figure was obtained, best first. */
typedef enum joules_method {
    JOULES_METHOD_NONE = 0,       /* unavailable */
    JOULES_METHOD_COUNTER = 1,    /* hardware energy counter (edges corrected with power) */
    JOULES_METHOD_INTEGRATED = 2, /* power samples integrated over time */
    JOULES_METHOD_MODEL = 3,      /* derived from a model, not a sensor */
} joules_method;

/* Capability bits of a domain. */
#define JOULES_CAP_ENERGY_COUNTER (1u << 0) /* cumulative energy counter */
#define JOULES_CAP_POWER          (1u << 1) /* instantaneous/averaged power sensor */
#define JOULES_CAP_CLOCK_CONTROL  (1u << 2) /* clocks can be locked (privilege needed) */
#define JOULES_CAP_POWER_LIMIT    (1u << 3) /* power limit can be set (privilege needed) */

/* The backends a monitor may load, for joules_backend_status(). */
typedef enum joules_backend_id {
    JOULES_BACKEND_NVML = 0,
    JOULES_BACKEND_RAPL = 1,
    JOULES_BACKEND_COUNT = 2,
} joules_backend_id;

/* Symbols of the shared library (built with hidden visibility by default). */
#if defined(__GNUC__) && !defined(JOULES_STATIC_DEFINE)
#define JOULES_API __attribute__((visibility("default")))
#else
#define JOULES_API
#endif

typedef struct joules_monitor joules_monitor;

/*
 * Synchronisation callback: run before the clock is read at each window edge, so that
 * asynchronous device work issued before the edge is finished (CUDA, JAX, PyTorch).
 * Return 0 on success; any other value fails the edge with JOULES_E_SYNC.
 */
typedef int (*joules_sync_fn)(void *user);

/* Options of joules_open(). Initialise with joules_options_init(), then set fields. */
typedef struct joules_options {
    uint32_t struct_size;       /* sizeof(joules_options), set by joules_options_init() */
    const char *nvml_library;   /* NVML path or name; NULL: "libnvidia-ml.so.1" */
    const char *sysfs_root;     /* stands for /sys; NULL: "/sys" */
    uint32_t kinds;             /* JOULES_KIND_* mask of domains to open; 0: all */
    uint64_t tracker_period_ns; /* how often GPU counters are polled; 0: 5 ms */
    joules_sync_fn sync;        /* optional, called before each window edge */
    void *sync_user;            /* passed to sync */
    /* 1: joules_window_end waits for the next step of each slow energy counter (at most one
     * update period, ~100 ms on NVIDIA GPUs) so that the end edge rests on counter values
     * instead of an extrapolation with a lagging power sensor. For whole commands and long
     * regions, not for tight loops. */
    int settle_end;
    /* With settle_end: if > 0, wait at most max(10 ms, this fraction of the window's
     * length), so that short windows are not stretched (`joules run` uses 0.1). 0: no cap. */
    double settle_max_fraction;
} joules_options;

/* Static description of a domain. */
typedef struct joules_domain_info {
    char name[JOULES_NAME_MAX]; /* "gpu0", "cpu0", "cpu0.core", "dram0", "psys" */
    joules_domain_kind kind;
    char device[128];                /* "NVIDIA A100-SXM4-80GB", "package-0" */
    char uuid[96];                   /* GPU UUID, empty for RAPL */
    char bus_id[32];                 /* PCI bus id, empty for RAPL */
    char source[JOULES_MESSAGE_MAX]; /* where the numbers come from, in words */
    uint32_t caps;                   /* JOULES_CAP_* */
    joules_method method;            /* method windows will use */
    int simulated;                   /* 1 when the device is the simulated GPU */
    int parent;                      /* index of the enclosing domain, -1 if none */
    int counted_in_total;            /* 1 if it enters the disjoint total */
    uint64_t update_interval_ns;     /* counter/sensor update period (0: unknown) */
    double resolution_j;             /* counter resolution */
    double sensor_accuracy;          /* stated relative accuracy of the sensor (0.05 = 5 %) */
    /* How long a span each power reading averages: 0.025 s on GA100/GH100 (the last 25 ms of
     * every 100 ms update), 0.1 s (the whole update) on GA10x, Ada, Turing; 1 s for a moving
     * average; 0: no power reading. */
    double power_window_s;
} joules_domain_info;

/* GPU details and live state (joules_gpu_status). Fields not reported are -1 / empty. */
typedef struct joules_gpu_status {
    char name[96];
    char uuid[96];
    char bus_id[32];
    char driver_version[80];
    char architecture[24]; /* "Ampere", "Hopper", ... */
    int simulated;
    double power_w;       /* instantaneous power */
    double power_avg_w;   /* 1-s averaged power (NVML field 185), -1 if absent */
    double power_limit_w; /* current (software) limit */
    double power_limit_enforced_w;
    double power_limit_default_w;
    double power_limit_min_w;
    double power_limit_max_w;
    int clock_sm_mhz;
    int clock_mem_mhz;
    int clock_sm_max_mhz;
    int pstate; /* 0..15, -1 unknown */
    int temperature_c;
    int utilization_gpu_pct;
    uint64_t clock_event_reasons; /* NVML clock-event (throttle) reason bits */
    uint64_t memory_total_bytes;
    uint64_t memory_used_bytes;
    double energy_counter_j; /* raw cumulative counter, -1 if absent */
} joules_gpu_status;

/* Energy of one domain over a window. */
typedef struct joules_domain_energy {
    int domain;           /* index into the monitor's domains */
    int valid;            /* 0: unavailable; see error and message */
    int error;            /* JOULES_E_* when not valid */
    joules_method method; /* how energy_j was obtained */
    int simulated;
    double energy_j;
    double uncertainty_j; /* +/- J */
    double avg_power_w;
    /* Simulated devices only: the simulator's true energy over the same interval, for
     * validating the method; -1 for real devices. Never a measurement. */
    double sim_truth_j;
    char message[JOULES_MESSAGE_MAX]; /* why not valid, or a note (e.g. "edge-corrected") */
} joules_domain_energy;

/*
 * The result of a window. Its domains live in storage the caller owns: `domains` points to
 * `capacity` entries, of which a filled result uses n_domains (one per domain of the
 * monitor, domains[i].domain == i). Set a result up once, then fill it as often as wanted:
 *
 *     joules_measurement *r;                        joules_domain_energy dom[4];
 *     joules_measurement_alloc(m, &r);      or      joules_measurement r;
 *     joules_window_end(m, "step", r);              joules_measurement_init(&r, dom, 4);
 *     joules_measurement_free(r);                   joules_window_end(m, "step", &r);
 *
 * A call that fills a result whose capacity is below joules_domain_count() fails with
 * JOULES_E_RANGE and says so in joules_last_error(), before it ends or collects anything.
 * Filling keeps `domains` and `capacity`; a plain struct copy shares the storage.
 */
typedef struct joules_measurement {
    char name[JOULES_NAME_MAX];
    int64_t begin_ns; /* CLOCK_MONOTONIC */
    int64_t end_ns;
    double begin_unix_s; /* wall clock at begin, for reports */
    double duration_s;
    int simulated; /* 1 if any domain is simulated */
    int n_domains; /* entries of domains filled */
    int capacity;  /* entries domains points to, set by the caller */
    joules_domain_energy *domains;
    double total_energy_j; /* sum of valid domains counted in the total (disjoint) */
    double total_uncertainty_j;
} joules_measurement;

/* One instantaneous reading of a domain (joules_read). */
typedef struct joules_reading {
    int domain;
    int valid;
    int error;
    int64_t t_ns;    /* CLOCK_MONOTONIC */
    double energy_j; /* cumulative, wrap-extended, since the monitor opened */
    double power_w;  /* -1 when not available */
} joules_reading;

/* Library and error information. */
JOULES_API const char *joules_version(void); /* JOULES_VERSION_STRING of the library */
/* The generic text of a code; "unknown error" for a value that is not a JOULES_E_* code. */
JOULES_API const char *joules_strerror(int err);
/* The name of a code, e.g. "JOULES_E_INVALID"; NULL for a value that is not a code. */
JOULES_API const char *joules_err_name(int err);
JOULES_API const char *joules_method_name(joules_method method);
JOULES_API const char *joules_kind_name(joules_domain_kind kind);

JOULES_API void joules_options_init(joules_options *opts);

/*
 * Open a monitor. Backends that are absent are not errors: their state is kept and can be
 * asked with joules_backend_status(). Fails only on bad options, memory or thread errors, in
 * which case *out is NULL and, if errbuf is not NULL, a message is written there.
 */
JOULES_API int joules_open(joules_monitor **out, const joules_options *opts, char *errbuf,
                           size_t errlen);
JOULES_API void joules_close(joules_monitor *m);

/* The message of the last failure on this monitor in the calling thread. */
JOULES_API const char *joules_last_error(const joules_monitor *m);

/* Whether a backend loaded; on failure, its code and the reason in words. */
JOULES_API int joules_backend_status(const joules_monitor *m, joules_backend_id backend, int *code,
                                     char *message, size_t len);

JOULES_API int joules_domain_count(const joules_monitor *m);

JOULES_API int joules_domain_info_get(const joules_monitor *m, int index, joules_domain_info *out);
JOULES_API int joules_gpu_status_get(joules_monitor *m, int index, joules_gpu_status *out);

/*
 * Results. joules_measurement_init clears *r and points it at the caller's `domains`, an
 * array of `capacity` entries (NULL with 0 is allowed for a monitor without domains);
 * JOULES_E_INVALID for a negative capacity or a NULL array with a positive one.
 * joules_measurement_alloc gives one heap block holding a result and room for every domain
 * of the monitor; release it with joules_measurement_free (NULL is allowed), and nothing else.
 */
JOULES_API int joules_measurement_init(joules_measurement *r, joules_domain_energy *domains,
                                       int capacity);
JOULES_API int joules_measurement_alloc(const joules_monitor *m, joules_measurement **out);
JOULES_API void joules_measurement_free(joules_measurement *r);

/* Readings of every domain now; n is the capacity of out; returns the count or an error. */
JOULES_API int joules_read(joules_monitor *m, joules_reading *out, int n);

/* Windows. Names are at most JOULES_NAME_MAX-1 bytes; a name may be reused once ended. The
 * result given to an end is set up by the caller (see joules_measurement above). */
JOULES_API int joules_window_begin(joules_monitor *m, const char *name);
JOULES_API int joules_window_end(joules_monitor *m, const char *name, joules_measurement *out);
/* Forget a begun window without measuring it. */
JOULES_API int joules_window_cancel(joules_monitor *m, const char *name);

/*
 * Deferred end, for loops of short windows. A slow energy counter (NVIDIA: every ~100 ms)
 * leaves a window's end edge extrapolated with a lagging power sensor until it steps again;
 * settle_end waits for that step, which a loop of short windows cannot afford. This reads
 * the end edge now and returns at once; the tracker thread then anchors the edge on the
 * counter's next step, and joules_window_collect returns the result, as exact as a settled
 * end once that step has come (joules_window_ready). The name may be begun again at once:
 * *ticket names the ended window. At most JOULES_PENDING_MAX windows wait to be collected
 * (JOULES_E_STATE beyond); joules_close frees those never collected.
 */
#define JOULES_PENDING_MAX 1024
JOULES_API int joules_window_end_deferred(joules_monitor *m, const char *name, uint64_t *ticket);
/* 1 when every end edge of the deferred window rests on a counter step, or on a counter
 * current at every read (RAPL): collecting it then waits for nothing and extrapolates nothing.
 * 0 if not yet; JOULES_E_STATE for an unknown ticket. */
JOULES_API int joules_window_ready(joules_monitor *m, uint64_t ticket);
/*
 * The measurement of a deferred window; the ticket is then released (not when `out` is too
 * small: JOULES_E_RANGE, and it stays pending). Edges whose counter has not stepped yet are
 * waited for, up to max_wait_ns after the window's end and never longer than a step can
 * take, 1.5 update periods (0: not at all; negative: that longest), and otherwise
 * extrapolated as joules_window_end does (each domain's message says which). Once anchored,
 * the figure is fixed: collected at once or minutes later, it is the same.
 */
JOULES_API int joules_window_collect(joules_monitor *m, uint64_t ticket, int64_t max_wait_ns,
                                     joules_measurement *out);

/* Clock and power-limit control of a GPU domain (needs privilege on real hardware). */
JOULES_API int joules_gpu_lock_clocks(joules_monitor *m, int index, unsigned min_mhz,
                                      unsigned max_mhz);
JOULES_API int joules_gpu_reset_clocks(joules_monitor *m, int index);
JOULES_API int joules_gpu_set_power_limit(joules_monitor *m, int index, double limit_w);

/* ---- Sampler: power over time --------------------------------------------------------------
 *
 * A sampler reads the chosen domains every interval_ns on its own background thread, on
 * absolute CLOCK_MONOTONIC deadlines (start + k x interval: no drift). A round that starts
 * more than one interval late skips the deadlines it missed and counts them (never a burst
 * of catch-up rounds, never hidden). Memory is bounded whatever the length of the run:
 * samples go to a callback (called on the sampler thread, once per round) and/or to a ring
 * of fixed capacity that the caller drains; when the ring is full the oldest sample is
 * overwritten and counted as dropped. joules_sampler_stop returns at once (the thread waits
 * on a condition variable, not a sleep). The monitor must outlive its samplers; several
 * samplers may run on one monitor, and windows may be used at the same time.
 */

/* Where a sample's power_w comes from. */
typedef enum joules_power_source {
    JOULES_POWER_NONE = 0,    /* no power figure in this sample */
    JOULES_POWER_SENSOR = 1,  /* the device's power sensor (NVML instant field or usage) */
    JOULES_POWER_COUNTER = 2, /* energy counter difference since the previous sample (RAPL) */
} joules_power_source;

/* One domain at one sampling round. Fields that do not apply are -1. */
typedef struct joules_power_sample {
    uint64_t seq; /* round number, 0 for the first round */
    int domain;   /* index into the monitor's domains */
    int valid;    /* 0: the read failed (error); energy_j is then the last known value */
    int error;
    int simulated;
    int64_t t_ns;         /* CLOCK_MONOTONIC when the domain was read */
    int64_t scheduled_ns; /* the round's deadline: t_ns - scheduled_ns is its lateness */
    double energy_j;      /* cumulative, wrap-extended, since the monitor opened */
    double power_w;       /* -1 when unknown (e.g. the first counter-based sample) */
    joules_power_source power_source;
    double power_avg_w;   /* GPU: 1-s averaged power (NVML field 185), else -1 */
    double power_limit_w; /* GPU: enforced power limit, else -1 */
    int clock_sm_mhz;     /* GPU details (gpu_details = 1), else -1 */
    int clock_mem_mhz;
    int temperature_c;
    int pstate;
    int utilization_gpu_pct;
    uint64_t clock_event_reasons; /* NVML clock-event reason bits, 0 if none or unknown */
} joules_power_sample;

/* Called on the sampler thread after each round with that round's samples (n domains). It
 * should return quickly: the next deadline waits for it. It may call joules_sampler_drain
 * and joules_sampler_stats_get, not joules_sampler_stop. */
typedef void (*joules_sample_fn)(const joules_power_sample *samples, int n, void *user);

typedef struct joules_sampler_options {
    uint32_t struct_size;      /* set by joules_sampler_options_init() */
    uint64_t interval_ns;      /* 0: 100 ms; from 100 us to 1 h */
    uint32_t kinds;            /* JOULES_KIND_* mask of the domains sampled; 0: all */
    int gpu_details;           /* 1 (default): clocks, temperature, P-state, utilisation, reasons */
    joules_sample_fn callback; /* optional */
    void *user;                /* passed to callback */
    size_t ring_capacity;      /* samples kept for joules_sampler_drain; 0: no ring */
} joules_sampler_options;

typedef struct joules_sampler_stats {
    uint64_t rounds;           /* rounds taken */
    uint64_t samples;          /* domain samples taken (rounds x domains) */
    uint64_t missed_deadlines; /* deadlines skipped because their round would have started
                                  more than one interval late */
    uint64_t dropped;          /* ring samples overwritten before they were drained */
    uint64_t read_errors;      /* samples not valid */
    int64_t max_lateness_ns;   /* worst start of a round after its deadline */
    double mean_lateness_ns;
    size_t ring_high_water; /* most samples the ring ever held (<= ring_capacity) */
    int n_domains;          /* domains per round */
} joules_sampler_stats;

typedef struct joules_sampler joules_sampler;

JOULES_API void joules_sampler_options_init(joules_sampler_options *opts);
/* Start sampling; the first round is taken at once. Needs a callback or a ring. */
JOULES_API int joules_sampler_start(joules_monitor *m, const joules_sampler_options *opts,
                                    joules_sampler **out);
/* Move up to n of the oldest samples out of the ring, in order; returns the count. */
JOULES_API int joules_sampler_drain(joules_sampler *s, joules_power_sample *out, int n);
JOULES_API int joules_sampler_stats_get(joules_sampler *s, joules_sampler_stats *out);
/* Stop the thread (returns at once, even with a long interval) and fill stats if not NULL.
 * Idempotent. The ring keeps what it holds: drain it, then free the sampler. */
JOULES_API int joules_sampler_stop(joules_sampler *s, joules_sampler_stats *stats);
/* Stop if running, and free. NULL is allowed. */
JOULES_API void joules_sampler_free(joules_sampler *s);

/* ---- Repeated work: part-time sensor correction ---------------------------------------- */
/*
 * Power sensors of recent NVIDIA boards average only part of each update period (25 ms of
 * every 100 ms on A100/H100), so a short workload can fall between their windows, or always
 * in the same phase of them. For work that can be repeated, joules_repeat() runs it in
 * groups whose starts are shifted by a fraction of the update period, drops the repetitions
 * of each group during which the sensor settles, measures the rest, and divides by the
 * repetitions kept (after Yang, Adamek and Armour, SC24).
 */

/* One repetition of the workload; synchronise asynchronous work before returning.
 * Return 0, or any other value to stop (joules_repeat then fails with JOULES_E_SYNC). */
typedef int (*joules_work_fn)(void *user);

typedef struct joules_repeat_options {
    uint32_t struct_size; /* set by joules_repeat_options_init() */
    int groups;           /* phase-shifted groups; 0: 4 */
    int repetitions;      /* measured repetitions in all (kept ones); 0: enough for min_time_s */
    double min_time_s;    /* least measured time in all; 0: 2 s */
    double settle_s;      /* time dropped at the start of each group; 0: one update period */
} joules_repeat_options;

typedef struct joules_repeat_result {
    int groups;
    int repetitions_run;  /* including the dropped ones and the calibration run */
    int repetitions_kept; /* the ones measured */
    double time_per_rep_s;
    /* Energy per repetition: domains[i].energy_j and .uncertainty_j are per repetition,
     * duration_s is the mean time of one repetition. The caller gives it storage first
     * (joules_measurement_init(&res.per_rep, ...)); joules_repeat keeps it. */
    joules_measurement per_rep;
} joules_repeat_result;

/*
 * End a window now, then keep the load running by calling busy() (not measured) until each
 * slow energy counter has stepped once more (about 100 ms on NVIDIA GPUs), so that the end
 * edge lies in a counter interval with the same load on both sides and needs no
 * extrapolation. Begin such a window while the same load is already running (e.g. after one
 * unmeasured repetition) and both edges are exact. busy() returning non-zero ends the wait.
 * The uncertainty relies on it: an integrated-power figure is not widened for the sensor's
 * lag, which moves as much energy into the window at its begin as out of it at its end.
 */
JOULES_API int joules_window_end_busy(joules_monitor *m, const char *name, joules_measurement *out,
                                      joules_work_fn busy, void *user);

JOULES_API void joules_repeat_options_init(joules_repeat_options *opts);
JOULES_API int joules_repeat(joules_monitor *m, joules_work_fn work, void *user,
                             const joules_repeat_options *opts, joules_repeat_result *out);

/*
 * Efficiency of a measured window from a work count the caller gives (the FLOPs the window
 * ran): GFLOP/J = flops / 1e9 / energy, over two energies, each with its +/- (the count is
 * taken as exact, so the relative uncertainty is the energy's; about 95 %):
 *  - the total: the valid domains counted in the disjoint total (as total_energy_j);
 *  - the GPUs: the valid GPU domains only (NAN when the result has none).
 * r is a result of m (joules_window_end, joules_window_collect, joules_repeat's per_rep:
 * GFLOP/J per repetition then takes the FLOPs of one repetition).
 *
 * joules_efficiency_at also places the figure at a precision: the headline figure (the GPUs'
 * when a GPU was measured, else the total's, as `joules run --flops` reports) against this
 * GPU's peak FLOP per joule at that precision (peak dense FLOP/s / TDP, from the shipped
 * hardware table, docs/impact.md) and against the reference generations' peaks. The GPU is
 * the model of the window's valid GPU domains, found by the name NVML reports (a simulated
 * profile reports its model's name); GPUs of different models, or a model the table lacks
 * or gives no peak or TDP for, leave its peak NAN and say why in message. The table is
 * $JOULES_DATA_DIR/hardware.tsv, else share/joules/hardware.tsv beside libjoules (the
 * executable when linked statically), else in the installed prefix; it is read at each call.
 * joules_efficiency is joules_efficiency_at with JOULES_PRECISION_NONE: no placement, the
 * table is not read.
 *
 * JOULES_E_INVALID for a count that is negative or not a finite number, a precision that is
 * none of joules_precision, or a result that is not m's; JOULES_E_NO_DOMAIN when no valid
 * counted domain has energy above 0 J (out is then filled with the energies and NAN ratios);
 * JOULES_E_IO when the table cannot be read and JOULES_E_PARSE when it is malformed, with
 * the file (and line) in joules_last_error() (out then holds the figures, not placed).
 */
typedef enum joules_precision {
    JOULES_PRECISION_NONE = -1, /* not placed */
    JOULES_PRECISION_FP64 = 0,
    JOULES_PRECISION_FP32 = 1,
    JOULES_PRECISION_TF32 = 2,
    JOULES_PRECISION_FP16 = 3, /* FP16 and BF16 on tensor cores: one column of the table */
    JOULES_PRECISION_BF16 = JOULES_PRECISION_FP16,
    JOULES_PRECISION_FP8 = 4,
    JOULES_PRECISION_INT8 = 5 /* peak in TOP/s */
} joules_precision;

/* The reference generations, in the order of ref_model: V100 SXM2, A100 SXM4 40 GB,
 * H100 SXM5, B200. */
#define JOULES_N_REFERENCES 4
#define JOULES_MODEL_MAX    32

typedef struct joules_efficiency_result {
    double flops;
    double energy_j; /* valid domains counted in the total */
    double uncertainty_j;
    int n_domains; /* domains in energy_j */
    double gflop_per_j, gflop_per_j_pm;
    double gpu_energy_j; /* valid GPU domains */
    double gpu_uncertainty_j;
    int n_gpus;                                 /* GPU domains in gpu_energy_j */
    double gpu_gflop_per_j, gpu_gflop_per_j_pm; /* NAN without a valid GPU */
    /* API 0.3: the placement (joules_efficiency_at; from joules_efficiency: NONE, "" and NAN,
     * ref_model named all the same). */
    joules_precision precision;
    int simulated;                    /* the GPUs placed are simulated devices */
    char gpu_model[JOULES_MODEL_MAX]; /* the table's key of the GPUs: "a100-sxm4-80gb" */
    double peak_gflop_per_j;          /* that model's peak FLOP/s / TDP; NAN unknown */
    double share_of_peak;             /* headline GFLOP/J / peak_gflop_per_j, a fraction */
    double share_of_peak_pm;          /* its +/- (the headline figure's, scaled) */
    char ref_model[JOULES_N_REFERENCES][JOULES_MODEL_MAX]; /* "v100-sxm2", ... */
    double ref_peak_gflop_per_j[JOULES_N_REFERENCES];      /* NAN where the table has none */
    double ref_share[JOULES_N_REFERENCES];                 /* headline / that peak */
    char message[JOULES_MESSAGE_MAX]; /* why a peak is unknown; "" when all are known */
} joules_efficiency_result;

JOULES_API int joules_efficiency(const joules_monitor *m, const joules_measurement *r, double flops,
                                 joules_efficiency_result *out);
JOULES_API int joules_efficiency_at(const joules_monitor *m, const joules_measurement *r,
                                    double flops, joules_precision precision,
                                    joules_efficiency_result *out);
/* "fp64", "fp32", "tf32", "fp16", "bf16", "fp8", "int8" (any case): the precision, or
 * JOULES_E_INVALID. */
JOULES_API int joules_precision_parse(const char *name);
/* "fp64" ... "int8" ("fp16" for BF16 too); "none" for JOULES_PRECISION_NONE; "?" else. */
JOULES_API const char *joules_precision_name(joules_precision precision);

#ifdef __cplusplus
}
#endif

#endif /* JOULES_H */
