"""Block-at-a-time scoring of word-level, one-character and phrase queries (search/fastscore.py) against Whoosh's
own matchers: the same documents with the same scores, across several segments and with
deleted documents."""

import random

import pytest
from modelsearch.utils import parse_query_string
from whoosh import query as wq

from search import fastscore
from search.fastscore import supported, top_docs
from tests.search.test_whoosh_backend import single_search_app, whoosh  # noqa: F401
from tests.search.testapp.models import Document

WORDS = ["预算", "执行", "人民政府", "应当", "规定", "监督", "审查", "转移支付", "三公经费",
         "决算", "报告", "人大", "常务委员会", "专项债券", "税收", "国有资产", "绩效"]  # fmt: skip


@pytest.fixture
def segmented(whoosh):  # noqa: F811
    """600 documents written in three commits (three segments), 40 of them deleted."""
    rng = random.Random(7)
    batches = []
    for batch in range(3):
        objs = []
        for i in range(200):
            body = "，".join(rng.choice(WORDS) for _ in range(rng.randint(3, 60)))
            title = "".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3)))
            objs.append(Document.objects.create(title=f"{title}{batch}-{i}", body=body))
        whoosh.add_bulk(Document, objs)
        whoosh.refresh_indexes()
        batches.append(objs)
    for obj in rng.sample(batches[0] + batches[1], 40):
        whoosh.delete(obj)
    whoosh.refresh_indexes()
    searcher = whoosh.store.searcher()
    assert len(searcher.leaf_searchers()) >= 2
    assert searcher.reader().has_deletions()
    return whoosh


QUERIES = ["预算", "人民政府", "应当 规定", "三公经费", "人大 预算 监督", "绩效 | 决算", "税收", "预",
           "税 监督", "budget", '"预算执行"', '"算，执行"', "审查监督 转移"]  # fmt: skip


@pytest.mark.parametrize("few_candidates", [0, 1000])
def test_same_hits_and_scores_as_whoosh(segmented, few_candidates, monkeypatch):
    """Both ways an And is worked out: its parts sized over the segment first (0), and
    among the type's few documents in the order given (1000: the 560 live documents)."""
    monkeypatch.setattr(fastscore, "FEW_CANDIDATES", few_candidates)
    searcher = segmented.store.searcher()
    hits = {}
    for text in QUERIES:
        results = segmented.search(parse_query_string(text)[1], Document)
        full = results._query()
        for query in (results._precise_query(), full):
            if query is None:
                continue
            assert supported(query), text
            fast = top_docs(searcher, query, None)
            slow = {d: s for s, d in searcher.search(query, limit=None, scored=True).top_n}
            hits[text] = hits.get(text, 0) + len(fast)
            assert {d for d, _ in fast} == set(slow), text
            for docnum, score in fast:
                assert score == pytest.approx(slow[docnum], rel=1e-9), text
            assert [s for _, s in fast] == sorted((s for _, s in fast), reverse=True)
            assert top_docs(searcher, query, 5) == fast[:5]
    assert all(hits.get(text) for text in QUERIES if text != "budget"), hits


def test_unsupported_shapes_fall_back(whoosh):  # noqa: F811
    Document.objects.create(title="预算报告", body="预算执行情况")
    whoosh.add_bulk(Document, list(Document.objects.all()))
    whoosh.refresh_indexes()
    assert supported(wq.Phrase("b__body", ["预算", "算执"]))
    assert not supported(wq.Phrase("b__body", ["预算", "算执"], slop=2))
    assert not supported(wq.Not(wq.Term("w__body", "预算")))
    assert not supported(wq.Or([wq.Term("w__body", "预算")], scale=0.9))
    assert top_docs(whoosh.store.searcher(), wq.Prefix("w__body", "预"), 10) is None
    # and the backend still answers them (Whoosh runs them)
    assert whoosh.search('"算执"', Document).count() == 1


def test_a_small_type_beside_a_large_one_scores_as_whoosh(segmented):
    """A search by type whose type holds few documents narrows the scored part to them from
    the start (fastscore's And); hits and scores stay Whoosh's, and the large type's own
    searches are unchanged."""
    from tests.search.testapp.models import Note

    rng = random.Random(11)
    notes = [
        Note.objects.create(
            title="".join(rng.choice(WORDS) for _ in range(2)),
            content="，".join(rng.choice(WORDS) for _ in range(rng.randint(3, 30))),
        )
        for _ in range(12)
    ]
    segmented.add_bulk(Note, notes)
    segmented.refresh_indexes()
    searcher = segmented.store.searcher()
    found = 0
    for model in (Note, Document):
        for text in QUERIES:
            results = segmented.search(parse_query_string(text)[1], model)
            for query in (results._precise_query(), results._query()):
                if query is None:
                    continue
                fast = top_docs(searcher, query, None)
                slow = {d: s for s, d in searcher.search(query, limit=None, scored=True).top_n}
                assert {d for d, _ in fast} == set(slow), (model, text)
                for docnum, score in fast:
                    assert score == pytest.approx(slow[docnum], rel=1e-9), (model, text)
                if model is Note:
                    found += len(fast)
    assert found  # the notes matched some of the queries
