/* `parallel.python_span_loop` compiled (optional: see mcpcap/core/fastpath.py).
 *
 * A span worker's loop: every record of its span, decoded and handed to the modules. The loop itself (record headers, timestamps, the routing of each segment, the TCP
 * stream test and payload references) runs here; everything a module does is still the
 * module's Python (or its own compiled twin), called as the Python loop calls it, in the same
 * order. tests/core/test_parallel_compiled.py holds the two loops to each other.
 */
#include "_twin.h"
#include <marshal.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* set once by `setup()` */
static PyObject *frame_deferred, *by_reference, *deferred_tag, *tcp_segment_tag,
    *packet_flush_tag;
static Py_ssize_t min_referenced = -1;
static PyObject *zero_index; /* the module index of a scan's only module */
#define MIN_ETHERNET_FAST 34 /* decap.MIN_ETHERNET_FAST, checked by setup() */
#define MAX_COMPILED_REST 4  /* the compiled decapsulation's arguments after the frame's */
static PyObject *str_udp, *str_tcp, *str_any_port, *str_ports, *str_released, *str_move_to_end;

/* `SpanLoop`'s fields (mcpcap/core/parallel.py) */
enum {
    L_PACKETS, L_LITTLE, L_SCALE, L_LINKTYPE, L_DECODE_AT, L_ROUTES, L_DATAGRAM_TARGETS, L_DECODERS,
    L_WANTS_TCP, L_STREAMS, L_FLUSH_PACKETS, L_COMPILED_DECAP, L_FIELDS,
};
/* a Segment's fields (mcpcap/core/decap.py) */
enum { S_TRANSPORT, S_SRC, S_SPORT, S_DST, S_DPORT, S_PAYLOAD, S_FLAGS = 7, S_FIELDS = 18 };
/* what a stream item keeps of a segment (`streamwork.STREAM_FIELDS`: transport to ack) */
enum { S_STREAM_FIELDS = 9 };
#define TCP_SYN_FLAG 0x02

static inline unsigned long u32(const unsigned char *p, int little)
{
    return little ? ((unsigned long)p[3] << 24 | (unsigned long)p[2] << 16
                     | (unsigned long)p[1] << 8 | p[0])
                  : ((unsigned long)p[0] << 24 | (unsigned long)p[1] << 16
                     | (unsigned long)p[2] << 8 | p[3]);
}

static int is_text(PyObject *value, PyObject *text)
{
    return value == text || (PyUnicode_Check(value) && PyUnicode_Compare(value, text) == 0);
}

/* call `function(args...)` and drop the result: 0, or -1 with an exception set */
static int call_for_effect(PyObject *function, PyObject *const *args, size_t nargs)
{
    PyObject *result = PyObject_Vectorcall(function, args, nargs, NULL);
    if (result == NULL)
        return -1;
    Py_DECREF(result);
    return 0;
}

/* append a new tuple of `n` items (borrowed references) to `list`: 0, or -1 */
static int append_tuple(PyObject *list, Py_ssize_t n, PyObject **items)
{
    PyObject *tuple = PyTuple_New(n);
    if (tuple == NULL)
        return -1;
    for (Py_ssize_t i = 0; i < n; i++)
        PyTuple_SET_ITEM(tuple, i, Py_NewRef(items[i]));
    int failed = PyList_Append(list, tuple);
    Py_DECREF(tuple);
    return failed;
}

/* `streamwork.by_reference(seg, buf, start, end, base)`: a new reference, or NULL */
static PyObject *reference(PyObject *seg, PyObject *buf_obj, const unsigned char *buf,
                           Py_ssize_t start, Py_ssize_t end, long long base)
{
    PyObject *payload = PyTuple_GET_ITEM(seg, S_PAYLOAD);
    if (!PyBytes_CheckExact(payload) || PyTuple_GET_SIZE(seg) != S_FIELDS)
        goto in_python;
    Py_ssize_t size = PyBytes_GET_SIZE(payload);
    if (size < min_referenced)
        return PyTuple_GetSlice(seg, 0, S_STREAM_FIELDS);
    if (size > end - start || memcmp(buf + end - size, PyBytes_AS_STRING(payload), size) != 0)
        goto in_python; /* (never for the decapsulator's slices: `find` in the Python) */
    PyObject *tuple = PyTuple_New(S_STREAM_FIELDS);
    PyObject *place = Py_BuildValue("(Ln)", base + (long long)(end - size), size);
    if (tuple == NULL || place == NULL) {
        Py_XDECREF(tuple);
        Py_XDECREF(place);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < S_STREAM_FIELDS; i++)
        PyTuple_SET_ITEM(tuple, i, i == S_PAYLOAD ? place : Py_NewRef(PyTuple_GET_ITEM(seg, i)));
    return tuple;
in_python:;
    PyObject *args[5] = {seg, buf_obj, NULL, NULL, NULL};
    PyObject *result = NULL;
    args[2] = PyLong_FromSsize_t(start);
    args[3] = PyLong_FromSsize_t(end);
    args[4] = PyLong_FromLongLong(base);
    if (args[2] && args[3] && args[4])
        result = PyObject_Vectorcall(by_reference, args, 5, NULL);
    Py_XDECREF(args[2]);
    Py_XDECREF(args[3]);
    Py_XDECREF(args[4]);
    return result;
}

/* the stream decoders' test (`TcpInterest.wants`): 1, 0, or -1 with an exception set */
static int stream_wants(PyObject *seg, int any_port, PyObject *ports)
{
    PyObject *payload = PyTuple_GET_ITEM(seg, S_PAYLOAD);
    int has_payload = PyObject_IsTrue(payload);
    if (has_payload < 0)
        return -1;
    if (!has_payload) {
        long flags = PyLong_AsLong(PyTuple_GET_ITEM(seg, S_FLAGS));
        if (flags == -1 && PyErr_Occurred())
            return -1;
        if (!(flags & 0x07))
            return 0;
    }
    if (any_port)
        return 1;
    int found = PySet_Contains(ports, PyTuple_GET_ITEM(seg, S_SPORT));
    if (found)
        return found;
    return PySet_Contains(ports, PyTuple_GET_ITEM(seg, S_DPORT));
}

/* `decoder(frame, ts, seg)`, and unless it gives None, (index, frame, ts, src, sport, dst,
 * dport, what it gave) to `out` */
static int decoded_to(PyObject *out, PyObject *index, PyObject *decoder, PyObject **args)
{
    PyObject *seg = args[2];
    PyObject *decoded = PyObject_Vectorcall(decoder, args, 3, NULL);
    if (decoded == NULL)
        return -1;
    int failed = 0;
    if (decoded != Py_None) {
        PyObject *items[8] = {index, args[0], args[1], PyTuple_GET_ITEM(seg, S_SRC),
                              PyTuple_GET_ITEM(seg, S_SPORT), PyTuple_GET_ITEM(seg, S_DST),
                              PyTuple_GET_ITEM(seg, S_DPORT), decoded};
        failed = append_tuple(out, 8, items);
    }
    Py_DECREF(decoded);
    return failed;
}

