/* `FlowDecoder.packet` compiled, for the packets that change nothing but counts (optional: see
 * mcpcap/core/fastpath.py).
 *
 * Most packets of a capture are the middle of a known flow: a TCP segment in order, or a pure
 * ACK, on a flow whose first packets the piece has already kept; or UDP, where a flow's piece
 * holds nothing but counts and each direction's service (told by `udp_service` from its first
 * payload; on a DNS port, told here as it would tell it). For those, `bind(decoder, fallback,
 * udp_service, dns_ports, icmp_pairs)` gives a function that does what
 * `FlowDecoder.python_packet` would do (the same counts in the same Python objects). ICMP flows
 * are counted as UDP's (keyed by Zeek's type pairs), and a frame without IP by its ethertype.
 * It first checks every condition; when one does not hold (a new TCP flow, a TCP timeout, a
 * SYN, FIN or RST, data out of order, a packet the piece keeps, a tunnelled packet, a new
 * second or a new stack of layers), it changes nothing and calls `fallback`, the Python
 * method, which is the reference. tests/modules/conn/test_flows.py holds the two to each
 * other.
 */
#include "../../core/_twin.h"

/* a piece's fields: those of mcpcap/modules/conn/flows.py (`LAYOUT` below is checked against
 * them when the Python binds this code) */
enum {
    FIRST_TS = 0, LAST_TS = 1, FIRST_FRAME = 2, LAST_FRAME = 3, FIRST_DIR = 4, FIRST_FLAGS = 5,
    VLAN = 14, PACKETS = 6, IP_BYTES = 8, DATA = 10, SERVICE = 12,
    ANCHOR = 21, HI = 23, ACK_ANCHOR = 25, ACK_HI = 27, ZERO_WIN = 31, HEAD = 35, SEEN = 19,
    TCP_PIECE_SIZE = 37, PIECE_SIZE = 18, HEAD_PACKETS = 8, MAX_HEAD = 16,
    DNS_HEADER = 12, /* services.py's: the shortest payload a DNS port's service is dns */
};
/* a Segment's fields (mcpcap/core/decap.py) */
enum {
    S_TRANSPORT, S_SRC, S_SPORT, S_DST, S_DPORT, S_PAYLOAD, S_SEQ, S_FLAGS, S_ACK, S_WINDOW,
    S_IP_LEN, S_DATA_LEN, S_PROTO, S_VLAN, S_OUTER, S_TTL, S_LAYERS, S_FRAME_LEN, S_FIELDS,
};
#define FIN 0x01
#define SYN 0x02
#define RST 0x04
#define ACK 0x10
#define TCP_TIMEOUT 300.0
#define OTHER_TIMEOUT 60.0
#define MASK32 0xFFFFFFFFLL
#define HALF32 0x80000000LL

static PyObject *str_tcp, *str_udp, *str_flows, *str_tally, *str_stacks, *str_done, *int_zero,
    *int_one, *int_minus_one, *str_dns, *str_empty, *str_l2, *str_icmp, *str_icmpv6, *str_l2_counts;

