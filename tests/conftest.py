import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache

from cms import roles

pytest_plugins = ["tests.browser.fixtures", "tests.worker.fixtures", "tests.run_order"]


@pytest.fixture(scope="session")
def _test_db_template(django_db_modify_db_settings, django_db_createdb):
    """The migrated test database that one process of the run builds and the others copy
    (tests/db_template.py: a file for SQLite, a template database on PostgreSQL); None with
    --create-db."""
    if django_db_createdb:
        return None
    from tests.db_template import PostgresTemplate, Template

    return Template.for_default_database() or PostgresTemplate.for_default_database()


@pytest.fixture(scope="session")
def django_db_keepdb(django_db_keepdb, _test_db_template, request):
    """pytest-django keeps (and only migrates forward) a test database copied from the
    template; when there is none yet, this process migrates and django_db_setup saves it."""
    if django_db_keepdb or _test_db_template is None:
        return django_db_keepdb
    # released after save() below, or at the end of the session if migrating failed
    request.addfinalizer(_test_db_template._release)
    return _test_db_template.restore()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_keepdb, _test_db_template, django_db_blocker):
    if _test_db_template is not None and not django_db_keepdb:
        with django_db_blocker.unblock():
            _test_db_template.save()
    yield
    if getattr(_test_db_template, "restored", False):
        with django_db_blocker.unblock():
            _test_db_template.drop_test_database()


def pytest_sessionfinish(session):
    """Once every xdist worker has ended (the controller; or the only process), this run's
    PostgreSQL template database goes (tests/db_template.py)."""
    if not hasattr(session.config, "workerinput"):
        from tests.db_template import drop_run_templates

        drop_run_templates()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: Wagtail caches site roots and our apps cache
    dictionaries and calendars, which would otherwise leak from one test's data to the next."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def fresh_index(settings, tmp_path):
    """A search index of the test's own. The session's index outlives each test's rolled-back
    database: its documents, write-ahead files and spool belong to rows that no longer exist
    (or whose primary keys the next test reuses), so a test that asserts what a search finds
    starts from an empty index."""
    settings.WAGTAILSEARCH_BACKENDS = {
        "default": {
            **settings.WAGTAILSEARCH_BACKENDS["default"],
            "PATH": str(tmp_path / "index"),
        }
    }
    from modelsearch.backends import get_search_backend

    return get_search_backend()


@pytest.fixture
def make_user(db, django_user_model):
    """Create an active user holding *role* (one of cms.roles.ROLES)."""
    counter = {"n": 0}

    def make(role=None, username=None, password="pw-Test-2026", **extra):
        counter["n"] += 1
        username = username or f"user{counter['n']}"
        user = django_user_model.objects.create_user(
            username=username,
            password=password,
            display_name=extra.pop("display_name", username),
            **extra,
        )
        if role:
            user.groups.add(Group.objects.get(name=role))
        user.test_password = password
        return user

    return make


@pytest.fixture
def admin_user_role(make_user):
    return make_user(roles.ADMIN, username="sysadmin")


@pytest.fixture
def staff_user(make_user):
    return make_user(roles.STAFF, username="staffer")


@pytest.fixture
def deputy_user(make_user):
    return make_user(roles.DEPUTY, username="deputy1")


@pytest.fixture
def archivist_user(make_user):
    return make_user(roles.ARCHIVIST, username="archivist1")


@pytest.fixture
def liaison_user(make_user):
    return make_user(roles.LIAISON, username="liaison1")


# Tests that take many seconds each on their own (LibreOffice renditions and archive filing,
# restores into new instances, whole demo loads): `make test` runs them, `make test-fast`
# (-m "not slow") leaves them out of the edit loop. A path names a whole module.
SLOW = {
    "tests/archive/test_adapters_modules.py",
    "tests/archive/test_backup.py",
    "tests/archive/test_backup_roundtrip.py",
    "tests/archive/test_demo.py",
    "tests/archive/test_filing.py",
    "tests/archive/test_fixity.py",
    "tests/archive/test_pages.py",
    "tests/archive/test_sources.py",
    "tests/briefings/test_demo.py",
    "tests/briefings/test_renditions.py",
    "tests/budget/test_demo.py",
    "tests/letters/test_renditions.py",
    "tests/letters/test_search_and_demo.py::test_demo_letters_in_several_states_and_idempotent",
    "tests/suggestions/test_demo.py",
    "tests/cms/test_site.py::test_load_demo_is_idempotent",
    "tests/cms/test_warmup.py",
    "tests/suggestions/test_opinions.py::test_demo_data_is_idempotent_and_linked",
}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under ``pytest -n N --dist loadgroup`` (make test) the tests that use the real Celery
    worker run in one xdist worker, so the worker process is started once, not once per xdist
    worker. (Without loadgroup they still pass: each xdist worker then starts its own.)"""
    for item in items:
        module, _, name = item.nodeid.partition("::")
        if module in SLOW or f"{module}::{name.split('[')[0]}" in SLOW:
            item.add_marker(pytest.mark.slow)
        if item.get_closest_marker("worker"):
            item.add_marker(pytest.mark.xdist_group("celery-worker"))
