"""The PostgreSQL backend ranks a page of results over a bounded candidate set
(``SegmentedSearchQueryCompiler._bounded_candidates``): title matches first, then matches
in table order, the caller's filters applied per candidate. The bound is made tiny here
so that a handful of documents exceed it.

Runs only on a PostgreSQL test database (DATABASE_URL=postgres://…), skipped otherwise."""

import pytest
from django.db import connection
from modelsearch.backends import get_search_backend
from modelsearch.backends.database.postgres.postgres import IndexEntry
from modelsearch.query import Phrase

from search.pg_backend import SegmentedSearchQueryCompiler
from tests.search.conftest import backend_settings
from tests.search.testapp.models import Document

pytestmark = pytest.mark.django_db


@pytest.fixture
def pg(settings, tmp_path, monkeypatch):
    settings.WAGTAILSEARCH_BACKENDS = {"default": backend_settings("postgres_jieba", tmp_path)}
    backend = get_search_backend()
    backend.reset_indexes()
    # A new, empty file for the table (undone with the test's transaction): rows that
    # earlier tests wrote and rolled back leave room in its first pages, and an entry
    # written last could land there, while these tests rely on table order being the
    # order of writing.
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {IndexEntry._meta.db_table}")
    monkeypatch.setattr(SegmentedSearchQueryCompiler, "CANDIDATES", 3)
    # the handfuls of entries here go through the bound (not ranked whole as a small type)
    monkeypatch.setattr(SegmentedSearchQueryCompiler, "UNBOUNDED_MAX_ENTRIES", 0)
    return backend


def first_entries(n):
    """Primary keys of the first *n* index entries in table order (where LIMIT stops)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT object_id FROM {IndexEntry._meta.db_table} ORDER BY ctid LIMIT %s", [n]
        )
        return {int(row[0]) for row in cursor.fetchall()}


def test_a_title_match_after_the_first_candidates_still_ranks_first(pg):
    # saving indexes each document (one entry written after the other)
    body_only = [
        Document.objects.create(title=f"第{i}号通知", body="本办法所称预算，依照有关规定执行。")
        for i in range(30)
    ]
    titled = Document.objects.create(title="预算公开规定", body="本规定自公布之日起施行。")
    assert titled.pk not in first_entries(3)  # not among the candidates in table order
    first = list(pg.search("规定", Document)[:1])
    assert first == [titled]
    # a page longer than the bound sees every match; the order is the unbounded one
    page = [d.pk for d in pg.search("规定", Document)[:40]]
    assert page[0] == titled.pk
    assert set(page) == {d.pk for d in body_only} | {titled.pk}


def test_the_callers_filters_apply_before_the_bound(pg):
    for i in range(30):
        Document.objects.create(title=f"内部{i}", body="采购规定", published=False)
    visible = [
        Document.objects.create(title=f"公开{i}", body="采购规定", published=True) for i in range(2)
    ]
    assert not {d.pk for d in visible} & first_entries(3)
    hits = list(pg.search("采购", Document.objects.filter(published=True))[:1])
    assert len(hits) == 1 and hits[0] in visible


def test_counts_and_facets_are_not_bounded(pg):
    for i in range(7):
        Document.objects.create(title=f"办法{i}", body="应当公开", year=2020 + i % 2)
    results = pg.search("公开", Document)
    assert results.count() == 7
    assert sum(results.facet("year").values()) == 7
    assert len(list(results[:2])) == 2


def title_norms():
    """(title_norm, exact average ÷ title length) of every entry with a title."""
    table = IndexEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT title_norm, (SELECT avg(length(title)) FROM {table}"
            f" WHERE length(title) > 0)::float8 / length(title) FROM {table}"
            " WHERE length(title) > 0"
        )
        return cursor.fetchall()


def test_title_norms_written_from_a_sample_are_set_right_by_the_rebuild(pg, monkeypatch):
    from search.pg_backend import SegmentedPostgresIndex

    monkeypatch.setattr(SegmentedPostgresIndex, "TITLE_SAMPLE_ROWS", 3)
    # short titles first, long ones after: the first rows are a poor sample
    for i in range(4):
        Document.objects.create(title=f"办法{i}", body="正文")
    for i in range(8):
        Document.objects.create(title=f"关于加强预算绩效管理的实施意见第{i}号", body="正文")
    assert any(abs(norm - exact) > 0.05 * exact for norm, exact in title_norms())
    pg.get_index_for_model(Document)._refresh_title_norms(full=True)
    assert all(abs(norm - exact) <= 0.05 * exact for norm, exact in title_norms())


def probe_statements(queries):
    """The bounded scans' statements: the entries of a head, numbered as they come."""
    table = IndexEntry._meta.db_table
    return [
        q["sql"]
        for q in queries
        if '"_probe_row"' in q["sql"] and f'AS "_probe_head") AS "{table}" WHERE' in q["sql"]
    ]