/* A datagram to the decoders of the modules that want it (`UdpDispatch.for_datagram`): what
 * each makes of it goes to `out` */
static int to_datagram_decoders(PyObject *const *loop, PyObject *seg, PyObject *frame,
                                PyObject *ts, PyObject *out)
{
    PyObject *args[3] = {frame, ts, seg};
    PyObject *ports_payload[3] = {PyTuple_GET_ITEM(seg, S_SPORT), PyTuple_GET_ITEM(seg, S_DPORT),
                                  PyTuple_GET_ITEM(seg, S_PAYLOAD)};
    PyObject *targets = PyObject_Vectorcall(loop[L_DATAGRAM_TARGETS], ports_payload, 3, NULL);
    if (targets == NULL)
        return -1;
    PyObject *iterator = PyObject_GetIter(targets);
    Py_DECREF(targets);
    if (iterator == NULL)
        return -1;
    PyObject *index;
    while ((index = PyIter_Next(iterator)) != NULL) {
        PyObject *decoder = PyObject_GetItem(loop[L_DECODERS], index);
        int failed = decoder == NULL || decoded_to(out, index, decoder, args) < 0;
        Py_XDECREF(decoder);
        Py_DECREF(index);
        if (failed) {
            Py_DECREF(iterator);
            return -1;
        }
    }
    Py_DECREF(iterator);
    return PyErr_Occurred() ? -1 : 0;
}

/* One segment of a frame, to the modules (as the Python loop's `for seg in segments`) */
static int route_segment(PyObject *const *loop, PyObject *seg, PyObject *frame, PyObject *ts,
                         PyObject *out, PyObject *streams, PyObject *buf_obj,
                         const unsigned char *buf, Py_ssize_t start, Py_ssize_t end,
                         long long base, int any_port, PyObject *ports)
{
    if (!PyTuple_Check(seg) || PyTuple_GET_SIZE(seg) < S_FIELDS) {
        PyErr_SetString(PyExc_TypeError, "the decapsulator gave something else than a Segment");
        return -1;
    }
    PyObject *transport = PyTuple_GET_ITEM(seg, S_TRANSPORT);
    PyObject *route = PyDict_GetItemWithError(loop[L_ROUTES], transport);
    if (route == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetObject(PyExc_KeyError, transport);
        return -1;
    }
    Py_INCREF(route);
    PyObject *args[3] = {frame, ts, seg};
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(route); i++) {
        if (call_for_effect(PyList_GET_ITEM(route, i), args, 3) < 0) {
            Py_DECREF(route);
            return -1;
        }
    }
    Py_DECREF(route);
    if (is_text(transport, str_udp))
        return to_datagram_decoders(loop, seg, frame, ts, out);
    if (!is_text(transport, str_tcp))
        return PyErr_Occurred() ? -1 : 0;
    if (loop[L_WANTS_TCP] != Py_None) {
        PyObject *wanted = PyObject_Vectorcall(loop[L_WANTS_TCP], &seg, 1, NULL);
        int wants = wanted == NULL ? -1 : PyObject_IsTrue(wanted);
        Py_XDECREF(wanted);
        if (wants < 0)
            return -1;
        if (wants) { /* its stream is read in order, by the scanning process */
            PyObject *whole = PySequence_Tuple(seg);
            if (whole == NULL)
                return -1;
            PyObject *items[4] = {tcp_segment_tag, frame, ts, whole};
            int failed = append_tuple(out, 4, items);
            Py_DECREF(whole);
            if (failed < 0)
                return -1;
        }
    }
    if (ports != NULL) {
        int wants = stream_wants(seg, any_port, ports);
        if (wants < 0)
            return -1;
        if (wants) {
            PyObject *ref = reference(seg, buf_obj, buf, start, end, base);
            if (ref == NULL)
                return -1;
            PyObject *items[3] = {frame, ts, ref};
            int failed = append_tuple(streams, 3, items);
            Py_DECREF(ref);
            if (failed < 0)
                return -1;
        }
    }
    return 0;
}

/* A frame the decapsulator deferred (an IP fragment): the packet decoders' partials first when
 * they were fed since their last flush, then the frame, whole. */
static int defer_frame(PyObject *const *loop, int *fed, PyObject *out, PyObject *frame,
                       PyObject *ts, const unsigned char *buf, Py_ssize_t start, Py_ssize_t end,
                       PyObject *orig)
{
    if (*fed) {
        PyObject *partials = PyObject_CallNoArgs(loop[L_FLUSH_PACKETS]);
        if (partials == NULL)
            return -1;
        PyObject *items[2] = {packet_flush_tag, partials};
        int failed = append_tuple(out, 2, items);
        Py_DECREF(partials);
        if (failed < 0)
            return -1;
        *fed = 0;
    }
    PyObject *data = PyBytes_FromStringAndSize((const char *)buf + start, end - start);
    if (data == NULL)
        return -1;
    PyObject *items[5] = {deferred_tag, frame, ts, data, orig};
    int failed = append_tuple(out, 5, items);
    Py_DECREF(data);
    return failed;
}

/* the frame's segments: a new reference (a list), or NULL with an exception set. The
 * decapsulator's compiled hot path (`Decapsulator.compiled_parts()`) first, where there is one;
 * what it gives None for goes to `decode_at`. */
static PyObject *decode_frame(PyObject *const *loop, PyObject *buf_obj, Py_ssize_t start,
                              Py_ssize_t end, PyObject *ts, PyObject *orig, unsigned long orig_n,
                              long linktype)
{
    PyObject *compiled = loop[L_COMPILED_DECAP];
    if (compiled != Py_None && linktype == 1 && end - start >= MIN_ETHERNET_FAST) {
        Py_ssize_t captured = end - start, rest = PyTuple_GET_SIZE(compiled) - 1;
        PyObject *args[4 + MAX_COMPILED_REST] = {
            buf_obj, PyLong_FromSsize_t(start), PyLong_FromSsize_t(end),
            (Py_ssize_t)orig_n > captured ? Py_NewRef(orig) : PyLong_FromSsize_t(captured)};
        for (Py_ssize_t i = 0; i < rest; i++)
            args[4 + i] = PyTuple_GET_ITEM(compiled, 1 + i);
        PyObject *segments = NULL;
        if (args[1] && args[2] && args[3])
            segments = PyObject_Vectorcall(PyTuple_GET_ITEM(compiled, 0), args, 4 + rest, NULL);
        Py_XDECREF(args[1]);
        Py_XDECREF(args[2]);
        Py_XDECREF(args[3]);
        if (segments != Py_None)
            return segments; /* (or NULL: an error) */
        Py_DECREF(segments); /* None: the long way */
    }
    PyObject *args[6] = {loop[L_LINKTYPE], buf_obj, PyLong_FromSsize_t(start),
                         PyLong_FromSsize_t(end), ts, orig};
    PyObject *segments = NULL;
    if (args[2] && args[3])
        segments = PyObject_Vectorcall(loop[L_DECODE_AT], args, 6, NULL);
    Py_XDECREF(args[2]);
    Py_XDECREF(args[3]);
    return segments;
}

