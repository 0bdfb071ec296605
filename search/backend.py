"""A Whoosh + jieba search backend for Wagtail's search framework (``modelsearch``).

Configure it as ``WAGTAILSEARCH_BACKENDS["default"] = {"BACKEND": "search.backend",
"PATH": DATA_DIR / "index"}``.

Every indexed text field is written two ways (``<kind>__<field name>`` dynamic fields):

* ``w__``  jieba words with sequential positions, plus dictionary sub-words, number+unit
  compounds and document-number parts stacked on their parent's position — ranked recall;
* ``b__``  Han character pairs, each Han run closed by its last character alone (non-Han
  words whole), with positions — exact phrases (a positional phrase of pairs), partial
  words for autocomplete (制度汇 → 制度汇编), recall of any Han substring, and
  one-character queries (税 = every token starting with 税).

Both fields build their postings straight from the analysis (no per-token objects), and a
full rebuild uses one writer (two processes when it can) and a single commit.

Search runs in Whoosh; the matching primary keys are then intersected with the caller's
queryset in the database. That is what makes filters, permissions, counts and facets
exact: whatever the queryset hides (drafts, private pages, another deputy's data) can
never appear, however stale the index is.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import multiprocessing
import operator
import os
import pickle
import queue
import re
import shutil
import threading
import time
from collections import Counter, OrderedDict
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from modelsearch.backends.base import (
    BaseIndex,
    BaseSearchBackend,
    BaseSearchQueryCompiler,
    BaseSearchResults,
    FilterFieldError,
    get_model_root,
)
from modelsearch.index import AutocompleteField, RelatedFields, SearchField
from modelsearch.query import And, Boost, Fuzzy, MatchAll, Not, Or, Phrase, PlainText
from whoosh import analysis as wa
from whoosh import fields as wf
from whoosh import formats as wformats
from whoosh import index as wi
from whoosh import query as wq
from whoosh.matching import ListMatcher, NullMatcher
from whoosh.multiproc import MpWriter
from whoosh.system import pack_uint

from search import fastwrite
from search.analysis import (
    HAN,
    expand_synonyms,
    get_lexicon,
    is_han,
    normalize,
    pair_positions,
    pair_tokens,
    tokenize_query,
    word_positions,
)
from search.budget import check as check_budget
from search.fastscore import block_postings, sparse_postings, top_docs
from search.fastwrite import FastSegmentWriter, FastSubWriterTask, delete_by_keys
from search.index_lock import IndexBusy, WriteLock, index_write_lock
from search.sql import filter_pks, pks_among

log = logging.getLogger(__name__)

#: Bump when the schema or the analysis changes in a way that needs a re-index.
SCHEMA_VERSION = "6"
VERSION_FILE = "SCHEMA_VERSION"
INDEX_NAME = "main"
#: How long a request waits for the writer lock before deferring the write to a task.
DEFAULT_LOCK_TIMEOUT = 3.0
#: Boost of bigram (substring) matches relative to whole-word matches.
BIGRAM_WEIGHT = 0.4
#: Above this many hits, intersect with the queryset in Python rather than ``pk__in``.
LARGE_HIT_COUNT = 2000
#: A page of results scores this many more candidates than it shows (hits the queryset
#: hides, or phrases that fail verification, are replaced from the spare ones).
CANDIDATE_MARGIN = 30
#: A full rebuild writes with two processes from this many documents in its first chunk.
PARALLEL_REBUILD_MIN = 500
REBUILD_MARKER = "REBUILDING"
#: which document types the newest commits changed (IndexStore.record_types), read by
#: search.result_cache to keep the hits of types a commit did not touch
TYPE_STAMPS_FILE = "type-stamps.json"

_HAN_RUN_FULL_RE = re.compile(f"[{HAN}]+")


# --------------------------------------------------------------------------- analyzers


class _Tokenizer(wa.Tokenizer):
    """Whoosh tokenizer over one of our position maps (only used outside indexing, e.g. by
    Whoosh's own query parser; the index builds postings from the maps directly)."""

    @staticmethod
    def positions(norm):
        raise NotImplementedError

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        tokenize=True,
        mode="",
        **kwargs,
    ):
        token = wa.Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        pieces = sorted(
            (pos, text) for text, poses in self.positions(normalize(value)).items() for pos in poses
        )
        for pos, text in pieces:
            token.text = text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = text
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar = token.endchar = start_char
            yield token


class WordTokenizer(_Tokenizer):
    positions = staticmethod(word_positions)


class PairTokenizer(_Tokenizer):
    positions = staticmethod(pair_positions)


_last_normalized = ("", "")


def _normalized(value: str) -> str:
    """normalize(value), remembered for the last value: a document's word and pair fields
    are the same string object."""
    global _last_normalized
    last = _last_normalized
    if last[0] is value:
        return last[1]
    norm = normalize(value)
    _last_normalized = (value, norm)
    return norm


#: Encoded single positions (most terms of an article occur once in it): position → bytes.
_SINGLE_POSITIONS: dict[int, bytes] = {}
SINGLE_POSITIONS_LIMIT = 100_000


def encode_positions(positions: list[int]) -> bytes:
    """Whoosh's ``Positions.encode`` (the count, then the pickled gaps), byte for byte;
    a single position's bytes are made once per process."""
    if len(positions) == 1:
        at = positions[0]
        value = _SINGLE_POSITIONS.get(at)
        if value is None:
            value = pack_uint(1) + pickle.dumps([at], 2)
            if len(_SINGLE_POSITIONS) < SINGLE_POSITIONS_LIMIT:
                _SINGLE_POSITIONS[at] = value
        return value
    return pack_uint(len(positions)) + pickle.dumps(
        list(map(operator.sub, positions, [0, *positions])), 2
    )


#: Field values up to this many characters are analysed once per process and lexicon:
#: titles and article labels come back in every article document of a statute.
SMALL_VALUE_CHARS = 120
SMALL_VALUE_CACHE_SIZE = 20_000


