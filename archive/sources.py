"""What can be filed (可归档材料): one registry entry per kind of source record.

A module makes its records fileable with one call, usually in a small adapter module
under ``archive/source_adapters/`` that ``archive.apps`` imports::

    register_source(
        "suggestions.suggestion",
        model=Suggestion,
        label="代表建议",
        record_type="suggestion",
        describe=describe_suggestion,          # obj -> FilingMaterial
        candidates=lambda: Suggestion.objects.filter(status="closed"),
    )

``describe`` turns one record into a FilingMaterial: the catalogue fields, the original
files (name, bytes), the blocks of the rendition and a metadata dict. The filing
service does everything else (number, stamp, package, digests, frozen item).

A source that is not one database row (a month of the usage log) passes
``get_object`` and ``source_id`` to map between its id string and the thing described.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType

# --- what a source hands over -------------------------------------------------------------


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[Any]]


@dataclass
class FilingMaterial:
    """One record as the archive receives it."""

    title: str  # 题名
    date: datetime.date  # 日期 (the year becomes 年度)
    record_type: str  # key of the retention table (RetentionRule.record_type)
    doc_number: str = ""  # 文号
    responsible: str = ""  # 责任者
    files: list[tuple[str, bytes]] = field(default_factory=list)  # originals
    blocks: list[Heading | Paragraph | Table] = field(default_factory=list)  # the rendition
    # An original to render instead of the blocks: a PDF is stamped as it is, an office
    # document is converted first. None: the rendition is made from the blocks.
    rendition_from: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    remarks: str = ""


# --- the registry -------------------------------------------------------------------------


@dataclass
class FilingSource:
    key: str
    model: type
    label: str
    record_type: str
    describe: Callable[[Any], FilingMaterial]
    candidates: Callable[[], Iterable[Any]]
    get_object: Callable[[str], Any] | None = None
    source_id: Callable[[Any], str] | None = None
    display: Callable[[Any], str] = str
    url_for: Callable[[Any], str] | None = None

    def id_of(self, obj) -> str:
        return self.source_id(obj) if self.source_id else str(obj.pk)

    def load(self, source_id: str):
        if self.get_object is not None:
            return self.get_object(source_id)
        return self.model._default_manager.get(pk=source_id)

    def content_type(self) -> ContentType:
        return ContentType.objects.get_for_model(self.model, for_concrete_model=False)

    def url_of(self, obj) -> str:
        try:
            return self.url_for(obj) if self.url_for else ""
        except Exception:  # a link is a convenience; its absence must not break a list
            return ""


_sources: dict[str, FilingSource] = {}


def register_source(key: str, *, model, describe, candidates, label, record_type, **options):
    """Add (or replace, by key) a kind of record the archivist can file."""
    entry = FilingSource(
        key=key,
        model=model,
        label=label,
        record_type=record_type,
        describe=describe,
        candidates=candidates,
        **options,
    )
    _sources[key] = entry
    return entry


def unregister_source(key: str) -> None:
    _sources.pop(key, None)


def sources() -> list[FilingSource]:
    return list(_sources.values())


def get_source(key: str) -> FilingSource:
    try:
        return _sources[key]
    except KeyError:
        raise LookupError(f"没有登记这种可归档材料：{key}") from None


@dataclass
class Candidate:
    source: FilingSource
    obj: Any
    source_id: str
    label: str
    url: str


def unfiled_candidates(source_keys: Iterable[str] | None = None) -> list[Candidate]:
    """Every registered source record that has no archive item yet (corrections aside)."""
    from .models import ArchiveItem

    found = []
    for source in sources():
        if source_keys is not None and source.key not in source_keys:
            continue
        filed = set(
            ArchiveItem.objects.filter(source_key=source.key, corrects__isnull=True).values_list(
                "source_id", flat=True
            )
        )
        for obj in source.candidates():
            source_id = source.id_of(obj)
            if source_id in filed:
                continue
            found.append(
                Candidate(
                    source=source,
                    obj=obj,
                    source_id=source_id,
                    label=source.display(obj),
                    url=source.url_of(obj),
                )
            )
    return found
