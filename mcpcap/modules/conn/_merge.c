/* `ConnTracker.python_add_span` compiled, with the expiry after it and `scan.piece_row`, and
 * `ConnTallies.python_add` (optional: see mcpcap/core/fastpath.py).
 *
 * Most connections of a capture are one piece of UDP (a DNS query and its response): the
 * scanning process puts each new one in the tracker's table of other transports, numbers it,
 * and when it times out writes its row, made from the piece. `bind` gives a function that does
 * that for a span's pieces, in the tracker's own dicts and attributes, with the row made and
 * appended to the scan's rows (`ConnScan._emit`) here. Everything else goes to the Python
 * methods, which stay the reference: a TCP piece or one that joins a known flow
 * (`ConnTracker.add`), a full table (`_evict`), a connection that may begin before the last one
 * made (`_number`), and the row of a `Conn` (`ConnScan._emit`). The C decides before it changes
 * anything. The tallies of the written rows (`bind_tallies`) are counted here as the Python counts
 * them. tests/modules/conn/test_merge_compiled.py holds the two to each other.
 */
#include "../../core/_twin.h"

/* a piece's fields: those of mcpcap/modules/conn/flows.py (`LAYOUT` below is checked against
 * them when the Python binds this code) */
enum {
    FIRST_TS = 0, LAST_TS = 1, FIRST_FRAME = 2, LAST_FRAME = 3, FIRST_DIR = 4, FIRST_FLAGS = 5,
    PACKETS = 6, IP_BYTES = 8, DATA = 10, SERVICE = 12, VLAN = 14, OUTER = 15, UID = 16,
    COMMUNITY = 17, PIECE_SIZE = 18, NUMBER = 18,
};
#define LONE_SIZE (PIECE_SIZE + 1) /* a lone piece: its fields, then its connection's number */
#define ROW_SIZE 31                /* a conn_connections row: the id, then scan.COLUMNS */

/* what `bind` keeps (the bound tuple's items) */
enum {
    B_ATTRS, B_ADD, B_ADD_LONE, B_EVICT, B_NUMBER, B_EMIT, B_ROWS, B_FLUSH, B_BATCH, B_LIKELY,
    B_FLOW_IDS, B_OUTER_UIDS, B_ROUND, B_TIMEOUTS, B_COUNT
};
#define BOUND(i) PyTuple_GET_ITEM(bound, i)

static PyObject *s_tcp_table, *s_other_table, *s_max, *s_created, *s_last, *s_in_order,
    *s_connections, *s_last_ts;
static PyObject *str_tcp, *str_udp, *str_d, *str_dd, *str_flip_d, *str_flip_dd, *str_sf, *str_s0,
    *str_shr, *str_oth, *str_flip, *str_empty, *str_comma_format, *str_broadcast, *int_zero,
    *int_one, *int_six;

/* the tracker's attribute `name` (borrowed), or NULL with an exception set */
static PyObject *attribute(PyObject *bound, PyObject *name)
{
    PyObject *value = PyDict_GetItemWithError(BOUND(B_ATTRS), name);
    if (value == NULL && !PyErr_Occurred())
        PyErr_SetObject(PyExc_AttributeError, name);
    return value;
}

static int is_tcp(PyObject *key)
{
    if (!PyTuple_CheckExact(key) || PyTuple_GET_SIZE(key) != 5) {
        PyErr_SetString(PyExc_TypeError, "a flow key is (transport, a, a_port, b, b_port)");
        return -1;
    }
    return PyObject_RichCompareBool(PyTuple_GET_ITEM(key, 0), str_tcp, Py_EQ);
}

/* `ConnTracker._number(key, entry, ts, frame)`: a new reference, or NULL with an exception set.
 * The Python's when the connection may begin before the last one made (it then compares their
 * orders); else its steps here. */
