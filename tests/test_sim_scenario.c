/* SPDX-License-Identifier: MIT */
/*
 * test_sim_scenario.c - scenario files and faults: a malformed or unreadable scenario makes
 * nvmlInit* fail with NVML_ERROR_UNKNOWN and a "file:line: message" from jsimLastError;
 * strict parsing of each directive; the sensor's clock moved by `sensor phase=`; every fault
 * surfaces as the NVML error a client would meet (GPU_IS_LOST, injected errors at a seeded rate,
 * counter reset, NOT_SUPPORTED energy); the shipped scenarios parse.
 */
#include <dirent.h>
#include <string.h>

#include "test_sim_common.h"

static struct sim_api A;
static char dir[256];

static void last_error(char *buf, unsigned len)
{
    CHECK_EQ_INT(A.LastError(buf, len), NVML_SUCCESS);
}

static void test_init_failures(void)
{
    char path[512], msg[512];
    snprintf(path, sizeof path, "%s/bad.scn", dir);
    t_write_file(path, "# a comment\nprofile a100\nphase 2s util=1 alhpa=0.5\n");
    setenv("JOULES_SIM_SCENARIO", path, 1);
    CHECK_EQ_INT(A.Init_v2(), NVML_ERROR_UNKNOWN);
    last_error(msg, sizeof msg);
    CHECKF(strstr(msg, "bad.scn:3:") && strstr(msg, "alhpa"), "message: %s", msg);
    unsigned n;
    CHECK_EQ_INT(A.GetCount_v2(&n), NVML_ERROR_UNINITIALIZED);
    CHECK_EQ_INT(A.LastError(msg, 4), NVML_ERROR_INSUFFICIENT_SIZE);
    /* A buffer too small for the whole message gets the start of the path elided first, then
     * the end of the message, never a refusal nor a split character. */
    last_error(msg, 40);
    CHECKF(!strncmp(msg, ".../bad.scn:3: phase: ", 22) && strlen(msg) == 39 &&
               !strcmp(msg + 36, "..."),
           "message: %s", msg);
    last_error(msg, 32);
    CHECKF(!strncmp(msg, "...", 3) && strlen(msg) == 31 && !strcmp(msg + 28, "..."), "message: %s",
           msg);
    char deep[sizeof path];
    snprintf(deep, sizeof deep, "%s/%s", dir,
             "\xc3\xa9\xc3\xa9\xc3\xa9-a-directory-whose-name-alone-is-longer-than-what-"
             "a-small-buffer-can-hold-whatever-its-message-says");
    char typo[sizeof deep + 16];
    snprintf(typo, sizeof typo, "%s/typo.scn", deep);
    t_write_file(typo, "phse 2s\n");
    setenv("JOULES_SIM_SCENARIO", typo, 1);
    CHECK_EQ_INT(A.Init_v2(), NVML_ERROR_UNKNOWN);
    last_error(msg, sizeof msg);
    CHECKF(!strncmp(msg, typo, strlen(typo)) && strstr(msg, ":1: unknown directive 'phse'"),
           "message: %s", msg);
    for (unsigned len = 32; len < 300; len++) {
        char small[300];
        memset(small, 'x', sizeof small);
        last_error(small, len);
        size_t sn = strlen(small);
        CHECKF(sn < len && sn + 2 >= len - 1, "%u: %s", len, small);
        for (size_t i = 0; i < sn; i++) /* no character cut in two: é is c3 a9 */
            CHECKF((unsigned char)small[i] != 0xc3 || (unsigned char)small[i + 1] == 0xa9, "%u: %s",
                   len, small);
        CHECKF(!strncmp(small, "...", 3) && (unsigned char)small[3] != 0xa9, "%u: %s", len, small);
        if (len > 200) /* room for the whole tail: the file's name, the line, the message */
            CHECKF(strstr(small, "/typo.scn:1: unknown directive 'phse' (expected") &&
                       small[sn - 1] == ')',
                   "%u: %s", len, small);
    }
    unsetenv("JOULES_SIM_SCENARIO");

    snprintf(path, sizeof path, "%s/missing.scn", dir);
    setenv("JOULES_SIM_SCENARIO", path, 1);
    CHECK_EQ_INT(A.InitWithFlags(0), NVML_ERROR_UNKNOWN);
    last_error(msg, sizeof msg);
    CHECKF(strstr(msg, "missing.scn") && strstr(msg, "cannot open"), "message: %s", msg);

    unsetenv("JOULES_SIM_SCENARIO");
    setenv("JOULES_SIM_PROFILE", "v100", 1);
    CHECK_EQ_INT(A.Init(), NVML_ERROR_UNKNOWN);
    last_error(msg, sizeof msg);
    CHECKF(strstr(msg, "JOULES_SIM_PROFILE") && strstr(msg, "v100"), "message: %s", msg);
    setenv("JOULES_SIM_PROFILE", "test", 1);
    setenv("JOULES_SIM_DEVICES", "17", 1);
    CHECK_EQ_INT(A.Init(), NVML_ERROR_UNKNOWN);
    setenv("JOULES_SIM_DEVICES", "2", 1);
    setenv("JOULES_SIM_PRIVILEGED", "maybe", 1);
    CHECK_EQ_INT(A.Init(), NVML_ERROR_UNKNOWN);
    unsetenv("JOULES_SIM_PRIVILEGED");

    /* A good file now; the environment overrides its profile and device count. */
    snprintf(path, sizeof path, "%s/good.scn", dir);
    t_write_file(path, "profile a6000\ndevices 4\nidle 1s\n");
    setenv("JOULES_SIM_SCENARIO", path, 1);
    CHECK_EQ_INT(A.Init(), NVML_SUCCESS);
    unsetenv("JOULES_SIM_SCENARIO");
    unsetenv("JOULES_SIM_PROFILE");
    unsetenv("JOULES_SIM_DEVICES");
    CHECK_EQ_INT(A.GetCount_v2(&n), NVML_SUCCESS);
    CHECK_EQ_INT(n, 2);
    nvmlDevice_t d;
    char name[96];
    CHECK_EQ_INT(A.GetHandleByIndex_v2(0, &d), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetName(d, name, sizeof name), NVML_SUCCESS);
    CHECK(strcmp(name, "Joules Test GPU (simulated)") == 0);
}