/* an int object as a C number; -1 with `*ok` cleared when it is no int (or too big) */
static long long as_int(PyObject *item, int *ok)
{
    if (!PyLong_CheckExact(item)) {
        *ok = 0;
        return -1;
    }
    int overflow;
    long long value = PyLong_AsLongLongAndOverflow(item, &overflow);
    if (overflow || (value == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        *ok = 0;
        return -1;
    }
    return value;
}

#define int_item(list, index, ok) as_int(PyList_GET_ITEM((list), (index)), (ok))
#define int_field(seg, index, ok) as_int(PyTuple_GET_ITEM((seg), (index)), (ok))

/* `value` past the anchor in `piece[index]`, as an unsigned 32-bit difference (sequence
 * numbers wrap); `*ok` cleared when the piece has no anchor yet */
static long long past_anchor(PyObject *piece, Py_ssize_t index, long long value, int *ok)
{
    if (PyList_GET_ITEM(piece, index) == Py_None) {
        *ok = 0;
        return -1;
    }
    return (value - int_item(piece, index, ok)) & MASK32;
}

/* list[index] = value (a new int); 0, or -1 with an exception set */
static int set_int(PyObject *list, Py_ssize_t index, long long value)
{
    PyObject *number = PyLong_FromLongLong(value);
    if (number == NULL)
        return -1;
    PyList_SetItem(list, index, number); /* (steals it; the list's size is checked) */
    return 0;
}

/* `list.append((first, second))`: 0, or -1 with an exception set */
static int append_pair(PyObject *list, PyObject *first, PyObject *second)
{
    PyObject *pair = PyTuple_Pack(2, first, second);
    int failed = pair == NULL || PyList_Append(list, pair) < 0;
    Py_XDECREF(pair);
    return failed ? -1 : 0;
}

/* flows.py's `new_piece(frame, ts, d, -1, vlan, None)`: a UDP flow's piece before its first
 * packet is counted (a new reference, or NULL) */
static PyObject *new_udp_piece(PyObject *frame, PyObject *ts, int d, PyObject *vlan)
{
    PyObject *piece = PyList_New(PIECE_SIZE);
    if (piece == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < PIECE_SIZE; i++) {
        PyObject *item = Py_None;
        if (i == FIRST_TS || i == LAST_TS)
            item = ts;
        else if (i == FIRST_FRAME || i == LAST_FRAME)
            item = frame;
        else if (i == FIRST_DIR)
            item = d ? int_one : int_zero;
        else if (i == FIRST_FLAGS)
            item = int_minus_one;
        else if (i >= PACKETS && i < SERVICE)
            item = int_zero;
        else if (i == VLAN)
            item = vlan;
        PyList_SET_ITEM(piece, i, Py_NewRef(item));
    }
    return piece;
}

/* The frame's place in the timeline (the tally of its second: `_count`) and in the protocol
 * hierarchy (its stack of layers: `_layers`), found and read before anything is counted. */
typedef struct {
    PyObject *tally, *stack; /* borrowed: the decoder's */
    long long packets, ip_bytes, frames, frame_bytes;
} FrameTally;

/* 1: found (`*found` filled); 0: not here (a new second or a new stack: the fallback's);
 * -1: an error */
static int find_frame_tally(PyObject *attrs, PyObject *seg, double ts, FrameTally *found)
{
    int ok = 1;
    PyObject *tally = twin_attribute(attrs, str_tally);
    if (tally == NULL || !PyList_CheckExact(tally) || PyList_GET_SIZE(tally) != 4)
        return 0;
    /* (as C integers first: a second of the epoch takes `PyLong_AsDouble` its slow path) */
    long long second_low = int_item(tally, 2, &ok), second_high = int_item(tally, 3, &ok);
    if (!ok || !((double)second_low <= ts && ts < (double)second_high))
        return 0;
    PyObject *stacks = twin_attribute(attrs, str_stacks);
    if (stacks == NULL || !PyDict_CheckExact(stacks))
        return 0;
    PyObject *stack = PyDict_GetItemWithError(stacks, PyTuple_GET_ITEM(seg, S_LAYERS));
    if (stack == NULL)
        return PyErr_Occurred() ? -1 : 0;
    if (!PyList_CheckExact(stack) || PyList_GET_SIZE(stack) != 2)
        return 0;
    found->tally = tally;
    found->stack = stack;
    found->packets = int_item(tally, 0, &ok);
    found->ip_bytes = int_item(tally, 1, &ok);
    found->frames = int_item(stack, 0, &ok);
    found->frame_bytes = int_item(stack, 1, &ok);
    return ok;
}

/* the frame counted where `find_frame_tally` found its place: 0, or -1 with an exception set */
static int count_frame(const FrameTally *at, long long ip_len, long long frame_len)
{
    if (set_int(at->tally, 0, at->packets + 1) < 0
        || set_int(at->tally, 1, at->ip_bytes + ip_len) < 0
        || set_int(at->stack, 0, at->frames + 1) < 0
        || set_int(at->stack, 1, at->frame_bytes + frame_len) < 0)
        return -1;
    return 0;
}

/* A frame without IP (`python_packet`'s "l2"): counted by its ethertype (the segment's sport),
 * in the timeline without IP bytes, and in its stack of layers. 1, 0 or -1 as below. */
static int count_l2(PyObject *attrs, PyObject *ts_obj, PyObject *seg)
{
    int ok = 1;
    long long frame_len = int_field(seg, S_FRAME_LEN, &ok);
    PyObject *counts = twin_attribute(attrs, str_l2_counts);
    if (!ok || counts == NULL || !PyDict_CheckExact(counts))
        return 0;
    PyObject *ethertype = PyTuple_GET_ITEM(seg, S_SPORT);
    PyObject *seen = PyDict_GetItemWithError(counts, ethertype);
    if (seen == NULL && PyErr_Occurred())
        return -1;
    long long before = seen == NULL ? 0 : as_int(seen, &ok);
    FrameTally at;
    int found = ok ? find_frame_tally(attrs, seg, PyFloat_AS_DOUBLE(ts_obj), &at) : 0;
    if (found <= 0)
        return found;
    PyObject *after = PyLong_FromLongLong(before + 1);
    int failed = after == NULL || PyDict_SetItem(counts, ethertype, after) < 0;
    Py_XDECREF(after);
    return failed || count_frame(&at, 0, frame_len) < 0 ? -1 : 1;
}

/* 1: counted here; 0: the fallback must take the packet (nothing changed); -1: an error. */
static int count_keyed(PyObject *attrs, PyObject *services, PyObject *frame,
                       PyObject *ts_obj, PyObject *seg, PyObject *key, int d, int tcp, int icmp,
                       PyObject *service);

/* What `udp_service` says of a payload on a DNS port (`dns_ports`, a tuple of ints: services.py's
 * DNS_PORTS), without a call into Python: "dns" for DNS_HEADER bytes or more, else "" (a borrowed
 * reference); NULL for a payload on another port, which `udp_service` itself is asked about. */
static PyObject *dns_port_service(PyObject *dns_ports, long long sport, long long dport,
                                  PyObject *payload)
{
    if (!PyBytes_CheckExact(payload))
        return NULL;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(dns_ports); i++) {
        long long port = PyLong_AsLongLong(PyTuple_GET_ITEM(dns_ports, i));
        if (port == sport || port == dport)
            return PyBytes_GET_SIZE(payload) >= DNS_HEADER ? str_dns : str_empty;
    }
    return NULL;
}

