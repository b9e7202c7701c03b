/* The compiled half of the per-packet hot path (optional: see mcpcap/core/fastpath.py).
 *
 * `ethernet_packet` is `Decapsulator._ethernet_ipv4_packet` (which goes on to
 * `_ethernet_ipv6_packet`) in C, and `ethernet_datagram` its `_ethernet_datagram` (which goes
 * on to `_ethernet_ipv6`): the same checks in the same order, the same `Segment`s, the same []
 * (nothing wanted) or the same None (take the long way). The Python methods stay the
 * reference: a differential test (tests/core/test_decap_compiled.py) runs both over fixtures,
 * the corpus and fuzzed frames.
 */
#include "_twin.h"
#include <stdint.h>
#include <string.h>

/* set once by `setup()`: the Segment class, the layer tuples, the UDP tunnel ports */
static PyObject *segment_type = NULL;
static PyObject *layers_v4_tcp = NULL, *layers_v4_udp = NULL;
static PyObject *layers_v6_tcp = NULL, *layers_v6_udp = NULL;
static PyObject *text_tcp = NULL, *text_udp = NULL, *text_icmp = NULL, *text_icmpv6 = NULL;
static PyObject *text_l2 = NULL, *text_empty = NULL;
static PyObject *layers_v4_icmp = NULL, *layers_v6_icmp = NULL, *layers_arp = NULL;
static PyObject *no_layers = NULL, *zero = NULL; /* a datagram's layers and lengths outside packet mode */
/* the UDP destination ports of tunnels (a handful: a short list, not a 64 KiB table that would
 * sit in every worker process) */
#define MAX_TUNNEL_PORTS 16
static unsigned tunnel_ports[MAX_TUNNEL_PORTS];
static int tunnel_port_count = 0;

static inline int tunnel_dport(unsigned port)
{
    for (int i = 0; i < tunnel_port_count; i++)
        if (tunnel_ports[i] == port)
            return 1;
    return 0;
}
static long teredo_port = -1;

#define SEGMENT_FIELDS 18

static inline unsigned be16(const unsigned char *p) { return ((unsigned)p[0] << 8) | p[1]; }

static inline unsigned long be32(const unsigned char *p)
{
    return ((unsigned long)p[0] << 24) | ((unsigned long)p[1] << 16) | ((unsigned long)p[2] << 8)
           | p[3];
}

/* Slots in front of the decapsulator's dictionary of address texts, one per hash of the raw
 * address, each holding the last text that hashed there. A few hundred addresses make nearly
 * every packet of a capture, and comparing a slot costs a fraction of what the dictionary
 * look-up does: a bytes key made, hashed with SipHash, probed and freed (at 1M packets, 4% of a
 * span worker's instructions before these slots). A slot also names the dictionary it was filled
 * from, so a decapsulator never takes another's text (both would be `format_address` of the
 * same bytes, but the dictionary is the cache the Python reference keeps). */
#define ADDRESS_SLOT_BITS 9
typedef struct {
    PyObject *cache; /* compared, never dereferenced: the dictionary that filled the slot */
    PyObject *text;  /* a strong reference, or NULL while the slot is empty */
    Py_ssize_t size;
    unsigned char raw[16];
} address_slot;
static address_slot address_slots[1 << ADDRESS_SLOT_BITS];

static address_slot *slot_of(const unsigned char *raw, Py_ssize_t size)
{
    uint64_t head = 0, tail = 0;
    memcpy(&head, raw, size < 8 ? (size_t)size : 8);
    if (size > 8)
        memcpy(&tail, raw + size - 8, 8);
    uint64_t mixed = (head ^ (tail * 0x9E3779B97F4A7C15ULL)) * 0xBF58476D1CE4E5B9ULL;
    return &address_slots[mixed >> (64 - ADDRESS_SLOT_BITS)];
}

/* The text of an address: from its slot, else from the decapsulator's cache, else formatted
 * (and cached) by its `format_address` (a new reference, or NULL with an exception set). */
static PyObject *address_text(const unsigned char *raw, Py_ssize_t size, PyObject *cache,
                              PyObject *format_address)
{
    address_slot *slot = size <= 16 ? slot_of(raw, size) : NULL;
    if (slot != NULL && slot->text != NULL && slot->cache == cache && slot->size == size
        && memcmp(slot->raw, raw, (size_t)size) == 0)
        return Py_NewRef(slot->text);
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
    if (slot != NULL && text != NULL && PyUnicode_CheckExact(text)) {
        Py_XSETREF(slot->text, Py_NewRef(text));
        slot->cache = cache;
        slot->size = size;
        memcpy(slot->raw, raw, (size_t)size);
    }
    return text;
}

