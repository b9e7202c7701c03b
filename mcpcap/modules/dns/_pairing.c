/* Pairer.python_add (pairing.py), compiled for the two messages nearly every capture is made of:
 * a query that opens a transaction on a flow with nothing waiting under its id, and a response
 * that answers the oldest query waiting on its flow under its id. Everything else (a sweep of
 * the expired, a retransmission, a bound reached, mDNS and LLMNR, an unsolicited or duplicate
 * response) goes to the Python methods, untouched: the C decides before it changes anything.
 *
 * It works on the Pairer's own state (its dicts, its deques of `Transaction`s, its counters in
 * its attribute dict), so the Python and the C may take turns on one pairer. Comparisons and
 * arithmetic go through Python's protocols: the rows are the ones the Python makes.
 *
 * `bind_decoded` gives the scan's `on_udp_decoded` for a worker's message on the DNS ports,
 * which hands it to this `add` without a Python call between; `bind_store` gives the scan's
 * `_store_transaction`, which the pairer hands each finished transaction. */
#include "../../core/_twin.h"

/* the bound tuple's items (see `bind`) */
enum {
    B_ATTRS, B_PENDING, B_RECENT, B_PYTHON_ADD, B_ADD_QUERY, B_ADD_RESPONSE, B_EMIT,
    B_TRANSACTION, B_DEQUE, B_DROP_OLDEST, B_MULTICAST, B_PER_FLOW, B_TOTAL, B_RECENT_MAX,
    B_SWEEP, B_TIMEOUT, B_COUNT
};

/* a query's and a response's meta: (frame, ts, src, sport, dst, dport, transport, protocol) */
enum { M_FRAME, M_TS, M_SRC, M_SPORT, M_DST, M_DPORT, M_TRANSPORT, M_PROTOCOL, META_SIZE };
#define QUESTION_SIZE 5 /* a view's (query, qname, domain, qclass, qtype) */
#define REPLY_SIZE 10   /* a response view's (rcode, aa, tc, rd, ra, z, answers, ttls, ...) */
#define ROW_SIZE (12 + QUESTION_SIZE + REPLY_SIZE + 1)

static PyObject *s_seq, *s_pending_count, *s_last_sweep, *s_popleft, *s_round;
static PyObject *s_tx_seq, *s_tx_trans_id, *s_tx_view, *s_tx_meta, *s_tx_retransmissions,
    *s_tx_extra, *s_udp, *int_one, *int_six;

#define BOUND(i) PyTuple_GET_ITEM(bound, i)

/* the pairer's attribute `name` (a borrowed reference), or NULL with an exception set */
static PyObject *attribute(PyObject *bound, PyObject *name)
{
    PyObject *value = PyDict_GetItemWithError(BOUND(B_ATTRS), name);
    if (value == NULL && !PyErr_Occurred())
        PyErr_SetObject(PyExc_AttributeError, name);
    return value;
}

/* pairer.name += delta; 0, or -1 with an exception set */
static int add_to_attribute(PyObject *bound, PyObject *name, int delta)
{
    PyObject *value = attribute(bound, name);
    if (value == NULL)
        return -1;
    PyObject *changed = delta > 0 ? PyNumber_Add(value, int_one) : PyNumber_Subtract(value, int_one);
    if (changed == NULL)
        return -1;
    int rc = PyDict_SetItem(BOUND(B_ATTRS), name, changed);
    Py_DECREF(changed);
    return rc;
}

static int is_exact_tuple(PyObject *object, Py_ssize_t size)
{
    return PyTuple_CheckExact(object) && PyTuple_GET_SIZE(object) == size;
}

/* ------------------------------------------------------------------------------- queries */

