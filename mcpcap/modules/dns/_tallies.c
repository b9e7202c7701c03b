/* HuntTallies.python_add (hunting/tallies.py), compiled: the same three groupings of the same
 * transaction rows, kept in the same Python dicts and lists, with the same values and types.
 *
 * `bind(names, resolvers, answer_names, looks_private, constants)` gives `add(rows, values)`;
 * `constants` is (DNSSEC_TYPES, UNUSUAL_TYPES, PRIVATE_TYPES, ADDRESS_QTYPES, ADDRESS_CAP).
 * Comparisons and sums go through Python's own protocols, so any value a row may hold (None,
 * an int, a float, a str) is compared and added exactly as the Python does. */
#include "../../core/_twin.h"

/* a transaction row's columns (store_schema.TRANSACTION_COLUMNS; tallies.py checks LAYOUT) */
enum {
    COL_ID = 0, COL_TS = 1, COL_QUERY_FRAME = 2, COL_RESPONSE_FRAME = 3, COL_CLIENT = 4,
    COL_SERVER = 6, COL_SERVER_PORT = 7, COL_PROTOCOL = 9, COL_QUERY = 12, COL_QNAME = 13,
    COL_DOMAIN = 14, COL_QTYPE = 16, COL_RCODE = 17, COL_ANSWERS = 23, ROW_MIN = 24,
};

/* the bound tuple's items */
enum { B_NAMES, B_RESOLVERS, B_ANSWER_NAMES, B_LOOKS_PRIVATE, B_DNSSEC, B_UNUSUAL, B_PRIVATE,
       B_ADDRESS_QTYPES, B_ADDRESS_CAP, B_COUNT };

static PyObject *str_dns, *int_zero, *int_one, *int_three;

/* list[i] += value (a new int or whatever `+` makes); 0, or -1 with an exception set */
static int add_at(PyObject *list, Py_ssize_t i, PyObject *value)
{
    PyObject *sum = PyNumber_Add(PyList_GET_ITEM(list, i), value);
    if (sum == NULL)
        return -1;
    return PyList_SetItem(list, i, sum); /* steals `sum` */
}

/* list[i] = value when `value op list[i]` (Py_LT: the least, Py_GT: the greatest) */
static int keep_if(PyObject *list, Py_ssize_t i, PyObject *value, int op)
{
    int better = PyObject_RichCompareBool(value, PyList_GET_ITEM(list, i), op);
    if (better <= 0)
        return better;
    Py_INCREF(value);
    return PyList_SetItem(list, i, value);
}

/* tallies.py's `_least` in place: list[i] = value when value is not None and list[i] is None
 * or greater */
static int keep_least(PyObject *list, Py_ssize_t i, PyObject *value)
{
    if (value == Py_None)
        return 0;
    if (PyList_GET_ITEM(list, i) == Py_None) {
        Py_INCREF(value);
        return PyList_SetItem(list, i, value);
    }
    return keep_if(list, i, value, Py_LT);
}

/* a new list of `n` references taken from `items` (PyList_New then steals each) */
static PyObject *list_of(Py_ssize_t n, PyObject **items)
{
    PyObject *list = PyList_New(n);
    if (list == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_INCREF(items[i]);
        PyList_SET_ITEM(list, i, items[i]);
    }
    return list;
}

static int add_resolver(PyObject *resolvers, PyObject *row, PyObject *id, PyObject *ts, int asked)
{
    PyObject *key = PyTuple_Pack(3, PyTuple_GET_ITEM(row, COL_SERVER),
                                 PyTuple_GET_ITEM(row, COL_SERVER_PORT),
                                 PyTuple_GET_ITEM(row, COL_CLIENT));
    if (key == NULL)
        return -1;
    PyObject *pair = PyDict_GetItemWithError(resolvers, key);
    int answered = PyTuple_GET_ITEM(row, COL_RESPONSE_FRAME) != Py_None;
    int rc;
    if (pair == NULL) {
        if (PyErr_Occurred()) {
            Py_DECREF(key);
            return -1;
        }
        PyObject *items[7] = {int_one, asked ? Py_False : Py_True, answered ? Py_True : Py_False,
                              ts, ts, id, asked ? Py_True : Py_False};
        PyObject *fresh = list_of(7, items);
        rc = fresh == NULL ? -1 : PyDict_SetItem(resolvers, key, fresh);
        Py_XDECREF(fresh);
        Py_DECREF(key);
        return rc;
    }
    Py_DECREF(key);
    if (!PyList_CheckExact(pair) || PyList_GET_SIZE(pair) != 7) {
        PyErr_SetString(PyExc_TypeError, "a resolver tally is a list of 7");
        return -1;
    }
    Py_INCREF(pair);
    rc = add_at(pair, 0, int_one) < 0
         || add_at(pair, 1, asked ? Py_False : Py_True) < 0
         || add_at(pair, 2, answered ? Py_True : Py_False) < 0
         || keep_if(pair, 3, ts, Py_LT) < 0
         || keep_if(pair, 4, ts, Py_GT) < 0
         || keep_if(pair, 5, id, Py_LT) < 0
         || add_at(pair, 6, asked ? Py_True : Py_False) < 0 ? -1 : 0;
    Py_DECREF(pair);
    return rc;
}

