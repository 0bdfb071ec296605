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

import heapq
import os
import pickle
import tempfile
from multiprocessing import get_context

from whoosh.codec.whoosh3 import W3Codec
from whoosh.writing import SegmentWriter

#: Rough bytes one pooled posting costs in memory (tuple, ints, float, value bytes).
POSTING_BYTES = 160
#: zlib level of the posting blocks a rebuild writes.
REBUILD_COMPRESSION = 1


class TermPool:
    """Postings grouped by (field name, term bytes), spilled to disk as whole term lists."""

    def __init__(self, limitmb: int = 128):
        self.limit = max(1, limitmb * 1024 * 1024 // POSTING_BYTES)
        self.terms: dict[tuple[str, bytes], list] = {}
        self.fieldnames: set[str] = set()
        self.count = 0
        self.runs: list[str] = []

    # the interface SegmentWriter uses
    def add(self, item) -> None:
        fieldname, tbytes, docnum, weight, vbytes = item
        key = (fieldname, tbytes)
        postings = self.terms.get(key)
        if postings is None:
            postings = self.terms[key] = []
            self.fieldnames.add(fieldname)
        postings.append((docnum, weight, vbytes))
        self.count += 1
        if self.count >= self.limit:
            self.save()

    def add_terms(self, fieldname: str, docnum: int, items) -> int:
        """Add ``(tbytes, weight, vbytes)`` postings of one document's field; returns how
        many were added (the bulk path of :class:`FastSegmentWriter`)."""
        terms = self.terms
        added = 0
        for tbytes, weight, vbytes in items:
            key = (fieldname, tbytes)
            postings = terms.get(key)
            if postings is None:
                postings = terms[key] = []
            postings.append((docnum, weight, vbytes))
            added += 1
        if added:
            self.fieldnames.add(fieldname)
        self.count += added
        if self.count >= self.limit:
            self.save()
        return added

    def save(self) -> None:
        """Write the pooled term lists, sorted by term, to a run file and empty the pool."""
        if not self.terms:
            return
        fd, path = tempfile.mkstemp(prefix="whoosh-terms-", suffix=".run")
        with os.fdopen(fd, "wb") as handle:
            dump = pickle.Pickler(handle, protocol=pickle.HIGHEST_PROTOCOL).dump
            for key in sorted(self.terms):
                dump((key, self.terms[key]))
        self.runs.append(path)
        self.terms = {}
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
        sources.append(iter(sorted(self.terms.items())))
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
        self.terms = {}
        self.count = 0


def write_term_postings(fieldwriter, schema, lengths, doc_count, terms) -> None:
    """Write ``terms`` (``((fieldname, tbytes), postings)`` in order) through a Whoosh 3
    field writer a block at a time.

    It fills the postings writer's block buffer the way ``add_posting`` would, one block
    (``blocklimit`` postings) per step instead of one posting per call, and takes the
    document lengths for the block statistics from lists read once per field instead of
    a column look-up per posting. The files are the same as Whoosh's own."""
    lastfn = None
    field_lengths: list[int] = []
    for (fieldname, tbytes), postings in terms:
        if fieldname != lastfn:
            if lastfn is not None:
                fieldwriter.finish_field()
            fieldwriter.start_field(fieldname, schema[fieldname])
            lastfn = fieldname
            if lengths is not None:
                field_lengths = [lengths.doc_field_length(d, fieldname) for d in range(doc_count)]
            else:
                field_lengths = [0] * doc_count
        fieldwriter.start_term(tbytes)
        writer = fieldwriter._postwriter
        limit = writer._blocklimit
        for i in range(0, len(postings), limit):
            if writer._ids:  # the previous block is full
                writer._write_block()
            block = postings[i : i + limit]
            ids = [p[0] for p in block]
            weights = [p[1] for p in block]
            writer._ids.extend(ids)
            writer._weights.extend(weights)
            writer._values.extend(p[2] for p in block if p[2])
            writer._maxweight = max(0, max(weights))
            sizes = [n for n in (field_lengths[d] for d in ids) if n]
            if sizes:
                writer._minlength = min(sizes)
                writer._maxlength = max(sizes)
        fieldwriter.finish_term()
    if lastfn is not None:
        fieldwriter.finish_field()


class FastSegmentWriter(SegmentWriter):
    """A SegmentWriter with :class:`TermPool` (same segment files, written faster)."""

    def __init__(self, ix, limitmb: int = 128, **kwargs):
        # zlib level 1 for the posting blocks: most of the size gain of level 3 at a
        # fraction of its time (readers honour whatever level a block was written with)
        kwargs.setdefault("codec", W3Codec(compression=REBUILD_COMPRESSION))
        super().__init__(ix, limitmb=limitmb, **kwargs)
        self.pool.cleanup()
        self.pool = TermPool(limitmb=limitmb)

    def add_document(self, **fields):
        """SegmentWriter.add_document for the fields of our schema, handing each field's
        postings to the pool in one call (no vectors, spelling or per-field boosts)."""
        self._check_state()
        schema = self.schema
        names = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, names)
        perdoc = self.perdocwriter
        docnum = self.docnum
        pool = self.pool
        perdoc.start_doc(docnum)
        try:
            for name in names:
                value = fields[name]
                if value is None:
                    continue
                field = schema[name]
                if field.vector or field.separate_spelling():
                    raise ValueError(f"field {name!r}: vectors and spelling are not supported")
                length = 0
                if field.indexed:
                    entries = list(field.index(value))
                    if field.scorable:
                        length = sum(entry[1] for entry in entries)
                    pool.add_terms(name, docnum, [(e[0], e[2], e[3]) for e in entries])
                perdoc.add_field(name, field, value if field.stored else None, length)
                column = field.column_type
                if column:
                    perdoc.add_column_value(name, column, field.to_column_value(value))
        except ValueError:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def _flush_segment(self):
        self.perdocwriter.close()
        lengths = self.per_document_reader() if self.codec.length_stats else None
        try:
            write_term_postings(
                self.fieldwriter, self.schema, lengths, self.docnum, self.pool.iter_terms()
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