class _AnalysedText(wf.TEXT):
    """A TEXT field whose postings come straight from a term → positions map: the text is
    normalised once and no Whoosh Token objects are made (the slow part of indexing)."""

    def index(self, value, **kwargs):
        return self._cached("index", value, self._postings)

    def pool_entries(self, value) -> tuple[list[tuple[bytes, float, bytes]], int]:
        """The field's postings as :class:`search.fastwrite.TermPool` takes them —
        (term bytes, weight, value bytes) — and the field's length (tokens), without the
        frequency column and the list copies of ``index()`` (the bulk writer's path)."""
        return self._cached("pool", value, self._pool_entries)

    def add_to_pool(self, pool, fieldname: str, docnum: int, value) -> int:
        """The field's postings of document ``docnum`` into ``pool`` (a TermPool); returns
        the field's length. A long text goes from its term → positions map straight into
        the pool in compiled code (``TermPool.add_positions``: the same terms, weights and
        value bytes as ``pool_entries``, single positions' bytes shared alike); a short
        one through ``pool_entries``, whose result is kept for the next document."""
        boost = self.format.field_boost
        encoder = self._encoder()
        if (
            pool.native is None
            or not isinstance(value, str)
            or len(value) <= SMALL_VALUE_CHARS
            or type(boost) is not float
        ):
            items, length = self.pool_entries(value)
            pool.add_terms(fieldname, docnum, items)
            return length
        return pool.add_positions(
            fieldname,
            docnum,
            self._positions(value),
            boost,
            frequency_only=encoder is _frequency,
            singles=_SINGLE_POSITIONS,
            singles_limit=SINGLE_POSITIONS_LIMIT,
        )

    def _cached(self, kind: str, value, compute):
        """``compute(value)``; for a short value, once per process and lexicon (kept with
        the lexicon, so new administrator terms start a new cache)."""
        if not isinstance(value, str) or len(value) > SMALL_VALUE_CHARS:
            return compute(value)
        cache = get_lexicon().field_cache
        key = (kind, type(self), type(self.format), self.format.field_boost, value)
        found = cache.get(key)
        if found is None:
            found = compute(value)
            if len(cache) >= SMALL_VALUE_CACHE_SIZE:
                cache.clear()
            cache[key] = found
        return found

    def _positions(self, value) -> dict[str, list[int]]:
        if isinstance(value, dict):
            return value
        return self.analyzer.positions(_normalized(value))

    def _encoder(self):
        """A term's posting value from its positions, as the field's format stores it."""
        return encode_positions if type(self.format) is wformats.Positions else _frequency

    #: search/_fastwrite.c's position_items (None: the Python loop below)
    native = fastwrite._native

    def _pool_entries(self, value) -> tuple[list[tuple[bytes, float, bytes]], int]:
        positions = self._positions(value)
        boost = self.format.field_boost
        encode = self._encoder()
        if self.native is not None and type(boost) is float:
            return self.native.position_items(
                positions, boost, encode is _frequency, _SINGLE_POSITIONS, SINGLE_POSITIONS_LIMIT
            )
        items = [
            (term.encode("utf-8"), len(poses) * boost, encode(poses))
            for term, poses in positions.items()
        ]
        return items, sum(map(len, positions.values()))

    def _postings(self, value) -> list[tuple[bytes, int, float, bytes]]:
        positions = self._positions(value)
        boost = self.format.field_boost
        encode = self._encoder()
        return [
            (term.encode("utf-8"), len(poses), len(poses) * boost, encode(poses))
            for term, poses in positions.items()
        ]


def _frequency(positions: list[int]) -> bytes:
    """The value of a frequency-only posting (Whoosh's ``Frequency`` format)."""
    return pack_uint(len(positions))


class WordText(_AnalysedText):
    """Words for ranking: frequencies only (phrases use the pair field's positions)."""

    def __init__(self):
        super().__init__(analyzer=WordTokenizer(), phrase=False)


class PairText(_AnalysedText):
    def __init__(self):
        super().__init__(analyzer=PairTokenizer(), phrase=True)


def build_schema() -> wf.Schema:
    schema = wf.Schema(
        doc_key=wf.ID(stored=True, unique=True),
        doc_ct=wf.KEYWORD(),
        doc_pk=wf.ID(stored=True, sortable=True),
        doc_hash=wf.STORED(),
        doc_text=wf.STORED(),
    )
    schema.add("w__*", WordText(), glob=True)
    schema.add("b__*", PairText(), glob=True)
    return schema


class CharQuery(wq.Query):
    """Documents whose pair field contains the Han character ``char``: the union of the
    postings of every token that starts with it (each occurrence starts exactly one token).
    A document's weight grows with the number of distinct contexts the character has in it."""

    def __init__(self, fieldname: str, char: str, boost: float = 1.0):
        self.fieldname = fieldname
        self.text = char
        self.boost = boost

    def __eq__(self, other):
        return type(other) is CharQuery and (other.fieldname, other.text, other.boost) == (
            self.fieldname,
            self.text,
            self.boost,
        )

    def __hash__(self):
        return hash((CharQuery, self.fieldname, self.text, self.boost))

    def __repr__(self):
        return f"CharQuery({self.fieldname!r}, {self.text!r}, boost={self.boost})"

    def field(self):
        return self.fieldname

    def is_leaf(self):
        return True

    def _btexts(self, reader):
        if self.fieldname not in reader.schema:
            return []
        return list(reader.expand_prefix(self.fieldname, self.text))

    def estimate_size(self, reader):
        return sum(reader.doc_frequency(self.fieldname, t) for t in self._btexts(reader))

    def estimate_min_size(self, reader):
        return self.estimate_size(reader)

    def doc_weights(self, reader, within=None) -> dict[int, float]:
        """docnum → weight in one segment (also used by ``search.fastscore``), for the
        documents of ``within`` only when given (live ones: the caller's candidates)."""
        counts: Counter = Counter()
        wanted = sorted(within) if within is not None else None
        if within is not None and not hasattr(within, "isdisjoint"):  # a list: look-ups by set
            within = set(within)
        for number, btext in enumerate(self._btexts(reader)):
            if number % 32 == 0:
                check_budget()
            if wanted is not None and len(wanted) * 16 < reader.doc_frequency(
                self.fieldname, btext
            ):
                # a frequent word of the character: only the blocks of the candidates
                counts.update(sparse_postings(reader, self.fieldname, btext, wanted)[0])
                continue
            ids = block_postings(reader, self.fieldname, btext, weights=False)[0]
            counts.update(ids if within is None else [d for d in ids if d in within])
        boost, log = self.boost, math.log
        return {docnum: boost * (1.0 + log(count)) for docnum, count in counts.items()}

    def matcher(self, searcher, context=None):
        weights = self.doc_weights(searcher.reader())
        if not weights:
            return NullMatcher()
        ids = sorted(weights)
        return _WeightListMatcher(ids, weights=[weights[i] for i in ids])