static int add_name(PyObject *bound, PyObject *row, PyObject *qname, PyObject *id, PyObject *ts,
                    PyObject *qtype)
{
    int unusual = PySequence_Contains(PyTuple_GET_ITEM(bound, B_UNUSUAL), qtype);
    if (unusual == 0)
        unusual = PySequence_Contains(PyTuple_GET_ITEM(bound, B_PRIVATE), qtype);
    if (unusual < 0)
        return -1;
    PyObject *answers = PyTuple_GET_ITEM(row, COL_ANSWERS);
    Py_ssize_t chars = 0;
    int counted = 0;
    if (answers != Py_None) {
        chars = PyObject_Length(answers);
        if (chars < 0)
            return -1;
        counted = 1;
    }
    int nx = PyObject_RichCompareBool(PyTuple_GET_ITEM(row, COL_RCODE), int_three, Py_EQ);
    if (nx < 0)
        return -1;
    PyObject *chars_obj = PyLong_FromSsize_t(chars);
    if (chars_obj == NULL)
        return -1;
    PyObject *names = PyTuple_GET_ITEM(bound, B_NAMES);
    PyObject *tally = PyDict_GetItemWithError(names, qname);
    int rc;
    if (tally == NULL) {
        if (PyErr_Occurred()) {
            Py_DECREF(chars_obj);
            return -1;
        }
        PyObject *items[10] = {PyTuple_GET_ITEM(row, COL_DOMAIN), PyTuple_GET_ITEM(row, COL_QUERY),
                               int_one, id, ts, ts, unusual ? Py_True : Py_False, chars_obj,
                               counted ? int_one : int_zero, nx ? Py_True : Py_False};
        PyObject *fresh = list_of(10, items);
        rc = fresh == NULL ? -1 : PyDict_SetItem(names, qname, fresh);
        Py_XDECREF(fresh);
        Py_DECREF(chars_obj);
        return rc;
    }
    if (!PyList_CheckExact(tally) || PyList_GET_SIZE(tally) != 10) {
        Py_DECREF(chars_obj);
        PyErr_SetString(PyExc_TypeError, "a name tally is a list of 10");
        return -1;
    }
    Py_INCREF(tally);
    rc = keep_least(tally, 0, PyTuple_GET_ITEM(row, COL_DOMAIN)) < 0
         || keep_least(tally, 1, PyTuple_GET_ITEM(row, COL_QUERY)) < 0
         || add_at(tally, 2, int_one) < 0
         || keep_if(tally, 3, id, Py_LT) < 0
         || keep_if(tally, 4, ts, Py_LT) < 0
         || keep_if(tally, 5, ts, Py_GT) < 0
         || add_at(tally, 6, unusual ? Py_True : Py_False) < 0
         || add_at(tally, 7, chars_obj) < 0
         || add_at(tally, 8, counted ? int_one : int_zero) < 0
         || add_at(tally, 9, nx ? Py_True : Py_False) < 0 ? -1 : 0;
    Py_DECREF(chars_obj);
    Py_DECREF(tally);
    return rc;
}

