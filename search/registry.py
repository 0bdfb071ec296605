"""What the site-wide search (全站检索) covers, and running it for one user.

Each module registers its searchable models once (in its AppConfig.ready or its
wagtail_hooks.py)::

    register_searchable(
        PolicyPage,
        type_label="政策法规",
        queryset_for_user=lambda user: PolicyPage.objects.live().public(),
        url_for=lambda page: page.url,
        date_for=lambda page: page.issued_on,
        facets={"year": ..., "issuer": ..., "effect_level": ..., "status": ...},
    )

Permission awareness lives here: results, counts and facets are computed only from
``queryset_for_user(user)``. The backend is asked to search that queryset; when it
cannot apply the queryset's filters (a field without an index FilterField) the model's
whole table is searched instead. Either way every hit is then checked against the
user's queryset in the database, so what a user may not see never reaches a count.

Live public Wagtail pages (any Page subclass not registered on its own) are built in.

Relevance across types: backends score on different scales (SQLite's bm25 is negative,
lower is better), so each type's hits are scored 1.0 for its best hit down towards 0
in the backend's own order (min–max of the backend score where it has one, by rank
otherwise), and the types are merged on that score.
"""

from __future__ import annotations

import copy
import datetime
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models import prefetch_related_objects
from django.utils import timezone
from django.utils.html import strip_tags
from modelsearch.backends import get_search_backend
from modelsearch.backends.base import FieldError
from modelsearch.index import AutocompleteField, SearchField
from wagtail.blocks import StreamValue

from . import result_cache
from .budget import SearchTooSlow, time_budget
from .budget import check as check_budget
from .highlight import highlight
from .query_syntax import ParsedQuery, groups_to_text, parse_query
from .sql import filter_pks, pks_among

# facet key → label shown on the page; "type" is always present.
FACET_LABELS = {
    "type": "类型",
    "year": "年份",
    "issuer": "发文机关",
    "effect_level": "效力级别",
    "status": "时效性",
}
FACETS = [key for key in FACET_LABELS if key != "type"]

SORTS = {"relevance": "按相关度", "date": "按日期"}

#: Parts (articles) shown under their document; the rest are counted (“另有 N 条命中”).
CHILDREN_SHOWN = 3

# How many hits per type a search collects before merging (a county's collection is
# thousands of items, so this is a guard, not a working limit).
MAX_HITS_PER_TYPE = getattr(settings, "SEARCH_MAX_HITS_PER_TYPE", 2000)


def _indexed_text(obj, exclude=("title",)) -> str:
    """The text of the object's SearchFields (less the title), for snippets: what the index
    holds. A StreamField gives its blocks' searchable text, as it is indexed, not the page
    rendered: a briefing's figure blocks would each work out its budget figure (~3 ms
    apiece) for a snippet that shows 160 characters."""
    fields = getattr(obj, "get_search_fields", None)
    if fields is None:
        return ""
    parts = []
    for search_field in fields():
        if not isinstance(search_field, SearchField) or search_field.field_name in exclude:
            continue
        value = getattr(obj, search_field.field_name, None)
        if callable(value):
            value = value()
        if isinstance(value, StreamValue):
            text = "\n".join(value.stream_block.get_searchable_content(value))
            if text:
                parts.append(text)
        elif value:
            parts.append(strip_tags(str(value)))
    return "\n".join(parts)


