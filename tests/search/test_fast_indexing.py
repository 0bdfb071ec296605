"""The rebuild's fast paths give exactly what the plain paths give.

* rjieba (the compiled jieba) cuts text into the same words as jieba itself, with the
  domain dictionary and administrator terms added;
* ``word_positions`` (no Token objects) equals the positions of ``analyze``;
* a segment written by ``FastSegmentWriter`` (term-grouped pool, spilled runs, block-wise
  postings) has the same terms, postings, weights, positions and lengths as one written
  by Whoosh's own writer.
"""

import copy
import random

import pytest
from whoosh import index as wi
from whoosh.codec.whoosh3 import W3Codec

from search import analysis
from search.analysis import analyze_normalized, get_lexicon, normalize, word_positions
from search.backend import build_schema, make_document
from search.fastwrite import REBUILD_COMPRESSION, FastSegmentWriter, TermPool
from tests.search.testapp.models import Document, EffectLevel

# Written for these tests: budget-supervision prose with the shapes that matter to a
# segmenter — domain terms, numbers with units, document numbers, Latin words, full-width
# characters, punctuation runs, line breaks and unknown names (HMM territory).
SAMPLES = [
    "县人民政府应当在每年六月底前将上一年度决算草案提请县人民代表大会常务委员会审查批准。",
    "三公经费预算执行情况按季度公开，2023年因公出国（境）费用比上年下降12.5%。",
    "根据元人办发〔2019〕13号文件，专项债券资金不得用于经常性支出；结转结余资金统筹使用。",
    "ＰＰＰ项目合同第３条约定：政府性基金预算与国有资本经营预算之间的调入调出须报批。",
    "审计查出问题整改情况报告显示，A类问题已整改87项，B类问题正在推进，GDP增速6.1%。",
    "转移支付资金到位后，乡镇财政所须于15个工作日内下达；序时进度低于70%的项目列入预警。",
    "代表建议由县财政局会同县发展和改革局、县审计局办理，办理结果在三个月内答复代表。",
    "预算单位（部门）应当按照绩效目标管理要求，填报项目支出绩效自评表——逾期不报的通报。",
    "第一条\n为了规范政府采购行为，提高政府采购资金的使用效益，制定本办法。\n第二条 适用范围",
    "龙泉驿区和元江哈尼族彝族傣族自治县的卫健委、医保局联合开展基金监管专项检查。",
]


# what a lexicon holds when the database has no administrator terms or synonym groups
_PLAIN: dict = {}


def _contents(lexicon) -> tuple:
    return lexicon.added_words, lexicon.synonyms, lexicon.accelerator is None


@pytest.fixture
def lexicon(db):
    """The lexicon of a database without administrator terms: the process's own if it holds
    just that (loading one costs ~0.6 s CPU), else a fresh one."""
    if _PLAIN:
        current = get_lexicon()
        if _contents(current) == _PLAIN["contents"]:
            return current
    analysis.reset_lexicon()
    current = get_lexicon()
    _PLAIN["contents"] = copy.deepcopy(_contents(current))
    return current


def test_rjieba_cuts_exactly_like_jieba(lexicon):
    if lexicon.accelerator is None:
        pytest.skip("rjieba is not installed (jieba alone segments; nothing to compare)")
    for text in SAMPLES:
        norm = normalize(text)
        assert lexicon.cut(norm) == lexicon.cut_python(norm), text


def test_rjieba_knows_the_administrators_terms(db, settings, tmp_path):
    from search.models import DictionaryTerm

    settings.JIEBA_CACHE_DIR = tmp_path / "jieba"
    DictionaryTerm.objects.create(word="预决算公开平台", frequency=50000)
    analysis.reset_lexicon()
    try:
        lexicon = get_lexicon()
        if lexicon.accelerator is None:
            pytest.skip("rjieba is not installed")
        text = normalize("县级预决算公开平台上线，预决算公开平台的数据每月更新。")
        assert "预决算公开平台" in lexicon.cut(text)
        assert lexicon.cut(text) == lexicon.cut_python(text)
    finally:
        analysis.reset_lexicon()


