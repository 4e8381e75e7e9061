/* SPDX-License-Identifier: MIT */
/*
 * _fast.c - the window edges of the Python binding in C: Monitor.begin_window and
 * end_window for the common call (a str name, a plain end), with the same bookkeeping as
 * the Python methods of joules/edges.py, which every other call is handed to unchanged.
 *
 * A ctypes call converts its arguments through Python objects and a libffi frame; a pair of
 * edges spends more time there than in libjoules. This module calls libjoules through the
 * function addresses that the ctypes binding already holds, so that one copy of the library
 * is loaded, by one loader, and it never links libjoules itself.
 *
 * The methods are method descriptors of the _Edges class (as a Python def would be): self
 * is the Monitor, and its per-monitor State is the attribute _fast. Anything this file does
 * not handle (no State, a closed monitor, a name that is not a str, cancel/busy/deferred,
 * an unknown keyword) goes to the Python method, which raises the same errors as before.
 * The plain end (fast_end_common) also ends the windows of _fast_window.c (`with
 * monitor.window(name)` and @monitor.measure), filling the Measurement they made first.
 */
#include "_fast.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Interned attribute and keyword names, made once at import. */
static PyObject *str_fast, *str_handle, *str_sync, *str_windows, *str_domains, *str_log_file,
    *str_last_measurement, *str_check, *str_window_check, *str_warn_invalid, *str_log, *str_name,
    *str_filled, *str_cancelled, *str_monitor_ref, *str_raw, *str_stacklevel, *str_key,
    *str_sync_execution, *str_cancel, *str_busy, *str_deferred;
/* The Python methods the common call is not (set by methods()). */
static PyObject *py_begin_window, *py_end_window;
static PyObject *empty_tuple, *stacklevel_kwnames, *int_two;

/* ---- State: what one monitor's edges need, fixed when it opens ------------------------- */
static void fast_state_dealloc(PyObject *o)
{
    fast_state *st = (fast_state *)o;
    Py_XDECREF(st->handle_obj);
    Py_XDECREF(st->measurement_type);
    Py_XDECREF(st->block);
    Py_XDECREF(st->ref);
    PyMem_Free(st->valid_at);
    Py_TYPE(o)->tp_free(o);
}

PyTypeObject fast_state_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "joules._fast.State",
    .tp_basicsize = sizeof(fast_state),
    .tp_dealloc = fast_state_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "One monitor's window edges in C (made by joules._fast.state).",
};

static void *fast_address(PyObject *o, const char *what)
{
    void *p = PyLong_AsVoidPtr(o);
    if (!p && !PyErr_Occurred())
        PyErr_Format(PyExc_ValueError, "joules._fast.state: %s is NULL", what);
    return p;
}

/* state(begin, end, handle_obj, handle, size, d_offset, capacity, valid_at,
 *       measurement_type, block, ref) */
static PyObject *fast_new_state(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 11) {
        PyErr_SetString(PyExc_TypeError, "joules._fast.state takes 11 arguments");
        return NULL;
    }
    void *begin = fast_address(args[0], "begin");
    void *end = begin ? fast_address(args[1], "end") : NULL;
    void *handle = end ? fast_address(args[3], "the handle") : NULL;
    if (!handle)
        return NULL;
    Py_ssize_t size = PyLong_AsSsize_t(args[4]);
    Py_ssize_t d_offset = PyLong_AsSsize_t(args[5]);
    long capacity = PyLong_AsLong(args[6]);
    if (PyErr_Occurred())
        return NULL;
    /* The caller's layout (ctypes') must hold what the library writes (joules.h's). */
    if (capacity < 0 || capacity > INT_MAX || d_offset < (Py_ssize_t)sizeof(joules_measurement) ||
        d_offset % (Py_ssize_t)alignof(joules_domain_energy) != 0 ||
        size < d_offset + (Py_ssize_t)(capacity * (long)sizeof(joules_domain_energy))) {
        PyErr_Format(PyExc_ValueError,
                     "joules._fast.state: a result of %zd bytes with domains at %zd cannot "
                     "hold %ld domains of joules.h",
                     size, d_offset, capacity);
        return NULL;
    }
    if (!PyTuple_Check(args[7]) || !PyType_Check(args[8])) {
        PyErr_SetString(PyExc_TypeError,
                        "joules._fast.state: valid_at is a tuple and measurement_type a class");
        return NULL;
    }
    Py_ssize_t n_valid = PyTuple_GET_SIZE(args[7]);
    Py_ssize_t *valid_at = PyMem_Calloc((size_t)n_valid + 1, sizeof *valid_at);
    if (!valid_at)
        return PyErr_NoMemory();
    for (Py_ssize_t i = 0; i < n_valid; i++) {
        valid_at[i] = PyLong_AsSsize_t(PyTuple_GET_ITEM(args[7], i));
        if (valid_at[i] < d_offset || valid_at[i] > size - (Py_ssize_t)sizeof(int)) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_ValueError,
                             "joules._fast.state: valid_at[%zd] = %zd is "
                             "outside the result",
                             i, valid_at[i]);
            PyMem_Free(valid_at);
            return NULL;
        }
    }
    fast_state *st = PyObject_New(fast_state, &fast_state_type);
    if (!st) {
        PyMem_Free(valid_at);
        return NULL;
    }
    /* Data and function pointers are distinct in ISO C; POSIX (dlsym) makes them one. */
    memcpy(&st->begin, &begin, sizeof st->begin);
    memcpy(&st->end, &end, sizeof st->end);
    st->handle = handle;
    st->size = size;
    st->d_offset = d_offset;
    st->capacity = (int)capacity;
    st->n_valid = n_valid;
    st->valid_at = valid_at;
    Py_INCREF(args[2]);
    st->handle_obj = args[2];
    Py_INCREF(args[8]);
    st->measurement_type = args[8];
    Py_INCREF(args[9]);
    st->block = args[9];
    Py_INCREF(args[10]);
    st->ref = args[10];
    return (PyObject *)st;
}

