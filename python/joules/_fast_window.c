/* SPDX-License-Identifier: MIT */
/*
 * _fast_window.c - `with monitor.window(name) as m:` in C: joules._fast.Window, what
 * Monitor.window returns where the extension is loaded, with the behaviour of the Python
 * class it stands for (joules/window.py's _Window, the ctypes path's).
 *
 * The block's Measurement exists before its window ends (__enter__ returns it), so the end
 * fills that object: through fast_end_common of _fast.c when the monitor has a State, else
 * through the monitor's Python _end_into. A context manager written in Python adds three
 * Python frames to every block; this type adds none, which is also why the warning of a
 * domain not measured names the with statement at a smaller stacklevel than window.py's.
 * Measured is @monitor.measure's wrapper (monitor.py's Python one on the ctypes path): a
 * callable that runs each call of the function in such a Window.
 */
#include "_fast.h"

#include <structmember.h>

typedef struct {
    PyObject_HEAD PyObject *monitor;
    PyObject *name;
    PyObject *sync;        /* sync_execution, as given */
    PyObject *deferred;    /* as given */
    PyObject *measurement; /* None before __enter__, then its Measurement or Pending */
    int frames;            /* Python frames between the with statement and the user's line */
} fast_window;

/* Set by window(); interned names made once. */
static PyObject *measurement_type, *pending_type;
static PyObject *str_ref, *str_begin_window, *str_end_window, *str_end_into, *str_end_deferred,
    *str_measure, *kw_sync, *kw_sync_cancel, *kw_sync_deferred;

static int fast_window_traverse(PyObject *o, visitproc visit, void *arg)
{
    fast_window *w = (fast_window *)o;
    Py_VISIT(w->monitor);
    Py_VISIT(w->name);
    Py_VISIT(w->sync);
    Py_VISIT(w->deferred);
    Py_VISIT(w->measurement);
    return 0;
}

static int fast_window_clear(PyObject *o)
{
    fast_window *w = (fast_window *)o;
    Py_CLEAR(w->monitor);
    Py_CLEAR(w->name);
    Py_CLEAR(w->sync);
    Py_CLEAR(w->deferred);
    Py_CLEAR(w->measurement);
    return 0;
}

static void fast_window_dealloc(PyObject *o)
{
    PyObject_GC_UnTrack(o);
    fast_window_clear(o);
    Py_TYPE(o)->tp_free(o);
}

static PyObject *fast_window_make(PyTypeObject *type, PyObject *monitor, PyObject *name,
                                  PyObject *sync, PyObject *deferred, long frames)
{
    if (frames < 0 || frames > 1000) {
        PyErr_Format(PyExc_ValueError, "Window: frames is a count of frames, not %ld", frames);
        return NULL;
    }
    fast_window *w = PyObject_GC_New(fast_window, type);
    if (!w)
        return NULL;
    Py_INCREF(monitor);
    w->monitor = monitor;
    Py_INCREF(name);
    w->name = name;
    Py_INCREF(sync);
    w->sync = sync;
    Py_INCREF(deferred);
    w->deferred = deferred;
    Py_INCREF(Py_None);
    w->measurement = Py_None;
    w->frames = (int)frames;
    PyObject_GC_Track(w);
    return (PyObject *)w;
}

/* Window(monitor, name, sync_execution=True, deferred=False, frames=0) */
static PyObject *fast_window_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *names[] = {"monitor", "name", "sync_execution", "deferred", "frames", NULL};
    PyObject *monitor, *name, *sync = Py_True, *deferred = Py_False;
    int frames = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|OOi:Window", names, &monitor, &name, &sync,
                                     &deferred, &frames))
        return NULL;
    return fast_window_make(type, monitor, name, sync, deferred, frames);
}