def test_the_vocabulary_holds_jiebas_words_without_loading_jieba(db, settings, tmp_path):
    """Where rjieba cuts, the dictionary look-ups (sub-words, synonyms) use a word list read
    on its own; jieba's tokenizer, built when first asked for, has the same words with the
    same frequencies, administrator terms and synonym members included."""
    from search.models import DictionaryTerm

    settings.JIEBA_CACHE_DIR = tmp_path / "jieba"
    DictionaryTerm.objects.create(word="预决算公开平台", frequency=50000)
    analysis.reset_lexicon()
    try:
        for attempt in ("word list made", "word list read back"):
            analysis.reset_lexicon()
            lexicon = get_lexicon()
            if lexicon.accelerator is None:
                pytest.skip("rjieba is not installed")
            assert lexicon._tokenizer is None, attempt  # not loaded for indexing
            assert lexicon.is_word("预决算公开平台") and lexicon.is_word("预算")
            words = {w: f for w, f in lexicon.vocabulary.items() if f}
            assert list(tmp_path.joinpath("jieba").glob("stock-words-*.marshal")), attempt
        freq = lexicon.tokenizer.FREQ  # jieba's own, built now
        assert words == {w: f for w, f in freq.items() if f}
        assert lexicon.cut_python(normalize("预决算公开平台")) == ["预决算公开平台"]
    finally:
        analysis.reset_lexicon()


def test_jieba_is_the_fallback_when_the_accelerator_is_off(db, settings):
    settings.SEARCH_JIEBA_ACCELERATOR = False
    analysis.reset_lexicon()
    try:
        lexicon = get_lexicon()
        assert lexicon.accelerator is None
        assert "三公经费" in lexicon.cut(normalize(SAMPLES[1]))
    finally:
        analysis.reset_lexicon()


def test_word_positions_equal_the_analyzer(lexicon):
    extra = [
        "13号13号 2019年 a类 ppp项目",
        "的的 的 与 和",
        "根据元人办发〔2019〕13号和元人办发〔2020〕7号",
    ]
    for text in [*SAMPLES, *extra]:
        norm = normalize(text)
        expected: dict[str, list[int]] = {}
        for token in analyze_normalized(norm):
            expected.setdefault(token.text, []).append(token.pos)
        assert word_positions(norm) == {k: sorted(v) for k, v in expected.items()}, text
        assert word_positions(norm, native=False) == word_positions(norm), text


def test_the_compiled_word_walk_is_its_python_twin(lexicon):
    """search/_fastwrite.c's word_positions and _walk_words give the same map on text cut
    at random places (numbers meeting units across pieces, stop words, document numbers
    at the start and end, pieces the lexicon has not seen yet)."""
    if analysis._native_word_positions is None:
        pytest.skip("search._fastwrite is not built")
    rng = random.Random(5)
    text = "".join(SAMPLES) + "根据元人办发〔2019〕13号的的和3年5号第12条1.5万元ｘ９９号"
    for _ in range(400):
        a, b = sorted(rng.randrange(len(text) + 1) for _ in range(2))
        piece = text[a:b] + rng.choice(["", "〔2020〕7号", "12号", "的", "新词语甲乙"])
        norm = normalize(piece)
        assert word_positions(norm) == word_positions(norm, native=False), piece
    lexicon._piece_cache.clear()  # every piece through piece_info from the compiled walk
    norm = normalize(text)
    assert word_positions(norm) == word_positions(norm, native=False)


def _documents():
    docs = []
    for i in range(60):
        body = "\n".join(SAMPLES[(i + k) % len(SAMPLES)] for k in range(1 + i % 4))
        docs.append(
            Document(
                pk=i + 1,
                title=f"预算监督文件{i}号 {SAMPLES[i % len(SAMPLES)][:12]}",
                body=body,
                issuer="县人大常委会",
                year=2020 + i % 5,
                effect_level=EffectLevel.LAW,
            )
        )
    return docs


