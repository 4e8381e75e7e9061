/* SPDX-License-Identifier: MIT */
/*
 * test_rapl.c - the RAPL backend on fake powercap trees: domains, names, hierarchy and the
 * disjoint total; psys; multi-die names; kinds; and every way a tree can be unusable (no
 * zones, unreadable or malformed files, the perf_event fallback), each with a message that
 * names the file and the remedy. Wraps and the tracker are in test_rapl_tracker.c.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_rapl_fake.h"

#define RANGE_UJ 262143999938ULL /* a real Haswell package: 2^32 units of 61.035 uJ */

static char root[4096];

static void fresh_root(void)
{
    if (root[0])
        t_rmtree(root);
    CHECK(t_mkdtemp(root, sizeof root) == 0);
}

static joules_domain_info info(const joules_monitor *m, const char *name)
{
    joules_domain_info di;
    memset(&di, 0, sizeof di);
    int i = fake_find(m, name);
    CHECKF(i >= 0, "no domain %s", name);
    if (i >= 0)
        joules_domain_info_get(m, i, &di);
    return di;
}

static void two_packages_with_dram(void)
{
    fresh_root();
    fake_zone(root, "intel-rapl:0", "package-0", RANGE_UJ, 999000);
    fake_zone(root, "intel-rapl:0:0", "core", RANGE_UJ, 499000);
    fake_zone(root, "intel-rapl:0:1", "dram", RANGE_UJ, 99000);
    fake_zone(root, "intel-rapl:1", "package-1", RANGE_UJ, 1999000);
    fake_zone(root, "intel-rapl:1:0", "core", RANGE_UJ, 699000);
    fake_zone(root, "intel-rapl:1:1", "dram", RANGE_UJ, 199000);
    /* The MMIO interface shows package 0 again: it must not be counted twice. */
    fake_zone(root, "intel-rapl-mmio:0", "package-0", RANGE_UJ, 1000000);
    /* The control type itself sits beside the zones and is not a zone. */
    fake_file(root, "class/powercap/intel-rapl/enabled", "1\n");

    joules_monitor *m = fake_open(root, 0);
    if (!m)
        return;
    char msg[JOULES_MESSAGE_MAX];
    CHECK_EQ_INT(fake_status(m, msg, sizeof msg), 0);
    CHECKF(strstr(msg, "6 RAPL domains") && strstr(msg, "mmio"), "%s", msg);
    CHECK_EQ_INT(joules_domain_count(m), 6);

    joules_domain_info p0 = info(m, "cpu0"), c0 = info(m, "cpu0.core"), d0 = info(m, "dram0");
    joules_domain_info p1 = info(m, "cpu1"), c1 = info(m, "cpu1.core"), d1 = info(m, "dram1");
    CHECK_EQ_INT(p0.kind, JOULES_KIND_CPU_PACKAGE);
    CHECK_EQ_INT(c0.kind, JOULES_KIND_CPU_CORE);
    CHECK_EQ_INT(d1.kind, JOULES_KIND_DRAM);
    CHECK_EQ_INT(p0.parent, -1);
    CHECK_EQ_INT(c0.parent, fake_find(m, "cpu0"));
    CHECK_EQ_INT(c1.parent, fake_find(m, "cpu1"));
    CHECK_EQ_INT(d0.parent, -1); /* beside the package, not inside it */
    CHECK_EQ_INT(p0.counted_in_total, 1);
    CHECK_EQ_INT(d0.counted_in_total, 1);
    CHECK_EQ_INT(c0.counted_in_total, 0);
    CHECK_EQ_INT(c1.counted_in_total, 0);
    CHECK(strcmp(p1.device, "package-1") == 0);
    CHECK(strcmp(c1.device, "package-1") == 0);
    CHECKF(strstr(p0.source, "intel-rapl:0/energy_uj") && strstr(p0.source, root), "%s", p0.source);
    CHECKF(strstr(d1.source, "intel-rapl:1:1/energy_uj"), "%s", d1.source);
    CHECK_EQ_INT(p0.caps & JOULES_CAP_ENERGY_COUNTER, JOULES_CAP_ENERGY_COUNTER);
    CHECK_EQ_INT(p0.method, JOULES_METHOD_COUNTER);
    CHECK_EQ_INT(p0.update_interval_ns, 1000000);
    CHECK_NEAR(p0.resolution_j, 1e-6, 1e-12);
    CHECK(p0.sensor_accuracy > 0 && p0.sensor_accuracy < 0.2);
    CHECK(d0.sensor_accuracy >= p0.sensor_accuracy);

    /* Real counters move every millisecond, so every reading sees a step: read once, move
     * every counter a little, and begin (test_rapl_idle.c covers a counter that stands
     * still at the begin edge). */
    joules_reading rd[8];
    t_sleep(0.1); /* the tracker's first poll, at open, is past */
    CHECK_EQ_INT(joules_read(m, rd, 8), 6);
    fake_set(root, "intel-rapl:0", 1000000);
    fake_set(root, "intel-rapl:0:0", 500000);
    fake_set(root, "intel-rapl:0:1", 100000);
    fake_set(root, "intel-rapl:1", 2000000);
    fake_set(root, "intel-rapl:1:0", 700000);
    fake_set(root, "intel-rapl:1:1", 200000);
    CHECK_EQ_INT(joules_window_begin(m, "w"), 0);
    t_sleep(0.02);
    fake_set(root, "intel-rapl:0", 1000000 + 10000000);  /* +10 J */
    fake_set(root, "intel-rapl:0:0", 500000 + 6000000);  /* +6 J, inside the 10 */
    fake_set(root, "intel-rapl:0:1", 100000 + 2000000);  /* +2 J */
    fake_set(root, "intel-rapl:1", 2000000 + 20000000);  /* +20 J */
    fake_set(root, "intel-rapl:1:0", 700000 + 12000000); /* +12 J */
    fake_set(root, "intel-rapl:1:1", 200000 + 3000000);  /* +3 J */
    t_sleep(0.02);
    joules_domain_energy r_dom[16];
    joules_measurement r;
    joules_measurement_init(&r, r_dom, 16);
    CHECK_EQ_INT(joules_window_end(m, "w", &r), 0);
    static const struct {
        const char *name;
        double j;
    } want[] = {{"cpu0", 10}, {"cpu0.core", 6},  {"dram0", 2},
                {"cpu1", 20}, {"cpu1.core", 12}, {"dram1", 3}};
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        const joules_domain_energy *e = &r.domains[fake_find(m, want[k].name)];
        CHECKF(e->valid, "%s: %s", want[k].name, e->message);
        CHECK_EQ_INT(e->method, JOULES_METHOD_COUNTER);
        CHECKF(e->energy_j >= want[k].j - e->uncertainty_j - 1e-9 &&
                   e->energy_j <= want[k].j + e->uncertainty_j + 1e-9,
               "%s: %.6f J +/- %.6f, want %.6f", want[k].name, e->energy_j, e->uncertainty_j,
               want[k].j);
        CHECKF(e->uncertainty_j < 0.15 * want[k].j, "%s: +/- %.6f J", want[k].name,
               e->uncertainty_j);
    }
    /* Packages and DRAM only: the cores are inside their packages. */
    CHECKF(r.total_energy_j > 35 - r.total_uncertainty_j - 1e-9 &&
               r.total_energy_j < 35 + r.total_uncertainty_j + 1e-9,
           "total %.6f +/- %.6f", r.total_energy_j, r.total_uncertainty_j);

    /* A deferred end on counters current at every read: ready at once, no wait to collect. */
    uint64_t ticket;
    CHECK_EQ_INT(joules_window_begin(m, "d"), 0);
    t_sleep(0.02);
    fake_set(root, "intel-rapl:0", 1000000 + 10000000 + 4000000); /* +4 J */
    t_sleep(0.02);
    CHECK_EQ_INT(joules_window_end_deferred(m, "d", &ticket), 0);
    CHECK_EQ_INT(joules_window_ready(m, ticket), 1);
    CHECK_EQ_INT(joules_window_collect(m, ticket, -1, &r), 0);
    const joules_domain_energy *e = &r.domains[fake_find(m, "cpu0")];
    CHECKF(e->valid && e->energy_j >= 4 - e->uncertainty_j - 1e-9 &&
               e->energy_j <= 4 + e->uncertainty_j + 1e-9 && e->uncertainty_j < 0.6,
           "%.6f J +/- %.6f, want 4", e->energy_j, e->uncertainty_j);
    joules_close(m);
}