static PyObject *number(PyObject *bound, PyObject *key, PyObject *entry)
{
    PyObject *attrs = BOUND(B_ATTRS);
    PyObject *ts = PyList_GET_ITEM(entry, FIRST_TS), *frame = PyList_GET_ITEM(entry, FIRST_FRAME);
    PyObject *last = attribute(bound, s_last), *in_order = attribute(bound, s_in_order);
    if (last == NULL || in_order == NULL)
        return NULL;
    int ordered = PyObject_IsTrue(in_order);
    if (ordered < 0)
        return NULL;
    if (last != Py_None && ordered) {
        if (!PyTuple_CheckExact(last) || PyTuple_GET_SIZE(last) != 4)
            return PyObject_CallFunctionObjArgs(BOUND(B_NUMBER), key, entry, ts, frame, NULL);
        Py_INCREF(last);  /* (held while compared: a comparison may run Python code) */
        PyObject *last_ts = PyTuple_GET_ITEM(last, 2), *last_frame = PyTuple_GET_ITEM(last, 3);
        int earlier = PyObject_RichCompareBool(ts, last_ts, Py_LT);
        if (earlier == 0) {
            earlier = PyObject_RichCompareBool(ts, last_ts, Py_EQ);
            if (earlier > 0)
                earlier = PyObject_RichCompareBool(frame, last_frame, Py_LE);
        }
        Py_DECREF(last);
        if (earlier < 0)
            return NULL;
        if (earlier)  /* not later: the Python compares the two connections' orders */
            return PyObject_CallFunctionObjArgs(BOUND(B_NUMBER), key, entry, ts, frame, NULL);
    }
    PyObject *created = attribute(bound, s_created);
    created = created == NULL ? NULL : PyNumber_Add(created, int_one);
    PyObject *made = created == NULL ? NULL : PyTuple_Pack(4, key, entry, ts, frame);
    if (made == NULL || PyDict_SetItem(attrs, s_created, created) < 0
        || PyDict_SetItem(attrs, s_last, made) < 0) {
        Py_XDECREF(made);
        Py_XDECREF(created);
        return NULL;
    }
    Py_DECREF(made);
    return created;
}

/* `ConnTracker._add_lone(key, piece)`: a new piece of another transport than TCP; 0 or -1 */
static int add_lone(PyObject *bound, PyObject *tcp, PyObject *other, PyObject *key,
                    PyObject *piece)
{
    if (!PyList_CheckExact(piece) || PyList_GET_SIZE(piece) != PIECE_SIZE) {
        PyObject *done = PyObject_CallFunctionObjArgs(BOUND(B_ADD_LONE), key, piece, NULL);
        Py_XDECREF(done);
        return done == NULL ? -1 : 0;
    }
    PyObject *most = attribute(bound, s_max);
    if (most == NULL)
        return -1;
    PyObject *active = PyLong_FromSsize_t(PyDict_GET_SIZE(tcp) + PyDict_GET_SIZE(other));
    int full = active == NULL ? -1 : PyObject_RichCompareBool(active, most, Py_GE);
    Py_XDECREF(active);
    if (full < 0)
        return -1;
    if (full) {
        PyObject *done = PyObject_CallNoArgs(BOUND(B_EVICT));
        if (done == NULL)
            return -1;
        Py_DECREF(done);
    }
    PyObject *first_ts = PyList_GET_ITEM(piece, FIRST_TS);
    int back = PyObject_RichCompareBool(PyList_GET_ITEM(piece, LAST_TS), first_ts, Py_LT);
    if (back < 0)
        return -1;
    if (back)  /* as `Conn` takes it */
        PyList_SetItem(piece, LAST_TS, Py_NewRef(first_ts));
    if (PyDict_SetItem(other, key, piece) < 0)
        return -1;
    PyObject *made = number(bound, key, piece);
    if (made == NULL)
        return -1;
    int rc = PyList_Append(piece, made);
    Py_DECREF(made);
    return rc;
}

/* `flows` `flips` for a lone piece's transport (never TCP): 1 when Zeek's port heuristics make
 * the first packet's receiver the client (never a broadcast address); -1 with an exception set */
static int flips(PyObject *bound, PyObject *key, long first)
{
    int udp = PyObject_RichCompareBool(PyTuple_GET_ITEM(key, 0), str_udp, Py_EQ);
    if (udp <= 0)
        return udp;
    int broadcast = PyObject_RichCompareBool(PyTuple_GET_ITEM(key, first == 0 ? 3 : 1),
                                             str_broadcast, Py_EQ);
    if (broadcast != 0)
        return broadcast < 0 ? -1 : 0;
    PyObject *sport = PyTuple_GET_ITEM(key, first == 0 ? 2 : 4);
    PyObject *dport = PyTuple_GET_ITEM(key, first == 0 ? 4 : 2);
    int likely = PySet_Contains(BOUND(B_LIKELY), sport);
    if (likely <= 0)
        return likely;
    int other = PySet_Contains(BOUND(B_LIKELY), dport);
    return other < 0 ? -1 : !other;
}

