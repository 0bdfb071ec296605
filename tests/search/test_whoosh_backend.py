"""The Whoosh + jieba backend through Wagtail's (modelsearch's) search API."""

import pytest
from django.apps import apps
from django.core.management import call_command
from modelsearch.backends import get_search_backend
from modelsearch.backends.base import FilterFieldError
from modelsearch.query import And, Boost, MatchAll, Not, Or, Phrase, PlainText

from search.highlight import highlight
from tests.search.testapp.models import Document, EffectLevel, Note, Status


@pytest.fixture
def single_search_app(monkeypatch):
    """Work around INSTALLED_APPS listing both "wagtail.search" and "modelsearch" (the same
    app twice makes modelsearch refuse to pick a configuration)."""
    import modelsearch.backends
    from modelsearch.management.commands import rebuild_modelsearch_index

    def config():
        return apps.get_app_config("wagtailsearch")

    monkeypatch.setattr(modelsearch.backends, "get_app_config", config)
    monkeypatch.setattr(rebuild_modelsearch_index, "get_app_config", config)


@pytest.fixture
def whoosh(db, settings, tmp_path, single_search_app):
    settings.WAGTAILSEARCH_BACKENDS = {
        "default": {"BACKEND": "search.backend", "PATH": str(tmp_path / "index")}
    }
    backend = get_search_backend()
    backend.reset_indexes()
    return backend


DOCS = [
    dict(title="知识管理制度", body="加强机关文档资料的积累和利用。", year=2019, issuer="办公室"),
    dict(
        title="预算审查监督制度汇编", body="收录预算审查监督常用规定。", year=2021, issuer="办公室"
    ),
    dict(
        title="公务接待费管理办法",
        body="公务接待应当务实节俭。",
        doc_number="元人办发〔2019〕13号",
        year=2019,
        issuer="政府办",
    ),
    dict(title="个人所得税法实施条例", body="纳税人应当依法申报。", year=2018, issuer="国务院"),
    dict(
        title="预算执行情况的报告",
        body="预算，执行良好。Budget Report 2024。",
        year=2024,
        issuer="财政局",
        effect_level=EffectLevel.INTERNAL,
    ),
    dict(
        title="审议意见",
        body="县人民代表大会常务委员会审议了报告。",
        year=2022,
        issuer="人大",
        status=Status.REPEALED,
        published=False,
    ),
]


@pytest.fixture
def docs(whoosh):
    objs = [Document.objects.create(**d) for d in DOCS]
    Note.objects.create(title="知识库笔记", content="整理制度文件。", author="张三")
    whoosh.add_bulk(Document, objs)
    whoosh.add_bulk(Note, list(Note.objects.all()))
    whoosh.refresh_indexes()
    return {o.title: o for o in objs}


def found(backend, query, qs=Document, **kw):
    return {o.title for o in backend.search(query, qs, **kw)}


def test_sub_word_and_one_character_queries(whoosh, docs):
    assert found(whoosh, "知识") == {"知识管理制度"}
    assert found(whoosh, "识管") == {"知识管理制度"}  # any Han substring, not only words
    assert found(whoosh, "税") == {"个人所得税法实施条例"}
    assert found(whoosh, "审计署") == set()


def test_phrase_is_exact(whoosh, docs):
    assert found(whoosh, Phrase("预算执行")) == {"预算执行情况的报告"}
    # "预算，执行" in the body is not the string 预算执行; the title is
    assert found(whoosh, Phrase("执行情况")) == {"预算执行情况的报告"}
    assert found(whoosh, Phrase("执行预算")) == set()
    assert found(whoosh, Phrase("2024年")) == set()
    assert found(whoosh, Phrase("report 2024")) == {"预算执行情况的报告"}


def test_document_number_three_ways(whoosh, docs):
    for query in ("元人办发〔2019〕13号", "13号", "元人办发"):
        assert found(whoosh, query) == {"公务接待费管理办法"}, query


def test_synonym_and_mixed_scripts(whoosh, docs):
    assert found(whoosh, "三公经费") == {"公务接待费管理办法"}
    assert found(whoosh, "人大常委会") == {"审议意见"}
    assert found(whoosh, "BUDGET report") == {"预算执行情况的报告"}
    assert found(whoosh, "ＢＵＤＧＥＴ") == {"预算执行情况的报告"}