static void psys_present(void)
{
    fresh_root();
    fake_zone(root, "intel-rapl:0", "package-0", RANGE_UJ, 10);
    fake_zone(root, "intel-rapl:0:0", "core", RANGE_UJ, 10);
    fake_zone(root, "intel-rapl:0:1", "uncore", RANGE_UJ, 10);
    fake_zone(root, "intel-rapl:1", "psys", RANGE_UJ, 10); /* a zone index is not a socket */
    joules_monitor *m = fake_open(root, 0);
    if (!m)
        return;
    CHECK_EQ_INT(joules_domain_count(m), 4);
    joules_domain_info p = info(m, "cpu0"), u = info(m, "cpu0.uncore"), s = info(m, "psys");
    CHECK_EQ_INT(u.kind, JOULES_KIND_CPU_UNCORE);
    CHECK_EQ_INT(u.parent, fake_find(m, "cpu0"));
    CHECK_EQ_INT(u.counted_in_total, 0);
    CHECK_EQ_INT(s.kind, JOULES_KIND_PSYS);
    CHECK_EQ_INT(s.parent, -1);
    CHECK_EQ_INT(p.counted_in_total, 1);
    CHECK_EQ_INT(s.counted_in_total, 0); /* psys covers the package: never both in a total */
    CHECK(strcmp(s.device, "platform") == 0);
    joules_close(m);

    /* psys alone is the platform's energy, and then it is the total. */
    m = fake_open(root, JOULES_KIND_PSYS);
    if (!m)
        return;
    CHECK_EQ_INT(joules_domain_count(m), 1);
    CHECK_EQ_INT(info(m, "psys").counted_in_total, 1);
    joules_close(m);

    /* Cores alone: their packages are not opened, so they are disjoint and counted. */
    m = fake_open(root, JOULES_KIND_CPU_CORE);
    if (!m)
        return;
    CHECK_EQ_INT(joules_domain_count(m), 1);
    joules_domain_info c = info(m, "cpu0.core");
    CHECK_EQ_INT(c.parent, -1);
    CHECK_EQ_INT(c.counted_in_total, 1);
    joules_close(m);
}