enum { T_OTHER, T_TCP, T_UDP, T_ICMP, T_ICMPV6, T_L2 };

/* which of the transports counted here a segment names (the decoder's interned names are
 * told apart by identity; another str equal to one of them by its text) */
static int transport_kind(PyObject *transport)
{
    PyObject *names[] = {str_tcp, str_udp, str_icmp, str_icmpv6, str_l2};
    int kinds[] = {T_TCP, T_UDP, T_ICMP, T_ICMPV6, T_L2};
    for (int i = 0; i < 5; i++)
        if (transport == names[i])
            return kinds[i];
    if (!PyUnicode_CheckExact(transport))
        return T_OTHER;
    for (int i = 0; i < 5; i++)
        if (PyUnicode_Compare(transport, names[i]) == 0)
            return kinds[i];
    return T_OTHER; /* (two strs compare without an error) */
}

/* `services`: (udp_service, dns_ports, icmp4_pairs, icmp6_pairs), see `bind` */
static int count_packet(PyObject *attrs, PyObject *services, PyObject *frame,
                        PyObject *ts_obj, PyObject *seg)
{
    if (!PyTuple_Check(seg) || PyTuple_GET_SIZE(seg) != S_FIELDS || !PyFloat_CheckExact(ts_obj))
        return 0;
    PyObject *transport = PyTuple_GET_ITEM(seg, S_TRANSPORT);
    int kind = transport_kind(transport);
    if (kind == T_L2)
        return count_l2(attrs, ts_obj, seg);
    if (kind == T_OTHER)
        return 0;
    int tcp = kind == T_TCP, icmp = kind == T_ICMP || kind == T_ICMPV6;
    if (PyTuple_GET_ITEM(seg, S_OUTER) != Py_None)
        return 0;
    PyObject *src = PyTuple_GET_ITEM(seg, S_SRC), *dst = PyTuple_GET_ITEM(seg, S_DST);
    PyObject *sport = PyTuple_GET_ITEM(seg, S_SPORT), *dport = PyTuple_GET_ITEM(seg, S_DPORT);
    if (!PyUnicode_CheckExact(src) || !PyUnicode_CheckExact(dst))
        return 0;
    if (icmp) { /* `key_parts`: Zeek's ports, the type and its counterpart type (or the code) */
        PyObject *pairs = PyTuple_GET_ITEM(services, kind == T_ICMPV6 ? 3 : 2);
        PyObject *counterpart = PyDict_GetItemWithError(pairs, sport);
        if (counterpart == NULL && PyErr_Occurred())
            return -1;
        if (counterpart != NULL)
            dport = counterpart;
    }
    int ok = 1;
    long long sport_n = int_field(seg, S_SPORT, &ok), dport_n = as_int(dport, &ok);
    if (!ok)
        return 0;

    /* the flow key: the smaller endpoint first; d = 0 when that is the source */
    int order = PyUnicode_Compare(src, dst);
    if (order == -1 && PyErr_Occurred())
        return -1;
    int d = (order < 0 || (order == 0 && sport_n <= dport_n)) ? 0 : 1;
    PyObject *key = d == 0 ? PyTuple_Pack(5, transport, src, sport, dst, dport)
                           : PyTuple_Pack(5, transport, dst, dport, src, sport);
    if (key == NULL)
        return -1;
    /* (other transports than UDP show no service: "" for a payload) */
    int result = count_keyed(attrs, services, frame, ts_obj, seg, key, d, tcp, icmp,
                             icmp ? str_empty : NULL);
    Py_DECREF(key);
    return result;
}

