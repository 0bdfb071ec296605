"""Saved searches (保存的检索) and their subscriptions.

A subscription announces, through the inbox (站内消息), material that matches the
saved query, that the subscriber may see, and that was not there when the
subscription started. Every item is announced at most once per user: a
SavedSearchDelivery row is written for each item a saved search knows about.

Two ways new material is found:

* ``notify_saved_search_matches(obj)`` — modules call it when they publish something
  (``notify_saved_search_matches_many(objects)`` for many published together).
  It does not wait for the search index: the saved query is evaluated on the object's
  own title and text (a Chinese word matches where its characters appear; an ASCII
  word matches as a whole word), together with the saved filters.
* ``check_saved_searches()`` — the periodic task (Celery beat) runs every subscribed
  query through the site search and announces what is new since the last check.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from search.analysis import is_han, normalize
from search.query_syntax import ParsedQuery, QuerySyntaxError, Term, parse_query
from search.registry import (
    FACET_LABELS,
    Searchable,
    SearchHit,
    clean_filters,
    run_search,
    searchable_for,
    searchables,
)

from .models import SavedSearch, SavedSearchDelivery

MAX_SAVED_PER_USER = getattr(settings, "SAVED_SEARCH_MAX_PER_USER", 50)
# Items listed by name in one notification; the rest are counted.
ITEMS_PER_NOTICE = 10


# --- saving, changing, deleting ------------------------------------------------------


def saved_search_url(saved: SavedSearch) -> str:
    params = {"q": saved.query, **clean_filters(saved.filters)}
    if saved.sort and saved.sort != "relevance":
        params["sort"] = saved.sort
    return f"{reverse('search:index')}?{urlencode(params)}"


def describe_filters(filters) -> str:
    """“类型：网页；年份：2024” for people."""
    types = {entry.key: entry.type_label for entry in searchables()}
    parts = []
    for key, value in clean_filters(filters).items():
        shown = types.get(value, value) if key == "type" else value
        parts.append(f"{FACET_LABELS[key]}：{shown}")
    return "；".join(parts)


@transaction.atomic
def create_saved_search(
    user, *, name: str, query: str, filters=None, sort="relevance", subscribed=False
) -> SavedSearch:
    name = (name or "").strip()
    if not name:
        raise ValidationError("请为这条检索起一个名称。", code="name")
    try:
        parsed = parse_query(query)
    except QuerySyntaxError as exc:
        raise ValidationError(str(exc), code="query") from exc
    if parsed.is_empty:
        raise ValidationError("检索式为空，无法保存。", code="query")
    if SavedSearch.objects.filter(user=user).count() >= MAX_SAVED_PER_USER:
        raise ValidationError(
            f"每位用户最多保存 {MAX_SAVED_PER_USER} 条检索，请先删除不再需要的检索。",
            code="limit",
        )
    if SavedSearch.objects.filter(user=user, name=name).exists():
        raise ValidationError(f"您已有名为“{name}”的检索，请换一个名称。", code="duplicate")
    saved = SavedSearch.objects.create(
        user=user,
        name=name,
        query=parsed.text,
        filters=clean_filters(filters),
        sort=sort if sort in ("relevance", "date") else "relevance",
        subscribed=bool(subscribed),
    )
    if saved.subscribed:
        establish_baseline(saved)
    return saved


def owned_saved_search(user, pk) -> SavedSearch:
    """The user's own saved search; another user's is as good as missing."""
    return SavedSearch.objects.get(pk=pk, user=user)


@transaction.atomic
def set_subscription(saved: SavedSearch, subscribed: bool) -> SavedSearch:
    saved.subscribed = bool(subscribed)
    if saved.subscribed and saved.baseline_at is None:
        establish_baseline(saved)
    saved.save(update_fields=["subscribed", "baseline_at", "updated_at"])
    return saved


def delete_saved_search(saved: SavedSearch) -> None:
    saved.delete()


# --- the subscription ----------------------------------------------------------------


def _key(obj) -> tuple[int, str]:
    return ContentType.objects.get_for_model(obj, for_concrete_model=True).pk, str(obj.pk)


def _known_keys(saved: SavedSearch) -> set[tuple[int, str]]:
    return set(saved.deliveries.values_list("content_type_id", "object_key"))


def _notified_to_user(user) -> set[tuple[int, str]]:
    return set(
        SavedSearchDelivery.objects.filter(user=user, notified=True).values_list(
            "content_type_id", "object_key"
        )
    )


def _record(saved: SavedSearch, keys, notified: bool) -> None:
    SavedSearchDelivery.objects.bulk_create(
        [
            SavedSearchDelivery(
                saved_search=saved,
                user_id=saved.user_id,
                content_type_id=ct,
                object_key=key,
                notified=notified,
            )
            for ct, key in keys
        ],
        ignore_conflicts=True,
    )


def _current_hits(saved: SavedSearch) -> list[SearchHit]:
    try:
        return run_search(saved.user, saved.query, saved.filters).hits
    except QuerySyntaxError:
        return []


def establish_baseline(saved: SavedSearch) -> None:
    """What matches now is already known to the user: record it without telling."""
    _record(saved, [_key(hit.obj) for hit in _current_hits(saved)], notified=False)
    saved.baseline_at = timezone.now()
    saved.last_checked_at = saved.baseline_at
    SavedSearch.objects.filter(pk=saved.pk).update(
        baseline_at=saved.baseline_at, last_checked_at=saved.last_checked_at
    )


def _site_url(url: str, fallback: str) -> str:
    """Inbox links must be paths on this site of at most 500 characters."""
    if url and url.startswith("/") and not url.startswith("//") and len(url) <= 500:
        return url
    return fallback


def _send_notice(saved: SavedSearch, items: list[tuple[str, str, str]]) -> None:
    """items: (type label, title, url). One inbox message per saved search and batch."""
    from cms.notifications.services import notify

    lines = [f"【{label}】{title}" for label, title, _url in items[:ITEMS_PER_NOTICE]]
    if len(items) > ITEMS_PER_NOTICE:
        lines.append(f"……另有 {len(items) - ITEMS_PER_NOTICE} 条")
    lines.append(f"检索式：{saved.query}")
    list_url = reverse("search:saved_list")
    results_url = _site_url(saved_search_url(saved), list_url)
    url = _site_url(items[0][2], results_url) if len(items) == 1 else results_url
    notify(
        saved.user,
        f"您订阅的检索“{saved.name}”有 {len(items)} 条新结果",
        body="\n".join(lines),
        url=url,
        category="search",
    )


def grouped_notice_items(user, fresh) -> list[tuple[str, str, str]]:
    """(label, title, url) lines of a notice: the articles of one document are one line
    under the document (“……：3 条条文命中（第二条、第五条……）”), as on the results page."""
    from search.registry import CHILDREN_SHOWN, group_hits

    hits = [
        SearchHit(
            obj=obj,
            searchable=entry,
            score=0.0,
            rank=rank,
            date=None,
            facets={},
            parsed=None,
        )
        for rank, (_key, _label, _title, _url, obj, entry) in enumerate(fresh)
    ]
    items = []
    for hit in group_hits(user, hits):
        label, title, url = hit.type_label, hit.title, hit.url
        if hit.children:
            parts = "、".join(child.title for child in hit.children[:CHILDREN_SHOWN])
            more = "等" if len(hit.children) > CHILDREN_SHOWN else ""
            title = f"{title}：{len(hit.children)} 条命中（{parts}{more}）"
        items.append((label, title, url))
    return items


def _announce(saved: SavedSearch, found: list[tuple[object, Searchable]]) -> int:
    """Tell the user about ``found`` items not yet known; returns how many were told."""
    known = _known_keys(saved)
    already_told = _notified_to_user(saved.user)
    fresh, silent = [], []
    for obj, entry in found:
        key = _key(obj)
        if key in known:
            continue
        known.add(key)
        if key in already_told:  # another of the user's searches announced it
            silent.append(key)
            continue
        fresh.append((key, entry.type_label, entry.title_for(obj), entry.url_for(obj), obj, entry))
    if silent:
        _record(saved, silent, notified=False)
    if not fresh:
        return 0
    try:
        with transaction.atomic():
            _record(saved, [item[0] for item in fresh], notified=True)
            _send_notice(saved, grouped_notice_items(saved.user, fresh))
    except IntegrityError:  # a concurrent run recorded the same items first
        return 0
    return len(fresh)


def check_saved_search(saved: SavedSearch) -> int:
    if not saved.subscribed or not saved.user.is_active:
        return 0
    if saved.baseline_at is None:
        establish_baseline(saved)
        return 0
    told = _announce(saved, [(hit.obj, hit.searchable) for hit in _current_hits(saved)])
    SavedSearch.objects.filter(pk=saved.pk).update(last_checked_at=timezone.now())
    return told


def check_saved_searches() -> int:
    """Run every subscribed search; returns the number of items announced."""
    total = 0
    subscribed = SavedSearch.objects.filter(subscribed=True, user__is_active=True)
    for saved in subscribed.select_related("user").order_by("pk"):
        total += check_saved_search(saved)
    return total


# --- on publication ------------------------------------------------------------------


def _term_in(term: Term, text: str, compact: str) -> bool:
    needle = normalize(term.text)
    if is_han(needle):
        return "".join(needle.split()) in compact
    words = r"\s+".join(re.escape(w) for w in needle.split())
    return re.search(rf"(?<![0-9a-z]){words}(?![0-9a-z])", text) is not None


def query_matches_text(parsed: ParsedQuery, text: str) -> bool:
    """Evaluate the saved query on one item's text (AND of OR groups, NOT excludes)."""
    if parsed.is_empty:
        return False
    text = " ".join(normalize(text).split())
    compact = text.replace(" ", "")
    for group in parsed.groups:
        if group[0].negated:
            if any(_term_in(t, text, compact) for t in group):
                return False
        elif not any(_term_in(t, text, compact) for t in group):
            return False
    return True


