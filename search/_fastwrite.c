/* search._fastwrite: the term loop of search.fastwrite.write_term_postings, compiled.
 *
 * For one field of a segment, each term's posting blocks (Whoosh 3 format: header magic,
 * then per block a signed size, the pickled block info and the pickled block data), its
 * W3TermInfo value, its entry in the term file and its slot in the ordered hash file's
 * index and buckets — the bytes Whoosh's own writer makes. The Python version in
 * search/fastwrite.py is the reference (tests compare the two byte for byte); a term whose
 * postings have a shape this file does not handle (a weight that is not a float, a value
 * that is not bytes, a number beyond 32 bits, ...) is given to the Python version through
 * the ``fallback`` callback, so the output never depends on which one ran.
 *
 * The pickles are protocol 2, written here opcode by opcode as CPython's pickler writes
 * them for these shapes: tuples (memoised after they are built), small ints, floats, None
 * and bytes (which protocol 2 pickles as _codecs.encode(latin-1 text, "latin1"), the
 * global and the "latin1" string memoised on first use, a bytes object seen again in the
 * same pickle referred to by its memo slot).
 *
 * The hash of a key is the low 32 bits of its MD5 digest (whoosh.filedb.filetables.md5_hash),
 * computed by the MD5 below (RFC 1321).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#ifdef HAVE_ZLIB
#include <zlib.h>
#endif

/* ------------------------------------------------------------------ growable buffers */

typedef struct {
    unsigned char *data;
    Py_ssize_t len;
    Py_ssize_t cap;
} Buf;

static int
buf_reserve(Buf *b, Py_ssize_t extra)
{
    if (b->len + extra <= b->cap)
        return 0;
    Py_ssize_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra)
        cap *= 2;
    unsigned char *data = PyMem_Realloc(b->data, cap);
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->data = data;
    b->cap = cap;
    return 0;
}

static int
buf_put(Buf *b, const void *src, Py_ssize_t n)
{
    if (n == 0)
        return 0;
    if (buf_reserve(b, n) < 0)
        return -1;
    memcpy(b->data + b->len, src, n);
    b->len += n;
    return 0;
}

static int
buf_byte(Buf *b, unsigned char c)
{
    return buf_put(b, &c, 1);
}

static void
put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void
put_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static int
buf_be32(Buf *b, uint32_t v)
{
    unsigned char p[4];
    put_be32(p, v);
    return buf_put(b, p, 4);
}

static int
buf_be_float(Buf *b, double value)
{
    float f = (float)value;
    uint32_t bits;
    memcpy(&bits, &f, 4);
    return buf_be32(b, bits);
}

static int
buf_flush(Buf *b, PyObject *write)
{
    if (b->len == 0)
        return 0;
    PyObject *chunk = PyBytes_FromStringAndSize((const char *)b->data, b->len);
    if (chunk == NULL)
        return -1;
    PyObject *result = PyObject_CallOneArg(write, chunk);
    Py_DECREF(chunk);
    if (result == NULL)
        return -1;
    Py_DECREF(result);
    b->len = 0;
    return 0;
}

/* ------------------------------------------------------------------ MD5 (RFC 1321) */

static uint32_t md5_k[64];
static const unsigned char md5_shift[64] = {
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
    5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
    4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
    6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};

static void
md5_init_table(void)
{
    /* K[i] is the integer part of 2^32 * |sin(i + 1)| (i in radians) */
    for (int i = 0; i < 64; i++)
        md5_k[i] = (uint32_t)floor(fabs(sin((double)(i + 1))) * 4294967296.0);
}

static void
md5_block(uint32_t state[4], const unsigned char *block)
{
    uint32_t m[16];
    for (int i = 0; i < 16; i++)
        m[i] = (uint32_t)block[i * 4] | ((uint32_t)block[i * 4 + 1] << 8) |
               ((uint32_t)block[i * 4 + 2] << 16) | ((uint32_t)block[i * 4 + 3] << 24);
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    for (int i = 0; i < 64; i++) {
        uint32_t f;
        int g;
        if (i < 16) {
            f = (b & c) | (~b & d);
            g = i;
        }
        else if (i < 32) {
            f = (d & b) | (~d & c);
            g = (5 * i + 1) & 15;
        }
        else if (i < 48) {
            f = b ^ c ^ d;
            g = (3 * i + 5) & 15;
        }
        else {
            f = c ^ (b | ~d);
            g = (7 * i) & 15;
        }
        uint32_t sum = a + f + md5_k[i] + m[g];
        a = d;
        d = c;
        c = b;
        b = b + ((sum << md5_shift[i]) | (sum >> (32 - md5_shift[i])));
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
}

/* The low 32 bits of the digest read as a big-endian number: its last four bytes. */
static uint32_t
md5_low32(const unsigned char *data, Py_ssize_t len)
{
    uint32_t state[4] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};
    Py_ssize_t done = 0;
    while (len - done >= 64) {
        md5_block(state, data + done);
        done += 64;
    }
    unsigned char tail[128];
    Py_ssize_t rest = len - done;
    memcpy(tail, data + done, rest);
    tail[rest] = 0x80;
    Py_ssize_t padded = (rest + 1 + 8 <= 64) ? 64 : 128;
    memset(tail + rest + 1, 0, padded - rest - 1);
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++)
        tail[padded - 8 + i] = (unsigned char)(bits >> (8 * i));
    md5_block(state, tail);
    if (padded == 128)
        md5_block(state, tail + 64);
    uint32_t last = state[3]; /* digest bytes 12..15, stored little-endian */
    return ((last & 0xffu) << 24) | ((last & 0xff00u) << 8) | ((last >> 8) & 0xff00u) |
           (last >> 24);
}

static PyObject *
fw_md5_hash(PyObject *self, PyObject *arg)
{
    char *data;
    Py_ssize_t len;
    if (PyBytes_AsStringAndSize(arg, &data, &len) < 0)
        return NULL;
    return PyLong_FromUnsignedLong(md5_low32((const unsigned char *)data, len));
}

/* ------------------------------------------------------------------ protocol 2 pickles */

#define UNSUPPORTED 1 /* a shape this file does not write: the term goes to the fallback */

#define SEEN_SLOTS 1024 /* a power of two, well above the objects of one block */
#define SEEN_MAX 512

typedef struct {
    Buf out;
    uint32_t memo;        /* next memo slot */
    long global_slot;     /* _codecs.encode, or -1 */
    long latin1_slot;     /* the string "latin1", or -1 */
    /* bytes objects already in this pickle (by identity) and their memo slots: an open
     * addressing table whose entries count only when their generation is the pickle's */
    PyObject *seen[SEEN_SLOTS];
    uint32_t seen_slot[SEEN_SLOTS];
    uint32_t seen_generation[SEEN_SLOTS];
    uint32_t generation;
    int seen_count;
} Pickle;

static size_t
seen_index(Pickle *p, PyObject *obj)
{
    size_t i = (size_t)(((uintptr_t)obj >> 4) * 0x9E3779B97F4A7C15ULL >> 40) & (SEEN_SLOTS - 1);
    while (p->seen_generation[i] == p->generation && p->seen[i] != obj)
        i = (i + 1) & (SEEN_SLOTS - 1);
    return i;
}