/* The call of the type: its arguments by position without a tuple, else fast_window_new. */
static PyObject *fast_window_vectorcall(PyObject *type, PyObject *const *args, size_t nargsf,
                                        PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (!kwnames && nargs >= 2 && nargs <= 5) {
        long frames = nargs > 4 ? PyLong_AsLong(args[4]) : 0;
        if (frames == -1 && PyErr_Occurred())
            return NULL;
        return fast_window_make((PyTypeObject *)type, args[0], args[1],
                                nargs > 2 ? args[2] : Py_True, nargs > 3 ? args[3] : Py_False,
                                frames);
    }
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    PyObject *tuple = PyTuple_New(nargs);
    PyObject *dict = tuple && nkw ? PyDict_New() : NULL;
    PyObject *r = NULL;
    if (!tuple || (nkw && !dict))
        goto out;
    for (Py_ssize_t i = 0; i < nargs; i++) {
        Py_INCREF(args[i]);
        PyTuple_SET_ITEM(tuple, i, args[i]);
    }
    for (Py_ssize_t k = 0; k < nkw; k++)
        if (PyDict_SetItem(dict, PyTuple_GET_ITEM(kwnames, k), args[nargs + k]) < 0)
            goto out;
    r = fast_window_new((PyTypeObject *)type, tuple, dict);
out:
    Py_XDECREF(tuple);
    Py_XDECREF(dict);
    return r;
}

static PyObject *fast_window_enter(PyObject *o, PyObject *unused)
{
    (void)unused;
    fast_window *w = (fast_window *)o;
    int deferred = PyObject_IsTrue(w->deferred);
    if (deferred < 0)
        return NULL;
    PyObject *m;
    if (deferred) {
        m = PyObject_CallFunctionObjArgs(pending_type, w->monitor, w->name, Py_None, NULL);
    } else {
        PyObject *ref = PyObject_GetAttr(w->monitor, str_ref);
        m = ref ? fast_new_measurement(measurement_type, w->name, ref) : NULL;
        Py_XDECREF(ref);
    }
    if (!m)
        return NULL;
    Py_SETREF(w->measurement, m);
    PyObject *argv[] = {w->monitor, w->name, w->sync};
    PyObject *r = PyObject_VectorcallMethod(str_begin_window, argv, 2, kw_sync);
    if (!r)
        return NULL;
    Py_DECREF(r);
    return Py_NewRef(m);
}

/* The end of the block's window: what the monitor's method returns, or NULL. */
static PyObject *fast_window_end(fast_window *w)
{
    int deferred = PyObject_IsTrue(w->deferred);
    if (deferred < 0)
        return NULL;
    if (deferred) {
        PyObject *argv[] = {w->monitor, w->name, w->sync, w->measurement};
        return PyObject_VectorcallMethod(str_end_deferred, argv, 4, NULL);
    }
    const char *name;
    PyObject *windows;
    fast_state *st = fast_ready(w->monitor, w->name, &name, &windows);
    /* The warning's frames: _warn_invalid's, (_end_into's,) then the user's line. */
    PyObject *level = PyLong_FromLong((st ? 2 : 3) + (long)w->frames);
    PyObject *r = NULL;
    if (level && st) {
        int sync = PyObject_IsTrue(w->sync);
        if (sync >= 0)
            r = fast_end_common(w->monitor, st, w->name, name, windows, sync, w->measurement,
                                level);
    } else if (level) {
        PyObject *argv[] = {w->monitor, w->name, w->measurement, w->sync, level};
        r = PyObject_VectorcallMethod(str_end_into, argv, 5, NULL);
    }
    Py_XDECREF(level);
    if (st) {
        Py_DECREF(windows);
        Py_DECREF(st);
    }
    return r;
}

/* __exit__(exc_type, exc, tb): when the block raised, what was spent is measured if it can
 * be, else the window is cancelled; the block's exception is never masked. */