@dataclass
class Searchable:
    model: type[models.Model]
    type_label: str
    queryset_for_user: Callable[[Any], models.QuerySet]
    url_for: Callable[[Any], str]
    title_for: Callable[[Any], str] = str
    body_for: Callable[[Any], str] = _indexed_text
    date_for: Callable[[Any], datetime.date | datetime.datetime | None] | None = None
    facets: dict[str, Callable[[Any], Any]] = field(default_factory=dict)
    key: str = ""
    # the queryset searched when the backend cannot apply queryset_for_user's filters
    base_queryset: Callable[[], models.QuerySet] | None = None
    # a part of a document (an article of a policy): the document it belongs to, and the
    # registry key of the document's type; results list the document once with its
    # best-matching parts beneath it
    parent_for: Callable[[Any], Any] | None = None
    parent_key: str = ""
    # the fields a hit needs before it is shown (title, date, facets, parent, address);
    # a dense query makes hundreds of hits of a type, and loading only these makes them
    # ~2x faster. What only the shown hits need (the text for a snippet) loads when read.
    hit_fields: tuple[str, ...] = ()
    # foreign keys of a hit loaded once per distinct row they point to, with only these
    # fields ({"page": ("title", …)}), instead of joined into every hit's row: 2,000
    # articles of 100 policies then make 100 page objects, not 2,000
    hit_related: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # related sets the snippet of a shown hit reads (a suggestion's co-handling units),
    # fetched once for the page's hits of the type instead of once per hit
    shown_prefetch: tuple[str, ...] = ()

    def __post_init__(self):
        self.key = self.key or self.model._meta.label_lower
        unknown = set(self.facets) - set(FACETS)
        if unknown:
            raise ValueError(f"Unknown facets {sorted(unknown)}; use {FACETS}")

    def all_objects(self) -> models.QuerySet:
        if self.base_queryset is not None:
            return self.base_queryset()
        return self.model._default_manager.all()

    def date_of(self, obj) -> datetime.date | None:
        if self.date_for is None:
            return None
        value = self.date_for(obj)
        if isinstance(value, datetime.datetime):
            if timezone.is_aware(value):
                value = timezone.localtime(value)
            return value.date()
        return value

    def facet_values(self, obj) -> dict[str, str]:
        values = {}
        for key, fn in self.facets.items():
            value = fn(obj)
            if value not in (None, ""):
                values[key] = str(value)
        return values

    def visible_to(self, user) -> models.QuerySet:
        return self.queryset_for_user(user)


_registry: dict[str, Searchable] = {}
_builtins_loaded = False


def register_searchable(model, **options) -> Searchable:
    """Add (or replace, by key) a searchable type of the site-wide search."""
    entry = Searchable(model=model, **options)
    _registry[entry.key] = entry
    return entry


def unregister_searchable(key_or_model) -> None:
    key = key_or_model if isinstance(key_or_model, str) else key_or_model._meta.label_lower
    _registry.pop(key, None)


def searchables() -> list[Searchable]:
    _load_builtins()
    return list(_registry.values())


def searchable_for(obj) -> Searchable | None:
    """The registered type an object belongs to (a specific page falls back to pages)."""
    _load_builtins()
    for klass in type(obj).__mro__:
        meta = getattr(klass, "_meta", None)
        if meta is not None and not getattr(meta, "abstract", False):
            entry = _registry.get(meta.label_lower)
            if entry is not None:
                return entry
    return None


# --- built in: live, public Wagtail pages -------------------------------------------


def _page_queryset_for_user(user):
    from wagtail.models import Page

    own_types = [
        entry.model
        for entry in _registry.values()
        if entry.model is not Page and issubclass(entry.model, Page)
    ]
    queryset = Page.objects.live().public().filter(depth__gt=1)
    if own_types:
        from django.contrib.contenttypes.models import ContentType

        type_ids = ContentType.objects.get_for_models(*own_types).values()
        queryset = queryset.exclude(content_type__in=[ct.pk for ct in type_ids])
    return queryset


def _page_body(page) -> str:
    specific = page.specific
    text = _indexed_text(specific)
    return text or page.search_description or ""


def _page_year(page):
    moment = page.first_published_at
    return timezone.localtime(moment).year if moment else None


def _load_builtins() -> None:
    global _builtins_loaded
    if _builtins_loaded:
        return
    _builtins_loaded = True
    from wagtail.models import Page

    if Page._meta.label_lower not in _registry:
        register_searchable(
            Page,
            type_label="网页",
            queryset_for_user=_page_queryset_for_user,
            url_for=lambda page: page.url or "",
            title_for=lambda page: page.title,
            body_for=_page_body,
            date_for=lambda page: page.last_published_at or page.first_published_at,
            facets={"year": _page_year},
        )


# --- running a search ----------------------------------------------------------------