/* Outside packet mode, a frame's wanted datagrams to their decoders; a frame that carries TCP
 * goes back whole, for the scanning process's reassembly */
static int datagrams_of_frame(PyObject *const *loop, PyObject *segments, PyObject *frame,
                              PyObject *ts, PyObject *out, const unsigned char *buf,
                              Py_ssize_t start, Py_ssize_t end, PyObject *orig)
{
    Py_ssize_t count = PyList_GET_SIZE(segments);
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *seg = PyList_GET_ITEM(segments, k);
        if (!PyTuple_Check(seg) || PyTuple_GET_SIZE(seg) < S_FIELDS) {
            PyErr_SetString(PyExc_TypeError, "the decapsulator gave something else than a Segment");
            return -1;
        }
        if (is_text(PyTuple_GET_ITEM(seg, S_TRANSPORT), str_tcp)) {
            int not_fed = 0;
            return defer_frame(loop, &not_fed, out, frame, ts, buf, start, end, orig);
        }
        if (PyErr_Occurred())
            return -1;
    }
    PyObject *decoders = loop[L_DECODERS];
    int single = PyList_Check(decoders) && PyList_GET_SIZE(decoders) == 1;
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *seg = PyList_GET_ITEM(segments, k);
        if (single) {
            PyObject *args[3] = {frame, ts, seg};
            if (decoded_to(out, zero_index, PyList_GET_ITEM(decoders, 0), args) < 0)
                return -1;
        } else if (to_datagram_decoders(loop, seg, frame, ts, out) < 0) {
            return -1;
        }
    }
    return 0;
}

static PyObject *span_loop(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (twin_arguments(nargs, 7, frame_deferred,
                       "span_loop(loop, buf, base, count, first_frame, out, streams)") < 0)
        return NULL;
    PyObject *loop_obj = args[0], *buf_obj = args[1], *out = args[5], *streams = args[6];
    if (!PyTuple_Check(loop_obj) || PyTuple_GET_SIZE(loop_obj) != L_FIELDS
        || !PyBytes_CheckExact(buf_obj) || !PyList_CheckExact(out)
        || !PyList_CheckExact(streams)) {
        PyErr_SetString(PyExc_TypeError, "span_loop(SpanLoop, bytes, int, int, int, list, list)");
        return NULL;
    }
    PyObject *const *loop = &PyTuple_GET_ITEM(loop_obj, 0);
    long long base = PyLong_AsLongLong(args[2]), count = PyLong_AsLongLong(args[3]);
    long long frame_n = PyLong_AsLongLong(args[4]) - 1;
    int packets = PyObject_IsTrue(loop[L_PACKETS]);
    int little = PyObject_IsTrue(loop[L_LITTLE]);
    double scale = PyFloat_AsDouble(loop[L_SCALE]);
    int nanos = scale == 1e-9; /* whole microseconds, rounded from the integer fraction */
    long linktype = PyLong_AsLong(loop[L_LINKTYPE]);
    if (PyErr_Occurred())
        return NULL;
    PyObject *compiled = loop[L_COMPILED_DECAP];
    if (compiled != Py_None
        && (!PyTuple_Check(compiled) || PyTuple_GET_SIZE(compiled) < 1
            || PyTuple_GET_SIZE(compiled) > 1 + MAX_COMPILED_REST)) {
        PyErr_SetString(PyExc_TypeError, "compiled_decap is (function, its other arguments)");
        return NULL;
    }
    /* the stream decoders' interest (`TcpInterest`): any port, or these ports */
    int any_port = 0;
    PyObject *ports = NULL;
    if (loop[L_STREAMS] != Py_None) {
        PyObject *any = PyObject_GetAttr(loop[L_STREAMS], str_any_port);
        any_port = any == NULL ? -1 : PyObject_IsTrue(any);
        Py_XDECREF(any);
        ports = PyObject_GetAttr(loop[L_STREAMS], str_ports);
        if (any_port < 0 || ports == NULL || !PyAnySet_Check(ports)) {
            Py_XDECREF(ports);
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_TypeError, "the stream interest's ports must be a set");
            return NULL;
        }
    }
    const unsigned char *buf = (const unsigned char *)PyBytes_AS_STRING(buf_obj);
    Py_ssize_t size = PyBytes_GET_SIZE(buf_obj), pos = 0;
    double first = INFINITY, last = -INFINITY;
    long long total = 0;
    int fed = 0; /* packet decoders fed since their last flush */
    for (long long i = 0; i < count; i++) {
        if (size - pos < 16) {
            PyErr_SetString(PyExc_ValueError, "a record header past the span's end");
            goto fail;
        }
        const unsigned char *header = buf + pos;
        unsigned long sec = u32(header, little), frac = u32(header + 4, little);
        unsigned long incl = u32(header + 8, little), orig_n = u32(header + 12, little);
        Py_ssize_t start = pos + 16;
        if ((unsigned long long)incl > (unsigned long long)(size - start)) {
            PyErr_SetString(PyExc_ValueError, "a record past the span's end");
            goto fail;
        }
        pos = start + (Py_ssize_t)incl;
        frame_n += 1;
        double ts_n = nanos ? (double)sec + rint((double)frac / 1000.0) * 1e-6
                            : (double)sec + (double)frac * scale; /* (reader.NANOSECONDS) */
        total += orig_n;
        if (ts_n < first)
            first = ts_n;
        if (ts_n > last)
            last = ts_n;
        PyObject *frame = PyLong_FromLongLong(frame_n), *ts = PyFloat_FromDouble(ts_n);
        PyObject *orig = PyLong_FromUnsignedLong(orig_n), *segments = NULL;
        int failed = frame == NULL || ts == NULL || orig == NULL;
        if (!failed) {
            segments = decode_frame(loop, buf_obj, start, pos, ts, orig, orig_n, linktype);
            if (segments == NULL) {
                if (PyErr_ExceptionMatches(frame_deferred)) {
                    PyErr_Clear();
                    failed = defer_frame(loop, &fed, out, frame, ts, buf, start, pos, orig) < 0;
                } else {
                    failed = 1;
                }
            } else if (!PyList_Check(segments)) {
                PyErr_SetString(PyExc_TypeError, "the decapsulator gave no list");
                failed = 1;
            } else if (PyList_GET_SIZE(segments) && !packets) {
                failed = datagrams_of_frame(loop, segments, frame, ts, out, buf, start, pos,
                                            orig) < 0;
            } else if (PyList_GET_SIZE(segments)) {
                fed = 1;
                for (Py_ssize_t k = 0; k < PyList_GET_SIZE(segments) && !failed; k++)
                    failed = route_segment(loop, PyList_GET_ITEM(segments, k), frame, ts, out,
                                           streams, buf_obj, buf, start, pos, base, any_port,
                                           ports) < 0;
            }
        }
        Py_XDECREF(segments);
        Py_XDECREF(frame);
        Py_XDECREF(ts);
        Py_XDECREF(orig);
        if (failed)
            goto fail;
    }
    Py_XDECREF(ports);
    return Py_BuildValue("(Ldd)", total, first, last);