/* [Segment(...)] from its fields, or NULL with an exception set. The references of `src`,
 * `dst`, `payload` and `ttl` are stolen (NULL: an error, checked here); the others borrowed. */
static PyObject *one_segment(PyObject *transport, PyObject *src, long sport, PyObject *dst,
                             long dport, PyObject *payload, unsigned long seq, long flags,
                             unsigned long ack, long window, long ip_len, long data_len,
                             long proto, PyObject *ttl, PyObject *layers, PyObject *frame_len)
{
    PyObject *seg = NULL, *list = NULL;
    if (src == NULL || dst == NULL || payload == NULL || ttl == NULL)
        goto fail;
    seg = ((PyTypeObject *)segment_type)->tp_alloc((PyTypeObject *)segment_type, SEGMENT_FIELDS);
    if (seg == NULL)
        goto fail;
    PyObject *items[SEGMENT_FIELDS] = {
        Py_NewRef(transport), src, PyLong_FromLong(sport), dst, PyLong_FromLong(dport), payload,
        PyLong_FromUnsignedLong(seq), PyLong_FromLong(flags), PyLong_FromUnsignedLong(ack),
        PyLong_FromLong(window), PyLong_FromLong(ip_len), PyLong_FromLong(data_len),
        PyLong_FromLong(proto), Py_NewRef(Py_None), Py_NewRef(Py_None), ttl,
        Py_NewRef(layers), Py_NewRef(frame_len),
    };
    src = dst = payload = ttl = NULL; /* owned by items now */
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
    Py_XDECREF(ttl);
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
                           6, PyLong_FromLong(hops), layers_v6_tcp, frame_len);
    }
    if (next_header == 17) {
        if (stop - l4 < 8)
            Py_RETURN_NONE;
        unsigned sport = be16(th), dport = be16(th + 2), length = be16(th + 4);
        if (length < 8 || tunnel_dport(dport) || (long)sport == teredo_port)
            Py_RETURN_NONE;
        Py_ssize_t udp_end = l4 + length;
        return one_segment(text_udp, address_text(ip + 8, 16, cache, format_address), sport,
                           address_text(ip + 24, 16, cache, format_address), dport,
                           payload_of(buf, l4 + 8, udp_end < stop ? udp_end : stop), 0, 0, 0, 0,
                           40 + (long)payload_len, (long)length - 8, 17, PyLong_FromLong(hops),
                           layers_v6_udp, frame_len);
    }
    if (next_header == 58 && stop - l4 >= 2)
        return one_segment(text_icmpv6, address_text(ip + 8, 16, cache, format_address), th[0],
                           address_text(ip + 24, 16, cache, format_address), th[1],
                           payload_of(buf, l4, stop), 0, 0, 0, 0, 40 + (long)payload_len,
                           (long)payload_len, 58, PyLong_FromLong(hops), layers_v6_icmp,
                           frame_len);
    Py_RETURN_NONE;
}

/* The frame `buf[start:end]` of a call's first three arguments, with its address cache (the
 * fifth) checked: 0, or -1 with an exception set (and nothing to release). A frame shorter than
 * `min_size` is a ValueError. The caller releases `view`. */
static int frame_arguments(PyObject *const *args, Py_buffer *view, Py_ssize_t *start,
                           Py_ssize_t *end, Py_ssize_t min_size)
{
    if (PyObject_GetBuffer(args[0], view, PyBUF_SIMPLE) < 0)
        return -1;
    *start = PyLong_AsSsize_t(args[1]);
    *end = PyLong_AsSsize_t(args[2]);
    if ((*start == -1 || *end == -1) && PyErr_Occurred())
        goto fail;
    if (!PyDict_Check(args[4])) {
        PyErr_SetString(PyExc_TypeError, "the address cache must be a dict");
        goto fail;
    }
    if (*start < 0 || *end > view->len || *end - *start < min_size) {
        PyErr_Format(PyExc_ValueError, "a frame of at least %zd bytes inside the buffer",
                     min_size);
        goto fail;
    }
    return 0;
fail:
    PyBuffer_Release(view);
    return -1;
}