@dataclass
class SearchHit:
    obj: Any
    searchable: Searchable
    score: float
    rank: int
    date: datetime.date | None
    facets: dict[str, str]
    parsed: ParsedQuery
    #: the document's own parts that matched (articles of a policy), best first
    children: list = field(default_factory=list)
    #: False when the document is listed only because some of its parts matched
    matched: bool = True

    @property
    def shown_children(self) -> list:
        return self.children[:CHILDREN_SHOWN]

    @property
    def more_children(self) -> int:
        return max(0, len(self.children) - CHILDREN_SHOWN)

    @property
    def type_key(self) -> str:
        return self.searchable.key

    @property
    def type_label(self) -> str:
        return self.searchable.type_label

    @property
    def title(self) -> str:
        return self.searchable.title_for(self.obj)

    @property
    def url(self) -> str:
        return self.searchable.url_for(self.obj)

    @property
    def highlight_query(self) -> str:
        return highlight_text_for(self.parsed)

    def title_html(self):
        return highlight(self.title, self.highlight_query, max_chars=None)

    def snippet_html(self, max_chars: int = 160):
        return highlight(self.searchable.body_for(self.obj), self.highlight_query, max_chars)


@dataclass
class FacetOption:
    value: str
    label: str
    count: int
    selected: bool


@dataclass
class SearchOutcome:
    parsed: ParsedQuery
    hits: list[SearchHit]
    facets: dict[str, list[FacetOption]]
    filters: dict[str, str]
    sort: str
    #: ``hits`` with parts grouped under their document, in the same order
    results: list[SearchHit] = field(default_factory=list)
    #: set when nothing matched the whole query and this is the closest relaxed search
    relaxed_from: ParsedQuery | None = None
    dropped_terms: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.hits)

    @property
    def result_count(self) -> int:
        return len(self.results)


def highlight_text_for(parsed: ParsedQuery) -> str:
    """The words to mark, in the form search.highlight reads (phrases quoted)."""
    parts = []
    for group in parsed.groups:
        for term in group:
            if not term.negated:
                parts.append(f'"{term.text}"' if term.phrase else term.text)
    return " ".join(parts)


def _normalised_scores(raw: list) -> list[float]:
    """1.0 for the best hit down towards 0.05, following the backend's order."""
    n = len(raw)
    numeric = n > 0 and all(isinstance(s, int | float) for s in raw)
    if numeric and max(raw) != min(raw):
        low, high = min(raw), max(raw)
        best_is_high = raw[0] >= raw[-1]
        return [
            round(0.05 + 0.95 * ((s - low) if best_is_high else (high - s)) / (high - low), 4)
            for s in raw
        ]
    if numeric:
        return [1.0] * n
    return [round(1.0 / (1 + rank * 0.1), 4) for rank in range(n)]


def _is_generic_pages(queryset) -> bool:
    from wagtail.models import Page

    return hasattr(queryset, "specific") and queryset.model is Page


def _hit_queryset(entry: Searchable, queryset: models.QuerySet) -> models.QuerySet:
    """The rows a hit of ``entry`` is made from: only ``hit_fields``, and the ``hit_related``
    rows left to _attach_related instead of joined in."""
    if entry.hit_fields:
        queryset = queryset.only(*entry.hit_fields)
    if entry.hit_related:
        queryset = queryset.select_related(None)
    return queryset


def _attach_related(entry: Searchable, objects: list) -> None:
    """Load each ``hit_related`` row once (one query per foreign key) and give every hit
    that points to it the same object, as select_related would have set it."""
    for name, fields in entry.hit_related.items():
        relation = entry.model._meta.get_field(name)
        ids = {getattr(obj, relation.attname) for obj in objects} - {None}
        if not ids:
            continue
        targets = filter_pks(relation.related_model._default_manager.order_by(), ids).only(*fields)
        by_pk = {target.pk: target for target in targets}
        for obj in objects:
            target = by_pk.get(getattr(obj, relation.attname))
            if target is not None:
                relation.set_cached_value(obj, target)