/* How many queries wait on a flow: the sum of its queues' lengths; -1 on an error */
static Py_ssize_t waiting_on_flow(PyObject *waiting)
{
    Py_ssize_t total = 0, position = 0;
    PyObject *key, *queue;
    while (PyDict_Next(waiting, &position, &key, &queue)) {
        Py_ssize_t length = PyObject_Length(queue);
        if (length < 0)
            return -1;
        total += length;
    }
    return total;
}

/* 1 when the query was added, 0 when it is the Python's to add, -1 on an error */
static int fast_query(PyObject *bound, PyObject *trans_id, PyObject *view, PyObject *meta)
{
    int multicast = PySequence_Contains(BOUND(B_MULTICAST), PyTuple_GET_ITEM(meta, M_PROTOCOL));
    if (multicast != 0)
        return multicast < 0 ? -1 : 0;
    PyObject *flow = PyTuple_GetSlice(meta, M_SRC, M_PROTOCOL); /* (src, sport, dst, dport, t) */
    if (flow == NULL)
        return -1;
    int rc = -1;
    PyObject *waiting = PyDict_GetItemWithError(BOUND(B_PENDING), flow), *fresh = NULL;
    PyObject *seq = NULL, *tx = NULL, *queue = NULL, *one = NULL;
    if (waiting == NULL && PyErr_Occurred())
        goto done;
    if (waiting != NULL) {
        if (!PyDict_CheckExact(waiting)) {
            rc = 0;
            goto done;
        }
        PyObject *queued = PyDict_GetItemWithError(waiting, trans_id);
        if (queued != NULL || PyErr_Occurred()) { /* a retransmission, perhaps: the Python's */
            rc = queued != NULL ? 0 : -1;
            goto done;
        }
    }
    /* the bounds the Python checks once the query is in: past either, the Python adds it */
    PyObject *count = attribute(bound, s_pending_count);
    if (count == NULL)
        goto done;
    one = PyNumber_Add(count, int_one);
    if (one == NULL)
        goto done;
    int over = PyObject_RichCompareBool(one, BOUND(B_PER_FLOW), Py_GT);
    if (over > 0) { /* then the queries on this flow, the new one with them */
        Py_ssize_t on_flow = waiting == NULL ? 0 : waiting_on_flow(waiting);
        PyObject *with_it = on_flow < 0 ? NULL : PyLong_FromSsize_t(on_flow + 1);
        over = with_it == NULL ? -1 : PyObject_RichCompareBool(with_it, BOUND(B_PER_FLOW), Py_GT);
        Py_XDECREF(with_it);
    }
    if (over == 0)
        over = PyObject_RichCompareBool(one, BOUND(B_TOTAL), Py_GT);
    if (over != 0) {
        rc = over < 0 ? -1 : 0;
        goto done;
    }
    /* the query opens a transaction */
    PyObject *last = attribute(bound, s_seq);
    seq = last == NULL ? NULL : PyNumber_Add(last, int_one);
    if (seq == NULL || PyDict_SetItem(BOUND(B_ATTRS), s_seq, seq) < 0)
        goto done;
    PyObject *args[4] = {seq, trans_id, view, meta};
    tx = PyObject_Vectorcall(BOUND(B_TRANSACTION), args, 4, NULL);
    PyObject *single = tx == NULL ? NULL : PyTuple_Pack(1, tx);
    queue = single == NULL ? NULL : PyObject_CallOneArg(BOUND(B_DEQUE), single);
    Py_XDECREF(single);
    if (queue == NULL)
        goto done;
    if (waiting == NULL) {
        waiting = fresh = PyDict_New();
        if (fresh == NULL || PyDict_SetItem(BOUND(B_PENDING), flow, fresh) < 0)
            goto done;
    }
    if (PyDict_SetItem(waiting, trans_id, queue) < 0
        || PyDict_SetItem(BOUND(B_ATTRS), s_pending_count, one) < 0)
        goto done;
    rc = 1;
done:
    Py_DECREF(flow);
    Py_XDECREF(fresh);
    Py_XDECREF(one);
    Py_XDECREF(seq);
    Py_XDECREF(tx);
    Py_XDECREF(queue);
    return rc;
}