/* `count_packet` once the flow's key is made (d: the packet's canonical side). `service`:
 * NULL, or what `udp_service` said of this packet's payload (see below). */
static int count_keyed(PyObject *attrs, PyObject *services, PyObject *frame,
                       PyObject *ts_obj, PyObject *seg, PyObject *key, int d, int tcp, int icmp,
                       PyObject *service)
{
    int ok = 1;
    double ts = PyFloat_AS_DOUBLE(ts_obj);
    long long flags = int_field(seg, S_FLAGS, &ok), size = int_field(seg, S_DATA_LEN, &ok);
    long long ip_len = int_field(seg, S_IP_LEN, &ok), frame_len = int_field(seg, S_FRAME_LEN, &ok);
    if (!ok)
        return 0;
    if (icmp) /* the payload after the 8 bytes of the ICMP header */
        size = size > 8 ? size - 8 : 0;
    PyObject *flows = twin_attribute(attrs, str_flows);
    if (flows == NULL || !PyDict_CheckExact(flows))
        return 0;
    /* a UDP flow's first packet, or its first after the timeout, starts a piece here; a TCP
     * flow's goes to the Python (its first packets are kept as events) */
    PyObject *piece = PyDict_GetItemWithError(flows, key), *ended = NULL;
    if (piece == NULL && PyErr_Occurred())
        return -1;
    if (piece != NULL) {
        if (!PyList_CheckExact(piece)
            || PyList_GET_SIZE(piece) < (tcp ? TCP_PIECE_SIZE : PIECE_SIZE))
            return 0;
        PyObject *last_ts = PyList_GET_ITEM(piece, LAST_TS);
        if (!PyFloat_CheckExact(last_ts))
            return 0;
        if (ts - PyFloat_AS_DOUBLE(last_ts) > (tcp ? TCP_TIMEOUT : OTHER_TIMEOUT)) {
            ended = piece;
            piece = NULL;
        }
    }
    if (piece == NULL && tcp)
        return 0;

    PyObject *payload = PyTuple_GET_ITEM(seg, S_PAYLOAD);
    int has_payload = PyObject_IsTrue(payload);
    if (has_payload < 0)
        return -1;
    long long hi = 0, end = 0, ack_hi = -1, new_ack_hi = -1;
    int zero_window = 0;
    if (tcp) {
        if (flags & (SYN | FIN | RST))
            return 0; /* control: kept as an event */
        long long seq = int_field(seg, S_SEQ, &ok), ack = int_field(seg, S_ACK, &ok);
        long long window = int_field(seg, S_WINDOW, &ok);
        long long rel = past_anchor(piece, ANCHOR + d, seq, &ok);
        hi = int_item(piece, HI + d, &ok);
        if (!ok)
            return 0;
        if (rel >= HALF32)
            rel -= 2 * HALF32;
        if (size && (rel != hi || (has_payload && PyList_GET_ITEM(piece, SERVICE + d) == Py_None)))
            return 0; /* out of order, or the first payload (its service is decided) */
        end = rel + size;
        PyObject *head = PyList_GET_ITEM(piece, HEAD + d);
        if (head != Py_None) {
            if (!PyList_CheckExact(head))
                return 0;
            Py_ssize_t kept = PyList_GET_SIZE(head);
            if (kept < HEAD_PACKETS || (rel < 0 && size > 0 && kept < MAX_HEAD))
                return 0; /* the piece keeps this packet in its head */
        }
        if (flags & ACK) {
            long long rel_ack = past_anchor(piece, ACK_ANCHOR + d, ack, &ok);
            ack_hi = int_item(piece, ACK_HI + d, &ok);
            if (!ok)
                return 0;
            if (rel_ack < HALF32 && rel_ack > ack_hi)
                new_ack_hi = rel_ack;
        }
        zero_window = window == 0;
        long long seen = int_item(piece, SEEN, &ok);
        if (!ok)
            return 0;
        long long bit = size ? (d ? 8 : 4) : (flags & ACK) ? (d ? 2 : 1) : 0;
        if (bit && !(seen & bit))
            return 0; /* the first data or ACK packet of its direction: an event */
    }
    int decides_service = !tcp && has_payload
                          && (piece == NULL || PyList_GET_ITEM(piece, SERVICE + d) == Py_None);
    if (decides_service && service == NULL)
        service = dns_port_service(PyTuple_GET_ITEM(services, 1),
                                   int_field(seg, S_SPORT, &ok), int_field(seg, S_DPORT, &ok),
                                   payload);
    if (decides_service && service == NULL) {
        /* `udp_service(sport, dport, payload)` first, then everything again: the references
         * borrowed above need not outlive a call into Python */
        PyObject *args[3] = {PyTuple_GET_ITEM(seg, S_SPORT), PyTuple_GET_ITEM(seg, S_DPORT),
                             payload};
        PyObject *told = PyObject_Vectorcall(PyTuple_GET_ITEM(services, 0), args, 3, NULL);
        if (told == NULL)
            return -1;
        int result = count_keyed(attrs, services, frame, ts_obj, seg, key, d, tcp, icmp, told);
        Py_DECREF(told);
        return result;
    }

    /* the timeline's second and the stack of layers: known already */
    FrameTally at;
    int found = find_frame_tally(attrs, seg, ts, &at);
    if (found <= 0)
        return found;
    long long packets = 0, ip_bytes = 0, data = 0, zero_windows = 0;
    if (piece != NULL) {
        packets = int_item(piece, PACKETS + d, &ok);
        ip_bytes = int_item(piece, IP_BYTES + d, &ok);
        data = int_item(piece, DATA + d, &ok);
        zero_windows = tcp ? int_item(piece, ZERO_WIN + d, &ok) : 0;
    }
    if (!ok)
        return 0;
    PyObject *done = NULL;
    if (ended != NULL) {
        done = twin_attribute(attrs, str_done);
        if (done == NULL || !PyList_CheckExact(done))
            return 0;
    }

    /* every check held: count (the Python's order of changes, none of which can fail but for
     * memory) */
    if (piece == NULL) { /* `new_piece(frame, ts, d, -1, vlan, None)`, in place of `ended` */
        if (ended != NULL && append_pair(done, key, ended) < 0)
            return -1;
        piece = new_udp_piece(frame, ts_obj, d, PyTuple_GET_ITEM(seg, S_VLAN));
        int failed = piece == NULL || PyDict_SetItem(flows, key, piece) < 0;
        Py_XDECREF(piece); /* (the dict holds it) */
        if (failed)
            return -1;
    } else {
        Py_INCREF(ts_obj);
        PyList_SetItem(piece, LAST_TS, ts_obj);
        Py_INCREF(frame);
        PyList_SetItem(piece, LAST_FRAME, frame);
    }
    if (decides_service)
        PyList_SetItem(piece, SERVICE + d, Py_NewRef(service)); /* (steals the new one) */
    if (set_int(piece, PACKETS + d, packets + 1) < 0
        || set_int(piece, IP_BYTES + d, ip_bytes + ip_len) < 0)
        return -1;
    if (size && set_int(piece, DATA + d, data + size) < 0)
        return -1;
    if (tcp) {
        if (end > hi && set_int(piece, HI + d, end) < 0)
            return -1;
        if (new_ack_hi >= 0 && set_int(piece, ACK_HI + d, new_ack_hi) < 0)
            return -1;
        if (zero_window && set_int(piece, ZERO_WIN + d, zero_windows + 1) < 0)
            return -1;
    }
    return count_frame(&at, ip_len, frame_len) < 0 ? -1 : 1;
}

