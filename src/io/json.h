/* SPDX-License-Identifier: MIT */
/*
 * json.h - a small streaming JSON writer for the reports. It keeps the separators right
 * (commas, colons, indentation) so writers only say what to emit, escapes every string
 * (control characters, quotes, invalid UTF-8 replaced by U+FFFD) and writes non-finite
 * numbers as null, since JSON has no NaN or Infinity. Errors are sticky: check
 * io_json_error() (or ferror on the stream) once at the end.
 */
#ifndef JOULES_IO_JSON_H
#define JOULES_IO_JSON_H

#include <stdint.h>
#include <stdio.h>

#define JOULES_JSON_MAX_DEPTH 32

typedef struct io_json {
    FILE *f;
    int pretty;                       /* 1: two-space indentation, one member a line */
    int depth;                        /* open containers */
    int count[JOULES_JSON_MAX_DEPTH]; /* members written in each open container */
    int after_key;                    /* a key was written, its value comes next */
    int error;                        /* sticky: misuse or too deep */
} io_json;

void io_json_init(io_json *j, FILE *f, int pretty);

void io_json_object_begin(io_json *j);
void io_json_object_end(io_json *j);
void io_json_array_begin(io_json *j);
void io_json_array_end(io_json *j);

/* A member name inside an object; the next call writes its value. */
void io_json_key(io_json *j, const char *key);

void io_json_string(io_json *j, const char *s); /* NULL writes null */
void io_json_number(io_json *j, double v);      /* NaN/Inf write null */
void io_json_int(io_json *j, long long v);
void io_json_bool(io_json *j, int v);
void io_json_null(io_json *j);
/* A value that is already JSON text (a whole document from another writer), written as is;
 * its trailing newline is dropped. */
void io_json_raw(io_json *j, const char *json_text);

/* key + value in one call. */
void io_json_kv_string(io_json *j, const char *key, const char *s);
void io_json_kv_number(io_json *j, const char *key, double v);
void io_json_kv_int(io_json *j, const char *key, long long v);
void io_json_kv_bool(io_json *j, const char *key, int v);
void io_json_kv_null(io_json *j, const char *key);

/* Finish: a final newline; returns 0, or -1 if the writer was misused or the stream failed. */
int io_json_finish(io_json *j);

/* Write s as a JSON string literal (with quotes) to f; exposed for the tests and CSV. */
void io_json_write_escaped(FILE *f, const char *s);

#endif
