/* `wire.python_client_hello_fields` compiled, for a ClientHello that parses cleanly (optional:
 * see mcpcap/core/fastpath.py).
 *
 * Every TLS connection over TCP and every QUIC connection opens with a ClientHello, which the
 * module reads whole: its version, session id, cipher suites, compression methods and the list
 * of its extensions, and the bodies of the few it keeps (server name, ALPN, supported versions,
 * groups, point formats, signature algorithms, ECH, PSK and a session ticket offered).
 * `bind(fallback)` gives a function that makes the same `hello_fields` tuple as the Python
 * (wire.py), in the same shapes. At the first thing that does not parse cleanly (a length
 * beyond its vector, a list of odd length, a hello cut short) it calls `fallback`, the Python
 * function, which is the reference and names the malformation;
 * tests/modules/tls/test_hello_compiled.py holds the two to each other.
 */
#include "../../core/_twin.h"

enum {
    EXT_SNI = 0, EXT_GROUPS = 10, EXT_POINT_FORMATS = 11, EXT_SIG_ALGS = 13, EXT_ALPN = 16,
    EXT_TICKET = 35, EXT_PSK = 41, EXT_VERSIONS = 43, EXT_ECH = 0xFE0D, RANDOM = 32,
};
/* the places of `hello_fields`' values (wire.py's ClientHello fields, then its error) */
enum {
    F_LEGACY_VERSION, F_SESSION_ID, F_CIPHERS, F_EXTENSIONS, F_COMPRESSION, F_SERVER_NAME,
    F_ALPN, F_VERSIONS, F_GROUPS, F_POINT_FORMATS, F_SIG_ALGS, F_ECH, F_PSK, F_TICKET, F_SSLV2,
    F_ERROR, F_COUNT,
};
static const char *const FIELD_NAMES[F_ERROR] = {
    "legacy_version", "session_id", "ciphers", "extensions", "compression", "server_name",
    "alpn_raw", "versions", "groups", "point_formats", "sig_algs", "ech", "psk", "ticket",
    "sslv2",
};

/* bounded reads from one message: a read past `end` fails (0), as wire.py's `_Reader` raises */
typedef struct {
    const unsigned char *data;
    Py_ssize_t pos, end;
} Reader;

static int read_uint(Reader *r, int size, long *value)
{
    if (r->end - r->pos < size)
        return 0;
    long v = 0;
    for (int i = 0; i < size; i++)
        v = v << 8 | r->data[r->pos + i];
    r->pos += size;
    *value = v;
    return 1;
}

/* the next vector with a length of `size` bytes, as a reader of its own */
static int read_vector(Reader *r, int size, Reader *vector)
{
    long length;
    if (!read_uint(r, size, &length) || length > r->end - r->pos)
        return 0;
    *vector = (Reader){r->data, r->pos, r->pos + length};
    r->pos += length;
    return 1;
}

static PyObject *rest_bytes(Reader *r)
{
    PyObject *bytes = PyBytes_FromStringAndSize((const char *)r->data + r->pos, r->end - r->pos);
    r->pos = r->end;
    return bytes;
}

/* the rest of a reader as numbers of 1 or 2 bytes: a new list, Py_None (borrowed) for a list of
 * odd length, or NULL with an exception set */
static PyObject *rest_numbers(Reader *r, int size)
{
    Py_ssize_t count = (r->end - r->pos) / size;
    if ((r->end - r->pos) % size)
        return Py_None;
    PyObject *list = PyList_New(count);
    for (Py_ssize_t i = 0; list != NULL && i < count; i++) {
        long value;
        read_uint(r, size, &value);
        PyObject *number = PyLong_FromLong(value);
        if (number == NULL)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, i, number);
    }
    return list;
}

/* a list vector's numbers (`body.vector(length_bytes).uints(2)`, or `list(vector)` of bytes):
 * as `rest_numbers`, Py_None also when the vector overruns its body */
static PyObject *vector_numbers(Reader *body, int length_bytes, int size)
{
    Reader vector;
    if (!read_vector(body, length_bytes, &vector))
        return Py_None;
    return rest_numbers(&vector, size);
}

/* `_server_name`: the first host name's text, Py_None (a new reference) when the list names
 * none; NULL with `*clean` cleared when it does not parse, or NULL with an exception set */
