"""The compiled term loop (``search/_fastwrite.c``) writes what its Python twin writes.

``write_term_postings`` hands each field's terms to the compiled loop when it is built
(``make install``) and to ``_write_terms_python`` otherwise; Whoosh's own writer is the
reference for the twin (``test_fast_indexing.test_fast_writer_writes_whooshs_own_bytes``).
Here the two are fed the same postings of every shape a segment can hold — one posting or
several blocks, equal or varied weights, shared value objects (the pickler refers back to
them), bytes above 0x7f, empty values, fixed-size values, lengths past Whoosh's scale —
and of shapes the compiled loop leaves to Python (int weights, 1-byte values, document
numbers past 32 bits), and must give the same postings file, term file, hash index and
buckets. The module's text helper makes ``search.analysis.normalize`` exactly NFKC plus
lower case, faster.
"""

import functools
import random
import struct
import unicodedata
import zlib

import pytest
from whoosh.filedb.filetables import md5_hash
from whoosh.system import pack_uint

from search import analysis, fastwrite
from search.backend import SMALL_VALUE_CHARS
from tests.search.test_fast_indexing import lexicon  # noqa: F401  (fixture)

native = fastwrite._native


def test_the_compiled_module_is_built():
    """make install builds it; without it imports run the slower twin."""
    assert native is not None, "search._fastwrite missing: run make install"


def test_md5_hash_is_whooshs():
    rng = random.Random(7)
    keys = [b"", b"\x00", b"\x00\x01abc", "预算执行".encode()]
    keys += [rng.randbytes(n) for n in range(0, 200)]
    keys += [bytes(range(256)) * 3]
    for key in keys:
        assert native.md5_hash(key) == md5_hash(key), key


class _Sink:
    def __init__(self):
        self.data = bytearray()
        self.chunks = 0

    def write(self, chunk):
        self.data += chunk
        self.chunks += 1


def _write_both(terms, *, fixedsize, lengths, blocklimit=128, compression=1, min_size=1024):
    """``lengths``: each document's length byte, as the segment's length column holds it."""
    results = []
    decoded = [fastwrite._BYTE_LENGTHS[b] if b else None for b in lengths]
    for which in ("python", "native"):
        post, term = _Sink(), _Sink()
        buckets = [[] for _ in range(256)]
        encode = functools.partial(
            fastwrite._term_bytes,
            fixedsize=fixedsize,
            field_lengths=decoded if which == "python" else fastwrite._FieldLengths(lengths),
            blocklimit=blocklimit,
            compression=compression,
            compression_min_size=min_size,
        )
        if which == "python":
            index = []
            ends = fastwrite._write_terms_python(
                iter(terms), b"\x00\x03", b"\x00\x02zz", encode, 100, 7, post, term, index, buckets
            )
        else:
            index = []
            ends = native.write_terms(
                terms=iter(terms),
                prefix=b"\x00\x03",
                lastkey=b"\x00\x02zz",
                lengths=lengths,
                byte_lengths=fastwrite._BYTE_LENGTHS,
                length_table=fastwrite._LENGTH_BYTES,
                fixedsize=-1 if fixedsize is None else fixedsize,
                blocklimit=blocklimit,
                compression=compression,
                min_size=min_size,
                post_base=100,
                term_base=7,
                post_write=post.write,
                term_write=term.write,
                index=index,
                buckets=buckets,
                fallback=encode,
                compress=zlib.compress,
                flush_bytes=1 << 12,  # small: several flushes
            )
        results.append((ends, bytes(post.data), bytes(term.data), index, buckets))
    return results


def _positions(rng, shared):
    if rng.random() < 0.4:
        return rng.choice(shared)  # the same object again (the pickle refers back to it)
    count = rng.randint(1, 6)
    return pack_uint(count) + rng.randbytes(rng.randint(1, 12)) + bytes([0x80, 0xFF])


def _terms(rng, count, make_posting, docs):
    terms = []
    for n in range(count):
        size = rng.choice([1, 1, 1, 2, 3, 4, 5, 127, 128, 129, 256, 300])
        ids = sorted(rng.sample(range(docs), min(size, docs)))
        postings = [make_posting(docnum) for docnum in ids]
        terms.append((("b__body", f"t{n:05d}".encode()), postings))
    return terms