def test_query_classes(whoosh, docs):
    assert len(found(whoosh, MatchAll())) == len(DOCS)
    assert found(whoosh, And([PlainText("预算"), PlainText("汇编")])) == {"预算审查监督制度汇编"}
    assert found(whoosh, Or([PlainText("税"), PlainText("知识")])) == {
        "个人所得税法实施条例",
        "知识管理制度",
    }
    assert "预算审查监督制度汇编" not in found(
        whoosh, And([PlainText("预算"), Not(PlainText("汇编"))])
    )
    assert found(whoosh, Not(MatchAll())) == set()
    boosted = whoosh.search(Or([PlainText("汇编"), Boost(PlainText("报告"), 50)]), Document)
    assert boosted[0].title == "预算执行情况的报告"


def test_operator_and_fields(whoosh, docs):
    assert found(whoosh, "知识 税", operator="and") == set()
    assert found(whoosh, "知识 税", operator="or") == {"知识管理制度", "个人所得税法实施条例"}
    assert found(whoosh, "纳税人", fields=["title"]) == set()
    assert found(whoosh, "纳税人", fields=["body"]) == {"个人所得税法实施条例"}


def test_filters_ordering_and_counts(whoosh, docs):
    qs = Document.objects.filter(published=True, year__gte=2019)
    results = whoosh.search("预算", qs)
    assert {o.title for o in results} == {"预算审查监督制度汇编", "预算执行情况的报告"}
    assert results.count() == 2
    ordered = whoosh.search("预算", Document.objects.order_by("-year"), order_by_relevance=False)
    assert [o.year for o in ordered] == [2024, 2021]
    assert [o.title for o in whoosh.search("预算", Document)[1:2]] != []
    with pytest.raises(FilterFieldError):
        whoosh.search("预算", Document.objects.filter(body="x"))


def test_hidden_rows_never_counted(whoosh, docs):
    visible = Document.objects.filter(published=True)
    assert found(whoosh, "审议", visible) == set()
    assert whoosh.search("审议", visible).count() == 0
    assert whoosh.search("报告", visible).facet("status") == {Status.IN_FORCE: 1}


def test_facets_and_scores(whoosh, docs):
    facets = whoosh.search("预算", Document).facet("year")
    assert facets == {2021: 1, 2024: 1}
    with pytest.raises(FilterFieldError):
        whoosh.search("预算", Document).facet("title")
    scored = list(whoosh.search("汇编", Document).annotate_score("_score"))
    assert scored and all(o._score > 0 for o in scored)


def test_title_boost_ranks_title_hit_first(whoosh, docs):
    Document.objects.create(title="工作规则", body="关于知识的一段话。")
    whoosh.add_bulk(Document, Document.objects.filter(title="工作规则"))
    whoosh.refresh_indexes()
    assert [o.title for o in whoosh.search("知识", Document)][0] == "知识管理制度"


def test_autocomplete_partial_terms(whoosh, docs):
    assert {o.title for o in whoosh.autocomplete("制度汇", Document)} == {"预算审查监督制度汇编"}
    assert {o.title for o in whoosh.autocomplete("元人办", Document)} == {"公务接待费管理办法"}
    Document.objects.create(title="Budget handbook")
    whoosh.add_bulk(Document, Document.objects.filter(title="Budget handbook"))
    whoosh.refresh_indexes()
    assert {o.title for o in whoosh.autocomplete("budg", Document)} == {"Budget handbook"}


def test_models_are_separate(whoosh, docs):
    assert {o.title for o in whoosh.search("知识", Note)} == {"知识库笔记"}


def test_update_and_delete(whoosh, docs):
    doc = docs["知识管理制度"]
    doc.title = "档案管理制度"
    doc.save()
    whoosh.refresh_indexes()
    assert found(whoosh, "知识") == set()
    assert found(whoosh, "档案") == {"档案管理制度"}
    whoosh.delete(doc)
    whoosh.refresh_indexes()
    assert found(whoosh, "档案", Document.objects.all()) == set()


def test_writes_wait_for_commit_and_vanish_on_rollback(
    whoosh, docs, django_capture_on_commit_callbacks
):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        Document.objects.create(title="政府债务限额管理", body="专项债券。")
    assert callbacks  # the index write waits for the commit
    assert found(whoosh, "专项债券") == set()
    try:
        with transaction.atomic():
            Document.objects.create(title="回滚的文件", body="回滚内容")
            raise RuntimeError
    except RuntimeError:
        pass
    whoosh.refresh_indexes()
    assert found(whoosh, "专项债券") == {"政府债务限额管理"}
    assert found(whoosh, "回滚") == set()