static int add_answers(PyObject *bound, PyObject *qname, PyObject *values)
{
    PyObject *answer_names = PyTuple_GET_ITEM(bound, B_ANSWER_NAMES);
    PyObject *tally = PyDict_GetItemWithError(answer_names, qname);
    if (tally == NULL) {
        if (PyErr_Occurred())
            return -1;
        PyObject *addresses = PySet_New(NULL);
        if (addresses == NULL)
            return -1;
        PyObject *items[3] = {addresses, Py_False, Py_False};
        tally = list_of(3, items);
        Py_DECREF(addresses);
        if (tally == NULL || PyDict_SetItem(answer_names, qname, tally) < 0) {
            Py_XDECREF(tally);
            return -1;
        }
    } else {
        if (!PyList_CheckExact(tally) || PyList_GET_SIZE(tally) != 3) {
            PyErr_SetString(PyExc_TypeError, "an answer tally is a list of 3");
            return -1;
        }
        Py_INCREF(tally);
        /* (`tally[1] |= False` and `tally[2] |= False`: python_add passes no flags) */
    }
    PyObject *addresses = PyList_GET_ITEM(tally, 0);
    Py_ssize_t cap = PyLong_AsSsize_t(PyTuple_GET_ITEM(bound, B_ADDRESS_CAP));
    PyObject *iterator = cap == -1 && PyErr_Occurred() ? NULL : PyObject_GetIter(values);
    if (iterator == NULL || !PyAnySet_Check(addresses)) {
        if (iterator != NULL)
            PyErr_SetString(PyExc_TypeError, "an answer tally's addresses are a set");
        Py_XDECREF(iterator);
        Py_DECREF(tally);
        return -1;
    }
    PyObject *value;
    int rc = 0;
    while (rc == 0 && (value = PyIter_Next(iterator)) != NULL) {
        if (PySet_GET_SIZE(addresses) < cap)
            rc = PySet_Add(addresses, value);
        if (rc == 0) {
            int private_seen = PyObject_IsTrue(PyList_GET_ITEM(tally, 1));
            int public_seen = private_seen < 0 ? -1 : PyObject_IsTrue(PyList_GET_ITEM(tally, 2));
            if (public_seen < 0) {
                rc = -1;
            } else if (!(private_seen && public_seen)) {
                PyObject *looks = PyObject_CallOneArg(PyTuple_GET_ITEM(bound, B_LOOKS_PRIVATE),
                                                      value);
                int private_value = looks == NULL ? -1 : PyObject_IsTrue(looks);
                Py_XDECREF(looks);
                if (private_value < 0)
                    rc = -1;
                else {
                    Py_INCREF(Py_True);
                    rc = PyList_SetItem(tally, private_value ? 1 : 2, Py_True);
                }
            }
        }
        Py_DECREF(value);
    }
    Py_DECREF(iterator);
    Py_DECREF(tally);
    return rc < 0 || PyErr_Occurred() ? -1 : 0;
}

static int add_row(PyObject *bound, PyObject *row, PyObject *values)
{
    if (!PyTuple_CheckExact(row) || PyTuple_GET_SIZE(row) < ROW_MIN) {
        PyErr_SetString(PyExc_TypeError, "a transaction row is a tuple of its columns");
        return -1;
    }
    int dns = PyObject_RichCompareBool(PyTuple_GET_ITEM(row, COL_PROTOCOL), str_dns, Py_EQ);
    if (dns <= 0)
        return dns;
    PyObject *id = PyTuple_GET_ITEM(row, COL_ID), *ts = PyTuple_GET_ITEM(row, COL_TS);
    PyObject *qname = PyTuple_GET_ITEM(row, COL_QNAME), *qtype = PyTuple_GET_ITEM(row, COL_QTYPE);
    int asked = PyTuple_GET_ITEM(row, COL_QUERY_FRAME) != Py_None;
    if (PyTuple_GET_ITEM(row, COL_SERVER) != Py_None
        && add_resolver(PyTuple_GET_ITEM(bound, B_RESOLVERS), row, id, ts, asked) < 0)
        return -1;
    if (qname == Py_None)
        return 0;
    if (asked && qtype != Py_None) {
        int dnssec = PySequence_Contains(PyTuple_GET_ITEM(bound, B_DNSSEC), qtype);
        if (dnssec < 0 || (!dnssec && add_name(bound, row, qname, id, ts, qtype) < 0))
            return -1;
    }
    int any_values = PyObject_IsTrue(values);
    if (any_values <= 0)
        return any_values;
    int address = PySequence_Contains(PyTuple_GET_ITEM(bound, B_ADDRESS_QTYPES), qtype);
    if (address <= 0)
        return address;
    return add_answers(bound, qname, values);
}

