/* `WorkerDecoder.__call__` compiled (optional: see mcpcap/core/fastpath.py).
 *
 * A capture repeats whole DNS messages over and over, and the decoder remembers the `Brief` of
 * each message it decoded (decoder.py's `decode_brief`). For a datagram on a DNS, mDNS or LLMNR
 * port, `bind(decoder, fallback, briefs, mdns_briefs, learn)` gives a function that looks its
 * message up there (a message not seen yet is first decoded and remembered by `learn`,
 * decoder.py's `remember_brief`) and, when it is clean, does what `WorkerDecoder.__call__`
 * does: the same counts (`MessageCounts.add`, an NXDOMAIN response's names included), the same
 * store row (`message_row`, appended to the span's chunk in the same bytes as
 * `store_schema.add_row`) and the same value returned, in the same Python objects. Every other
 * datagram (another port, a malformed message, anything unexpected) goes
 * to `fallback`, the Python method, which is the reference; tests/modules/dns/
 * test_worker_compiled.py holds the two to each other.
 */
#include "../../core/_twin.h"

#if PY_VERSION_HEX < 0x030B0000 /* (public from 3.11) */
#define PyFloat_Pack8(x, p, le) _PyFloat_Pack8((x), (unsigned char *)(p), (le))
#endif

/* a Segment's fields (mcpcap/core/decap.py) */
enum { S_SRC = 1, S_SPORT = 2, S_DST = 3, S_DPORT = 4, S_PAYLOAD = 5, S_FIELDS = 18 };
/* a remembered brief: a `Brief` without its id and raw bytes (decoder.py's `decode_brief`) */
enum { B_FLAGS, B_RCODE, B_OPCODE, B_MALFORMED, B_QUESTIONS, B_VIEW = 8, B_FIELDS };
enum { DNS_PORT = 53, MDNS_PORT = 5353, LLMNR_PORT = 5355, RCODE_NXDOMAIN = 3, HEADER = 12 };

static PyObject *str_udp, *str_dns, *str_mdns, *str_llmnr, *int_one;
static PyObject *str_frame, *str_index, *str_counts, *str_chunk, *str_first, *str_shapes, *str_ends,
    *str_questions, *str_nxdomain_names, *str_lower;

/* dict[key] += 1 (from 1 when missing): 0, or -1 with an exception set */
static int count_in(PyObject *dict, PyObject *key)
{
    PyObject *old = PyDict_GetItemWithError(dict, key);
    if (old == NULL) {
        if (PyErr_Occurred())
            return -1;
        PyObject *one = PyLong_FromLong(1);
        int failed = one == NULL || PyDict_SetItem(dict, key, one) < 0;
        Py_XDECREF(one);
        return failed ? -1 : 0;
    }
    PyObject *more = PyNumber_Add(old, int_one);
    int failed = more == NULL || PyDict_SetItem(dict, key, more) < 0;
    Py_XDECREF(more);
    return failed ? -1 : 0;
}

/* the dict `name` of an instance dict (a new reference), or NULL: no exception when it is
 * missing or no dict */
static PyObject *dict_attribute(PyObject *attrs, PyObject *name)
{
    PyObject *value = twin_attribute(attrs, name);
    return value != NULL && PyDict_CheckExact(value) ? Py_NewRef(value) : NULL;
}

/* An NXDOMAIN response's question names in lower case, as `MessageCounts.add` counts them
 * (`question[0].lower()`): a new list, Py_None (a question not as expected: the Python's), or
 * NULL with an exception set */
static PyObject *lowered_names(PyObject *asked)
{
    PyObject *names = PyList_New(PyList_GET_SIZE(asked));
    for (Py_ssize_t i = 0; names != NULL && i < PyList_GET_SIZE(asked); i++) {
        PyObject *question = PyList_GET_ITEM(asked, i);
        if (!PyTuple_CheckExact(question) || PyTuple_GET_SIZE(question) < 1
            || !PyUnicode_CheckExact(PyTuple_GET_ITEM(question, 0))) {
            Py_DECREF(names);
            return Py_NewRef(Py_None);
        }
        PyObject *name = PyObject_CallMethodNoArgs(PyTuple_GET_ITEM(question, 0), str_lower);
        if (name == NULL)
            Py_CLEAR(names);
        else
            PyList_SET_ITEM(names, i, name);
    }
    return names;
}