def test_a_frequent_phrase_is_found_by_a_bounded_scan_and_its_title_match_ranks_first(
    pg, monkeypatch
):
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(SegmentedSearchQueryCompiler, "PROBE_SAMPLE_ROWS", 10)
    monkeypatch.setattr(SegmentedSearchQueryCompiler, "PROBE_MAX_ROWS", 50)
    matches = [
        Document.objects.create(title=f"第{i}号通知", body="由县人民政府依法公开。")
        for i in range(30)
    ]
    # the characters of the phrase, not the phrase: never a result
    scattered = Document.objects.create(title="府人", body="政民公开。")
    titled = Document.objects.create(title="人民政府信息公开条例", body="自公布之日起施行。")
    assert titled.pk not in first_entries(10)
    with CaptureQueriesContext(connection) as queries:
        hits = list(pg.search(Phrase("人民政府"), Document)[:1])
    assert hits == [titled]
    assert probe_statements(queries.captured_queries)  # the bounded scan answered
    # a page longer than the bound: the scan finds too few, the index answers, exactly
    page = {d.pk for d in pg.search(Phrase("人民政府"), Document)[:40]}
    assert page == {d.pk for d in matches} | {titled.pk}
    assert scattered.pk not in page
    # the caller's filters hold inside the bounded scan too
    hidden = {d.pk for d in matches[:20]}
    Document.objects.filter(pk__in=hidden).update(published=False)
    visible = pg.search(Phrase("人民政府"), Document.objects.filter(published=True))
    assert not {d.pk for d in visible[:3]} & hidden


def test_a_rare_phrase_falls_back_to_the_index(pg, monkeypatch):
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(SegmentedSearchQueryCompiler, "PROBE_SAMPLE_ROWS", 10)
    monkeypatch.setattr(SegmentedSearchQueryCompiler, "PROBE_MAX_ROWS", 50)
    for i in range(30):
        Document.objects.create(title=f"第{i}号通知", body="依照有关规定执行。")
    rare = [
        Document.objects.create(title=f"债务{i}", body="地方政府债务限额管理。") for i in range(2)
    ]
    with CaptureQueriesContext(connection) as queries:
        hits = {d.pk for d in pg.search(Phrase("债务限额"), Document)[:10]}
    assert probe_statements(queries.captured_queries)  # tried, found too few
    assert hits == {d.pk for d in rare}


def test_frequent_words_are_found_by_a_bounded_scan_with_the_same_answers(pg, monkeypatch):
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(SegmentedSearchQueryCompiler, "PROBE_SAMPLE_ROWS", 10)
    monkeypatch.setattr(SegmentedSearchQueryCompiler, "PROBE_MAX_ROWS", 50)
    for i in range(12):
        Document.objects.create(title=f"第{i}号", body="行政机关依照规定执行。")
        Document.objects.create(title=f"附件{i}", body="行政机关依法执行。")  # no 规定
    # 政规 across two words, found as a substring as the Whoosh backend finds it
    across = Document.objects.create(title="财政规划", body="")
    with CaptureQueriesContext(connection) as queries:
        top = [d.title for d in pg.search("行政 规定", Document)[:3]]
    assert probe_statements(queries.captured_queries)
    assert len(top) == 3 and all(t.startswith("第") for t in top)
    unbounded = {d.title for d in pg.search("行政 规定", Document)[:100]}
    assert unbounded == {f"第{i}号" for i in range(12)}
    assert [d.pk for d in pg.search("政规", Document)[:5]] == [across.pk]