static PyObject *ethernet_packet(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (twin_arguments(nargs, 6, segment_type,
                       "ethernet_packet(buf, start, end, frame_len, cache, format_address)") < 0)
        return NULL;
    Py_buffer view;
    Py_ssize_t start, end;
    if (frame_arguments(args, &view, &start, &end, 34) < 0)
        return NULL;
    PyObject *frame_len = args[3], *cache = args[4], *format_address = args[5];
    PyObject *result = NULL;
    const unsigned char *buf = view.buf, *ip = buf + start + 14;
    unsigned ethertype = be16(buf + start + 12), total = be16(ip + 2), frag = be16(ip + 6);
    if (ethertype != 0x0800 || ip[0] != 0x45 || (frag & 0x3FFF) || total < 28) {
        if (ethertype == 0x86DD && end - start >= 54)
            result = ipv6_packet(buf, start, end, frame_len, cache, format_address);
        else if (ethertype == 0x0806) /* ARP: a frame without IP, counted by its ethertype */
            result = one_segment(text_l2, Py_NewRef(text_empty), 0x0806, Py_NewRef(text_empty), 0,
                                 PyBytes_FromStringAndSize(NULL, 0), 0, 0, 0, 0, 0, 0, 0,
                                 Py_NewRef(Py_None), layers_arp, frame_len);
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
                             PyLong_FromLong(ttl), layers_v4_tcp, frame_len);
        goto done;
    }
    if (protocol == 17 && stop - start >= 42) {
        unsigned sport = be16(th), dport = be16(th + 2), length = be16(th + 4);
        if (length >= 8 && !tunnel_dport(dport) && (long)sport != teredo_port) {
            Py_ssize_t udp_end = start + 34 + length;
            result = one_segment(text_udp, address_text(ip + 12, 4, cache, format_address), sport,
                                 address_text(ip + 16, 4, cache, format_address), dport,
                                 payload_of(buf, start + 42, udp_end < stop ? udp_end : stop), 0,
                                 0, 0, 0, total, (long)length - 8, 17, PyLong_FromLong(ttl),
                                 layers_v4_udp, frame_len);
            goto done;
        }
    }
    if (protocol == 1 && stop - start >= 36) {
        result = one_segment(text_icmp, address_text(ip + 12, 4, cache, format_address), th[0],
                             address_text(ip + 16, 4, cache, format_address), th[1],
                             payload_of(buf, start + 34, stop), 0, 0, 0, 0, total,
                             (long)total - 20, 1, PyLong_FromLong(ttl), layers_v4_icmp,
                             frame_len);
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&view);
    return result;
}

/* [Segment("udp", src, sport, dst, dport, payload, 0 ...)]: a datagram outside packet mode
 * (`Decapsulator._udp_segment`); the payload's reference is stolen */
static PyObject *datagram_segment(const unsigned char *src, const unsigned char *dst,
                                  Py_ssize_t size, long sport, long dport, PyObject *payload,
                                  PyObject *cache, PyObject *format_address)
{
    PyObject *src_text = address_text(src, size, cache, format_address);
    PyObject *dst_text = src_text ? address_text(dst, size, cache, format_address) : NULL;
    return one_segment(text_udp, src_text, sport, dst_text, dport, payload, 0, 0, 0, 0, 0, 0, 0,
                       Py_NewRef(Py_None), no_layers, zero);
}

/* a UDP datagram outside packet mode: [its segment] when `udp_wanted(sport, dport, payload)`
 * says so, else [] */
static PyObject *wanted_datagram(const unsigned char *buf, Py_ssize_t from, Py_ssize_t to,
                                 const unsigned char *src, const unsigned char *dst,
                                 Py_ssize_t size, long sport, long dport, PyObject *cache,
                                 PyObject *format_address, PyObject *udp_wanted)
{
    PyObject *payload = payload_of(buf, from, to);
    if (payload == NULL)
        return NULL;
    PyObject *ports[2] = {PyLong_FromLong(sport), PyLong_FromLong(dport)};
    PyObject *verdict = NULL;
    if (ports[0] && ports[1]) {
        PyObject *args[3] = {ports[0], ports[1], payload};
        verdict = PyObject_Vectorcall(udp_wanted, args, 3, NULL);
    }
    Py_XDECREF(ports[0]);
    Py_XDECREF(ports[1]);
    int wanted = verdict == NULL ? -1 : PyObject_IsTrue(verdict);
    Py_XDECREF(verdict);
    if (wanted <= 0) {
        Py_DECREF(payload);
        return wanted < 0 ? NULL : PyList_New(0);
    }
    return datagram_segment(src, dst, size, sport, dport, payload, cache, format_address);
}