/* `MessageCounts.add(brief, ts, src, dst, "udp", protocol)` of a clean message (`nxdomain`: an
 * NXDOMAIN response, whose names are counted too): 1, 0 (counts not as expected: nothing
 * changed), or -1 with an exception */
static int count_message(PyObject *counts, PyObject *seen, long qr, int nxdomain, PyObject *ts,
                         PyObject *src, PyObject *dst, PyObject *protocol)
{
    PyObject *attrs = twin_instance_dict(counts);
    if (attrs == NULL) {
        PyErr_Clear();
        return 0;
    }
    PyObject *shapes = dict_attribute(attrs, str_shapes);
    PyObject *ends = dict_attribute(attrs, str_ends);
    PyObject *questions = dict_attribute(attrs, str_questions);
    PyObject *nx_names = nxdomain ? dict_attribute(attrs, str_nxdomain_names) : NULL;
    Py_DECREF(attrs); /* (the counts, which the caller holds, keep their dict) */
    PyObject *asked = PyTuple_GET_ITEM(seen, B_QUESTIONS);
    PyObject *second = NULL, *qr_obj = NULL, *shape = NULL, *end = NULL, *lowered = NULL;
    int result = 0;
    if (shapes == NULL || ends == NULL || questions == NULL || !PyList_CheckExact(asked)
        || (nxdomain && nx_names == NULL))
        goto done;
    if (nxdomain) {
        lowered = lowered_names(asked);
        if (lowered == NULL || lowered == Py_None) {
            result = lowered == NULL ? -1 : 0;
            goto done;
        }
    }
    double when = PyFloat_AS_DOUBLE(ts);
    if (!(when > -1e15 && when < 1e15)) /* (also NaN) int(ts) as Python makes it, below */
        goto done;
    result = -1;
    second = PyLong_FromLongLong((long long)when); /* truncates toward zero, as int() does */
    qr_obj = PyLong_FromLong(qr);
    if (second == NULL || qr_obj == NULL)
        goto done;
    PyObject *rcode = PyTuple_GET_ITEM(seen, B_RCODE);
    shape = PyTuple_Pack(6, second, str_udp, protocol, qr_obj, rcode, Py_None);
    end = PyTuple_Pack(4, src, dst, qr_obj, rcode);
    if (shape == NULL || end == NULL || count_in(shapes, shape) < 0 || count_in(ends, end) < 0)
        goto done;
    if (!qr) {
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(asked); i++) {
            if (count_in(questions, PyList_GET_ITEM(asked, i)) < 0)
                goto done;
        }
    }
    for (Py_ssize_t i = 0; lowered != NULL && i < PyList_GET_SIZE(lowered); i++) {
        if (count_in(nx_names, PyList_GET_ITEM(lowered, i)) < 0)
            goto done;
    }
    result = 1;
done:
    Py_XDECREF(shapes);
    Py_XDECREF(ends);
    Py_XDECREF(questions);
    Py_XDECREF(nx_names);
    Py_XDECREF(lowered);
    Py_XDECREF(second);
    Py_XDECREF(qr_obj);
    Py_XDECREF(shape);
    Py_XDECREF(end);
    return result;
}

/* The message's place in its frame (the decoder's `_frame` and `_index`, in its instance dict
 * `attrs`, as `__call__` moves them): 0, or -1 with an exception set; `*index` a new reference */