def _search_type(entry: Searchable, user, parsed: ParsedQuery, limit: int) -> list[tuple]:
    """(object, score) pairs of one type that the user may see, best first."""
    backend = get_search_backend()
    visible = _hit_queryset(entry, entry.visible_to(user))
    # pages of the generic type come back as their own types in one query per type, not
    # one per page; a page type's own queryset already gives its objects (and keeps only())
    searched = visible.specific() if _is_generic_pages(visible) else visible
    checked = getattr(backend, "results_from_queryset", False)
    try:
        results = backend.search(parsed.query, searched).annotate_score("_search_score")
        found = list(results[:limit])
    except FieldError:
        # The backend cannot filter on one of the queryset's fields: search everything
        # and keep what the user may see (checked below).
        everything = _hit_queryset(entry, entry.all_objects())
        results = backend.search(parsed.query, everything).annotate_score("_search_score")
        found = list(results[: limit * 3])
        checked = False
    if not found:
        return []
    if checked:  # the backend returned rows of the user's own queryset only
        kept = found[:limit]
    else:
        allowed = pks_among(visible, [obj.pk for obj in found])
        kept = [obj for obj in found if obj.pk in allowed][:limit]
    _attach_related(entry, kept)
    scores = _normalised_scores([getattr(obj, "_search_score", None) for obj in kept])
    if kept and hasattr(kept[0], "specific_class"):  # Wagtail pages: show the real type
        kept = [obj.specific for obj in kept]
    return list(zip(kept, scores, strict=True))


def collect_hits(
    user, parsed: ParsedQuery, types: Iterable[str] | None = None, limit: int = MAX_HITS_PER_TYPE
) -> list[SearchHit]:
    """The best ``limit`` hits of each type (of ``types``, else every type) that ``user``
    may see."""
    hits: list[SearchHit] = []
    wanted = set(types) if types else None
    for entry in searchables():
        if wanted is not None and entry.key not in wanted:
            continue
        check_budget()
        hits.extend(_type_hits(entry, user, parsed, limit))
    return hits


def _type_hits(entry: Searchable, user, parsed: ParsedQuery, limit: int) -> list[SearchHit]:
    return [
        SearchHit(
            obj=obj,
            searchable=entry,
            score=score,
            rank=rank,
            date=entry.date_of(obj),
            facets=entry.facet_values(obj),
            parsed=parsed,
        )
        for rank, (obj, score) in enumerate(_search_type(entry, user, parsed, limit))
    ]


def _hit_value(hit: SearchHit, facet: str) -> str | None:
    return hit.type_key if facet == "type" else hit.facets.get(facet)


def _passes(hit: SearchHit, filters: dict[str, str], skip: str | None = None) -> bool:
    return all(_hit_value(hit, key) == value for key, value in filters.items() if key != skip)


def _facet_counts(hits, filters) -> dict[str, Counter]:
    """Per facet, how many hits hold each value among the hits that pass every filter but
    that facet's own (so choosing another value of a facet shows what it would find). One
    pass over the hits: a dense word makes thousands of them."""
    counts: dict[str, Counter] = {facet: Counter() for facet in FACET_LABELS}
    for hit in hits:
        failed = None
        for key, value in filters.items():
            if _hit_value(hit, key) != value:
                if failed is not None:
                    break  # fails two filters: counted for no facet
                failed = key
        else:
            facets = hit.facets
            for facet, counter in counts.items():
                if failed is not None and facet != failed:
                    continue
                value = hit.searchable.key if facet == "type" else facets.get(facet)
                if value is not None:
                    counter[value] += 1
    return counts


def _facet_options(counts: Counter, filters, facet) -> list[FacetOption]:
    labels = {entry.key: entry.type_label for entry in searchables()}
    options = [
        FacetOption(
            value=value,
            label=labels.get(value, value) if facet == "type" else value,
            count=count,
            selected=filters.get(facet) == value,
        )
        for value, count in counts.items()
    ]
    if facet == "year":
        options.sort(key=lambda o: o.value, reverse=True)
    elif facet == "type":
        order = {entry.key: i for i, entry in enumerate(searchables())}
        options.sort(key=lambda o: order.get(o.value, 99))
    else:
        options.sort(key=lambda o: (-o.count, o.value))
    return options


