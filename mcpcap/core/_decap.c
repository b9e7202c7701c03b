/* The compiled half of the per-packet hot path (optional: see mcpcap/core/fastpath.py).
 *
 * `ethernet_packet` is `Decapsulator._ethernet_ipv4_packet` (which goes on to
 * `_ethernet_ipv6_packet`) in C: the same checks in the same order, the same `Segment` or the
 * same None (take the long way). The Python methods stay the reference: a differential test
 * (tests/core/test_decap_compiled.py) runs both over fixtures, the corpus and fuzzed frames.
 */
#include "_twin.h"
#include <stdint.h>
#include <string.h>

/* set once by `setup()`: the Segment class, the layer tuples, the UDP tunnel ports */
static PyObject *segment_type = NULL;
static PyObject *layers_v4_tcp = NULL, *layers_v4_udp = NULL;
static PyObject *layers_v6_tcp = NULL, *layers_v6_udp = NULL;
static PyObject *text_tcp = NULL, *text_udp = NULL;
static unsigned char tunnel_dport[65536];
static long teredo_port = -1;

#define SEGMENT_FIELDS 18

static inline unsigned be16(const unsigned char *p) { return ((unsigned)p[0] << 8) | p[1]; }

static inline unsigned long be32(const unsigned char *p)
{
    return ((unsigned long)p[0] << 24) | ((unsigned long)p[1] << 16) | ((unsigned long)p[2] << 8)
           | p[3];
}

/* The text of an address: from the decapsulator's cache, else formatted (and cached) by its
 * `format_address` (a new reference, or NULL with an exception set). */
static PyObject *address_text(const unsigned char *raw, Py_ssize_t size, PyObject *cache,
                              PyObject *format_address)
{
    PyObject *key = PyBytes_FromStringAndSize((const char *)raw, size);
    if (key == NULL)
        return NULL;
    PyObject *text = PyDict_GetItemWithError(cache, key);
    if (text != NULL) {
        Py_INCREF(text);
    } else if (!PyErr_Occurred()) {
        text = PyObject_CallOneArg(format_address, key);
    }
    Py_DECREF(key);
    return text;
}

/* [Segment(...)] from its fields (the references to the new objects are stolen, NULLs checked
 * here), or NULL with an exception set. */
static PyObject *one_segment(PyObject *transport, PyObject *src, long sport, PyObject *dst,
                             long dport, PyObject *payload, unsigned long seq, long flags,
                             unsigned long ack, long window, long ip_len, long data_len,
                             long proto, long ttl, PyObject *layers, PyObject *frame_len)
{
    PyObject *seg = NULL, *list = NULL;
    if (src == NULL || dst == NULL || payload == NULL)
        goto fail;
    seg = ((PyTypeObject *)segment_type)->tp_alloc((PyTypeObject *)segment_type, SEGMENT_FIELDS);
    if (seg == NULL)
        goto fail;
    PyObject *items[SEGMENT_FIELDS] = {
        Py_NewRef(transport), src, PyLong_FromLong(sport), dst, PyLong_FromLong(dport), payload,
        PyLong_FromUnsignedLong(seq), PyLong_FromLong(flags), PyLong_FromUnsignedLong(ack),
        PyLong_FromLong(window), PyLong_FromLong(ip_len), PyLong_FromLong(data_len),
        PyLong_FromLong(proto), Py_NewRef(Py_None), Py_NewRef(Py_None), PyLong_FromLong(ttl),
        Py_NewRef(layers), Py_NewRef(frame_len),
    };
    src = dst = payload = NULL; /* owned by items now */
    int failed = 0;
    for (int i = 0; i < SEGMENT_FIELDS; i++) {
        if (items[i] == NULL)
            failed = 1;
        PyTuple_SET_ITEM(seg, i, items[i]);
    }
    if (failed) /* (a tuple with NULL items deallocates cleanly) */
        goto fail;
    list = PyList_New(1);
    if (list == NULL)
        goto fail;
    PyList_SET_ITEM(list, 0, seg);
    return list;
fail:
    Py_XDECREF(src);
    Py_XDECREF(dst);
    Py_XDECREF(payload);
    Py_XDECREF(seg);
    return NULL;
}

