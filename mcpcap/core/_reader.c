/* `reader.python_walk_records` compiled (optional: see mcpcap/core/fastpath.py).
 *
 * A parallel scan's first step walks every record header of a classic pcap file to cut it into
 * spans; this is that walk, with the same events at the same records as the Python reference
 * (tests/core/test_reader_compiled.py holds the two to each other).
 */
#include "_twin.h"

enum { WINDOW_END, SPAN_FULL, RECORD_TOO_BIG, RECORD_PAST_END, STOPPED };

static PyObject *walk_records(PyObject *module, PyObject *args)
{
    Py_buffer view;
    long long base, pos, count, start, span_bytes, limit, size, stop;
    int little;
    if (!PyArg_ParseTuple(args, "y*LLLLLLLLp:walk_records", &view, &base, &pos, &count, &start,
                          &span_bytes, &limit, &size, &stop, &little))
        return NULL;
    const unsigned char *buf = view.buf;
    long long last = base + (long long)view.len - 16;
    int event = WINDOW_END;
    if (pos < base) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "pos lies before the window");
        return NULL;
    }
    while (pos <= last) {
        const unsigned char *field = buf + (pos - base) + 8;
        unsigned long long incl =
            little ? ((unsigned long long)field[3] << 24 | (unsigned long long)field[2] << 16
                      | (unsigned long long)field[1] << 8 | field[0])
                   : ((unsigned long long)field[0] << 24 | (unsigned long long)field[1] << 16
                      | (unsigned long long)field[2] << 8 | field[3]);
        if ((long long)incl > limit) {
            event = RECORD_TOO_BIG;
            break;
        }
        if (pos + 16 + (long long)incl > size) {
            event = RECORD_PAST_END;
            break;
        }
        if (count == stop) {
            event = STOPPED;
            break;
        }
        pos += 16 + (long long)incl;
        count += 1;
        if (pos - start >= span_bytes) {
            event = SPAN_FULL;
            break;
        }
    }
    PyBuffer_Release(&view);
    return Py_BuildValue("iLL", event, pos, count);
}

static PyMethodDef methods[] = {
    {"walk_records", walk_records, METH_VARARGS,
     "walk_records(buf, base, pos, count, start, span_bytes, limit, size, stop, little): "
     "reader.python_walk_records, compiled"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = TWIN_MODULE_DEF(
    "mcpcap.core._reader", "reader.python_walk_records compiled (see fastpath.py).", methods);

PyMODINIT_FUNC PyInit__reader(void) { return twin_module(&module_def); }