/* ----------------------------------------------------------------------------- responses */

/* Transaction.row(reply, response) of a transaction that is not mDNS or LLMNR: a new tuple */
static PyObject *answered_row(PyObject *tx, PyObject *tx_meta, PyObject *tx_view, PyObject *reply,
                              PyObject *meta)
{
    PyObject *row = NULL, *seq = NULL, *trans_id = NULL, *retransmissions = NULL, *rtt = NULL;
    PyObject *elapsed = NULL;
    PyObject *question = PyTuple_GET_ITEM(tx_view, 1), *rd = PyTuple_GET_ITEM(tx_view, 2);
    PyObject *z = PyTuple_GET_ITEM(tx_view, 3);
    int other_rd = PyObject_RichCompareBool(PyTuple_GET_ITEM(reply, 3), rd, Py_NE);
    int other_z = other_rd < 0 ? -1
                               : PyObject_RichCompareBool(PyTuple_GET_ITEM(reply, 5), z, Py_NE);
    if (other_z < 0)
        return NULL;
    seq = PyObject_GetAttr(tx, s_tx_seq);
    trans_id = seq == NULL ? NULL : PyObject_GetAttr(tx, s_tx_trans_id);
    retransmissions = trans_id == NULL ? NULL : PyObject_GetAttr(tx, s_tx_retransmissions);
    elapsed = retransmissions == NULL ? NULL
        : PyNumber_Subtract(PyTuple_GET_ITEM(meta, M_TS), PyTuple_GET_ITEM(tx_meta, M_TS));
    rtt = elapsed == NULL ? NULL : PyObject_CallMethodOneArg(elapsed, s_round, int_six);
    row = rtt == NULL ? NULL : PyTuple_New(ROW_SIZE);
    if (row == NULL)
        goto done;
    PyObject *head[4] = {seq, PyTuple_GET_ITEM(tx_meta, M_TS), PyTuple_GET_ITEM(tx_meta, M_FRAME),
                         PyTuple_GET_ITEM(meta, M_FRAME)};
    Py_ssize_t at = 0;
    for (int i = 0; i < 4; i++, at++) {
        Py_INCREF(head[i]);
        PyTuple_SET_ITEM(row, at, head[i]);
    }
    for (int i = M_SRC; i < META_SIZE; i++, at++) { /* the ends, as the query went */
        PyObject *item = PyTuple_GET_ITEM(tx_meta, i);
        Py_INCREF(item);
        PyTuple_SET_ITEM(row, at, item);
    }
    Py_INCREF(trans_id);
    PyTuple_SET_ITEM(row, at++, trans_id);
    PyTuple_SET_ITEM(row, at++, rtt);
    rtt = NULL;
    for (int i = 0; i < QUESTION_SIZE; i++, at++) {
        PyObject *item = PyTuple_GET_ITEM(question, i);
        Py_INCREF(item);
        PyTuple_SET_ITEM(row, at, item);
    }
    for (int i = 0; i < REPLY_SIZE; i++, at++) { /* the query's RD and Z stay the transaction's */
        PyObject *item = i == 3 && other_rd ? rd
                       : i == 5 && other_z ? z
                                           : PyTuple_GET_ITEM(reply, i);
        Py_INCREF(item);
        PyTuple_SET_ITEM(row, at, item);
    }
    Py_INCREF(retransmissions);
    PyTuple_SET_ITEM(row, at, retransmissions);
done:
    Py_XDECREF(seq);
    Py_XDECREF(trans_id);
    Py_XDECREF(retransmissions);
    Py_XDECREF(elapsed);
    Py_XDECREF(rtt);
    return row;
}