static int next_index(PyObject *attrs, PyObject *frame, PyObject **index)
{
    PyObject *last = twin_attribute(attrs, str_frame);
    if (last == NULL) {
        PyErr_SetObject(PyExc_AttributeError, str_frame);
        return -1;
    }
    int same = PyObject_RichCompareBool(frame, last, Py_EQ);
    if (same < 0)
        return -1;
    if (same) {
        PyObject *previous = twin_attribute(attrs, str_index);
        if (previous == NULL)
            PyErr_SetObject(PyExc_AttributeError, str_index);
        *index = previous == NULL ? NULL : PyNumber_Add(previous, int_one);
    } else {
        *index = PyLong_FromLong(0);
        if (*index != NULL && PyDict_SetItem(attrs, str_frame, frame) < 0)
            Py_CLEAR(*index);
    }
    if (*index == NULL || PyDict_SetItem(attrs, str_index, *index) < 0) {
        Py_CLEAR(*index);
        return -1;
    }
    return 0;
}

/* The datagram's protocol, when a port is DNS's, mDNS's or LLMNR's (`protocol_of`); else NULL */
static PyObject *protocol_of(long sport, long dport)
{
    if (sport == MDNS_PORT || dport == MDNS_PORT)
        return str_mdns;
    if (sport == LLMNR_PORT || dport == LLMNR_PORT)
        return str_llmnr;
    if (sport == DNS_PORT || dport == DNS_PORT)
        return str_dns;
    return NULL;
}

/* The remembered brief of `payload` (a borrowed reference; NULL when there is none or on an
 * error, which `PyErr_Occurred` tells) */
static PyObject *seen_brief(PyObject *briefs, PyObject *payload)
{
    PyObject *key = PyBytes_FromStringAndSize(PyBytes_AS_STRING(payload) + 2,
                                              PyBytes_GET_SIZE(payload) - 2);
    if (key == NULL)
        return NULL;
    PyObject *seen = PyDict_GetItemWithError(briefs, key);
    Py_DECREF(key);
    return seen;
}

/* A store row's values in marshal's version 2 (`store_schema.ROW_VERSION`), as
 * `marshal.dumps(row, 2)` writes them: a type byte, then 4-byte little-endian sizes and ints,
 * 8-byte little-endian floats, and strings as their UTF-8 */
enum { ROW_FIELDS = 12, INT_SIZE = 5, FLOAT_SIZE = 9, TEXT_HEAD = 5, LIST_HEAD = 5 };

static char *put_long(char *at, long value)
{
    unsigned long bits = (unsigned long)value;
    for (int i = 0; i < 4; i++)
        *at++ = (char)((bits >> (8 * i)) & 0xFF);
    return at;
}

static char *put_int(char *at, long value)
{
    *at++ = 'i';
    return put_long(at, value);
}

static char *put_text(char *at, char type, const char *text, Py_ssize_t size)
{
    *at++ = type;
    at = put_long(at, (long)size);
    memcpy(at, text, (size_t)size);
    return at + size;
}

static char *put_str(char *at, PyObject *text) /* an ASCII str (`row_text` checked) */
{
    return put_text(at, 'u', (const char *)PyUnicode_DATA(text), PyUnicode_GET_LENGTH(text));
}

/* Whether `value` is a str this code writes: an exact, ASCII one (its UTF-8 is its data) */
static int row_text(PyObject *value)
{
    return PyUnicode_CheckExact(value) && PyUnicode_IS_ASCII(value);
}

