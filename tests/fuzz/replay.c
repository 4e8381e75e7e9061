/* SPDX-License-Identifier: MIT */
/*
 * replay.c - feeds every file under the directories (or the files) named on the command line
 * to a fuzz target's entry point, in one process, so a corpus and its crash reproducers run
 * as a plain test on any compiler: a regression crashes or trips a sanitizer here too.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    uint8_t *buf = malloc(FUZZ_MAX_INPUT + 1);
    size_t n = buf ? fread(buf, 1, FUZZ_MAX_INPUT + 1, f) : 0;
    fclose(f);
    if (!buf)
        return -1;
    /* An exact-size copy, so that a read one byte past the input is a sanitizer report. */
    uint8_t *exact = malloc(n ? n : 1);
    if (exact) {
        memcpy(exact, buf, n);
        (void)LLVMFuzzerTestOneInput(exact, n);
    }
    free(exact);
    free(buf);
    return exact ? 0 : -1;
}

static int replay(const char *path, int *count)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        ++*count;
        return replay_file(path);
    }
    DIR *d = opendir(path);
    if (!d) {
        perror(path);
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        rc |= replay(sub, count);
    }
    closedir(d);
    return rc;
}

int main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    int rc = 0, count = 0;
    for (int i = 1; i < argc; i++)
        rc |= replay(argv[i], &count);
    printf("%d inputs replayed\n", count);
    if (count == 0) {
        fprintf(stderr, "no input found\n");
        return 1;
    }
    return rc ? 1 : 0;
}
