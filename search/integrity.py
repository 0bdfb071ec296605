"""Compare the search index with the database, and mend the difference.

Per indexed model: *missing* (in the database, not in the index), *stale* (indexed text
differs from the database), *orphaned* (in the index, gone from the database or no longer
indexable), *duplicated* (one object stored more than once). Deferred writes still waiting in the spool and a schema-version mismatch are
reported too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from modelsearch.index import get_indexed_models

from search.analysis import normalize
from search.backend import (
    SCHEMA_VERSION,
    VERSION_FILE,
    content_hash,
    document_key,
    extract_texts,
    make_document,
    model_label,
)
from search.indexing import apply_spool, spooled_batches, write_now

CHUNK = 500


@dataclass
class ModelReport:
    label: str
    verbose_name: str
    indexed: int = 0
    expected: int = 0
    missing: list = field(default_factory=list)
    stale: list = field(default_factory=list)
    orphaned: list = field(default_factory=list)
    duplicated: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.stale or self.orphaned or self.duplicated)

    def as_dict(self) -> dict:
        return {
            "label": self.label,
            "verbose_name": self.verbose_name,
            "expected": self.expected,
            "indexed": self.indexed,
            "missing": [str(pk) for pk in self.missing],
            "stale": [str(pk) for pk in self.stale],
            "orphaned": [str(pk) for pk in self.orphaned],
            "duplicated": [str(pk) for pk in self.duplicated],
        }


@dataclass
class IntegrityReport:
    models: list[ModelReport]
    pending_batches: int
    version_ok: bool

    @property
    def ok(self) -> bool:
        return self.version_ok and not self.pending_batches and all(m.ok for m in self.models)

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "version_ok": self.version_ok,
            "pending_batches": self.pending_batches,
            "expected": sum(m.expected for m in self.models),
            "indexed": sum(m.indexed for m in self.models),
            "models": [m.as_dict() for m in self.models],
        }


def _depth(model) -> int:
    return len(model._meta.get_parent_list())


def indexed_objects(model):
    """Every object ``model`` indexes, read CHUNK rows at a time in primary-key order (also
    used by search.pg_integrity)."""
    queryset = model.get_indexed_objects().order_by("pk")
    last_pk = None
    while True:
        chunk = queryset if last_pk is None else queryset.filter(pk__gt=last_pk)
        objects = list(chunk[:CHUNK])
        if not objects:
            return
        yield from objects
        last_pk = objects[-1].pk


def _expected_documents():
    """key → (model, pk, hash), the most specific model winning for inherited models."""
    expected = {}
    for model in sorted(get_indexed_models(), key=_depth):
        for obj in indexed_objects(model):
            instance = obj.get_indexed_instance() or obj
            key = document_key(type(instance), instance.pk)
            texts = extract_texts(instance)
            expected[key] = (type(instance), instance.pk, (content_hash(texts), _words(texts)))
    return expected


def _words(texts) -> list[str]:
    """The words of a document as its stored ``doc_text`` holds them, sorted."""
    return sorted(normalize("\n".join(texts.values())).split())


def _stored(store):
    """(key, pk, hash, text) of every stored document."""
    searcher = store.searcher()
    for fields in searcher.all_stored_fields():
        yield (
            fields["doc_key"],
            fields["doc_pk"],
            fields.get("doc_hash"),
            fields.get("doc_text", ""),
        )


def check(backend) -> IntegrityReport:
    store = backend.store
    store.index()
    expected = _expected_documents()
    indexed = {}
    duplicated = set()
    for key, _pk, digest, text in _stored(store):
        if key in indexed:
            duplicated.add(key)
        indexed[key] = (digest, text)
    reports: dict[str, ModelReport] = {}

    def report_for(model):
        label = model_label(model)
        if label not in reports:
            reports[label] = ModelReport(label, str(model._meta.verbose_name))
        return reports[label]

    for model in get_indexed_models():
        report_for(model)
    for key, (model, pk, digest) in expected.items():
        report = report_for(model)
        report.expected += 1
        if key not in indexed:
            report.missing.append(pk)
        else:
            report.indexed += 1
            stored_digest, stored_text = indexed[key]
            # the same words in another order is not stale: the values of a related field
            # (a page's 主题词) come from the database in no fixed order
            if stored_digest != digest[0] and sorted(stored_text.split()) != digest[1]:
                report.stale.append(pk)
            if key in duplicated:
                report.duplicated.append(pk)
    labels = {model_label(m): m for m in get_indexed_models()}
    for key in indexed.keys() - expected.keys():
        label, _sep, pk = key.rpartition(":")
        model = labels.get(label)
        if model is None:
            report = reports.setdefault(label, ModelReport(label, label))
        else:
            report = report_for(model)
        report.orphaned.append(pk)
    marker = store.path / VERSION_FILE
    version_ok = marker.exists() and marker.read_text().strip() == SCHEMA_VERSION
    return IntegrityReport(
        models=sorted(reports.values(), key=lambda r: r.label),
        pending_batches=len(spooled_batches(store)),
        version_ok=version_ok,
    )


def repair(backend, report: IntegrityReport) -> int:
    """Index what is missing or stale, drop orphans, apply the spool. Returns changes made."""
    store = backend.store
    apply_spool(store, timeout=120)
    changes = 0
    labels = {model_label(m): m for m in get_indexed_models()}
    for model_report in report.models:
        model = labels.get(model_report.label)
        delete_keys = [f"{model_report.label}:{pk}" for pk in model_report.orphaned]
        if model is not None:
            delete_keys = [document_key(model, pk) for pk in model_report.orphaned]
        documents = []
        todo = [*model_report.missing, *model_report.stale, *model_report.duplicated]
        if model is not None and todo:
            for obj in model.get_indexed_objects().filter(pk__in=todo):
                documents.append(make_document(obj.get_indexed_instance() or obj))
        if documents or delete_keys:
            write_now(store, documents, delete_keys, timeout=120)
            changes += len(documents) + len(delete_keys)
    return changes


#: An index that holds nothing is filled at the end of ``migrate`` up to this many objects
#: (more is a job for ``update_index``, not for a migration's tail).
INDEX_AFTER_MIGRATE_MAX = 5000


def index_after_migrate(app_config, using="default", **kwargs) -> int:
    """post_migrate: what migrations created (Wagtail's first page) is not in an index that
    holds nothing yet, and a new instance's ``search_index_check`` reported it missing.
    Fires once per app; runs after the last. Returns the documents written."""
    from django.apps import apps
    from django.conf import settings
    from modelsearch.backends import get_search_backend

    with_models = [c for c in apps.get_app_configs() if c.models_module is not None]
    if app_config is not with_models[-1] or using != "default":
        return 0
    if not getattr(settings, "SEARCH_INDEX_AFTER_MIGRATE", True):
        return 0
    backend = get_search_backend()
    store = getattr(backend, "store", None)
    if store is None:  # PostgreSQL: modelsearch's own index table
        return 0
    searcher = store.searcher()
    if searcher.doc_count() or store.rebuilding:
        return 0
    expected = _expected_documents()
    if not expected or len(expected) > INDEX_AFTER_MIGRATE_MAX:
        return 0
    return repair(backend, check(backend))