def _sort_hits(hits: list[SearchHit], sort: str) -> list[SearchHit]:
    by_relevance = sorted(hits, key=lambda h: (-h.score, h.rank))
    if sort != "date":
        return by_relevance
    dated = [h for h in by_relevance if h.date is not None]
    undated = [h for h in by_relevance if h.date is None]
    return sorted(dated, key=lambda h: h.date, reverse=True) + undated


def clean_filters(filters: dict | None) -> dict[str, str]:
    return {
        key: str(value)
        for key, value in (filters or {}).items()
        if key in FACET_LABELS and value not in (None, "")
    }


def group_hits(user, hits: list[SearchHit]) -> list[SearchHit]:
    """Parts (articles) under their document, in the order of ``hits``: the document is
    listed once, where its best hit (itself or one of its parts) stands, with its parts
    beneath; a part whose document the user may not see stays on its own. The hits given
    are left as they were (the listed ones are new objects)."""
    parents: dict[tuple[str, Any], Any] = {}
    keys: list[tuple[str, Any] | None] = []  # each hit's document, worked out once
    for hit in hits:
        entry = hit.searchable
        parent = entry.parent_for(hit.obj) if entry.parent_for is not None else None
        if parent is None:
            keys.append(None)
            continue
        key = (entry.parent_key, parent.pk)
        parents.setdefault(key, parent)
        keys.append(key)
    visible: set[tuple[str, Any]] = set()
    by_key = {e.key: e for e in searchables()}
    for parent_key in {key for key, _pk in parents}:
        parent_entry = by_key.get(parent_key)
        if parent_entry is None:
            continue
        pks = [pk for key, pk in parents if key == parent_key]
        visible.update((parent_key, pk) for pk in pks_among(parent_entry.visible_to(user), pks))

    results: list[SearchHit] = []
    groups: dict[tuple[str, Any], SearchHit] = {}
    for hit, key in zip(hits, keys, strict=True):
        entry = hit.searchable
        if key is None or key not in visible:
            own = (hit.type_key, hit.obj.pk)
            group = groups.get(own)
            if group is not None:  # listed already for its parts: now it matched itself
                group.matched = True
                continue
            # a copy: the hits given may be shared by other requests (search.result_cache)
            hit = copy.copy(hit)
            hit.children = []
            groups[own] = hit
            results.append(hit)
            continue
        group = groups.get(key)
        if group is None:
            parent_entry = by_key[entry.parent_key]
            parent = parents[key]
            if hasattr(parent, "specific_class"):
                parent = parent.specific
            group = SearchHit(
                obj=parent,
                searchable=parent_entry,
                score=hit.score,
                rank=hit.rank,
                date=parent_entry.date_of(parent),
                facets=parent_entry.facet_values(parent),
                parsed=hit.parsed,
                matched=False,
            )
            groups[key] = group
            results.append(group)
        group.children.append(hit)
    return results


def complete_shown(hits: Iterable[SearchHit]) -> None:
    """Load, one query per type, the fields left out by ``hit_fields`` for the hits about to
    be shown (and their shown parts), instead of one query per hit when a snippet reads them."""
    pending: dict[type, dict[Any, Any]] = {}
    prefetch: dict[tuple[str, ...], dict[Any, Any]] = {}
    for hit in hits:
        for shown in (hit, *hit.shown_children):
            if shown.obj.get_deferred_fields():  # a hit's own, or a parent loaded with it
                pending.setdefault(type(shown.obj), {})[shown.obj.pk] = shown.obj
            if shown.searchable.shown_prefetch:
                prefetch.setdefault(shown.searchable.shown_prefetch, {})[id(shown.obj)] = shown.obj
    for lookups, objects in prefetch.items():
        prefetch_related_objects(list(objects.values()), *lookups)
    for model, objects in pending.items():
        names = set().union(*(obj.get_deferred_fields() for obj in objects.values()))
        rows = filter_pks(model._default_manager.order_by(), objects).values("pk", *names)
        for row in rows:
            obj = objects[row.pop("pk")]
            for name, value in row.items():
                if name in obj.get_deferred_fields():
                    setattr(obj, name, value)