fail:
    Py_XDECREF(ports);
    return NULL;
}

static PyObject *setup(PyObject *module, PyObject *args)
{
    PyObject *deferred_class, *reference_function;
    Py_ssize_t threshold, min_fast, stream_fields;
    long deferred, tcp_segment, packet_flush;
    if (!PyArg_ParseTuple(args, "OOnlllnn:setup", &deferred_class, &reference_function,
                          &threshold, &deferred, &tcp_segment, &packet_flush, &min_fast,
                          &stream_fields))
        return NULL;
    if (!PyExceptionClass_Check(deferred_class) || !PyCallable_Check(reference_function)) {
        PyErr_SetString(PyExc_TypeError, "setup(exception class, callable, int, ...)");
        return NULL;
    }
    if (min_fast != MIN_ETHERNET_FAST) {
        PyErr_Format(PyExc_ValueError, "decap.MIN_ETHERNET_FAST is %zd here, %d in _parallel.c",
                     min_fast, MIN_ETHERNET_FAST);
        return NULL;
    }
    if (stream_fields != S_STREAM_FIELDS) {
        PyErr_Format(PyExc_ValueError, "streamwork.STREAM_FIELDS is %zd here, %d in _parallel.c",
                     stream_fields, S_STREAM_FIELDS);
        return NULL;
    }
    PyObject *tags[3] = {PyLong_FromLong(deferred), PyLong_FromLong(tcp_segment),
                         PyLong_FromLong(packet_flush)};
    if (!tags[0] || !tags[1] || !tags[2]) {
        Py_XDECREF(tags[0]);
        Py_XDECREF(tags[1]);
        Py_XDECREF(tags[2]);
        return NULL;
    }
    Py_XSETREF(deferred_tag, tags[0]);
    Py_XSETREF(tcp_segment_tag, tags[1]);
    Py_XSETREF(packet_flush_tag, tags[2]);
    Py_XSETREF(frame_deferred, Py_NewRef(deferred_class));
    Py_XSETREF(by_reference, Py_NewRef(reference_function));
    min_referenced = threshold;
    Py_RETURN_NONE;
}

/* whether `payload` matches one of the signatures `encoded` holds (`scan.encode_signatures`):
 * 1, 0, or -1 with an exception set */
static int signature_matches(PyObject *encoded, PyObject *payload)
{
    Py_buffer view;
    if (PyObject_GetBuffer(payload, &view, PyBUF_SIMPLE) < 0)
        return -1;
    const unsigned char *data = view.buf, *at = (const unsigned char *)PyBytes_AS_STRING(encoded);
    const unsigned char *end = at + PyBytes_GET_SIZE(encoded);
    int found = 0;
    while (!found && at + 3 <= end) {
        Py_ssize_t min_length = at[0] | at[1] << 8, tests = at[2];
        at += 3;
        int holds = view.len >= min_length && at + 4 * tests <= end;
        for (Py_ssize_t i = 0; i < tests && at + 4 <= end; i++, at += 4) {
            Py_ssize_t offset = at[0] | at[1] << 8;
            if (holds && (offset >= view.len || (data[offset] & at[2]) != at[3]))
                holds = 0;
        }
        found = holds;
    }
    PyBuffer_Release(&view);
    return found;
}

/* whether one check (ports, encoded signatures, test or None, scan) wants a datagram: its
 * `test(sport, dport, payload)` when the module has a test of its own, else either port in its
 * ports or its signatures matching the payload; 1, 0, or -1 with an exception set */
static int check_wants(PyObject *check, PyObject *const *args)
{
    PyObject *test = PyTuple_GET_ITEM(check, 2);
    if (test != Py_None) {
        PyObject *answer = PyObject_Vectorcall(test, args, 3, NULL);
        int wants = answer == NULL ? -1 : PyObject_IsTrue(answer);
        Py_XDECREF(answer);
        return wants;
    }
    PyObject *ports = PyTuple_GET_ITEM(check, 0), *signatures = PyTuple_GET_ITEM(check, 1);
    int wants = PySequence_Contains(ports, args[0]);
    if (wants == 0)
        wants = PySequence_Contains(ports, args[1]);
    if (wants == 0 && PyBytes_GET_SIZE(signatures))
        wants = signature_matches(signatures, args[2]);
    return wants;
}

/* `UdpDispatch.python_for_datagram`, compiled: the scans (in order) whose check wants the
 * datagram */
static PyObject *datagram_targets(PyObject *checks, PyObject *const *args, Py_ssize_t nargs)
{
    if (twin_arguments(nargs, 3, str_udp, "for_datagram(sport, dport, payload)") < 0)
        return NULL;
    PyObject *targets = PyList_New(0);
    for (Py_ssize_t i = 0; targets != NULL && i < PyTuple_GET_SIZE(checks); i++) {
        PyObject *check = PyTuple_GET_ITEM(checks, i);
        int wants = check_wants(check, args);
        if (wants < 0 || (wants && PyList_Append(targets, PyTuple_GET_ITEM(check, 3)) < 0))
            Py_CLEAR(targets);
    }
    return targets;
}

/* `UdpDispatch._any_wants`, compiled: whether any check wants the datagram */
static PyObject *any_wants(PyObject *checks, PyObject *const *args, Py_ssize_t nargs)
{
    if (twin_arguments(nargs, 3, str_udp, "wanted(sport, dport, payload)") < 0)
        return NULL;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(checks); i++) {
        int wants = check_wants(PyTuple_GET_ITEM(checks, i), args);
        if (wants < 0)
            return NULL;
        if (wants)
            Py_RETURN_TRUE;
    }
    Py_RETURN_FALSE;
}

static PyMethodDef datagram_targets_def = {
    "for_datagram", (PyCFunction)(void (*)(void))datagram_targets, METH_FASTCALL,
    "for_datagram(sport, dport, payload): UdpDispatch.python_for_datagram, compiled",
};