/* `piece_row`'s service: the first side's, joined to the other's when they differ; a new
 * reference (None too), or NULL with an exception set */
static PyObject *service_of(PyObject *service, PyObject *other)
{
    int named = PyObject_IsTrue(service);
    if (named < 0)
        return NULL;
    if (!named) {
        int other_named = PyObject_IsTrue(other);
        if (other_named < 0)
            return NULL;
        return Py_NewRef(other_named ? other : Py_None);
    }
    int other_named = PyObject_IsTrue(other);
    int differs = other_named <= 0 ? other_named : PyObject_RichCompareBool(other, service, Py_NE);
    if (differs < 0)
        return NULL;
    if (!differs)
        return Py_NewRef(service);
    int before = PyObject_RichCompareBool(other, service, Py_LT);  /* sorted((service, other)) */
    if (before < 0)
        return NULL;
    PyObject *pair = before ? PyTuple_Pack(2, other, service) : PyTuple_Pack(2, service, other);
    PyObject *joined = pair == NULL ? NULL : PyUnicode_Format(str_comma_format, pair);
    Py_XDECREF(pair);
    return joined;
}

/* the row of a lone piece whose LONE_SIZE fields are `f` (see `piece_row`) */
static PyObject *row_of_fields(PyObject *bound, PyObject *key, PyObject *const *f)
{
    long first = PyLong_AsLong(f[FIRST_DIR]);
    if (first == -1 && PyErr_Occurred())
        return NULL;
    int flipped = flips(bound, key, first);
    if (flipped < 0)
        return NULL;
    long o = first ^ flipped;
    /* the client's side and the server's, as the canonical sides 0 and 1 of the piece */
    Py_ssize_t c = o ? 1 : 0, s = 1 - c;
    PyObject *transport = PyTuple_GET_ITEM(key, 0);
    PyObject *client = PyTuple_GET_ITEM(key, o ? 3 : 1);
    PyObject *client_port = PyTuple_GET_ITEM(key, o ? 4 : 2);
    PyObject *server = PyTuple_GET_ITEM(key, o ? 1 : 3);
    PyObject *server_port = PyTuple_GET_ITEM(key, o ? 2 : 4);
    PyObject *client_packets = f[PACKETS + c], *server_packets = f[PACKETS + s];
    PyObject *history, *state;
    int udp = PyObject_RichCompareBool(transport, str_udp, Py_EQ);
    int client_sent = udp <= 0 ? udp : PyObject_IsTrue(client_packets);
    int server_sent = client_sent < 0 ? -1 : PyObject_IsTrue(server_packets);
    if (server_sent < 0)
        return NULL;
    if (udp) {  /* Zeek's D and d in the order the sides first sent */
        if (first == o)
            history = server_sent ? str_dd : str_d;
        else
            history = client_sent ? str_flip_dd : str_flip_d;
        if (client_sent)
            state = server_sent ? str_sf : str_s0;
        else
            state = server_sent ? str_shr : str_oth;
    } else {
        history = o != first ? str_flip : str_empty;
        state = str_oth;
    }
    PyObject *row = NULL, *ids = NULL, *service = NULL, *parents = NULL, *duration = NULL;
    PyObject *span = NULL, *packets = NULL, *ip_bytes = NULL, *size = NULL;
    PyObject *uid = f[UID], *community = f[COMMUNITY];
    if (community == Py_None) {
        PyObject *side = PyLong_FromLong(o);
        ids = side == NULL ? NULL
                           : PyObject_CallFunctionObjArgs(BOUND(B_FLOW_IDS), key, side, NULL);
        Py_XDECREF(side);
        if (ids == NULL)
            goto done;
        if (!PyTuple_CheckExact(ids) || PyTuple_GET_SIZE(ids) != 2) {
            PyErr_SetString(PyExc_TypeError, "flow_ids gives (uid, community_id)");
            goto done;
        }
        uid = PyTuple_GET_ITEM(ids, 0);
        community = PyTuple_GET_ITEM(ids, 1);
    }
    service = service_of(f[SERVICE], f[SERVICE + 1]);
    if (service == NULL)
        goto done;
    if (f[OUTER] == Py_None)
        parents = Py_NewRef(Py_None);
    else if ((parents = PyObject_CallOneArg(BOUND(B_OUTER_UIDS), f[OUTER])) == NULL)
        goto done;
    span = PyNumber_Subtract(f[LAST_TS], f[FIRST_TS]);
    duration = span == NULL ? NULL
                            : PyObject_CallFunctionObjArgs(BOUND(B_ROUND), span, int_six, NULL);
    packets = duration == NULL ? NULL : PyNumber_Add(client_packets, server_packets);
    ip_bytes = packets == NULL ? NULL : PyNumber_Add(f[IP_BYTES + c], f[IP_BYTES + s]);
    size = ip_bytes == NULL ? NULL : PyNumber_Add(f[DATA + c], f[DATA + s]);
    row = size == NULL ? NULL : PyTuple_New(ROW_SIZE);
    if (row == NULL)
        goto done;
    PyObject *items[ROW_SIZE] = {
        f[NUMBER], uid, f[FIRST_TS], f[LAST_TS], duration, client, client_port, server,
        server_port, transport, service, f[DATA + c], f[DATA + s], client_packets,
        server_packets, f[IP_BYTES + c], f[IP_BYTES + s], state, history, int_zero, Py_None,
        int_zero, int_zero, f[VLAN], parents, community, f[FIRST_FRAME], f[LAST_FRAME], packets,
        ip_bytes, size,
    };
    for (Py_ssize_t i = 0; i < ROW_SIZE; i++)
        PyTuple_SET_ITEM(row, i, Py_NewRef(items[i]));
done:
    Py_XDECREF(ids);
    Py_XDECREF(service);
    Py_XDECREF(parents);
    Py_XDECREF(span);
    Py_XDECREF(duration);
    Py_XDECREF(packets);
    Py_XDECREF(ip_bytes);
    Py_XDECREF(size);
    return row;
}