class _WeightListMatcher(ListMatcher):
    """A ListMatcher whose best weight is computed once: Whoosh's own takes ``max()`` of
    the whole list on every block-quality check, which the collector makes per hit, so a
    union of a few thousand documents cost quadratic time."""

    def __init__(
        self,
        ids,
        weights=None,
        values=None,
        format=None,
        scorer=None,
        position=0,
        all_weights=None,
        term=None,
        terminfo=None,
        best=None,
    ):
        super().__init__(
            ids,
            weights=weights,
            values=values,
            format=format,
            scorer=scorer,
            position=position,
            all_weights=all_weights,
            term=term,
            terminfo=terminfo,
        )
        self._best = best if best is not None else (max(weights) if weights else 1.0)

    def copy(self):
        return self.__class__(
            self._ids,
            self._weights,
            self._values,
            self._format,
            self._scorer,
            self._i,
            self._all_weights,
            best=self._best,
        )

    def block_max_weight(self):
        return self._all_weights or self._best


# --------------------------------------------------------------------------- documents


def model_label(model) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


def content_types(model) -> list[str]:
    """The model and its concrete ancestors: searching Page finds every page type."""
    labels = [model_label(model)]
    labels.extend(model_label(p) for p in model._meta.get_parent_list())
    return labels


def document_key(model, pk) -> str:
    return f"{model_label(get_model_root(model))}:{pk}"


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple, set)):
        return "\n".join(_as_text(v) for v in value)
    if hasattr(value, "all") and callable(value.all):
        return "\n".join(str(v) for v in value.all())
    return str(value)


def text_fields(model) -> list[tuple[str, float, object, object]]:
    """(index name, boost, search field, parent RelatedFields or None) for every text field."""
    out = {}
    for field in model.get_search_fields():
        if isinstance(field, (SearchField, AutocompleteField)):
            boost = float(getattr(field, "boost", None) or 1)
            name = field.field_name
            previous = out.get(name)
            out[name] = (name, max(boost, previous[1] if previous else 0), field, None)
        elif isinstance(field, RelatedFields):
            for sub in field.fields:
                if isinstance(sub, (SearchField, AutocompleteField)):
                    name = f"{field.field_name}__{sub.field_name}"
                    boost = float(getattr(sub, "boost", None) or 1)
                    out[name] = (name, boost, sub, field)
    return list(out.values())


def _related_objects(obj, related):
    value = related.get_value(obj)
    if value is None:
        return []
    if hasattr(value, "all") and callable(value.all):
        return list(value.all())
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def extract_texts(obj) -> dict[str, str]:
    """The text of each indexed field of ``obj`` (related fields flattened)."""
    model = type(obj)
    texts: dict[str, str] = {}
    for name, _boost, field, related in text_fields(model):
        if related is None:
            value = field.get_value(obj)
            texts[name] = _as_text(value)
        else:
            parts = [_as_text(field.get_value(child)) for child in _related_objects(obj, related)]
            texts[name] = "\n".join(parts)
    return {name: text for name, text in texts.items() if text and text.strip()}


def content_hash(texts: dict[str, str]) -> str:
    digest = hashlib.sha1(SCHEMA_VERSION.encode())
    for name in sorted(texts):
        digest.update(name.encode() + b"\0" + texts[name].encode() + b"\0")
    return digest.hexdigest()


def make_document(obj) -> dict:
    model = type(obj)
    texts = extract_texts(obj)
    doc = {
        "doc_key": document_key(model, obj.pk),
        "doc_ct": " ".join(content_types(model)),
        "doc_pk": str(obj.pk),
        "doc_hash": content_hash(texts),
        "doc_text": normalize("\n".join(texts.values())),
    }
    for name, text in texts.items():
        doc[f"w__{name}"] = text
        doc[f"b__{name}"] = text
    return doc


# --------------------------------------------------------------------------- index store


