/* SPDX-License-Identifier: MIT */
/*
 * json.h - a small streaming JSON writer for the reports. It keeps the separators right
 * (commas, colons, indentation) so writers only say what to emit, escapes every string
 * (control characters, quotes, invalid UTF-8 replaced by U+FFFD) and writes non-finite
 * numbers as null, since JSON has no NaN or Infinity. Errors are sticky: check
 * joules_json_error() (or ferror on the stream) once at the end.
 */
#ifndef JOULES_IO_JSON_H
#define JOULES_IO_JSON_H

#include <stdint.h>
#include <stdio.h>

#define JOULES_JSON_MAX_DEPTH 32

typedef struct joules_json {
    FILE *f;
    int pretty;                       /* 1: two-space indentation, one member a line */
    int depth;                        /* open containers */
    int count[JOULES_JSON_MAX_DEPTH]; /* members written in each open container */
    int after_key;                    /* a key was written, its value comes next */
    int error;                        /* sticky: misuse or too deep */
} joules_json;

void joules_json_init(joules_json *j, FILE *f, int pretty);

void joules_json_object_begin(joules_json *j);
void joules_json_object_end(joules_json *j);
void joules_json_array_begin(joules_json *j);
void joules_json_array_end(joules_json *j);

/* A member name inside an object; the next call writes its value. */
void joules_json_key(joules_json *j, const char *key);

void joules_json_string(joules_json *j, const char *s); /* NULL writes null */
void joules_json_number(joules_json *j, double v);      /* NaN/Inf write null */
void joules_json_int(joules_json *j, long long v);
void joules_json_bool(joules_json *j, int v);
void joules_json_null(joules_json *j);

/* key + value in one call. */
void joules_json_kv_string(joules_json *j, const char *key, const char *s);
void joules_json_kv_number(joules_json *j, const char *key, double v);
void joules_json_kv_int(joules_json *j, const char *key, long long v);
void joules_json_kv_bool(joules_json *j, const char *key, int v);
void joules_json_kv_null(joules_json *j, const char *key);

/* Finish: a final newline; returns 0, or -1 if the writer was misused or the stream failed. */
int joules_json_finish(joules_json *j);

/* Write s as a JSON string literal (with quotes) to f; exposed for the tests and CSV. */
void joules_json_write_escaped(FILE *f, const char *s);

#endif
