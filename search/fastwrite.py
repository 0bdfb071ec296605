"""A quicker posting pool for Whoosh segment writers (used by full rebuilds).

Whoosh's own ``PostingPool`` handles every posting as a separate tuple: it estimates its
size, pickles it into a sorted run on disk when the pool is full, unpickles it again and
merges the runs with a heap before the codec writes it. For ~2 KB Chinese documents
(≈ 750 postings each: character pairs with positions plus words) that per-posting work
is most of the rebuild time.

``TermPool`` groups postings by term as they arrive. Documents are added in docnum
order, so each term's list is already sorted; the pool only sorts the term keys. When
it grows past its memory budget it writes a run of whole term lists (one pickle per
term, not per posting), and at the end merges the runs term by term, concatenating the
lists of the same term in run order (which is docnum order).

``FastSegmentWriter`` is a Whoosh ``SegmentWriter`` with this pool; ``FastSubWriterTask``
is the same for the sub-writer processes of a multiprocessing writer.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import operator
import os
import pickle
import shutil
import struct
import tempfile
import zlib
from array import array
from multiprocessing import get_context
from pickle import dumps

from whoosh.codec.whoosh3 import (
    COMPRESSION_MIN_SIZE,
    LENGTHS_COLUMN,
    WHOOSH3_HEADER_MAGIC,
    W3Codec,
    W3LeafMatcher,
    W3TermsReader,
    _lenfield,
)
from whoosh.columns import NumericColumn
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.filetables import md5_hash
from whoosh.index import TOC, FileIndex
from whoosh.system import pack_int, pack_long, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

try:  # the compiled term loop (make install builds it: scripts/build_native.py)
    from search import _fastwrite as _native
except ImportError:  # pragma: no cover - a tree nobody ran make install in
    _native = None

#: zlib.compress, byte for byte, with the compiled module's deflate stream kept per level
#: (zlib's set-up was most of the cost of compressing a posting block or a document's
#: stored fields: ~60 µs a call for a few hundred bytes, 6 µs without it)
_compress = getattr(_native, "compress", None) or zlib.compress

#: Rough bytes one pooled posting costs in memory (tuple, ints, float, value bytes).
POSTING_BYTES = 160
#: zlib level of the posting blocks a rebuild writes.
REBUILD_COMPRESSION = 1
#: Posting blocks smaller than this are stored uncompressed by bulk commits (import
#: batches): zlib's set-up costs ~15 µs a call whatever the size, most terms of a batch
#: have one small block, and those blocks shrink little. Readers honour the level each
#: block records, so segments written either way read alike.
BULK_COMPRESSION_MIN_SIZE = 1024


#: Pools of forked children that exit (os._exit) right after their segment is written:
#: freeing millions of pooled postings one by one cost such a child ~0.1 s for nothing.
_left_for_exit: list = []


def delete_by_keys(writer, keys) -> None:
    """``writer.delete_by_term("doc_key", key)`` for each key, with one searcher for all
    of them (Whoosh opens every segment of the index again for each call that has none)
    and no query for a key no segment holds (an import's new documents)."""
    if not keys:
        return
    with writer.searcher() as searcher:
        reader = searcher.reader()
        for key in keys:
            if ("doc_key", key) in reader:
                writer.delete_by_term("doc_key", key, searcher=searcher)


class TermPool:
    """Postings grouped by field name and term bytes, spilled to disk as whole term lists.

    One dict of terms per field (not one dict keyed by (field, term) pairs): no key tuple
    is made per posting, and the terms are sorted per field."""

    def __init__(self, limitmb: int = 128):
        self.limit = max(1, limitmb * 1024 * 1024 // POSTING_BYTES)
        self.fields: dict[str, dict[bytes, list]] = {}
        #: every field that had postings, spilled runs included
        self.fieldnames: set[str] = set()
        self.count = 0
        self.runs: list[str] = []
        #: False in a child that exits after writing: cleanup() leaves the postings to
        #: the end of the process instead of freeing them
        self.free_on_cleanup = True

    def _terms_of(self, fieldname: str) -> dict[bytes, list]:
        terms = self.fields.get(fieldname)
        if terms is None:
            terms = self.fields[fieldname] = {}
            self.fieldnames.add(fieldname)
        return terms

    # the interface SegmentWriter uses
    def add(self, item) -> None:
        fieldname, tbytes, docnum, weight, vbytes = item
        self.add_term_postings(fieldname, tbytes, [(docnum, weight, vbytes)])

    #: the compiled loops (search/_fastwrite.c), or None
    native = _native

    def add_terms(self, fieldname: str, docnum: int, items) -> int:
        """Add ``(tbytes, weight, vbytes)`` postings of one document's field; returns how
        many were added (the bulk path of :class:`FastSegmentWriter`)."""
        if not items:
            return 0
        terms = self._terms_of(fieldname)
        if self.native is not None and type(items) is list:
            self.native.pool_add_items(terms, docnum, items)
        else:
            get = terms.get
            for tbytes, weight, vbytes in items:
                postings = get(tbytes)
                if postings is None:
                    terms[tbytes] = [(docnum, weight, vbytes)]
                else:
                    postings.append((docnum, weight, vbytes))
        added = len(items)
        self.count += added
        if self.count >= self.limit:
            self.save()
        return added

    def add_positions(
        self, fieldname, docnum, positions, boost, *, frequency_only, singles, singles_limit
    ) -> int:
        """One document's term → ascending positions map of a field, as postings whose
        value is the encoded positions (``frequency_only``: their count), in compiled code;
        returns the field's length (``search.backend._AnalysedText.add_to_pool``)."""
        if not positions:
            return 0
        terms = self._terms_of(fieldname)
        added, length = self.native.pool_add_positions(
            terms, docnum, positions, boost, frequency_only, singles, singles_limit
        )
        self.count += added
        if self.count >= self.limit:
            self.save()
        return length

    def add_term_postings(self, fieldname: str, tbytes: bytes, postings: list) -> None:
        """Add one term's ``(docnum, weight, vbytes)`` postings (docnums above the ones the
        pool holds for it), taking over the list (a segment merge's path)."""
        terms = self._terms_of(fieldname)
        existing = terms.get(tbytes)
        if existing is None:
            terms[tbytes] = postings
        else:
            existing.extend(postings)
        self.count += len(postings)
        if self.count >= self.limit:
            self.save()

    def _sorted_terms(self):
        """((fieldname, tbytes), postings) of the pool in field, term order."""
        for fieldname in sorted(self.fields):
            terms = self.fields[fieldname]
            for tbytes in sorted(terms):
                yield (fieldname, tbytes), terms[tbytes]

    def save(self) -> None:
        """Write the pooled term lists, sorted by term, to a run file and empty the pool."""
        if not self.fields:
            return
        fd, path = tempfile.mkstemp(prefix="whoosh-terms-", suffix=".run")
        with os.fdopen(fd, "wb") as handle:
            dump = pickle.Pickler(handle, protocol=pickle.HIGHEST_PROTOCOL).dump
            for entry in self._sorted_terms():
                dump(entry)
        self.runs.append(path)
        self.fields = {}
        self.count = 0

    @staticmethod
    def _read_run(path):
        with open(path, "rb") as handle:
            load = pickle.Unpickler(handle).load
            while True:
                try:
                    yield load()
                except EOFError:
                    break

    def iter_terms(self):
        """((fieldname, tbytes), postings) in field, term order; each term once, its
        postings in docnum order."""
        sources = [self._read_run(path) for path in self.runs]
        sources.append(self._sorted_terms())
        if len(sources) == 1:
            yield from sources[0]
            return
        # heapq.merge keeps equal keys in source order: earlier runs hold lower docnums
        merged = heapq.merge(*sources, key=lambda entry: entry[0])
        current_key, current = None, None
        for key, postings in merged:
            if key == current_key:
                current.extend(postings)
                continue
            if current_key is not None:
                yield current_key, current
            current_key, current = key, list(postings)
        if current_key is not None:
            yield current_key, current

    def iter_postings(self):
        """(fieldname, tbytes, docnum, weight, vbytes) in field, term, docnum order."""
        for (fieldname, tbytes), postings in self.iter_terms():
            for docnum, weight, vbytes in postings:
                yield fieldname, tbytes, docnum, weight, vbytes

    def cleanup(self) -> None:
        for path in self.runs:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        self.runs = []
        if not self.free_on_cleanup:
            _left_for_exit.append(self.fields)
        self.fields = {}
        self.count = 0


#: Bytes of postings / term entries gathered before they are written to their file.
WRITE_BUFFER_BYTES = 4 * 1024 * 1024
_TERMINFO = struct.Struct("!BfIBBfII")  # W3TermInfo's fixed part
_KEY_VALUE_LENGTHS = struct.Struct("!ii")  # a hash file entry's header
#: whoosh.util.numeric.length_to_byte is 255 from this length up
_LENGTH_BYTE_LIMIT = 106374
#: length_to_byte of every length below the limit, for the compiled loop
_LENGTH_BYTES = bytes(map(length_to_byte, range(_LENGTH_BYTE_LIMIT)))


def _mini_values(fixedsize, values):
    """W3PostingsWriter._mini_values for one block's (non-empty) value bytes."""
    if fixedsize is None or fixedsize < 0:
        return tuple(values)
    if fixedsize == 0:
        return None
    return b"".join(values)


def _term_bytes(
    postings, start, fixedsize, field_lengths, blocklimit, compression, compression_min_size
) -> tuple[bytes, bytes]:
    """One term's posting blocks, from the header magic on, written at file offset ``start``,
    and its ``W3TermInfo`` value (the Python twin of ``search/_fastwrite.c``'s
    ``encode_term``, and what that file falls back to for a shape it does not write)."""
    post_buf = bytearray(WHOOSH3_HEADER_MAGIC)
    total_weight = 0
    min_length = None
    max_length = 0
    max_weight = 0
    count = len(postings)
    if count == 1:
        # most terms of a batch have a single posting: the block below for one
        # posting, without its lists, generators and second length look-ups (the
        # bytes are the same; tests compare them with Whoosh's own writer)
        docnum, raw_weight, vbytes = postings[0]
        weight = array("f", (raw_weight,))[0]
        if fixedsize is None or fixedsize < 0:
            values = (vbytes,) if vbytes else ()
        elif fixedsize == 0:
            values = None
        else:
            values = b"".join((vbytes,) if vbytes else ())
        data = dumps(((docnum,), None if weight == 1.0 else weight, values), 2)
        level = compression if len(data) >= compression_min_size else 0
        if level:
            data = zlib.compress(data, level)
        length = field_lengths[docnum] or None
        length_byte = length_to_byte(length)
        block_weight = max(0, raw_weight)
        info = dumps((1, docnum, block_weight, level, length_byte, length_byte), 2)
        post_buf += pack_int(-(len(info) + len(data)))
        post_buf += info
        post_buf += data
        value = _TERMINFO.pack(0, weight, 1, length_byte, length_byte, block_weight, docnum, docnum)
        return bytes(post_buf), value + pack_long(start) + pack_int(len(post_buf))
    for i in range(0, count, blocklimit):
        block = postings[i : i + blocklimit] if count > blocklimit else postings
        # the block's columns in one C-level pass (not a comprehension per column)
        ids, raw_weights, block_values = zip(*block, strict=True)
        weights = array("f", raw_weights)
        if all(w == 1.0 for w in weights):
            mini_weights = None
        elif all(w == weights[0] for w in weights):
            mini_weights = weights[0]
        else:
            mini_weights = tuple(weights)
        # whoosh.util.numlists.delta_encode, without a generator step per id
        mini_ids = tuple(map(operator.sub, ids, (0, *ids[:-1])))
        data = dumps(
            (mini_ids, mini_weights, _mini_values(fixedsize, list(filter(None, block_values)))),
            2,
        )
        level = compression if len(data) >= compression_min_size else 0
        if level:
            data = zlib.compress(data, level)
        sizes = list(filter(None, map(field_lengths.__getitem__, ids)))
        block_min = min(sizes) if sizes else None
        block_max = max(sizes) if sizes else 0
        block_weight = max(0, max(raw_weights))
        info = dumps(
            (
                len(ids),
                ids[-1],
                block_weight,
                level,
                length_to_byte(block_min),
                length_to_byte(block_max),
            ),
            2,
        )
        size = len(info) + len(data)
        post_buf += pack_int(-size if i + blocklimit >= count else size)
        post_buf += info
        post_buf += data
        # W3TermInfo.add_block
        total_weight += sum(weights)
        if min_length is None:
            min_length = block_min
        elif block_min is not None:
            min_length = min(min_length, block_min)
        max_length = max(max_length, block_max)
        max_weight = max(max_weight, block_weight)
    value = _TERMINFO.pack(
        0,
        total_weight,
        count,
        0 if min_length is None else length_to_byte(min_length),
        length_to_byte(max_length),
        max_weight,
        postings[0][0],
        postings[-1][0],
    )
    return bytes(post_buf), value + pack_long(start) + pack_int(len(post_buf))


def _write_terms_python(
    terms, prefix, lastkey, encode, post_base, term_base, postfile, termfile, index, buckets
):
    """One field's terms into the postings and term files (``encode(postings, start)``
    makes a term's bytes); returns the new file offsets and the last key."""
    hashfn = md5_hash
    index_append = index.append
    pack_lengths = _KEY_VALUE_LENGTHS.pack
    post_buf, term_buf = bytearray(), bytearray()
    for (_fieldname, tbytes), postings in terms:
        chunk, value = encode(postings, post_base + len(post_buf))
        post_buf += chunk
        key = prefix + tbytes
        if key <= lastkey:
            raise ValueError(f"Keys must increase: {lastkey!r}..{key!r}")
        lastkey = key
        position = term_base + len(term_buf)
        index_append(position)
        term_buf += pack_lengths(len(key), len(value))
        term_buf += key
        term_buf += value
        h = hashfn(key)
        buckets[h & 255].append((h, position))
        if len(post_buf) >= WRITE_BUFFER_BYTES:
            postfile.write(bytes(post_buf))
            post_base += len(post_buf)
            post_buf = bytearray()
        if len(term_buf) >= WRITE_BUFFER_BYTES:
            termfile.write(bytes(term_buf))
            term_base += len(term_buf)
            term_buf = bytearray()
    postfile.write(bytes(post_buf))
    termfile.write(bytes(term_buf))
    return post_base + len(post_buf), term_base + len(term_buf), lastkey


def _extend_index(growable, positions: list[int]) -> None:
    """GrowableArray.extend of increasing positions, retyped once for the largest (the
    type a position at a time would have ended with)."""
    if not positions:
        return
    try:
        array(growable.typecode, (positions[-1],))
    except OverflowError:
        growable._retype(positions[-1])
    growable.array.extend(positions)


#: whoosh.util.numeric.byte_to_length of each length byte
_BYTE_LENGTHS = tuple(map(byte_to_length, range(256)))


def _length_bytes(lengths, fieldname: str, doc_count: int) -> bytes:
    """Each document's length byte for ``fieldname`` (0: none), what ``doc_field_length``
    decodes, read from the segment's length column at once (not a method call a document
    and field: ~150,000 calls a batch)."""
    if lengths is None:
        return bytes(doc_count)
    reader = lengths._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    if reader is None:
        return bytes(doc_count)
    if type(reader) is NumericColumn.Reader and reader._typecode == "B":
        raw = bytes(reader._dbfile.get(reader._basepos, min(reader._count, doc_count)))
    else:
        raw = bytes(reader[d] for d in range(doc_count))
    return raw + bytes(doc_count - len(raw))


class _FieldLengths:
    """A field's document lengths as ``doc_field_length`` gives them (None for none),
    decoded from its length bytes on demand."""

    __slots__ = ("column",)

    def __init__(self, column: bytes):
        self.column = column

    def __getitem__(self, docnum: int):
        length_byte = self.column[docnum]
        return _BYTE_LENGTHS[length_byte] if length_byte else None


def _field_of(entry) -> str:
    return entry[0][0]


def write_term_postings(
    fieldwriter,
    schema,
    lengths,
    doc_count,
    terms,
    compression_min_size=COMPRESSION_MIN_SIZE,
    native=None,
) -> None:
    """Write ``terms`` (``((fieldname, tbytes), postings)`` in order) into a Whoosh 3
    field writer's postings and term files.

    The bytes are the ones Whoosh's own writer makes (blocks of ``blocklimit`` postings:
    header, block info and pickled data, compressed from ``COMPRESSION_MIN_SIZE`` bytes
    up, or ``compression_min_size``; a ``W3TermInfo`` row per term in the ordered hash
    file), but without a postings writer, a term info object and about twenty method
    calls per term — a segment of ~6,000 statute and article documents has ~135,000
    terms, most of them with a single posting. Each field's terms go through the compiled
    loop of ``search/_fastwrite.c`` when it is built (``make install``), else through its
    Python twin (``native=False`` forces the twin; tests compare the two and Whoosh's own
    writer byte for byte). The files are written in large chunks; positions are counted,
    not asked of the file. Document lengths for the block statistics come from lists read
    once per field."""
    codec = fieldwriter._codec
    if codec._inlinelimit > 1:
        raise ValueError("inlined postings are not supported")
    if native is True and _native is None:
        raise RuntimeError("search._fastwrite is not built (make install)")
    native = _native if native is None or native is True else None
    blocklimit = codec._blocklimit
    compression = codec._compression
    postfile = fieldwriter._postfile
    tindex = fieldwriter._tindex
    termfile = tindex.dbfile
    if tindex.hashfn is not md5_hash:
        native = None
    post_base, term_base = postfile.tell(), termfile.tell()
    lastkey = tindex.lastkey
    for fieldname, field_terms in itertools.groupby(terms, key=_field_of):
        field = schema[fieldname]
        fieldwriter.start_field(fieldname, field)
        prefix = pack_ushort(fieldwriter._fieldid)
        fixedsize = field.format.fixed_value_size()
        column = _length_bytes(lengths, fieldname, doc_count)
        if native:
            field_lengths = _FieldLengths(column)  # decoded only for a term left to Python
        else:
            field_lengths = [_BYTE_LENGTHS[b] if b else None for b in column]
        encode = functools.partial(
            _term_bytes,
            fixedsize=fixedsize,
            field_lengths=field_lengths,
            blocklimit=blocklimit,
            compression=compression,
            compression_min_size=compression_min_size,
        )
        if native:
            positions: list[int] = []
            post_base, term_base, lastkey = native.write_terms(
                terms=field_terms,
                prefix=prefix,
                lastkey=lastkey,
                lengths=column,
                byte_lengths=_BYTE_LENGTHS,
                length_table=_LENGTH_BYTES,
                fixedsize=-1 if fixedsize is None else fixedsize,
                blocklimit=blocklimit,
                compression=compression or 0,
                min_size=compression_min_size,
                post_base=post_base,
                term_base=term_base,
                post_write=postfile.write,
                term_write=termfile.write,
                index=positions,
                buckets=tindex.buckets,
                fallback=encode,
                compress=_compress,
                flush_bytes=WRITE_BUFFER_BYTES,
            )
            _extend_index(tindex.index, positions)
        else:
            post_base, term_base, lastkey = _write_terms_python(
                field_terms,
                prefix,
                lastkey,
                encode,
                post_base,
                term_base,
                postfile,
                termfile,
                tindex.index,
                tindex.buckets,
            )
        fieldwriter.finish_field()
    tindex.lastkey = lastkey
    if native:  # the term file's hash tables, written when the field writer closes
        tindex._write_hashes = functools.partial(_write_hash_tables, tindex)


def _write_hash_tables(hashwriter) -> None:
    """``HashWriter._write_hashes`` (whoosh.filedb.filetables) in compiled code: the same
    256 tables of (hash, key position) slots and the same directory entries, without a
    struct pack and a file write per slot (two slots per term)."""
    data, directory = _native.hash_tables(hashwriter.buckets, hashwriter.dbfile.tell())
    hashwriter.dbfile.write(data)
    hashwriter.directory.extend(directory)


def _compress_stored_fields(perdocwriter) -> None:
    """The stored fields' column (zlib level 3, one call per document) compressed by
    :data:`_compress`: the same bytes."""
    column = getattr(perdocwriter, "_colwriters", {}).get("_stored")
    child = getattr(column, "_child", None)
    if (
        _compress is not zlib.compress
        and getattr(child, "_compress", None) is zlib.compress
        and getattr(child, "_level", 0) in range(1, 10)
    ):
        child._compress = _compress


#: Directories of segments being built beside other writers (FastSegmentWriter.unlocked).
BUILD_PREFIX = ".build-"
_builds = itertools.count(1)


class FastSegmentWriter(SegmentWriter):
    """A SegmentWriter with :class:`TermPool` (same segment files, written faster)."""

    def __init__(self, ix, limitmb: int = 128, compression_min_size=COMPRESSION_MIN_SIZE, **kwargs):
        # zlib level 1 for the posting blocks: most of the size gain of level 3 at a
        # fraction of its time (readers honour whatever level a block was written with)
        kwargs.setdefault("codec", W3Codec(compression=REBUILD_COMPRESSION))
        super().__init__(ix, limitmb=limitmb, **kwargs)
        self.compression_min_size = compression_min_size
        self.pool.cleanup()
        self.pool = TermPool(limitmb=limitmb)
        _compress_stored_fields(self.perdocwriter)
        #: field name -> what add_document needs of it (FastSegmentWriter._plan)
        self._plans: dict[str, tuple] = {}
        #: finished segments written by helper processes for this commit (search.indexing)
        self.extra_segments: list = []

    @classmethod
    def unlocked(cls, ix, **kwargs) -> FastSegmentWriter:
        """A writer that only builds a segment (``_finalize_segment``) for another writer to
        commit (:meth:`adopt`). It takes no lock and writes in a directory of its own
        inside the index directory (``.build-<pid>-<n>``): a commit by any other writer
        removes the segment files and the temporary directory its TOC does not name, which
        would pull a builder's files from under it while it runs beside other commits.
        :meth:`discard_build` removes the directory (one left by a process that died:
        ``search.indexing.remove_stale_builds``)."""
        folder = os.path.join(ix.storage.folder, f"{BUILD_PREFIX}{os.getpid()}-{next(_builds)}")
        storage = FileStorage(folder, supports_mmap=ix.storage.supports_mmap).create()
        schema = ix.schema
        TOC(schema, [], 0).write(storage, ix.indexname)
        writer = cls(FileIndex(storage, schema=schema, indexname=ix.indexname), _lk=False, **kwargs)
        writer.build_folder = folder
        return writer

    def discard_build(self) -> None:
        """Remove this builder's directory (the segment, unless adopted, and its temporary files)."""
        shutil.rmtree(self.build_folder, ignore_errors=True)

    def adopt(self, segment, build_folder: str) -> None:
        """Add ``segment``, built by an :meth:`unlocked` writer in ``build_folder``, to this
        writer's commit: its files move into the index directory (this writer holds the
        lock, so no other commit can remove them before this one names them)."""
        for name in segment.list_files(FileStorage(build_folder)):
            os.replace(os.path.join(build_folder, name), os.path.join(self.storage.folder, name))
        self.extra_segments.append(segment)

    def _commit_toc(self, segments):
        super()._commit_toc([*segments, *self.extra_segments])

    def add_document(self, **fields):
        """SegmentWriter.add_document for the fields of our schema, handing each field's
        postings to the pool in one call (no vectors, spelling or per-field boosts). What
        a field name needs (its field object, found by pattern for the w__/b__ fields, and
        how it is written) is worked out once per writer."""
        self._check_state()
        plans = self._plans
        names = sorted(name for name in fields if not name.startswith("_"))
        perdoc = self.perdocwriter
        docnum = self.docnum
        pool = self.pool
        perdoc.start_doc(docnum)
        try:
            for name in names:
                value = fields[name]
                if value is None:
                    continue
                plan = plans.get(name)
                if plan is None:
                    plan = plans[name] = self._plan(name)
                field, add_to_pool, indexed, scorable, stored, column = plan
                length = 0
                if indexed:
                    if add_to_pool is not None:  # our analysed text fields
                        length = add_to_pool(pool, name, docnum, value)
                    else:
                        entries = list(field.index(value))
                        length = sum(entry[1] for entry in entries)
                        pool.add_terms(name, docnum, [(e[0], e[2], e[3]) for e in entries])
                    if not scorable:
                        length = 0
                perdoc.add_field(name, field, value if stored else None, length)
                if column:
                    perdoc.add_column_value(name, column, field.to_column_value(value))
        except ValueError:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def _plan(self, name: str) -> tuple:
        """(field, its add_to_pool or None, indexed, scorable, stored, column type) of a
        field name of this writer's schema."""
        schema = self.schema
        self._check_fields(schema, [name])
        field = schema[name]
        if field.vector or field.separate_spelling():
            raise ValueError(f"field {name!r}: vectors and spelling are not supported")
        return (
            field,
            getattr(field, "add_to_pool", None),
            field.indexed,
            field.scorable,
            field.stored,
            field.column_type,
        )

    def add_postings_to_pool(self, reader, startdoc, docmap):
        """A merged segment's postings, a term at a time: each posting block is read whole
        (ids, weights and values at once) instead of Whoosh's matcher step per posting
        (``reader.iter_postings``), which was most of a merge's time. The pool gets the
        same postings (tests compare the merged indexes)."""
        terms_reader = getattr(reader, "_terms", None)
        if not isinstance(terms_reader, W3TermsReader):
            super().add_postings_to_pool(reader, startdoc, docmap)
            return
        schema = self.schema
        codec = terms_reader._codec
        postfile = terms_reader._postfile
        add = self.pool.add_term_postings
        for (fieldname, tbytes), terminfo in terms_reader.items():
            if fieldname not in schema:
                continue
            matcher = codec.postings_reader(
                postfile, terminfo, schema[fieldname].format, term=(fieldname, tbytes)
            )
            ids: list = []
            weights: list = []
            values: list = []
            if type(matcher) is W3LeafMatcher:
                while matcher.is_active():
                    matcher._read_ids()
                    matcher._read_weights()
                    matcher._read_values()
                    ids.extend(matcher._ids)
                    weights.extend(matcher._weights)
                    values.extend(matcher._values)
                    matcher._next_block()
            else:  # e.g. postings inlined in the term info
                while matcher.is_active():
                    ids.append(matcher.id())
                    weights.append(matcher.weight())
                    values.append(matcher.value())
                    matcher.next()
            if docmap is not None:  # deleted documents are not in the map
                postings = [
                    (docmap[d], w, v)
                    for d, w, v in zip(ids, weights, values, strict=True)
                    if d in docmap
                ]
            else:
                postings = [
                    (d + startdoc, w, v) for d, w, v in zip(ids, weights, values, strict=True)
                ]
            if postings:
                add(fieldname, tbytes, postings)

    def _flush_segment(self):
        self.perdocwriter.close()
        lengths = self.per_document_reader() if self.codec.length_stats else None
        try:
            write_term_postings(
                self.fieldwriter,
                self.schema,
                lengths,
                self.docnum,
                self.pool.iter_terms(),
                self.compression_min_size,
            )
            self.fieldwriter.close()
        finally:
            if lengths is not None:
                lengths.close()


class FastSubWriterTask(get_context("fork").Process):
    """A sub-writer process of a multiprocessing rebuild writing with
    :class:`FastSegmentWriter`. It reads job files of pickled documents (the format of
    Whoosh's MpWriter), and when told to stop (``None`` on the job queue) finishes its
    own segment and reports it (``multisegment``: the parent adds it to the TOC as is)."""

    def __init__(self, storage, indexname, jobqueue, resultqueue, kwargs):
        super().__init__()
        self.storage = storage
        self.indexname = indexname
        self.jobqueue = jobqueue
        self.resultqueue = resultqueue
        self.kwargs = kwargs

    def run(self):
        ix = self.storage.open_index(self.indexname)
        writer = FastSegmentWriter(ix, _lk=False, **self.kwargs)
        temp = writer.temp_storage()
        while True:
            job = self.jobqueue.get()
            if job is None:
                break
            filename, count = job
            with temp.open_file(filename).raw_file() as handle:
                load = pickle.Unpickler(handle).load
                for _ in range(count):
                    code, fields = load()
                    if code != 0:
                        raise ValueError(f"unknown job code {code!r}")
                    writer.add_document(**fields)
            temp.delete_file(filename)
        fieldnames = writer.pool.fieldnames
        segment = writer._finalize_segment()
        self.resultqueue.put((None, fieldnames, segment), timeout=5)