class IndexStore:
    """The Whoosh index directory of one backend: open/create, version marker, writer lock,
    and one searcher per thread, reopened when any process commits.

    A Whoosh searcher reads its segments through open files (seek, then read): shared by
    two threads, one thread's seek lands between the other's seek and read, and the search
    fails with ``CorruptIndexError: Bad postings block tag`` or quietly reads the wrong
    postings. So no searcher, reader or file handle is ever shared: each thread opens its
    own (gunicorn's threads live as long as the worker, so that is a handful per process),
    checks it against the newest commit on every use (a directory listing) and reopens it
    when the index changed; a searcher opened before a fork is never used by the child."""

    def __init__(self, path: Path, lock_timeout: float):
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self._index = None
        self._local = threading.local()
        #: bumped whenever the index object is replaced: every thread's searcher is stale
        self._index_generation = 0
        self._lock = threading.RLock()
        self.rebuild_needed = False
        self.rebuilding = False
        self._rebuild_lock = None
        self._rebuild_writer = None
        self._rebuild_buffer: list[dict] = []
        self._stamps_seen: tuple | None = None

    # -- opening
    def _version_ok(self) -> bool:
        marker = self.path / VERSION_FILE
        return marker.exists() and marker.read_text().strip() == SCHEMA_VERSION

    def _open_existing(self):
        """The index on disk when it has the current schema and can be read, else None."""
        if not self._version_ok():
            return None
        try:
            # exists_in opens the index too, so both sit inside the guard
            if wi.exists_in(str(self.path), indexname=INDEX_NAME):
                return wi.open_dir(str(self.path), indexname=INDEX_NAME)
        except Exception:  # unreadable: pickled schema from older code, damaged files
            log.warning("search index at %s unreadable; it will be recreated", self.path)
        return None

    def _create(self):
        if self.path.exists():
            for child in self.path.iterdir():
                if child.name == "writer.lock":
                    continue
                if child.is_dir():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        self.path.mkdir(parents=True, exist_ok=True)
        index = wi.create_in(str(self.path), build_schema(), indexname=INDEX_NAME)
        (self.path / VERSION_FILE).write_text(SCHEMA_VERSION)
        return index

    def index(self):
        with self._lock:
            if self._index is not None and self._version_ok():
                return self._index
            self._close_searcher()
            existing = self._open_existing()
            if existing is not None:
                self._index = existing
                return existing
            had_index = (self.path / VERSION_FILE).exists() or any(self.path.glob("*.toc"))
            with index_write_lock(self.path, self.lock_timeout):
                existing = self._open_existing()  # another process may have just made it
                if existing is not None:
                    self._index = existing
                    return existing
                self._index = self._create()
            if had_index:
                # the schema changed under an existing index: its content must be rebuilt
                self.rebuild_needed = True
                _schedule_rebuild()
            return self._index

    def reset(self):
        with self._lock, index_write_lock(self.path, self.lock_timeout):
            self._close_searcher()
            self._index = self._create()

    # -- reading
    def _close_searcher(self):
        """Close this thread's searcher and make every other thread reopen its own."""
        self._index_generation += 1
        local = self._local
        searcher = getattr(local, "searcher", None)
        local.searcher = None
        if searcher is not None and getattr(local, "pid", None) == os.getpid():
            searcher.close()

    def searcher(self):
        """This thread's searcher on the newest commit (never shared with another thread)."""
        with self._lock:
            index = self.index()
            generation = self._index_generation
        local = self._local
        searcher = getattr(local, "searcher", None)
        pid = os.getpid()
        if searcher is not None:
            if local.pid != pid:
                searcher = None  # opened by the parent before a fork: its files are shared
            elif local.generation != generation or not searcher.up_to_date():
                # Reopen rather than Searcher.refresh(): in whoosh3 3.54 refresh() fails on
                # an empty index and reuses segment readers with outdated deletions.
                searcher.close()
                searcher = None
        if searcher is None:
            searcher = index.searcher()
            local.searcher, local.pid, local.generation = searcher, pid, generation
        return searcher

    # -- writing
    def write(self, documents=(), delete_keys=(), timeout=None, optimize=False, also=None):
        """Apply updates and deletions in one commit while holding the writer lock;
        ``also(writer)`` may add more work to the same commit (the deferred-write spool)."""
        index = self.index()
        timeout = self.lock_timeout if timeout is None else timeout
        with index_write_lock(self.path, timeout):
            writer = index.writer(limitmb=128)
            try:
                delete_by_keys(writer, delete_keys)
                for doc in documents:
                    writer.update_document(**doc)
                finish = also(writer) if also is not None else None
            except BaseException:
                writer.cancel()
                raise
            before = index.latest_generation()
            if optimize:
                writer.commit(optimize=True)
            else:
                from search.indexing import inline_merge

                writer.commit(mergetype=inline_merge)
            # ``also`` says which keys it wrote (search.indexing._drain); when it cannot,
            # the commit goes unnoted and every type counts as changed (record_types)
            added = getattr(also, "written", None) if also is not None else ()
            if added is not None:
                keys = [*delete_keys, *(doc["doc_key"] for doc in documents), *added]
                self.record_types(index, keys, before)
            if finish is not None:
                finish()

    # -- which types each commit changed
    def record_types(self, index, keys, before: int) -> None:
        """After a commit, under the writer lock: note the types of the documents it changed
        (``keys``, document keys) and the index generation it made (``before`` is the one it
        started from). A commit made another way (a rebuild, a bulk import, the spool) is not
        noted: the file is then behind the index's generation, readers treat every type as
        changed (IndexStore.type_stamps), and the next noted commit, finding the file behind,
        marks every type changed ("*")."""
        path = self.path / TYPE_STAMPS_FILE
        try:
            stamps = json.loads(path.read_text())
        except (OSError, ValueError):
            stamps = {}
        # a new file starts from the clock, so an index made again never repeats a stamp
        counter = int(stamps["#"]) + 1 if "#" in stamps else time.time_ns()
        changed = {key.split(":", 1)[0] for key in keys}
        if stamps.get("generation") != before:
            changed.add("*")
        stamps = {
            **stamps,
            **dict.fromkeys(changed, counter),
            "#": counter,
            "generation": index.latest_generation(),
        }
        temporary = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}")
        try:
            temporary.write_text(json.dumps(stamps))
            os.replace(temporary, path)
        except OSError:  # readers fall back to the index generation
            temporary.unlink(missing_ok=True)

    def type_stamps(self, generation) -> dict | None:
        """{type: stamp} of the commits up to index generation ``generation``; None when
        the file does not describe that generation (a commit it did not see)."""
        path = self.path / TYPE_STAMPS_FILE
        try:
            info = path.stat()
        except OSError:
            return None
        seen = (info.st_ino, info.st_mtime_ns, info.st_size)
        cached = self._stamps_seen
        if cached is None or cached[0] != seen:
            try:
                stamps = json.loads(path.read_text())
            except (OSError, ValueError):
                return None
            cached = self._stamps_seen = (seen, stamps)
        stamps = cached[1]
        return stamps if stamps.get("generation") == generation else None

    # -- full rebuild: one writer and one commit for the whole run
    def begin_rebuild(self, timeout: float = 600):
        """Empty the index and hold the writer lock until :meth:`finish_rebuild`.

        While the rebuild runs, other writes (this process's signal handlers, other
        processes) go to the spool and are applied right after the rebuild's commit."""
        with self._lock:
            self.abort_rebuild()
            self._rebuild_lock = WriteLock(self.path, timeout)
            try:
                self._close_searcher()
                self._index = self._create()
                (self.path / REBUILD_MARKER).write_text(str(os.getpid()))
            except BaseException:
                self._rebuild_lock.release()
                raise
            self._rebuild_writer = None
            self.rebuilding = True

    def rebuild_add(self, documents: list[dict]) -> None:
        """Add documents to the rebuild (the index was emptied: no deletes needed).

        The first documents wait in a buffer until there are enough of them to know whether
        the rebuild is worth a second writer process."""
        if self._rebuild_writer is None:
            self._rebuild_buffer.extend(documents)
            if len(self._rebuild_buffer) < PARALLEL_REBUILD_MIN:
                return
            documents, self._rebuild_buffer = self._rebuild_buffer, []
            self._rebuild_writer = self._open_rebuild_writer(len(documents))
        for doc in documents:
            self._rebuild_writer.add_document(**doc)

    def _open_rebuild_writer(self, count: int):
        get_lexicon()  # loaded before any fork, so sub-writers never touch the database
        procs = _rebuild_procs(count)
        if procs > 1:
            return WatchedMpWriter(
                self._index, procs=procs, multisegment=True, limitmb=256, start_method="fork"
            )
        return FastSegmentWriter(self._index, limitmb=256)

    def finish_rebuild(self) -> None:
        with self._lock:
            writer, self._rebuild_writer = self._rebuild_writer, None
            buffered, self._rebuild_buffer = self._rebuild_buffer, []
            try:
                if writer is None and buffered:
                    writer = self._open_rebuild_writer(len(buffered))
                for doc in buffered:
                    writer.add_document(**doc)
                if writer is not None:
                    if isinstance(writer, WatchedMpWriter):
                        writer.check_workers()
                    writer.commit(merge=False)
                    if isinstance(writer, WatchedMpWriter):
                        self.rebuild_needed = True  # until the workers are known to be fine
                        writer.check_workers(finished=True)
            finally:
                self._end_rebuild()
            self.rebuild_needed = False
        # the writes spooled meanwhile
        from search import indexing

        indexing.apply_spool(self, timeout=600)

    def abort_rebuild(self) -> None:
        """Give up a rebuild that did not finish (its documents are discarded)."""
        writer, self._rebuild_writer = self._rebuild_writer, None
        self._rebuild_buffer = []
        if writer is not None:
            writer.cancel()
        self._end_rebuild()

    def _end_rebuild(self):
        self.rebuilding = False
        (self.path / REBUILD_MARKER).unlink(missing_ok=True)
        lock = self._rebuild_lock
        if lock is not None:
            lock.release()
            self._rebuild_lock = None

    def rebuild_in_progress(self) -> bool:
        """True while some process rebuilds this index (it holds the lock meanwhile)."""
        if self.rebuilding:
            return True
        try:
            pid = int((self.path / REBUILD_MARKER).read_text())
        except (FileNotFoundError, ValueError):
            return False
        if pid == os.getpid():
            return False  # this process's own rebuild would have set ``rebuilding``: stale
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def stored_documents(self):
        """(key, pk, hash) of every document (for the integrity check)."""
        searcher = self.searcher()
        for fields in searcher.all_stored_fields():
            yield fields["doc_key"], fields["doc_pk"], fields.get("doc_hash")