/* `_remember_answered(key, ts)`: the key made the newest; the oldest dropped past the bound */
static int remember_answered(PyObject *bound, PyObject *flow, PyObject *trans_id, PyObject *ts)
{
    PyObject *recent = BOUND(B_RECENT);
    PyObject *key = PyTuple_Pack(2, flow, trans_id);
    if (key == NULL)
        return -1;
    int rc = PyDict_DelItem(recent, key);
    if (rc < 0 && PyErr_ExceptionMatches(PyExc_KeyError)) {
        PyErr_Clear();
        rc = 0;
    }
    if (rc == 0)
        rc = PyDict_SetItem(recent, key, ts);
    Py_DECREF(key);
    if (rc < 0)
        return -1;
    PyObject *size = PyLong_FromSsize_t(PyDict_GET_SIZE(recent));
    int over = size == NULL ? -1 : PyObject_RichCompareBool(size, BOUND(B_RECENT_MAX), Py_GT);
    if (over > 0) {
        PyObject *excess = PyNumber_Subtract(size, BOUND(B_RECENT_MAX));
        PyObject *args[2] = {recent, excess};
        PyObject *done = excess == NULL ? NULL
            : PyObject_Vectorcall(BOUND(B_DROP_OLDEST), args, 2, NULL);
        Py_XDECREF(excess);
        over = done == NULL ? -1 : 0;
        Py_XDECREF(done);
    }
    Py_XDECREF(size);
    return over;
}

/* Does the waiting transaction `tx` have the shapes the row is made from (else the Python
 * answers it, with its own errors)? 1 yes, 0 no, -1 on an error */
static int answerable(PyObject *tx, PyObject *reply, PyObject **tx_meta, PyObject **tx_view)
{
    *tx_meta = PyObject_GetAttr(tx, s_tx_meta);
    *tx_view = *tx_meta == NULL ? NULL : PyObject_GetAttr(tx, s_tx_view);
    if (*tx_view == NULL)
        return -1;
    return is_exact_tuple(*tx_meta, META_SIZE) && PyTuple_CheckExact(*tx_view)
           && PyTuple_GET_SIZE(*tx_view) >= 4
           && is_exact_tuple(PyTuple_GET_ITEM(*tx_view, 1), QUESTION_SIZE)
           && is_exact_tuple(reply, REPLY_SIZE);
}