static PyObject *fast_window_exit(PyObject *o, PyObject *const *args, Py_ssize_t nargs)
{
    fast_window *w = (fast_window *)o;
    if (nargs != 3) {
        PyErr_Format(PyExc_TypeError, "__exit__ takes 3 arguments (%zd given)", nargs);
        return NULL;
    }
    PyObject *r = fast_window_end(w);
    if (!r && args[0] != Py_None && PyErr_ExceptionMatches(PyExc_Exception)) {
        PyErr_Clear();
        PyObject *argv[] = {w->monitor, w->name, Py_False, Py_True};
        r = PyObject_VectorcallMethod(str_end_window, argv, 2, kw_sync_cancel);
        if (!r && PyErr_ExceptionMatches(PyExc_Exception)) {
            PyErr_Clear();
            r = Py_NewRef(Py_None);
        }
    }
    if (!r)
        return NULL;
    Py_DECREF(r);
    Py_RETURN_FALSE;
}

/* As a decorator: monitor.measure(name, sync_execution=..., deferred=...)(fn). */
static PyObject *fast_window_call(PyObject *o, PyObject *args, PyObject *kwargs)
{
    fast_window *w = (fast_window *)o;
    PyObject *fn;
    static char *names[] = {"fn", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O:Window", names, &fn))
        return NULL;
    PyObject *argv[] = {w->monitor, w->name, w->sync, w->deferred};
    PyObject *deco = PyObject_VectorcallMethod(str_measure, argv, 2, kw_sync_deferred);
    if (!deco)
        return NULL;
    PyObject *r = PyObject_CallOneArg(deco, fn);
    Py_DECREF(deco);
    return r;
}

static PyMethodDef fast_window_methods[] = {
    {"__enter__", fast_window_enter, METH_NOARGS, "Begin the window; its Measurement."},
    {"__exit__", (PyCFunction)(void (*)(void))fast_window_exit, METH_FASTCALL,
     "End the window (measured even when the block raised)."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef fast_window_members[] = {
    {"name", T_OBJECT, offsetof(fast_window, name), READONLY, NULL},
    {"measurement", T_OBJECT, offsetof(fast_window, measurement), READONLY, NULL},
    {"_monitor", T_OBJECT, offsetof(fast_window, monitor), READONLY, NULL},
    {"_sync", T_OBJECT, offsetof(fast_window, sync), READONLY, NULL},
    {"_deferred", T_OBJECT, offsetof(fast_window, deferred), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

PyTypeObject fast_window_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "joules._fast.Window",
    .tp_basicsize = sizeof(fast_window),
    .tp_dealloc = fast_window_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "monitor.window(name): a context manager and a decorator (joules/window.py).",
    .tp_traverse = fast_window_traverse,
    .tp_clear = fast_window_clear,
    .tp_methods = fast_window_methods,
    .tp_members = fast_window_members,
    .tp_new = fast_window_new,
    .tp_call = fast_window_call,
    .tp_vectorcall = fast_window_vectorcall,
};

/* ---- Measured: the function that @monitor.measure makes ------------------------------- */

/* monitor.measure's wrapper of fn, as a callable with no Python frame: each call is fn's
 * call in a Window (frames 0: a warning names the caller of the decorated function), its
 * result appended to self.measurements (the last 1000) and given to on_result. */
typedef struct {
    PyObject_HEAD PyObject *monitor;
    PyObject *name;
    PyObject *sync;
    PyObject *deferred;
    PyObject *on_result; /* None or a callable */
    PyObject *fn;
    PyObject *dict; /* functools.update_wrapper's attributes and `measurements` */
    vectorcallfunc vectorcall;
} fast_measured;

static PyObject *str_measurements, *str_append, *slice_last_1000;

static int fast_measured_traverse(PyObject *o, visitproc visit, void *arg)
{
    fast_measured *f = (fast_measured *)o;
    Py_VISIT(f->monitor);
    Py_VISIT(f->name);
    Py_VISIT(f->sync);
    Py_VISIT(f->deferred);
    Py_VISIT(f->on_result);
    Py_VISIT(f->fn);
    Py_VISIT(f->dict);
    return 0;
}

static int fast_measured_clear(PyObject *o)
{
    fast_measured *f = (fast_measured *)o;
    Py_CLEAR(f->monitor);
    Py_CLEAR(f->name);
    Py_CLEAR(f->sync);
    Py_CLEAR(f->deferred);
    Py_CLEAR(f->on_result);
    Py_CLEAR(f->fn);
    Py_CLEAR(f->dict);
    return 0;
}

static void fast_measured_dealloc(PyObject *o)
{
    PyObject_GC_UnTrack(o);
    fast_measured_clear(o);
    Py_TYPE(o)->tp_free(o);
}

/* The window's __exit__ with the exception that fn raised (the handled one meanwhile, as in
 * a with statement); that exception again, or the one __exit__ raised. Always NULL. */
static PyObject *fast_measured_failed(PyObject *w)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb)
        PyException_SetTraceback(value, tb);
    PyObject *old_type, *old_value, *old_tb;
    PyErr_GetExcInfo(&old_type, &old_value, &old_tb);
    Py_INCREF(type);
    Py_XINCREF(value);
    Py_XINCREF(tb);
    PyErr_SetExcInfo(type, value, tb);
    PyObject *argv[] = {type, value ? value : Py_None, tb ? tb : Py_None};
    PyObject *r = fast_window_exit(w, argv, 3);
    PyErr_SetExcInfo(old_type, old_value, old_tb);
    if (!r) {
        Py_DECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
        return NULL;
    }
    Py_DECREF(r);
    PyErr_Restore(type, value, tb);
    return NULL;
}

/* self.measurements.append(m), the last 1000 kept; on_result(m). */
static int fast_measured_keep(fast_measured *f, PyObject *m)
{
    PyObject *kept = PyObject_GetAttr((PyObject *)f, str_measurements);
    if (!kept)
        return -1;
    int rc = -1;
    if (PyList_CheckExact(kept)) {
        Py_ssize_t n = PyList_GET_SIZE(kept) + 1;
        rc =
            PyList_Append(kept, m) < 0 || (n > 1000 && PyList_SetSlice(kept, 0, n - 1000, NULL) < 0)
                ? -1
                : 0;
    } else {
        PyObject *r = PyObject_CallMethodOneArg(kept, str_append, m);
        Py_ssize_t n = r ? PyObject_Size(kept) : -1;
        Py_XDECREF(r);
        rc = n < 0 || (n > 1000 && PyObject_DelItem(kept, slice_last_1000) < 0) ? -1 : 0;
    }
    Py_DECREF(kept);
    if (rc == 0 && f->on_result != Py_None) {
        PyObject *r = PyObject_CallOneArg(f->on_result, m);
        rc = r ? 0 : -1;
        Py_XDECREF(r);
    }
    return rc;
}

static PyObject *fast_measured_vectorcall(PyObject *o, PyObject *const *args, size_t nargsf,
                                          PyObject *kwnames)
{
    fast_measured *f = (fast_measured *)o;
    PyObject *w = fast_window_make(&fast_window_type, f->monitor, f->name, f->sync, f->deferred, 0);
    PyObject *m = w ? fast_window_enter(w, NULL) : NULL;
    PyObject *result = m ? PyObject_Vectorcall(f->fn, args, nargsf, kwnames) : NULL;
    if (m && !result) {
        fast_measured_failed(w);
    } else if (result) {
        PyObject *none[] = {Py_None, Py_None, Py_None};
        PyObject *r = fast_window_exit(w, none, 3);
        Py_XDECREF(r);
        if (!r || fast_measured_keep(f, m) < 0)
            Py_CLEAR(result);
    }
    Py_XDECREF(m);
    Py_XDECREF(w);
    return result;
}

/* Measured(monitor, name, sync_execution, deferred, on_result, fn) */
static PyObject *fast_measured_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *names[] = {"monitor", "name", "sync_execution", "deferred", "on_result",
                            "fn",      NULL};
    PyObject *a[6];
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOOOO:Measured", names, &a[0], &a[1], &a[2],
                                     &a[3], &a[4], &a[5]))
        return NULL;
    fast_measured *f = PyObject_GC_New(fast_measured, type);
    if (!f)
        return NULL;
    f->monitor = Py_NewRef(a[0]);
    f->name = Py_NewRef(a[1]);
    f->sync = Py_NewRef(a[2]);
    f->deferred = Py_NewRef(a[3]);
    f->on_result = Py_NewRef(a[4]);
    f->fn = Py_NewRef(a[5]);
    f->dict = NULL;
    f->vectorcall = fast_measured_vectorcall;
    PyObject_GC_Track(f);
    return (PyObject *)f;
}

