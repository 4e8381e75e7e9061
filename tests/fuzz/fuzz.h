/* SPDX-License-Identifier: MIT */
/*
 * fuzz.h - the entry points every fuzz target defines (libFuzzer's names), so that one target
 * source builds both the libFuzzer executable (clang, `make fuzz`) and the plain replay of its
 * corpus and reproducers (replay.c, any compiler, part of the test suite).
 */
#ifndef JOULES_FUZZ_H
#define JOULES_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional (weak: a target need not define it): run once before the first input. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Inputs longer than this are ignored: every parser reads lines or option values far shorter. */
#define FUZZ_MAX_INPUT 65536

#endif