static void
pk_start(Pickle *p)
{
    p->out.len = 0;
    p->memo = 0;
    p->global_slot = -1;
    p->latin1_slot = -1;
    p->seen_count = 0;
    if (++p->generation == 0) { /* wrapped: forget every entry */
        memset(p->seen_generation, 0, sizeof(p->seen_generation));
        p->generation = 1;
    }
    buf_byte(&p->out, 0x80);
    buf_byte(&p->out, 2);
}

static int
pk_put(Pickle *p, uint32_t *slot)
{
    uint32_t idx = p->memo++;
    if (slot != NULL)
        *slot = idx;
    if (idx < 256) {
        unsigned char op[2] = {'q', (unsigned char)idx};
        return buf_put(&p->out, op, 2);
    }
    unsigned char op[5] = {'r'};
    put_le32(op + 1, idx);
    return buf_put(&p->out, op, 5);
}

static int
pk_get(Pickle *p, uint32_t idx)
{
    if (idx < 256) {
        unsigned char op[2] = {'h', (unsigned char)idx};
        return buf_put(&p->out, op, 2);
    }
    unsigned char op[5] = {'j'};
    put_le32(op + 1, idx);
    return buf_put(&p->out, op, 5);
}

/* An int the pickler writes with BININT1, BININT2 or BININT (others: UNSUPPORTED). */
static int
pk_long(Pickle *p, long long v)
{
    if (v >= 0 && v <= 0xff) {
        unsigned char op[2] = {'K', (unsigned char)v};
        return buf_put(&p->out, op, 2);
    }
    if (v >= 0 && v <= 0xffff) {
        unsigned char op[3] = {'M', (unsigned char)v, (unsigned char)(v >> 8)};
        return buf_put(&p->out, op, 3);
    }
    if (v < -2147483648LL || v > 2147483647LL)
        return UNSUPPORTED;
    unsigned char op[5] = {'J'};
    put_le32(op + 1, (uint32_t)(int32_t)v);
    return buf_put(&p->out, op, 5);
}

static int
pk_float(Pickle *p, double v)
{
    unsigned char op[9] = {'G'};
    uint64_t bits;
    memcpy(&bits, &v, 8);
    for (int i = 0; i < 8; i++)
        op[1 + i] = (unsigned char)(bits >> (56 - 8 * i));
    return buf_put(&p->out, op, 9);
}

/* A tuple's closing opcode (its items written before) and its memo slot. */
static int
pk_tuple_end(Pickle *p, Py_ssize_t n)
{
    static const unsigned char small[4] = {')', 0x85, 0x86, 0x87};
    if (n == 0)
        return buf_byte(&p->out, ')'); /* the empty tuple is not memoised */
    if (buf_byte(&p->out, n <= 3 ? small[n] : 't') < 0)
        return -1;
    return pk_put(p, NULL);
}

static int
pk_tuple_start(Pickle *p, Py_ssize_t n)
{
    return n > 3 ? buf_byte(&p->out, '(') : 0;
}

/* bytes of 2 or more: _codecs.encode(text, "latin1"); ``obj`` (may be NULL) for identity.
 * A bytes object of 0 or 1 byte pickles differently (bytes(), or a text object the
 * interpreter shares): UNSUPPORTED. */
static int
pk_bytes(Pickle *p, const unsigned char *data, Py_ssize_t len, PyObject *obj)
{
    size_t where = 0;
    if (obj != NULL) {
        where = seen_index(p, obj);
        if (p->seen_generation[where] == p->generation)
            return pk_get(p, p->seen_slot[where]);
    }
    if (len < 2)
        return UNSUPPORTED;
    if (p->global_slot < 0) {
        static const char glob[] = "c_codecs\nencode\n";
        uint32_t slot;
        if (buf_put(&p->out, glob, sizeof(glob) - 1) < 0 || pk_put(p, &slot) < 0)
            return -1;
        p->global_slot = slot;
    }
    else if (pk_get(p, (uint32_t)p->global_slot) < 0)
        return -1;
    Py_ssize_t utf8 = len;
    for (Py_ssize_t i = 0; i < len; i++)
        utf8 += data[i] >> 7;
    if (utf8 > 0xffffffffLL)
        return UNSUPPORTED;
    if (buf_reserve(&p->out, 5 + utf8) < 0)
        return -1;
    unsigned char *w = p->out.data + p->out.len;
    *w++ = 'X';
    put_le32(w, (uint32_t)utf8);
    w += 4;
    for (Py_ssize_t i = 0; i < len; i++) {
        unsigned char c = data[i];
        if (c < 0x80)
            *w++ = c;
        else {
            *w++ = (unsigned char)(0xc0 | (c >> 6));
            *w++ = (unsigned char)(0x80 | (c & 0x3f));
        }
    }
    p->out.len += 5 + utf8;
    if (pk_put(p, NULL) < 0)
        return -1;
    if (p->latin1_slot < 0) {
        static const char latin1[] = "X\x06\x00\x00\x00latin1";
        uint32_t slot;
        if (buf_put(&p->out, latin1, sizeof(latin1) - 1) < 0 || pk_put(p, &slot) < 0)
            return -1;
        p->latin1_slot = slot;
    }
    else if (pk_get(p, (uint32_t)p->latin1_slot) < 0)
        return -1;
    uint32_t slot;
    if (buf_byte(&p->out, 0x86) < 0 || pk_put(p, NULL) < 0 || buf_byte(&p->out, 'R') < 0 ||
        pk_put(p, &slot) < 0)
        return -1;
    if (obj != NULL) {
        if (p->seen_count >= SEEN_MAX)
            return UNSUPPORTED;
        p->seen[where] = obj;
        p->seen_slot[where] = slot;
        p->seen_generation[where] = p->generation;
        p->seen_count++;
    }
    return 0;
}

static int
pk_stop(Pickle *p)
{
    return buf_byte(&p->out, '.');
}

/* ------------------------------------------------------------------ one term */

typedef struct {
    /* per field */
    const unsigned char *lengths; /* each document's length byte (0: none) */
    Py_ssize_t doc_count;
    long long byte_length[256];  /* whoosh's byte_to_length */
    const unsigned char *table;  /* length_to_byte for lengths below table_len */
    Py_ssize_t table_len;
    long fixedsize;              /* <0: values kept apart, 0: no values, >0: joined */
    Py_ssize_t blocklimit;
    int compression;
    Py_ssize_t min_size;
    PyObject *compress;          /* zlib.compress */
    /* scratch */
    Pickle info, data;
    Buf joined;
    long long *ids;
    double *raw;
    PyObject **values;
    Py_ssize_t scratch;
} Term;

static unsigned char
length_byte(Term *t, long long length)
{
    if (length < 0) /* no length: None */
        return 0;
    if (length >= t->table_len)
        return 255;
    return t->table[length];
}

static int
doc_length(Term *t, long long docnum, long long *length)
{
    if (docnum < 0 || docnum >= t->doc_count) {
        PyErr_SetString(PyExc_IndexError, "document number beyond the field lengths");
        return -1;
    }
    unsigned char b = t->lengths[docnum];
    *length = b ? t->byte_length[b] : 0;
    return 0;
}