/* whether either port is in `tcp_ports`: 1, 0, or -1 with an exception set */
static int tcp_port_wanted(PyObject *tcp_ports, unsigned sport, unsigned dport)
{
    PyObject *port = PyLong_FromLong(sport);
    int found = port == NULL ? -1 : PySet_Contains(tcp_ports, port);
    Py_XDECREF(port);
    if (found)
        return found;
    port = PyLong_FromLong(dport);
    found = port == NULL ? -1 : PySet_Contains(tcp_ports, port);
    Py_XDECREF(port);
    return found;
}

/* `Decapsulator._ethernet_ipv6` (outside packet mode) */
static PyObject *ipv6_datagram(const unsigned char *buf, Py_ssize_t start, Py_ssize_t end,
                               PyObject *cache, PyObject *format_address, PyObject *udp_wanted,
                               PyObject *tcp_ports)
{
    const unsigned char *ip = buf + start + 14, *th = buf + start + 54;
    unsigned payload_len = be16(ip + 4), next_header = ip[6];
    unsigned sport = be16(th), dport = be16(th + 2), length = be16(th + 4);
    if (ip[0] >> 4 != 6)
        Py_RETURN_NONE;
    if (next_header == 6) {
        int wanted = tcp_port_wanted(tcp_ports, sport, dport);
        if (wanted < 0)
            return NULL;
        return wanted ? Py_NewRef(Py_None) : PyList_New(0);
    }
    if (next_header != 17 || length < 8 || end - start < 62 || payload_len < 8
        || tunnel_dport(dport) || (long)sport == teredo_port)
        Py_RETURN_NONE;
    Py_ssize_t stop = start + 54 + payload_len;
    if (start + 54 + (Py_ssize_t)length < stop)
        stop = start + 54 + length;
    return wanted_datagram(buf, start + 62, stop < end ? stop : end, ip + 8, ip + 24, 16, sport,
                           dport, cache, format_address, udp_wanted);
}

static PyObject *ethernet_datagram(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (twin_arguments(nargs, 8, segment_type,
                       "ethernet_datagram(buf, start, end, frame_len, cache, format_address, "
                       "udp_wanted, tcp_ports)") < 0)
        return NULL;
    Py_buffer view;
    Py_ssize_t start, end;
    if (frame_arguments(args, &view, &start, &end, 0) < 0)
        return NULL;
    PyObject *cache = args[4], *format_address = args[5], *udp_wanted = args[6];
    PyObject *tcp_ports = args[7], *result = NULL;
    if (!PyAnySet_Check(tcp_ports)) {
        PyErr_SetString(PyExc_TypeError, "the TCP ports must be a set");
        goto done;
    }
    if (end - start < 40) { /* shorter than Ethernet, IPv4 and the UDP ports: the long way */
        result = Py_NewRef(Py_None);
        goto done;
    }
    const unsigned char *buf = view.buf, *ip = buf + start + 14, *th = buf + start + 34;
    unsigned ethertype = be16(buf + start + 12), total = be16(ip + 2), frag = be16(ip + 6);
    unsigned protocol = ip[9], sport = be16(th), dport = be16(th + 2), length = be16(th + 4);
    if (ethertype == 0x0800 && ip[0] == 0x45 && !(frag & 0x3FFF)) {
        if (protocol == 17 && total >= 28 && length >= 8 && end - start >= 42
            && !tunnel_dport(dport) && (long)sport != teredo_port) {
            /* the payload ends at the UDP length, the IP total length or the captured end */
            Py_ssize_t stop = start + (length + 20 < total ? 34 + (Py_ssize_t)length
                                                            : 14 + (Py_ssize_t)total);
            result = wanted_datagram(buf, start + 42, stop < end ? stop : end, ip + 12, ip + 16,
                                     4, sport, dport, cache, format_address, udp_wanted);
            goto done;
        }
        if (protocol == 6) {
            int wanted = tcp_port_wanted(tcp_ports, sport, dport);
            if (wanted >= 0)
                result = wanted ? Py_NewRef(Py_None) : PyList_New(0);
            goto done;
        }
    } else if (ethertype == 0x86DD && end - start >= 60) {
        result = ipv6_datagram(buf, start, end, cache, format_address, udp_wanted, tcp_ports);
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&view);
    return result;
}