static void multi_die_and_amd(void)
{
    fresh_root();
    /* Die-scoped RAPL (e.g. Cascade Lake-AP): one top-level zone per die. */
    fake_zone(root, "intel-rapl:0", "package-0-die-0", RANGE_UJ, 1);
    fake_zone(root, "intel-rapl:1", "package-0-die-1", RANGE_UJ, 1);
    fake_zone(root, "intel-rapl:1:0", "dram", RANGE_UJ, 1);
    fake_zone(root, "intel-rapl:a", "package-1", RANGE_UJ, 1); /* ids are hex */
    fake_zone(root, "intel-rapl:a:0", "core", RANGE_UJ, 1);
    fake_zone(root, "intel-rapl:2", "something-new", RANGE_UJ, 1);
    joules_monitor *m = fake_open(root, 0);
    if (!m)
        return;
    CHECK_EQ_INT(joules_domain_count(m), 5);
    CHECK(fake_find(m, "cpu0.die0") >= 0);
    CHECK(fake_find(m, "cpu0.die1") >= 0);
    CHECK(fake_find(m, "dram0.die1") >= 0);
    CHECK_EQ_INT(info(m, "cpu1.core").parent, fake_find(m, "cpu1"));
    CHECK(strcmp(info(m, "cpu0.die1").device, "package-0-die-1") == 0);
    CHECK_EQ_INT(info(m, "cpu0.die1").counted_in_total, 1);
    joules_close(m);
}

static void kinds_filter(void)
{
    fresh_root();
    fake_zone(root, "intel-rapl:0", "package-0", RANGE_UJ, 1);
    fake_zone(root, "intel-rapl:0:0", "dram", RANGE_UJ, 1);
    joules_monitor *m = fake_open(root, JOULES_KIND_DRAM);
    if (!m)
        return;
    CHECK_EQ_INT(joules_domain_count(m), 1);
    CHECK(fake_find(m, "dram0") == 0);
    joules_close(m);

    /* AMD has no DRAM domain: asking for DRAM only finds nothing, and says so. */
    t_rmtree(root);
    fresh_root();
    fake_zone(root, "intel-rapl:0", "package-0", RANGE_UJ, 1);
    fake_zone(root, "intel-rapl:0:0", "core", RANGE_UJ, 1);
    m = fake_open(root, JOULES_KIND_DRAM);
    if (!m)
        return;
    char msg[JOULES_MESSAGE_MAX];
    CHECK_EQ_INT(fake_status(m, msg, sizeof msg), JOULES_E_NO_DOMAIN);
    CHECKF(strstr(msg, "requested kinds"), "%s", msg);
    CHECK_EQ_INT(joules_domain_count(m), 0);
    joules_close(m);
}