/* Whether `value` is an int marshal writes as one of 4 bytes, into `*out` */
static int row_int(PyObject *value, long *out)
{
    if (!PyLong_CheckExact(value))
        return 0;
    *out = PyLong_AsLong(value);
    if (PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    return *out >= INT32_MIN && *out <= INT32_MAX;
}

/* How many rows a chunk holds: the list's length, 4 bytes little-endian after its type byte
 * (`store_schema.chunk_length`) */
static unsigned long chunk_length(const char *chunk)
{
    const unsigned char *count = (const unsigned char *)chunk + 1;
    return count[0] | count[1] << 8 | count[2] << 16 | (unsigned long)count[3] << 24;
}

/* The message's row (`message_row`) after the chunk's others, as `store_schema.add_row` puts
 * it (`row_text` and `row_int` have checked its values): 0, or -1 with an exception set and
 * the chunk as it was */
static int add_row(PyObject *chunk, long frame, long index, PyObject *ts, PyObject *seg,
                   long sport, long dport, PyObject *protocol, long qr, long ident)
{
    PyObject *src = PyTuple_GET_ITEM(seg, S_SRC), *dst = PyTuple_GET_ITEM(seg, S_DST);
    PyObject *payload = PyTuple_GET_ITEM(seg, S_PAYLOAD);
    Py_ssize_t before = PyByteArray_GET_SIZE(chunk);
    Py_ssize_t size = 1 + 4 + 6 * INT_SIZE + FLOAT_SIZE + 5 * TEXT_HEAD
                      + PyUnicode_GET_LENGTH(src) + PyUnicode_GET_LENGTH(dst)
                      + PyUnicode_GET_LENGTH(str_udp) + PyUnicode_GET_LENGTH(protocol)
                      + PyBytes_GET_SIZE(payload);
    if (PyByteArray_Resize(chunk, before + size) < 0)
        return -1;
    char *start = PyByteArray_AS_STRING(chunk), *at = start + before;
    *at++ = '(';
    at = put_long(at, ROW_FIELDS);
    at = put_int(at, frame);
    at = put_int(at, index);
    *at++ = 'g';
    if (PyFloat_Pack8(PyFloat_AS_DOUBLE(ts), at, 1) < 0)
        goto failed;
    at = put_str(at + 8, src);
    at = put_int(at, sport);
    at = put_str(at, dst);
    at = put_int(at, dport);
    at = put_str(at, str_udp);
    at = put_str(at, protocol);
    at = put_int(at, qr);
    at = put_int(at, ident);
    at = put_text(at, 's', PyBytes_AS_STRING(payload), PyBytes_GET_SIZE(payload));
    if (at != start + before + size) {
        PyErr_SetString(PyExc_SystemError, "_worker.c wrote a row of the wrong size");
        goto failed;
    }
    put_long(start + 1, (long)(chunk_length(start) + 1));
    return 0;
failed:
    /* (shrinking never fails, and the error set is the one to report) */
    PyByteArray_Resize(chunk, before);
    return -1;
}

/* Whether the chunk holds no row yet: 1, 0, or -1 (not a chunk `new_chunk` made) */
static int chunk_empty(PyObject *chunk)
{
    if (chunk == NULL || !PyByteArray_CheckExact(chunk) || PyByteArray_GET_SIZE(chunk) < LIST_HEAD
        || PyByteArray_AS_STRING(chunk)[0] != '[')
        return -1;
    return chunk_length(PyByteArray_AS_STRING(chunk)) == 0;
}

/* The rest of `remembered` (below), once the message's remembered brief `seen` is found */
static PyObject *taken(PyObject *self, PyObject *frame, PyObject *ts, PyObject *seg,
                       PyObject *protocol, PyObject *seen)
{
    PyObject *payload = PyTuple_GET_ITEM(seg, S_PAYLOAD);
    if (!PyTuple_CheckExact(seen) || PyTuple_GET_SIZE(seen) != B_FIELDS
        || PyTuple_GET_ITEM(seen, B_MALFORMED) != Py_None)
        return Py_None;
    long flags = PyLong_AsLong(PyTuple_GET_ITEM(seen, B_FLAGS));
    long rcode = PyLong_AsLong(PyTuple_GET_ITEM(seen, B_RCODE));
    if (PyErr_Occurred()) {
        PyErr_Clear();
        return Py_None;
    }
    long qr = flags >> 15;
    PyObject *src = PyTuple_GET_ITEM(seg, S_SRC), *dst = PyTuple_GET_ITEM(seg, S_DST);
    long frame_number, sport, dport;
    /* a row this code cannot write the way marshal does goes to the Python, untouched */
    if (!row_int(frame, &frame_number) || !row_int(PyTuple_GET_ITEM(seg, S_SPORT), &sport)
        || !row_int(PyTuple_GET_ITEM(seg, S_DPORT), &dport) || !row_text(src)
        || !row_text(dst))
        return Py_None;

    PyObject *attrs = PyTuple_GET_ITEM(self, 0); /* the decoder's instance dict */
    PyObject *counts = Py_XNewRef(twin_attribute(attrs, str_counts));
    PyObject *chunk = Py_XNewRef(twin_attribute(attrs, str_chunk));
    PyObject *result = Py_None, *index = NULL, *ident = NULL;
    int empty = chunk_empty(chunk);
    if (counts == NULL || empty < 0)
        goto done;
    /* the counts first: what they do not take leaves everything as it was */
    int counted = count_message(counts, seen, qr, qr && rcode == RCODE_NXDOMAIN, ts, src, dst,
                                protocol);
    if (counted <= 0) {
        result = counted < 0 ? NULL : Py_None;
        goto done;
    }
    result = NULL;
    const unsigned char *raw = (const unsigned char *)PyBytes_AS_STRING(payload);
    long ident_value = (raw[0] << 8) | raw[1];
    ident = PyLong_FromLong(ident_value);
    if (ident == NULL || next_index(attrs, frame, &index) < 0)
        goto done;
    long index_value = PyLong_AsLong(index);
    if (index_value == -1 && PyErr_Occurred())
        goto done;
    if ((empty && PyDict_SetItem(attrs, str_first, frame) < 0)
        || add_row(chunk, frame_number, index_value, ts, seg, sport, dport, protocol, qr,
                   ident_value) < 0)
        goto done;
    result = PyTuple_Pack(3, ident, protocol, PyTuple_GET_ITEM(seen, B_VIEW));
done:
    Py_XDECREF(counts);
    Py_XDECREF(chunk);
    Py_XDECREF(index);
    Py_XDECREF(ident);
    return result;
}

/* `__call__` of a remembered message: its result (a new reference), Py_None borrowed when it
 * is not one this code takes (nothing changed), or NULL with an exception set */
static PyObject *remembered(PyObject *self, PyObject *frame, PyObject *ts, PyObject *seg)
{
    if (!PyTuple_Check(seg) || PyTuple_GET_SIZE(seg) < S_FIELDS || !PyFloat_CheckExact(ts))
        return Py_None;
    long sport = PyLong_AsLong(PyTuple_GET_ITEM(seg, S_SPORT));
    long dport = PyLong_AsLong(PyTuple_GET_ITEM(seg, S_DPORT));
    if (PyErr_Occurred()) {
        PyErr_Clear();
        return Py_None;
    }
    PyObject *protocol = protocol_of(sport, dport);
    PyObject *payload = PyTuple_GET_ITEM(seg, S_PAYLOAD);
    if (protocol == NULL || !PyBytes_CheckExact(payload) || PyBytes_GET_SIZE(payload) < HEADER)
        return Py_None;
    PyObject *briefs = PyTuple_GET_ITEM(self, protocol == str_mdns ? 3 : 2);
    PyObject *seen = Py_XNewRef(seen_brief(briefs, payload));
    if (seen == NULL && !PyErr_Occurred()) {
        /* a message not seen yet: `remember_brief` decodes and remembers it */
        PyObject *learn_args[2] = {payload, protocol == str_mdns ? Py_True : Py_False};
        seen = PyObject_Vectorcall(PyTuple_GET_ITEM(self, 4), learn_args, 2, NULL);
    }
    if (seen == NULL)
        return PyErr_Occurred() ? NULL : Py_None;
    PyObject *result = taken(self, frame, ts, seg, protocol, seen);
    Py_DECREF(seen);
    return result;
}

/* the bound function: self is (the decoder's instance dict, fallback, briefs, mdns_briefs,
 * learn) */
static PyObject *call(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "call(frame, ts, segment)");
        return NULL;
    }
    PyObject *result = remembered(self, args[0], args[1], args[2]);
    if (result != Py_None)
        return result;
    return PyObject_Vectorcall(PyTuple_GET_ITEM(self, 1), args, 3, NULL);
}

