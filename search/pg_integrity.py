"""Compare the PostgreSQL search index (``modelsearch_indexentry``) with the database.

The same report as search.integrity gives for the Whoosh index: per indexed model the
objects *missing* from the index, *stale* entries (their stored plain text differs from
what the object would be indexed with now) and *orphaned* entries (no such indexable
object any more). It adds *duplicated*: one object indexed more than once, i.e. the same
root object (a page, say) with entries under two content types, or two rows for one
(content type, object) pair should the table's unique constraint ever be missing. An
entry without its Han pairs (written by another writer than this backend's) is stale.
"""

from __future__ import annotations

from collections import defaultdict

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from modelsearch.backends.database.postgres.postgres import IndexEntry
from modelsearch.index import get_indexed_models

from search.integrity import IntegrityReport, ModelReport, indexed_objects
from search.pg_backend import PAIRS_COLUMN, SegmentedObjectIndexer


def _label(model) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


def _root(model):
    parents = model._meta.get_parent_list()
    return parents[-1] if parents else model


def _words(text):
    """Stored text compared as a multiset of words: the values of a related field (a
    page's 主题词) come back from the database in no fixed order."""
    return sorted((text or "").split())


def _expected(backend):
    """(content type id, object id) → (model, pk, title_text, body_text)."""
    expected = {}
    for model in get_indexed_models():
        content_type_id = ContentType.objects.get_for_model(model).pk
        for obj in indexed_objects(model):
            indexer = SegmentedObjectIndexer(obj, backend)
            expected[(content_type_id, str(obj.pk))] = (
                model,
                obj.pk,
                _words(indexer.title_text),
                _words(indexer.body_text),
            )
    return expected


def check(backend) -> IntegrityReport:
    expected = _expected(backend)
    models_by_ct = {ContentType.objects.get_for_model(m).pk: m for m in get_indexed_models()}
    reports: dict[str, ModelReport] = {}

    def report_for(label, verbose_name=None):
        if label not in reports:
            reports[label] = ModelReport(label, verbose_name or label)
        return reports[label]

    for model in get_indexed_models():
        report_for(_label(model), str(model._meta.verbose_name))

    table = IndexEntry._meta.db_table
    rows = defaultdict(list)  # (ct, object id) → [(title_text, body_text), …]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT content_type_id, object_id, title_text, body_text,"
            f" {PAIRS_COLUMN} IS NULL FROM {table}"
        )
        for content_type_id, object_id, title_text, body_text, no_pairs in cursor.fetchall():
            # an entry written without its Han pairs is never found by a Han word
            entry = (_words(title_text), _words(body_text)) if not no_pairs else None
            rows[(content_type_id, object_id)].append(entry)

    roots = defaultdict(list)  # (root label, object id) → [content type ids]
    for key, (model, pk, title_text, body_text) in expected.items():
        report = report_for(_label(model))
        report.expected += 1
        found = rows.get(key)
        if not found:
            report.missing.append(pk)
            continue
        report.indexed += 1
        if len(found) > 1:
            report.duplicated.append(pk)
        if any(entry != (title_text, body_text) for entry in found):
            report.stale.append(pk)
    for key in rows:
        content_type_id, object_id = key
        model = models_by_ct.get(content_type_id)
        if model is not None:
            roots[(_label(_root(model)), object_id)].append(content_type_id)
        if key in expected:
            continue
        if model is None:
            content_type = ContentType.objects.filter(pk=content_type_id).first()
            label = f"{content_type.app_label}.{content_type.model}" if content_type else "?"
            report = report_for(label)
        else:
            report = report_for(_label(model))
        report.orphaned.append(object_id)
    for (_root_label, object_id), content_type_ids in roots.items():
        if len(content_type_ids) > 1:  # one object indexed as two models
            for content_type_id in content_type_ids:
                report = report_for(_label(models_by_ct[content_type_id]))
                if object_id not in [str(pk) for pk in report.duplicated]:
                    report.duplicated.append(object_id)
    return IntegrityReport(
        models=sorted(reports.values(), key=lambda r: r.label),
        pending_batches=0,
        version_ok=True,
    )


def repair(backend, report: IntegrityReport) -> int:
    """Index what is missing or stale, drop orphans and duplicates. Returns changes made."""
    labels = {_label(m): m for m in get_indexed_models()}
    changes = 0
    for model_report in report.models:
        model = labels.get(model_report.label)
        if model is None:
            continue
        content_type_id = ContentType.objects.get_for_model(model).pk
        indexable = {str(pk) for pk in model.get_indexed_objects().values_list("pk", flat=True)}
        drop = [pk for pk in map(str, model_report.orphaned + model_report.duplicated)]
        drop = [pk for pk in drop if pk not in indexable]
        if drop:
            changes += IndexEntry.objects.filter(
                content_type_id=content_type_id, object_id__in=drop
            ).delete()[0]
        todo = [*model_report.missing, *model_report.stale]
        if todo:
            objects = list(model.get_indexed_objects().filter(pk__in=todo))
            backend.add_bulk(model, objects)
            changes += len(objects)
    return changes
