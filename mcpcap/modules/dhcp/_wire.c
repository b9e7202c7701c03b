/* `wire.python_decode_v4` compiled, for a DHCPv4 message that reads cleanly (optional: see
 * mcpcap/core/fastpath.py).
 *
 * The workers decode every datagram to or from the DHCP ports. `bind(fallback, options, types,
 * from_server, parameter_names, max_list)` gives a function that makes the same message dict as
 * the Python (wire.py), with its keys and its options in the same order, from wire.py's own
 * tables: `options` holds each option code's (name, kind), a kind being an index of `KINDS`.
 * At the first thing it does not read itself (a message cut short or without the magic cookie,
 * an option without its length or past the end, an option that comes twice or of the wrong
 * length, overload, and the kinds that read a structure: FQDN, relay information, routes,
 * domain lists) it calls `fallback`, the Python function, which is the reference and names
 * the malformation; tests/modules/dhcp/test_wire_compiled.py holds the two to each other.
 */
#include "../../core/_twin.h"

enum { BOOTP_HEADER = 236, OPTIONS_START = BOOTP_HEADER + 4, END = 255, PAD = 0 };
enum { CODE_MESSAGE_TYPE = 53 };

/* how an option's value reads: wire.py's V4_READERS names, KINDS below in the same order */
enum { K_TEXT, K_IP, K_IPS, K_U8, K_U16, K_U32, K_S32, K_PARAMS, K_CLIENT_ID, K_HEX, K_PYTHON,
       K_COUNT };
static const char *const KIND_NAMES[K_COUNT] = {
    "text", "ip", "ips", "u8", "u16", "u32", "s32", "params", "client_id", "hex", "python",
};

/* the places in the bound tuple */
enum { B_FALLBACK, B_OPTIONS, B_TYPES, B_FROM_SERVER, B_PARAMETER_NAMES, B_MAX_LIST, B_COUNT };

/* the message's keys, in wire.py's `_message` order */
enum { M_FAMILY, M_TYPE, M_FROM_SERVER, M_XID, M_MAC, M_CIADDR, M_YIADDR, M_GIADDR, M_OPTS,
       M_DUID, M_RELAY, M_MALFORMED, M_COUNT };
static const char *const KEY_NAMES[M_COUNT] = {
    "family", "type", "from_server", "xid", "mac", "ciaddr", "yiaddr", "giaddr", "opts", "duid",
    "relay", "malformed",
};
static PyObject *keys[M_COUNT], *s_dhcpv4;

/* dotted text of four bytes */
static PyObject *dotted(const unsigned char *raw)
{
    char text[16];
    Py_ssize_t n = 0;
    for (int i = 0; i < 4; i++) {
        if (i)
            text[n++] = '.';
        n += twin_put_decimal(text + n, raw[i]);
    }
    return PyUnicode_DecodeASCII(text, n, NULL);
}

/* wire.py's `_ip4`: None for 0.0.0.0 (the field is unset), else dotted */
static PyObject *header_address(const unsigned char *raw)
{
    if (!(raw[0] | raw[1] | raw[2] | raw[3]))
        return Py_NewRef(Py_None);
    return dotted(raw);
}

/* `bytes.hex(":")` */
static PyObject *colon_hex(const unsigned char *raw, Py_ssize_t size)
{
    static const char digits[] = "0123456789abcdef";
    PyObject *text = PyUnicode_New(size ? 3 * size - 1 : 0, 127);
    if (text == NULL)
        return NULL;
    Py_UCS1 *out = PyUnicode_1BYTE_DATA(text);
    for (Py_ssize_t i = 0; i < size; i++) {
        if (i)
            *out++ = ':';
        *out++ = digits[raw[i] >> 4];
        *out++ = digits[raw[i] & 15];
    }
    return text;
}

static unsigned long big_endian(const unsigned char *raw, Py_ssize_t size)
{
    unsigned long value = 0;
    for (Py_ssize_t i = 0; i < size; i++)
        value = value << 8 | raw[i];
    return value;
}

/* a list of `count` items: `names[byte]` for each byte, or without `names` the dotted text of
 * each four bytes */
static PyObject *item_list(const unsigned char *raw, Py_ssize_t count, PyObject *names)
{
    PyObject *list = PyList_New(count);
    for (Py_ssize_t i = 0; list != NULL && i < count; i++) {
        PyObject *item = names != NULL ? Py_NewRef(PyTuple_GET_ITEM(names, raw[i]))
                                       : dotted(raw + 4 * i);
        if (item == NULL)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, i, item);
    }
    return list;
}

/* An option's value as wire.py's reader of `kind` makes it; Py_None (a borrowed marker) when
 * the Python must read it (a wrong length, a structure); NULL with an exception set. */