static PyObject *payload_of(const unsigned char *buf, Py_ssize_t from, Py_ssize_t to)
{
    return PyBytes_FromStringAndSize((const char *)buf + from, to - from);
}

static PyObject *ipv6_packet(const unsigned char *buf, Py_ssize_t start, Py_ssize_t end,
                             PyObject *frame_len, PyObject *cache, PyObject *format_address)
{
    const unsigned char *ip = buf + start + 14;
    unsigned payload_len = be16(ip + 4), next_header = ip[6], hops = ip[7];
    if (ip[0] >> 4 != 6 || payload_len == 0)
        Py_RETURN_NONE;
    Py_ssize_t l4 = start + 54, ip_end = l4 + payload_len;
    Py_ssize_t stop = ip_end < end ? ip_end : end;
    const unsigned char *th = buf + l4;
    if (next_header == 6) {
        if (stop - l4 < 20)
            Py_RETURN_NONE;
        unsigned offset_flags = be16(th + 12);
        Py_ssize_t header_end = l4 + ((offset_flags >> 12) << 2);
        if (header_end < l4 + 20 || header_end > stop)
            Py_RETURN_NONE;
        Py_ssize_t data_len = ip_end - header_end;
        if (data_len < stop - header_end)
            data_len = stop - header_end;
        return one_segment(text_tcp, address_text(ip + 8, 16, cache, format_address), be16(th),
                           address_text(ip + 24, 16, cache, format_address), be16(th + 2),
                           payload_of(buf, header_end, stop), be32(th + 4), offset_flags & 0xFF,
                           be32(th + 8), be16(th + 14), 40 + (long)payload_len, (long)data_len,
                           6, hops, layers_v6_tcp, frame_len);
    }
    if (next_header == 17) {
        if (stop - l4 < 8)
            Py_RETURN_NONE;
        unsigned sport = be16(th), dport = be16(th + 2), length = be16(th + 4);
        if (length < 8 || tunnel_dport[dport] || (long)sport == teredo_port)
            Py_RETURN_NONE;
        Py_ssize_t udp_end = l4 + length;
        return one_segment(text_udp, address_text(ip + 8, 16, cache, format_address), sport,
                           address_text(ip + 24, 16, cache, format_address), dport,
                           payload_of(buf, l4 + 8, udp_end < stop ? udp_end : stop), 0, 0, 0, 0,
                           40 + (long)payload_len, (long)length - 8, 17, hops, layers_v6_udp,
                           frame_len);
    }
    Py_RETURN_NONE;
}

static PyObject *ethernet_packet(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (twin_arguments(nargs, 6, segment_type,
                       "ethernet_packet(buf, start, end, frame_len, cache, format_address)") < 0)
        return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0)
        return NULL;
    Py_ssize_t start = PyLong_AsSsize_t(args[1]), end = PyLong_AsSsize_t(args[2]);
    PyObject *frame_len = args[3], *cache = args[4], *format_address = args[5];
    PyObject *result = NULL;
    if ((start == -1 || end == -1) && PyErr_Occurred())
        goto done;
    if (!PyDict_Check(cache)) {
        PyErr_SetString(PyExc_TypeError, "the address cache must be a dict");
        goto done;
    }
    if (start < 0 || end > view.len || end - start < 34) {
        PyErr_SetString(PyExc_ValueError, "a frame of at least 34 bytes inside the buffer");
        goto done;
    }
    const unsigned char *buf = view.buf, *ip = buf + start + 14;
    unsigned ethertype = be16(buf + start + 12), total = be16(ip + 2), frag = be16(ip + 6);
    if (ethertype != 0x0800 || ip[0] != 0x45 || (frag & 0x3FFF) || total < 28) {
        if (ethertype == 0x86DD && end - start >= 54)
            result = ipv6_packet(buf, start, end, frame_len, cache, format_address);
        else
            result = Py_NewRef(Py_None);
        goto done;
    }
    unsigned ttl = ip[8], protocol = ip[9];
    Py_ssize_t ip_end = start + 14 + total, stop = ip_end < end ? ip_end : end;
    const unsigned char *th = buf + start + 34;
    if (protocol == 6) {
        if (stop - start < 54) {
            result = Py_NewRef(Py_None);
            goto done;
        }
        unsigned offset_flags = be16(th + 12);
        Py_ssize_t header_end = start + 34 + ((offset_flags >> 12) << 2);
        if (header_end < start + 54 || header_end > stop) {
            result = Py_NewRef(Py_None);
            goto done;
        }
        result = one_segment(text_tcp, address_text(ip + 12, 4, cache, format_address), be16(th),
                             address_text(ip + 16, 4, cache, format_address), be16(th + 2),
                             payload_of(buf, header_end, stop), be32(th + 4), offset_flags & 0xFF,
                             be32(th + 8), be16(th + 14), total, (long)(ip_end - header_end), 6,
                             ttl, layers_v4_tcp, frame_len);
        goto done;
    }
    if (protocol == 17 && stop - start >= 42) {
        unsigned sport = be16(th), dport = be16(th + 2), length = be16(th + 4);
        if (length >= 8 && !tunnel_dport[dport] && (long)sport != teredo_port) {
            Py_ssize_t udp_end = start + 34 + length;
            result = one_segment(text_udp, address_text(ip + 12, 4, cache, format_address), sport,
                                 address_text(ip + 16, 4, cache, format_address), dport,
                                 payload_of(buf, start + 42, udp_end < stop ? udp_end : stop), 0,
                                 0, 0, 0, total, (long)length - 8, 17, ttl, layers_v4_udp,
                                 frame_len);
            goto done;
        }
    }
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&view);
    return result;
}

