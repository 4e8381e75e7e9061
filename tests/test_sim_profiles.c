/* SPDX-License-Identifier: MIT */
/*
 * test_sim_profiles.c - the simulator's profile list (jsimGetProfile), the one list the
 * command line asks instead of keeping its own: it answers before nvmlInit, every name it
 * gives is one the simulator accepts (the device then reports the listed name), aliases
 * follow the profiles and stand for one of them, and every name appears in the message
 * that rejects an unknown profile.
 */
#include <string.h>

#include "test_sim_common.h"

#define MAX_ENTRIES 64

static struct sim_api A;
static jsimGetProfile_fn get_profile;
static jsimProfileInfo entries[MAX_ENTRIES];
static unsigned n_entries;

static void test_list_before_init(void)
{
    sim_sym(&A, &get_profile, JSIM_SYMBOL_GET_PROFILE);
    for (n_entries = 0; n_entries < MAX_ENTRIES; n_entries++) {
        jsimProfileInfo *e = &entries[n_entries];
        e->version = JSIM_STRUCT_VERSION(jsimProfileInfo);
        nvmlReturn_t rc = get_profile(n_entries, e);
        if (rc == NVML_ERROR_NOT_FOUND)
            break;
        CHECK_EQ_INT(rc, NVML_SUCCESS);
    }
    CHECKF(n_entries > 1 && n_entries < MAX_ENTRIES, "%u entries", n_entries);
    unsigned boards = 0, tests = 0;
    int alias_seen = 0;
    for (unsigned i = 0; i < n_entries; i++) {
        const jsimProfileInfo *e = &entries[i];
        CHECKF(e->key && e->key[0], "entry %u", i);
        CHECKF(e->name && e->name[0], "%s has no device name", e->key);
        for (unsigned j = 0; j < i; j++)
            CHECKF(strcmp(e->key, entries[j].key) != 0, "%s listed twice", e->key);
        if (e->alias_of) {
            alias_seen = 1;
            int target = -1;
            for (unsigned j = 0; j < n_entries; j++)
                if (!entries[j].alias_of && strcmp(entries[j].key, e->alias_of) == 0)
                    target = (int)j;
            CHECKF(target >= 0, "alias %s stands for %s, not a listed profile", e->key,
                   e->alias_of);
            if (target >= 0)
                CHECKF(strcmp(e->name, entries[target].name) == 0, "%s", e->key);
        } else {
            CHECKF(!alias_seen, "profile %s after an alias", e->key);
            boards += !e->for_tests;
            tests += e->for_tests != 0;
        }
    }
    CHECKF(boards >= 1, "%u real boards", boards);
    CHECKF(tests >= 1, "%u profiles for tests", tests);
    for (unsigned i = 0; i < n_entries; i++)
        if (strcmp(entries[i].key, "test") == 0)
            CHECKF(entries[i].for_tests && !entries[i].alias_of, "'test' is a profile for tests");
}

static void test_bad_calls(void)
{
    jsimProfileInfo e = {.version = JSIM_STRUCT_VERSION(jsimProfileInfo)};
    CHECK_EQ_INT(get_profile(n_entries, &e), NVML_ERROR_NOT_FOUND);
    CHECK_EQ_INT(get_profile(~0u, &e), NVML_ERROR_NOT_FOUND);
    CHECK_EQ_INT(get_profile(0, NULL), NVML_ERROR_INVALID_ARGUMENT);
    e.version = JSIM_STRUCT_VERSION(jsimProfileInfo) + 1;
    CHECK_EQ_INT(get_profile(0, &e), NVML_ERROR_ARGUMENT_VERSION_MISMATCH);
}

static void test_every_name_is_accepted(void)
{
    CHECK_EQ_INT(A.Init_v2(), NVML_SUCCESS);
    for (unsigned i = 0; i < n_entries; i++) {
        char text[128], name[96] = "", want[128];
        snprintf(text, sizeof text, "profile %s\nidle 1s\n", entries[i].key);
        nvmlReturn_t rc = A.Reconfigure(text, JSIM_FLAG_VIRTUAL_TIME);
        CHECKF(rc == NVML_SUCCESS, "profile %s: rc %d", entries[i].key, (int)rc);
        if (rc != NVML_SUCCESS)
            continue;
        nvmlDevice_t d;
        CHECK_EQ_INT(A.GetHandleByIndex_v2(0, &d), NVML_SUCCESS);
        CHECK_EQ_INT(A.GetName(d, name, sizeof name), NVML_SUCCESS);
        snprintf(want, sizeof want, "%s (simulated)", entries[i].name);
        CHECKF(strcmp(name, want) == 0, "%s: '%s' vs '%s'", entries[i].key, name, want);
    }
}

static void test_rejection_names_every_profile(void)
{
    CHECK_EQ_INT(A.Reconfigure("profile no-such-gpu\nidle 1s\n", JSIM_FLAG_VIRTUAL_TIME),
                 NVML_ERROR_INVALID_ARGUMENT);
    char msg[512] = "";
    A.LastError(msg, sizeof msg);
    CHECKF(strstr(msg, "no-such-gpu") != NULL, "%s", msg);
    for (unsigned i = 0; i < n_entries; i++)
        CHECKF(strstr(msg, entries[i].key) != NULL, "'%s' missing from: %s", entries[i].key, msg);
    CHECK_EQ_INT(A.Shutdown(), NVML_SUCCESS);
}

int main(void)
{
    sim_load(&A);
    RUN(test_list_before_init);
    RUN(test_bad_calls);
    RUN(test_every_name_is_accepted);
    RUN(test_rejection_names_every_profile);
    return t_end();
}