/* 1 when the response answered a waiting query, 0 when it is the Python's, -1 on an error */
static int fast_response(PyObject *bound, PyObject *trans_id, PyObject *view, PyObject *meta)
{
    PyObject *flow = PyTuple_Pack(5, PyTuple_GET_ITEM(meta, M_DST), PyTuple_GET_ITEM(meta, M_DPORT),
                                  PyTuple_GET_ITEM(meta, M_SRC), PyTuple_GET_ITEM(meta, M_SPORT),
                                  PyTuple_GET_ITEM(meta, M_TRANSPORT));
    if (flow == NULL)
        return -1;
    int rc = -1;
    PyObject *tx = NULL, *tx_meta = NULL, *tx_view = NULL, *row = NULL, *extra = NULL;
    PyObject *waiting = PyDict_GetItemWithError(BOUND(B_PENDING), flow);
    PyObject *queue = NULL;
    if (waiting != NULL && PyDict_CheckExact(waiting))
        queue = PyDict_GetItemWithError(waiting, trans_id);
    if (PyErr_Occurred())
        goto done;
    Py_ssize_t length = queue == NULL ? 0 : PyObject_Length(queue);
    if (length <= 0) { /* nothing waits: unsolicited, a duplicate, or mDNS's (the Python's) */
        rc = length < 0 ? -1 : 0;
        goto done;
    }
    Py_INCREF(waiting);
    Py_INCREF(queue);
    tx = PySequence_GetItem(queue, 0); /* the oldest, looked at before it is taken */
    PyObject *reply = PyTuple_GET_ITEM(view, 1);
    int usual = tx == NULL ? -1 : answerable(tx, reply, &tx_meta, &tx_view);
    if (usual > 0) {
        int multicast = PySequence_Contains(BOUND(B_MULTICAST),
                                            PyTuple_GET_ITEM(tx_meta, M_PROTOCOL));
        usual = multicast < 0 ? -1 : !multicast;
    }
    if (usual > 0) { /* a query past its timeout is expired first (the Python's) */
        PyObject *age = PyNumber_Subtract(PyTuple_GET_ITEM(meta, M_TS),
                                          PyTuple_GET_ITEM(tx_meta, M_TS));
        int stale = age == NULL ? -1 : PyObject_RichCompareBool(age, BOUND(B_TIMEOUT), Py_GT);
        Py_XDECREF(age);
        usual = stale < 0 ? -1 : !stale;
    }
    if (usual <= 0) {
        rc = usual;
        goto release;
    }
    /* taken: the oldest query on the flow and id */
    PyObject *taken = PyObject_CallMethodNoArgs(queue, s_popleft);
    if (taken == NULL)
        goto release;
    Py_DECREF(taken); /* (`tx` holds it) */
    if (add_to_attribute(bound, s_pending_count, -1) < 0)
        goto release;
    if (length == 1) {
        if (PyDict_DelItem(waiting, trans_id) < 0)
            goto release;
        if (PyDict_GET_SIZE(waiting) == 0 && PyDict_DelItem(BOUND(B_PENDING), flow) < 0)
            goto release;
    }
    if (remember_answered(bound, flow, trans_id, PyTuple_GET_ITEM(meta, M_TS)) < 0)
        goto release;
    row = answered_row(tx, tx_meta, tx_view, reply, meta);
    extra = row == NULL ? NULL : PyObject_GetAttr(tx, s_tx_extra);
    if (extra == NULL)
        goto release;
    PyObject *emit_args[3] = {row, extra, PyTuple_GET_ITEM(view, 3)};
    PyObject *emitted = PyObject_Vectorcall(BOUND(B_EMIT), emit_args, 3, NULL);
    rc = emitted == NULL ? -1 : 1;
    Py_XDECREF(emitted);
release:
    Py_DECREF(waiting);
    Py_DECREF(queue);
done:
    Py_DECREF(flow);
    Py_XDECREF(tx);
    Py_XDECREF(tx_meta);
    Py_XDECREF(tx_view);
    Py_XDECREF(row);
    Py_XDECREF(extra);
    return rc;
}

/* ---------------------------------------------------------------------------------- add */

static PyObject *add(PyObject *bound, PyObject *const *args, Py_ssize_t nargs)
{
    if (twin_arguments(nargs, 3, s_seq, "add(trans_id, view, meta)") < 0)
        return NULL;
    PyObject *trans_id = args[0], *view = args[1], *meta = args[2];
    if (!is_exact_tuple(meta, META_SIZE) || !is_exact_tuple(view, 5))
        return PyObject_Vectorcall(BOUND(B_PYTHON_ADD), args, 3, NULL);
    /* a sweep of the expired is due: the Python's `add` sweeps, then adds */
    PyObject *last = attribute(bound, s_last_sweep);
    PyObject *since = last == NULL ? NULL : PyNumber_Subtract(PyTuple_GET_ITEM(meta, M_TS), last);
    int sweep = since == NULL ? -1 : PyObject_RichCompareBool(since, BOUND(B_SWEEP), Py_GT);
    Py_XDECREF(since);
    if (sweep != 0)
        return sweep < 0 ? NULL : PyObject_Vectorcall(BOUND(B_PYTHON_ADD), args, 3, NULL);
    int response = PyObject_IsTrue(PyTuple_GET_ITEM(view, 0));
    if (response < 0)
        return NULL;
    int taken = response ? fast_response(bound, trans_id, view, meta)
                         : fast_query(bound, trans_id, view, meta);
    if (taken < 0)
        return NULL;
    if (taken)
        Py_RETURN_NONE;
    return PyObject_Vectorcall(BOUND(response ? B_ADD_RESPONSE : B_ADD_QUERY), args, 3, NULL);
}

