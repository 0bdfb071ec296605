"""Top-N scoring of word-level queries a posting block at a time.

Whoosh scores a query by walking a tree of matchers one posting at a time: for every
matching document several Python calls per tree node (``next``, ``is_active``, ``id``,
``score``, the field-length look-up, the block-quality checks). For a dense word such as
人民政府, found in most documents, that walk is the whole cost of a query.

A query made only of terms joined by And and Or (the word-level tier of every plain-text
query, see ``WhooshSearchResults._ranked``) needs none of it: this module reads each
term's posting blocks whole, scores them with the same BM25F formula and the same
statistics Whoosh uses (the top searcher's idf and average field length, per-field B,
K1, the term's boost), sums the scores the way Whoosh's union and intersection matchers
do, and takes the top N with a heap. A query that weighs documents itself (the
one-character ``CharQuery``, via ``doc_weights``) joins in, and so do exact phrases
(positions read only for the documents that have every word). Anything else (prefixes,
Not, scaled Or, sloppy phrases) returns ``None`` and the caller lets Whoosh run it.

Per-document field lengths (and the model filter's postings) are read once per segment
and kept for the process, shared by every thread's searcher: a segment never changes
once written (only its deletions grow, and they are part of the key), so a thread that
reopens its searcher after a commit reuses what the other threads already read.
"""

from __future__ import annotations

import heapq
import threading
from array import array
from bisect import bisect_right
from itertools import accumulate, repeat

from whoosh import query as wq
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.scoring import BM25F
from whoosh.util.numeric import byte_to_length

from search.budget import check as check_budget

_LENGTH_OF_BYTE = [byte_to_length(i) for i in range(256)]


def supported(query) -> bool:
    """Whether :func:`top_docs` can score ``query`` exactly as Whoosh would."""
    if type(query) is wq.Term or hasattr(query, "doc_weights"):
        return True
    if type(query) is wq.Phrase:
        return query.slop == 1 and bool(query.words)
    if type(query) is wq.And:
        return query.boost == 1.0 and all(supported(q) for q in query.subqueries)
    if type(query) is wq.Or:
        return (
            query.boost == 1.0
            and not query.scale
            and not getattr(query, "minmatch", 0)
            and all(supported(q) for q in query.subqueries)
        )
    return False


def block_postings(reader, fieldname: str, btext: bytes, weights: bool = True):
    """(ids, weights) of one term in one segment, deleted documents left out; weights is
    None when not asked for. A whole block is decoded at a time."""
    ids: list[int] = []
    ws: list[float] | None = [] if weights else None
    if (fieldname, btext) not in reader:
        return ids, ws
    if not hasattr(reader, "_terms"):  # not one segment: Whoosh's own (slower) matcher
        matcher = reader.postings(fieldname, btext)
        while matcher.is_active():
            ids.append(matcher.id())
            if weights:
                ws.append(matcher.weight())
            matcher.next()
        return ids, ws
    fieldobj = reader.schema[fieldname]
    raw = reader._terms.matcher(fieldname, btext, fieldobj.format, scorer=None)
    if isinstance(raw, W3LeafMatcher):
        # what W3LeafMatcher._read_ids/_read_weights do, without a generator step per id
        while raw.is_active():
            if raw._data is None:
                raw._read_data()
            block_ids, block_weights = raw._data[0], raw._data[1]
            ids.extend(block_ids if raw._byteids else accumulate(block_ids))
            if weights:
                if block_weights is None:
                    ws.extend(repeat(1.0, raw._blocklength))
                elif isinstance(block_weights, float):
                    ws.extend(repeat(block_weights, raw._blocklength))
                else:
                    ws.extend(block_weights)
            raw._next_block()
    else:  # inlined postings (a ListMatcher), or an empty term
        while raw.is_active():
            ids.append(raw.id())
            if weights:
                ws.append(raw.weight())
            raw.next()
    deleted = reader.deleted_docs_set
    if deleted:
        keep = [i for i, d in enumerate(ids) if d not in deleted]
        ids = [ids[i] for i in keep]
        if weights:
            ws = [ws[i] for i in keep]
    return ids, ws


def sparse_postings(reader, fieldname: str, btext: bytes, docnums: list[int]):
    """(ids, weights) of one term for the given ascending ``docnums`` only: skips whole
    blocks by their largest id, so a frequent term costs the blocks that hold the
    documents asked for, not all of them."""
    fieldobj = reader.schema[fieldname]
    raw = reader._terms.matcher(fieldname, btext, fieldobj.format, scorer=None)
    ids: list[int] = []
    ws: list[float] = []
    for docnum in docnums:
        if not raw.is_active():
            break
        raw.skip_to(docnum)
        if raw.is_active() and raw.id() == docnum:
            ids.append(docnum)
            ws.append(raw.weight())
    return ids, ws