def _hit_models(entry: Searchable) -> list:
    """The models a hit of ``entry`` is made from: its own, its document's, the related rows
    it is shown with."""
    models_ = [entry.model]
    if entry.parent_key:
        models_.append(apps.get_model(entry.parent_key))
    models_.extend(entry.model._meta.get_field(name).related_model for name in entry.hit_related)
    return models_


def _reused(entry: Searchable, user, query_key: str, compute, pk_of) -> list:
    """``compute()`` (a list of one type's hits, in any shape ``pk_of`` reads the primary key
    of), or the list an earlier identical call of ``user`` made while no document of that
    type changed in the index, checked again against what ``user`` may see now
    (search.result_cache)."""
    key = result_cache.cache_key(
        get_search_backend(), user, query_key, entry.key, _hit_models(entry)
    )
    cached = result_cache.results.get(key) if key is not None else None
    if cached is None:
        found = compute()
        if key is not None:
            result_cache.results.put(key, found)
        return found
    if not cached:
        return cached
    allowed = pks_among(entry.visible_to(user), [pk_of(item) for item in cached])
    found = [item for item in cached if pk_of(item) in allowed]
    if len(found) != len(cached):
        result_cache.results.put(key, found)
    return found


def _hits_for(user, parsed: ParsedQuery) -> list[SearchHit]:
    """collect_hits, type by type reusing the hits an earlier identical search of ``user``
    collected while no document of that type changed in the index."""
    query_key = repr(parsed.groups)
    hits: list[SearchHit] = []
    for entry in searchables():
        check_budget()
        hits.extend(
            _reused(
                entry,
                user,
                query_key,
                lambda entry=entry: _type_hits(entry, user, parsed, MAX_HITS_PER_TYPE),
                lambda hit: hit.obj.pk,
            )
        )
    return hits


def best_of_type(type_key: str, user, parsed: ParsedQuery, limit: int) -> list[tuple]:
    """(object, normalised score) of the best ``limit`` hits of one type that ``user`` may
    see, reused like the search page's hits while that type's documents have not changed
    in the index (a suggestion's likely duplicates, shown each time the office opens it)."""
    entry = next((e for e in searchables() if e.key == type_key), None)
    if entry is None:
        return []
    return _reused(
        entry,
        user,
        f"best {limit}: {parsed.groups!r}",
        lambda: _search_type(entry, user, parsed, limit),
        lambda pair: pair[0].pk,
    )


def run_search(user, query: str | ParsedQuery, filters=None, sort: str = "relevance"):
    """Search everything ``user`` may see. Raises QuerySyntaxError for a bad query, or
    SearchTooSlow (one) when it runs past its time budget."""
    parsed = query if isinstance(query, ParsedQuery) else parse_query(query)
    filters = clean_filters(filters)
    sort = sort if sort in SORTS else "relevance"
    with time_budget():
        hits = [] if parsed.is_empty else _hits_for(user, parsed)
    counts = _facet_counts(hits, filters)
    facets = {facet: _facet_options(counts[facet], filters, facet) for facet in FACET_LABELS}
    kept = _sort_hits([h for h in hits if _passes(h, filters)] if filters else hits, sort)
    return SearchOutcome(
        parsed=parsed,
        hits=kept,
        facets=facets,
        filters=filters,
        sort=sort,
        results=group_hits(user, kept),
    )


#: At most this many relaxed queries are tried for a search that found nothing.
MAX_RELAXATIONS = 6