static void no_zones(void)
{
    fresh_root();
    joules_monitor *m = fake_open(root, 0); /* absent backends are not errors */
    if (!m)
        return;
    char msg[JOULES_MESSAGE_MAX], dir[4200];
    snprintf(dir, sizeof dir, "%s/class/powercap", root);
    CHECK_EQ_INT(fake_status(m, msg, sizeof msg), JOULES_E_NO_DOMAIN);
    CHECKF(strstr(msg, dir) && strstr(msg, "No such file") && strstr(msg, "intel_rapl"), "%s", msg);
    CHECKF(strstr(msg, "perf"), "%s", msg);
    CHECK_EQ_INT(joules_domain_count(m), 0);
    joules_close(m);

    fake_file(root, "class/powercap/intel-rapl/enabled", "0\n"); /* driver there, no zone */
    m = fake_open(root, 0);
    if (!m)
        return;
    CHECK_EQ_INT(fake_status(m, msg, sizeof msg), JOULES_E_NO_DOMAIN);
    CHECKF(strstr(msg, "no RAPL zone in") && strstr(msg, dir), "%s", msg);
    joules_close(m);
}

static void energy_unreadable(void)
{
    fresh_root();
    fake_zone(root, "intel-rapl:0", "package-0", RANGE_UJ, 1);
    fake_deny(root, "intel-rapl:0");
    joules_monitor *m = fake_open(root, 0);
    if (!m)
        return;
    char msg[JOULES_MESSAGE_MAX], file[4200];
    snprintf(file, sizeof file, "%s/class/powercap/intel-rapl:0/energy_uj", root);
    int code = fake_status(m, msg, sizeof msg);
    CHECK_EQ_INT(code, geteuid() != 0 ? JOULES_E_PERMISSION : JOULES_E_IO);
    CHECKF(strstr(msg, file), "names the file: %s", msg);
    CHECKF(strstr(msg, geteuid() != 0 ? "Permission denied" : "Is a directory"), "why: %s", msg);
    CHECKF(strstr(msg, "run as root") && strstr(msg, "chmod a+r") && strstr(msg, "udev"),
           "remedy: %s", msg);
    CHECKF(strstr(msg, "no perf power PMU"), "perf: %s", msg);
    CHECK_EQ_INT(joules_domain_count(m), 0);
    joules_close(m);
}