def term_positions(reader, fieldname: str, btext: bytes, wanted: set[int]) -> dict[int, list[int]]:
    """docnum → positions of a term present in this segment, for the ``wanted`` documents
    only (blocks without any of them are not decoded beyond their header)."""
    fieldobj = reader.schema[fieldname]
    decode = fieldobj.format.decoder("positions")
    out: dict[int, list[int]] = {}
    raw = reader._terms.matcher(fieldname, btext, fieldobj.format, scorer=None)
    if isinstance(raw, W3LeafMatcher):
        ahead = sorted(wanted)
        at = 0
        while raw.is_active() and at < len(ahead):
            if raw._maxid < ahead[at]:  # no wanted document in this block
                raw._next_block()
                continue
            if raw._data is None:
                raw._read_data()
            at = bisect_right(ahead, raw._maxid, at)
            block_ids = raw._data[0]
            block_ids = block_ids if raw._byteids else list(accumulate(block_ids))
            hits = [i for i, d in enumerate(block_ids) if d in wanted]
            if hits:
                raw._read_values()
                values = raw._values
                for i in hits:
                    out[block_ids[i]] = list(decode(values[i]))
            raw._next_block()
        return out
    while raw.is_active():  # inlined postings
        if raw.id() in wanted:
            out[raw.id()] = list(raw.value_as("positions"))
        raw.next()
    return out


#: one-character unions kept per searcher (search.backend.CharQuery)
DOC_WEIGHTS_KEPT = 8
#: term look-ups (is this term in that segment?) kept with a searcher
TERMS_KEPT = 50_000
#: at most this many candidate documents, an And works out its parts among them as given
#: instead of sizing each part over the segment to start with the smallest
FEW_CANDIDATES = 1000

#: segment-level arrays shared by every thread (immutable once built)
_SEGMENT_CACHE: dict[tuple, object] = {}
_SEGMENT_CACHE_MAX = 512
_segment_cache_lock = threading.Lock()


def _segment_key(reader, *rest) -> tuple | None:
    """A key naming one segment's state (None when ``reader`` is not one segment)."""
    segment = getattr(reader, "segment", None)
    if segment is None:
        return None
    seg = segment()
    if seg is None:
        return None
    return (seg.segment_id(), seg.deleted_count(), *rest)


def _cache_get(key):
    return None if key is None else _SEGMENT_CACHE.get(key)


def _cache_put(key, value):
    if key is None:
        return
    with _segment_cache_lock:
        if len(_SEGMENT_CACHE) >= _SEGMENT_CACHE_MAX:
            _SEGMENT_CACHE.clear()
        _SEGMENT_CACHE[key] = value


def _field_lengths(searcher, reader, fieldname: str):
    """Field length of every document of one segment (Whoosh's one-byte encoding)."""
    cache = searcher.__dict__.setdefault("_fast_lengths", {})
    key = (id(reader), fieldname)
    lengths = cache.get(key)
    shared_key = _segment_key(reader, "lengths", fieldname)
    if lengths is None:
        lengths = _cache_get(shared_key)
    if lengths is None:
        column = reader._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        doccount = reader.doc_count_all()
        if column is None:
            lengths = array("l", [0]) * doccount
        else:
            raw = column._dbfile.get(column._basepos, column._count * column._fixedlen)
            lengths = array("l", (_LENGTH_OF_BYTE[b] for b in raw))
            if len(lengths) < doccount:
                lengths.extend([0] * (doccount - len(lengths)))
        _cache_put(shared_key, lengths)
    cache[key] = lengths
    return lengths