/* Reads a term's postings into the scratch arrays; UNSUPPORTED for shapes left to Python. */
static int
read_postings(Term *t, PyObject *postings, Py_ssize_t count)
{
    if (count > t->scratch) {
        Py_ssize_t n = count * 2;
        long long *ids = PyMem_Realloc(t->ids, n * sizeof(long long));
        if (ids == NULL)
            goto nomem;
        t->ids = ids;
        double *raw = PyMem_Realloc(t->raw, n * sizeof(double));
        if (raw == NULL)
            goto nomem;
        t->raw = raw;
        PyObject **values = PyMem_Realloc(t->values, n * sizeof(PyObject *));
        if (values == NULL)
            goto nomem;
        t->values = values;
        t->scratch = n;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *posting = PyList_GET_ITEM(postings, i);
        if (!PyTuple_CheckExact(posting) || PyTuple_GET_SIZE(posting) != 3)
            return UNSUPPORTED;
        PyObject *docnum = PyTuple_GET_ITEM(posting, 0);
        PyObject *weight = PyTuple_GET_ITEM(posting, 1);
        PyObject *value = PyTuple_GET_ITEM(posting, 2);
        if (!PyLong_CheckExact(docnum) || !PyFloat_CheckExact(weight))
            return UNSUPPORTED;
        int overflow;
        long long id = PyLong_AsLongLongAndOverflow(docnum, &overflow);
        if (overflow || id < 0 || id > 2147483647LL)
            return UNSUPPORTED;
        if (value != Py_None && !PyBytes_CheckExact(value))
            return UNSUPPORTED;
        t->ids[i] = id;
        t->raw[i] = PyFloat_AS_DOUBLE(weight);
        t->values[i] = value;
    }
    return 0;
nomem:
    PyErr_NoMemory();
    return -1;
}

/* The block's data pickle: (delta ids, weights, values). */
static int
block_data(Term *t, Py_ssize_t from, Py_ssize_t n)
{
    Pickle *p = &t->data;
    int rc;
    pk_start(p);
    /* ids, delta-encoded */
    if (pk_tuple_start(p, n) < 0)
        return -1;
    long long previous = 0;
    for (Py_ssize_t i = from; i < from + n; i++) {
        if ((rc = pk_long(p, t->ids[i] - previous)) != 0)
            return rc;
        previous = t->ids[i];
    }
    if (pk_tuple_end(p, n) < 0)
        return -1;
    /* weights, as array("f") stores them: None when all are 1, one float when all equal */
    double first = (double)(float)t->raw[from];
    int all_one = 1, all_same = 1;
    for (Py_ssize_t i = from; i < from + n; i++) {
        double w = (double)(float)t->raw[i];
        all_one &= (w == 1.0);
        all_same &= (w == first);
    }
    if (all_one)
        rc = buf_byte(&p->out, 'N');
    else if (all_same)
        rc = pk_float(p, first);
    else {
        rc = pk_tuple_start(p, n);
        for (Py_ssize_t i = from; rc == 0 && i < from + n; i++)
            rc = pk_float(p, (double)(float)t->raw[i]);
        if (rc == 0)
            rc = pk_tuple_end(p, n);
    }
    if (rc != 0)
        return rc;
    /* values: empty ones left out */
    if (t->fixedsize == 0)
        rc = buf_byte(&p->out, 'N');
    else if (t->fixedsize < 0) {
        Py_ssize_t kept = 0;
        for (Py_ssize_t i = from; i < from + n; i++)
            if (t->values[i] != Py_None && PyBytes_GET_SIZE(t->values[i]) > 0)
                kept++;
        rc = pk_tuple_start(p, kept);
        for (Py_ssize_t i = from; rc == 0 && i < from + n; i++) {
            PyObject *v = t->values[i];
            if (v == Py_None || PyBytes_GET_SIZE(v) == 0)
                continue;
            rc = pk_bytes(p, (const unsigned char *)PyBytes_AS_STRING(v), PyBytes_GET_SIZE(v), v);
        }
        if (rc == 0)
            rc = pk_tuple_end(p, kept);
    }
    else {
        t->joined.len = 0;
        for (Py_ssize_t i = from; i < from + n; i++) {
            PyObject *v = t->values[i];
            if (v != Py_None &&
                buf_put(&t->joined, PyBytes_AS_STRING(v), PyBytes_GET_SIZE(v)) < 0)
                return -1;
        }
        rc = pk_bytes(p, t->joined.data, t->joined.len, NULL);
    }
    if (rc != 0)
        return rc;
    if (pk_tuple_end(p, 3) < 0 || pk_stop(p) < 0)
        return -1;
    return 0;
}

/* One term: its posting bytes into ``post`` (starting at file offset ``start``) and its
 * W3TermInfo value into ``value`` (35 bytes). */
static int
encode_term(Term *t, PyObject *postings, long long start, Buf *post, unsigned char *value)
{
    Py_ssize_t count = PyList_GET_SIZE(postings);
    if (count == 0)
        return UNSUPPORTED;
    int rc = read_postings(t, postings, count);
    if (rc != 0)
        return rc;
    Py_ssize_t mark = post->len;
    if (buf_put(post, "W3Bl", 4) < 0)
        return -1;
    double total_weight = 0.0;
    long long min_length = -1; /* none yet */
    long long max_length = 0;
    double max_weight = 0.0;
    for (Py_ssize_t from = 0; from < count; from += t->blocklimit) {
        Py_ssize_t n = count - from < t->blocklimit ? count - from : t->blocklimit;
        if ((rc = block_data(t, from, n)) != 0)
            goto undo;
        PyObject *compressed = NULL;
        const unsigned char *data = t->data.out.data;
        Py_ssize_t data_len = t->data.out.len;
        int level = data_len >= t->min_size ? t->compression : 0;
        if (level) {
            compressed = PyObject_CallFunction(
                t->compress, "y#i", (const char *)data, data_len, level);
            if (compressed == NULL)
                return -1;
            data = (const unsigned char *)PyBytes_AS_STRING(compressed);
            data_len = PyBytes_GET_SIZE(compressed);
        }
        long long block_min = -1, block_max = 0;
        double block_weight = 0.0; /* max(0, max(raw weights)): the int 0 unless positive */
        int weight_is_int_zero = 1;
        double block_sum = 0.0;
        for (Py_ssize_t i = from; i < from + n; i++) {
            long long length;
            if (doc_length(t, t->ids[i], &length) < 0) {
                Py_XDECREF(compressed);
                return -1;
            }
            if (length != 0) {
                if (block_min < 0 || length < block_min)
                    block_min = length;
                if (length > block_max)
                    block_max = length;
            }
            block_sum += (double)(float)t->raw[i];
        }
        double top = t->raw[from];
        for (Py_ssize_t i = from + 1; i < from + n; i++)
            if (t->raw[i] > top)
                top = t->raw[i];
        if (top > 0) {
            block_weight = top;
            weight_is_int_zero = 0;
        }
        Pickle *p = &t->info;
        pk_start(p);
        rc = pk_tuple_start(p, 6);
        if (rc == 0)
            rc = pk_long(p, n);
        if (rc == 0)
            rc = pk_long(p, t->ids[from + n - 1]);
        if (rc == 0)
            rc = weight_is_int_zero ? pk_long(p, 0) : pk_float(p, block_weight);
        if (rc == 0)
            rc = pk_long(p, level);
        if (rc == 0)
            rc = pk_long(p, length_byte(t, block_min));
        if (rc == 0)
            rc = pk_long(p, length_byte(t, block_max));
        if (rc == 0)
            rc = pk_tuple_end(p, 6);
        if (rc == 0)
            rc = pk_stop(p);
        if (rc != 0) {
            Py_XDECREF(compressed);
            goto undo;
        }
        Py_ssize_t size = p->out.len + data_len;
        int last = from + t->blocklimit >= count;
        rc = buf_be32(post, (uint32_t)(int32_t)(last ? -size : size));
        if (rc == 0)
            rc = buf_put(post, p->out.data, p->out.len);
        if (rc == 0)
            rc = buf_put(post, data, data_len);
        Py_XDECREF(compressed);
        if (rc != 0)
            return -1;
        total_weight += block_sum;
        if (min_length < 0)
            min_length = block_min;
        else if (block_min >= 0 && block_min < min_length)
            min_length = block_min;
        if (block_max > max_length)
            max_length = block_max;
        if (!weight_is_int_zero && block_weight > max_weight)
            max_weight = block_weight;
    }
    /* W3TermInfo: "!BfIBBfII" then the offset ("!q") and length ("!i") of the postings */
    Buf v = {value, 0, 35};
    buf_byte(&v, 0);
    buf_be_float(&v, total_weight);
    buf_be32(&v, (uint32_t)count);
    buf_byte(&v, length_byte(t, min_length));
    buf_byte(&v, length_byte(t, max_length));
    buf_be_float(&v, max_weight);
    buf_be32(&v, (uint32_t)t->ids[0]);
    buf_be32(&v, (uint32_t)t->ids[count - 1]);
    buf_be32(&v, (uint32_t)((unsigned long long)start >> 32));
    buf_be32(&v, (uint32_t)start);
    buf_be32(&v, (uint32_t)(int32_t)(post->len - mark));
    return 0;
undo:
    post->len = mark;
    return rc;
}

