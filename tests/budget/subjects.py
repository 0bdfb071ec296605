"""The classification as the tests' set-up stores it: load_subjects' rows, inserted in bulk.

About 300 set-ups a run (the ``classification`` fixture and the suggestion and supervision
fixtures) load the standard classification of a year into a database that has none for that
year. ``load_subjects`` saves the ~275 subjects one by one (~30 ms a year); the rows it stores
are the same every time, so this process runs it once per (year, rows), keeps the rows it
stored, and for later set-ups inserts those values again in bulk, parents before children,
in load_subjects' order (so the primary keys come out the same too). A year that already has
subjects, or rows not seen before, go through load_subjects itself.

Wagtail's reference index is left out in both cases, as the fixtures did before: it would
record each subject's parent link on every save (~90 % of load_subjects' time) and no test
of these fixtures looks at it. Subject has no other save signal receivers, so the stored
rows are exactly what load_subjects stores (tests/budget/test_classification_import.py
compares the two).
"""

from wagtail.signal_handlers import disable_reference_index_auto_update

from budget.classification import load_subjects
from budget.models import Subject

# (year, rows or None) -> the field values load_subjects stored, in insertion order, with the
# parent given as its (kind, code)
_STORED: dict[tuple, list[dict]] = {}
_FIELDS = [f.attname for f in Subject._meta.concrete_fields if not f.primary_key]


def store_subjects(year: int, rows=None) -> int:
    """``load_subjects(year, rows)`` without reference index entries; returns how many
    subjects were new."""
    key = (year, tuple(rows) if rows is not None else None)
    fresh = not Subject.objects.filter(year=year).exists()
    if not fresh or key not in _STORED:
        with disable_reference_index_auto_update():
            created = load_subjects(year, rows)
        if fresh:
            _STORED[key] = _stored_rows(year)
        return created
    return _insert(_STORED[key])


def _stored_rows(year: int) -> list[dict]:
    subjects = list(Subject.objects.filter(year=year).order_by("pk"))
    by_pk = {s.pk: (s.kind, s.code) for s in subjects}
    stored = []
    for subject in subjects:
        values = {name: getattr(subject, name) for name in _FIELDS if name != "parent_id"}
        values["parent"] = by_pk[subject.parent_id] if subject.parent_id else None
        stored.append(values)
    return stored


def _insert(stored: list[dict]) -> int:
    saved: dict[tuple, int] = {}
    batch: list[tuple[tuple, Subject]] = []

    def flush():
        Subject.objects.bulk_create([subject for _key, subject in batch])
        saved.update((key, subject.pk) for key, subject in batch)
        batch.clear()

    for values in stored:
        values = dict(values)
        parent = values.pop("parent")
        if parent is not None and parent not in saved:
            flush()  # the parent is in this batch: store it first
        subject = Subject(**values, parent_id=saved[parent] if parent else None)
        batch.append(((subject.kind, subject.code), subject))
    flush()
    return len(stored)