/* ---- the common call, or the Python method ---------------------------------------------- */

/* The Python method with the same arguments (self first). */
static PyObject *fast_delegate(PyObject *py, PyObject *self, PyObject *const *args,
                               Py_ssize_t nargs, PyObject *kwnames)
{
    Py_ssize_t total = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0);
    PyObject *small[8];
    PyObject **argv = small;
    if (total + 1 > (Py_ssize_t)(sizeof small / sizeof small[0])) {
        argv = PyMem_Malloc(((size_t)total + 1) * sizeof *argv);
        if (!argv)
            return PyErr_NoMemory();
    }
    argv[0] = self;
    for (Py_ssize_t i = 0; i < total; i++)
        argv[i + 1] = args[i];
    PyObject *r = PyObject_Vectorcall(py, argv, (size_t)(nargs + 1), kwnames);
    if (argv != small)
        PyMem_Free(argv);
    return r;
}

/*
 * Fills out[i] (NULL when not given) from the arguments for the parameters names[0..n).
 * 0 when they bind, -1 when Python would complain (too many, unknown or repeated): then the
 * Python method is called, to raise its own TypeError.
 */
static int fast_bind(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                     PyObject *const *names, int n, PyObject **out)
{
    for (int i = 0; i < n; i++)
        out[i] = NULL;
    if (nargs > n)
        return -1;
    for (Py_ssize_t i = 0; i < nargs; i++)
        out[i] = args[i];
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t k = 0; k < nkw; k++) {
        PyObject *kw = PyTuple_GET_ITEM(kwnames, k);
        int i = 0;
        while (i < n && kw != names[i] && PyUnicode_Compare(kw, names[i]) != 0)
            i++;
        if (i == n || out[i])
            return -1;
        out[i] = args[nargs + k];
    }
    return out[0] ? 0 : -1;
}

/* (_fast.h) */
fast_state *fast_ready(PyObject *self, PyObject *key, const char **name, PyObject **windows)
{
    if (!PyUnicode_CheckExact(key))
        return NULL;
    PyObject *st = PyObject_GetAttr(self, str_fast);
    if (!st || Py_TYPE(st) != &fast_state_type) {
        PyErr_Clear();
        Py_XDECREF(st);
        return NULL;
    }
    PyObject *h = PyObject_GetAttr(self, str_handle);
    PyObject *w = h ? PyObject_GetAttr(self, str_windows) : NULL;
    *name = w ? PyUnicode_AsUTF8AndSize(key, NULL) : NULL;
    if (!*name || h != ((fast_state *)st)->handle_obj || !PyDict_CheckExact(w)) {
        PyErr_Clear(); /* the Python method meets the same error and raises it */
        Py_XDECREF(h);
        Py_XDECREF(w);
        Py_DECREF(st);
        return NULL;
    }
    Py_DECREF(h);
    *windows = w;
    return (fast_state *)st;
}

/* Calls self._sync() when there is one; -1 with its exception. */
static int fast_sync(PyObject *self)
{
    PyObject *sync = PyObject_GetAttr(self, str_sync);
    if (!sync)
        return -1;
    int rc = 0;
    if (sync != Py_None) {
        PyObject *r = PyObject_CallNoArgs(sync);
        rc = r ? 0 : -1;
        Py_XDECREF(r);
    }
    Py_DECREF(sync);
    return rc;
}

