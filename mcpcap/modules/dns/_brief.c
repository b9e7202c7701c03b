/* `decoder.python_decode_brief` compiled, for the common message (optional: see
 * mcpcap/core/fastpath.py).
 *
 * Most messages of a capture are alike: one question, a few records of the usual types (A,
 * AAAA, CNAME, NS, PTR, SOA, MX, TXT, an OPT record), names of plain characters. For such a
 * message `bind(fallback, query_question)` gives a function that makes the same `Brief` as the
 * Python (decoder.py), in the same shapes. For anything else, and at the first thing that does
 * not decode cleanly (a truncated or malformed message, a name that needs escapes, a compression
 * loop, another record type, a section count above what a brief keeps), it changes nothing and
 * calls `fallback`, the Python function, which is the reference and names every malformation;
 * tests/modules/dns/test_brief_compiled.py holds the two to each other.
 *
 * Names follow names.py: the labels of a name in presentation format joined by dots (the root
 * alone as "."), compression pointers followed to any offset inside the message, at most 255
 * octets of wire length. A name is a pure function of the message and its offset, which is why
 * the Python's per-message name cache changes nothing here.
 */
#include "../../core/_twin.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

enum {
    HEADER = 12, MAX_NAME = 255, TEXT_SIZE = 256, MAX_JUMPS = 16, MAX_RECORDS = 256,
    RDATA_SIZE = 2 * TEXT_SIZE + 64, TXT_SIZE = 4 * 65536,
};
enum { T_A = 1, T_NS = 2, T_CNAME = 5, T_SOA = 6, T_PTR = 12, T_MX = 15, T_TXT = 16,
       T_AAAA = 28, T_OPT = 41 };
#define LIST_MARK "\x1e"
#define ITEM_SEPARATOR "\x1f"

static PyObject *empty_tuple, *empty_str, *int_zero, *int_one, *list_mark, *item_separator;
/* decoder.py's names for the remembered briefs (see `remember`) */
static PyObject *s_seen, *s_mdns_seen, *s_older, *s_mdns_older, *s_count, *s_bound, *s_decode,
    *s_next_generation;

/* bytes that stand for themselves in a label (names.py's _PLAIN) and in a character-string
 * (rdata.py's _PLAIN_STRING) */
static int plain_label(unsigned char c)
{
    return c >= 0x21 && c <= 0x7E && strchr(".\\\"();@$", c) == NULL;
}

static int plain_string(unsigned char c)
{
    return c >= 0x20 && c <= 0x7E && c != '"' && c != '\\';
}

/* The name at `pos` as text (at most TEXT_SIZE - 1 characters, NUL-terminated): its length,
 * with `*after` the offset after its inline part; -1 when it does not decode plainly. */
static Py_ssize_t read_name(const unsigned char *buf, Py_ssize_t len, Py_ssize_t pos,
                            char *text, Py_ssize_t *after)
{
    Py_ssize_t p = pos, n = 0, jumps[MAX_JUMPS];
    int labels = 0, jumped = 0, wire = 1;
    *after = -1;
    for (;;) {
        if (p >= len)
            return -1;
        unsigned ln = buf[p];
        if (ln == 0) {
            if (*after < 0)
                *after = p + 1;
            break;
        }
        if (ln < 0x40) {
            wire += 1 + (int)ln;
            if (wire > MAX_NAME || p + 1 + (Py_ssize_t)ln > len)
                return -1;
            if (labels++)
                text[n++] = '.';
            for (unsigned i = 0; i < ln; i++) {
                unsigned char c = buf[p + 1 + i];
                if (!plain_label(c))
                    return -1;
                text[n++] = (char)c;
            }
            p += 1 + ln;
            continue;
        }
        if (ln < 0xC0 || p + 1 >= len)
            return -1;
        Py_ssize_t target = ((Py_ssize_t)(ln & 0x3F) << 8) | buf[p + 1];
        if (*after < 0)
            *after = p + 2;
        if (target >= len || jumped == MAX_JUMPS)
            return -1;
        for (int j = 0; j < jumped; j++) {
            if (jumps[j] == target)
                return -1;
        }
        jumps[jumped++] = target;
        p = target;
    }
    if (!labels)
        text[n++] = '.';
    text[n] = '\0';
    return n;
}