class _Scoring:
    def __init__(self, top, reader):
        self.top = top
        self.reader = reader
        self.bm25 = top.weighting  # a BM25F (top_docs checks)
        self._sizes: dict[int, int] = {}

    def _doc_weights(self, query) -> dict[int, float]:
        """query.doc_weights(reader), kept with the searcher for the next search by type
        of the same request (a one-character query is the same union for every type); a
        few are kept, the union of a frequent character holds most documents."""
        cache = self.top.__dict__.setdefault("_fast_doc_weights", {})
        key = (id(self.reader), repr(query))
        weights = cache.get(key)
        if weights is None:
            weights = query.doc_weights(self.reader)
            if len(cache) >= DOC_WEIGHTS_KEPT:
                cache.clear()
            cache[key] = weights
        return weights

    def _size(self, query) -> int:
        """query.estimate_size(reader), each part worked out once: Whoosh's And and Or
        ask their parts again at every level, and the And below sorts by it at every level
        too (thousands of look-ups for a query of many character pairs)."""
        key = id(query)
        size = self._sizes.get(key)
        if size is None:
            kind = type(query)
            if kind is wq.And:
                size = min(self._size(q) for q in query.subqueries)
            elif kind is wq.Or:
                size = min(sum(self._size(q) for q in query.subqueries), self.reader.doc_count())
            else:
                size = query.estimate_size(self.reader)
            self._sizes[key] = size
        return size

    def _keyword(self, query) -> dict[int, float] | None:
        """docnum → weight of a term of an unscored field (the model filter doc_ct: the
        same few terms in every query, kept with the searcher); None for anything else."""
        if type(query) is not wq.Term:
            return None
        reader = self.reader
        field = reader.schema[query.fieldname] if query.fieldname in reader.schema else None
        if field is None or field.scorable:
            return None
        try:
            btext = field.to_bytes(query.text)
        except ValueError:
            return {}
        cache = self.top.__dict__.setdefault("_fast_keyword_postings", {})
        key = (id(reader), query.fieldname, btext)
        plain = cache.get(key)
        if plain is None:
            shared_key = _segment_key(reader, "keyword", query.fieldname, btext)
            plain = _cache_get(shared_key)
            if plain is None:
                if (query.fieldname, btext) in reader:
                    ids, weights = block_postings(reader, query.fieldname, btext)
                    plain = dict(zip(ids, weights, strict=True))
                else:
                    plain = {}
                _cache_put(shared_key, plain)
            cache[key] = plain
        return plain

    def _encoded(self, fieldname: str, texts) -> list[bytes] | None:
        """The terms' bytes when the field exists in this segment and holds every one of
        them, else None (nothing can match)."""
        reader = self.reader
        if fieldname not in reader.schema:
            return None
        field = reader.schema[fieldname]
        try:
            btexts = [field.to_bytes(t) for t in texts]
        except ValueError:
            return None
        # whether a segment holds a term, kept with the searcher: each of the ten types asks
        # again for the same words (a tenth of a first search's time went to these look-ups)
        present = self.top.__dict__.setdefault("_fast_term_present", {})
        for btext in btexts:
            key = (id(reader), fieldname, btext)
            found = present.get(key)
            if found is None:
                if len(present) >= TERMS_KEPT:
                    present.clear()
                found = present[key] = (fieldname, btext) in reader
            if not found:
                return None
        return btexts

    def _postings(self, fieldname: str, btext: bytes, within):
        """(docnum, weight) pairs of one term, limited to ``within`` when given (read
        sparsely when the term is much more frequent than the documents asked for)."""
        reader = self.reader
        if within is not None and len(within) * 16 < reader.doc_frequency(fieldname, btext):
            ids, weights = sparse_postings(reader, fieldname, btext, sorted(within))
            return zip(ids, weights, strict=True)
        ids, weights = block_postings(reader, fieldname, btext)
        if within is None:
            return zip(ids, weights, strict=True)
        return [(d, w) for d, w in zip(ids, weights, strict=True) if d in within]

    def term(self, query: wq.Term, within=None) -> dict[int, float]:
        encoded = self._encoded(query.fieldname, [query.text])
        if encoded is None:
            return {}
        fieldname, btext, boost = query.fieldname, encoded[0], query.boost
        if not self.reader.schema[fieldname].scorable:
            plain = self._keyword(query)
            if within is None:
                return {d: w * boost for d, w in plain.items()}
            return {d: plain[d] * boost for d in within if d in plain}
        return self._bm25(fieldname, btext, self._postings(fieldname, btext, within), boost)

    def _bm25(self, fieldname: str, btext: bytes, pairs, boost: float) -> dict[int, float]:
        """docnum → BM25F score of one term from (docnum, weight) pairs, as Whoosh's
        BM25FScorer computes it (times the query's boost, like its WrappingMatcher)."""
        text = btext.decode("utf-8")
        idf = self.top.idf(fieldname, text)
        avgfl = self.top.avg_field_length(fieldname) or 1
        bm25 = self.bm25
        B = bm25._field_B.get(fieldname, bm25.B)
        K1 = bm25.K1
        lengths = _field_lengths(self.top, self.reader, fieldname)
        num = idf * (K1 + 1)
        base = K1 * (1 - B)
        per_len = K1 * B / avgfl
        if boost == 1.0:
            return {d: (w * num) / (w + (base + per_len * lengths[d])) for d, w in pairs}
        return {d: ((w * num) / (w + (base + per_len * lengths[d]))) * boost for d, w in pairs}

    def phrase(self, query: wq.Phrase, within=None) -> dict[int, float]:
        """Documents where the words stand at consecutive positions; scored as Whoosh
        scores its phrase matcher: the sum of the words' BM25F scores, times the boost."""
        reader = self.reader
        fieldname = query.fieldname
        words = self._encoded(fieldname, query.words)
        if words is None:
            return {}
        distinct = sorted(set(words), key=lambda w: reader.doc_frequency(fieldname, w))
        postings: dict[bytes, dict[int, float]] = {}
        candidates = within
        for word in distinct:
            postings[word] = dict(self._postings(fieldname, word, candidates))
            candidates = postings[word].keys()
            if not candidates:
                return {}
        candidates = set(candidates)
        positions = {w: term_positions(reader, fieldname, w, candidates) for w in distinct}
        matched = []
        for docnum in candidates:
            starts = set(positions[words[0]][docnum])
            for offset, word in enumerate(words[1:], 1):
                starts &= {p - offset for p in positions[word][docnum]}
                if not starts:
                    break
            if starts:
                matched.append(docnum)
        if not matched:
            return {}
        total: dict[int, float] = dict.fromkeys(matched, 0.0)
        for word in words:  # a repeated word counts each time, as in Whoosh's intersection
            weight_of = postings[word]
            scores = self._bm25(fieldname, word, [(d, weight_of[d]) for d in matched], 1.0)
            for d in matched:
                total[d] += scores[d]
        if query.boost != 1.0:
            return {d: sc * query.boost for d, sc in total.items()}
        return total

    def run(self, query, within=None) -> dict[int, float]:
        check_budget()  # a unit of work: one term, phrase or character of one segment
        kind = type(query)
        if kind is wq.Term:
            return self.term(query, within)
        if kind is wq.Phrase:
            return self.phrase(query, within)
        if hasattr(query, "doc_weights"):  # a query that weighs documents itself (CharQuery)
            if within is not None and len(within) <= FEW_CANDIDATES:
                return query.doc_weights(self.reader, within)
            weights = self._doc_weights(query)
            if within is None:
                return weights
            if len(within) < len(weights):
                return {d: weights[d] for d in within if d in weights}
            return {d: w for d, w in weights.items() if d in within}
        if kind is wq.Or:
            # Whoosh scores an Or as the sum of its matching parts
            out: dict[int, float] = {}
            for sub in query.subqueries:
                part = self.run(sub, within)
                if not out:
                    out = part
                    continue
                for d, s in part.items():
                    have = out.get(d)
                    out[d] = s if have is None else have + s
            return out
        if not query.subqueries:
            return {}
        plains = [(q, self._keyword(q)) for q in query.subqueries]
        filters = [plain for _q, plain in plains if plain is not None]
        scored = [q for q, plain in plains if plain is None]
        candidates = min(filters, key=len) if filters else None
        if candidates is not None and within is not None and len(within) < len(candidates):
            candidates = None
        if scored and (
            (within is not None and len(within) <= FEW_CANDIDATES)
            or (candidates is not None and len(candidates) <= FEW_CANDIDATES)
        ):
            # Few documents can match (a type of 30 letters, or what an outer part left):
            # the scored parts are worked out among them in the order given. Sizing each
            # part over the whole segment first, to find the smallest, would cost more
            # than the parts themselves.
            if candidates is not None:
                within = (
                    candidates.keys() if within is None else [d for d in within if d in candidates]
                )
            order = scored + [q for q, plain in plains if plain is not None]
        else:
            # And: the smallest part first, the others only where it matched; a term of an
            # unscored field (the model filter) last, as a look-up
            order = sorted(
                query.subqueries,
                key=lambda q: (self._keyword(q) is not None, self._size(q)),
            )
            # a filter of an unscored field (the model of a search by type) that holds fewer
            # documents than the first scored part would match narrows that part from the
            # start: a phrase in 20,000 articles is not worked out for a type of 30 documents
            if filters and scored:
                narrowest = min(filters, key=len)
                if len(narrowest) < self._size(order[0]):
                    within = (
                        narrowest.keys()
                        if within is None
                        else [d for d in within if d in narrowest]
                    )
        out = self.run(order[0], within)
        for sub in order[1:]:
            if not out:
                return out
            plain = self._keyword(sub)
            if plain is not None:
                boost = sub.boost
                out = {d: s + plain[d] * boost for d, s in out.items() if d in plain}
                continue
            part = self.run(sub, out.keys())
            out = {d: s + part[d] for d, s in out.items() if d in part}
        return out


def top_docs(searcher, query, limit: int | None) -> list[tuple[int, float]] | None:
    """(docnum, score) of the best ``limit`` documents (all when None), best first, ties
    by document number; None when the query is not of the supported shape."""
    if not isinstance(searcher.weighting, BM25F) or not supported(query):
        return None
    # (score, -docnum): the largest first is the best score, ties to the lower docnum
    scored: list[tuple[float, int]] = []
    for sub, offset in searcher.leaf_searchers():
        reader = sub.reader()
        scores = _Scoring(searcher, reader).run(query)
        scored.extend(zip(scores.values(), [-(d + offset) for d in scores], strict=True))
    best = sorted(scored, reverse=True) if limit is None else heapq.nlargest(limit, scored)
    return [(-negated, s) for s, negated in best]


__all__ = ["block_postings", "supported", "top_docs"]