/* self.<method>(...args) for its exception (rc < 0); -1 when it raised. */
static int fast_check(PyObject *self, PyObject *method, PyObject *key, int rc)
{
    PyObject *code = PyLong_FromLong(rc);
    if (!code)
        return -1;
    PyObject *r = key ? PyObject_CallMethodObjArgs(self, method, key, code, NULL)
                      : PyObject_CallMethodObjArgs(self, method, code, NULL);
    Py_DECREF(code);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

/* windows.pop(key, None); windows[key] = value (windows: an exact dict). */
static int fast_mark(PyObject *windows, PyObject *key, PyObject *value)
{
    int has = PyDict_Contains(windows, key);
    if (has < 0 || (has && PyDict_DelItem(windows, key) < 0))
        return -1;
    return PyDict_SetItem(windows, key, value);
}

static PyObject *fast_begin_window(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                                   PyObject *kwnames)
{
    PyObject *const names[] = {str_key, str_sync_execution};
    PyObject *a[2];
    const char *name;
    PyObject *windows;
    fast_state *st = NULL;
    if (fast_bind(args, nargs, kwnames, names, 2, a) == 0)
        st = fast_ready(self, a[0], &name, &windows);
    if (!st)
        return fast_delegate(py_begin_window, self, args, nargs, kwnames);
    PyObject *result = NULL;
    int sync = a[1] ? PyObject_IsTrue(a[1]) : 1;
    if (sync < 0 || (sync && fast_sync(self) < 0))
        goto out;
    int rc = 0;
    PyThreadState *ts = PyEval_SaveThread();
    rc = st->begin(st->handle, name);
    PyEval_RestoreThread(ts);
    if (rc < 0 && fast_check(self, str_check, NULL, rc) < 0)
        goto out;
    /* An open window goes after the ended ones. */
    if (fast_mark(windows, a[0], Py_True) < 0)
        goto out;
    result = Py_NewRef(Py_None);
out:
    Py_DECREF(windows);
    Py_DECREF(st);
    return result;
}

/* (_fast.h) */
PyObject *fast_new_measurement(PyObject *type, PyObject *key, PyObject *ref)
{
    PyTypeObject *t = (PyTypeObject *)type;
    PyObject *m = t->tp_new(t, empty_tuple, NULL); /* its __init__'s fields, set here */
    if (m &&
        (PyObject_SetAttr(m, str_name, key) < 0 || PyObject_SetAttr(m, str_filled, Py_False) < 0 ||
         PyObject_SetAttr(m, str_cancelled, Py_False) < 0 ||
         PyObject_SetAttr(m, str_monitor_ref, ref) < 0))
        Py_CLEAR(m);
    return m;
}

/* Measurement._fill_later: m keeps the result's bytes, converted when first read. */
static int fast_fill_later(PyObject *self, fast_state *st, PyObject *m, PyObject *data)
{
    PyObject *infos = PyObject_GetAttr(self, str_domains);
    PyObject *raw = infos ? PyTuple_Pack(3, data, st->block, infos) : NULL;
    Py_XDECREF(infos);
    int rc = raw && PyObject_SetAttr(m, str_raw, raw) == 0 &&
                     PyObject_SetAttr(m, str_filled, Py_True) == 0
                 ? 0
                 : -1;
    Py_XDECREF(raw);
    return rc;
}

/* _Edges._mark_ended: the name is ended; the oldest ended name goes past 1024 names. */
static int fast_mark_ended(PyObject *windows, PyObject *key)
{
    if (fast_mark(windows, key, Py_False) < 0)
        return -1;
    if (PyDict_GET_SIZE(windows) <= 1024)
        return 0;
    Py_ssize_t pos = 0;
    PyObject *oldest, *open;
    if (!PyDict_Next(windows, &pos, &oldest, &open) || open != Py_False)
        return 0; /* never an open window */
    Py_INCREF(oldest);
    int rc = PyDict_DelItem(windows, oldest);
    Py_DECREF(oldest);
    return rc;
}

/* The result's bytes, written by joules_window_end into the bytes object itself. */
static PyObject *fast_end(fast_state *st, const char *name, int *rc)
{
    PyObject *data = PyBytes_FromStringAndSize(NULL, st->size);
    if (!data)
        return NULL;
    char *buf = PyBytes_AS_STRING(data);
    char *scratch = NULL;
    if ((uintptr_t)buf % alignof(max_align_t) != 0) {
        scratch = PyMem_Malloc((size_t)st->size); /* malloc's alignment suits every field */
        if (!scratch) {
            Py_DECREF(data);
            return PyErr_NoMemory();
        }
    }
    char *at = scratch ? scratch : buf;
    memset(at, 0, (size_t)st->size);
    joules_measurement *m = (joules_measurement *)(void *)at;
    m->domains = (joules_domain_energy *)(void *)(at + st->d_offset);
    m->capacity = st->capacity;
    PyThreadState *ts = PyEval_SaveThread(); /* as ctypes: a settled end waits ~100 ms */
    *rc = st->end(st->handle, name, m);
    PyEval_RestoreThread(ts);
    if (scratch) {
        memcpy(buf, scratch, (size_t)st->size);
        PyMem_Free(scratch);
    }
    return data;
}

/* (_fast.h) */
PyObject *fast_end_common(PyObject *self, fast_state *st, PyObject *key, const char *name,
                          PyObject *windows, int sync, PyObject *m, PyObject *stacklevel)
{
    PyObject *data = NULL, *out = NULL;
    if (sync) { /* only a window known open waits for its device work */
        PyObject *sync_fn = PyObject_GetAttr(self, str_sync);
        if (!sync_fn)
            return NULL;
        int open = 0;
        if (sync_fn != Py_None) {
            PyObject *state = PyDict_GetItemWithError(windows, key);
            open = state ? PyObject_IsTrue(state) : (PyErr_Occurred() ? -1 : 0);
        }
        Py_DECREF(sync_fn);
        if (open < 0 || (open && fast_sync(self) < 0))
            return NULL;
    }
    int rc = 0;
    data = fast_end(st, name, &rc);
    if (!data || (rc < 0 && fast_check(self, str_window_check, key, rc) < 0))
        goto fail;
    if (fast_mark_ended(windows, key) < 0)
        goto fail;
    out = m ? Py_NewRef(m) : fast_new_measurement(st->measurement_type, key, st->ref);
    if (!out || fast_fill_later(self, st, out, data) < 0)
        goto fail;
    const char *bytes = PyBytes_AS_STRING(data);
    for (Py_ssize_t i = 0; i < st->n_valid; i++) {
        int valid;
        memcpy(&valid, bytes + st->valid_at[i], sizeof valid);
        if (valid)
            continue;
        PyObject *argv[] = {out, stacklevel};
        PyObject *r = PyObject_VectorcallMethod(str_warn_invalid, argv, 1, stacklevel_kwnames);
        if (!r)
            goto fail;
        Py_DECREF(r);
        break;
    }
    if (PyObject_SetAttr(self, str_last_measurement, out) < 0)
        goto fail;
    PyObject *log = PyObject_GetAttr(self, str_log_file);
    int logging = log ? PyObject_IsTrue(log) : -1;
    Py_XDECREF(log);
    if (logging < 0)
        goto fail;
    if (logging) {
        PyObject *r = PyObject_CallMethodOneArg(self, str_log, out);
        if (!r)
            goto fail;
        Py_DECREF(r);
    }
    Py_DECREF(data);
    return out;
fail:
    Py_XDECREF(out);
    Py_XDECREF(data);
    return NULL;
}

static PyObject *fast_end_window(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                                 PyObject *kwnames)
{
    PyObject *const names[] = {str_key, str_sync_execution, str_cancel, str_busy, str_deferred};
    PyObject *a[5];
    const char *name;
    PyObject *windows;
    fast_state *st = NULL;
    if (fast_bind(args, nargs, kwnames, names, 5, a) == 0 &&
        (!a[2] || a[2] == Py_False || a[2] == Py_None) && (!a[3] || a[3] == Py_None) &&
        (!a[4] || a[4] == Py_False || a[4] == Py_None))
        st = fast_ready(self, a[0], &name, &windows);
    if (!st)
        return fast_delegate(py_end_window, self, args, nargs, kwnames);
    int sync = a[1] ? PyObject_IsTrue(a[1]) : 1;
    /* stacklevel 2: the warning names the caller's line (no Python frame here). */
    PyObject *m =
        sync < 0 ? NULL : fast_end_common(self, st, a[0], name, windows, sync, NULL, int_two);
    Py_DECREF(windows);
    Py_DECREF(st);
    return m;
}

/* ---- the module ------------------------------------------------------------------------- */
static PyMethodDef fast_begin_def = {"begin_window", (PyCFunction)(void (*)(void))fast_begin_window,
                                     METH_FASTCALL | METH_KEYWORDS, NULL};
static PyMethodDef fast_end_def = {"end_window", (PyCFunction)(void (*)(void))fast_end_window,
                                   METH_FASTCALL | METH_KEYWORDS, NULL};
static PyObject *fast_descriptors; /* (begin_window, end_window), made once */
static PyObject *fast_docs;        /* the strings their ml_doc point into */

/* methods(cls, begin_window, end_window, begin_doc, end_doc): the two method descriptors
 * of cls, with the Python methods they hand other calls to. */
static PyObject *fast_methods(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 5 || !PyType_Check(args[0]) || !PyCallable_Check(args[1]) ||
        !PyCallable_Check(args[2]) || !PyUnicode_Check(args[3]) || !PyUnicode_Check(args[4])) {
        PyErr_SetString(PyExc_TypeError, "joules._fast.methods(cls, begin_window, end_window, "
                                         "begin_doc, end_doc)");
        return NULL;
    }
    if (fast_descriptors) /* one class, one set: the first call's */
        return Py_NewRef(fast_descriptors);
    const char *begin_doc = PyUnicode_AsUTF8(args[3]);
    const char *end_doc = begin_doc ? PyUnicode_AsUTF8(args[4]) : NULL;
    if (!end_doc)
        return NULL;
    fast_begin_def.ml_doc = begin_doc;
    fast_end_def.ml_doc = end_doc;
    PyTypeObject *cls = (PyTypeObject *)args[0];
    PyObject *b = PyDescr_NewMethod(cls, &fast_begin_def);
    PyObject *e = b ? PyDescr_NewMethod(cls, &fast_end_def) : NULL;
    fast_descriptors = e ? PyTuple_Pack(2, b, e) : NULL;
    Py_XDECREF(b);
    Py_XDECREF(e);
    if (!fast_descriptors)
        return NULL;
    fast_docs = PyTuple_Pack(2, args[3], args[4]);
    py_begin_window = Py_NewRef(args[1]);
    py_end_window = Py_NewRef(args[2]);
    return Py_NewRef(fast_descriptors);
}