static PyMethodDef add_def = {
    "add", (PyCFunction)(void (*)(void))add, METH_FASTCALL,
    "add(trans_id, view, meta): Pairer.python_add, in C for the usual query and response",
};

/* ----------------------------------------------------------------- a worker's message */

/* `DnsScan.python_on_udp_decoded(frame, ts, src, sport, dst, dport, msg)`, compiled for a
 * message on a DNS, mDNS or LLMNR port, which the worker counted and stored: pairing is what is
 * left, `add(id, view, meta)`. self is (add, fallback, well_known); anything else goes to
 * `fallback`, the Python method. */
static PyObject *decoded(PyObject *bound, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *add_function = PyTuple_GET_ITEM(bound, 0), *well_known = PyTuple_GET_ITEM(bound, 2);
    if (nargs == 7 && is_exact_tuple(args[6], 3)) {
        int known = PySet_Contains(well_known, args[3]);
        if (known == 0)
            known = PySet_Contains(well_known, args[5]);
        if (known < 0)
            return NULL;
        if (known) {
            PyObject *msg = args[6], *meta = PyTuple_New(META_SIZE);
            if (meta == NULL)
                return NULL;
            for (int i = M_FRAME; i <= M_DPORT; i++)
                PyTuple_SET_ITEM(meta, i, Py_NewRef(args[i]));
            PyTuple_SET_ITEM(meta, M_TRANSPORT, Py_NewRef(s_udp));
            PyTuple_SET_ITEM(meta, M_PROTOCOL, Py_NewRef(PyTuple_GET_ITEM(msg, 1)));
            PyObject *call[3] = {PyTuple_GET_ITEM(msg, 0), PyTuple_GET_ITEM(msg, 2), meta};
            PyObject *result = PyObject_Vectorcall(add_function, call, 3, NULL);
            Py_DECREF(meta);
            if (result == NULL)
                return NULL;
            Py_DECREF(result);
            Py_RETURN_NONE;
        }
    }
    return PyObject_Vectorcall(PyTuple_GET_ITEM(bound, 1), args, nargs, NULL);
}

static PyMethodDef decoded_def = {
    "on_udp_decoded", (PyCFunction)(void (*)(void))decoded, METH_FASTCALL,
    "on_udp_decoded(frame, ts, src, sport, dst, dport, msg): "
    "DnsScan.python_on_udp_decoded, in C for a message on the DNS ports",
};

static PyObject *bind_decoded(PyObject *module, PyObject *args)
{
    PyObject *items[3];
    if (!PyArg_ParseTuple(args, "OOO!:bind_decoded", &items[0], &items[1], &PyFrozenSet_Type,
                          &items[2]))
        return NULL;
    if (!PyCallable_Check(items[0]) || !PyCallable_Check(items[1])) {
        PyErr_SetString(PyExc_TypeError, "bind_decoded: add and the fallback must be callable");
        return NULL;
    }
    return twin_bound_items(module, &decoded_def, items, 3);
}

static PyObject *bind_pairer(PyObject *module, PyObject *args)
{
    PyObject *items[B_COUNT];
    if (!PyArg_ParseTuple(args, "O!O!O!OOOOOOOO!OOOOO:bind", &PyDict_Type, &items[B_ATTRS],
                          &PyDict_Type, &items[B_PENDING], &PyDict_Type, &items[B_RECENT],
                          &items[B_PYTHON_ADD], &items[B_ADD_QUERY], &items[B_ADD_RESPONSE],
                          &items[B_EMIT], &items[B_TRANSACTION],
                          &items[B_DEQUE], &items[B_DROP_OLDEST], &PyTuple_Type,
                          &items[B_MULTICAST], &items[B_PER_FLOW], &items[B_TOTAL],
                          &items[B_RECENT_MAX], &items[B_SWEEP], &items[B_TIMEOUT]))
        return NULL;
    for (int i = B_PYTHON_ADD; i <= B_DROP_OLDEST; i++)
        if (!PyCallable_Check(items[i])) {
            PyErr_SetString(PyExc_TypeError, "bind: the methods and classes must be callable");
            return NULL;
        }
    return twin_bound_items(module, &add_def, items, B_COUNT);
}