/* ------------------------------------------------------------------ the field's terms */

static PyObject *
fw_write_terms(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"terms", "prefix", "lastkey", "lengths", "byte_lengths", "length_table",
                             "fixedsize", "blocklimit", "compression", "min_size",
                             "post_base", "term_base", "post_write", "term_write",
                             "index", "buckets", "fallback", "compress", "flush_bytes",
                             NULL};
    PyObject *terms, *byte_lengths, *post_write, *term_write, *index, *buckets, *fallback,
        *compress;
    Py_buffer prefix, lastkey_in, lengths, table;
    long fixedsize;
    Py_ssize_t blocklimit, min_size, flush_bytes;
    int compression;
    long long post_base, term_base;
    if (!PyArg_ParseTupleAndKeywords(
            args, kwargs, "Oy*y*y*Oy*lninLLOOO!O!OOn", kwlist, &terms, &prefix, &lastkey_in,
            &lengths, &byte_lengths, &table, &fixedsize, &blocklimit, &compression, &min_size,
            &post_base, &term_base, &post_write, &term_write, &PyList_Type, &index,
            &PyList_Type, &buckets, &fallback, &compress, &flush_bytes))
        return NULL;
    PyObject *result = NULL, *iterator = NULL, *entry = NULL;
    Term t = {0};
    Buf post = {0}, term = {0}, key = {0}, lastkey = {0};
    t.lengths = lengths.buf;
    t.doc_count = lengths.len;
    PyObject *seq = PySequence_Fast(byte_lengths, "byte_lengths must be a sequence");
    if (seq == NULL)
        goto done;
    if (PySequence_Fast_GET_SIZE(seq) != 256) {
        Py_DECREF(seq);
        PyErr_SetString(PyExc_ValueError, "byte_lengths must have 256 entries");
        goto done;
    }
    for (int i = 0; i < 256; i++) {
        t.byte_length[i] = PyLong_AsLongLong(PySequence_Fast_GET_ITEM(seq, i));
        if (t.byte_length[i] == -1 && PyErr_Occurred()) {
            Py_DECREF(seq);
            goto done;
        }
    }
    Py_DECREF(seq);
    t.table = table.buf;
    t.table_len = table.len;
    t.fixedsize = fixedsize;
    t.blocklimit = blocklimit > 0 ? blocklimit : 1;
    t.compression = compression;
    t.min_size = min_size;
    t.compress = compress;
    if (PyList_GET_SIZE(buckets) != 256) {
        PyErr_SetString(PyExc_ValueError, "buckets must be a list of 256 lists");
        goto done;
    }
    if (buf_put(&lastkey, lastkey_in.buf, lastkey_in.len) < 0)
        goto done;
    iterator = PyObject_GetIter(terms);
    if (iterator == NULL)
        goto done;
    while ((entry = PyIter_Next(iterator)) != NULL) {
        /* ((fieldname, term bytes), postings) */
        PyObject *name_term, *tbytes, *postings;
        if (!PyTuple_Check(entry) || PyTuple_GET_SIZE(entry) != 2 ||
            !PyTuple_Check(name_term = PyTuple_GET_ITEM(entry, 0)) ||
            PyTuple_GET_SIZE(name_term) != 2 ||
            !PyBytes_Check(tbytes = PyTuple_GET_ITEM(name_term, 1)) ||
            !PyList_Check(postings = PyTuple_GET_ITEM(entry, 1))) {
            PyErr_SetString(PyExc_TypeError, "expected ((fieldname, term bytes), postings list)");
            goto done;
        }
        long long start = post_base + post.len;
        unsigned char value[35];
        Py_ssize_t value_len = 35;
        PyObject *fallen = NULL;
        int rc = encode_term(&t, postings, start, &post, value);
        if (rc < 0)
            goto done;
        if (rc == UNSUPPORTED) {
            fallen = PyObject_CallFunction(fallback, "OL", postings, start);
            if (fallen == NULL)
                goto done;
            char *chunk, *val;
            Py_ssize_t chunk_len;
            if (!PyTuple_Check(fallen) || PyTuple_GET_SIZE(fallen) != 2 ||
                PyBytes_AsStringAndSize(PyTuple_GET_ITEM(fallen, 0), &chunk, &chunk_len) < 0 ||
                PyBytes_AsStringAndSize(PyTuple_GET_ITEM(fallen, 1), &val, &value_len) < 0 ||
                value_len > 35 || buf_put(&post, chunk, chunk_len) < 0) {
                if (!PyErr_Occurred())
                    PyErr_SetString(PyExc_ValueError, "fallback gave an unexpected result");
                Py_DECREF(fallen);
                goto done;
            }
            memcpy(value, val, value_len);
            Py_DECREF(fallen);
        }
        /* the key: field prefix + term, strictly increasing */
        key.len = 0;
        if (buf_put(&key, prefix.buf, prefix.len) < 0 ||
            buf_put(&key, PyBytes_AS_STRING(tbytes), PyBytes_GET_SIZE(tbytes)) < 0)
            goto done;
        Py_ssize_t common = key.len < lastkey.len ? key.len : lastkey.len;
        int cmp = common ? memcmp(key.data, lastkey.data, common) : 0;
        if (cmp < 0 || (cmp == 0 && key.len <= lastkey.len)) {
            PyObject *k = PyBytes_FromStringAndSize((const char *)key.data, key.len);
            PyObject *l = PyBytes_FromStringAndSize((const char *)lastkey.data, lastkey.len);
            if (k != NULL && l != NULL)
                PyErr_Format(PyExc_ValueError, "Keys must increase: %R..%R", l, k);
            Py_XDECREF(k);
            Py_XDECREF(l);
            goto done;
        }
        lastkey.len = 0;
        if (buf_put(&lastkey, key.data, key.len) < 0)
            goto done;
        /* the term file entry ("!ii" lengths, key, value) and the hash file's slots */
        long long position = term_base + term.len;
        if (buf_be32(&term, (uint32_t)key.len) < 0 || buf_be32(&term, (uint32_t)value_len) < 0 ||
            buf_put(&term, key.data, key.len) < 0 || buf_put(&term, value, value_len) < 0)
            goto done;
        PyObject *pos = PyLong_FromLongLong(position);
        if (pos == NULL)
            goto done;
        uint32_t h = md5_low32(key.data, key.len);
        PyObject *pair = Py_BuildValue("(kO)", (unsigned long)h, pos);
        int bad = pair == NULL || PyList_Append(index, pos) < 0 ||
                  PyList_Append(PyList_GET_ITEM(buckets, h & 255), pair) < 0;
        Py_DECREF(pos);
        Py_XDECREF(pair);
        if (bad)
            goto done;
        Py_CLEAR(entry);
        if (post.len >= flush_bytes) {
            post_base += post.len;
            if (buf_flush(&post, post_write) < 0)
                goto done;
        }
        if (term.len >= flush_bytes) {
            term_base += term.len;
            if (buf_flush(&term, term_write) < 0)
                goto done;
        }
    }
    if (PyErr_Occurred())
        goto done;
    post_base += post.len;
    term_base += term.len;
    if (buf_flush(&post, post_write) < 0 || buf_flush(&term, term_write) < 0)
        goto done;
    result = Py_BuildValue("LLy#", post_base, term_base, (const char *)lastkey.data, lastkey.len);