/* `scan.piece_row(key, piece)`: a new tuple, or NULL with an exception set. The row is made
 * from a copy of the piece's fields, as the Python unpacks them first: the Python functions it
 * calls (the flow's ids, the tunnels' uids) could change the list meanwhile. */
static PyObject *piece_row(PyObject *bound, PyObject *key, PyObject *piece)
{
    PyObject *fields = PyList_AsTuple(piece);
    if (fields == NULL)
        return NULL;
    PyObject *row = row_of_fields(bound, key, &PyTuple_GET_ITEM(fields, 0));
    Py_DECREF(fields);
    return row;
}

/* `ConnScan._emit(key, entry)`: a lone piece's row made and appended here, a `Conn`'s by the
 * Python; 0, or -1 with an exception set */
static int emit(PyObject *bound, PyObject *key, PyObject *entry)
{
    int lone = PyList_CheckExact(entry) && PyList_GET_SIZE(entry) == LONE_SIZE;
    if (lone)
        lone = is_tcp(key) == 0 ? 1 : (PyErr_Occurred() ? -1 : 0);
    if (lone < 0)
        return -1;
    if (!lone) {
        PyObject *done = PyObject_CallFunctionObjArgs(BOUND(B_EMIT), key, entry, NULL);
        Py_XDECREF(done);
        return done == NULL ? -1 : 0;
    }
    PyObject *rows = BOUND(B_ROWS);
    PyObject *row = piece_row(bound, key, entry);
    if (row == NULL)
        return -1;
    int rc = PyList_Append(rows, row);
    Py_DECREF(row);
    if (rc < 0)
        return -1;
    PyObject *length = PyLong_FromSsize_t(PyList_GET_SIZE(rows));
    int full = length == NULL ? -1 : PyObject_RichCompareBool(length, BOUND(B_BATCH), Py_GE);
    Py_XDECREF(length);
    if (full <= 0)
        return full;
    PyObject *done = PyObject_CallNoArgs(BOUND(B_FLUSH));
    Py_XDECREF(done);
    return done == NULL ? -1 : 0;
}

/* the last activity of a table entry: a list's LAST_TS or a `Conn`'s `last_ts` (new reference) */
static PyObject *last_ts(PyObject *entry)
{
    if (PyList_CheckExact(entry)) {
        if (PyList_GET_SIZE(entry) <= LAST_TS) {
            PyErr_SetString(PyExc_IndexError, "list index out of range");
            return NULL;
        }
        return Py_NewRef(PyList_GET_ITEM(entry, LAST_TS));
    }
    return PyObject_GetAttr(entry, s_last_ts);
}