@pytest.mark.parametrize("fixedsize", [None, 0, 4])
@pytest.mark.parametrize("weights", ["ones", "equal", "varied"])
def test_the_compiled_loop_writes_the_python_bytes(fixedsize, weights):
    rng = random.Random(f"{fixedsize}-{weights}")
    docs = 600
    shared = [pack_uint(1) + bytes([rng.randrange(256) for _ in range(6)]) for _ in range(5)]
    # length bytes: none, small, large, the top of Whoosh's scale
    lengths = bytes(rng.choice([0, 0, 1, 2, 17, 120, 200, 254, 255]) for _ in range(docs))

    def make_posting(docnum):
        if weights == "ones":
            weight = 1.0
        elif weights == "equal":
            weight = 2.5
        else:
            weight = rng.choice([1.0, 2.0, 3.0, 0.1, 1e-3, 7.25, 0.0])
        if fixedsize is None:
            value = _positions(rng, shared) if rng.random() > 0.05 else b""
        elif fixedsize == 0:
            value = None
        else:
            value = struct.pack("!I", rng.randint(1, 90))
        return (docnum, weight, value)

    terms = _terms(rng, 400, make_posting, docs)
    for min_size in (1024, 60):  # 60: most blocks compressed
        python, compiled = _write_both(
            terms, fixedsize=fixedsize, lengths=lengths, min_size=min_size
        )
        assert compiled[0] == python[0]  # end offsets and last key
        assert compiled[1] == python[1]  # postings
        assert compiled[2] == python[2]  # term file
        assert compiled[3] == python[3]  # hash index positions
        assert compiled[4] == python[4]  # hash buckets


@pytest.mark.parametrize(
    "posting",
    [
        (5, 1, b"\x00\x00\x00\x01ab"),  # an int weight
        (5, 1.0, b"x"),  # a one-byte value
        (5, -2.0, b"\x00\x00\x00\x01ab"),  # a negative weight (the block weight is int 0)
        (5, 1.0, "text"),  # a value that is not bytes
    ],
)
def test_shapes_left_to_python_come_out_the_same(posting):
    ordinary = (1, 2.0, b"\x00\x00\x00\x02cd")
    terms = [
        (("b__body", b"a"), [ordinary]),
        (("b__body", b"b"), [ordinary, posting]),
        (("b__body", b"c"), [posting]),
    ]
    python, compiled = _write_both(terms, fixedsize=None, lengths=bytes([3] * 10))
    assert compiled == python


def test_a_document_number_past_32_bits_fails_alike():
    """Python's twin takes it (and finds no length for it, as the compiled loop would)."""
    terms = [(("b__body", b"a"), [(2**31 + 5, 1.0, b"\x00\x00\x00\x01ab")])]
    with pytest.raises(IndexError):
        _write_both(terms, fixedsize=None, lengths=bytes([1, 2, 3]))


def test_keys_must_increase_in_both():
    terms = [(("b__body", b"b"), [(1, 1.0, b"ab")]), (("b__body", b"a"), [(2, 1.0, b"ab")])]
    encode = functools.partial(
        fastwrite._term_bytes,
        fixedsize=None,
        field_lengths=[1, 1, 1],
        blocklimit=128,
        compression=1,
        compression_min_size=1024,
    )
    with pytest.raises(ValueError, match="Keys must increase"):
        fastwrite._write_terms_python(
            iter(terms), b"\x00\x03", b"", encode, 0, 0, _Sink(), _Sink(), [], [[]] * 256
        )
    with pytest.raises(ValueError, match="Keys must increase"):
        _native_only(terms)


def _native_only(terms):
    native.write_terms(
        terms=terms,
        prefix=b"\x00\x03",
        lastkey=b"",
        lengths=bytes([1, 1, 1]),
        byte_lengths=fastwrite._BYTE_LENGTHS,
        length_table=fastwrite._LENGTH_BYTES,
        fixedsize=-1,
        blocklimit=128,
        compression=1,
        min_size=1024,
        post_base=0,
        term_base=0,
        post_write=_Sink().write,
        term_write=_Sink().write,
        index=[],
        buckets=[[] for _ in range(256)],
        fallback=None,
        compress=zlib.compress,
        flush_bytes=1 << 20,
    )


# -- normalize(): full-width forms folded by the C module, NFKC only where still needed