done:
    Py_XDECREF(entry);
    Py_XDECREF(iterator);
    PyBuffer_Release(&prefix);
    PyBuffer_Release(&lastkey_in);
    PyBuffer_Release(&lengths);
    PyBuffer_Release(&table);
    PyMem_Free(post.data);
    PyMem_Free(term.data);
    PyMem_Free(key.data);
    PyMem_Free(lastkey.data);
    PyMem_Free(t.info.out.data);
    PyMem_Free(t.data.out.data);
    PyMem_Free(t.joined.data);
    PyMem_Free(t.ids);
    PyMem_Free(t.raw);
    PyMem_Free(t.values);
    return result;
}

/* ------------------------------------------------------------------ the posting pool */

/* One posting into a field's pool: terms[tbytes] gets (docnum, weight, vbytes) appended
 * (a new list for a new term). Steals nothing; returns 0 or -1. */
static int
pool_append(PyObject *terms, PyObject *tbytes, PyObject *docnum, PyObject *weight,
            PyObject *vbytes)
{
    PyObject *posting = PyTuple_Pack(3, docnum, weight, vbytes);
    if (posting == NULL)
        return -1;
    PyObject *postings = PyDict_GetItemWithError(terms, tbytes); /* borrowed */
    int rc;
    if (postings != NULL)
        rc = PyList_Append(postings, posting);
    else if (PyErr_Occurred())
        rc = -1;
    else {
        PyObject *list = PyList_New(1);
        if (list == NULL)
            rc = -1;
        else {
            Py_INCREF(posting);
            PyList_SET_ITEM(list, 0, posting);
            rc = PyDict_SetItem(terms, tbytes, list);
            Py_DECREF(list);
        }
    }
    Py_DECREF(posting);
    return rc;
}

/* pool_add_items(terms, docnum, items): TermPool.add_terms's loop over (tbytes, weight,
 * vbytes) items. */
static PyObject *
fw_pool_add_items(PyObject *self, PyObject *args)
{
    PyObject *terms, *docnum, *items;
    if (!PyArg_ParseTuple(args, "O!OO!", &PyDict_Type, &terms, &docnum, &PyList_Type, &items))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(items);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyList_GET_ITEM(items, i);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 3) {
            PyErr_SetString(PyExc_TypeError, "items are (term bytes, weight, value bytes)");
            return NULL;
        }
        if (pool_append(terms, PyTuple_GET_ITEM(item, 0), docnum, PyTuple_GET_ITEM(item, 1),
                        PyTuple_GET_ITEM(item, 2)) < 0)
            return NULL;
    }
    return PyLong_FromSsize_t(n);
}

/* pack_uint(count) + pickle.dumps(gaps, 2): whoosh's Positions.encode, as
 * search.backend.encode_positions makes it. */
static PyObject *
encode_positions(Pickle *p, PyObject *positions)
{
    Py_ssize_t n = PyList_GET_SIZE(positions);
    p->out.len = 0;
    p->memo = 0;
    unsigned char head[4];
    put_be32(head, (uint32_t)n);
    if (buf_put(&p->out, head, 4) < 0 || buf_byte(&p->out, 0x80) < 0 ||
        buf_byte(&p->out, 2) < 0 || buf_byte(&p->out, ']') < 0 || pk_put(p, NULL) < 0)
        return NULL;
    long long previous = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (n > 1 && i % 1000 == 0 && buf_byte(&p->out, '(') < 0)
            return NULL;
        PyObject *item = PyList_GET_ITEM(positions, i);
        if (!PyLong_CheckExact(item)) {
            PyErr_SetString(PyExc_TypeError, "positions are ints");
            return NULL;
        }
        long long at = PyLong_AsLongLong(item);
        if (at == -1 && PyErr_Occurred())
            return NULL;
        int rc = pk_long(p, at - previous);
        if (rc < 0)
            return NULL;
        if (rc == UNSUPPORTED) {
            PyErr_SetString(PyExc_OverflowError, "a position gap beyond 32 bits");
            return NULL;
        }
        previous = at;
        if (n > 1 && (i % 1000 == 999 || i == n - 1) && buf_byte(&p->out, 'e') < 0)
            return NULL;
    }
    if (n == 1 && buf_byte(&p->out, 'a') < 0)
        return NULL;
    if (pk_stop(p) < 0)
        return NULL;
    return PyBytes_FromStringAndSize((const char *)p->out.data, p->out.len);
}

/* One term's posting weight and value bytes from its ascending positions ``poses`` (a
 * list): the weight is their count times ``boost``; the value their encoding (or,
 * frequency_only, pack_uint of their count); a single position's bytes come from
 * ``singles`` (position → bytes), the same objects the Python path shares, added there
 * while it holds fewer than ``singles_limit``. 0, or -1 with an exception set. */
static int
encode_posting(Pickle *p, PyObject *poses, double boost, int frequency_only, PyObject *singles,
               Py_ssize_t singles_limit, PyObject **weight_out, PyObject **vbytes_out)
{
    Py_ssize_t count = PyList_GET_SIZE(poses);
    PyObject *weight = PyFloat_FromDouble((double)count * boost);
    PyObject *vbytes = NULL;
    if (weight == NULL)
        return -1;
    if (frequency_only) {
        unsigned char v[4];
        put_be32(v, (uint32_t)count);
        vbytes = PyBytes_FromStringAndSize((const char *)v, 4);
    }
    else if (count == 1) {
        PyObject *at = PyList_GET_ITEM(poses, 0);
        vbytes = PyDict_GetItemWithError(singles, at);
        if (vbytes != NULL)
            Py_INCREF(vbytes);
        else if (!PyErr_Occurred()) {
            vbytes = encode_positions(p, poses);
            if (vbytes != NULL && PyDict_GET_SIZE(singles) < singles_limit &&
                PyDict_SetItem(singles, at, vbytes) < 0)
                Py_CLEAR(vbytes);
        }
    }
    else
        vbytes = encode_positions(p, poses);
    if (vbytes == NULL) {
        Py_DECREF(weight);
        return -1;
    }
    *weight_out = weight;
    *vbytes_out = vbytes;
    return 0;
}

