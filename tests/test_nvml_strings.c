/* SPDX-License-Identifier: MIT */
/*
 * test_nvml_strings.c - strings from the driver are bounded by their buffers: a library
 * (tests/fake_nvml_nonul.c) that fills the name, UUID, bus id and driver version buffers
 * without a NUL gives joules strings one byte shorter than the buffer, of those bytes only
 * (under ASan, a read past the buffer is a report).
 */
#include <string.h>

#include "abi/nvml_abi.h"
#include "joules.h"
#include "testlib.h"

/* s holds exactly n copies of c and nothing else. */
static int all_of(const char *s, char c, size_t n)
{
    if (strlen(s) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] != c)
            return 0;
    return 1;
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

static void test_unterminated_strings(void)
{
    joules_options o;
    joules_options_init(&o);
    o.nvml_library = JOULES_TEST_FAKE_NVML_NONUL;
    o.kinds = JOULES_KIND_GPU;
    joules_monitor *m = NULL;
    char err[256] = "";
    int rc = joules_open(&m, &o, err, sizeof err);
    CHECKF(rc == 0, "joules_open: %s", err);
    if (rc != 0)
        return;
    CHECK_EQ_INT(joules_domain_count(m), 1);
    joules_domain_info di;
    CHECK_EQ_INT(joules_domain_info_get(m, 0, &di), 0);
    CHECKF(all_of(di.device, 'N', NVML_DEVICE_NAME_V2_BUFFER_SIZE - 1), "device '%s'", di.device);
    CHECKF(all_of(di.uuid, 'U', sizeof di.uuid - 1), "uuid '%s'", di.uuid);
    CHECKF(
        all_of(di.bus_id, 'B', min_size(NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE, sizeof di.bus_id - 1)),
        "bus id '%s'", di.bus_id);
    joules_gpu_status st;
    CHECK_EQ_INT(joules_gpu_status_get(m, 0, &st), 0);
    CHECKF(all_of(st.name, 'N', sizeof st.name - 1), "name '%s'", st.name);
    CHECKF(all_of(st.uuid, 'U', min_size(sizeof di.uuid, sizeof st.uuid) - 1), "uuid '%s'",
           st.uuid);
    CHECKF(all_of(st.driver_version, 'D', sizeof st.driver_version - 1), "driver '%s'",
           st.driver_version);
    joules_close(m);
}

int main(void)
{
    RUN(test_unterminated_strings);
    return t_end();
}