static PyMethodDef any_wants_def = {
    "wanted", (PyCFunction)(void (*)(void))any_wants, METH_FASTCALL,
    "wanted(sport, dport, payload): UdpDispatch._any_wants, compiled",
};

/* the checks, each (ports, encoded signatures, test or None, scan), checked; NULL with an
 * exception set when one is of another shape */
static PyObject *checked(PyObject *checks)
{
    if (!PyTuple_Check(checks)) {
        PyErr_SetString(PyExc_TypeError, "a tuple of (ports, signatures, test, scan)");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(checks); i++) {
        PyObject *check = PyTuple_GET_ITEM(checks, i);
        if (!PyTuple_Check(check) || PyTuple_GET_SIZE(check) != 4
            || !PyBytes_Check(PyTuple_GET_ITEM(check, 1))
            || (PyTuple_GET_ITEM(check, 2) != Py_None
                && !PyCallable_Check(PyTuple_GET_ITEM(check, 2)))) {
            PyErr_SetString(PyExc_TypeError, "a check is (ports, encoded signatures (bytes), "
                                             "test or None, scan)");
            return NULL;
        }
    }
    return checks;
}

static PyObject *bind_dispatch(PyObject *module, PyObject *checks)
{
    if (checked(checks) == NULL)
        return NULL;
    return twin_bound_function(module, &datagram_targets_def, checks);
}

static PyObject *bind_wanted(PyObject *module, PyObject *checks)
{
    if (checked(checks) == NULL)
        return NULL;
    return twin_bound_function(module, &any_wants_def, checks);
}

/* `parallel.python_hand_items(items, handlers, special)`, compiled: each item (a tuple whose
 * first element is its kind) to `handlers[kind](*item[1:])`, or to `special(item)` when its
 * kind is negative; an item of another shape goes through `fallback` (the Python) alone */
static PyObject *hand_items(PyObject *fallback, PyObject *const *args, Py_ssize_t nargs)
{
    if (twin_arguments(nargs, 3, str_udp, "hand_items(items, handlers, special)") < 0)
        return NULL;
    PyObject *items = args[0], *handlers = args[1], *special = args[2];
    if (!PyList_CheckExact(items) || !PyList_CheckExact(handlers))
        return PyObject_Vectorcall(fallback, args, 3, NULL);
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
        PyObject *item = Py_NewRef(PyList_GET_ITEM(items, i)), *result;
        enum { TO_HANDLER, TO_SPECIAL, TO_PYTHON } route = TO_PYTHON;
        long kind = 0;
        if (PyTuple_CheckExact(item) && PyTuple_GET_SIZE(item) > 0
            && PyLong_CheckExact(PyTuple_GET_ITEM(item, 0))) {
            int overflow;
            kind = PyLong_AsLongAndOverflow(PyTuple_GET_ITEM(item, 0), &overflow);
            if (overflow < 0 || (!overflow && kind < 0))
                route = TO_SPECIAL;
            else if (!overflow && kind < PyList_GET_SIZE(handlers))
                route = TO_HANDLER;
            /* (else an index no list has: the Python raises its IndexError) */
        }
        if (route == TO_HANDLER) {
            PyObject *handler = Py_NewRef(PyList_GET_ITEM(handlers, kind));
            result = PyObject_Vectorcall(handler, &PyTuple_GET_ITEM(item, 1),
                                         PyTuple_GET_SIZE(item) - 1, NULL);
            Py_DECREF(handler);
        } else if (route == TO_SPECIAL) {
            result = PyObject_CallOneArg(special, item);
        } else {
            PyObject *one = PyList_New(1);
            if (one != NULL)
                PyList_SET_ITEM(one, 0, Py_NewRef(item));
            PyObject *call[3] = {one, handlers, special};
            result = one == NULL ? NULL : PyObject_Vectorcall(fallback, call, 3, NULL);
            Py_XDECREF(one);
        }
        Py_DECREF(item);
        if (result == NULL)
            return NULL;
        Py_DECREF(result);
    }
    Py_RETURN_NONE;
}

static PyMethodDef hand_items_def = {
    "hand_items", (PyCFunction)(void (*)(void))hand_items, METH_FASTCALL,
    "hand_items(items, handlers, special): parallel.python_hand_items, compiled",
};

static PyObject *bind_hand_items(PyObject *module, PyObject *fallback)
{
    if (!PyCallable_Check(fallback)) {
        PyErr_SetString(PyExc_TypeError, "bind_hand_items(python_hand_items)");
        return NULL;
    }
    return twin_bound_function(module, &hand_items_def, fallback);
}

/* ---- a span's stream segments as records (`mcpcap/core/streampack.py`, whose layout this
 * follows: native byte order, no padding; tests/core/test_streampack_compiled.py holds the two
 * to the same records and the same walks) */
enum { K_INLINE, K_REFERENCE, K_ODD };
enum { HEAD_SIZE = 39, INLINE_LENGTH_SIZE = 4, PLACE_SIZE = 12, ODD_SIZE = 5 };
#define U16_MAX 0xFFFFULL
#define U32_MAX 0xFFFFFFFFULL
#define U64_MAX 0xFFFFFFFFFFFFFFFFULL
static const char past_end[] = "a packed stream record runs past the end of its span";

/* a record's fixed part */
typedef struct {
    unsigned char kind;
    uint16_t flags, sport, dport;
    uint32_t src, dst, seq, ack;
    uint64_t frame;
    double ts;
} Head;

static void put(unsigned char **at, const void *value, size_t size)
{
    memcpy(*at, value, size);
    *at += size;
}

static void take(const unsigned char **at, void *value, size_t size)
{
    memcpy(value, *at, size);
    *at += size;
}

/* whether `value` is an int (exactly) within 0..bound; its value then in *out */
static int bounded(PyObject *value, unsigned long long bound, unsigned long long *out)
{
    if (!PyLong_CheckExact(value))
        return 0;
    unsigned long long number = PyLong_AsUnsignedLongLong(value);
    if (number == (unsigned long long)-1 && PyErr_Occurred()) {
        PyErr_Clear(); /* negative, or too large: a value no record holds */
        return 0;
    }
    *out = number;
    return number <= bound;
}

/* Growing bytes for the records (freed by the caller). 0, or -1 with MemoryError. */
typedef struct {
    unsigned char *data;
    size_t used, size;
} Buffer;

static int reserve(Buffer *buffer, size_t more)
{
    if (buffer->used + more <= buffer->size)
        return 0;
    size_t size = buffer->size ? buffer->size : 1 << 16;
    while (size < buffer->used + more)
        size *= 2;
    unsigned char *data = PyMem_Realloc(buffer->data, size);
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    buffer->data = data;
    buffer->size = size;
    return 0;
}