static PyObject *option_value(int kind, const unsigned char *raw, Py_ssize_t size,
                              PyObject *bound, Py_ssize_t max_list)
{
    static const Py_ssize_t number_sizes[K_COUNT] = {[K_U8] = 1, [K_U16] = 2, [K_U32] = 4,
                                                     [K_S32] = 4};
    switch (kind) {
    case K_TEXT:
        while (size && raw[size - 1] == 0)
            size--;
        return PyUnicode_DecodeUTF8((const char *)raw, size, "replace");
    case K_IP:
        return size == 4 ? dotted(raw) : Py_None;
    case K_IPS:
        if (size % 4)
            return Py_None;
        return item_list(raw, (size < 4 * max_list ? size : 4 * max_list) / 4, NULL);
    case K_U8:
    case K_U16:
    case K_U32:
        if (size != number_sizes[kind])
            return Py_None;
        return PyLong_FromUnsignedLong(big_endian(raw, size));
    case K_S32:
        if (size != 4)
            return Py_None;
        return PyLong_FromLong((long)(int32_t)(uint32_t)big_endian(raw, size));
    case K_PARAMS:
        return item_list(raw, size < max_list ? size : max_list,
                         PyTuple_GET_ITEM(bound, B_PARAMETER_NAMES));
    case K_CLIENT_ID:
        if (size == 7 && raw[0] == 1)
            return colon_hex(raw + 1, 6);
        return colon_hex(raw, size);
    case K_HEX:
        return colon_hex(raw, size);
    default:
        return Py_None;
    }
}

/* The options field into `opts`, and the message type's code at `type` (-1: none). 1 when every
 * option was read, 0 when the Python must read the message, -1 with an exception set. */
static int read_options(const unsigned char *data, Py_ssize_t end, PyObject *bound,
                        PyObject *opts, int *type)
{
    PyObject *table = PyTuple_GET_ITEM(bound, B_OPTIONS);
    Py_ssize_t max_list = PyLong_AsSsize_t(PyTuple_GET_ITEM(bound, B_MAX_LIST));
    if (max_list < 0)
        return -1;
    unsigned char seen[256] = {0};
    Py_ssize_t pos = OPTIONS_START;
    while (pos < end) {
        int code = data[pos];
        if (code == END)
            break;
        if (code == PAD) {
            pos++;
            continue;
        }
        if (pos + 1 >= end || pos + 2 + data[pos + 1] > end || seen[code])
            return 0; /* no length, past the end, or pieces to join (RFC 3396) */
        seen[code] = 1;
        const unsigned char *raw = data + pos + 2;
        Py_ssize_t size = data[pos + 1];
        pos += 2 + size;
        if (code == CODE_MESSAGE_TYPE) {
            if (size != 1)
                return 0;
            *type = raw[0];
            continue;
        }
        PyObject *known = PyTuple_GET_ITEM(table, code);
        PyObject *value = option_value((int)PyLong_AsLong(PyTuple_GET_ITEM(known, 1)), raw, size,
                                       bound, max_list);
        if (value == Py_None)
            return 0;
        if (value == NULL)
            return -1;
        int stored = PyDict_SetItem(opts, PyTuple_GET_ITEM(known, 0), value);
        Py_DECREF(value);
        if (stored < 0)
            return -1;
    }
    return 1;
}

/* The message's dict; Py_None (borrowed) when the Python must read it; NULL with an exception. */
static PyObject *clean_message(const unsigned char *data, Py_ssize_t size, PyObject *bound)
{
    if (size < OPTIONS_START || memcmp(data + BOOTP_HEADER, "\x63\x82\x53\x63", 4) != 0)
        return Py_None;
    PyObject *values[M_COUNT] = {NULL};
    PyObject *result = NULL;
    int type = -1;
    values[M_OPTS] = PyDict_New();
    int read = values[M_OPTS] == NULL ? -1 : read_options(data, size, bound, values[M_OPTS],
                                                           &type);
    if (read <= 0) {
        result = read < 0 ? NULL : Py_None;
        goto done;
    }
    int op = data[0], hlen = data[2];
    int from_server = op == 2;
    if (type >= 0) {
        values[M_TYPE] = Py_NewRef(PyTuple_GET_ITEM(PyTuple_GET_ITEM(bound, B_TYPES), type));
        from_server = PyBytes_AS_STRING(PyTuple_GET_ITEM(bound, B_FROM_SERVER))[type] != 0;
    } else {
        values[M_TYPE] = Py_NewRef(Py_None);
    }
    values[M_FAMILY] = Py_NewRef(s_dhcpv4);
    values[M_FROM_SERVER] = PyBool_FromLong(from_server);
    values[M_XID] = PyLong_FromUnsignedLong(big_endian(data + 4, 4));
    /* (`_mac` and `_hex` write alike: only an empty chaddr differs, None) */
    int width = hlen < 16 ? hlen : 16;
    values[M_MAC] = width ? colon_hex(data + 28, width) : Py_NewRef(Py_None);
    values[M_CIADDR] = header_address(data + 12);
    values[M_YIADDR] = header_address(data + 16);
    values[M_GIADDR] = header_address(data + 24);
    values[M_DUID] = Py_NewRef(Py_None);
    values[M_MALFORMED] = Py_NewRef(Py_None);
    if (values[M_GIADDR] != NULL && values[M_GIADDR] != Py_None) {
        values[M_RELAY] = PyDict_New();
        if (values[M_RELAY] != NULL &&
            PyDict_SetItem(values[M_RELAY], keys[M_GIADDR], values[M_GIADDR]) < 0)
            Py_CLEAR(values[M_RELAY]);
    } else {
        values[M_RELAY] = Py_NewRef(Py_None);
    }
    for (int slot = 0; slot < M_COUNT; slot++)
        if (values[slot] == NULL)
            goto done;
    PyObject *message = PyDict_New();
    for (int slot = 0; message != NULL && slot < M_COUNT; slot++)
        if (PyDict_SetItem(message, keys[slot], values[slot]) < 0)
            Py_CLEAR(message);
    result = message;
done:
    for (int slot = 0; slot < M_COUNT; slot++)
        Py_XDECREF(values[slot]);
    return result;
}