def test_update_index_command_rebuilds(whoosh, docs):
    whoosh.reset_indexes()
    whoosh.refresh_indexes()
    assert found(whoosh, "知识") == set()
    call_command("update_index", backend_name="default", verbosity=0)
    assert found(whoosh, "知识") == {"知识管理制度"}
    assert found(whoosh, Phrase("制度汇编")) == {"预算审查监督制度汇编"}


def test_highlight_marks_and_escapes():
    html = highlight("<b onclick=x>三公经费</b>压减，公务接待费下降", "三公经费")
    assert "<b" not in html and "&lt;b onclick=x&gt;" in html
    assert "<mark>三公经费</mark>" in html and "<mark>公务接待费</mark>" in html
    snippet = highlight("前" * 300 + "税收" + "后" * 300, "税", max_chars=40)
    assert "<mark>税</mark>" in snippet and len(snippet) < 80 and snippet.startswith("…")
    assert highlight('正文"预算执行"', '"预算执行"') == "正文&quot;<mark>预算执行</mark>&quot;"


def test_one_character_query_finds_the_last_character_of_a_run(whoosh):
    Document.objects.create(title="缴纳说明", body="依法缴纳个人所得税。")
    Document.objects.create(title="单字", body="第3条 罚 款")
    Document.objects.create(title="无关", body="预算编制。")
    whoosh.add_bulk(Document, Document.objects.all())
    whoosh.refresh_indexes()
    assert found(whoosh, "税") == {"缴纳说明"}
    assert found(whoosh, "罚") == {"单字"}
    assert found(whoosh, "条") == {"单字"}
    assert found(whoosh, Phrase("税")) == {"缴纳说明"}


def test_pair_phrase_does_not_cross_punctuation(whoosh):
    Document.objects.create(title="甲", body="预算，算执")
    Document.objects.create(title="乙", body="编制预算执行报告")
    whoosh.add_bulk(Document, Document.objects.all())
    whoosh.refresh_indexes()
    assert found(whoosh, Phrase("预算执")) == {"乙"}
    assert found(whoosh, Phrase("预算，算执")) == {"甲"}
    assert found(whoosh, Phrase("2019年")) == set()


def test_page_ranking_keeps_substring_only_hits_and_counts_them(whoosh):
    # 政府 is a word in the first documents; in the last one it only occurs across the
    # word boundary of 行政/府库 — it is still a hit, counted, and on a later page
    for n in range(4):
        Document.objects.create(title=f"政府文件{n}", body="人民政府工作。")
    Document.objects.create(title="边界", body="行政府库")
    whoosh.add_bulk(Document, Document.objects.all())
    whoosh.refresh_indexes()
    results = whoosh.search("政府", Document)
    assert results.count() == 5
    assert {o.title for o in results[:2]} <= {f"政府文件{n}" for n in range(4)}
    assert "边界" in {o.title for o in results}
    assert "边界" in {o.title for o in whoosh.search("政府", Document)[:10]}
    assert found(whoosh, Phrase("政府")) == {f"政府文件{n}" for n in range(4)} | {"边界"}


def test_page_ranking_skips_hidden_rows(whoosh):
    for n in range(40):
        Document.objects.create(title=f"隐藏文件{n}", body="预算公开。", published=False)
    Document.objects.create(title="公开文件", body="预算公开。")
    whoosh.add_bulk(Document, Document.objects.all())
    whoosh.refresh_indexes()
    visible = Document.objects.filter(published=True)
    assert [o.title for o in whoosh.search("预算", visible)[:10]] == ["公开文件"]
    assert whoosh.search("预算", visible).count() == 1


def test_parallel_rebuild_and_writes_during_a_rebuild(
    whoosh, monkeypatch, django_capture_on_commit_callbacks
):
    import search.backend

    monkeypatch.setattr(search.backend, "PARALLEL_REBUILD_MIN", 3)
    for n in range(12):
        Document.objects.create(title=f"并行重建{n}", body=f"第{n}号文件，预算执行情况。")
    rebuilder = search.backend.WhooshRebuilder(whoosh.get_index_for_model(Document))
    index = rebuilder.start()
    assert whoosh.store.rebuild_in_progress()
    index.add_items(Document, list(Document.objects.all()))
    assert isinstance(whoosh.store._rebuild_writer, search.backend.WatchedMpWriter)
    with django_capture_on_commit_callbacks(execute=True):
        Document.objects.create(title="重建期间保存", body="专项债券")  # spooled
    rebuilder.finish()
    assert not whoosh.store.rebuild_in_progress()
    assert whoosh.search("预算执行", Document).count() == 12
    assert found(whoosh, "专项债券") == {"重建期间保存"}
    assert found(whoosh, Phrase("执行情况")) == {f"并行重建{n}" for n in range(12)}