/* an address's index in the span's table (`addresses`: str -> int, in order): -1 on error */
static long long address_index(PyObject *addresses, PyObject *address)
{
    PyObject *index = PyDict_GetItemWithError(addresses, address); /* (borrowed) */
    if (index != NULL)
        return PyLong_AsLongLong(index);
    if (PyErr_Occurred())
        return -1;
    index = PyLong_FromSsize_t(PyDict_GET_SIZE(addresses));
    if (index == NULL || PyDict_SetItem(addresses, address, index) < 0) {
        Py_XDECREF(index);
        return -1;
    }
    long long value = PyLong_AsLongLong(index);
    Py_DECREF(index);
    return value;
}

/* `streampack._record`: 1 when `item` went into `buffer` as a record, 0 when it is an ODD one,
 * -1 on error */
static int pack_record(PyObject *item, PyObject *addresses, Buffer *buffer)
{
    if (!PyTuple_CheckExact(item) || PyTuple_GET_SIZE(item) != 3)
        return 0;
    PyObject *fields = PyTuple_GET_ITEM(item, 2), *ts = PyTuple_GET_ITEM(item, 1);
    if (!PyTuple_CheckExact(fields) || PyTuple_GET_SIZE(fields) != S_STREAM_FIELDS)
        return 0;
    PyObject *transport = PyTuple_GET_ITEM(fields, S_TRANSPORT);
    PyObject *src = PyTuple_GET_ITEM(fields, S_SRC), *dst = PyTuple_GET_ITEM(fields, S_DST);
    PyObject *payload = PyTuple_GET_ITEM(fields, S_PAYLOAD);
    unsigned long long sport, dport, flags, seq, ack, frame, offset = 0, length;
    if (!PyUnicode_CheckExact(transport) || !is_text(transport, str_tcp)
        || !PyUnicode_CheckExact(src) || !PyUnicode_CheckExact(dst)
        || !bounded(PyTuple_GET_ITEM(fields, S_SPORT), U16_MAX, &sport)
        || !bounded(PyTuple_GET_ITEM(fields, S_DPORT), U16_MAX, &dport)
        || !bounded(PyTuple_GET_ITEM(fields, S_FLAGS), U16_MAX, &flags)
        || !bounded(PyTuple_GET_ITEM(fields, S_FLAGS - 1), U32_MAX, &seq)
        || !bounded(PyTuple_GET_ITEM(fields, S_FLAGS + 1), U32_MAX, &ack)
        || !bounded(PyTuple_GET_ITEM(item, 0), U64_MAX, &frame) || !PyFloat_CheckExact(ts))
        return 0;
    unsigned char kind;
    if (PyBytes_CheckExact(payload) && (unsigned long long)PyBytes_GET_SIZE(payload) <= U32_MAX) {
        kind = K_INLINE;
        length = (unsigned long long)PyBytes_GET_SIZE(payload);
    } else if (PyTuple_CheckExact(payload) && PyTuple_GET_SIZE(payload) == 2
               && bounded(PyTuple_GET_ITEM(payload, 0), U64_MAX, &offset)
               && bounded(PyTuple_GET_ITEM(payload, 1), U32_MAX, &length)) {
        kind = K_REFERENCE;
    } else {
        return 0;
    }
    long long src_index = address_index(addresses, src);
    long long dst_index = src_index < 0 ? -1 : address_index(addresses, dst);
    if (dst_index < 0)
        return -1;
    size_t tail = kind == K_INLINE ? INLINE_LENGTH_SIZE + (size_t)length : PLACE_SIZE;
    if (reserve(buffer, HEAD_SIZE + tail) < 0)
        return -1;
    Head head = {kind, (uint16_t)flags, (uint16_t)sport, (uint16_t)dport, (uint32_t)src_index,
                 (uint32_t)dst_index, (uint32_t)seq, (uint32_t)ack, frame,
                 PyFloat_AS_DOUBLE(ts)};
    unsigned char *at = buffer->data + buffer->used;
    put(&at, &head.kind, 1);
    put(&at, &head.flags, 2);
    put(&at, &head.sport, 2);
    put(&at, &head.dport, 2);
    put(&at, &head.src, 4);
    put(&at, &head.dst, 4);
    put(&at, &head.seq, 4);
    put(&at, &head.ack, 4);
    put(&at, &head.frame, 8);
    put(&at, &head.ts, 8);
    if (kind == K_INLINE) {
        uint32_t size = (uint32_t)length;
        put(&at, &size, 4);
        put(&at, PyBytes_AS_STRING(payload), size);
    } else {
        uint64_t place = offset;
        uint32_t size = (uint32_t)length;
        put(&at, &place, 8);
        put(&at, &size, 4);
    }
    buffer->used = (size_t)(at - buffer->data);
    return 1;
}

/* `streampack.pack`, compiled: the same bytes */
static PyObject *pack_stream_items(PyObject *module, PyObject *items)
{
    if (!PyList_Check(items)) {
        PyErr_SetString(PyExc_TypeError, "pack_stream_items(items): a list");
        return NULL;
    }
    Buffer buffer = {NULL, 0, 0};
    PyObject *addresses = PyDict_New(), *odd = PyList_New(0), *result = NULL;
    if (addresses == NULL || odd == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
        PyObject *item = PyList_GET_ITEM(items, i);
        int packed = pack_record(item, addresses, &buffer);
        if (packed < 0)
            goto done;
        if (packed)
            continue;
        uint32_t index = (uint32_t)PyList_GET_SIZE(odd);
        if (reserve(&buffer, ODD_SIZE) < 0 || PyList_Append(odd, item) < 0)
            goto done;
        buffer.data[buffer.used] = K_ODD;
        memcpy(buffer.data + buffer.used + 1, &index, 4);
        buffer.used += ODD_SIZE;
    }
    PyObject *parts[3] = {PyDict_Keys(addresses), /* in the order met: their indices */
                          PyBytes_FromStringAndSize((const char *)buffer.data, buffer.used), odd};
    odd = NULL;
    PyObject *whole = twin_tuple_taking(3, parts);
    if (whole != NULL)
        result = PyMarshal_WriteObjectToString(whole, Py_MARSHAL_VERSION);
    Py_XDECREF(whole);
done:
    PyMem_Free(buffer.data);
    Py_XDECREF(addresses);
    Py_XDECREF(odd);
    return result;
}

/* The record at `pos` of `records` (`size` bytes): its kind, and for INLINE and REFERENCE its
 * head and where its payload part starts; for ODD its index. The position after it, or -1
 * with ValueError. */