def test_the_sample_tells_whether_the_head_goes_on_without_counting_it(pg, monkeypatch):
    """The bounded scan reads one entry past its sample: matches beyond the sample are
    not taken for all the matches, and no statement counts the head."""
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(SegmentedSearchQueryCompiler, "CANDIDATES", 100)
    monkeypatch.setattr(SegmentedSearchQueryCompiler, "PROBE_SAMPLE_ROWS", 10)
    monkeypatch.setattr(SegmentedSearchQueryCompiler, "PROBE_MAX_ROWS", 50)
    sampled = [
        Document.objects.create(
            title=f"第{i}号", body="县人民政府依法公开。" if i % 2 else "依法公开。"
        )
        for i in range(10)
    ]
    beyond = [Document.objects.create(title=f"附{i}", body="由人民政府公开。") for i in range(2)]
    matches = {d.pk for d in sampled if "人民政府" in d.body} | {d.pk for d in beyond}
    assert len(matches) == 7 and not {d.pk for d in beyond} & first_entries(10)
    with CaptureQueriesContext(connection) as queries:
        page = {d.pk for d in pg.search(Phrase("人民政府"), Document)[:20]}
    assert page == matches  # the two after the sample too
    assert probe_statements(queries.captured_queries)
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]

    # the sample holds the whole head: its matches are every match, one statement
    Document.objects.filter(pk__in=[d.pk for d in beyond]).delete()
    with CaptureQueriesContext(connection) as queries:
        page = {d.pk for d in pg.search(Phrase("人民政府"), Document)[:20]}
    assert page == matches - {d.pk for d in beyond}
    assert len(probe_statements(queries.captured_queries)) == 1
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]


def test_long_entries_are_answered_by_the_index_not_scanned(pg, monkeypatch):
    """A type whose entries are whole documents (a statute's page) is not scanned: each
    text tested costs its whole length (70 ms for 300 statutes' pages), and the index
    finds the same rows."""
    import random

    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(SegmentedSearchQueryCompiler, "PROBE_SAMPLE_ROWS", 10)
    monkeypatch.setattr(SegmentedSearchQueryCompiler, "PROBE_MAX_ROWS", 50)
    # text that does not compress: the stored size is what the check reads
    rng = random.Random(7)
    filler = "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(1500))
    long_matches = [
        Document.objects.create(title=f"第{i}号", body=f"{filler[i:]}县人民政府依法公开。")
        for i in range(30)
    ]
    with CaptureQueriesContext(connection) as queries:
        page = {d.pk for d in pg.search(Phrase("人民政府"), Document)[:40]}
    assert page == {d.pk for d in long_matches}
    assert not probe_statements(queries.captured_queries)
    # the same rows, short: scanned
    Document.objects.filter(pk__in=page).update(body="县人民政府依法公开。")
    for document in Document.objects.all():
        pg.add(document)
    with CaptureQueriesContext(connection) as queries:
        assert {d.pk for d in pg.search(Phrase("人民政府"), Document)[:40]} == page
    assert probe_statements(queries.captured_queries)


def test_a_type_with_few_entries_is_ranked_whole_in_one_statement(pg, monkeypatch):
    """Up to UNBOUNDED_MAX_ENTRIES entries of the searched types, every match would be a
    candidate: no bounded scan, no candidate statements, the same answers and order."""
    from django.test.utils import CaptureQueriesContext

    for i in range(8):
        Document.objects.create(title=f"第{i}号通知", body="本办法所称预算，依照有关规定执行。")
    titled = Document.objects.create(title="预算公开规定", body="本规定自公布之日起施行。")
    bounded = [d.pk for d in pg.search("预算 规定", Document)[:20]]
    assert bounded[0] == titled.pk and len(bounded) == 9

    monkeypatch.setattr(SegmentedSearchQueryCompiler, "UNBOUNDED_MAX_ENTRIES", 9)
    with CaptureQueriesContext(connection) as queries:
        whole = [d.pk for d in pg.search("预算 规定", Document)[:20]]
    assert whole == bounded
    searches = [
        q["sql"] for q in queries.captured_queries if "wagtailsearch_indexentry" in q["sql"]
    ]
    assert not probe_statements(queries.captured_queries)
    assert len(searches) == 2  # the entries' size and number, then the ranked page

    monkeypatch.setattr(SegmentedSearchQueryCompiler, "UNBOUNDED_MAX_ENTRIES", 8)  # one more
    with CaptureQueriesContext(connection) as queries:
        assert [d.pk for d in pg.search("预算 规定", Document)[:20]] == bounded
    assert len([q for q in queries.captured_queries if "wagtailsearch_indexentry" in q["sql"]]) > 2