/* `ConnTracker.expire(now)`; 0, or -1 with an exception set */
static int expire(PyObject *bound, PyObject *now)
{
    PyObject *names[2] = {s_tcp_table, s_other_table};
    for (int t = 0; t < 2; t++) {
        PyObject *table = attribute(bound, names[t]);
        if (table == NULL)
            return -1;
        if (!PyDict_CheckExact(table)) {
            PyErr_SetString(PyExc_TypeError, "the tracker's tables are dicts");
            return -1;
        }
        Py_INCREF(table);
        PyObject *timeout = PyTuple_GET_ITEM(BOUND(B_TIMEOUTS), t);
        PyObject *expired = PyList_New(0);
        PyObject *key, *entry;
        Py_ssize_t pos = 0;
        int rc = expired == NULL ? -1 : 0;
        while (rc == 0 && PyDict_Next(table, &pos, &key, &entry)) {
            PyObject *last = last_ts(entry);
            PyObject *idle = last == NULL ? NULL : PyNumber_Subtract(now, last);
            int active = idle == NULL ? -1 : PyObject_RichCompareBool(idle, timeout, Py_LE);
            Py_XDECREF(last);
            Py_XDECREF(idle);
            if (active < 0)
                rc = -1;
            else if (active)
                break;
            else
                rc = PyList_Append(expired, key);
        }
        if (rc == 0 && PyList_GET_SIZE(expired)) {
            PyObject *count = attribute(bound, s_connections);
            PyObject *n = PyLong_FromSsize_t(PyList_GET_SIZE(expired));
            PyObject *sum = count == NULL || n == NULL ? NULL : PyNumber_Add(count, n);
            rc = sum == NULL ? -1 : PyDict_SetItem(BOUND(B_ATTRS), s_connections, sum);
            Py_XDECREF(n);
            Py_XDECREF(sum);
        }
        for (Py_ssize_t i = 0; rc == 0 && i < PyList_GET_SIZE(expired); i++) {
            key = PyList_GET_ITEM(expired, i);
            entry = PyDict_GetItemWithError(table, key);
            if (entry == NULL) {
                if (!PyErr_Occurred())
                    PyErr_SetObject(PyExc_KeyError, key);
                rc = -1;
                break;
            }
            Py_INCREF(entry);
            rc = PyDict_DelItem(table, key);
            if (rc == 0)
                rc = emit(bound, key, entry);
            Py_DECREF(entry);
        }
        Py_XDECREF(expired);
        Py_DECREF(table);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* add_span(pieces, max_ts): `ConnTracker.python_add_span`, compiled */
static PyObject *add_span(PyObject *bound, PyObject *const *args, Py_ssize_t nargs)
{
    if (twin_arguments(nargs, 2, str_tcp, "add_span(pieces, max_ts)") < 0)
        return NULL;
    PyObject *pieces = PySequence_Fast(args[0], "add_span's pieces are a sequence");
    if (pieces == NULL)
        return NULL;
    PyObject *tcp = attribute(bound, s_tcp_table), *other = attribute(bound, s_other_table);
    int rc = tcp == NULL || other == NULL ? -1 : 0;
    if (rc == 0 && (!PyDict_CheckExact(tcp) || !PyDict_CheckExact(other))) {
        PyErr_SetString(PyExc_TypeError, "the tracker's tables are dicts");
        rc = -1;
    }
    Py_XINCREF(tcp);
    Py_XINCREF(other);
    for (Py_ssize_t i = 0; rc == 0 && i < PySequence_Fast_GET_SIZE(pieces); i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(pieces, i);
        PyObject *pair = PySequence_Fast(item, "a span's piece is (key, piece)");
        if (pair == NULL || PySequence_Fast_GET_SIZE(pair) != 2) {
            if (pair != NULL)
                PyErr_SetString(PyExc_ValueError, "a span's piece is (key, piece)");
            Py_XDECREF(pair);
            rc = -1;
            break;
        }
        PyObject *key = PySequence_Fast_GET_ITEM(pair, 0);
        PyObject *piece = PySequence_Fast_GET_ITEM(pair, 1);
        int known = is_tcp(key);
        if (known == 0)
            known = PyDict_Contains(other, key);
        if (known < 0) {
            rc = -1;
        } else if (known) {
            PyObject *done = PyObject_CallFunctionObjArgs(BOUND(B_ADD), key, piece, NULL);
            rc = done == NULL ? -1 : 0;
            Py_XDECREF(done);
        } else {
            rc = add_lone(bound, tcp, other, key, piece);
        }
        Py_DECREF(pair);
    }
    Py_XDECREF(tcp);
    Py_XDECREF(other);
    Py_DECREF(pieces);
    if (rc == 0 && args[1] != Py_None)
        rc = expire(bound, args[1]);
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef add_span_def = {
    "add_span", (PyCFunction)(void (*)(void))add_span, METH_FASTCALL,
    "add_span(pieces, max_ts): ConnTracker.python_add_span, compiled",
};

/* ConnTallies.python_add: what `bind_tallies` keeps, and the columns it reads */
enum { T_GROUPS, T_KEY_AT, T_VALUE_AT, T_COUNT };
/* tallies.KEY_COLUMNS and VALUE_COLUMNS, in order */
enum {
    K_CLIENT, K_SERVER, K_PARENTS, K_VLAN, K_TRANSPORT, K_PORT, K_SERVICE, K_STATE, KEY_COLUMNS
};
enum {
    V_PACKETS, V_IP_BYTES, V_SYN_RTT, V_RETRANSMISSIONS, V_ZERO_WINDOWS, V_MISSED, VALUE_COLUMNS
};
#define TALLY_SIZE 8

/* the indices of an index tuple into `at`; 0, or -1 with an exception set */
static int indices(PyObject *tuple, Py_ssize_t *at, Py_ssize_t n, Py_ssize_t *most)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        at[i] = PyLong_AsSsize_t(PyTuple_GET_ITEM(tuple, i));
        if (at[i] < 0) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "a column index is not negative");
            return -1;
        }
        if (at[i] > *most)
            *most = at[i];
    }
    return 0;
}