def relaxed_search(user, outcome: SearchOutcome) -> SearchOutcome | None:
    """For a search that found nothing: the closest query that finds something, made by
    dropping the fewest required words (the rarest-looking, i.e. longest, kept first).
    Its outcome says which words were dropped (“部分匹配”); None when nothing is found
    within a few tries and the time budget."""
    parsed = outcome.parsed
    groups = [g for g in parsed.groups]
    positive = [i for i, g in enumerate(groups) if not g[0].negated]
    if len(positive) < 2:
        return None
    tried = 0
    with time_budget():
        for drop_count in range(1, len(positive)):
            # drop the shortest words first: they are the least specific
            order = sorted(positive, key=lambda i: (len(groups[i][0].text), -i))
            candidates = []
            if drop_count == 1:
                candidates = [[i] for i in order]
            else:
                candidates = [order[:drop_count]]
            for dropped in candidates:
                rest = [g for i, g in enumerate(groups) if i not in dropped]
                if not rest or all(g[0].negated for g in rest):
                    continue
                if tried >= MAX_RELAXATIONS:
                    return None
                tried += 1
                try:
                    relaxed = run_search(
                        user, parse_query(groups_to_text(rest)), outcome.filters, outcome.sort
                    )
                except ValueError:
                    return None
                if relaxed.total:
                    relaxed.relaxed_from = parsed
                    relaxed.dropped_terms = [
                        " | ".join(t.as_syntax() for t in groups[i]) for i in dropped
                    ]
                    return relaxed
    return None


# --- suggestions ---------------------------------------------------------------------


def _has_autocomplete(model) -> bool:
    fields = getattr(model, "get_search_fields", None)
    return bool(fields) and any(isinstance(f, AutocompleteField) for f in fields())


def autocomplete_titles(user, text: str, limit: int = 8) -> list[dict]:
    """Titles of what the user may see that start like ``text`` (for typing and
    for "您是不是要找")."""
    text = " ".join((text or "").split())[:50]
    if not text:
        return []
    backend = get_search_backend()
    found: list[dict] = []
    seen = set()
    for entry in searchables():
        if not _has_autocomplete(entry.model):
            continue
        visible = entry.visible_to(user)
        try:
            candidates = list(backend.autocomplete(text, visible)[: limit * 2])
        except FieldError:
            candidates = list(backend.autocomplete(text, entry.all_objects())[: limit * 4])
        if not candidates:
            continue
        allowed = set(
            visible.filter(pk__in=[o.pk for o in candidates])
            .order_by()
            .values_list("pk", flat=True)
        )
        for obj in candidates:
            if obj.pk not in allowed:
                continue
            if hasattr(obj, "specific_class"):
                obj = obj.specific
            title = entry.title_for(obj)
            if title in seen:
                continue
            seen.add(title)
            found.append({"title": title, "url": entry.url_for(obj), "type": entry.type_label})
            if len(found) >= limit:
                return found
    return found


def did_you_mean(user, parsed: ParsedQuery, limit: int = 3) -> list[dict]:
    """Queries close to one that found nothing, each checked to find something:
    first the query with one AND part dropped, then titles that complete it."""
    suggestions: list[dict] = []
    seen = {parsed.text}

    def offer(text: str, reason: str):
        if text in seen or len(suggestions) >= limit:
            return
        seen.add(text)
        check_budget()
        try:
            count = len(collect_hits(user, parse_query(text)))
        except ValueError:
            return
        if count:
            suggestions.append({"query": text, "count": count, "reason": reason})

    try:
        with time_budget():
            _offer_relaxations(user, parsed, limit, offer)
    except SearchTooSlow:
        pass  # what was found in time is offered
    return suggestions


def _offer_relaxations(user, parsed, limit, offer):
    groups = parsed.groups
    if len(groups) > 1:
        for index in range(len(groups)):
            rest = groups[:index] + groups[index + 1 :]
            if rest and not all(g[0].negated for g in rest):
                offer(groups_to_text(rest), "去掉部分检索词")
    words = " ".join(parsed.positive_terms)
    for item in autocomplete_titles(user, words, limit=limit * 2):
        offer(item["title"], "标题相近")


# --- who runs the command line -------------------------------------------------------


def administrator_view_user():
    """The user whose view the command line shows by default: the first active
    系统管理员 (a real account, so per-user querysets work); an unsaved stand-in
    holding that role when there is none."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    from cms import roles

    User = get_user_model()
    user = (
        User.objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name=roles.ADMIN))
        .order_by("pk")
        .first()
    )
    if user is None:
        user = User(username="系统管理员视图", is_active=True, is_superuser=True)
        user._role_names = [roles.ADMIN]
    return user