/* the bound function: self is (the decoder's instance dict, fallback, services) */
static PyObject *packet(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "packet(frame, ts, segment)");
        return NULL;
    }
    int counted = count_packet(PyTuple_GET_ITEM(self, 0), PyTuple_GET_ITEM(self, 2), args[0],
                               args[1], args[2]);
    if (counted < 0)
        return NULL;
    if (counted)
        Py_RETURN_NONE;
    return PyObject_Vectorcall(PyTuple_GET_ITEM(self, 1), args, 3, NULL);
}

static PyMethodDef packet_def = {
    "packet", (PyCFunction)(void (*)(void))packet, METH_FASTCALL,
    "packet(frame, ts, segment): FlowDecoder.python_packet, counted in C where it only counts",
};

static PyObject *bind(PyObject *module, PyObject *args)
{
    PyObject *decoder, *fallback, *udp_service, *dns_ports, *icmp4_pairs, *icmp6_pairs;
    if (!PyArg_ParseTuple(args, "OOOO(O!O!):bind", &decoder, &fallback, &udp_service, &dns_ports,
                          &PyDict_Type, &icmp4_pairs, &PyDict_Type, &icmp6_pairs))
        return NULL;
    if (!PyCallable_Check(fallback) || !PyCallable_Check(udp_service)) {
        PyErr_SetString(PyExc_TypeError, "the fallback and udp_service must be callable");
        return NULL;
    }
    PyObject *ports = PySequence_Tuple(dns_ports);
    if (ports == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(ports); i++) {
        PyObject *port = PyTuple_GET_ITEM(ports, i);
        long long value = PyLong_CheckExact(port) ? PyLong_AsLongLong(port) : -1;
        if (value < 0 || value > 0xFFFF) {
            PyErr_Clear();
            Py_DECREF(ports);
            PyErr_SetString(PyExc_ValueError, "dns_ports must be port numbers");
            return NULL;
        }
    }
    PyObject *services = PyTuple_Pack(4, udp_service, ports, icmp4_pairs, icmp6_pairs);
    Py_DECREF(ports);
    /* the decoder's attributes, read from its instance dict (see `twin_instance_dict`) */
    PyObject *attrs = services == NULL ? NULL : twin_instance_dict(decoder);
    PyObject *bound = NULL;
    if (attrs != NULL) {
        PyObject *items[3] = {attrs, fallback, services};
        bound = twin_bound_items(module, &packet_def, items, 3);
    }
    Py_XDECREF(attrs);
    Py_XDECREF(services);
    return bound;
}