static void malformed_files(void)
{
    char msg[JOULES_MESSAGE_MAX];
    static const struct {
        const char *file, *text, *expect;
    } cases[] = {
        {"energy_uj", "abc\n", "\"abc\""},
        {"energy_uj", "-5\n", "\"-5\""},
        {"energy_uj", "99999999999999999999999\n", "not a counter"},
        {"energy_uj", "", "No data"},
        {"max_energy_range_uj", "12x\n", "\"12x\""},
        {"max_energy_range_uj", "0\n", "\"0\""},
        {"energy_uj", "262143999939\n", "beyond max_energy_range_uj"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        fresh_root();
        fake_zone(root, "intel-rapl:0", "package-0", RANGE_UJ, 1);
        char rel[256];
        snprintf(rel, sizeof rel, "class/powercap/intel-rapl:0/%s", cases[k].file);
        fake_file(root, rel, cases[k].text);
        joules_monitor *m = fake_open(root, 0);
        if (!m)
            continue;
        int code = fake_status(m, msg, sizeof msg);
        CHECKF(code == JOULES_E_PARSE || code == JOULES_E_IO, "case %zu: code %d", k, code);
        CHECKF(strstr(msg, cases[k].file) && strstr(msg, cases[k].expect), "case %zu: %s", k, msg);
        CHECK_EQ_INT(joules_domain_count(m), 0);
        joules_close(m);
    }

    /* One bad zone does not hide the good ones; the status says what was skipped. */
    fresh_root();
    fake_zone(root, "intel-rapl:0", "package-0", RANGE_UJ, 1);
    fake_zone(root, "intel-rapl:0:0", "dram", RANGE_UJ, 1);
    fake_file(root, "class/powercap/intel-rapl:0:0/energy_uj", "n/a\n");
    joules_monitor *m = fake_open(root, 0);
    if (!m)
        return;
    CHECK_EQ_INT(fake_status(m, msg, sizeof msg), 0);
    CHECKF(strstr(msg, "skipped") && strstr(msg, "intel-rapl:0:0/energy_uj"), "%s", msg);
    CHECK_EQ_INT(joules_domain_count(m), 1);

    /* A counter that turns to garbage after open: that window's figure is invalid, with why. */
    CHECK_EQ_INT(joules_window_begin(m, "w"), 0);
    fake_file(root, "class/powercap/intel-rapl:0/energy_uj", "garbage\n");
    joules_domain_energy r_dom[16];
    joules_measurement r;
    joules_measurement_init(&r, r_dom, 16);
    CHECK_EQ_INT(joules_window_end(m, "w", &r), 0);
    CHECK_EQ_INT(r.domains[0].valid, 0);
    CHECK_EQ_INT(r.domains[0].error, JOULES_E_PARSE);
    CHECKF(strstr(r.domains[0].message, "garbage"), "%s", r.domains[0].message);
    joules_close(m);
}

static void perf_fallback_chosen(void)
{
    /* A short root: the status message (JOULES_MESSAGE_MAX bytes) names two paths under it,
     * and a real /sys is short too. */
    if (root[0])
        t_rmtree(root);
    snprintf(root, sizeof root, "/tmp/jrXXXXXX");
    CHECK(mkdtemp(root) != NULL);
    fake_zone(root, "intel-rapl:0", "package-0", RANGE_UJ, 1);
    fake_zone(root, "intel-rapl:0:0", "dram", RANGE_UJ, 1);
    fake_deny(root, "intel-rapl:0");
    fake_deny(root, "intel-rapl:0:0");
    /* The perf power PMU, as arch/x86/events/rapl.c publishes it. The type is one no kernel
     * has registered, so perf_event_open fails whoever runs the test: the fallback is tried
     * and its failure reported (the syscall itself cannot be faked). */
    const char *pmu = "bus/event_source/devices/power";
    char rel[256];
    snprintf(rel, sizeof rel, "%s/type", pmu);
    fake_file(root, rel, "2147480000\n");
    snprintf(rel, sizeof rel, "%s/events/energy-pkg", pmu);
    fake_file(root, rel, "event=0x02\n");
    snprintf(rel, sizeof rel, "%s/events/energy-pkg.scale", pmu);
    fake_file(root, rel, "2.3283064365386962890625e-10\n");
    snprintf(rel, sizeof rel, "%s/events/energy-pkg.unit", pmu);
    fake_file(root, rel, "Joules\n");
    snprintf(rel, sizeof rel, "%s/events/energy-ram", pmu);
    fake_file(root, rel, "event=0x03\n");
    fake_file(root, "devices/system/cpu/cpu0/topology/physical_package_id", "0\n");
    fake_file(root, "devices/system/cpu/cpu1/topology/physical_package_id", "0\n");

    joules_monitor *m = fake_open(root, 0);
    if (!m)
        return;
    char msg[JOULES_MESSAGE_MAX], file[4200], pmu_dir[4200];
    snprintf(file, sizeof file, "%s/class/powercap/intel-rapl:0", root);
    snprintf(pmu_dir, sizeof pmu_dir, "%s/%s", root, pmu);
    int code = fake_status(m, msg, sizeof msg);
    CHECK(code == JOULES_E_PERMISSION || code == JOULES_E_IO);
    CHECKF(strstr(msg, file) && strstr(msg, "energy_uj"), "names the sysfs file: %s", msg);
    char what[4300];
    snprintf(what, sizeof what, "perf_event_open(%s): ", pmu_dir);
    CHECKF(strstr(msg, what), "says what failed: %s", msg);
    CHECKF(strstr(msg, "perf_event_paranoid") && strstr(msg, "CAP_PERFMON"), "remedy: %s", msg);
    CHECK_EQ_INT(joules_domain_count(m), 0);
    joules_close(m);

    /* A malformed PMU description is reported, not trusted. */
    snprintf(rel, sizeof rel, "%s/type", pmu);
    fake_file(root, rel, "power\n");
    m = fake_open(root, 0);
    if (!m)
        return;
    fake_status(m, msg, sizeof msg);
    CHECKF(strstr(msg, "malformed") && strstr(msg, "/type"), "%s", msg);
    joules_close(m);
}

int main(void)
{
    RUN(two_packages_with_dram);
    RUN(psys_present);
    RUN(multi_die_and_amd);
    RUN(kinds_filter);
    RUN(no_zones);
    RUN(energy_unreadable);
    RUN(malformed_files);
    RUN(perf_fallback_chosen);
    if (root[0])
        t_rmtree(root);
    return t_end();
}