/* an IPv4 address in dotted-quad form at `out`, terminated: its length */
static Py_ssize_t put_ipv4(char *out, const unsigned char *address)
{
    Py_ssize_t n = 0;
    for (int i = 0; i < 4; i++) {
        if (i)
            out[n++] = '.';
        n += twin_put_decimal(out + n, address[i]);
    }
    out[n] = '\0';
    return n;
}

/* One record's RDATA in presentation format into `out` (RDATA_SIZE bytes, or TXT_SIZE for
 * TXT): its length, or -1 when this code does not make it (the Python then does). */
static Py_ssize_t rdata_text(const unsigned char *buf, Py_ssize_t len, int rtype,
                             Py_ssize_t start, Py_ssize_t end, char *out)
{
    char first[TEXT_SIZE], second[TEXT_SIZE];
    Py_ssize_t after, n, m;
    switch (rtype) {
    case T_A:
        if (end - start != 4)
            return -1;
        return put_ipv4(out, buf + start);
    case T_AAAA:
        if (end - start != 16 || inet_ntop(AF_INET6, buf + start, out, RDATA_SIZE) == NULL)
            return -1;
        return (Py_ssize_t)strlen(out);
    case T_NS:
    case T_CNAME:
    case T_PTR: /* (rdata.py's _one_name: the name must end the RDATA) */
        n = read_name(buf, len, start, out, &after);
        return n >= 0 && after == end ? n : -1;
    case T_MX: /* (_u16_name) */
        if (start + 2 > end)
            return -1;
        n = read_name(buf, len, start + 2, first, &after);
        if (n < 0 || after != end)
            return -1;
        return sprintf(out, "%u %s", (buf[start] << 8) | buf[start + 1], first);
    case T_SOA: {
        n = read_name(buf, len, start, first, &after);
        if (n < 0 || after > end)
            return -1;
        m = read_name(buf, len, after, second, &after);
        if (m < 0 || after > end || after + 20 != end)
            return -1;
        unsigned long v[5];
        for (int i = 0; i < 5; i++) {
            const unsigned char *b = buf + after + 4 * i;
            v[i] = ((unsigned long)b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
        }
        return sprintf(out, "%s %s %lu %lu %lu %lu %lu", first, second, v[0], v[1], v[2], v[3],
                       v[4]);
    }
    case T_TXT: { /* (_strings; an empty RDATA is left to the Python) */
        if (start == end)
            return -1;
        Py_ssize_t pos = start;
        n = 0;
        while (pos < end) {
            Py_ssize_t q = pos + 1 + buf[pos];
            if (q > end)
                return -1;
            if (n)
                out[n++] = ' ';
            out[n++] = '"';
            for (Py_ssize_t i = pos + 1; i < q; i++) {
                if (!plain_string(buf[i]))
                    return -1;
                out[n++] = (char)buf[i];
            }
            out[n++] = '"';
            pos = q;
        }
        return n;
    }
    default:
        return -1;
    }
}

/* What a brief keeps of the answer records: their data, TTLs and types, in order */
typedef struct {
    PyObject *data[MAX_RECORDS];
    unsigned long ttl[MAX_RECORDS];
    int rtype[MAX_RECORDS];
    int count;
} Answers;

static void answers_clear(Answers *answers)
{
    for (int i = 0; i < answers->count; i++)
        Py_CLEAR(answers->data[i]);
    answers->count = 0;
}

/* The records after the question: 1 when they all decode plainly (the answers' data kept in
 * `answers`, the OPT record's extended rcode in `*ext_rcode` or -1), 0 when the Python must
 * decode the message, -1 on an error (an exception set). */
static int read_records(const unsigned char *buf, Py_ssize_t len, Py_ssize_t pos,
                        const int counts[3], int mdns, Answers *answers, long *ext_rcode,
                        char *scratch)
{
    char owner[TEXT_SIZE];
    *ext_rcode = -1;
    for (int section = 0; section < 3; section++) {
        for (int i = 0; i < counts[section]; i++) {
            Py_ssize_t after;
            if (pos >= len)
                return 0;
            int root_owner = buf[pos] == 0;
            if (root_owner) {
                after = pos + 1;
            } else if (read_name(buf, len, pos, owner, &after) < 0) {
                return 0;
            }
            pos = after;
            if (pos + 10 > len)
                return 0;
            const unsigned char *h = buf + pos;
            int rtype = (h[0] << 8) | h[1], rclass = (h[2] << 8) | h[3];
            unsigned long ttl = ((unsigned long)h[4] << 24) | (h[5] << 16) | (h[6] << 8) | h[7];
            Py_ssize_t start = pos + 10, end = start + ((h[8] << 8) | h[9]);
            if (end > len)
                return 0;
            if (mdns && (rclass & 0x8000) && rtype != T_OPT)
                rclass &= 0x7FFF;
            if (rtype == T_OPT) { /* (decoder.py's _opt_checked, in the additional section) */
                if (section != 2 || !root_owner || *ext_rcode >= 0)
                    return 0; /* (one RFC 6891 refuses: the Python's) */
                for (Py_ssize_t p = start; p < end;) {
                    if (p + 4 > end || p + 4 + ((buf[p + 2] << 8) | buf[p + 3]) > end)
                        return 0;
                    p += 4 + ((buf[p + 2] << 8) | buf[p + 3]);
                }
                if (*ext_rcode < 0)
                    *ext_rcode = (long)(ttl >> 24);
                pos = end;
                continue;
            }
            if (start == end && (rclass == 254 || rclass == 255))
                return 0; /* (an UPDATE's empty RDATA) */
            if ((rtype == T_A || rtype == T_AAAA) && (rclass == 3 || rclass == 4))
                return 0; /* (Chaosnet's or Hesiod's RDATA: decoder.py's _OTHER_CLASSES) */
            Py_ssize_t n = rdata_text(buf, len, rtype, start, end, scratch);
            if (n < 0)
                return 0;
            if (section == 0) {
                PyObject *data = PyUnicode_DecodeASCII(scratch, n, NULL);
                if (data == NULL)
                    return -1;
                answers->data[answers->count] = data;
                answers->ttl[answers->count] = ttl;
                answers->rtype[answers->count++] = rtype;
            }
            pos = end;
        }
    }
    return 1;
}

/* `text` in lower case; `text` itself (a new reference) when it is (pairing.lowered) */
static PyObject *lowered(PyObject *text)
{
    Py_ssize_t size = PyUnicode_GET_LENGTH(text);
    const char *ascii = (const char *)PyUnicode_1BYTE_DATA(text);
    Py_ssize_t i = 0;
    while (i < size && !(ascii[i] >= 'A' && ascii[i] <= 'Z'))
        i++;
    if (i == size)
        return Py_NewRef(text);
    PyObject *low = PyUnicode_New(size, 127);
    if (low == NULL)
        return NULL;
    char *out = (char *)PyUnicode_1BYTE_DATA(low);
    for (i = 0; i < size; i++)
        out[i] = (ascii[i] >= 'A' && ascii[i] <= 'Z') ? (char)(ascii[i] + 32) : ascii[i];
    return low;
}

/* `store_schema.answers_digest` of the answers: (packed data, packed TTLs, values) */
static PyObject *answers_digest(Answers *answers)
{
    if (!answers->count)
        return PyTuple_Pack(3, empty_str, empty_str, empty_tuple);
    PyObject *joined = NULL, *joined_ttls = NULL, *packed = NULL, *packed_ttls = NULL;
    PyObject *digest = NULL;
    int count = answers->count;
    PyObject *items = PyList_New(count), *ttls = PyList_New(count), *values = PyTuple_New(count);
    if (!items || !ttls || !values)
        goto done;
    for (int i = 0; i < count; i++) {
        PyObject *data = answers->data[i];
        char digits[20];
        Py_ssize_t digit_count = twin_put_decimal(digits, answers->ttl[i]);
        PyObject *ttl = PyUnicode_FromStringAndSize(digits, digit_count);
        int address = answers->rtype[i] == T_A || answers->rtype[i] == T_AAAA;
        PyObject *value = address ? Py_NewRef(data) : PyObject_CallMethod(data, "lower", NULL);
        if (ttl == NULL || value == NULL) {
            Py_XDECREF(ttl);
            Py_XDECREF(value);
            goto done;
        }
        PyList_SET_ITEM(items, i, Py_NewRef(data));
        PyList_SET_ITEM(ttls, i, ttl);
        PyTuple_SET_ITEM(values, i, value);
    }
    joined = PyUnicode_Join(item_separator, items);
    joined_ttls = PyUnicode_Join(item_separator, ttls);
    packed = joined ? PyUnicode_Concat(list_mark, joined) : NULL;
    packed_ttls = joined_ttls ? PyUnicode_Concat(list_mark, joined_ttls) : NULL;
    if (packed && packed_ttls)
        digest = PyTuple_Pack(3, packed, packed_ttls, values);
done:
    Py_XDECREF(items);
    Py_XDECREF(ttls);
    Py_XDECREF(values);
    Py_XDECREF(joined);
    Py_XDECREF(joined_ttls);
    Py_XDECREF(packed);
    Py_XDECREF(packed_ttls);
    return digest;
}

static PyObject *bit(long flags, int shift, long mask)
{
    return PyLong_FromLong((flags >> shift) & mask);
}

/* `pairing.message_view` of a message with one question (`question`, extended for a query) */
static PyObject *message_view(long flags, long rcode, PyObject *question, PyObject *digest,
                              int records)
{
    PyObject *head = NULL, *view = NULL, *low = NULL;
    PyObject *rd = bit(flags, 8, 1), *z = bit(flags, 4, 7);
    if (rd == NULL || z == NULL)
        goto done;
    PyObject *name = PyTuple_GET_ITEM(question, 0), *qtype = PyTuple_GET_ITEM(question, 1);
    PyObject *qclass = PyTuple_GET_ITEM(question, 2);
    if (!(flags & 0x8000)) {
        head = PyTuple_Pack(5, name, PyTuple_GET_ITEM(question, 4), PyTuple_GET_ITEM(question, 5),
                            qclass, qtype);
        if (head != NULL)
            view = PyTuple_Pack(5, int_zero, head, rd, z, empty_tuple);
        goto done;
    }
    PyObject *rcode_obj = PyLong_FromLong(rcode), *aa = bit(flags, 10, 1), *tc = bit(flags, 9, 1);
    PyObject *ra = bit(flags, 7, 1), *rejected = PyLong_FromLong(!records); /* (a question's) */
    PyObject *reply = NULL;
    if (rcode_obj && aa && tc && ra && rejected)
        reply = PyTuple_Pack(10, rcode_obj, aa, tc, rd, ra, z, PyTuple_GET_ITEM(digest, 0),
                             PyTuple_GET_ITEM(digest, 1), rejected, int_one);
    low = lowered(name);
    if (reply != NULL && low != NULL)
        head = PyTuple_Pack(5, name, low, Py_None, qclass, qtype);
    if (head != NULL)
        view = PyTuple_Pack(5, int_one, reply, head, PyTuple_GET_ITEM(digest, 2), empty_tuple);
    Py_XDECREF(rcode_obj);
    Py_XDECREF(aa);
    Py_XDECREF(tc);
    Py_XDECREF(ra);
    Py_XDECREF(rejected);
    Py_XDECREF(reply);
done:
    Py_XDECREF(rd);
    Py_XDECREF(z);
    Py_XDECREF(low);
    Py_XDECREF(head);
    return view;
}

/* The question at offset 12 as decoder.py makes it, (name, type, class, unicast response),
 * with `*pos` after it; Py_None (borrowed) when the Python must decode it, NULL on an error */
static PyObject *read_question(const unsigned char *buf, Py_ssize_t len, int mdns,
                               Py_ssize_t *pos)
{
    char text[TEXT_SIZE];
    Py_ssize_t after, n = read_name(buf, len, HEADER, text, &after);
    if (n < 0 || after + 4 > len)
        return Py_None;
    long qtype = (buf[after] << 8) | buf[after + 1];
    long qclass = (buf[after + 2] << 8) | buf[after + 3];
    int unicast = mdns && (qclass & 0x8000);
    *pos = after + 4;
    PyObject *items[4] = {
        PyUnicode_DecodeASCII(text, n, NULL), PyLong_FromLong(qtype),
        PyLong_FromLong(unicast ? qclass & 0x7FFF : qclass),
        Py_NewRef(unicast ? Py_True : Py_False),
    };
    return twin_tuple_taking(4, items);
}

/* The brief of a common message (a new reference), Py_None (borrowed) for the Python's, or
 * NULL with an exception set; self is (fallback, query_question) */
static PyObject *common_brief(PyObject *self, PyObject *raw, int mdns, char *scratch)
{
    const unsigned char *buf = (const unsigned char *)PyBytes_AS_STRING(raw);
    Py_ssize_t len = PyBytes_GET_SIZE(raw), pos;
    if (len < HEADER)
        return Py_None;
    long ident = (buf[0] << 8) | buf[1], flags = (buf[2] << 8) | buf[3];
    int counts[3] = {(buf[6] << 8) | buf[7], (buf[8] << 8) | buf[9], (buf[10] << 8) | buf[11]};
    int records = counts[0] + counts[1] + counts[2];
    if (((buf[4] << 8) | buf[5]) != 1 || records > MAX_RECORDS)
        return Py_None;
    PyObject *question = read_question(buf, len, mdns, &pos);
    if (question == NULL || question == Py_None)
        return question;
    Answers answers = {.count = 0};
    long ext_rcode;
    PyObject *result = Py_None, *questions = NULL, *digest = NULL, *view = NULL;
    int plain = read_records(buf, len, pos, counts, mdns, &answers, &ext_rcode, scratch);
    if (plain <= 0) {
        result = plain < 0 ? NULL : Py_None;
        goto done;
    }
    result = NULL;
    long rcode = (flags & 0xF) | (ext_rcode > 0 ? ext_rcode << 4 : 0);
    if (!(flags & 0x8000)) { /* a query's question carries its lowered name and domain */
        PyObject *extended = PyObject_CallOneArg(PyTuple_GET_ITEM(self, 1), question);
        if (extended == NULL)
            goto done;
        if (!PyTuple_CheckExact(extended) || PyTuple_GET_SIZE(extended) != 6) {
            Py_DECREF(extended);
            PyErr_SetString(PyExc_TypeError, "query_question must give a 6-tuple");
            goto done;
        }
        Py_SETREF(question, extended);
    }
    questions = PyList_New(1);
    if (questions == NULL)
        goto done;
    PyList_SET_ITEM(questions, 0, Py_NewRef(question));
    digest = answers_digest(&answers);
    view = digest ? message_view(flags, rcode, question, digest, records) : NULL;
    if (view != NULL) {
        PyObject *items[11] = {
            PyLong_FromLong(ident), PyLong_FromLong(flags), PyLong_FromLong(rcode),
            PyLong_FromLong((flags >> 11) & 0xF), Py_NewRef(Py_None), Py_NewRef(questions),
            Py_NewRef(digest), PyLong_FromLong(records), Py_NewRef(empty_tuple), Py_NewRef(raw),
            Py_NewRef(view),
        };
        result = twin_tuple_taking(11, items);
    }
done:
    answers_clear(&answers);
    Py_DECREF(question);
    Py_XDECREF(questions);
    Py_XDECREF(digest);
    Py_XDECREF(view);
    return result;
}

/* the bound function: decode_brief(buf, mdns) */
static PyObject *brief(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "brief(buf, mdns)");
        return NULL;
    }
    int mdns = PyObject_IsTrue(args[1]);
    if (mdns < 0)
        return NULL;
    if (PyBytes_CheckExact(args[0])) {
        static char scratch[TXT_SIZE];
        PyObject *result = common_brief(self, args[0], mdns, scratch);
        if (result != Py_None)
            return result;
    }
    return PyObject_Vectorcall(PyTuple_GET_ITEM(self, 0), args, 2, NULL);
}

