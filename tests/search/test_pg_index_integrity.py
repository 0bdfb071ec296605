"""The PostgreSQL index (SEARCH_BACKEND=postgres) against the database: what a publish
commits is what the index holds, and search_index_check sees every difference.

Runs only on a PostgreSQL test database (DATABASE_URL=postgres://…), skipped otherwise."""

import json

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from modelsearch.backends import get_search_backend
from modelsearch.backends.database.postgres.postgres import IndexEntry

from policies import ingest
from policies.models import PolicyArticle, PolicyPage
from search import pg_integrity
from tests.policies.files import SAMPLE_NOTICE
from tests.search.conftest import backend_settings

pytestmark = pytest.mark.django_db


@pytest.fixture
def pg(settings, tmp_path, django_capture_on_commit_callbacks):
    settings.WAGTAILSEARCH_BACKENDS = {"default": backend_settings("postgres_jieba", tmp_path)}
    backend = get_search_backend()
    backend.reset_indexes()
    with django_capture_on_commit_callbacks(execute=True):
        (record,) = ingest.import_path_data("notice.txt", SAMPLE_NOTICE.encode(), publish=True)
    return backend, PolicyPage.objects.get(pk=record.page_id)


def entry(model, pk):
    return IndexEntry.objects.get(
        content_type=ContentType.objects.get_for_model(model), object_id=str(pk)
    )


def report_for(backend, model):
    label = f"{model._meta.app_label}.{model._meta.model_name}"
    return next(m for m in pg_integrity.check(backend).models if m.label == label)


def test_keywords_published_with_a_page_reach_its_index_entry(
    pg, django_capture_on_commit_callbacks
):
    """The 主题词 are written after post_save (modelcluster): the entry written at that
    moment held the old ones until the page was saved again."""
    backend, page = pg
    page = PolicyPage.objects.get(pk=page.pk)
    with django_capture_on_commit_callbacks(execute=True):
        page.keywords.set(["联网监督"])
        page.save_revision().publish()
    assert "联网监督" in entry(PolicyPage, page.pk).body_text
    assert page.pk in [p.pk for p in backend.search("联网监督", PolicyPage)]
    report = report_for(backend, PolicyPage)
    assert report.expected == report.indexed and report.ok


def test_a_page_deleted_before_the_commit_write_is_not_written_back(
    pg, django_capture_on_commit_callbacks
):
    backend, page = pg
    page = PolicyPage.objects.get(pk=page.pk)
    with django_capture_on_commit_callbacks(execute=True):
        page.save_revision().publish()
        page.delete()
    assert not IndexEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(PolicyPage), object_id=str(page.pk)
    ).exists()


def test_check_reports_missing_stale_orphaned_and_duplicated_entries(pg, capsys):
    backend, page = pg
    articles = list(PolicyArticle.objects.filter(page=page).order_by("pk"))
    assert len(articles) >= 3 and report_for(backend, PolicyArticle).ok
    entry(PolicyArticle, articles[0].pk).delete()  # missing
    IndexEntry.objects.filter(pk=entry(PolicyArticle, articles[1].pk).pk).update(body_text="旧")
    orphan = entry(PolicyArticle, articles[2].pk)  # orphaned: an entry for no article
    IndexEntry.objects.create(
        content_type_id=orphan.content_type_id, object_id="999999", title="", body=""
    )
    # the page indexed a second time as wagtailcore.page: one object, two entries
    IndexEntry.objects.create(
        content_type=ContentType.objects.get(app_label="wagtailcore", model="page"),
        object_id=str(page.pk),
        title="",
        body="",
    )
    report = report_for(backend, PolicyArticle)
    assert report.missing == [articles[0].pk]
    assert report.stale == [articles[1].pk]
    assert report.orphaned == ["999999"]
    assert str(page.pk) in report_for(backend, PolicyPage).duplicated

    with pytest.raises(SystemExit):
        call_command("search_index_check", "--json")
    data = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert data["ok"] is False
    articles_report = next(m for m in data["models"] if m["label"] == "policies.policyarticle")
    assert articles_report["missing"] == [str(articles[0].pk)]

    call_command("search_index_check", "--repair")
    assert "修复完成，索引与数据库一致" in capsys.readouterr().out