_CHARACTERS = [
    *map(chr, range(0x20, 0x7F)),
    *map(chr, range(0xFF00, 0xFF70)),  # full-width forms, and the half-width ones after them
    "\u3000",  # ideographic space
    "\u3002",  # 。 (NFKC keeps it)
    "\u0301",  # combining acute: composes with the letter before it
    "\u0308",
    "é",
    "\u212b",  # Å sign
    "\ufb01",  # ﬁ ligature
    "\u2460",  # ①
    "\u3231",  # ㈱
    "\u0130",  # İ: lower() makes two characters
    "Σ",  # final sigma depends on what follows
    "\u1100",  # Hangul jamo: compose into syllables
    "\u1161",
    "\uac00",
    "预",
    "\U0001f600",
    "\u2f00",  # ⼀ Kangxi radical
    "\xa0",
    "½",
    "\n",
]


def test_normalize_is_nfkc_and_lower_case():
    rng = random.Random(11)
    samples = ["", "预算法", "第一条　为了规范预算行为，（一）", "ＰＰＰ项目第３条", "ﬁ①㈱½"]
    samples += [
        "".join(rng.choice(_CHARACTERS) for _ in range(rng.randint(0, 14))) for _ in range(20000)
    ]
    for text in samples:
        assert analysis.normalize(text) == unicodedata.normalize("NFKC", text).lower(), repr(text)


def test_fold_wide_forms_folds_only_what_nfkc_folds_the_same_way():
    assert native.fold_wide_forms("ＡＢ，　；") == "AB, ;"
    text = "没有全角字符的文本。"
    assert native.fold_wide_forms(text) is text
    ascii_text = "plain"
    assert native.fold_wide_forms(ascii_text) is ascii_text
    folded = native.fold_wide_forms("Ａ")
    assert folded == "A" and folded.isascii()  # narrowed like any str of ASCII
    for code in [*range(0xFF01, 0xFF5F), 0x3000]:
        assert native.fold_wide_forms(chr(code)) == unicodedata.normalize("NFKC", chr(code))
    with pytest.raises(TypeError):
        native.fold_wide_forms(b"bytes")


# -- the posting pool: a long text's postings straight from its positions, in C


@pytest.mark.usefixtures("lexicon")
def test_the_compiled_pool_holds_what_the_python_pool_holds(tmp_path, monkeypatch):
    """Long texts go from their term → positions map into the pool in C, short ones (kept
    for the next document that has them) as items made in C; the segment written from
    that pool has the bytes of one whose pool was filled by pool_entries in Python (the
    single positions' shared value objects included, which the block pickles refer back
    to)."""
    from whoosh import index as wi

    from search.analysis import get_lexicon
    from search.backend import _AnalysedText, build_schema, make_document
    from tests.search.test_fast_indexing import SAMPLES, _documents, _segment_files

    documents = [make_document(doc) for doc in _documents()]
    for n, doc in enumerate(documents):  # long bodies, repeated words, full-width forms
        doc["w__body"] = doc["b__body"] = "\n".join(
            SAMPLES[(n + k) % len(SAMPLES)] for k in range(8)
        )
    assert all(len(doc["w__body"]) > SMALL_VALUE_CHARS for doc in documents)
    # and the samples as they are (short texts among them, titles in several documents)
    for doc in [make_document(doc) for doc in _documents()]:
        documents.append({**doc, "doc_key": doc["doc_key"] + "-as-is"})
    assert any(len(doc["w__body"]) <= SMALL_VALUE_CHARS for doc in documents)
    for name, native_pool in (("python", None), ("native", native)):
        (tmp_path / name).mkdir()
        ix = wi.create_in(str(tmp_path / name), build_schema())
        writer = fastwrite.FastSegmentWriter(ix, compound=False)
        writer.pool.native = native_pool
        monkeypatch.setattr(_AnalysedText, "native", native_pool)
        get_lexicon().field_cache.clear()  # the short values' items made again
        for doc in documents:
            writer.add_document(**doc)
        writer.commit(merge=False, optimize=False)
    assert _segment_files(tmp_path / "native") == _segment_files(tmp_path / "python")