static PyMethodDef fast_module_methods[] = {
    {"state", (PyCFunction)(void (*)(void))fast_new_state, METH_FASTCALL,
     "state(begin, end, handle_obj, handle, size, d_offset, capacity, valid_at, "
     "measurement_type, block, ref): one monitor's edges"},
    {"methods", (PyCFunction)(void (*)(void))fast_methods, METH_FASTCALL,
     "methods(cls, begin_window, end_window, begin_doc, end_doc): the edges of cls in C"},
    {"window", (PyCFunction)(void (*)(void))fast_window_classes, METH_FASTCALL,
     "window(measurement_type, pending_type): the types of monitor.window and measure in C"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef fast_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "joules._fast",
    .m_doc = "Window edges of joules.Monitor in C (the ctypes methods otherwise).",
    .m_size = -1,
    .m_methods = fast_module_methods,
};

static int fast_intern(void)
{
    static const struct {
        PyObject **at;
        const char *text;
    } names[] = {
        {&str_fast, "_fast"},
        {&str_handle, "_handle"},
        {&str_sync, "_sync"},
        {&str_windows, "_windows"},
        {&str_domains, "domains"},
        {&str_log_file, "log_file"},
        {&str_last_measurement, "last_measurement"},
        {&str_check, "_check"},
        {&str_window_check, "_window_check"},
        {&str_warn_invalid, "_warn_invalid"},
        {&str_log, "_log"},
        {&str_name, "name"},
        {&str_filled, "filled"},
        {&str_cancelled, "cancelled"},
        {&str_monitor_ref, "_monitor_ref"},
        {&str_raw, "_raw"},
        {&str_stacklevel, "stacklevel"},
        {&str_key, "key"},
        {&str_sync_execution, "sync_execution"},
        {&str_cancel, "cancel"},
        {&str_busy, "busy"},
        {&str_deferred, "deferred"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!(*names[i].at = PyUnicode_InternFromString(names[i].text)))
            return -1;
    empty_tuple = PyTuple_New(0);
    int_two = PyLong_FromLong(2);
    stacklevel_kwnames = PyTuple_Pack(1, str_stacklevel);
    return empty_tuple && int_two && stacklevel_kwnames ? 0 : -1;
}

PyMODINIT_FUNC PyInit__fast(void);

PyMODINIT_FUNC PyInit__fast(void)
{
    if (fast_intern() < 0 || PyType_Ready(&fast_state_type) < 0 || fast_window_ready() < 0)
        return NULL;
    return PyModule_Create(&fast_module);
}