def _dump(ix):
    """Everything a search reads from an index: terms, postings, lengths, stored fields."""
    out = {}
    with ix.reader() as reader:
        for field in sorted(reader.indexed_field_names()):
            for term in reader.lexicon(field):
                matcher = reader.postings(field, term)
                postings = []
                while matcher.is_active():
                    postings.append((matcher.id(), matcher.weight(), matcher.value()))
                    matcher.next()
                out[(field, term)] = (reader.doc_frequency(field, term), postings)
            out[("length", field)] = [
                reader.doc_field_length(d, field) for d in range(reader.doc_count_all())
            ]
        out["stored"] = list(reader.all_stored_fields())
    return out


def test_fast_writer_writes_the_same_index_as_whoosh(lexicon, tmp_path, monkeypatch):
    documents = [make_document(doc) for doc in _documents()]
    (tmp_path / "plain").mkdir()
    (tmp_path / "fast").mkdir()
    plain = wi.create_in(str(tmp_path / "plain"), build_schema())
    fast = wi.create_in(str(tmp_path / "fast"), build_schema())

    writer = plain.writer()
    for doc in documents:
        writer.add_document(**doc)
    writer.commit()

    # a pool that spills to a run every ~500 postings, so the merge of runs is exercised
    original_init = TermPool.__init__

    def small_pool(self, limitmb=128):
        original_init(self, limitmb)
        self.limit = 500

    monkeypatch.setattr(TermPool, "__init__", small_pool)
    writer = FastSegmentWriter(fast)
    for doc in documents:
        writer.add_document(**doc)
    assert len(writer.pool.runs) >= 3
    writer.commit()

    expected, got = _dump(plain), _dump(fast)
    assert got.keys() == expected.keys()
    for key in expected:
        assert got[key] == expected[key], key


def test_fast_writer_cleans_up_its_runs(tmp_path):
    pool = TermPool()
    pool.limit = 2
    for docnum in range(5):
        pool.add(("w__body", b"term", docnum, 1.0, b"\x01"))
    runs = list(pool.runs)
    assert runs
    assert [p[2] for p in pool.iter_postings()] == [0, 1, 2, 3, 4]
    pool.cleanup()
    assert not any(__import__("os").path.exists(path) for path in runs)


def _segment_files(directory):
    """The bytes of each file of the index's one segment, by extension."""
    files = {}
    for path in directory.iterdir():
        if path.suffix in (".trm", ".pst", ".col", ".vps"):
            files.setdefault(path.suffix, []).append(path.read_bytes())
    return {suffix: sorted(contents) for suffix, contents in files.items()}


def test_fast_writer_writes_whooshs_own_bytes(lexicon, tmp_path):
    """Byte for byte the postings and term files of Whoosh's writer with the same codec,
    with terms of one posting, of several blocks (more than 128 documents) and of an
    exact multiple of the block size."""
    documents = [make_document(doc) for doc in _documents()]
    more = []
    for n in range(4):  # 4 × 60 + 16 = 256 documents: common terms span two full blocks
        for doc in documents:
            copy = dict(doc)
            copy["doc_key"] = f"{doc['doc_key']}-{n}"
            more.append(copy)
    more.extend(documents[:16])
    for name in ("plain", "fast"):
        (tmp_path / name).mkdir()
    plain = wi.create_in(str(tmp_path / "plain"), build_schema())
    fast = wi.create_in(str(tmp_path / "fast"), build_schema())

    writer = plain.writer(codec=W3Codec(compression=REBUILD_COMPRESSION), compound=False)
    for doc in more:
        writer.add_document(**doc)
    writer.commit(merge=False, optimize=False)
    writer = FastSegmentWriter(fast, compound=False)
    for doc in more:
        writer.add_document(**doc)
    writer.commit(merge=False, optimize=False)

    expected, got = _segment_files(tmp_path / "plain"), _segment_files(tmp_path / "fast")
    assert {".trm", ".pst"} <= expected.keys()
    assert got == expected
    assert _dump(fast) == _dump(plain)