/* tally[i] += value; 0 or -1 */
static int add_at(PyObject *tally, Py_ssize_t i, PyObject *value)
{
    PyObject *sum = PyNumber_Add(PyList_GET_ITEM(tally, i), value);
    if (sum == NULL)
        return -1;
    PyList_SetItem(tally, i, sum);
    return 0;
}

/* one row into its group; 0 or -1 */
static int tally_row(PyObject *groups, PyObject *row, const Py_ssize_t *key_at,
                     const Py_ssize_t *value_at)
{
    PyObject *k[KEY_COLUMNS], *v[VALUE_COLUMNS];
    for (int i = 0; i < KEY_COLUMNS; i++)
        k[i] = PyTuple_GET_ITEM(row, key_at[i]);
    for (int i = 0; i < VALUE_COLUMNS; i++)
        v[i] = PyTuple_GET_ITEM(row, value_at[i]);
    PyObject *key = PyTuple_Pack(KEY_COLUMNS, k[K_CLIENT], k[K_SERVER],
                                 k[K_PARENTS] == Py_None ? Py_True : Py_False,
                                 k[K_VLAN] != Py_None ? Py_True : Py_False, k[K_TRANSPORT],
                                 k[K_PORT], k[K_SERVICE], k[K_STATE]);
    if (key == NULL)
        return -1;
    int retransmitted = PyObject_RichCompareBool(v[V_RETRANSMISSIONS], int_zero, Py_GT);
    PyObject *tally = retransmitted < 0 ? NULL : PyDict_GetItemWithError(groups, key);
    int rc = 0;
    if (tally == NULL) {
        if (retransmitted < 0 || PyErr_Occurred()) {
            rc = -1;
        } else {
            PyObject *handshake = v[V_SYN_RTT] != Py_None ? int_one : int_zero;
            PyObject *items[TALLY_SIZE] = {
                int_one, v[V_PACKETS], v[V_IP_BYTES], handshake, v[V_RETRANSMISSIONS],
                retransmitted ? int_one : int_zero, v[V_ZERO_WINDOWS], v[V_MISSED],
            };
            PyObject *fresh = PyList_New(TALLY_SIZE);
            for (Py_ssize_t i = 0; fresh != NULL && i < TALLY_SIZE; i++)
                PyList_SET_ITEM(fresh, i, Py_NewRef(items[i]));
            rc = fresh == NULL ? -1 : PyDict_SetItem(groups, key, fresh);
            Py_XDECREF(fresh);
        }
    } else if (!PyList_CheckExact(tally) || PyList_GET_SIZE(tally) != TALLY_SIZE) {
        PyErr_SetString(PyExc_TypeError, "a conn tally is a list of 8 numbers");
        rc = -1;
    } else {
        Py_INCREF(tally);
        rc = add_at(tally, 0, int_one);
        if (rc == 0)
            rc = add_at(tally, 1, v[V_PACKETS]);
        if (rc == 0)
            rc = add_at(tally, 2, v[V_IP_BYTES]);
        if (rc == 0 && v[V_SYN_RTT] != Py_None)
            rc = add_at(tally, 3, int_one);
        if (rc == 0)
            rc = add_at(tally, 4, v[V_RETRANSMISSIONS]);
        if (rc == 0 && retransmitted)
            rc = add_at(tally, 5, int_one);
        if (rc == 0)
            rc = add_at(tally, 6, v[V_ZERO_WINDOWS]);
        if (rc == 0)
            rc = add_at(tally, 7, v[V_MISSED]);
        Py_DECREF(tally);
    }
    Py_DECREF(key);
    return rc;
}

