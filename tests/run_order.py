"""The order the tests run in: the longest by the clock first, within what pytest-django allows.

pytest-django runs the tests that use the database in a rolled-back transaction first, then
the transactional ones (whose flush would empty the data the migrations put there), then the
tests without a database. The tests below take longest by the clock (real processes: imports
racing each other, index writers waiting for the lock, settings checks in new interpreters,
LibreOffice). Left where they were, the ones without a database ran last: one xdist worker
was still waiting on them while the other had nothing more to do. Now those without a database
run before everything else (they cannot see the database, so its state does not matter to
them), and the others first within their part, longest first; one test with a database
goes before all of them (below). The rest keep their order. An entry is a module or one test
of it (``module::name``, all its parameters).
"""

import pytest

RUN_FIRST = (
    "tests/browser/test_role_walks.py",
    "tests/archive/test_backup_roundtrip.py",
    "tests/cms/test_site.py::test_load_demo_is_idempotent",
    "tests/suggestions/test_online_browser.py",
    "tests/policies/test_ingest_races.py",
    "tests/search/test_index_integrity.py",
    "tests/cms/test_settings.py",
    "tests/search/test_concurrency.py",
    "tests/briefings/test_views.py",
    "tests/briefings/test_officialdoc.py",
    "tests/search/test_bulk_writer.py",
)

_DB_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "live_server"}
_TRANSACTIONAL_FIXTURES = {"transactional_db", "django_db_reset_sequences", "live_server"}


def _part(item) -> int:
    """pytest-django's order: 0 database in a transaction, 1 transactional, 2 no database."""
    from django.test import TestCase, TransactionTestCase

    cls = getattr(item, "cls", None)
    if cls is not None and issubclass(cls, TransactionTestCase):
        return 0 if issubclass(cls, TestCase) else 1
    fixtures = set(getattr(item, "fixturenames", ()))
    marker = item.get_closest_marker("django_db")
    transactional = bool(fixtures & _TRANSACTIONAL_FIXTURES) or bool(
        marker
        and (
            marker.kwargs.get("transaction", marker.args[0] if marker.args else False)
            or marker.kwargs.get("reset_sequences", False)
        )
    )
    if transactional:
        return 1
    return 0 if marker or fixtures & _DB_FIXTURES else 2


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """After pytest-django's own ordering (and after -m has deselected)."""
    rank = {module: n for n, module in enumerate(RUN_FIRST)}
    last = len(rank)

    def key(item):
        module, _, name = item.nodeid.partition("::")
        first = rank.get(f"{module}::{name.split('[')[0]}", rank.get(module, last))
        part = _part(item)
        if part == 2:
            return (-1, first) if first < last else (3, last)
        return (part, first)

    items.sort(key=key)
    # One test with a database goes before all: the worker that takes it builds the run's
    # SQLite test database (make test migrates it, ~30 s CPU; tests/db_template.py) while the
    # other worker runs the tests without a database, instead of waiting for it.
    first_db = next((n for n, item in enumerate(items) if _part(item) == 0), None)
    if first_db:
        items.insert(0, items.pop(first_db))