def test_bulk_commits_leave_small_blocks_uncompressed_and_read_the_same(lexicon, tmp_path):
    """Import batches (``compression_min_size``) store small posting blocks as they are:
    the files differ from the compressed ones, what a search reads does not."""
    documents = [make_document(doc) for doc in _documents()]
    indexes = {}
    for name in ("plain", "compressed", "bulk"):
        (tmp_path / name).mkdir()
        indexes[name] = wi.create_in(str(tmp_path / name), build_schema())
    writer = indexes["plain"].writer()
    for doc in documents:
        writer.add_document(**doc)
    writer.commit()
    for name, kwargs in (("compressed", {}), ("bulk", {"compression_min_size": 10**9})):
        writer = FastSegmentWriter(indexes[name], compound=False, **kwargs)
        for doc in documents:
            writer.add_document(**doc)
        writer.commit(merge=False, optimize=False)

    compressed = _segment_files(tmp_path / "compressed")[".pst"]
    bulk = _segment_files(tmp_path / "bulk")[".pst"]
    assert bulk != compressed
    assert sum(map(len, bulk)) > sum(map(len, compressed))  # nothing was compressed
    expected = _dump(indexes["plain"])
    for name in ("compressed", "bulk"):
        got = _dump(indexes[name])
        assert got.keys() == expected.keys()
        for key in expected:
            assert got[key] == expected[key], (name, key)


def test_pair_positions_follow_the_pair_stream(lexicon):
    extra = ["预算预算 预算", "ｖ２ api 2019年度 税", "第一条\n第二条\n\n", "", "，。；", "a"]
    for text in [*SAMPLES, *extra]:
        norm = normalize(text)
        expected: dict[str, list[int]] = {}
        for pos, (token, _start) in enumerate(analysis.pair_tokens(norm)):
            expected.setdefault(token, []).append(pos)
        assert analysis.pair_positions(norm) == expected, text


def test_positions_are_encoded_as_whoosh_encodes_them():
    from whoosh.formats import Positions

    from search.backend import encode_positions

    whoosh_encode = Positions().encode
    cases = [[0], [7], [300], [70_000], [0, 1], [3, 9, 9000, 9001], list(range(0, 5000, 7))]
    for positions in cases:
        assert encode_positions(positions) == whoosh_encode(positions), positions
        assert encode_positions(positions) == whoosh_encode(positions)  # cached the same


def test_a_merge_reads_postings_by_block_into_the_same_index(lexicon, tmp_path, monkeypatch):
    """FastSegmentWriter merges segments by reading whole posting blocks; the merged index
    equals the one Whoosh's own writer merges posting by posting (deleted documents left
    out, terms of several blocks, a pool that spills to runs)."""
    documents = [make_document(doc) for doc in _documents()]
    # a term in every document: postings over more than one block of a segment
    for doc in documents:
        doc["w__body"] += " 预算"
    indexes = {}
    for name in ("plain", "fast"):
        (tmp_path / name).mkdir()
        ix = indexes[name] = wi.create_in(str(tmp_path / name), build_schema())
        for start in range(0, len(documents), 20):  # three segments
            writer = ix.writer(codec=W3Codec(blocklimit=8))
            for doc in documents[start : start + 20]:
                writer.add_document(**doc)
            writer.commit(merge=False)
        writer = ix.writer()
        writer.delete_by_term("doc_key", documents[3]["doc_key"])
        writer.delete_by_term("doc_key", documents[45]["doc_key"])
        writer.commit(merge=False)
        assert len(ix._segments()) == 3
    writer = indexes["plain"].writer()
    writer.commit(optimize=True)
    by_term = []
    add_term_postings = TermPool.add_term_postings

    def counting(self, fieldname, tbytes, postings):
        by_term.append(len(postings))
        return add_term_postings(self, fieldname, tbytes, postings)

    monkeypatch.setattr(TermPool, "add_term_postings", counting)
    writer = FastSegmentWriter(indexes["fast"], codec=W3Codec(blocklimit=8))
    writer.pool.limit = 500  # spills runs during the merge
    writer.commit(optimize=True)
    assert by_term and max(by_term) > 8  # whole terms of several blocks, a call each
    for ix in indexes.values():
        assert len(ix._segments()) == 1 and ix.doc_count_all() == len(documents) - 2
    expected, got = _dump(indexes["plain"]), _dump(indexes["fast"])
    assert got.keys() == expected.keys()
    for key in expected:
        assert got[key] == expected[key], key