static PyMethodDef brief_def = {
    "brief", (PyCFunction)(void (*)(void))brief, METH_FASTCALL,
    "brief(buf, mdns): python_decode_brief, in C for the common message",
};

static PyObject *bind_brief(PyObject *module, PyObject *args)
{
    PyObject *fallback, *query_question;
    if (!PyArg_ParseTuple(args, "OO:bind", &fallback, &query_question))
        return NULL;
    if (!PyCallable_Check(fallback) || !PyCallable_Check(query_question)) {
        PyErr_SetString(PyExc_TypeError, "the fallback and query_question must be callable");
        return NULL;
    }
    PyObject *items[2] = {fallback, query_question};
    return twin_bound_items(module, &brief_def, items, 2);
}

/* The value of `name` in decoder.py's globals (borrowed), or NULL with an exception set */
static PyObject *global(PyObject *space, PyObject *name)
{
    PyObject *value = twin_attribute(space, name);
    if (value == NULL)
        PyErr_Format(PyExc_RuntimeError, "decoder.py has no %S", name);
    return value;
}

/* The dict `name` of decoder.py's globals (borrowed), or NULL with an exception set */
static PyObject *global_dict(PyObject *space, PyObject *name)
{
    PyObject *value = global(space, name);
    if (value != NULL && !PyDict_CheckExact(value)) {
        PyErr_Format(PyExc_TypeError, "decoder.py's %S is not a dict", name);
        return NULL;
    }
    return value;
}

