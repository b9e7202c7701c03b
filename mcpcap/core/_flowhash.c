/* `flow_uid` and `community_id` compiled (optional: see mcpcap/core/fastpath.py).
 *
 * Every connection of a capture gets both, in the span workers, and every ICMP message and
 * tunnel carrier a uid: hundreds of thousands of hashes, whose Python (the string formatting,
 * the big-number arithmetic, the hashing objects) cost several times the hashing itself.
 * `bind_flow_uid(python_flow_uid, sha256)` and `bind_community_id(python_community_id, sha1)`
 * give functions that do what the Python ones do for the usual arguments (text addresses, ints
 * in range) and call them for anything else. The digests come from hashlib's `sha256` and
 * `sha1`, as in the Python. tests/core/test_flowhash_compiled.py holds the two to each other.
 */
#include "_twin.h"
#include <arpa/inet.h>
#include <string.h>

#define UID_DIGITS 17 /* base62 digits of a uid, the least significant first */
#define MAX_TEXT 200  /* the longest address or transport taken here (the Python takes any) */

static const char BASE62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
static const char BASE64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static PyObject *str_digest, *str_one_way, *str_seed;

/* `hasher(data).digest()` into `out` (`size` bytes): 0, or -1 with an exception set */
static int digest_of(PyObject *hasher, const char *data, Py_ssize_t length, unsigned char *out,
                     Py_ssize_t size)
{
    PyObject *bytes = PyBytes_FromStringAndSize(data, length);
    if (bytes == NULL)
        return -1;
    PyObject *hash = PyObject_CallOneArg(hasher, bytes);
    Py_DECREF(bytes);
    if (hash == NULL)
        return -1;
    PyObject *digest = PyObject_CallMethodNoArgs(hash, str_digest);
    Py_DECREF(hash);
    if (digest == NULL)
        return -1;
    int failed = !PyBytes_Check(digest) || PyBytes_GET_SIZE(digest) < size;
    if (failed)
        PyErr_SetString(PyExc_ValueError, "a digest shorter than expected");
    else
        memcpy(out, PyBytes_AS_STRING(digest), size);
    Py_DECREF(digest);
    return failed ? -1 : 0;
}

/* an exact str's UTF-8 (borrowed) and its length; NULL when it is no str, too long or holds a
 * NUL (for the Python to take) */
static const char *short_text(PyObject *value, Py_ssize_t *length)
{
    if (!PyUnicode_CheckExact(value))
        return NULL;
    const char *text = PyUnicode_AsUTF8AndSize(value, length);
    if (text == NULL) {
        PyErr_Clear(); /* (a lone surrogate: the Python's encode() raises) */
        return NULL;
    }
    return *length <= MAX_TEXT && memchr(text, '\0', *length) == NULL ? text : NULL;
}