static Py_ssize_t read_record(const unsigned char *records, Py_ssize_t size, Py_ssize_t pos,
                              Head *head, const unsigned char **tail, uint32_t *odd_index)
{
    if (pos < 0 || pos >= size) {
        PyErr_SetString(PyExc_ValueError, past_end);
        return -1;
    }
    head->kind = records[pos];
    if (head->kind > K_ODD) {
        PyErr_Format(PyExc_ValueError, "a packed stream record of an unknown kind (%d)",
                     (int)head->kind);
        return -1;
    }
    const unsigned char *at = records + pos + 1;
    Py_ssize_t need = head->kind == K_ODD ? ODD_SIZE : HEAD_SIZE;
    if (size - pos < need) {
        PyErr_SetString(PyExc_ValueError, past_end);
        return -1;
    }
    if (head->kind == K_ODD) {
        take(&at, odd_index, 4);
        return pos + ODD_SIZE;
    }
    take(&at, &head->flags, 2);
    take(&at, &head->sport, 2);
    take(&at, &head->dport, 2);
    take(&at, &head->src, 4);
    take(&at, &head->dst, 4);
    take(&at, &head->seq, 4);
    take(&at, &head->ack, 4);
    take(&at, &head->frame, 8);
    take(&at, &head->ts, 8);
    *tail = at;
    Py_ssize_t after = pos + HEAD_SIZE;
    if (head->kind == K_REFERENCE) {
        after += PLACE_SIZE;
    } else {
        uint32_t length;
        if (size - after < INLINE_LENGTH_SIZE) {
            PyErr_SetString(PyExc_ValueError, past_end);
            return -1;
        }
        memcpy(&length, at, 4);
        after += INLINE_LENGTH_SIZE + (Py_ssize_t)length;
    }
    if (after > size) {
        PyErr_SetString(PyExc_ValueError, past_end);
        return -1;
    }
    return after;
}

/* the arguments `records, addresses, odd, pos` of a walk over records: 0, or -1 */
static int record_arguments(PyObject *const *args, const unsigned char **records,
                            Py_ssize_t *size, Py_ssize_t *pos)
{
    if (!PyBytes_CheckExact(args[0]) || !PyList_CheckExact(args[1])
        || !PyList_CheckExact(args[2])) {
        PyErr_SetString(PyExc_TypeError, "(records: bytes, addresses: list, odd: list, pos)");
        return -1;
    }
    *records = (const unsigned char *)PyBytes_AS_STRING(args[0]);
    *size = PyBytes_GET_SIZE(args[0]);
    *pos = PyLong_AsSsize_t(args[3]);
    return *pos == -1 && PyErr_Occurred() ? -1 : 0;
}

/* `addresses[index]` (a new reference), or NULL with IndexError */
static PyObject *address_at(PyObject *addresses, uint32_t index)
{
    if ((Py_ssize_t)index >= PyList_GET_SIZE(addresses)) {
        PyErr_SetString(PyExc_IndexError, "list index out of range");
        return NULL;
    }
    return Py_NewRef(PyList_GET_ITEM(addresses, index));
}

/* the item of an INLINE or REFERENCE record (`head`, its payload part at `tail`, `length`
 * bytes for INLINE): a new reference, or NULL */
static PyObject *record_item(const Head *head, const unsigned char *tail, Py_ssize_t length,
                             PyObject *addresses)
{
    PyObject *payload;
    if (head->kind == K_INLINE) {
        payload = PyBytes_FromStringAndSize((const char *)tail + INLINE_LENGTH_SIZE, length);
    } else {
        uint64_t offset;
        uint32_t size;
        memcpy(&offset, tail, 8);
        memcpy(&size, tail + 8, 4);
        PyObject *place[2] = {PyLong_FromUnsignedLongLong(offset), PyLong_FromUnsignedLong(size)};
        payload = twin_tuple_taking(2, place);
    }
    PyObject *fields[S_STREAM_FIELDS] = {
        Py_NewRef(str_tcp), address_at(addresses, head->src), PyLong_FromLong(head->sport),
        address_at(addresses, head->dst), PyLong_FromLong(head->dport), payload,
        PyLong_FromUnsignedLong(head->seq), PyLong_FromLong(head->flags),
        PyLong_FromUnsignedLong(head->ack),
    };
    PyObject *item[3] = {PyLong_FromUnsignedLongLong(head->frame), PyFloat_FromDouble(head->ts),
                         twin_tuple_taking(S_STREAM_FIELDS, fields)};
    return twin_tuple_taking(3, item);
}

/* `streampack.python_record_at(records, addresses, odd, pos)`, compiled */
static PyObject *stream_record_at(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    const unsigned char *records, *tail = NULL;
    Py_ssize_t size, pos;
    Head head;
    uint32_t odd_index = 0;
    if (twin_arguments(nargs, 4, str_tcp, "stream_record_at(records, addresses, odd, pos)") < 0
        || record_arguments(args, &records, &size, &pos) < 0)
        return NULL;
    Py_ssize_t after = read_record(records, size, pos, &head, &tail, &odd_index);
    if (after < 0)
        return NULL;
    PyObject *item;
    if (head.kind == K_ODD) {
        if ((Py_ssize_t)odd_index >= PyList_GET_SIZE(args[2])) {
            PyErr_SetString(PyExc_IndexError, "list index out of range");
            return NULL;
        }
        item = Py_NewRef(PyList_GET_ITEM(args[2], odd_index));
    } else {
        Py_ssize_t length = after - (pos + HEAD_SIZE + INLINE_LENGTH_SIZE); /* (INLINE's) */
        item = record_item(&head, tail, length, args[1]);
    }
    PyObject *result[2] = {item, PyLong_FromSsize_t(after)};
    return twin_tuple_taking(2, result);
}

/* whether two records are of one connection: the same two ends, either way */
static int same_connection(const Head *a, const Head *b)
{
    return (a->src == b->src && a->sport == b->sport && a->dst == b->dst && a->dport == b->dport)
           || (a->src == b->dst && a->sport == b->dport && a->dst == b->src
               && a->dport == b->sport);
}

/* `drops(source, destination)` of a record without SYN, over the reassembler's connection
 * table: 1 when its connection was released (then moved to the table's recent end), 0 when not,
 * -1 with an exception set. The key is the Python's, (smaller end, larger end), each end
 * (address, port): the ends compare as the tuples do, address first. */