/* What a brief keeps to be remembered: (*brief[1:9], brief[10]); a new reference, or NULL */
static PyObject *kept_of(PyObject *brief)
{
    if (!PyTuple_CheckExact(brief) || PyTuple_GET_SIZE(brief) != 11) {
        PyErr_SetString(PyExc_TypeError, "a brief must be an 11-tuple");
        return NULL;
    }
    PyObject *kept = PyTuple_New(9);
    for (Py_ssize_t i = 0; kept != NULL && i < 9; i++)
        PyTuple_SET_ITEM(kept, i, Py_NewRef(PyTuple_GET_ITEM(brief, i < 8 ? i + 1 : 10)));
    return kept;
}

/* The counter of remembered bytes, `size` more: past the bound, the next generation starts
 * and the counter starts again from `size`. 0, or -1 with an exception set */
static int count_remembered(PyObject *space, Py_ssize_t size)
{
    PyObject *count = global(space, s_count), *bound = global(space, s_bound);
    if (count == NULL || bound == NULL)
        return -1;
    Py_ssize_t total = PyLong_AsSsize_t(count), limit = PyLong_AsSsize_t(bound);
    if ((total == -1 || limit == -1) && PyErr_Occurred())
        return -1;
    total += size;
    if (total > limit) {
        PyObject *next = global(space, s_next_generation);
        PyObject *done = next == NULL ? NULL : PyObject_CallNoArgs(next);
        if (done == NULL)
            return -1;
        Py_DECREF(done);
        total = size;
    }
    PyObject *value = PyLong_FromSsize_t(total);
    int failed = value == NULL || PyDict_SetItem(space, s_count, value) < 0;
    Py_XDECREF(value);
    return failed ? -1 : 0;
}