static PyObject *setup(PyObject *module, PyObject *args)
{
    PyObject *segment, *v4_tcp, *v4_udp, *v6_tcp, *v6_udp, *v4_icmp, *v6_icmp, *arp, *tunnels;
    long teredo;
    if (!PyArg_ParseTuple(args, "OO!O!O!O!O!O!O!Ol", &segment, &PyTuple_Type, &v4_tcp,
                          &PyTuple_Type, &v4_udp, &PyTuple_Type, &v6_tcp, &PyTuple_Type, &v6_udp,
                          &PyTuple_Type, &v4_icmp, &PyTuple_Type, &v6_icmp, &PyTuple_Type, &arp,
                          &tunnels, &teredo))
        return NULL;
    if (!PyType_Check(segment) || !PyType_IsSubtype((PyTypeObject *)segment, &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError, "Segment must be a tuple subclass");
        return NULL;
    }
    unsigned ports[MAX_TUNNEL_PORTS];
    int count = 0;
    PyObject *iterator = PyObject_GetIter(tunnels), *item;
    if (iterator == NULL)
        return NULL;
    while ((item = PyIter_Next(iterator)) != NULL) {
        long port = PyLong_AsLong(item);
        Py_DECREF(item);
        if (port == -1 && PyErr_Occurred())
            break;
        if (count == MAX_TUNNEL_PORTS) {
            PyErr_SetString(PyExc_ValueError, "more UDP tunnel ports than _decap.c holds");
            break;
        }
        if (port >= 0 && port < 65536)
            ports[count++] = (unsigned)port;
    }
    Py_DECREF(iterator);
    if (PyErr_Occurred())
        return NULL;
    memcpy(tunnel_ports, ports, sizeof ports);
    tunnel_port_count = count;
    teredo_port = teredo;
    Py_XSETREF(segment_type, Py_NewRef(segment));
    Py_XSETREF(layers_v4_tcp, Py_NewRef(v4_tcp));
    Py_XSETREF(layers_v4_udp, Py_NewRef(v4_udp));
    Py_XSETREF(layers_v6_tcp, Py_NewRef(v6_tcp));
    Py_XSETREF(layers_v6_udp, Py_NewRef(v6_udp));
    Py_XSETREF(layers_v4_icmp, Py_NewRef(v4_icmp));
    Py_XSETREF(layers_v6_icmp, Py_NewRef(v6_icmp));
    Py_XSETREF(layers_arp, Py_NewRef(arp));
    const char *names[] = {"tcp", "udp", "icmp", "icmpv6", "l2", ""};
    PyObject **texts[] = {&text_tcp, &text_udp, &text_icmp, &text_icmpv6, &text_l2, &text_empty};
    for (int i = 0; i < 6; i++)
        if (*texts[i] == NULL && (*texts[i] = PyUnicode_InternFromString(names[i])) == NULL)
            return NULL;
    if (no_layers == NULL)
        no_layers = PyTuple_New(0);
    if (zero == NULL)
        zero = PyLong_FromLong(0);
    if (no_layers == NULL || zero == NULL)
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"setup", setup, METH_VARARGS,
     "setup(Segment, v4_tcp_layers, v4_udp_layers, v6_tcp_layers, v6_udp_layers, "
     "v4_icmp_layers, v6_icmp_layers, arp_layers, udp_tunnel_dports, teredo_port): what the "
     "segments are made of"},
    {"ethernet_packet", (PyCFunction)(void (*)(void))ethernet_packet, METH_FASTCALL,
     "ethernet_packet(buf, start, end, frame_len, address_cache, format_address): "
     "Decapsulator._ethernet_ipv4_packet of buf[start:end], in C"},
    {"ethernet_datagram", (PyCFunction)(void (*)(void))ethernet_datagram, METH_FASTCALL,
     "ethernet_datagram(buf, start, end, frame_len, address_cache, format_address, udp_wanted, "
     "tcp_ports): Decapsulator._ethernet_datagram of buf[start:end], in C"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = TWIN_MODULE_DEF(
    "mcpcap.core._decap", "Decapsulator._ethernet_ipv4_packet compiled (see fastpath.py).",
    methods);

PyMODINIT_FUNC PyInit__decap(void) { return twin_module(&module_def); }