/* Each bad text must fail at the given line with a fragment of the message. */
static void test_parse_errors(void)
{
    static const struct {
        const char *text;
        int line;
        const char *fragment;
    } cases[] = {
        {"bogus 1\n", 1, "unknown directive 'bogus'"},
        {"profile test\nprofile test\n", 2, "profile is set twice"},
        {"profile rtx9090\n", 1, "unknown 'rtx9090'"},
        {"devices 0\n", 1, "out of range"},
        {"devices 2.5\n", 1, "not an integer"},
        {"\n\nphase\n", 3, "missing duration"},
        {"phase 2x\n", 1, "not a number"},
        {"phase -1s\n", 1, "negative duration"},
        {"repeat forever\nphase 3ms\nidle 1e38\n", 3, "longer than 1000000000 s"},
        {"fault lost at=1e300s\n", 1, "longer than"},
        {"phase 1s util=150%\n", 1, "out of range"},
        {"phase 1s util\n", 1, "expected key=value"},
        {"idle 1s util=1\n", 1, "unknown key 'util'"},
        {"phase 1s alpha=3\n", 1, "out of range"},
        {"fault\n", 1, "missing kind"},
        {"fault melt at=1\n", 1, "unknown kind 'melt'"},
        {"fault lost\n", 1, "missing at=TIME"},
        {"fault errors from=1s\n", 1, "missing rate"},
        {"fault errors rate=0.1 code=OOPS\n", 1, "unknown code 'OOPS'"},
        {"fault errors rate=0.1 from=5 until=2\n", 1, "until must be after from"},
        {"fault lost at=1 device=16\n", 1, "out of range"},
        {"cooling lukewarm\n", 1, "unknown option"},
        {"cooling c=100\n", 1, "missing r="},
        {"governor maybe\n", 1, "expected on/off"},
        {"power-limit 0\n", 1, "out of range"},
        {"lock-clocks 1500 1000\n", 1, "min 1500 > max 1000"},
        {"lock-clocks 1000\n", 1, "expected 2 arguments"},
        {"repeat 3\n", 0, "repeat without any phase"},
        {"repeat forever\nphase 0s\n", 0, "at least 1 ms"},
        {"seed -4\n", 1, "not an unsigned integer"},
        {"sensor gain=0.9\n", 1, "out of range"},
        {"sensor phase=100ms\n", 1, "from 0 to 99ms"},
        {"sensor phase=2.5ms\n", 1, "whole number of ms"},
        {"sensor phase=37\n", 1, "from 0 to 99ms"},
        {"ambient 20 21\n", 1, "expected 1 argument"},
        {"profile test\nambient -10\n", 2, "out of range"},
        {"ambient -0.5\n", 1, "out of range"},
        {"\ntemperature -1\n", 2, "out of range"},
        {"repeat 1000000000\nphase 0s\nidle 0ms\n", 0, "at least 1 ms"},
        {"fault xid at=1s\n", 1, "missing xid=N"},
        {"fault xid xid=13\n", 1, "missing at=TIME"},
        {"fault xid at=1s xid=13.5\n", 1, "not an integer"},
        {"phase 0.4ms\nrepeat 2\n", 0, "at least 1 ms"},
    };
    char msg[512], want[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECKF(A.Reconfigure(cases[i].text, JSIM_FLAG_VIRTUAL_TIME) == NVML_ERROR_INVALID_ARGUMENT,
               "case %zu accepted: %s", i, cases[i].text);
        last_error(msg, sizeof msg);
        snprintf(want, sizeof want, "scenario:%d: ", cases[i].line);
        CHECKF(strncmp(msg, want, strlen(want)) == 0 && strstr(msg, cases[i].fragment),
               "case %zu: got \"%s\", want \"%s...%s\"", i, msg, want, cases[i].fragment);
    }
    /* A failed reconfiguration leaves the previous model in place. */
    unsigned n;
    CHECK_EQ_INT(A.GetCount_v2(&n), NVML_SUCCESS);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(A.Reconfigure(NULL, 0), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(A.Reconfigure("", 8), NVML_ERROR_INVALID_ARGUMENT);
}

static void test_lost(void)
{
    CHECK_EQ_INT(A.Reconfigure("profile test\ndevices 2\nphase 5s util=1\n"
                               "fault lost at=1s device=1\n",
                               JSIM_FLAG_VIRTUAL_TIME),
                 NVML_SUCCESS);
    nvmlDevice_t d0, d1;
    unsigned p;
    unsigned long long e;
    CHECK_EQ_INT(A.GetHandleByIndex_v2(0, &d0), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetHandleByIndex_v2(1, &d1), NVML_SUCCESS);
    CHECK_EQ_INT(A.Advance(0.999), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetPowerUsage(d1, &p), NVML_SUCCESS);
    CHECK_EQ_INT(A.Advance(0.001), NVML_SUCCESS);
    CHECK_EQ_INT(A.Advance(0.001), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetPowerUsage(d1, &p), NVML_ERROR_GPU_IS_LOST);
    CHECK_EQ_INT(A.GetTotalEnergyConsumption(d1, &e), NVML_ERROR_GPU_IS_LOST);
    char name[96];
    CHECK_EQ_INT(A.GetName(d1, name, sizeof name), NVML_ERROR_GPU_IS_LOST);
    nvmlFieldValue_t v = {.fieldId = NVML_FI_DEV_POWER_INSTANT};
    CHECK_EQ_INT(A.GetFieldValues(d1, 1, &v), NVML_ERROR_GPU_IS_LOST);
    CHECK_EQ_INT(v.nvmlReturn, NVML_ERROR_GPU_IS_LOST);
    CHECK_EQ_INT(A.GetPowerUsage(d0, &p), NVML_SUCCESS); /* the other device is fine */
    jsimState s = sim_state(&A, d1);
    CHECK(s.lost == 1);
    CHECK_NEAR(s.power_w, 0, 0);
}

/* Returns the pattern of failures of n calls as a bit string hash, counting failures. */
static unsigned long long error_pattern(nvmlDevice_t d, int n, int *fails)
{
    unsigned long long h = 1469598103934665603ull;
    unsigned p;
    *fails = 0;
    for (int i = 0; i < n; i++) {
        nvmlReturn_t rc = A.GetPowerUsage(d, &p);
        CHECK(rc == NVML_SUCCESS || rc == NVML_ERROR_TIMEOUT);
        if (rc != NVML_SUCCESS)
            (*fails)++;
        h = (h ^ (unsigned)rc) * 1099511628211ull;
    }
    return h;
}

static void test_error_rate(void)
{
    const char *text = "profile test\nseed 3\nphase 5s util=1\n"
                       "fault errors rate=0.25 from=1s until=2s code=TIMEOUT\n";
    nvmlDevice_t d;
    int fails;
    CHECK_EQ_INT(A.Reconfigure(text, JSIM_FLAG_VIRTUAL_TIME), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetHandleByIndex_v2(0, &d), NVML_SUCCESS);
    error_pattern(d, 1000, &fails);
    CHECK_EQ_INT(fails, 0); /* before from= */
    CHECK_EQ_INT(A.Advance(1.0), NVML_SUCCESS);
    unsigned long long h1 = error_pattern(d, 4000, &fails);
    CHECKF(fails > 850 && fails < 1150, "%d of 4000 calls failed at rate 0.25", fails);
    CHECK_EQ_INT(A.Advance(1.0), NVML_SUCCESS);
    int after;
    error_pattern(d, 1000, &after);
    CHECK_EQ_INT(after, 0); /* after until= */
    /* The same seed gives the same failures. */
    CHECK_EQ_INT(A.Reconfigure(text, JSIM_FLAG_VIRTUAL_TIME), NVML_SUCCESS);
    CHECK_EQ_INT(A.Advance(1.0), NVML_SUCCESS);
    int fails2;
    CHECK(error_pattern(d, 4000, &fails2) == h1);
    CHECK_EQ_INT(fails2, fails);
}

static void test_reset_and_no_energy(void)
{
    nvmlDevice_t d;
    unsigned long long c;
    double e;
    long long t;
    CHECK_EQ_INT(A.Reconfigure("profile test\nphase 10s power=100\nfault reset at=2s\n",
                               JSIM_FLAG_VIRTUAL_TIME),
                 NVML_SUCCESS);
    CHECK_EQ_INT(A.GetHandleByIndex_v2(0, &d), NVML_SUCCESS);
    CHECK_EQ_INT(A.Advance(1.95), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetTotalEnergyConsumption(d, &c), NVML_SUCCESS);
    CHECK_NEAR(c, 190000, 1);
    CHECK_EQ_INT(A.Advance(0.1), NVML_SUCCESS); /* 2.05 s: reset at 2 s, a tick at 2.0 */
    CHECK_EQ_INT(A.GetTotalEnergyConsumption(d, &c), NVML_SUCCESS);
    CHECK(c < 1000);
    CHECK_EQ_INT(A.Advance(0.95), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetTotalEnergyConsumption(d, &c), NVML_SUCCESS);
    CHECK_NEAR(c, 100000, 1); /* 1 s since the reset */
    CHECK_EQ_INT(A.Now(&t), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetTrueEnergy(d, t, &e), NVML_SUCCESS);
    CHECK_NEAR(e, 300, 1e-6); /* the truth does not reset */

    CHECK_EQ_INT(A.Reconfigure("profile a100\nfault no-energy\nphase 10s power=100\n",
                               JSIM_FLAG_VIRTUAL_TIME),
                 NVML_SUCCESS);
    CHECK_EQ_INT(A.Advance(1.0), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetTotalEnergyConsumption(d, &c), NVML_ERROR_NOT_SUPPORTED);
    CHECK_EQ_INT(sim_field(&A, d, NVML_FI_DEV_TOTAL_ENERGY_CONSUMPTION, 0, NULL),
                 NVML_ERROR_NOT_SUPPORTED);
    CHECK_EQ_INT(sim_field(&A, d, NVML_FI_DEV_ENERGY, 0, NULL), NVML_ERROR_NOT_SUPPORTED);
    nvmlFieldValue_t v;
    CHECK_EQ_INT(sim_field(&A, d, NVML_FI_DEV_POWER_INSTANT, 0, &v), NVML_SUCCESS);
    CHECK_EQ_INT(v.value.uiVal, 100000); /* power stays available for integration */

    /* A driver before R535 knows none of fields 185-192; the counter and PowerUsage stay. */
    CHECK_EQ_INT(A.Reconfigure("profile a6000\nfault old-driver\nphase 10s power=100\n",
                               JSIM_FLAG_VIRTUAL_TIME),
                 NVML_SUCCESS);
    CHECK_EQ_INT(A.Advance(2.0), NVML_SUCCESS);
    for (unsigned id = NVML_FI_DEV_POWER_AVERAGE; id <= NVML_FI_DEV_POWER_REQUESTED_LIMIT; id++)
        CHECKF(sim_field(&A, d, id, 0, NULL) == NVML_ERROR_NOT_SUPPORTED, "field %u", id);
    CHECK_EQ_INT(sim_field(&A, d, NVML_FI_DEV_TOTAL_ENERGY_CONSUMPTION, 0, NULL), NVML_SUCCESS);
    CHECK_EQ_INT(A.GetTotalEnergyConsumption(d, &c), NVML_SUCCESS);
    unsigned mw = 0;
    CHECK_EQ_INT(A.GetPowerUsage(d, &mw), NVML_SUCCESS);
    CHECK_NEAR(mw, 100000, 1); /* the 1-s average of a steady 100 W */
}

static void test_repeat(void)
{
    nvmlDevice_t d;
    jsimState s;
    CHECK_EQ_INT(A.Reconfigure("profile test\nphase 100ms power=80\nphase 100ms power=20\n"
                               "repeat 2\n",
                               JSIM_FLAG_VIRTUAL_TIME),
                 NVML_SUCCESS);
    CHECK_EQ_INT(A.GetHandleByIndex_v2(0, &d), NVML_SUCCESS);
    CHECK_EQ_INT(A.Advance(0.25), NVML_SUCCESS);
    s = sim_state(&A, d);
    CHECK_NEAR(s.power_w, 80, 1e-9); /* second round, first phase */
    CHECK_NEAR(s.energy_j, 8 + 2 + 4, 1e-9);
    CHECK_EQ_INT(A.Advance(0.3), NVML_SUCCESS);
    s = sim_state(&A, d);
    CHECK(s.power_w < 20 && s.util == 0); /* after two rounds: idle */

    /* Zero-length phases in a round that lasts: every step moves the cursor over a bounded
     * number of phases, so a huge count costs no more than the time it covers. */
    CHECK_EQ_INT(A.Reconfigure("profile test\nphase 0s power=10\nphase 1ms power=50\n"
                               "idle 0ms\nrepeat 1000000000\n",
                               JSIM_FLAG_VIRTUAL_TIME),
                 NVML_SUCCESS);
    CHECK_EQ_INT(A.GetHandleByIndex_v2(0, &d), NVML_SUCCESS);
    double t0 = t_mono_s();
    CHECK_EQ_INT(A.Advance(2.0), NVML_SUCCESS);
    double took_s = t_mono_s() - t0;
    s = sim_state(&A, d);
    CHECK_NEAR(s.power_w, 50, 1e-9);
    CHECK_NEAR(s.energy_j, 100, 1e-6);
    CHECKF(took_s < 5, "2 s of 1 ms rounds took %.2f s", took_s);

    /* The bounds of ambient and temperature are accepted (0 °C is the lowest). */
    CHECK_EQ_INT(
        A.Reconfigure("profile test\nambient 0\ntemperature 0\nidle 1s\n", JSIM_FLAG_VIRTUAL_TIME),
        NVML_SUCCESS);
    CHECK_EQ_INT(A.GetHandleByIndex_v2(0, &d), NVML_SUCCESS);
    s = sim_state(&A, d);
    CHECK_NEAR(s.temperature_c, 0, 1e-9);
}

/* The sensor's clock moved by phase=: the counter updates 30 ms into each 100 ms (the
 * counter floors a sum of 1 ms steps: within 1 mJ). */
static void test_sensor_phase(void)
{
    nvmlDevice_t d;
    unsigned long long c;
    const char *texts[] = {"profile test\nphase 10s power=100\n",
                           "profile test\nsensor phase=30ms\nphase 10s power=100\n"};
    const unsigned long long at_50ms[] = {0, 3000}, at_135ms[] = {10000, 13000};
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(A.Reconfigure(texts[i], JSIM_FLAG_VIRTUAL_TIME), NVML_SUCCESS);
        CHECK_EQ_INT(A.GetHandleByIndex_v2(0, &d), NVML_SUCCESS);
        CHECK_EQ_INT(A.Advance(0.05), NVML_SUCCESS);
        CHECK_EQ_INT(A.GetTotalEnergyConsumption(d, &c), NVML_SUCCESS);
        CHECKF(c + 1 >= at_50ms[i] && c <= at_50ms[i] + 1, "%s: %llu mJ at 50 ms", texts[i], c);
        CHECK_EQ_INT(A.Advance(0.085), NVML_SUCCESS);
        CHECK_EQ_INT(A.GetTotalEnergyConsumption(d, &c), NVML_SUCCESS);
        CHECKF(c + 1 >= at_135ms[i] && c <= at_135ms[i] + 1, "%s: %llu mJ at 135 ms", texts[i], c);
    }
}