static PyObject *setup(PyObject *module, PyObject *args)
{
    PyObject *segment, *v4_tcp, *v4_udp, *v6_tcp, *v6_udp, *tunnels;
    long teredo;
    if (!PyArg_ParseTuple(args, "OO!O!O!O!Ol", &segment, &PyTuple_Type, &v4_tcp, &PyTuple_Type,
                          &v4_udp, &PyTuple_Type, &v6_tcp, &PyTuple_Type, &v6_udp, &tunnels,
                          &teredo))
        return NULL;
    if (!PyType_Check(segment) || !PyType_IsSubtype((PyTypeObject *)segment, &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError, "Segment must be a tuple subclass");
        return NULL;
    }
    unsigned char ports[65536] = {0};
    PyObject *iterator = PyObject_GetIter(tunnels), *item;
    if (iterator == NULL)
        return NULL;
    while ((item = PyIter_Next(iterator)) != NULL) {
        long port = PyLong_AsLong(item);
        Py_DECREF(item);
        if (port == -1 && PyErr_Occurred())
            break;
        if (port >= 0 && port < 65536)
            ports[port] = 1;
    }
    Py_DECREF(iterator);
    if (PyErr_Occurred())
        return NULL;
    memcpy(tunnel_dport, ports, sizeof ports);
    teredo_port = teredo;
    Py_XSETREF(segment_type, Py_NewRef(segment));
    Py_XSETREF(layers_v4_tcp, Py_NewRef(v4_tcp));
    Py_XSETREF(layers_v4_udp, Py_NewRef(v4_udp));
    Py_XSETREF(layers_v6_tcp, Py_NewRef(v6_tcp));
    Py_XSETREF(layers_v6_udp, Py_NewRef(v6_udp));
    if (text_tcp == NULL)
        text_tcp = PyUnicode_InternFromString("tcp");
    if (text_udp == NULL)
        text_udp = PyUnicode_InternFromString("udp");
    if (text_tcp == NULL || text_udp == NULL)
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"setup", setup, METH_VARARGS,
     "setup(Segment, v4_tcp_layers, v4_udp_layers, v6_tcp_layers, v6_udp_layers, "
     "udp_tunnel_dports, teredo_port): what the segments are made of"},
    {"ethernet_packet", (PyCFunction)(void (*)(void))ethernet_packet, METH_FASTCALL,
     "ethernet_packet(buf, start, end, frame_len, address_cache, format_address): "
     "Decapsulator._ethernet_ipv4_packet of buf[start:end], in C"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = TWIN_MODULE_DEF(
    "mcpcap.core._decap", "Decapsulator._ethernet_ipv4_packet compiled (see fastpath.py).",
    methods);

PyMODINIT_FUNC PyInit__decap(void) { return twin_module(&module_def); }