_stores: dict[str, IndexStore] = {}
_stores_lock = threading.Lock()


def _after_fork_in_child() -> None:
    """A forked child starts with fresh locks (another thread of the parent may have held
    one at the fork) and opens its own searchers."""
    global _stores_lock
    _stores_lock = threading.Lock()
    for store in _stores.values():
        store._lock = threading.RLock()
        store._local = threading.local()


os.register_at_fork(after_in_child=_after_fork_in_child)


def get_store(path, lock_timeout=DEFAULT_LOCK_TIMEOUT) -> IndexStore:
    key = str(Path(path).resolve())
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = IndexStore(Path(key), lock_timeout)
        return store


class _WatchedQueue:
    """Whoosh's job queue for sub-writers, but a put gives up when a sub-writer has died
    (Whoosh itself would wait on the full queue for ever)."""

    def __init__(self, inner, tasks):
        self._inner = inner
        self._tasks = tasks

    def put(self, item, block=True, timeout=None):
        while True:
            try:
                return self._inner.put(item, timeout=1.0)
            except queue.Full:
                if any(task.exitcode not in (None, 0) for task in self._tasks):
                    raise RuntimeError("索引子进程异常退出，重建未完成") from None

    def get(self, *args, **kwargs):
        return self._inner.get(*args, **kwargs)