static PyObject *add(PyObject *bound, PyObject *const *args, Py_ssize_t nargs)
{
    if (twin_arguments(nargs, 2, str_dns, "add(rows, values)") < 0)
        return NULL;
    PyObject *rows = PySequence_Fast(args[0], "the rows are a sequence");
    PyObject *values = rows == NULL ? NULL : PySequence_Fast(args[1], "the values are a sequence");
    if (values == NULL) {
        Py_XDECREF(rows);
        return NULL;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(rows), m = PySequence_Fast_GET_SIZE(values);
    int rc = 0;
    for (Py_ssize_t i = 0; rc == 0 && i < n && i < m; i++)
        rc = add_row(bound, PySequence_Fast_GET_ITEM(rows, i), PySequence_Fast_GET_ITEM(values, i));
    if (rc == 0 && n != m) { /* as zip(strict=True) does, once the shorter one ends */
        PyErr_Format(PyExc_ValueError, "zip() argument 2 is %s than argument 1",
                     m < n ? "shorter" : "longer");
        rc = -1;
    }
    Py_DECREF(rows);
    Py_DECREF(values);
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef add_def = {
    "add", (PyCFunction)(void (*)(void))add, METH_FASTCALL,
    "add(rows, values): HuntTallies.python_add, compiled",
};

static PyObject *bind_tallies(PyObject *module, PyObject *args)
{
    PyObject *names, *resolvers, *answer_names, *looks_private, *constants;
    if (!PyArg_ParseTuple(args, "O!O!O!OO!:bind", &PyDict_Type, &names, &PyDict_Type, &resolvers,
                          &PyDict_Type, &answer_names, &looks_private, &PyTuple_Type, &constants))
        return NULL;
    if (!PyCallable_Check(looks_private) || PyTuple_GET_SIZE(constants) != 5
        || !PyLong_Check(PyTuple_GET_ITEM(constants, 4))) {
        PyErr_SetString(PyExc_TypeError,
                        "bind(names, resolvers, answer_names, looks_private, (DNSSEC_TYPES, "
                        "UNUSUAL_TYPES, PRIVATE_TYPES, ADDRESS_QTYPES, ADDRESS_CAP))");
        return NULL;
    }
    PyObject *items[B_COUNT] = {names, resolvers, answer_names, looks_private,
                                PyTuple_GET_ITEM(constants, 0), PyTuple_GET_ITEM(constants, 1),
                                PyTuple_GET_ITEM(constants, 2), PyTuple_GET_ITEM(constants, 3),
                                PyTuple_GET_ITEM(constants, 4)};
    return twin_bound_items(module, &add_def, items, B_COUNT);
}

static PyMethodDef methods[] = {
    {"bind", bind_tallies, METH_VARARGS,
     "bind(names, resolvers, answer_names, looks_private, constants): HuntTallies.python_add "
     "over these three dicts, compiled"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = TWIN_MODULE_DEF(
    "mcpcap.modules.dns._tallies",
    "The hunt's tallies of stored transactions, compiled (see hunting/tallies.py).", methods);

PyMODINIT_FUNC PyInit__tallies(void)
{
    str_dns = PyUnicode_InternFromString("dns");
    int_zero = PyLong_FromLong(0);
    int_one = PyLong_FromLong(1);
    int_three = PyLong_FromLong(3);
    if (!str_dns || !int_zero || !int_one || !int_three)
        return NULL;
    PyObject *module = twin_module(&module_def);
    if (module == NULL)
        return NULL;
    PyObject *layout = Py_BuildValue(
        "{sisisisisisisisisisisisisisi}", "_ID", COL_ID, "_TS", COL_TS, "_QUERY_FRAME",
        COL_QUERY_FRAME, "_RESPONSE_FRAME", COL_RESPONSE_FRAME, "_CLIENT", COL_CLIENT, "_SERVER",
        COL_SERVER, "_SERVER_PORT", COL_SERVER_PORT, "_PROTOCOL", COL_PROTOCOL, "_QUERY",
        COL_QUERY, "_QNAME", COL_QNAME, "_DOMAIN", COL_DOMAIN, "_QTYPE", COL_QTYPE, "_RCODE",
        COL_RCODE, "_ANSWERS", COL_ANSWERS);
    if (layout == NULL || PyModule_AddObject(module, "LAYOUT", layout) < 0) {
        Py_XDECREF(layout);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