static PyObject *server_name(Reader *body, int *clean)
{
    Reader names, name;
    if (!read_vector(body, 2, &names)) {
        *clean = 0;
        return NULL;
    }
    while (names.pos < names.end) {
        long kind;
        if (!read_uint(&names, 1, &kind) || !read_vector(&names, 2, &name)) {
            *clean = 0;
            return NULL;
        }
        if (kind == 0)
            return PyUnicode_DecodeUTF8((const char *)name.data + name.pos, name.end - name.pos,
                                        "backslashreplace");
    }
    return Py_NewRef(Py_None);
}

/* `_alpn`: the offered protocols as bytes; as `server_name` */
static PyObject *alpn(Reader *body, int *clean)
{
    Reader protocols, protocol;
    if (!read_vector(body, 2, &protocols)) {
        *clean = 0;
        return NULL;
    }
    PyObject *list = PyList_New(0);
    while (list != NULL && protocols.pos < protocols.end) {
        if (!read_vector(&protocols, 1, &protocol)) {
            *clean = 0;
            Py_CLEAR(list);
            break;
        }
        PyObject *name = rest_bytes(&protocol);
        if (name == NULL || PyList_Append(list, name) < 0)
            Py_CLEAR(list);
        Py_XDECREF(name);
    }
    return list;
}

/* the kept extensions that are a list of numbers: the bytes of its length, and of each number */
static const struct {
    long kind;
    int slot, length_bytes, size;
} NUMBER_LISTS[] = {
    {EXT_VERSIONS, F_VERSIONS, 1, 2}, {EXT_GROUPS, F_GROUPS, 2, 2},
    {EXT_POINT_FORMATS, F_POINT_FORMATS, 1, 1}, {EXT_SIG_ALGS, F_SIG_ALGS, 2, 2},
};

/* one kept extension's body into `fields` (its value replaces the one there): 1, 0 when it does
 * not parse (the Python's), or -1 with an exception set */
static int read_extension(long kind, Reader *body, PyObject **fields)
{
    int clean = 1, slot = -1;
    PyObject *value = NULL;
    if (kind == EXT_SNI) {
        if (body->pos == body->end)
            return 1;
        slot = F_SERVER_NAME;
        value = server_name(body, &clean);
    } else if (kind == EXT_ALPN) {
        slot = F_ALPN;
        value = alpn(body, &clean);
    } else if (kind == EXT_ECH || kind == EXT_PSK) {
        slot = kind == EXT_ECH ? F_ECH : F_PSK;
        value = Py_NewRef(Py_True);
    } else if (kind == EXT_TICKET) { /* empty: the client only says it takes tickets */
        slot = F_TICKET;
        value = Py_NewRef(body->pos < body->end ? Py_True : Py_False);
    } else {
        for (size_t i = 0; i < sizeof(NUMBER_LISTS) / sizeof(NUMBER_LISTS[0]); i++)
            if (NUMBER_LISTS[i].kind == kind) {
                slot = NUMBER_LISTS[i].slot;
                value = vector_numbers(body, NUMBER_LISTS[i].length_bytes, NUMBER_LISTS[i].size);
                if (value == Py_None)
                    return 0; /* (its borrowed None: not clean) */
            }
        if (slot < 0)
            return 1; /* only listed */
    }
    if (value == NULL)
        return clean ? -1 : 0;
    Py_XSETREF(fields[slot], value);
    return 1;
}

/* The extension block that ends a hello (`_extensions`): 1, 0 when it does not parse, or -1
 * with an exception set */
static int read_extensions(Reader *r, PyObject **fields)
{
    if (r->pos == r->end)
        return 1;
    Reader block;
    if (!read_vector(r, 2, &block))
        return 0;
    PyObject *kinds = fields[F_EXTENSIONS];
    while (block.pos < block.end) {
        long kind;
        Reader body;
        if (!read_uint(&block, 2, &kind) || !read_vector(&block, 2, &body))
            return 0;
        PyObject *number = PyLong_FromLong(kind);
        if (number == NULL || PyList_Append(kinds, number) < 0) {
            Py_XDECREF(number);
            return -1;
        }
        Py_DECREF(number);
        int read = read_extension(kind, &body, fields);
        if (read <= 0)
            return read;
    }
    return 1;
}