def test_a_dead_sub_writer_fails_the_rebuild_instead_of_hanging(whoosh, monkeypatch):
    import search.backend

    monkeypatch.setattr(search.backend, "PARALLEL_REBUILD_MIN", 3)

    def broken(self, value, **kwargs):
        raise ValueError("broken analysis")

    monkeypatch.setattr(search.backend.PairText, "index", broken)
    monkeypatch.setattr(search.backend.PairText, "pool_entries", broken)  # the writers' path
    for n in range(6):
        Document.objects.create(title=f"失败{n}")
    with pytest.raises(RuntimeError):
        call_command("update_index", backend_name="default", verbosity=0)
    assert not whoosh.store.rebuild_in_progress()
    assert whoosh.store.rebuild_needed
    monkeypatch.undo()
    whoosh.store.write([])  # the lock was released


def test_phrase_right_after_digits(whoosh):
    Document.objects.create(title="沿革", body="1950年6月29日中央人民政府颁布。")
    whoosh.add_bulk(Document, Document.objects.all())
    whoosh.refresh_indexes()
    assert found(whoosh, Phrase("人民政府")) == {"沿革"}
    assert found(whoosh, Phrase("29日中央")) == {"沿革"}
    assert found(whoosh, "央人") == {"沿革"}


def test_whole_word_matches_rank_ahead_of_substring_only_matches(whoosh):
    # 政府 is a whole word in the long body of the first document; in the second it only
    # occurs across the word boundary of 行政/府库, next to 工作 in its short, boosted title.
    # By score alone the second would come first; the rule puts the whole-word match
    # first, and the substring-only match still follows it, on the page and in the list.
    Document.objects.create(title="通知", body="政府工作。" + "其他内容。" * 60)
    Document.objects.create(title="工作 行政府库", body="工作，行政府库，工作。")
    whoosh.add_bulk(Document, Document.objects.all())
    whoosh.refresh_indexes()
    results = whoosh.search("政府 工作", Document)
    assert [o.title for o in results[:1]] == ["通知"]
    assert [o.title for o in results[:10]] == ["通知", "工作 行政府库"]
    assert [o.title for o in results] == ["通知", "工作 行政府库"]
    assert results.count() == 2
    # the substring-only document is the better match for its own words
    assert [o.title for o in whoosh.search("府库 工作", Document)[:10]][0] == "工作 行政府库"


def test_one_character_query_reads_multi_block_postings(whoosh):
    """税 in 300 documents (posting lists of several blocks, one inlined one): the block
    reader finds every document, and the document where 税 has the most contexts ranks
    first (its weight is computed once, not per hit)."""
    from search.backend import CharQuery
    from search.fastscore import block_postings

    bodies = [f"第{i}条 依法缴纳税款。" for i in range(299)]
    bodies.append("税收、税率、税款、税目和税基由法律规定。")
    objs = [Document.objects.create(title=f"文件{i}", body=b) for i, b in enumerate(bodies)]
    Document.objects.create(title="无关文件", body="加强文档资料管理。")
    whoosh.add_bulk(Document, list(Document.objects.all()))
    whoosh.refresh_indexes()

    hits = list(whoosh.search("税", Document)[:5])
    assert hits[0].pk == objs[-1].pk
    assert whoosh.search("税", Document).count() == 300

    searcher = whoosh.store.searcher()
    for reader in (searcher.reader(), *(sub.reader() for sub, _ in searcher.leaf_searchers())):
        for term in ("税款", "税收"):  # 税款: three blocks; 税收: one document, inlined
            present = ("b__body", term) in reader
            ids = list(reader.postings("b__body", term).all_ids()) if present else []
            assert block_postings(reader, "b__body", term.encode(), weights=False)[0] == ids
    matcher = CharQuery("b__body", "税").matcher(searcher)
    assert matcher.block_max_weight() == max(matcher._weights)
    assert matcher.copy().block_max_weight() == matcher.block_max_weight()