/* the bound function: remember_brief(buf, mdns); self is (decoder.py's globals,), read at each
 * call as `python_remember_brief` reads them (a new reference, or NULL with an exception set) */
static PyObject *remember(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "remember(buf, mdns)");
        return NULL;
    }
    PyObject *buf = args[0];
    int mdns = PyObject_IsTrue(args[1]);
    if (mdns < 0)
        return NULL;
    if (!PyBytes_CheckExact(buf) || PyBytes_GET_SIZE(buf) < HEADER) {
        PyErr_SetString(PyExc_TypeError, "remember takes the bytes of a message of 12 or more");
        return NULL;
    }
    PyObject *space = PyTuple_GET_ITEM(self, 0);
    PyObject *briefs = global_dict(space, mdns ? s_mdns_seen : s_seen);
    if (briefs == NULL)
        return NULL;
    PyObject *key = PyBytes_FromStringAndSize(PyBytes_AS_STRING(buf) + 2,
                                              PyBytes_GET_SIZE(buf) - 2);
    if (key == NULL)
        return NULL;
    PyObject *seen = Py_XNewRef(PyDict_GetItemWithError(briefs, key));
    if (seen != NULL || PyErr_Occurred())
        goto done;
    PyObject *older = global_dict(space, mdns ? s_mdns_older : s_older);
    if (older == NULL)
        goto done;
    seen = Py_XNewRef(PyDict_GetItemWithError(older, key));
    if (seen == NULL && !PyErr_Occurred()) {
        PyObject *decode = global(space, s_decode);
        PyObject *brief = decode == NULL ? NULL : PyObject_Vectorcall(decode, args, 2, NULL);
        if (brief == NULL)
            goto done;
        seen = kept_of(brief);
        Py_DECREF(brief);
    }
    /* (the current generation is read before a new one starts: the same dict, emptied) */
    if (seen != NULL && (count_remembered(space, PyBytes_GET_SIZE(buf)) < 0
                         || PyDict_SetItem(briefs, key, seen) < 0))
        Py_CLEAR(seen);