/* add(rows): `ConnTallies.python_add`, compiled */
static PyObject *tally_add(PyObject *bound, PyObject *const *args, Py_ssize_t nargs)
{
    if (twin_arguments(nargs, 1, str_tcp, "add(rows)") < 0)
        return NULL;
    Py_ssize_t key_at[KEY_COLUMNS], value_at[VALUE_COLUMNS], most = 0;
    if (indices(PyTuple_GET_ITEM(bound, T_KEY_AT), key_at, KEY_COLUMNS, &most) < 0
        || indices(PyTuple_GET_ITEM(bound, T_VALUE_AT), value_at, VALUE_COLUMNS, &most) < 0)
        return NULL;
    PyObject *rows = PySequence_Fast(args[0], "add's rows are a sequence");
    if (rows == NULL)
        return NULL;
    PyObject *groups = PyTuple_GET_ITEM(bound, T_GROUPS);
    int rc = 0;
    for (Py_ssize_t i = 0; rc == 0 && i < PySequence_Fast_GET_SIZE(rows); i++) {
        PyObject *row = PySequence_Fast_GET_ITEM(rows, i);
        if (!PyTuple_CheckExact(row) || PyTuple_GET_SIZE(row) <= most) {
            PyErr_SetString(PyExc_TypeError, "a conn row is a tuple of the table's columns");
            rc = -1;
        } else {
            Py_INCREF(row);  /* (held while tallied: a comparison may run Python code) */
            rc = tally_row(groups, row, key_at, value_at);
            Py_DECREF(row);
        }
    }
    Py_DECREF(rows);
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef tally_add_def = {
    "add", (PyCFunction)(void (*)(void))tally_add, METH_FASTCALL,
    "add(rows): ConnTallies.python_add, compiled",
};

static PyObject *bind_tallies(PyObject *module, PyObject *args)
{
    PyObject *items[T_COUNT];
    if (!PyArg_ParseTuple(args, "O!O!O!:bind_tallies", &PyDict_Type, &items[T_GROUPS],
                          &PyTuple_Type, &items[T_KEY_AT], &PyTuple_Type, &items[T_VALUE_AT]))
        return NULL;
    if (PyTuple_GET_SIZE(items[T_KEY_AT]) != KEY_COLUMNS
        || PyTuple_GET_SIZE(items[T_VALUE_AT]) != VALUE_COLUMNS) {
        PyErr_SetString(PyExc_TypeError, "bind_tallies(groups, the 8 key columns' indices, the "
                                         "6 value columns' indices)");
        return NULL;
    }
    return twin_bound_items(module, &tally_add_def, items, T_COUNT);
}

static PyObject *bind_tracker(PyObject *module, PyObject *args)
{
    PyObject *items[B_COUNT];
    if (!PyArg_ParseTuple(args, "O!OOOOOO!OOO!OOOO!:bind", &PyDict_Type, &items[B_ATTRS],
                          &items[B_ADD], &items[B_ADD_LONE], &items[B_EVICT], &items[B_NUMBER],
                          &items[B_EMIT], &PyList_Type, &items[B_ROWS], &items[B_FLUSH],
                          &items[B_BATCH], &PyFrozenSet_Type, &items[B_LIKELY],
                          &items[B_FLOW_IDS], &items[B_OUTER_UIDS], &items[B_ROUND],
                          &PyTuple_Type, &items[B_TIMEOUTS]))
        return NULL;
    if (PyTuple_GET_SIZE(items[B_TIMEOUTS]) != 2) {
        PyErr_SetString(PyExc_TypeError, "bind's timeouts are (TCP_TIMEOUT, OTHER_TIMEOUT)");
        return NULL;
    }
    int callables[] = {B_ADD, B_ADD_LONE, B_EVICT, B_NUMBER, B_EMIT, B_FLUSH, B_FLOW_IDS,
                       B_OUTER_UIDS, B_ROUND};
    for (size_t i = 0; i < sizeof callables / sizeof callables[0]; i++) {
        if (!PyCallable_Check(items[callables[i]])) {
            PyErr_SetString(PyExc_TypeError, "bind's methods and functions must be callable");
            return NULL;
        }
    }
    return twin_bound_items(module, &add_span_def, items, B_COUNT);
}

static PyMethodDef methods[] = {
    {"bind", bind_tracker, METH_VARARGS,
     "bind(tracker_attributes, add, add_lone, evict, number, emit, rows, flush, batch, "
     "likely_ports, flow_ids, outer_uids, round, timeouts): ConnTracker.python_add_span of that "
     "tracker, whose lone pieces' rows go to `rows` as ConnScan._emit puts them, compiled"},
    {"bind_tallies", bind_tallies, METH_VARARGS,
     "bind_tallies(groups, key_at, value_at): ConnTallies.python_add over those groups and "
     "the row's columns at those indices, compiled"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = TWIN_MODULE_DEF(
    "mcpcap.modules.conn._merge",
    "The merge of a span's pieces into connections, compiled (see tracker.py).", methods);

static PyObject *intern(const char *text)
{
    return PyUnicode_InternFromString(text);
}

PyMODINIT_FUNC PyInit__merge(void)
{
    s_tcp_table = intern("_tcp");
    s_other_table = intern("_other");
    s_max = intern("_max");
    s_created = intern("created");
    s_last = intern("_last");
    s_in_order = intern("in_order");
    s_connections = intern("connections");
    s_last_ts = intern("last_ts");
    str_tcp = intern("tcp");
    str_udp = intern("udp");
    str_d = intern("D");
    str_dd = intern("Dd");
    str_flip_d = intern("^d");
    str_flip_dd = intern("^dD");
    str_sf = intern("SF");
    str_s0 = intern("S0");
    str_shr = intern("SHR");
    str_oth = intern("OTH");
    str_flip = intern("^");
    str_empty = intern("");
    str_comma_format = intern("%s,%s");
    str_broadcast = intern("255.255.255.255");  /* (ports.BROADCAST) */
    int_zero = PyLong_FromLong(0);
    int_one = PyLong_FromLong(1);
    int_six = PyLong_FromLong(6);
    if (!s_tcp_table || !s_other_table || !s_max || !s_created || !s_last || !s_in_order
        || !s_connections || !s_last_ts || !str_tcp || !str_udp || !str_d || !str_dd
        || !str_flip_d || !str_flip_dd || !str_sf || !str_s0 || !str_shr || !str_oth || !str_flip
        || !str_empty || !str_comma_format || !str_broadcast || !int_zero || !int_one
        || !int_six)
        return NULL;
    PyObject *module = twin_module(&module_def);
    if (module == NULL)
        return NULL;
    PyObject *layout = Py_BuildValue(
        "{sisisisisisisisisisisisisisisi}", "FIRST_TS", FIRST_TS, "LAST_TS", LAST_TS,
        "FIRST_FRAME", FIRST_FRAME, "LAST_FRAME", LAST_FRAME, "FIRST_DIR", FIRST_DIR,
        "FIRST_FLAGS", FIRST_FLAGS, "PACKETS", PACKETS, "IP_BYTES", IP_BYTES, "DATA", DATA,
        "SERVICE", SERVICE, "VLAN", VLAN, "OUTER", OUTER, "UID", UID, "COMMUNITY", COMMUNITY,
        "PIECE_SIZE", PIECE_SIZE);
    if (layout == NULL || PyModule_AddObject(module, "LAYOUT", layout) < 0) {
        Py_XDECREF(layout);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