class WatchedMpWriter(MpWriter):
    """Whoosh's multiprocessing writer that notices a sub-writer that died."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.jobqueue = _WatchedQueue(self.jobqueue, self.tasks)

    def _new_task(self):
        # sub-writers with the term-grouping pool (search/fastwrite.py)
        task = FastSubWriterTask(
            self.storage, self.indexname, self.jobqueue, self.resultqueue, self.subargs
        )
        self.tasks.append(task)
        task.start()
        return task

    def check_workers(self, finished: bool = False) -> None:
        failed = [
            task.exitcode
            for task in self.tasks
            if task.exitcode not in ((0,) if finished else (None, 0))
        ]
        if failed:
            raise RuntimeError(f"索引子进程异常退出（{failed}），重建未完成")


def _rebuild_procs(first_chunk: int) -> int:
    """Two writer processes for a large rebuild, unless this process may not fork workers
    (a daemonic process such as a Celery prefork worker cannot have children)."""
    if first_chunk < PARALLEL_REBUILD_MIN:
        return 1
    if multiprocessing.current_process().daemon:
        return 1
    return max(1, min(2, os.cpu_count() or 1))


def _schedule_rebuild():
    from search import tasks

    transaction.on_commit(lambda: tasks.rebuild_search_index.delay())


# --------------------------------------------------------------------------- queries


class WhooshQueryCompiler(BaseSearchQueryCompiler):
    # Chinese queries are short and precise: every word must match unless asked otherwise.
    DEFAULT_OPERATOR = "and"
    autocomplete = False
    #: While compiling the *word-level* query: Han substrings are left out, so every hit
    #: is also a hit of the full query (see WhooshSearchResults._ranked).
    precise = False

    def field_boosts(self) -> list[tuple[str, float]]:
        """(index field name, boost) searched by this query: SearchFields for search(),
        AutocompleteFields for autocomplete(), limited to ``fields`` when given."""
        kind = AutocompleteField if self.autocomplete else SearchField
        wanted = set(self.fields) if self.fields else None
        boosts = {name: boost for name, boost, _f, _r in text_fields(self.queryset.model)}
        out = []
        for name, field, related in _field_kinds(self.queryset.model):
            top = related.field_name if related is not None else name
            if type(field) is not kind or (wanted is not None and top not in wanted):
                continue
            if (name, boosts[name]) not in out:
                out.append((name, boosts[name]))
        return out

    # -- leaves
    def _term(self, term: str, boost: float) -> wq.Query:
        """One query word over every field: whole word (with synonyms) or Han substring."""
        self.leaf_count += 1
        alternatives = []
        for field, field_boost in self.field_boosts():
            weight = boost * field_boost
            if is_han(term) and len(term) == 1:
                if not self.precise:
                    alternatives.append(CharQuery(f"b__{field}", term, boost=weight))
                alternatives.append(wq.Term(f"w__{field}", term, boost=weight))
                continue
            for word in expand_synonyms(term):
                alternatives.append(wq.Term(f"w__{field}", word, boost=weight))
                if _HAN_RUN_FULL_RE.fullmatch(word) and len(word) > 1 and not self.precise:
                    alternatives.append(_substring(field, word, weight * BIGRAM_WEIGHT))
        return _or(alternatives)

    def _phrase(self, text: str) -> wq.Query:
        """An exact string. A run of Han characters is a positional phrase of pairs, which is
        exact by construction; anything else (digits, Latin words, punctuation) also has to
        be found in the stored text (see ``verify_phrases``)."""
        self.leaf_count += 1
        norm = normalize(text).strip()
        pure_han = bool(_HAN_RUN_FULL_RE.fullmatch(norm))
        if self.precise and pure_han and len(norm) > 1:
            # a document with the word 人民政府 among its words contains the string
            # (word tokens are literal pieces of the normalised text)
            return _or([wq.Term(f"w__{f}", norm, boost=b) for f, b in self.field_boosts()])
        if not pure_han and norm not in self.verify_phrases:
            self.verify_phrases.append(norm)
        return _or([_phrase_query(field, norm, boost) for field, boost in self.field_boosts()])

    def _prefix(self, chunk: str) -> wq.Query:
        alternatives = []
        for field, boost in self.field_boosts():
            if is_han(chunk):
                alternatives.append(_substring(field, chunk, boost))
            else:
                alternatives.append(wq.Prefix(f"w__{field}", chunk, boost=boost))
        return _or(alternatives)

    def _fuzzy(self, term: str) -> wq.Query:
        if is_han(term):
            return self._term(term, 1.0)
        return _or(
            [
                wq.FuzzyTerm(f"w__{field}", term, boost=boost, maxdist=1, prefixlength=1)
                for field, boost in self.field_boosts()
            ]
        )

    # -- tree
    def compile(self, query=None, boost=1.0) -> wq.Query | None:
        """Translate a modelsearch query into a Whoosh query; ``None`` means match all."""
        query = self.query if query is None else query
        if isinstance(query, MatchAll):
            return None
        if isinstance(query, PlainText):
            if self.autocomplete:
                return self._compile_autocomplete(query.query_string, query.operator)
            terms = tokenize_query(query.query_string)
            if not terms:
                return wq.NullQuery
            parts = [self._term(t, boost * query.boost) for t in terms]
            return _combine(parts, query.operator)
        if isinstance(query, Phrase):
            return self._phrase(query.query_string)
        if isinstance(query, Fuzzy):
            terms = tokenize_query(query.query_string)
            if not terms:
                return wq.NullQuery
            return _combine([self._fuzzy(t) for t in terms], query.operator)
        if isinstance(query, Boost):
            return self.compile(query.subquery, boost * query.boost)
        if isinstance(query, And):
            parts = [self.compile(q, boost) for q in query.subqueries]
            parts = [p for p in parts if p is not None]
            return wq.And(parts) if parts else None
        if isinstance(query, Or):
            parts = [self.compile(q, boost) for q in query.subqueries]
            if any(p is None for p in parts):
                return None
            return wq.Or(parts)
        if isinstance(query, Not):
            # what is excluded must be the full set, also in the word-level query
            precise, self.precise = self.precise, False
            try:
                inner = self.compile(query.subquery, boost)
            finally:
                self.precise = precise
            if inner is None:
                return wq.NullQuery
            return wq.Not(inner)
        raise NotImplementedError(f"{type(query).__name__} 查询不受支持")

    def _compile_autocomplete(self, text: str, operator: str) -> wq.Query:
        import re

        chunks = [c for c in re.findall(r"[\u3400-\u9fff]+|[^\W_]+", normalize(text)) if c]
        if not chunks:
            return wq.NullQuery
        return _combine([self._prefix(c) for c in chunks], operator or "and")

    def whoosh_query(self) -> wq.Query | None:
        self.verify_phrases = []
        self.leaf_count = 0
        compiled = self.compile()
        if compiled is None:
            return None
        return wq.And([wq.Term("doc_ct", model_label(self.queryset.model)), compiled])

    def precise_query(self) -> wq.Query | None:
        """The word-level version of :meth:`whoosh_query` (call after it): no Han substring
        or character-pair recall, so it is cheap, and its hits are a subset of the full
        query's. Its hits (every query word found as a whole word) rank ahead of the
        documents where some word only occurs inside a longer word. None when it would be
        the same query."""
        if self.autocomplete or not self.leaf_count:
            return None
        self.precise = True
        try:
            compiled = self.compile()
        finally:
            self.precise = False
        if compiled is None:
            return None
        query = wq.And([wq.Term("doc_ct", model_label(self.queryset.model)), compiled])
        return None if query == self._full_query_for_compare else query


class WhooshAutocompleteQueryCompiler(WhooshQueryCompiler):
    DEFAULT_OPERATOR = "and"
    autocomplete = True


def _field_kinds(model):
    for field in model.get_search_fields():
        if isinstance(field, (SearchField, AutocompleteField)):
            yield field.field_name, field, None
        elif isinstance(field, RelatedFields):
            for sub in field.fields:
                if isinstance(sub, (SearchField, AutocompleteField)):
                    yield f"{field.field_name}__{sub.field_name}", sub, field


def _has_non_han_symbols(word: str) -> bool:
    return any(not is_han(ch) for ch in word)


def _substring(field: str, text: str, boost: float) -> wq.Query:
    """Documents containing the Han string ``text`` (one run of Han characters)."""
    if len(text) == 1:
        return CharQuery(f"b__{field}", text, boost=boost)
    grams = [text[i : i + 2] for i in range(len(text) - 1)]
    if len(grams) == 1:
        return wq.Term(f"b__{field}", grams[0], boost=boost)
    return wq.Phrase(f"b__{field}", grams, boost=boost)


def _phrase_query(field: str, norm: str, boost: float) -> wq.Query:
    """Candidates for the exact string ``norm``: exact for one Han run; for mixed text the
    pair stream's tokens in order (the last Han run left open at its end), verified later."""
    if _HAN_RUN_FULL_RE.fullmatch(norm):
        return _substring(field, norm, boost)
    tokens = [t for t, _start in pair_tokens(norm)]
    if not tokens:
        return wq.NullQuery
    extra = []
    if is_han(tokens[-1]) and len(tokens[-1]) == 1:
        # the phrase ends in Han: in a document that run may go on, so its closing single
        # character is not a token there; a one-character run becomes "starts with"
        last = tokens.pop()
        if not tokens or not is_han(tokens[-1]) or len(tokens[-1]) != 2:
            extra.append(CharQuery(f"b__{field}", last))
    parts = []
    if len(tokens) == 1:
        parts.append(wq.Term(f"b__{field}", tokens[0]))
    elif tokens:
        parts.append(wq.Phrase(f"b__{field}", tokens))
    parts.extend(extra)
    if not parts:
        return wq.NullQuery
    return parts[0].with_boost(boost) if len(parts) == 1 else wq.And(parts, boost=boost)