/* The shared walk of pool_add_positions and position_items: each term of a term →
 * ascending positions dict with its weight and value (encode_posting), handed to
 * ``take`` with the term's UTF-8 bytes; ``length`` gets the sum of the counts. */
typedef int (*posting_sink)(void *target, PyObject *docnum, PyObject *tbytes, PyObject *weight,
                            PyObject *vbytes);

static int
walk_positions(PyObject *positions, double boost, int frequency_only, PyObject *singles,
               Py_ssize_t singles_limit, posting_sink take, void *target, PyObject *docnum,
               Py_ssize_t *added, Py_ssize_t *length)
{
    Pickle p;
    p.out.data = NULL;
    p.out.len = p.out.cap = 0;
    Py_ssize_t pos = 0;
    PyObject *term, *poses;
    int rc = 0;
    while (PyDict_Next(positions, &pos, &term, &poses)) {
        if (!PyUnicode_Check(term) || !PyList_Check(poses)) {
            PyErr_SetString(PyExc_TypeError, "positions map str terms to lists");
            rc = -1;
            break;
        }
        PyObject *tbytes = PyUnicode_AsUTF8String(term);
        if (tbytes == NULL) {
            rc = -1;
            break;
        }
        PyObject *weight, *vbytes;
        if (encode_posting(&p, poses, boost, frequency_only, singles, singles_limit, &weight,
                           &vbytes) < 0) {
            Py_DECREF(tbytes);
            rc = -1;
            break;
        }
        rc = take(target, docnum, tbytes, weight, vbytes);
        Py_DECREF(tbytes);
        Py_DECREF(weight);
        Py_DECREF(vbytes);
        if (rc < 0)
            break;
        (*added)++;
        *length += PyList_GET_SIZE(poses);
    }
    PyMem_Free(p.out.data);
    return rc;
}

static int
sink_pool(void *terms, PyObject *docnum, PyObject *tbytes, PyObject *weight, PyObject *vbytes)
{
    return pool_append((PyObject *)terms, tbytes, docnum, weight, vbytes);
}

static int
sink_list(void *items, PyObject *docnum, PyObject *tbytes, PyObject *weight, PyObject *vbytes)
{
    PyObject *item = PyTuple_Pack(3, tbytes, weight, vbytes);
    if (item == NULL)
        return -1;
    int rc = PyList_Append((PyObject *)items, item);
    Py_DECREF(item);
    return rc;
}

/* pool_add_positions(terms, docnum, positions, boost, frequency_only, singles,
 * singles_limit) -> (postings added, field length): _AnalysedText._pool_entries and
 * TermPool.add_terms in one pass over a term → ascending positions dict. */
static PyObject *
fw_pool_add_positions(PyObject *self, PyObject *args)
{
    PyObject *terms, *docnum, *positions, *singles;
    double boost;
    int frequency_only;
    Py_ssize_t singles_limit;
    if (!PyArg_ParseTuple(args, "O!OO!dpO!n", &PyDict_Type, &terms, &docnum, &PyDict_Type,
                          &positions, &boost, &frequency_only, &PyDict_Type, &singles,
                          &singles_limit))
        return NULL;
    Py_ssize_t added = 0, length = 0;
    if (walk_positions(positions, boost, frequency_only, singles, singles_limit, sink_pool,
                       terms, docnum, &added, &length) < 0)
        return NULL;
    return Py_BuildValue("nn", added, length);
}

/* position_items(positions, boost, frequency_only, singles, singles_limit) ->
 * ([(term bytes, weight, value bytes)], field length): _AnalysedText._pool_entries's
 * items (what TermPool.add_terms takes) from a term → ascending positions dict. */
static PyObject *
fw_position_items(PyObject *self, PyObject *args)
{
    PyObject *positions, *singles;
    double boost;
    int frequency_only;
    Py_ssize_t singles_limit;
    if (!PyArg_ParseTuple(args, "O!dpO!n", &PyDict_Type, &positions, &boost, &frequency_only,
                          &PyDict_Type, &singles, &singles_limit))
        return NULL;
    PyObject *items = PyList_New(0);
    if (items == NULL)
        return NULL;
    Py_ssize_t added = 0, length = 0;
    if (walk_positions(positions, boost, frequency_only, singles, singles_limit, sink_list,
                       items, Py_None, &added, &length) < 0) {
        Py_DECREF(items);
        return NULL;
    }
    PyObject *result = Py_BuildValue("Nn", items, length);
    return result;
}

/* ------------------------------------------------------------------ word stream */

/* term → ascending positions: ``at`` appended to the term's list unless it is already its
 * last position (search.analysis.word_positions's ``put``). */
static int
put_position(PyObject *positions, PyObject *term, Py_ssize_t at)
{
    PyObject *slots = PyDict_GetItemWithError(positions, term);
    if (slots == NULL) {
        if (PyErr_Occurred())
            return -1;
        PyObject *number = PyLong_FromSsize_t(at);
        if (number == NULL)
            return -1;
        slots = PyList_New(1);
        if (slots == NULL) {
            Py_DECREF(number);
            return -1;
        }
        PyList_SET_ITEM(slots, 0, number);
        int rc = PyDict_SetItem(positions, term, slots);
        Py_DECREF(slots);
        return rc;
    }
    Py_ssize_t n = PyList_GET_SIZE(slots);
    Py_ssize_t last = PyLong_AsSsize_t(PyList_GET_ITEM(slots, n - 1));
    if (last == -1 && PyErr_Occurred())
        return -1;
    if (last == at)
        return 0;
    PyObject *number = PyLong_FromSsize_t(at);
    if (number == NULL)
        return -1;
    int rc = PyList_Append(slots, number);
    Py_DECREF(number);
    return rc;
}

/* word_positions(pieces, piece_cache, piece_info, stop_words, units, is_number,
 * doc_numbers) -> term → ascending positions: search.analysis.word_positions's walk over
 * the segmenter's pieces of a normalised text (its Python twin is _walk_words; tests
 * compare the two). ``piece_cache`` is the lexicon's memo of piece_info, which is called
 * for a piece it lacks; ``is_number(text)`` is true for a number a unit may follow;
 * ``doc_numbers`` maps a piece's start offset to its (issuer, whole number) pairs, or is
 * None. */