static PyMethodDef call_def = {
    "call", (PyCFunction)(void (*)(void))call, METH_FASTCALL,
    "call(frame, ts, segment): WorkerDecoder.__call__, in C for a clean message",
};

static PyObject *bind(PyObject *module, PyObject *args)
{
    PyObject *decoder, *fallback, *briefs, *mdns_briefs, *learn;
    if (!PyArg_ParseTuple(args, "OOO!O!O:bind", &decoder, &fallback, &PyDict_Type, &briefs,
                          &PyDict_Type, &mdns_briefs, &learn))
        return NULL;
    if (!PyCallable_Check(fallback) || !PyCallable_Check(learn)) {
        PyErr_SetString(PyExc_TypeError, "the fallback and learn must be callable");
        return NULL;
    }
    /* the decoder's attributes, read from its instance dict (see `twin_instance_dict`) */
    PyObject *attrs = twin_instance_dict(decoder);
    if (attrs == NULL)
        return NULL;
    PyObject *items[5] = {attrs, fallback, briefs, mdns_briefs, learn};
    PyObject *bound = twin_bound_items(module, &call_def, items, 5);
    Py_DECREF(attrs);
    return bound;
}

static PyMethodDef methods[] = {
    {"bind", bind, METH_VARARGS,
     "bind(decoder, fallback, briefs, mdns_briefs, learn): the decoder's call, done in C for "
     "a clean message remembered in `briefs` (`mdns_briefs` for mDNS), a message not seen yet "
     "being first decoded and remembered by `learn` (`remember_brief`); else by `fallback` (the "
     "Python method)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = TWIN_MODULE_DEF(
    "mcpcap.modules.dns._worker",
    "WorkerDecoder.__call__ compiled, for the clean messages (see scan.py).", methods);

static PyObject *interned(const char *text, PyObject **slot)
{
    *slot = PyUnicode_InternFromString(text);
    return *slot;
}

PyMODINIT_FUNC PyInit__worker(void)
{
    if (!interned("udp", &str_udp) || !interned("dns", &str_dns) || !interned("mdns", &str_mdns)
        || !interned("llmnr", &str_llmnr) || !interned("_frame", &str_frame)
        || !interned("_index", &str_index) || !interned("_counts", &str_counts)
        || !interned("_chunk", &str_chunk) || !interned("_first", &str_first)
        || !interned("_shapes", &str_shapes)
        || !interned("_ends", &str_ends) || !interned("_questions", &str_questions)
        || !interned("nxdomain_names", &str_nxdomain_names) || !interned("lower", &str_lower))
        return NULL;
    int_one = PyLong_FromLong(1);
    PyObject *module = int_one == NULL ? NULL : twin_module(&module_def);
    if (module == NULL)
        return NULL;
    /* the places this code reads, which scan.py checks against its own before it binds */
    PyObject *layout = Py_BuildValue(
        "{s{sisisisisi}s{sisisisisi}}", "segment", "src", S_SRC, "sport", S_SPORT, "dst", S_DST,
        "dport", S_DPORT, "payload", S_PAYLOAD, "seen", "flags", B_FLAGS, "rcode", B_RCODE,
        "malformed", B_MALFORMED, "questions", B_QUESTIONS, "view", B_VIEW);
    if (layout == NULL || PyModule_AddObject(module, "LAYOUT", layout) < 0) {
        Py_XDECREF(layout);
        Py_DECREF(module);
        return NULL;
    }
    if (PyModule_AddIntConstant(module, "SEGMENT_FIELDS", S_FIELDS) < 0
        || PyModule_AddIntConstant(module, "SEEN_FIELDS", B_FIELDS) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