done:
    Py_DECREF(key);
    return seen;
}

static PyMethodDef remember_def = {
    "remember", (PyCFunction)(void (*)(void))remember, METH_FASTCALL,
    "remember(buf, mdns): python_remember_brief, in C",
};

static PyObject *bind_remember(PyObject *module, PyObject *args)
{
    PyObject *space;
    if (!PyArg_ParseTuple(args, "O!:bind_remember", &PyDict_Type, &space))
        return NULL;
    return twin_bound_items(module, &remember_def, &space, 1);
}

static PyMethodDef methods[] = {
    {"bind_remember", bind_remember, METH_VARARGS,
     "bind_remember(namespace): decoder.py's remember_brief, in C, over the generations, the "
     "counter and the bound that `namespace` (that module's globals) holds"},
    {"bind", bind_brief, METH_VARARGS,
     "bind(fallback, query_question): decode_brief's decode, in C for the common message and "
     "by `fallback` (the Python function) for every other"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = TWIN_MODULE_DEF(
    "mcpcap.modules.dns._brief",
    "The brief decode of a common DNS message, compiled (see decoder.py).", methods);

PyMODINIT_FUNC PyInit__brief(void)
{
    empty_tuple = PyTuple_New(0);
    empty_str = PyUnicode_FromString("");
    int_zero = PyLong_FromLong(0);
    int_one = PyLong_FromLong(1);
    list_mark = PyUnicode_FromString(LIST_MARK);
    item_separator = PyUnicode_FromString(ITEM_SEPARATOR);
    if (!empty_tuple || !empty_str || !int_zero || !int_one || !list_mark || !item_separator)
        return NULL;
    const char *names[] = {"_briefs_seen", "_mdns_briefs_seen", "_briefs_older",
                           "_mdns_briefs_older", "_brief_bytes", "_BRIEF_CACHE_BYTES",
                           "_decode_brief", "_next_generation"};
    PyObject **slots[] = {&s_seen, &s_mdns_seen, &s_older, &s_mdns_older, &s_count, &s_bound,
                          &s_decode, &s_next_generation};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if ((*slots[i] = PyUnicode_InternFromString(names[i])) == NULL)
            return NULL;
    PyObject *module = twin_module(&module_def);
    if (module == NULL)
        return NULL;
    /* what decoder.py and store_schema.py check against their own before they bind */
    if (PyModule_AddIntConstant(module, "MAX_RECORDS", MAX_RECORDS) < 0
        || PyModule_AddStringConstant(module, "LIST_MARK", LIST_MARK) < 0
        || PyModule_AddStringConstant(module, "ITEM_SEPARATOR", ITEM_SEPARATOR) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
