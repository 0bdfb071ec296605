"""A Whoosh + jieba search backend for Wagtail's search framework (``modelsearch``).

Configure it as ``WAGTAILSEARCH_BACKENDS["default"] = {"BACKEND": "search.backend",
"PATH": DATA_DIR / "index"}``.

Every indexed text field is written three ways (``<kind>__<field name>`` dynamic fields):

* ``w__``  jieba words with sequential positions, plus dictionary sub-words, number+unit
  compounds and document-number parts stacked on their parent's position — ranked recall;
* ``b__``  Han character bigrams (non-Han words whole) with positions — exact phrases,
  partial words for autocomplete (制度汇 → 制度汇编) and recall of any Han substring;
* ``u__``  single Han characters without positions — one-character queries (税).

Search runs in Whoosh; the matching primary keys are then intersected with the caller's
queryset in the database. That is what makes filters, permissions, counts and facets
exact: whatever the queryset hides (drafts, private pages, another deputy's data) can
never appear, however stale the index is.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import threading
from collections import OrderedDict
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
from whoosh import index as wi
from whoosh import query as wq

from search.analysis import (
    analyze,
    expand_synonyms,
    han_bigrams,
    han_chars,
    is_han,
    normalize,
    tokenize_query,
)
from search.index_lock import IndexBusy, index_write_lock

log = logging.getLogger(__name__)

#: Bump when the schema or the analysis changes in a way that needs a re-index.
SCHEMA_VERSION = "3"
VERSION_FILE = "SCHEMA_VERSION"
INDEX_NAME = "main"
#: How long a request waits for the writer lock before deferring the write to a task.
DEFAULT_LOCK_TIMEOUT = 3.0
#: Boost of bigram (substring) matches relative to whole-word matches.
BIGRAM_WEIGHT = 0.4
#: Above this many hits, intersect with the queryset in Python rather than ``pk__in``.
LARGE_HIT_COUNT = 2000


# --------------------------------------------------------------------------- analyzers


class _Tokenizer(wa.Tokenizer):
    """Base for our Whoosh tokenizers: subclasses yield (text, pos, start, end)."""

    def pieces(self, value):
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
        for text, pos, start, end in self.pieces(value):
            token.text = text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = text
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar = start_char + start
                token.endchar = start_char + end
            yield token


class WordTokenizer(_Tokenizer):
    def pieces(self, value):
        for token in analyze(value):
            yield token.text, token.pos, token.start, token.end


class BigramTokenizer(_Tokenizer):
    def pieces(self, value):
        for pos, (text, start) in enumerate(han_bigrams(value)):
            yield text, pos, start, start + len(text)


class CharTokenizer(_Tokenizer):
    def pieces(self, value):
        for pos, ch in enumerate(han_chars(value)):
            yield ch, pos, 0, 0


def build_schema() -> wf.Schema:
    schema = wf.Schema(
        doc_key=wf.ID(stored=True, unique=True),
        doc_ct=wf.KEYWORD(),
        doc_pk=wf.ID(stored=True, sortable=True),
        doc_hash=wf.STORED(),
        doc_text=wf.STORED(),
    )
    schema.add("w__*", wf.TEXT(analyzer=WordTokenizer(), phrase=True), glob=True)
    schema.add("b__*", wf.TEXT(analyzer=BigramTokenizer(), phrase=True), glob=True)
    schema.add("u__*", wf.TEXT(analyzer=CharTokenizer(), phrase=False), glob=True)
    return schema


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
        doc[f"u__{name}"] = text
    return doc


# --------------------------------------------------------------------------- index store


class IndexStore:
    """The Whoosh index directory of one backend: open/create, version marker, writer lock,
    and a per-process searcher that is refreshed when another process commits."""

    def __init__(self, path: Path, lock_timeout: float):
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self._index = None
        self._searcher = None
        self._lock = threading.RLock()
        self.rebuild_needed = False
        self.rebuilding = False

    # -- opening
    def _version_ok(self) -> bool:
        marker = self.path / VERSION_FILE
        return marker.exists() and marker.read_text().strip() == SCHEMA_VERSION

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
            if wi.exists_in(str(self.path), indexname=INDEX_NAME) and self._version_ok():
                try:
                    self._index = wi.open_dir(str(self.path), indexname=INDEX_NAME)
                    return self._index
                except Exception:  # unreadable (e.g. pickled schema from older code)
                    log.warning("search index at %s unreadable; recreating", self.path)
            had_index = (self.path / VERSION_FILE).exists() or wi.exists_in(
                str(self.path), indexname=INDEX_NAME
            )
            with index_write_lock(self.path, self.lock_timeout):
                if wi.exists_in(str(self.path), indexname=INDEX_NAME) and self._version_ok():
                    self._index = wi.open_dir(str(self.path), indexname=INDEX_NAME)
                    return self._index
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
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None

    def searcher(self):
        with self._lock:
            index = self.index()
            if self._searcher is None:
                self._searcher = index.searcher()
            elif not self._searcher.up_to_date():
                # Reopen rather than Searcher.refresh(): in whoosh3 3.54 refresh() fails on
                # an empty index and reuses segment readers with outdated deletions.
                self._searcher.close()
                self._searcher = index.searcher()
            return self._searcher

    # -- writing
    def write(self, documents=(), delete_keys=(), timeout=None, optimize=False, also=None):
        """Apply updates and deletions in one commit while holding the writer lock;
        ``also(writer)`` may add more work to the same commit (the deferred-write spool)."""
        index = self.index()
        timeout = self.lock_timeout if timeout is None else timeout
        with index_write_lock(self.path, timeout):
            writer = index.writer(limitmb=128)
            try:
                for key in delete_keys:
                    writer.delete_by_term("doc_key", key)
                for doc in documents:
                    writer.update_document(**doc)
                finish = also(writer) if also is not None else None
            except BaseException:
                writer.cancel()
                raise
            writer.commit(optimize=optimize)
            if finish is not None:
                finish()

    def stored_documents(self):
        """(key, pk, hash) of every document (for the integrity check)."""
        searcher = self.searcher()
        for fields in searcher.all_stored_fields():
            yield fields["doc_key"], fields["doc_pk"], fields.get("doc_hash")


_stores: dict[str, IndexStore] = {}
_stores_lock = threading.Lock()


def get_store(path, lock_timeout=DEFAULT_LOCK_TIMEOUT) -> IndexStore:
    key = str(Path(path).resolve())
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = IndexStore(Path(key), lock_timeout)
        return store


def _schedule_rebuild():
    from search import tasks

    transaction.on_commit(lambda: tasks.rebuild_search_index.delay())


# --------------------------------------------------------------------------- queries


class WhooshQueryCompiler(BaseSearchQueryCompiler):
    # Chinese queries are short and precise: every word must match unless asked otherwise.
    DEFAULT_OPERATOR = "and"
    autocomplete = False

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
        alternatives = []
        for field, field_boost in self.field_boosts():
            weight = boost * field_boost
            if is_han(term) and len(term) == 1:
                alternatives.append(wq.Term(f"u__{field}", term, boost=weight))
                continue
            for word in expand_synonyms(term):
                alternatives.append(wq.Term(f"w__{field}", word, boost=weight))
                if is_han(word) and not _has_non_han_symbols(word):
                    alternatives.append(_bigram_phrase(field, word, weight * BIGRAM_WEIGHT))
        return _or(alternatives)

    def _phrase(self, text: str) -> wq.Query:
        alternatives = [
            _bigram_phrase(field, normalize(text), boost) for field, boost in self.field_boosts()
        ]
        return _or(alternatives)

    def _prefix(self, chunk: str) -> wq.Query:
        alternatives = []
        for field, boost in self.field_boosts():
            if is_han(chunk):
                alternatives.append(_bigram_phrase(field, chunk, boost))
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
            self.verify_phrases.append(normalize(query.query_string).strip())
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
            inner = self.compile(query.subquery, boost)
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
        compiled = self.compile()
        ct = wq.Term("doc_ct", model_label(self.queryset.model))
        if compiled is None:
            return None
        if isinstance(compiled, wq.Not):
            return wq.And([ct, compiled])
        return wq.And([ct, compiled])


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


def _bigram_phrase(field: str, text: str, boost: float) -> wq.Query:
    grams = [g for g, _start in han_bigrams(text)]
    if not grams:
        return wq.NullQuery
    if len(grams) == 1:
        gram = grams[0]
        if is_han(gram) and len(gram) == 1:
            return wq.Term(f"u__{field}", gram, boost=boost)
        return wq.Term(f"b__{field}", gram, boost=boost)
    singles = [g for g in grams if is_han(g) and len(g) == 1]
    if singles:
        # a lone Han character inside a phrase (2019年) is not a bigram of the document;
        # find candidates by all pieces and let the stored text decide (see _verify)
        parts = [
            wq.Term(f"u__{field}", g) if g in singles else wq.Term(f"b__{field}", g) for g in grams
        ]
        return wq.And(parts, boost=boost)
    return wq.Phrase(f"b__{field}", grams, boost=boost)


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


class WhooshSearchResults(BaseSearchResults):
    supports_facet = True

    def _matches(self) -> list[tuple[object, float]] | None:
        """(pk, score) of every hit in Whoosh order, or None for match-all."""
        cached = getattr(self.query_compiler, "_matches_cache", None)
        if cached is not None:
            return cached[0]
        compiler = self.query_compiler
        query = compiler.whoosh_query()
        if query is None:
            compiler._matches_cache = (None,)
            return None
        store = self.backend.store
        searcher = store.searcher()
        scored = compiler.order_by_relevance
        hits = searcher.search(query, limit=None, scored=scored)
        reader = searcher.reader()
        if hits.is_empty():
            compiler._matches_cache = ([],)
            return []
        pk_column = reader.column_reader("doc_pk")
        items = hits.items() if scored else [(d, 0.0) for d in hits.docs()]
        verify = [p for p in compiler.verify_phrases if p]
        matches = []
        pk_field = compiler.queryset.model._meta.pk
        for docnum, score in items:
            if verify:
                text = searcher.stored_fields(docnum).get("doc_text", "")
                if not all(p in text for p in verify):
                    continue
            matches.append((pk_field.to_python(pk_column[docnum]), score))
        compiler._matches_cache = (matches,)
        return matches

    def _allowed(self):
        """Hits that survive the queryset's filters, ordered by relevance or by the queryset.
        Returns a list of (pk, score)."""
        cached = getattr(self.query_compiler, "_allowed_cache", None)
        if cached is not None:
            return cached
        compiler = self.query_compiler
        queryset = compiler.queryset
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
        elif compiler.order_by_relevance:
            pks = [pk for pk, _ in matches]
            if len(pks) > LARGE_HIT_COUNT:
                allowed = set(queryset.values_list("pk", flat=True))
            else:
                allowed = set(queryset.filter(pk__in=pks).values_list("pk", flat=True))
            result = [(pk, score) for pk, score in matches if pk in allowed]
        else:
            scores = dict(matches)
            if len(scores) > LARGE_HIT_COUNT:
                ordered = [pk for pk in queryset.values_list("pk", flat=True) if pk in scores]
            else:
                ordered = list(queryset.filter(pk__in=list(scores)).values_list("pk", flat=True))
            result = [(pk, scores[pk]) for pk in ordered]
        compiler._allowed_cache = result
        return result

    def _do_search(self):
        page = self._allowed()[self.start : self.stop]
        if not page:
            return []
        queryset = self.query_compiler.queryset
        objects = queryset.filter(pk__in=[pk for pk, _ in page])
        if self.prefetch_related:
            objects = objects.prefetch_related(*self.prefetch_related)
        by_pk = {obj.pk: obj for obj in objects}
        results = []
        for pk, score in page:
            obj = by_pk.get(pk)
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
        queryset = self.query_compiler.queryset.model._default_manager.filter(pk__in=pks)
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

        documents = [make_document(obj) for obj in items]
        indexing.submit(self.backend, documents=documents)

    def delete_item(self, obj):
        from search import indexing

        indexing.submit(self.backend, delete_keys=[document_key(type(obj), obj.pk)])


class WhooshRebuilder:
    """``update_index``: empty the index, then fill it chunk by chunk with direct writes."""

    def __init__(self, index):
        self.index = index

    def start(self):
        self.index.reset()
        self.index.backend.store.rebuilding = True
        return self.index

    def finish(self):
        store = self.index.backend.store
        store.rebuilding = False
        store.write(optimize=True, timeout=600)
        store.rebuild_needed = False


class SearchBackend(BaseSearchBackend):
    query_compiler_class = WhooshQueryCompiler
    autocomplete_query_compiler_class = WhooshAutocompleteQueryCompiler
    results_class = WhooshSearchResults
    index_class = WhooshIndex
    rebuilder_class = WhooshRebuilder

    def __init__(self, params):
        super().__init__(params)
        path = params.pop("PATH", None) or Path(settings.DATA_DIR) / "index"
        timeout = float(params.pop("LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT))
        self.store = get_store(path, timeout)

    def get_index_for_model(self, model):
        return self.index_class(self)


__all__ = ["SearchBackend", "IndexBusy", "make_document", "document_key", "SCHEMA_VERSION"]