/* As a function is: bound to the instance it is read from. */
static PyObject *fast_measured_get(PyObject *o, PyObject *obj, PyObject *type)
{
    (void)type;
    if (!obj || obj == Py_None)
        return Py_NewRef(o);
    return PyMethod_New(o, obj);
}

static PyGetSetDef fast_measured_getset[] = {
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject fast_measured_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "joules._fast.Measured",
    .tp_basicsize = sizeof(fast_measured),
    .tp_dealloc = fast_measured_dealloc,
    .tp_vectorcall_offset = offsetof(fast_measured, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL |
                Py_TPFLAGS_METHOD_DESCRIPTOR,
    .tp_doc = "A function measured in a window at each call (monitor.measure).",
    .tp_traverse = fast_measured_traverse,
    .tp_clear = fast_measured_clear,
    .tp_getset = fast_measured_getset,
    .tp_descr_get = fast_measured_get,
    .tp_dictoffset = offsetof(fast_measured, dict),
    .tp_new = fast_measured_new,
};

/* (_fast.h) */
int fast_window_ready(void)
{
    static const struct {
        PyObject **at;
        const char *text;
    } names[] = {
        {&str_ref, "_ref"},
        {&str_begin_window, "begin_window"},
        {&str_end_window, "end_window"},
        {&str_end_into, "_end_into"},
        {&str_end_deferred, "_end_deferred"},
        {&str_measure, "measure"},
        {&str_measurements, "measurements"},
        {&str_append, "append"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!(*names[i].at = PyUnicode_InternFromString(names[i].text)))
            return -1;
    PyObject *sync = PyUnicode_InternFromString("sync_execution");
    PyObject *cancel = PyUnicode_InternFromString("cancel");
    PyObject *deferred = PyUnicode_InternFromString("deferred");
    if (sync && cancel && deferred) {
        kw_sync = PyTuple_Pack(1, sync);
        kw_sync_cancel = PyTuple_Pack(2, sync, cancel);
        kw_sync_deferred = PyTuple_Pack(2, sync, deferred);
    }
    Py_XDECREF(sync);
    Py_XDECREF(cancel);
    Py_XDECREF(deferred);
    if (!kw_sync || !kw_sync_cancel || !kw_sync_deferred)
        return -1;
    PyObject *last = PyLong_FromLong(-1000);
    slice_last_1000 = last ? PySlice_New(NULL, last, NULL) : NULL;
    Py_XDECREF(last);
    if (!slice_last_1000)
        return -1;
    return PyType_Ready(&fast_window_type) < 0 ? -1 : PyType_Ready(&fast_measured_type);
}

/* (_fast.h) window(measurement_type, pending_type): (Window, Measured), which make those. */
PyObject *fast_window_classes(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 2 || !PyType_Check(args[0]) || !PyType_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "joules._fast.window(measurement_type, pending_type)");
        return NULL;
    }
    if (!measurement_type) { /* one binding, one set of classes: the first call's */
        measurement_type = Py_NewRef(args[0]);
        pending_type = Py_NewRef(args[1]);
    }
    return PyTuple_Pack(2, (PyObject *)&fast_window_type, (PyObject *)&fast_measured_type);
}