/* what `bind_store` keeps */
enum { S_TRANSACTIONS, S_ANSWER_VALUES, S_EXTRA_QUESTIONS, S_ANSWERS, S_FLUSH, S_BATCH,
       S_ROW_BATCH, S_COUNT };

/* `list` has reached `limit` (an int) rows: 1, 0, or -1 with an exception set */
static int reached(PyObject *list, PyObject *limit)
{
    PyObject *length = PyLong_FromSsize_t(PyList_GET_SIZE(list));
    int full = length == NULL ? -1 : PyObject_RichCompareBool(length, limit, Py_GE);
    Py_XDECREF(length);
    return full;
}

/* each item of `items` as (tx_id, *item) (`spread`) or (tx_id, item), appended to `list` */
static int append_with_id(PyObject *list, PyObject *tx_id, PyObject *items, int spread)
{
    PyObject *all = PySequence_Fast(items, "a transaction's extra questions and answer values "
                                           "are sequences");
    if (all == NULL)
        return -1;
    int rc = 0;
    for (Py_ssize_t i = 0; rc == 0 && i < PySequence_Fast_GET_SIZE(all); i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(all, i), *row;
        if (spread) {
            PyObject *parts = PySequence_Fast(item, "an extra question is a sequence");
            row = parts == NULL ? NULL : PyTuple_New(PySequence_Fast_GET_SIZE(parts) + 1);
            if (row != NULL) {
                PyTuple_SET_ITEM(row, 0, Py_NewRef(tx_id));
                for (Py_ssize_t j = 0; j < PySequence_Fast_GET_SIZE(parts); j++)
                    PyTuple_SET_ITEM(row, j + 1, Py_NewRef(PySequence_Fast_GET_ITEM(parts, j)));
            }
            Py_XDECREF(parts);
        } else {
            row = PyTuple_Pack(2, tx_id, item);
        }
        rc = row == NULL ? -1 : PyList_Append(list, row);
        Py_XDECREF(row);
    }
    Py_DECREF(all);
    return rc;
}

/* store(row, extra, values): `DnsScan.python_store_transaction`, compiled */
static PyObject *store(PyObject *bound, PyObject *const *args, Py_ssize_t nargs)
{
    if (twin_arguments(nargs, 3, s_udp, "store(row, extra, values)") < 0)
        return NULL;
    PyObject *row = args[0], *extra = args[1], *values = args[2];
    PyObject *transactions = BOUND(S_TRANSACTIONS), *answers = BOUND(S_ANSWERS);
    if (PyList_Append(transactions, row) < 0
        || PyList_Append(BOUND(S_ANSWER_VALUES), values) < 0)
        return NULL;
    int some_extra = PyObject_IsTrue(extra), some_values = 0;
    if (some_extra < 0)
        return NULL;
    PyObject *tx_id = NULL;
    if (some_extra) {
        tx_id = PySequence_GetItem(row, 0);
        if (tx_id == NULL || append_with_id(BOUND(S_EXTRA_QUESTIONS), tx_id, extra, 1) < 0)
            goto fail;
    }
    some_values = PyObject_IsTrue(values);
    if (some_values < 0)
        goto fail;
    if (some_values) {
        if (tx_id == NULL && (tx_id = PySequence_GetItem(row, 0)) == NULL)
            goto fail;
        if (append_with_id(answers, tx_id, values, 0) < 0)
            goto fail;
    }
    Py_CLEAR(tx_id);
    int full = reached(transactions, BOUND(S_BATCH));
    if (full == 0)
        full = reached(answers, BOUND(S_ROW_BATCH));
    if (full < 0)
        return NULL;
    if (full)
        return PyObject_CallNoArgs(BOUND(S_FLUSH));
    Py_RETURN_NONE;
fail:
    Py_XDECREF(tx_id);
    return NULL;
}