static PyObject *
fw_word_positions(PyObject *self, PyObject *args)
{
    PyObject *pieces, *cache, *info, *stop_words, *units, *is_number, *doc_numbers;
    if (!PyArg_ParseTuple(args, "O!O!OOOOO", &PyList_Type, &pieces, &PyDict_Type, &cache, &info,
                          &stop_words, &units, &is_number, &doc_numbers))
        return NULL;
    if (doc_numbers != Py_None && !PyDict_Check(doc_numbers)) {
        PyErr_SetString(PyExc_TypeError, "doc_numbers is a dict or None");
        return NULL;
    }
    PyObject *positions = PyDict_New();
    if (positions == NULL)
        return NULL;
    Py_ssize_t pos = 0, start = 0;
    PyObject *previous = NULL; /* borrowed from pieces: the previous kept word */
    Py_ssize_t previous_pos = 0, previous_end = -1;
    Py_ssize_t count = PyList_GET_SIZE(pieces);
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *piece = PyList_GET_ITEM(pieces, i);
        if (!PyUnicode_CheckExact(piece)) {
            PyErr_SetString(PyExc_TypeError, "pieces are str");
            goto fail;
        }
        Py_ssize_t end = start + PyUnicode_GET_LENGTH(piece);
        PyObject *subs = PyDict_GetItemWithError(cache, piece);
        PyObject *owned = NULL;
        if (subs == NULL) {
            if (PyErr_Occurred())
                goto fail;
            subs = owned = PyObject_CallOneArg(info, piece);
            if (subs == NULL)
                goto fail;
        }
        if (subs == Py_None) { /* whitespace and punctuation */
            Py_XDECREF(owned);
            start = end;
            continue;
        }
        if (!PyTuple_Check(subs)) {
            Py_XDECREF(owned);
            PyErr_SetString(PyExc_TypeError, "piece_info gives a tuple or None");
            goto fail;
        }
        int stop = PySequence_Contains(stop_words, piece);
        if (stop < 0) {
            Py_XDECREF(owned);
            goto fail;
        }
        if (stop) {
            Py_XDECREF(owned);
            pos++;
            previous = NULL;
            start = end;
            continue;
        }
        int rc = put_position(positions, piece, pos);
        for (Py_ssize_t k = 0; rc == 0 && k < PyTuple_GET_SIZE(subs); k++)
            rc = put_position(positions, PyTuple_GET_ITEM(subs, k), pos);
        Py_XDECREF(owned);
        if (rc < 0)
            goto fail;
        if (previous != NULL && previous_end == start) {
            int unit = PySequence_Contains(units, piece);
            if (unit < 0)
                goto fail;
            if (unit) {
                PyObject *match = PyObject_CallOneArg(is_number, previous);
                if (match == NULL)
                    goto fail;
                int number = PyObject_IsTrue(match);
                Py_DECREF(match);
                if (number < 0)
                    goto fail;
                if (number) {
                    PyObject *compound = PyUnicode_Concat(previous, piece);
                    if (compound == NULL)
                        goto fail;
                    rc = put_position(positions, compound, previous_pos);
                    Py_DECREF(compound);
                    if (rc < 0)
                        goto fail;
                }
            }
        }
        if (doc_numbers != Py_None) {
            PyObject *key = PyLong_FromSsize_t(start);
            if (key == NULL)
                goto fail;
            PyObject *found = PyDict_GetItemWithError(doc_numbers, key);
            Py_DECREF(key);
            if (found == NULL && PyErr_Occurred())
                goto fail;
            if (found != NULL) {
                if (!PyList_Check(found)) {
                    PyErr_SetString(PyExc_TypeError, "doc_numbers maps starts to lists");
                    goto fail;
                }
                for (Py_ssize_t k = 0; k < PyList_GET_SIZE(found); k++) {
                    PyObject *pair = PyList_GET_ITEM(found, k);
                    if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
                        PyErr_SetString(PyExc_TypeError, "doc_numbers holds (issuer, whole) pairs");
                        goto fail;
                    }
                    PyObject *issuer = PyTuple_GET_ITEM(pair, 0);
                    int same = PyObject_RichCompareBool(issuer, piece, Py_EQ);
                    if (same < 0)
                        goto fail;
                    if (!same && put_position(positions, issuer, pos) < 0)
                        goto fail;
                    if (put_position(positions, PyTuple_GET_ITEM(pair, 1), pos) < 0)
                        goto fail;
                }
            }
        }
        previous = piece;
        previous_pos = pos;
        previous_end = end;
        pos++;
        start = end;
    }
    /* secondary tokens (a number + unit compound) may come after later positions */
    Py_ssize_t at = 0;
    PyObject *term, *slots;
    while (PyDict_Next(positions, &at, &term, &slots)) {
        Py_ssize_t n = PyList_GET_SIZE(slots);
        for (Py_ssize_t k = 1; k < n; k++) {
            int less = PyObject_RichCompareBool(PyList_GET_ITEM(slots, k),
                                                PyList_GET_ITEM(slots, k - 1), Py_LT);
            if (less < 0)
                goto fail;
            if (less) {
                if (PyList_Sort(slots) < 0)
                    goto fail;
                break;
            }
        }
    }
    return positions;
fail:
    Py_DECREF(positions);
    return NULL;
}

/* ------------------------------------------------------------------ hash tables */

/* hash_tables(buckets, start) -> (bytes, directory): what whoosh's
 * HashWriter._write_hashes writes from its 256 buckets of (hash, key position) pairs,
 * the tables starting at file offset ``start``, and the (table offset, slot count) pairs
 * it appends to its directory. Each bucket's table has twice its entries' slots; an entry
 * goes to slot (hash >> 8) % slots, or the next free one after it (wrapping); a slot is
 * written as its hash (unsigned 32 bits) and key position (signed 64 bits), big-endian,
 * a free one as two zeros. */
static PyObject *
fw_hash_tables(PyObject *self, PyObject *args)
{
    PyObject *buckets;
    long long start;
    if (!PyArg_ParseTuple(args, "O!L", &PyList_Type, &buckets, &start))
        return NULL;
    if (PyList_GET_SIZE(buckets) != 256) {
        PyErr_SetString(PyExc_ValueError, "buckets must be a list of 256 lists");
        return NULL;
    }
    Py_ssize_t total = 0;
    for (Py_ssize_t b = 0; b < 256; b++) {
        PyObject *entries = PyList_GET_ITEM(buckets, b);
        if (!PyList_Check(entries)) {
            PyErr_SetString(PyExc_TypeError, "a bucket is a list");
            return NULL;
        }
        total += 2 * PyList_GET_SIZE(entries);
    }
    PyObject *data = PyBytes_FromStringAndSize(NULL, total * 12);
    if (data == NULL)
        return NULL;
    unsigned char *out = (unsigned char *)PyBytes_AS_STRING(data);
    memset(out, 0, (size_t)total * 12);
    PyObject *directory = PyList_New(256);
    unsigned char *taken = total ? PyMem_Calloc((size_t)total, 1) : NULL;
    if (directory == NULL || (total && taken == NULL)) {
        Py_DECREF(data);
        Py_XDECREF(directory);
        PyMem_Free(taken);
        return PyErr_NoMemory();
    }
    Py_ssize_t base = 0; /* this table's first slot */
    for (Py_ssize_t b = 0; b < 256; b++) {
        PyObject *entries = PyList_GET_ITEM(buckets, b);
        Py_ssize_t count = PyList_GET_SIZE(entries), slots = 2 * count;
        PyObject *entry = Py_BuildValue("(Ln)", start + (long long)base * 12, slots);
        if (entry == NULL)
            goto fail;
        PyList_SET_ITEM(directory, b, entry);
        for (Py_ssize_t i = 0; i < count; i++) {
            PyObject *pair = PyList_GET_ITEM(entries, i);
            if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
                PyErr_SetString(PyExc_TypeError, "a bucket entry is a (hash, position) pair");
                goto fail;
            }
            unsigned long long h = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(pair, 0));
            if (h == (unsigned long long)-1 && PyErr_Occurred())
                goto fail;
            long long at = PyLong_AsLongLong(PyTuple_GET_ITEM(pair, 1));
            if (at == -1 && PyErr_Occurred())
                goto fail;
            if (h > 0xFFFFFFFFULL || at <= 0) {
                PyErr_SetString(PyExc_ValueError, "a hash beyond 32 bits or a position before the header");
                goto fail;
            }
            Py_ssize_t slot = (Py_ssize_t)((h >> 8) % (unsigned long long)slots);
            while (taken[base + slot])
                slot = (slot + 1) % slots;
            taken[base + slot] = 1;
            unsigned char *cell = out + (base + slot) * 12;
            put_be32(cell, (uint32_t)h);
            put_be32(cell + 4, (uint32_t)((unsigned long long)at >> 32));
            put_be32(cell + 8, (uint32_t)((unsigned long long)at & 0xFFFFFFFFULL));
        }
        base += slots;
    }
    PyMem_Free(taken);
    return Py_BuildValue("(NN)", data, directory);
