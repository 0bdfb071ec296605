"""Reuse of a search's ranked hits (search/result_cache.py), the key-list filter
(search/sql.py) and the planner statistics (cms/dbstats.py), issue 15."""

import pytest
from django.db import connection
from wagtail.models import Page

from cms import roles
from cms.dbstats import refresh_statistics
from policies import ingest
from policies.models import PolicyArticle, PolicyPage
from search import result_cache
from search.registry import group_hits, run_search
from search.sql import LITERAL_FROM, filter_pks, pks_among
from tests.policies.files import SAMPLE_NOTICE

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    result_cache.results.clear()
    yield
    result_cache.results.clear()


def _publish(text, name):
    from modelsearch.backends import get_search_backend

    (record,) = ingest.import_path_data(name, text.encode(), publish=True)
    assert record.page is not None, record.message
    get_search_backend().refresh_indexes()
    return record.page


def _second(text):
    return SAMPLE_NOTICE.replace("元政办发〔2021〕7号", "元政办发〔2021〕9号").replace(
        "县级预算绩效管理办法", text
    )


def _shown(outcome):
    return {(hit.type_key, hit.obj.pk) for hit in outcome.hits}


def test_the_same_search_reuses_its_hits_until_the_index_changes(
    fresh_index, make_user, monkeypatch
):
    deputy = make_user(roles.DEPUTY)
    first = _publish(SAMPLE_NOTICE, "notice.txt")
    before = result_cache.results.reused

    one = run_search(deputy, "绩效")
    asked = _misses(monkeypatch)
    two = run_search(deputy, "绩效", sort="date")  # another sort: same hits, reused
    assert asked == [] and result_cache.results.reused > before
    assert _shown(one) == _shown(two)
    assert {h.obj.pk for h in one.results} == {first.pk}

    second = _publish(_second("乡镇预算绩效管理办法"), "other.txt")  # a commit: new generation
    three = run_search(deputy, "绩效")
    assert "policies.policyarticle" in asked  # asked the engine again
    assert {h.obj.pk for h in three.results} == {first.pk, second.pk}


def _misses(monkeypatch):
    """The types the next searches ask the engine for (not taken from the cache)."""
    from search import registry

    asked = []
    original = registry._type_hits

    def recording(entry, *args, **kwargs):
        asked.append(entry.key)
        return original(entry, *args, **kwargs)

    monkeypatch.setattr(registry, "_type_hits", recording)
    return asked


def test_a_commit_keeps_the_hits_of_the_types_it_did_not_touch(fresh_index, make_user, monkeypatch):
    from modelsearch.backends import get_search_backend

    from search import indexing

    deputy = make_user(roles.DEPUTY)
    _publish(SAMPLE_NOTICE, "notice.txt")
    store = get_search_backend().store
    asked = _misses(monkeypatch)
    run_search(deputy, "绩效")
    everything = list(asked)
    assert "policies.policyarticle" in everything and "suggestions.suggestion" in everything

    asked.clear()
    run_search(deputy, "绩效")
    assert asked == []

    # a commit that changed only a suggestion: the law articles and policies are kept
    store.write(delete_keys=["suggestions.suggestion:987654"])
    asked.clear()
    run_search(deputy, "绩效")
    assert asked == ["suggestions.suggestion"]

    # a policy changed: its articles are shown with it, so both are asked again
    store.write(delete_keys=["wagtailcore.page:987654"])
    asked.clear()
    run_search(deputy, "绩效")
    assert "policies.policyarticle" in asked and "policies.policypage" in asked
    assert "suggestions.suggestion" not in asked

    # a bulk import's batch notes its types too
    with indexing.bulk() as writer:
        writer.add([], ["letters.letter:987654"])
    asked.clear()
    run_search(deputy, "绩效")
    assert asked == ["letters.letter"]

    # a commit whose types are not known (an ``also`` hook that does not say): every type
    def unknown(writer):
        writer.delete_by_term("doc_key", "archive.archiveitem:987654")

    store.write(also=unknown)
    asked.clear()
    run_search(deputy, "绩效")
    assert sorted(asked) == sorted(everything)
    # and the next noted commit, finding the note behind, changes every type too
    store.write(delete_keys=["suggestions.suggestion:987655"])
    asked.clear()
    run_search(deputy, "绩效")
    assert sorted(asked) == sorted(everything)
    asked.clear()
    run_search(deputy, "绩效")
    assert asked == []


def test_an_index_made_again_never_meets_its_old_hits(fresh_index, make_user, monkeypatch):
    from modelsearch.backends import get_search_backend

    deputy = make_user(roles.DEPUTY)
    _publish(SAMPLE_NOTICE, "notice.txt")
    store = get_search_backend().store
    assert run_search(deputy, "绩效").total > 0
    store.reset()  # emptied: what was found is gone
    assert run_search(deputy, "绩效").total == 0