def _or(parts):
    parts = [p for p in parts if p is not wq.NullQuery]
    if not parts:
        return wq.NullQuery
    return parts[0] if len(parts) == 1 else wq.Or(parts)


def _combine(parts, operator):
    if operator == "and":
        return wq.And(parts) if len(parts) > 1 else parts[0]
    return wq.Or(parts) if len(parts) > 1 else parts[0]


# --------------------------------------------------------------------------- results


def _top_docs(searcher, query, limit):
    """(docnum, score) of the best ``limit`` hits (all when None), best first: word-level
    queries are scored a block at a time (``search.fastscore``), the rest by Whoosh."""
    check_budget()
    fast = top_docs(searcher, query, limit)
    if fast is not None:
        return fast
    hits = searcher.search(query, limit=limit, scored=True, terms=False)
    return [(docnum, score) for score, docnum in hits.top_n]


class WhooshSearchResults(BaseSearchResults):
    """Whoosh finds and ranks; the caller's queryset decides what may be shown.

    A page in relevance order scores only the top ``stop + CANDIDATE_MARGIN`` documents in
    Whoosh and loads those rows in one query through the queryset (so hidden rows drop out);
    only when too many drop out does it widen the window. ``count()``, facets and queryset
    ordering need every hit: they take the unscored hit set, which is cheap in Whoosh.
    """

    supports_facet = True

    def _query(self):
        compiler = self.query_compiler
        cached = getattr(compiler, "_whoosh_query", None)
        if cached is None:
            cached = compiler._whoosh_query = (compiler.whoosh_query(),)
        return cached[0]

    def _precise_query(self):
        compiler = self.query_compiler
        cached = getattr(compiler, "_precise_whoosh_query", None)
        if cached is None:
            compiler._full_query_for_compare = self._query()
            cached = compiler._precise_whoosh_query = (compiler.precise_query(),)
        return cached[0]

    def _pks(self, searcher, docnums) -> list[tuple[int, object]]:
        """(docnum, pk) for ``docnums`` that pass phrase verification, in the given order."""
        if not docnums:
            return []
        compiler = self.query_compiler
        verify = [p for p in compiler.verify_phrases if p]
        # the column reader kept with the searcher (one per thread, replaced after a commit):
        # opening it over every segment cost about as much as scoring a one-word query
        pk_column = searcher.__dict__.get("_doc_pk_column")
        if pk_column is None:
            pk_column = searcher.__dict__["_doc_pk_column"] = searcher.reader().column_reader(
                "doc_pk"
            )
        to_python = compiler.queryset.model._meta.pk.to_python
        out = []
        for docnum in docnums:
            if verify:
                text = searcher.stored_fields(docnum).get("doc_text", "")
                if not all(p in text for p in verify):
                    continue
            out.append((docnum, to_python(pk_column[docnum])))
        return out

    def _matches(self) -> list[tuple[object, float]] | None:
        """(pk, score) of every hit (unscored: score 0.0), or None for match-all."""
        cached = getattr(self.query_compiler, "_matches_cache", None)
        if cached is not None:
            return cached[0]
        compiler = self.query_compiler
        query = self._query()
        if query is None:
            compiler._matches_cache = (None,)
            return None
        searcher = self.backend.store.searcher()
        check_budget()
        docnums = sorted(searcher.docs_for_query(query))
        matches = [(pk, 0.0) for _docnum, pk in self._pks(searcher, docnums)]
        compiler._matches_cache = (matches,)
        return matches

    def _allowed(self):
        """Every hit that survives the queryset's filters, as (pk, score), ordered by
        relevance or by the queryset."""
        cached = getattr(self.query_compiler, "_allowed_cache", None)
        if cached is not None:
            return cached
        compiler = self.query_compiler
        queryset = compiler.queryset
        if compiler.order_by_relevance and self._query() is not None:
            result = self._ranked(None)[0]
            compiler._allowed_cache = result
            return result
        matches = self._matches()
        if matches is None:
            qs = (
                queryset
                if not compiler.order_by_relevance
                else queryset.order_by(*(queryset.query.order_by or ["pk"]))
            )
            result = [(pk, None) for pk in qs.values_list("pk", flat=True)]
        elif not matches:
            result = []
        else:
            scores = dict(matches)
            if len(scores) > LARGE_HIT_COUNT:
                ordered = [pk for pk in queryset.values_list("pk", flat=True) if pk in scores]
            else:
                ordered = list(filter_pks(queryset, scores).values_list("pk", flat=True))
            result = [(pk, scores[pk]) for pk in ordered]
        compiler._allowed_cache = result
        return result

    def _ranked(self, needed: int | None):
        """The first ``needed`` (all when None) allowed hits in relevance order, as
        (pk, score), and the loaded objects of the rows looked at ({} when not loaded)."""
        compiler = self.query_compiler
        queryset = compiler.queryset
        query = self._query()
        # Two tiers: the documents where every query word is a whole word (the word-level
        # query, cheap) rank first; the documents that match only through a Han substring
        # (the full query: pairs, positions) follow. A page whose window the first tier
        # fills never evaluates the full query; the whole list (counts, later pages) is
        # built the same way, so pages and list agree.
        precise = self._precise_query()
        searcher = self.backend.store.searcher()
        limit = None if needed is None else needed + CANDIDATE_MARGIN
        while True:
            top = []
            if precise is not None:
                top = _top_docs(searcher, precise, limit)
            if precise is None or limit is None or len(top) < limit:
                full = _top_docs(searcher, query, limit)
                exhausted = limit is None or len(full) < limit
                if top:
                    first = {docnum for docnum, _score in top}
                    top.extend((d, sc) for d, sc in full if d not in first)
                    top = top if limit is None else top[:limit]
                else:
                    top = full
            else:
                exhausted = False
            scores = dict(top)
            candidates = [(pk, scores[d]) for d, pk in self._pks(searcher, [d for d, _ in top])]
            objects = {}
            if limit is None and len(candidates) > LARGE_HIT_COUNT:
                allowed = set(queryset.values_list("pk", flat=True))
            elif limit is None:
                pks = [pk for pk, _ in candidates]
                allowed = pks_among(queryset, pks)
            else:
                # unordered: a model's default ordering made SQLite walk that index for each
                # listed pk (57 ms for 2,000 articles, 3 ms without); the order is the ranking's
                rows = filter_pks(queryset.order_by(), [pk for pk, _ in candidates])
                if self.prefetch_related:
                    rows = rows.prefetch_related(*self.prefetch_related)
                objects = {obj.pk: obj for obj in rows}
                allowed = objects
            result = [(pk, score) for pk, score in candidates if pk in allowed]
            if exhausted:
                compiler._allowed_cache = result
            if exhausted or len(result) >= needed:
                return result, objects
            limit *= 4

    def _do_search(self):
        compiler = self.query_compiler
        objects = {}
        cached = getattr(compiler, "_allowed_cache", None)
        if cached is not None:
            page = cached[self.start : self.stop]
        elif compiler.order_by_relevance and self._query() is not None and self.stop:
            ranked, objects = self._ranked(self.stop)
            page = ranked[self.start : self.stop]
        else:
            page = self._allowed()[self.start : self.stop]
        if not page:
            return []
        missing = [pk for pk, _ in page if pk not in objects]
        if missing:
            rows = filter_pks(compiler.queryset.order_by(), missing)
            if self.prefetch_related:
                rows = rows.prefetch_related(*self.prefetch_related)
            objects = {**objects, **{obj.pk: obj for obj in rows}}
        results = []
        for pk, score in page:
            obj = objects.get(pk)
            if obj is None:
                continue
            if self._score_field:
                setattr(obj, self._score_field, score)
            results.append(obj)
        return results

    def _do_count(self):
        total = len(self._allowed())
        total = max(0, total - self.start)
        if self.stop is not None:
            total = min(total, self.stop - self.start)
        return total

    def facet(self, field_name):
        field = self.query_compiler._get_filterable_field(field_name)
        if field is None:
            raise FilterFieldError(
                f'Cannot facet search results with field "{field_name}". Please add '
                f'index.FilterField("{field_name}") to '
                f"{self.query_compiler.queryset.model.__name__}.search_fields.",
                field_name=field_name,
            )
        pks = [pk for pk, _ in self._allowed()]
        queryset = filter_pks(self.query_compiler.queryset.model._default_manager, pks)
        rows = queryset.values(field_name).annotate(count=Count("pk")).order_by("-count")
        return OrderedDict((row[field_name], row["count"]) for row in rows)