/* the bound function: decode_v4(payload); self is the bound tuple */
static PyObject *decode_v4(PyObject *self, PyObject *payload)
{
    if (PyBytes_CheckExact(payload)) {
        PyObject *message = clean_message((const unsigned char *)PyBytes_AS_STRING(payload),
                                          PyBytes_GET_SIZE(payload), self);
        if (message != Py_None)
            return message;
    }
    return PyObject_CallOneArg(PyTuple_GET_ITEM(self, B_FALLBACK), payload);
}

static PyMethodDef decode_def = {
    "decode_v4", (PyCFunction)decode_v4, METH_O,
    "decode_v4(payload): wire.python_decode_v4, in C for a message that reads cleanly",
};

/* 1 when `table` is a tuple of 256 (str, kind) pairs, else 0 with a TypeError set */
static int option_table(PyObject *table)
{
    if (!PyTuple_CheckExact(table) || PyTuple_GET_SIZE(table) != 256)
        goto wrong;
    for (Py_ssize_t code = 0; code < 256; code++) {
        PyObject *known = PyTuple_GET_ITEM(table, code);
        if (!PyTuple_CheckExact(known) || PyTuple_GET_SIZE(known) != 2 ||
            !PyUnicode_CheckExact(PyTuple_GET_ITEM(known, 0)) ||
            !PyLong_CheckExact(PyTuple_GET_ITEM(known, 1)))
            goto wrong;
        long kind = PyLong_AsLong(PyTuple_GET_ITEM(known, 1));
        if (kind < 0 || kind >= K_COUNT)
            goto wrong;
    }
    return 1;
wrong:
    PyErr_SetString(PyExc_TypeError, "options must be 256 (name, kind) pairs, kind in KINDS");
    return 0;
}

static int names_table(PyObject *names)
{
    if (!PyTuple_CheckExact(names) || PyTuple_GET_SIZE(names) != 256)
        goto wrong;
    for (Py_ssize_t i = 0; i < 256; i++)
        if (!PyUnicode_CheckExact(PyTuple_GET_ITEM(names, i)))
            goto wrong;
    return 1;
wrong:
    PyErr_SetString(PyExc_TypeError, "types and parameter names must be 256 str");
    return 0;
}

static PyObject *bind(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (twin_arguments(nargs, B_COUNT, s_dhcpv4,
                       "bind(fallback, options, types, from_server, parameter_names, "
                       "max_list)") < 0)
        return NULL;
    if (!PyCallable_Check(args[B_FALLBACK])) {
        PyErr_SetString(PyExc_TypeError, "the fallback must be callable");
        return NULL;
    }
    if (!option_table(args[B_OPTIONS]) || !names_table(args[B_TYPES]) ||
        !names_table(args[B_PARAMETER_NAMES]))
        return NULL;
    if (!PyBytes_CheckExact(args[B_FROM_SERVER]) || PyBytes_GET_SIZE(args[B_FROM_SERVER]) != 256 ||
        !PyLong_CheckExact(args[B_MAX_LIST]) || PyLong_AsSsize_t(args[B_MAX_LIST]) < 0) {
        PyErr_SetString(PyExc_TypeError, "from_server: 256 bytes; max_list: an int >= 0");
        return NULL;
    }
    return twin_bound_items(module, &decode_def, args, B_COUNT);
}

static PyMethodDef methods[] = {
    {"bind", (PyCFunction)(void (*)(void))bind, METH_FASTCALL,
     "bind(fallback, options, types, from_server, parameter_names, max_list): decode_v4, in C "
     "for a message that reads cleanly and by `fallback` (the Python function) for every other"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = TWIN_MODULE_DEF(
    "mcpcap.modules.dhcp._wire", "DHCPv4 messages, compiled (see wire.py).", methods);

PyMODINIT_FUNC PyInit__wire(void)
{
    s_dhcpv4 = PyUnicode_InternFromString("dhcpv4");
    if (s_dhcpv4 == NULL)
        return NULL;
    for (int slot = 0; slot < M_COUNT; slot++)
        if ((keys[slot] = PyUnicode_InternFromString(KEY_NAMES[slot])) == NULL)
            return NULL;
    PyObject *module = twin_module(&module_def);
    if (module == NULL)
        return NULL;
    /* the kinds of option this code reads, by index, which wire.py's table is made from */
    if (twin_add_names(module, "KINDS", KIND_NAMES, K_COUNT) < 0)
        Py_CLEAR(module);
    return module;
}