def test_a_reused_list_drops_what_the_user_may_no_longer_see(fresh_index, make_user, monkeypatch):
    deputy = make_user(roles.DEPUTY)
    first = _publish(SAMPLE_NOTICE, "notice.txt")
    second = _publish(_second("乡镇预算绩效管理办法"), "other.txt")
    assert {h.obj.pk for h in run_search(deputy, "绩效").results} == {first.pk, second.pk}
    asked = _misses(monkeypatch)

    # taken offline behind the index's back (no index write): only the database knows
    Page.objects.filter(pk=second.pk).update(live=False)
    outcome = run_search(deputy, "绩效")
    assert asked == []  # reused, and checked
    assert {h.obj.pk for h in outcome.results} == {first.pk}
    assert all(h.obj.page_id != second.pk for h in outcome.hits if h.type_key.endswith("article"))
    counts = {o.value: o.count for o in outcome.facets["type"]}
    assert counts.get("policies.policypage", 0) == 1
    assert counts["policies.policyarticle"] == sum(
        1 for h in outcome.hits if h.type_key == "policies.policyarticle"
    )


def test_hits_are_kept_per_user(fresh_index, make_user):
    deputy = make_user(roles.DEPUTY)
    nobody = make_user(None, username="no-role")
    _publish(SAMPLE_NOTICE, "notice.txt")
    assert run_search(deputy, "绩效").total > 0
    assert run_search(nobody, "绩效").total == 0  # not the deputy's list


def test_reuse_can_be_turned_off(fresh_index, make_user, settings):
    settings.SEARCH_RESULT_CACHE_SECONDS = 0
    deputy = make_user(roles.DEPUTY)
    _publish(SAMPLE_NOTICE, "notice.txt")
    before = result_cache.results.reused
    run_search(deputy, "绩效")
    run_search(deputy, "绩效")
    assert result_cache.results.reused == before


def test_entries_expire_and_the_hit_budget_evicts_the_oldest(settings, monkeypatch):
    cache = result_cache.ResultCache()
    settings.SEARCH_RESULT_CACHE_HITS = 5
    cache.put(("a",), [1, 2, 3])
    cache.put(("b",), [4, 5])
    assert cache.get(("a",)) == [1, 2, 3]
    cache.put(("c",), [6])  # 6 hits > 5: the least recently used (b) leaves
    assert cache.get(("b",)) is None
    assert cache.get(("a",)) == [1, 2, 3] and cache.get(("c",)) == [6]
    cache.put(("big",), list(range(9)))  # over the whole budget: not kept
    assert cache.get(("big",)) is None

    clock = [1000.0]
    monkeypatch.setattr(result_cache.time, "monotonic", lambda: clock[0])
    settings.SEARCH_RESULT_CACHE_SECONDS = 60
    cache.put(("d",), [7])
    clock[0] += 61
    assert cache.get(("d",)) is None


def test_grouping_leaves_the_given_hits_as_they_were(fresh_index, make_user):
    deputy = make_user(roles.DEPUTY)
    _publish(SAMPLE_NOTICE, "notice.txt")
    outcome = run_search(deputy, "绩效")
    before = [(id(h), list(h.children), h.matched) for h in outcome.hits]
    grouped = group_hits(deputy, outcome.hits)
    again = group_hits(deputy, outcome.hits)
    assert [(id(h), list(h.children), h.matched) for h in outcome.hits] == before
    assert [len(g.children) for g in grouped] == [len(g.children) for g in again]


def test_filter_pks_equals_pk_in(fresh_index):
    page = _publish(SAMPLE_NOTICE, "notice.txt")
    ids = list(PolicyArticle.objects.values_list("pk", flat=True))
    wanted = ids[::2] + [10**9 + n for n in range(LITERAL_FROM)]  # long, with missing keys
    expected = set(PolicyArticle.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    assert pks_among(PolicyArticle.objects.all(), wanted) == expected
    assert len(expected) == len(ids[::2])
    # with another model's filter and a join in the queryset
    live = PolicyArticle.objects.filter(page__live=True)
    assert pks_among(live, wanted) == expected
    Page.objects.filter(pk=page.pk).update(live=False)
    assert pks_among(live, wanted) == set()
    # anything but int keys takes the usual path (nothing else is written into the SQL)
    strings = [str(pk) for pk in wanted]
    assert set(filter_pks(PolicyArticle.objects.all(), strings).values_list("pk", flat=True)) == (
        expected
    )
    hostile = ["1) OR (1=1", *strings]  # refused by the field, as pk__in refuses it
    with pytest.raises(ValueError):
        list(filter_pks(PolicyPage.objects.all(), hostile))


def test_refresh_statistics_gives_the_planner_table_sizes(fresh_index):
    _publish(SAMPLE_NOTICE, "notice.txt")
    refresh_statistics()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT tbl FROM sqlite_stat1 WHERE tbl = 'policies_policyarticle'")
        else:
            cursor.execute(
                "SELECT relname FROM pg_stat_user_tables "
                "WHERE relname = 'policies_policyarticle' AND last_analyze IS NOT NULL"
            )
        assert cursor.fetchall()