/* `hello_fields(parse_client_hello(data))` of a hello that parses cleanly: a new tuple,
 * Py_None (borrowed) for the Python's, or NULL with an exception set */
static PyObject *clean_fields(const unsigned char *data, Py_ssize_t size)
{
    Reader r = {data, 0, size}, vector;
    long legacy_version;
    PyObject *fields[F_COUNT] = {NULL};
    PyObject *result = Py_None;
    if (!read_uint(&r, 2, &legacy_version) || r.end - r.pos < RANDOM)
        return Py_None;
    r.pos += RANDOM;
    if (!read_vector(&r, 1, &vector))
        return Py_None;
    fields[F_SESSION_ID] = rest_bytes(&vector);
    fields[F_CIPHERS] = vector_numbers(&r, 2, 2);
    if (fields[F_SESSION_ID] == NULL || fields[F_CIPHERS] == NULL) {
        result = NULL;
        goto done;
    }
    if (fields[F_CIPHERS] == Py_None) {
        fields[F_CIPHERS] = NULL;
        goto done;
    }
    if (!read_vector(&r, 1, &vector))
        goto done;
    fields[F_COMPRESSION] = rest_numbers(&vector, 1);
    fields[F_LEGACY_VERSION] = PyLong_FromLong(legacy_version);
    fields[F_EXTENSIONS] = PyList_New(0);
    fields[F_SERVER_NAME] = Py_NewRef(Py_None);
    fields[F_ALPN] = PyList_New(0);
    for (int slot = F_VERSIONS; slot <= F_SIG_ALGS; slot++)
        fields[slot] = PyList_New(0);
    fields[F_ECH] = Py_NewRef(Py_False);
    fields[F_PSK] = Py_NewRef(Py_False);
    fields[F_TICKET] = Py_NewRef(Py_False);
    fields[F_SSLV2] = Py_NewRef(Py_False);
    fields[F_ERROR] = Py_NewRef(Py_None);
    for (int slot = 0; slot < F_COUNT; slot++)
        if (fields[slot] == NULL) {
            result = NULL;
            goto done;
        }
    int read = read_extensions(&r, fields);
    if (read < 0)
        result = NULL;
    else if (read > 0)
        result = twin_tuple_taking(F_COUNT, fields); /* (it takes them all) */
    if (read > 0)
        return result;
done:
    for (int slot = 0; slot < F_COUNT; slot++)
        Py_XDECREF(fields[slot]);
    return result;
}

/* the bound function: client_hello_fields(data); self is (fallback,) */
static PyObject *hello_fields(PyObject *self, PyObject *data)
{
    if (PyBytes_CheckExact(data)) {
        PyObject *fields = clean_fields((const unsigned char *)PyBytes_AS_STRING(data),
                                        PyBytes_GET_SIZE(data));
        if (fields != Py_None)
            return fields;
    }
    return PyObject_CallOneArg(PyTuple_GET_ITEM(self, 0), data);
}

static PyMethodDef fields_def = {
    "client_hello_fields", (PyCFunction)hello_fields, METH_O,
    "client_hello_fields(data): wire.python_client_hello_fields, in C for a clean hello",
};

static PyObject *bind(PyObject *module, PyObject *fallback)
{
    if (!PyCallable_Check(fallback)) {
        PyErr_SetString(PyExc_TypeError, "the fallback must be callable");
        return NULL;
    }
    return twin_bound_items(module, &fields_def, &fallback, 1);
}

static PyMethodDef methods[] = {
    {"bind", bind, METH_O,
     "bind(fallback): client_hello_fields, in C for a hello that parses cleanly and by "
     "`fallback` (the Python function) for every other"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = TWIN_MODULE_DEF(
    "mcpcap.modules.tls._hello", "The ClientHello's fields, compiled (see wire.py).", methods);

PyMODINIT_FUNC PyInit__hello(void)
{
    PyObject *module = twin_module(&module_def);
    if (module == NULL)
        return NULL;
    /* the fields this code makes, in order, which wire.py checks against its own */
    if (twin_add_names(module, "FIELDS", FIELD_NAMES, F_ERROR) < 0)
        Py_CLEAR(module);
    return module;
}