# --------------------------------------------------------------------------- index API


class WhooshIndex(BaseIndex):
    def get_key(self):
        return str(self.backend.store.path)

    def add_model(self, model):
        self.backend.store.index()

    def refresh(self):
        from search import indexing

        indexing.flush_pending(self.backend.store)
        self.backend.store.searcher()

    def reset(self):
        self.backend.store.reset()

    def add_item(self, obj):
        self.add_items(type(obj), [obj])

    def add_items(self, model, items):
        from search import indexing

        documents = [make_document(obj) for obj in items if not indexing.is_held(obj)]
        if documents:
            indexing.submit(self.backend, documents=documents)

    def delete_item(self, obj):
        from search import indexing

        indexing.submit(self.backend, delete_keys=[document_key(type(obj), obj.pk)])


class RebuildIndex(WhooshIndex):
    """The index as ``update_index`` sees it between start() and finish(): every chunk goes
    into the rebuild's single writer."""

    def add_items(self, model, items):
        self.backend.store.rebuild_add([make_document(obj) for obj in items])


class WhooshRebuilder:
    """``update_index``: empty the index, fill it through one writer (two processes for a
    large index), commit once without merging."""

    def __init__(self, index):
        self.index = index

    def start(self):
        store = self.index.backend.store
        store.begin_rebuild()
        return RebuildIndex(self.index.backend)

    def finish(self):
        self.index.backend.store.finish_rebuild()


class SearchBackend(BaseSearchBackend):
    query_compiler_class = WhooshQueryCompiler
    autocomplete_query_compiler_class = WhooshAutocompleteQueryCompiler
    results_class = WhooshSearchResults
    index_class = WhooshIndex
    rebuilder_class = WhooshRebuilder
    #: every result is a row of the searched queryset (WhooshSearchResults loads the hits
    #: through queryset.filter(pk__in=…)), so callers need not check them against it again
    results_from_queryset = True

    def __init__(self, params):
        super().__init__(params)
        path = params.pop("PATH", None) or Path(settings.DATA_DIR) / "index"
        timeout = float(params.pop("LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT))
        self.store = get_store(path, timeout)

    def get_index_for_model(self, model):
        return self.index_class(self)

    def result_generation(self, models=()):
        """Which state of the index a search whose hits are made from ``models`` answers
        from now (search.result_cache keys on it): changes when a commit changes a document
        of one of ``models``, with every commit whose types are not known, and whenever the
        index is replaced."""
        types = sorted({model_label(get_model_root(model)) for model in models})
        store = self.store
        # the same in every process (a cache shared between them may key on it too)
        base = (str(store.path),)
        reader = store.searcher().ixreader
        generation = reader.generation()
        stamps = store.type_stamps(generation) if types else None
        if stamps is None:
            # the segments' random names too: an index made again restarts its generations
            segments = tuple(
                r.segment().segment_id() for r, _ in reader.leaf_readers() if r.segment()
            )
            return (*base, "generation", generation, segments)
        return (*base, "types", stamps.get("*", 0), *(stamps.get(t, 0) for t in types))


__all__ = ["SearchBackend", "IndexBusy", "make_document", "document_key", "SCHEMA_VERSION"]
