/* SPDX-License-Identifier: MIT */
/*
 * _fast.h - what the two halves of joules._fast share: the per-monitor State and the plain
 * end of _fast.c (the edges), used by _fast_window.c (`with monitor.window(name)`).
 */
#ifndef JOULES_PYFAST_H
#define JOULES_PYFAST_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "joules.h"

#if PY_VERSION_HEX < 0x03090000
#error "joules._fast needs Python 3.9 or later (vectorcall)"
#endif
#ifndef Py_NewRef /* Python 3.9 */
static inline PyObject *fast_new_ref(PyObject *o)
{
    Py_INCREF(o);
    return o;
}
#define Py_NewRef(o) fast_new_ref((PyObject *)(o))
#endif

typedef int (*fast_begin_fn)(joules_monitor *, const char *);
typedef int (*fast_end_fn)(joules_monitor *, const char *, joules_measurement *);

/* What one monitor's edges need, fixed when it opens. */
typedef struct {
    PyObject_HEAD fast_begin_fn begin;
    fast_end_fn end;
    PyObject *handle_obj; /* the monitor's _handle while it is open */
    joules_monitor *handle;
    Py_ssize_t size;     /* bytes of one result: the measurement, then its domains */
    Py_ssize_t d_offset; /* where the domains start */
    int capacity;
    Py_ssize_t n_valid;
    Py_ssize_t *valid_at; /* offsets of the `valid` field of each reported domain */
    PyObject *measurement_type;
    PyObject *block; /* _lib.ResultBlock: the layout that reads a result's bytes */
    PyObject *ref;   /* weakref.ref of the monitor, kept by each Measurement */
} fast_state;

extern PyTypeObject fast_state_type;

/* The monitor's State when the common call can be made on it (new reference), else NULL
 * with no error set. name receives the key's UTF-8, windows the monitor's _windows (new
 * reference). */
fast_state *fast_ready(PyObject *self, PyObject *key, const char **name, PyObject **windows);

/* A Measurement(key, ref) not filled yet, made without running its __init__ (new reference). */
PyObject *fast_new_measurement(PyObject *type, PyObject *key, PyObject *ref);

/* The plain end of the window key on self (the monitor), through st (from fast_ready):
 * waits for its device work when sync and the window is known open, fills m (a new
 * Measurement when m is NULL) and records it; a domain not measured warns at stacklevel.
 * The Measurement (new reference), or NULL with the exception. */
PyObject *fast_end_common(PyObject *self, fast_state *st, PyObject *key, const char *name,
                          PyObject *windows, int sync, PyObject *m, PyObject *stacklevel);

/* The types of _fast_window.c, made ready; -1 with the exception. */
int fast_window_ready(void);
extern PyTypeObject fast_window_type, fast_measured_type;

/* joules._fast.window(measurement_type, pending_type): the types (Window, Measured). */
PyObject *fast_window_classes(PyObject *module, PyObject *const *args, Py_ssize_t nargs);

#endif