static int dropped_here(PyObject *connections, PyObject *addresses, const Head *head)
{
    PyObject *src = address_at(addresses, head->src), *dst = address_at(addresses, head->dst);
    PyObject *sport = PyLong_FromLong(head->sport), *dport = PyLong_FromLong(head->dport);
    PyObject *a = NULL, *b = NULL, *key = NULL;
    int released = -1;
    if (src == NULL || dst == NULL || sport == NULL || dport == NULL)
        goto done;
    a = PyTuple_Pack(2, src, sport);
    b = PyTuple_Pack(2, dst, dport);
    if (a == NULL || b == NULL)
        goto done;
    int low_first;
    if (PyUnicode_CheckExact(src) && PyUnicode_CheckExact(dst)) {
        int order = PyUnicode_Compare(src, dst); /* (two strs: no error) */
        low_first = order < 0 || (order == 0 && head->sport <= head->dport);
    } else if ((low_first = PyObject_RichCompareBool(a, b, Py_LE)) < 0)
        goto done;
    key = low_first ? PyTuple_Pack(2, a, b) : PyTuple_Pack(2, b, a);
    if (key == NULL)
        goto done;
    PyObject *conn = PyDict_GetItemWithError(connections, key); /* (borrowed) */
    released = conn == NULL ? (PyErr_Occurred() ? -1 : 0) : 0;
    if (conn != NULL) {
        PyObject *flag = PyObject_GetAttr(conn, str_released);
        released = flag == NULL ? -1 : PyObject_IsTrue(flag);
        Py_XDECREF(flag);
    }
    if (released > 0) {
        PyObject *moved = PyObject_CallMethodOneArg(connections, str_move_to_end, key);
        released = moved == NULL ? -1 : 1;
        Py_XDECREF(moved);
    }
done:
    Py_XDECREF(src);
    Py_XDECREF(dst);
    Py_XDECREF(sport);
    Py_XDECREF(dport);
    Py_XDECREF(a);
    Py_XDECREF(b);
    Py_XDECREF(key);
    return released;
}

/* `streampack.python_next_kept(records, addresses, odd, pos, drops)`, compiled over the
 * connection table of the reassembler whose `drops` it is: where the first record from `pos`
 * on that is not dropped starts, each one dropped before it taken as `drops` takes it (its
 * connection moved to the table's recent end). self is (connections, python_next_kept, drops);
 * from an ODD record on, the Python walks. */
static PyObject *next_kept(PyObject *bound, PyObject *const *args, Py_ssize_t nargs)
{
    const unsigned char *records, *tail;
    Py_ssize_t size, pos;
    Head head;
    uint32_t odd_index;
    if (twin_arguments(nargs, 4, str_move_to_end, "next_kept(records, addresses, odd, pos)") < 0
        || record_arguments(args, &records, &size, &pos) < 0)
        return NULL;
    PyObject *connections = PyTuple_GET_ITEM(bound, 0), *addresses = args[1];
    Head dropped; /* the last record dropped here: its connection is at the table's recent end */
    int any_dropped = 0;
    while (pos < size) {
        Py_ssize_t after = read_record(records, size, pos, &head, &tail, &odd_index);
        if (after < 0)
            return NULL;
        if (head.kind == K_ODD)
            goto in_python;
        if (head.flags & TCP_SYN_FLAG)
            break;
        if (any_dropped && same_connection(&head, &dropped)) {
            pos = after; /* dropped as the last one was, and moving it to the end changes nothing */
            continue;
        }
        int released = dropped_here(connections, addresses, &head);
        if (released < 0)
            return NULL;
        if (!released)
            break;
        dropped = head;
        any_dropped = 1;
        pos = after;
    }
    return PyLong_FromSsize_t(pos < size ? pos : size);
in_python: {
        PyObject *pos_obj = PyLong_FromSsize_t(pos);
        if (pos_obj == NULL)
            return NULL;
        PyObject *call[5] = {args[0], args[1], args[2], pos_obj, PyTuple_GET_ITEM(bound, 2)};
        PyObject *result = PyObject_Vectorcall(PyTuple_GET_ITEM(bound, 1), call, 5, NULL);
        Py_DECREF(pos_obj);
        return result;
    }
}

static PyMethodDef next_kept_def = {
    "next_kept", (PyCFunction)(void (*)(void))next_kept, METH_FASTCALL,
    "next_kept(records, addresses, odd, pos): streampack.python_next_kept, compiled",
};

static PyObject *bind_next_kept(PyObject *module, PyObject *args)
{
    PyObject *items[3];
    if (!PyArg_ParseTuple(args, "O!OO:bind_next_kept", &PyDict_Type, &items[0], &items[1],
                          &items[2]))
        return NULL;
    if (!PyCallable_Check(items[1]) || !PyCallable_Check(items[2])) {
        PyErr_SetString(PyExc_TypeError, "bind_next_kept(connections, python_next_kept, drops)");
        return NULL;
    }
    return twin_bound_items(module, &next_kept_def, items, 3);
}

static PyMethodDef methods[] = {
    {"bind_dispatch", bind_dispatch, METH_O,
     "bind_dispatch(checks): UdpDispatch.python_for_datagram over these checks, compiled"},
    {"bind_wanted", bind_wanted, METH_O,
     "bind_wanted(checks): UdpDispatch._any_wants over these checks, compiled"},
    {"bind_next_kept", bind_next_kept, METH_VARARGS,
     "bind_next_kept(connections, python_next_kept, drops): python_next_kept over this "
     "connection table (the reassembler's whose `drops` it is), compiled"},
    {"pack_stream_items", pack_stream_items, METH_O,
     "pack_stream_items(items): streampack.pack, compiled"},
    {"stream_record_at", (PyCFunction)(void (*)(void))stream_record_at, METH_FASTCALL,
     "stream_record_at(records, addresses, odd, pos): streampack.python_record_at, compiled"},
    {"bind_hand_items", bind_hand_items, METH_O,
     "bind_hand_items(python_hand_items): python_hand_items compiled, which it calls for an "
     "item of another shape"},
    {"setup", setup, METH_VARARGS,
     "setup(FrameDeferred, by_reference, MIN_REFERENCED, DEFERRED, TCP_SEGMENT, PACKET_FLUSH, "
     "MIN_ETHERNET_FAST, STREAM_FIELDS)"},
    {"span_loop", (PyCFunction)(void (*)(void))span_loop, METH_FASTCALL,
     "span_loop(loop, buf, base, count, first_frame, out, streams): "
     "parallel.python_span_loop, compiled"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = TWIN_MODULE_DEF(
    "mcpcap.core._parallel", "parallel.python_span_loop compiled (see fastpath.py).", methods);

PyMODINIT_FUNC PyInit__parallel(void)
{
    str_udp = PyUnicode_InternFromString("udp");
    str_tcp = PyUnicode_InternFromString("tcp");
    str_any_port = PyUnicode_InternFromString("any_port");
    str_ports = PyUnicode_InternFromString("ports");
    str_released = PyUnicode_InternFromString("released");
    str_move_to_end = PyUnicode_InternFromString("move_to_end");
    zero_index = PyLong_FromLong(0);
    if (!str_udp || !str_tcp || !str_any_port || !str_ports || !str_released || !str_move_to_end
        || !zero_index)
        return NULL;
    return twin_module(&module_def);
}