static PyMethodDef store_def = {
    "store", (PyCFunction)(void (*)(void))store, METH_FASTCALL,
    "store(row, extra, values): DnsScan.python_store_transaction, compiled",
};

static PyObject *bind_store(PyObject *module, PyObject *args)
{
    PyObject *items[S_COUNT];
    if (!PyArg_ParseTuple(args, "O!O!O!O!OOO:bind_store", &PyList_Type, &items[S_TRANSACTIONS],
                          &PyList_Type, &items[S_ANSWER_VALUES], &PyList_Type,
                          &items[S_EXTRA_QUESTIONS], &PyList_Type, &items[S_ANSWERS],
                          &items[S_FLUSH], &items[S_BATCH], &items[S_ROW_BATCH]))
        return NULL;
    if (!PyCallable_Check(items[S_FLUSH])) {
        PyErr_SetString(PyExc_TypeError, "bind_store: flush must be callable");
        return NULL;
    }
    return twin_bound_items(module, &store_def, items, S_COUNT);
}

static PyMethodDef methods[] = {
    {"bind", bind_pairer, METH_VARARGS,
     "bind(attributes, pending, recent_answered, python_add, add_query, add_response, emit, "
     "Transaction, deque, drop_oldest, MULTICAST_PROTOCOLS, MAX_PENDING_PER_FLOW, "
     "MAX_PENDING_TOTAL, MAX_RECENT_ANSWERED, SWEEP_EVERY, QUERY_TIMEOUT): a Pairer's add, "
     "compiled"},
    {"bind_decoded", bind_decoded, METH_VARARGS,
     "bind_decoded(add, fallback, WELL_KNOWN): a DnsScan's on_udp_decoded, compiled for the "
     "messages on the DNS ports, which it hands to `add` (its pairer's)"},
    {"bind_store", bind_store, METH_VARARGS,
     "bind_store(transactions, answer_values, extra_questions, answers, flush, BATCH, "
     "ROW_BATCH): a DnsScan's _store_transaction over these lists, compiled"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = TWIN_MODULE_DEF(
    "mcpcap.modules.dns._pairing",
    "Query/response pairing's usual cases, compiled (see pairing.py).", methods);

PyMODINIT_FUNC PyInit__pairing(void)
{
    s_seq = PyUnicode_InternFromString("_seq");
    s_pending_count = PyUnicode_InternFromString("_pending_count");
    s_last_sweep = PyUnicode_InternFromString("_last_sweep");
    s_popleft = PyUnicode_InternFromString("popleft");
    s_round = PyUnicode_InternFromString("__round__");
    s_tx_seq = PyUnicode_InternFromString("seq");
    s_tx_trans_id = PyUnicode_InternFromString("trans_id");
    s_tx_view = PyUnicode_InternFromString("view");
    s_tx_meta = PyUnicode_InternFromString("meta");
    s_tx_retransmissions = PyUnicode_InternFromString("retransmissions");
    s_tx_extra = PyUnicode_InternFromString("extra");
    s_udp = PyUnicode_InternFromString("udp");
    int_one = PyLong_FromLong(1);
    int_six = PyLong_FromLong(6);
    if (!s_seq || !s_pending_count || !s_last_sweep || !s_popleft || !s_round || !s_tx_seq
        || !s_tx_trans_id || !s_tx_view || !s_tx_meta || !s_tx_retransmissions || !s_tx_extra
        || !s_udp || !int_one || !int_six)
        return NULL;
    return twin_module(&module_def);
}
