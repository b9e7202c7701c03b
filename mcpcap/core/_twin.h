/* What every compiled twin shares (see mcpcap/core/fastpath.py): a module that names the source
 * it was built from, and the checks of a fast call's arguments. */
#ifndef MCPCAP_TWIN_H
#define MCPCAP_TWIN_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* hatch_build.py passes the SHA-256 of the sources (the .c file and the headers it includes,
 * mcpcap/core/sourcehash.py): fastpath.py refuses a library built from others than those beside
 * it */
#ifndef SOURCE_SHA256
#define SOURCE_SHA256 ""
#endif

#define TWIN_MODULE_DEF(name, doc, methods) \
    {PyModuleDef_HEAD_INIT, name, doc, -1, methods, NULL, NULL, NULL, NULL}

/* the module of `def`, with its SOURCE_SHA256; NULL with an exception set */
static inline PyObject *twin_module(PyModuleDef *def)
{
    PyObject *module = PyModule_Create(def);
    if (module != NULL && PyModule_AddStringConstant(module, "SOURCE_SHA256", SOURCE_SHA256) < 0)
        Py_CLEAR(module);
    return module;
}

/* 0 when a call has its `expected` arguments and the module was set up (`ready` not NULL);
 * else -1, with a TypeError naming `usage` or a RuntimeError */
static inline int twin_arguments(Py_ssize_t nargs, Py_ssize_t expected, const void *ready,
                                 const char *usage)
{
    if (nargs != expected) {
        PyErr_Format(PyExc_TypeError, "%s takes %zd arguments", usage, expected);
        return -1;
    }
    if (ready == NULL) {
        PyErr_Format(PyExc_RuntimeError, "%s: the module's setup() was not called", usage);
        return -1;
    }
    return 0;
}

/* A function of `module` that runs `def` with `bound` (a tuple of what it works on) as its self:
 * what a twin's `bind` gives back. A new reference, or NULL with an exception set. */
static inline PyObject *twin_bound_function(PyObject *module, PyMethodDef *def, PyObject *bound)
{
    PyObject *name = PyModule_GetNameObject(module);
    PyObject *function = name == NULL ? NULL : PyCFunction_NewEx(def, bound, name);
    Py_XDECREF(name);
    return function;
}

/* `twin_bound_function` over a new tuple of the `n` objects `items` (each gets a reference) */
static inline PyObject *twin_bound_items(PyObject *module, PyMethodDef *def, PyObject *const *items,
                                         Py_ssize_t n)
{
    PyObject *bound = PyTuple_New(n);
    if (bound == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++)
        PyTuple_SET_ITEM(bound, i, Py_NewRef(items[i]));
    PyObject *function = twin_bound_function(module, def, bound);
    Py_DECREF(bound);
    return function;
}

/* A new tuple of the `n` new references `items`, which it takes: when one of them is NULL (its
 * error already set) or the tuple cannot be made, the others are released and NULL returned.
 * (Cheaper than Py_BuildValue, which parses its format string at every call.) */
static inline PyObject *twin_tuple_taking(Py_ssize_t n, PyObject **items)
{
    PyObject *tuple = NULL;
    for (Py_ssize_t i = 0; i < n; i++)
        if (items[i] == NULL)
            goto failed;
    tuple = PyTuple_New(n);
    if (tuple == NULL)
        goto failed;
    for (Py_ssize_t i = 0; i < n; i++)
        PyTuple_SET_ITEM(tuple, i, items[i]);
    return tuple;
failed:
    for (Py_ssize_t i = 0; i < n; i++)
        Py_XDECREF(items[i]);
    return NULL;
}

/* An object's instance dict (a new reference), or NULL with an exception set. A twin that reads
 * a Python object's attributes on every packet keeps its dict and looks them up there: a look-up
 * costs a quarter of `PyObject_GetAttr`'s, and the attributes stay the Python's own (a plain
 * instance without properties or __slots__ keeps them in this dict). */
static inline PyObject *twin_instance_dict(PyObject *object)
{
    PyObject *attrs = PyObject_GenericGetDict(object, NULL);
    if (attrs != NULL && !PyDict_CheckExact(attrs)) {
        Py_DECREF(attrs);
        PyErr_SetString(PyExc_TypeError, "an instance __dict__ that is no dict");
        return NULL;
    }
    return attrs;
}

/* The attribute `name` (an interned str) in an instance dict: borrowed, or NULL with no
 * exception when it is missing (a str key's look-up fails only for memory, cleared too: the
 * caller then leaves the work to the Python, which meets the same error itself) */
static inline PyObject *twin_attribute(PyObject *attrs, PyObject *name)
{
    PyObject *value = PyDict_GetItemWithError(attrs, name);
    if (value == NULL)
        PyErr_Clear();
    return value;
}

/* `module.attribute`: a tuple of the `n` strs `names` (what the twin reads or makes, in order,
 * for the Python to check against its own); 0, or -1 with an exception set */
static inline int twin_add_names(PyObject *module, const char *attribute,
                                 const char *const *names, Py_ssize_t n)
{
    PyObject *tuple = PyTuple_New(n);
    for (Py_ssize_t i = 0; tuple != NULL && i < n; i++) {
        PyObject *name = PyUnicode_FromString(names[i]);
        if (name == NULL)
            Py_CLEAR(tuple);
        else
            PyTuple_SET_ITEM(tuple, i, name);
    }
    if (tuple == NULL || PyModule_AddObject(module, attribute, tuple) < 0) {
        Py_XDECREF(tuple);
        return -1;
    }
    return 0;
}

/* `value` in decimal at `out` (no terminator): its length, at most 20. (sprintf's format parsing
 * costs more than the few digits of a port, a TTL or an address's byte.) */
static inline Py_ssize_t twin_put_decimal(char *out, unsigned long long value)
{
    char digits[20];
    Py_ssize_t n = 0;
    do {
        digits[n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    for (Py_ssize_t i = 0; i < n; i++)
        out[i] = digits[n - 1 - i];
    return n;
}

#endif
