"""Hits on law articles (policies/searchables.py, search.registry.Searchable.hit_related):
the articles of one policy share one policy object, loaded once with only the fields a hit
needs, and the facets an article shows are its policy's."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cms import roles
from policies import ingest
from search.query_syntax import parse_query
from search.registry import _search_type, searchables
from tests.policies.files import SAMPLE_NOTICE

pytestmark = pytest.mark.django_db


def _publish(text, name):
    (record,) = ingest.import_path_data(name, text.encode(), publish=True)
    assert record.page is not None, record.message
    fresh_index_backend().refresh_indexes()  # the index writes wait for the commit
    return record.page


def fresh_index_backend():
    from modelsearch.backends import get_search_backend

    return get_search_backend()


def _articles(user, text):
    entry = next(e for e in searchables() if e.key == "policies.policyarticle")
    with CaptureQueriesContext(connection) as captured:
        hits = _search_type(entry, user, parse_query(text), 2000)
    return entry, hits, len(captured.captured_queries)


def test_articles_of_a_policy_share_one_policy_object(fresh_index, make_user):
    deputy = make_user(roles.DEPUTY)
    first = _publish(SAMPLE_NOTICE, "notice.txt")
    other = SAMPLE_NOTICE.replace("元政办发〔2021〕7号", "元政办发〔2021〕9号").replace(
        "县级预算绩效管理办法", "乡镇预算绩效管理办法"
    )
    second = _publish(other, "other.txt")

    _articles(deputy, "绩效")  # the first search fills per-process caches (permissions)
    entry, hits, queries = _articles(deputy, "绩效")
    by_page = {}
    for article, _score in hits:
        by_page.setdefault(article.page_id, set()).add(id(article.page))
    assert set(by_page) == {first.pk, second.pk}
    assert all(len(objects) == 1 for objects in by_page.values())  # one object per policy
    assert sum(1 for _ in hits) >= 8  # several articles of each policy matched

    article = hits[0][0]
    page = article.page
    assert "body_text" in page.get_deferred_fields()  # only the fields a hit needs
    assert entry.facet_values(article) == {
        "year": str(page.year),
        "issuer": page.issuer,
        "effect_level": page.get_effect_level_display(),
        "status": page.get_status_display(),
    }
    assert entry.date_of(article) == page.issued_on

    # a third policy adds hits, not queries
    _publish(
        SAMPLE_NOTICE.replace("元政办发〔2021〕7号", "元政办发〔2022〕1号").replace(
            "县级预算绩效管理办法", "部门预算绩效管理办法"
        ),
        "third.txt",
    )
    _entry, more, more_queries = _articles(deputy, "绩效")
    assert len(more) > len(hits)
    assert more_queries == queries


def test_articles_are_refused_to_who_may_not_read_policies(fresh_index, make_user):
    _publish(SAMPLE_NOTICE, "notice.txt")
    nobody = make_user(None, username="no-role")
    _entry, hits, _queries = _articles(nobody, "绩效")
    assert hits == []


def test_policy_hits_leave_the_text_for_the_hits_shown(fresh_index, make_user, client):
    """A policy hit is loaded without its text (a dense query matches hundreds of whole
    statutes); the page still shows the snippet of the policies listed."""
    deputy = make_user(roles.DEPUTY)
    page = _publish(SAMPLE_NOTICE, "notice.txt")
    entry = next(e for e in searchables() if e.key == "policies.policypage")
    ((hit, _score),) = _search_type(entry, deputy, parse_query("事前绩效评估"), 2000)
    assert hit.pk == page.pk and type(hit) is type(page)
    assert "body_text" in hit.get_deferred_fields()
    client.force_login(deputy)
    html = client.get("/search/", {"q": "事前绩效评估"}).content.decode()
    assert "元江县人民政府办公室关于印发" in html  # the title (its query words marked)
    assert "新增重大项目应当开展" in html  # the snippet, read for the hit shown


def test_articles_of_a_restricted_policy_are_not_hits(fresh_index, make_user):
    """The index still holds the articles of a policy put behind a view restriction; the
    backend returns only rows of the reader's queryset, so none of them is a hit (the
    registry does not check them a second time)."""
    from wagtail.models import PageViewRestriction

    deputy = make_user(roles.DEPUTY)
    open_page = _publish(SAMPLE_NOTICE, "notice.txt")
    closed = _publish(
        SAMPLE_NOTICE.replace("元政办发〔2021〕7号", "元政办发〔2021〕8号").replace(
            "县级预算绩效管理办法", "内部预算绩效管理办法"
        ),
        "closed.txt",
    )
    PageViewRestriction.objects.create(page=closed, restriction_type="login")
    _entry, hits, _queries = _articles(deputy, "绩效")
    assert hits and {article.page_id for article, _score in hits} == {open_page.pk}
    entry = next(e for e in searchables() if e.key == "policies.policypage")
    pages = _search_type(entry, deputy, parse_query("绩效"), 2000)
    assert [page.pk for page, _score in pages] == [open_page.pk]