fail:
    PyMem_Free(taken);
    Py_DECREF(data);
    Py_DECREF(directory);
    return NULL;
}

#ifdef HAVE_ZLIB
/* ------------------------------------------------------------------ zlib */

/* One deflate stream per level (-1..9), set up once and reset for each call: zlib's set-up
 * (allocating and clearing ~256 KB of window and hash tables) cost ~60 µs a call, more
 * than compressing a posting block or a document's stored fields takes. The GIL is held
 * throughout, so the streams are never used by two threads at once. */
static z_stream deflaters[11];
static int deflater_ready[11];

/* compress(data, level) -> bytes: zlib.compress(data, level), byte for byte (the same
 * stream parameters: 15 window bits, memory level 8, the default strategy), for the levels
 * that compress (-1, 1..9): level 0's stored blocks depend on the output buffer's size,
 * which zlib.compress grows in steps of its own. */
static PyObject *
fw_compress(PyObject *self, PyObject *args)
{
    Py_buffer data;
    int level;
    if (!PyArg_ParseTuple(args, "y*i", &data, &level))
        return NULL;
    PyObject *out = NULL;
    if (level < -1 || level > 9 || level == 0) {
        PyErr_SetString(PyExc_ValueError, "compress() takes zlib levels -1 and 1..9");
        goto done;
    }
    if (data.len > (Py_ssize_t)0x3FFFFFFF) {
        PyErr_SetString(PyExc_OverflowError, "compress() takes less than 1 GB");
        goto done;
    }
    z_stream *z = &deflaters[level + 1];
    int rc;
    if (!deflater_ready[level + 1]) {
        memset(z, 0, sizeof(*z));
        rc = deflateInit2(z, level, Z_DEFLATED, MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
        if (rc != Z_OK) {
            PyErr_Format(PyExc_MemoryError, "deflateInit2 failed (%d)", rc);
            goto done;
        }
        deflater_ready[level + 1] = 1;
    }
    else if ((rc = deflateReset(z)) != Z_OK) {
        PyErr_Format(PyExc_RuntimeError, "deflateReset failed (%d)", rc);
        goto done;
    }
    uLong bound = deflateBound(z, (uLong)data.len);
    out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)bound);
    if (out == NULL)
        goto done;
    z->next_in = (Bytef *)data.buf;
    z->avail_in = (uInt)data.len;
    z->next_out = (Bytef *)PyBytes_AS_STRING(out);
    z->avail_out = (uInt)bound;
    rc = deflate(z, Z_FINISH);
    if (rc != Z_STREAM_END) {
        Py_CLEAR(out);
        PyErr_Format(PyExc_RuntimeError, "deflate did not finish (%d)", rc);
        deflateEnd(z);
        deflater_ready[level + 1] = 0;
        goto done;
    }
    if (_PyBytes_Resize(&out, (Py_ssize_t)z->total_out) < 0)
        out = NULL;
done:
    PyBuffer_Release(&data);
    return out;
}
#endif

/* ------------------------------------------------------------------ text */

/* The full-width forms of ASCII (U+FF01..U+FF5E) and the ideographic space (U+3000) as
 * NFKC maps them: to U+0021..U+007E and U+0020. Chinese text is full of them (，；：（）),
 * and they make unicodedata's NFKC take its slow path over the whole text; folded first,
 * the rest is usually already NFKC (search.analysis.normalize checks, then skips it). The
 * same object comes back when there is nothing to fold. */
static PyObject *
fw_fold_wide_forms(PyObject *self, PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "fold_wide_forms() takes a str");
        return NULL;
    }
    if (PyUnicode_READY(text) < 0)
        return NULL;
    int kind = PyUnicode_KIND(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (kind == PyUnicode_1BYTE_KIND)
        return Py_NewRef(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t first = -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if ((c >= 0xFF01 && c <= 0xFF5E) || c == 0x3000) {
            first = i;
            break;
        }
    }
    if (first < 0)
        return Py_NewRef(text);
    size_t width = kind == PyUnicode_2BYTE_KIND ? 2 : 4;
    void *copy = PyMem_Malloc(n * width);
    if (copy == NULL)
        return PyErr_NoMemory();
    memcpy(copy, data, n * width);
    for (Py_ssize_t i = first; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, copy, i);
        if (c >= 0xFF01 && c <= 0xFF5E)
            PyUnicode_WRITE(kind, copy, i, c - 0xFEE0);
        else if (c == 0x3000)
            PyUnicode_WRITE(kind, copy, i, 0x20);
    }
    /* narrows to the smallest kind that holds the result, as every str must be */
    PyObject *result = PyUnicode_FromKindAndData(kind, copy, n);
    PyMem_Free(copy);
    return result;
}

static PyMethodDef methods[] = {
    {"pool_add_items", fw_pool_add_items, METH_VARARGS,
     "TermPool.add_terms's loop: (term bytes, weight, value bytes) items of one document."},
    {"pool_add_positions", fw_pool_add_positions, METH_VARARGS,
     "One document's term -> positions map straight into a field's pool."},
    {"position_items", fw_position_items, METH_VARARGS,
     "(term bytes, weight, value bytes) items and the length of a term -> positions map."},
    {"fold_wide_forms", fw_fold_wide_forms, METH_O,
     "U+FF01..U+FF5E and U+3000 replaced as NFKC replaces them."},
    {"write_terms", (PyCFunction)(void (*)(void))fw_write_terms, METH_VARARGS | METH_KEYWORDS,
     "Write one field's terms (see search.fastwrite.write_term_postings)."},
    {"word_positions", fw_word_positions, METH_VARARGS,
     "search.analysis.word_positions's walk over the segmenter's pieces."},
    {"hash_tables", fw_hash_tables, METH_VARARGS,
     "The 256 hash tables of whoosh's HashWriter, and their directory entries."},
#ifdef HAVE_ZLIB
    {"compress", fw_compress, METH_VARARGS,
     "zlib.compress(data, level), byte for byte, with a deflate stream kept per level."},
#endif
    {"md5_hash", fw_md5_hash, METH_O, "whoosh.filedb.filetables.md5_hash of a bytes key."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "search._fastwrite",
                                    "The term loop of search.fastwrite, compiled.", -1,
                                    methods};

PyMODINIT_FUNC
PyInit__fastwrite(void)
{
    md5_init_table();
    return PyModule_Create(&module);
}