def test_position_items_are_the_python_items():
    """position_items (a short text's pool items, made in C) gives the items and length of
    the Python loop of _AnalysedText._pool_entries: weights, value bytes, and the shared
    single-position objects."""
    from search.backend import _SINGLE_POSITIONS, SINGLE_POSITIONS_LIMIT, encode_positions

    rng = random.Random(7)
    for _ in range(300):
        positions = {}
        for _ in range(rng.randint(0, 12)):
            poses = sorted(rng.sample(range(rng.choice([3, 200, 70000])), rng.randint(1, 3)))
            positions["".join(rng.choice("预算决执行abc1") for _ in range(rng.randint(1, 4)))] = (
                poses
            )
        boost = rng.choice([1.0, 2.0, 0.5])
        for frequency_only in (False, True):
            items, length = native.position_items(
                positions, boost, frequency_only, _SINGLE_POSITIONS, SINGLE_POSITIONS_LIMIT
            )
            assert length == sum(map(len, positions.values()))
            assert items == [
                (
                    term.encode(),
                    len(poses) * boost,
                    struct.pack("!I", len(poses)) if frequency_only else encode_positions(poses),
                )
                for term, poses in positions.items()
            ]
            for (_, _, vbytes), poses in zip(items, positions.values(), strict=True):
                if not frequency_only and len(poses) == 1:
                    assert vbytes is _SINGLE_POSITIONS[poses[0]]
    with pytest.raises(TypeError):
        native.position_items({"x": (1,)}, 1.0, False, {}, 10)


@pytest.mark.parametrize("keys", [0, 1, 300, 5000])
def test_hash_tables_are_whooshs(keys):
    """The term file's hash tables written in C are the bytes of Whoosh's HashWriter, with
    the same directory (colliding slots, empty buckets, large positions included)."""
    import io

    from whoosh.filedb.filetables import HashWriter
    from whoosh.filedb.structfile import StructFile

    class Kept(io.BytesIO):
        def close(self):
            self.kept = self.getvalue()
            super().close()

    rng = random.Random(keys)
    written = []
    for how in ("whoosh", "native"):
        out = Kept()
        writer = HashWriter(StructFile(out))
        for n in range(keys):
            writer.add(f"键{n}".encode(), rng.randbytes(rng.randint(0, 40)))
        writer.buckets[7].append((0x12345607, 1 << 40))  # a position beyond 32 bits
        writer.buckets[7].append((0x12345607, 99))  # the same slot: the next free one
        if how == "native":
            writer._write_hashes = functools.partial(fastwrite._write_hash_tables, writer)
        writer.close()
        written.append((out.kept, writer.directory))
        rng = random.Random(keys)
    assert written[0] == written[1]
    with pytest.raises(ValueError):
        native.hash_tables([[]] * 255, 0)
    with pytest.raises(TypeError):
        native.hash_tables([[(1, 2, 3)]] * 256, 0)


def test_compress_is_zlibs(tmp_path):
    """The compiled compress (a deflate stream kept per level) gives zlib.compress's bytes
    for text-like, repetitive and random data of every size the writers meet, and the
    bulk writer's stored fields go through it."""
    if not hasattr(native, "compress"):
        pytest.skip("search._fastwrite was built without zlib (no zlib.h)")
    rng = random.Random(11)
    samples = [b"", b"x", "预算执行情况".encode() * 3, bytes(range(256)) * 40, rng.randbytes(70000)]
    samples += [bytes(rng.choice(b"ab\x00\xff") for _ in range(n)) for n in (3, 500, 20000)]
    for data in samples:
        for level in (-1, 1, 3, 9):
            assert native.compress(data, level) == zlib.compress(data, level)
    with pytest.raises(ValueError):
        native.compress(b"abc", 0)  # stored blocks depend on zlib.compress's own buffers
    assert fastwrite._compress is native.compress
    from whoosh import index as wi

    from search.backend import build_schema

    writer = fastwrite.FastSegmentWriter(wi.create_in(str(tmp_path), build_schema()))
    assert writer.perdocwriter._colwriters["_stored"]._child._compress is native.compress
    writer.cancel()


def test_pool_add_positions_encodes_as_encode_positions():
    from search.backend import encode_positions

    terms, expected = {}, {}
    positions = {"预算": [0], "决算": [3, 9], "长": list(range(0, 5000, 2)), "零": [0, 1]}
    singles: dict = {}
    added, length = native.pool_add_positions(terms, 7, positions, 1.0, False, singles, 10)
    assert (added, length) == (4, 1 + 2 + 2500 + 2)
    for term, poses in positions.items():
        expected[term.encode()] = [(7, float(len(poses)), encode_positions(poses))]
    assert terms == expected
    assert singles[0] is terms["预算".encode()][0][2]  # the shared single-position bytes
    frequencies: dict = {}
    native.pool_add_positions(frequencies, 8, positions, 2.0, True, {}, 10)
    assert frequencies["长".encode()] == [(8, 5000.0, struct.pack("!I", 2500))]