static PyMethodDef methods[] = {
    {"bind", bind, METH_VARARGS,
     "bind(decoder, fallback, udp_service, dns_ports, (icmp4_pairs, icmp6_pairs)): the "
     "decoder's `packet`, counting in C (a UDP or ICMP flow's new piece and each direction's "
     "service included: told here on `dns_ports` as `udp_service` tells it, else by "
     "`udp_service`) and calling `fallback` (the Python method) for every packet that does more "
     "than count"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = TWIN_MODULE_DEF(
    "mcpcap.modules.conn._flows",
    "FlowDecoder.packet compiled, for the packets that only count (see flows.py).", methods);

PyMODINIT_FUNC PyInit__flows(void)
{
    str_tcp = PyUnicode_InternFromString("tcp");
    str_udp = PyUnicode_InternFromString("udp");
    str_flows = PyUnicode_InternFromString("_flows");
    str_tally = PyUnicode_InternFromString("_tally");
    str_stacks = PyUnicode_InternFromString("_stacks");
    str_done = PyUnicode_InternFromString("_done");
    str_dns = PyUnicode_InternFromString("dns");
    str_empty = PyUnicode_InternFromString("");
    str_l2 = PyUnicode_InternFromString("l2");
    str_l2_counts = PyUnicode_InternFromString("_l2");
    str_icmp = PyUnicode_InternFromString("icmp");
    str_icmpv6 = PyUnicode_InternFromString("icmpv6");
    int_zero = PyLong_FromLong(0);
    int_one = PyLong_FromLong(1);
    int_minus_one = PyLong_FromLong(-1);
    if (!str_tcp || !str_udp || !str_flows || !str_tally || !str_stacks || !str_done || !int_zero
        || !int_one || !int_minus_one || !str_dns || !str_empty || !str_l2 || !str_l2_counts
        || !str_icmp || !str_icmpv6)
        return NULL;
    PyObject *module = twin_module(&module_def);
    if (module == NULL)
        return NULL;
    PyObject *layout = Py_BuildValue(
        "{si si si si si si si si si si si si si si si si si si si si si si si}",
        "FIRST_TS", FIRST_TS, "FIRST_FRAME", FIRST_FRAME, "FIRST_DIR", FIRST_DIR,
        "FIRST_FLAGS", FIRST_FLAGS, "VLAN", VLAN, "LAST_TS", LAST_TS, "LAST_FRAME", LAST_FRAME,
        "PACKETS", PACKETS, "IP_BYTES", IP_BYTES, "DATA", DATA, "SERVICE", SERVICE,
        "ANCHOR", ANCHOR, "HI", HI, "ACK_ANCHOR", ACK_ANCHOR, "ACK_HI", ACK_HI,
        "ZERO_WIN", ZERO_WIN, "HEAD", HEAD, "SEEN", SEEN, "TCP_PIECE_SIZE", TCP_PIECE_SIZE,
        "PIECE_SIZE", PIECE_SIZE, "HEAD_PACKETS", HEAD_PACKETS, "MAX_HEAD", MAX_HEAD,
        "DNS_HEADER", DNS_HEADER);
    if (layout == NULL || PyModule_AddObject(module, "LAYOUT", layout) < 0) {
        Py_XDECREF(layout);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