def _matches(saved: SavedSearch, obj, entry: Searchable) -> bool:
    filters = clean_filters(saved.filters)
    kind = filters.pop("type", None)
    if kind and kind != entry.key:
        return False
    values = entry.facet_values(obj)
    if any(values.get(facet) != value for facet, value in filters.items()):
        return False
    try:
        parsed = parse_query(saved.query)
    except QuerySyntaxError:
        return False
    text = f"{entry.title_for(obj)}\n{entry.body_for(obj)}"
    return query_matches_text(parsed, text)


def subscribed_searches() -> list[SavedSearch]:
    """The saved searches whose owners are told of new matches, in a stable order."""
    return list(
        SavedSearch.objects.filter(subscribed=True, baseline_at__isnull=False, user__is_active=True)
        .select_related("user")
        .order_by("pk")
    )


def notify_saved_search_matches(obj) -> int:
    """Call when ``obj`` is published: tell each subscriber whose saved query matches it
    and who may see it. Returns the number of users told."""
    return notify_saved_search_matches_many([obj])


def notify_saved_search_matches_many(objects) -> int:
    """:func:`notify_saved_search_matches` for many objects published together (the pages
    of a bulk import): the subscribed searches are read once, and each subscriber hears
    of a search's new matches among them in one notice. Returns the number of (user,
    object) pairs told."""
    subscribed = subscribed_searches()
    if not subscribed:
        return 0
    found_in = []
    for obj in objects:
        entry = searchable_for(obj)
        if entry is None:
            continue
        if hasattr(obj, "specific_class"):
            obj = obj.specific
        found_in.append((obj, entry))
    if not found_in:
        return 0
    told = 0
    visible_cache: dict[tuple[int, int], bool] = {}  # (user, object's place) -> may see
    for saved in subscribed:
        found = []
        for n, (obj, entry) in enumerate(found_in):
            if not _matches(saved, obj, entry):
                continue
            key = (saved.user_id, n)
            if key not in visible_cache:
                visible_cache[key] = entry.visible_to(saved.user).filter(pk=obj.pk).exists()
            if visible_cache[key]:
                found.append((obj, entry))
        if found:
            told += _announce(saved, found)
    return told