/* an exact int in [low, high] into `*value`; 0 when it is not one */
static int int_in(PyObject *number, long long low, long long high, long long *value)
{
    if (!PyLong_CheckExact(number))
        return 0;
    int overflow;
    *value = PyLong_AsLongLongAndOverflow(number, &overflow);
    if (*value == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    return !overflow && *value >= low && *value <= high;
}

/* Python's order of two strs, from their UTF-8 (which orders as the code points do) */
static int text_order(const char *x, Py_ssize_t x_size, const char *y, Py_ssize_t y_size)
{
    int order = memcmp(x, y, x_size < y_size ? x_size : y_size);
    if (order != 0)
        return order;
    return x_size < y_size ? -1 : x_size > y_size;
}

/* `text` at `out`, then "|" and `number` in decimal: the length written (room: `size` + 22
 * bytes). (snprintf's format parsing cost more than the whole key.) */
static Py_ssize_t put_numbered(char *out, const char *text, Py_ssize_t size, long long number)
{
    memcpy(out, text, size);
    out[size++] = '|';
    if (number < 0)
        out[size++] = '-';
    unsigned long long magnitude = number < 0 ? 0ULL - (unsigned long long)number
                                              : (unsigned long long)number;
    return size + twin_put_decimal(out + size, magnitude);
}

/* flow_uid(a, a_port, b, b_port, transport, occurrence=0); self is (python, sha256) */
static PyObject *flow_uid(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                          PyObject *kwnames)
{
    PyObject *python = PyTuple_GET_ITEM(self, 0);
    Py_ssize_t a_size, b_size, t_size;
    long long a_port, b_port, occurrence = 0;
    if (kwnames != NULL || nargs < 5 || nargs > 6)
        goto in_python;
    const char *a = short_text(args[0], &a_size), *b = short_text(args[2], &b_size);
    const char *transport = short_text(args[4], &t_size);
    if (a == NULL || b == NULL || transport == NULL
        || !int_in(args[1], -(1LL << 62), 1LL << 62, &a_port)
        || !int_in(args[3], -(1LL << 62), 1LL << 62, &b_port)
        || (nargs == 6 && !int_in(args[5], -(1LL << 62), 1LL << 62, &occurrence)))
        goto in_python;

    /* "end|end|transport[|occurrence]", each end "address|port", in text order */
    char x[MAX_TEXT + 32], y[MAX_TEXT + 32], key[3 * MAX_TEXT + 128];
    Py_ssize_t x_size = put_numbered(x, a, a_size, a_port);
    Py_ssize_t y_size = put_numbered(y, b, b_size, b_port);
    int low_first = text_order(x, x_size, y, y_size) <= 0;
    const char *low = low_first ? x : y, *high = low_first ? y : x;
    Py_ssize_t low_size = low_first ? x_size : y_size, high_size = low_first ? y_size : x_size;
    memcpy(key, low, low_size);
    key[low_size] = '|';
    memcpy(key + low_size + 1, high, high_size);
    Py_ssize_t size = low_size + 1 + high_size;
    key[size++] = '|';
    if (occurrence)
        size += put_numbered(key + size, transport, t_size, occurrence);
    else {
        memcpy(key + size, transport, t_size);
        size += t_size;
    }
    unsigned char digest[13];
    if (digest_of(PyTuple_GET_ITEM(self, 1), key, size, digest, sizeof digest) < 0)
        return NULL;

    /* its first 13 bytes as a number, modulo 62**17, in base62, the least significant first */
    unsigned __int128 n = 0, modulus = 1;
    for (size_t i = 0; i < sizeof digest; i++)
        n = n << 8 | digest[i];
    for (int i = 0; i < UID_DIGITS; i++)
        modulus *= 62;
    n %= modulus;
    char uid[UID_DIGITS + 1];
    uid[0] = 'C';
    for (int i = 1; i <= UID_DIGITS; i++) {
        uid[i] = BASE62[(int)(n % 62)];
        n /= 62;
    }
    return PyUnicode_FromStringAndSize(uid, sizeof uid);
in_python:
    return PyObject_Vectorcall(python, args, nargs, kwnames);
}

/* an address's bytes as `community._packed` makes them (IPv6 when it has a colon): its size,
 * or 0 when inet_pton does not take it */
static int packed_address(const char *text, Py_ssize_t size, unsigned char *out)
{
    char copy[MAX_TEXT + 1];
    memcpy(copy, text, size);
    copy[size] = '\0';
    int v6 = memchr(copy, ':', size) != NULL;
    if (inet_pton(v6 ? AF_INET6 : AF_INET, copy, out) != 1)
        return 0;
    return v6 ? 16 : 4;
}

/* Python's order of two bytes objects */
static int bytes_order(const unsigned char *x, int x_size, const unsigned char *y, int y_size)
{
    return text_order((const char *)x, x_size, (const char *)y, y_size);
}

/* community_id(src, sport, dst, dport, proto, *, one_way=False, seed=0); self is (python,
 * sha1) */
static PyObject *community_id(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                              PyObject *kwnames)
{
    PyObject *python = PyTuple_GET_ITEM(self, 0);
    int one_way = 0;
    long long zero;
    Py_ssize_t keywords = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    if (nargs != 5)
        goto in_python;
    for (Py_ssize_t i = 0; i < keywords; i++) {
        PyObject *name = PyTuple_GET_ITEM(kwnames, i), *value = args[nargs + i];
        if (PyUnicode_Compare(name, str_one_way) == 0 && PyBool_Check(value))
            one_way = value == Py_True;
        else if (PyUnicode_Compare(name, str_seed) == 0 && int_in(value, 0, 0, &zero))
            continue;
        else {
            PyErr_Clear();
            goto in_python;
        }
    }
    Py_ssize_t src_size, dst_size;
    long long sport, dport, proto;
    const char *src = short_text(args[0], &src_size), *dst = short_text(args[2], &dst_size);
    if (src == NULL || dst == NULL || !int_in(args[1], 0, 0xFFFF, &sport)
        || !int_in(args[3], 0, 0xFFFF, &dport) || !int_in(args[4], 0, 0xFF, &proto))
        goto in_python;
    unsigned char a[16], b[16];
    int a_size = packed_address(src, src_size, a), b_size = packed_address(dst, dst_size, b);
    if (a_size == 0 || b_size == 0)
        return PyUnicode_FromStringAndSize("", 0);
    int ported = proto == 1 || proto == 6 || proto == 17 || proto == 58 || proto == 132;
    int order = bytes_order(b, b_size, a, a_size);
    int swap = !one_way && (order < 0 || (order == 0 && ported && dport < sport));

    /* seed, the two addresses, the protocol, a zero byte, then the two ports */
    unsigned char data[2 + 16 + 16 + 2 + 4];
    int size = 0;
    data[size++] = 0;
    data[size++] = 0;
    memcpy(data + size, swap ? b : a, swap ? b_size : a_size);
    size += swap ? b_size : a_size;
    memcpy(data + size, swap ? a : b, swap ? a_size : b_size);
    size += swap ? a_size : b_size;
    data[size++] = (unsigned char)proto;
    data[size++] = 0;
    if (ported) {
        long long first = swap ? dport : sport, second = swap ? sport : dport;
        data[size++] = (unsigned char)(first >> 8);
        data[size++] = (unsigned char)first;
        data[size++] = (unsigned char)(second >> 8);
        data[size++] = (unsigned char)second;
    }
    unsigned char digest[20];
    if (digest_of(PyTuple_GET_ITEM(self, 1), (const char *)data, size, digest, sizeof digest) < 0)
        return NULL;

    /* "1:" and the base64 of the digest (20 bytes: 27 characters and one "=") */
    char id[2 + 28];
    id[0] = '1';
    id[1] = ':';
    char *out = id + 2;
    for (int i = 0; i < 18; i += 3) {
        unsigned v = digest[i] << 16 | digest[i + 1] << 8 | digest[i + 2];
        *out++ = BASE64[v >> 18 & 63];
        *out++ = BASE64[v >> 12 & 63];
        *out++ = BASE64[v >> 6 & 63];
        *out++ = BASE64[v & 63];
    }
    unsigned v = digest[18] << 16 | digest[19] << 8;
    *out++ = BASE64[v >> 18 & 63];
    *out++ = BASE64[v >> 12 & 63];
    *out++ = BASE64[v >> 6 & 63];
    *out++ = '=';
    return PyUnicode_FromStringAndSize(id, sizeof id);
in_python:
    return PyObject_Vectorcall(python, args, nargs, kwnames);
}

static PyMethodDef flow_uid_def = {
    "flow_uid", (PyCFunction)(void (*)(void))flow_uid, METH_FASTCALL | METH_KEYWORDS,
    "flow_uid(a, a_port, b, b_port, transport, occurrence=0): export.flow_uid, in C",
};
static PyMethodDef community_id_def = {
    "community_id", (PyCFunction)(void (*)(void))community_id, METH_FASTCALL | METH_KEYWORDS,
    "community_id(src, sport, dst, dport, proto, *, one_way=False, seed=0): "
    "community.community_id, in C",
};

/* `bind_...(python, hasher)`: `def` bound to (python, hasher); NULL with an exception set */
static PyObject *bound(PyObject *module, PyObject *args, PyMethodDef *def, const char *format)
{
    PyObject *python, *hasher;
    if (!PyArg_ParseTuple(args, format, &python, &hasher))
        return NULL;
    if (!PyCallable_Check(python) || !PyCallable_Check(hasher)) {
        PyErr_SetString(PyExc_TypeError, "the Python function and the hasher must be callable");
        return NULL;
    }
    PyObject *items[2] = {python, hasher};
    return twin_bound_items(module, def, items, 2);
}

static PyObject *bind_flow_uid(PyObject *module, PyObject *args)
{
    return bound(module, args, &flow_uid_def, "OO:bind_flow_uid");
}

static PyObject *bind_community_id(PyObject *module, PyObject *args)
{
    return bound(module, args, &community_id_def, "OO:bind_community_id");
}

static PyMethodDef methods[] = {
    {"bind_flow_uid", bind_flow_uid, METH_VARARGS,
     "bind_flow_uid(python_flow_uid, sha256): flow_uid in C, calling the Python function for "
     "the arguments it does not take"},
    {"bind_community_id", bind_community_id, METH_VARARGS,
     "bind_community_id(python_community_id, sha1): community_id in C, the same way"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = TWIN_MODULE_DEF(
    "mcpcap.core._flowhash", "flow_uid and community_id compiled (see export.py).", methods);

PyMODINIT_FUNC PyInit__flowhash(void)
{
    str_digest = PyUnicode_InternFromString("digest");
    str_one_way = PyUnicode_InternFromString("one_way");
    str_seed = PyUnicode_InternFromString("seed");
    if (str_digest == NULL || str_one_way == NULL || str_seed == NULL)
        return NULL;
    return twin_module(&module_def);
}