/* Every shipped scenario parses. */
static void test_shipped(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/scenarios", JOULES_TEST_SOURCE_DIR);
    DIR *dp = opendir(path);
    CHECK(dp != NULL);
    if (!dp)
        return;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(dp))) {
        size_t len = strlen(de->d_name);
        if (len < 5 || strcmp(de->d_name + len - 4, ".scn") != 0)
            continue;
        char file[1400], text[65536], msg[512];
        snprintf(file, sizeof file, "%s/%s", path, de->d_name);
        FILE *f = fopen(file, "r");
        CHECK(f != NULL);
        if (!f)
            continue;
        size_t got = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        text[got] = '\0';
        nvmlReturn_t rc = A.Reconfigure(text, JSIM_FLAG_VIRTUAL_TIME);
        if (rc != NVML_SUCCESS)
            last_error(msg, sizeof msg);
        CHECKF(rc == NVML_SUCCESS, "%s: %s", de->d_name, rc ? msg : "");
        n++;
    }
    closedir(dp);
    CHECKF(n >= 5, "%d scenarios", n);
}

int main(void)
{
    sim_load(&A);
    if (t_mkdtemp(dir, sizeof dir) != 0)
        return 1;
    RUN(test_init_failures);
    RUN(test_parse_errors);
    RUN(test_lost);
    RUN(test_error_rate);
    RUN(test_reset_and_no_energy);
    RUN(test_repeat);
    RUN(test_sensor_phase);
    RUN(test_shipped);
    A.Shutdown();
    t_rmtree(dir);
    return t_end();
}
