"""The Chinese analyzer: normalisation, dictionary, document numbers, stop words, synonyms."""

import pytest

from search import analysis
from search.analysis import (
    analyze,
    expand_synonyms,
    han_bigrams,
    parse_query,
    segment_for_index,
    tokenize_query,
)


def primary(text):
    return [t.text for t in analyze(text) if t.primary]


def all_tokens(text):
    return {t.text for t in analyze(text)}


def test_full_width_letters_and_digits_are_normalised():
    assert primary("ＰＰＰ项目２０２３年") == ["ppp", "项目", "2023", "年"]
    assert "2023年" in all_tokens("ＰＰＰ项目２０２３年")


def test_english_is_lowercased():
    assert primary("Budget REPORT") == ["budget", "report"]
    assert tokenize_query("API 接口") == ["api", "接口"]


@pytest.mark.parametrize(
    "term",
    [
        "三公经费",
        "转移支付",
        "序时进度",
        "结转结余",
        "政府性基金预算",
        "国有资本经营预算",
        "决算草案",
        "专项债券",
    ],
)
def test_domain_terms_stay_whole(term):
    assert primary(f"关于{term}的说明") == ["关于", term, "说明"]


def test_sub_words_share_the_position_of_their_word():
    tokens = analyze("知识管理制度")
    by_text = {t.text: t for t in tokens}
    assert by_text["知识管理"].primary and by_text["知识管理"].pos == 0
    assert not by_text["知识"].primary and by_text["知识"].pos == 0
    # primary positions are sequential, so phrases line up
    assert [t.pos for t in tokens if t.primary] == [0, 1]


def test_document_number_whole_and_in_parts():
    tokens = all_tokens("根据元人办发〔2019〕13号文件")
    assert {"元人办发〔2019〕13号", "元人办发", "13号", "2019"} <= tokens
    assert tokenize_query("元人办发〔2019〕13号") == ["元人办发〔2019〕13号"]
    assert tokenize_query("13号") == ["13号"]
    # full-width brackets and digits normalise to the same token
    assert tokenize_query("元人办发［２０１９］１３号") == ["元人办发[2019]13号"]


def test_stop_words_dropped_but_keep_a_position_slot():
    tokens = analyze("预算的执行")
    assert [t.text for t in tokens if t.primary] == ["预算", "执行"]
    assert [t.pos for t in tokens if t.primary] == [0, 2]
    assert tokenize_query("的") == ["的"]  # a query of stop words only is kept


def test_synonyms_both_ways():
    assert set(expand_synonyms("三公经费")) >= {"三公经费", "因公出国", "公务接待费"}
    assert "三公经费" in expand_synonyms("公务接待费")
    assert "人民代表大会" in expand_synonyms("人大")
    assert "人大" in expand_synonyms("人民代表大会")


def test_bigrams_keep_non_han_words_whole():
    assert [g for g, _ in han_bigrams("预算执行 API v2")] == ["预算", "算执", "执行", "api", "v2"]
    assert [g for g, _ in han_bigrams("税")] == ["税"]


def test_segment_for_index_lists_primary_words_first():
    words = segment_for_index("三公经费下降").split()
    assert words[:2] == ["三公经费", "下降"]
    assert {"三公", "经费", "三", "降"} <= set(words)


def reference_segment(text):
    """segment_for_index as first written: from analyze()'s Token objects."""
    tokens = analyze(text)
    primary_words = [t.text for t in tokens if t.primary]
    secondary = [t.text for t in tokens if not t.primary]
    singles = sorted(set(analysis._HAN_RE.findall(analysis.normalize(text))))
    return " ".join(w.replace(" ", "") for w in primary_words + secondary + singles if w.strip())


SEGMENT_TEXTS = [
    "三公经费下降",
    # document numbers, with and without an issuer word before the bracket
    "根据元人办发〔2019〕13号和财预〔2020〕88号文件，县人民政府印发〔2021〕3号。",
    # numbers with units (compounds), a stop word between them, Latin and full-width text
    "2019年 预算 3.5亿元 的 12条 第5款 ＡＰＩ v2 预算执行 API",
    # words whose dictionary sub-words repeat (一九 twice in 一九一九年), punctuation only, empty
    "一九九九年的预算一点一点地执行，人民代表大会常务委员会。",
    "，。；：",
    "",
    "的的的了和与",
    "全国人民代表大会常务委员会关于修改《中华人民共和国预算法》的决定（2018年12月29日）",
]


@pytest.mark.parametrize("text", SEGMENT_TEXTS)
def test_segment_for_index_equals_the_token_analysis(text):
    assert segment_for_index(text) == reference_segment(text)


def test_segment_for_index_equals_the_token_analysis_on_mixed_text():
    import random

    rng = random.Random(5)
    parts = [t for text in SEGMENT_TEXTS for t in text.replace("，", " ").split()] + [
        "100万元",
        "第三条",
        "元人发〔2021〕",
        "的",
        "\n",
        "5",
        "年",
    ]
    for _ in range(200):
        text = "".join(rng.choice(parts) for _ in range(rng.randint(1, 12)))
        assert segment_for_index(text) == reference_segment(text), text


def test_parse_query_phrases_terms_and_exclusions():
    parsed = parse_query("“预算执行” 三公经费 -审计")
    assert parsed.phrases == ["预算执行"]
    assert parsed.terms == ["三公经费"]
    assert parsed.excluded == ["审计"]


def test_admin_terms_extend_the_dictionary(db, django_capture_on_commit_callbacks):
    from search.models import DictionaryTerm, SynonymGroup

    assert "元江县财政局" not in tokenize_query("元江县财政局")
    with django_capture_on_commit_callbacks(execute=True):
        DictionaryTerm.objects.create(word="元江县财政局")
        SynonymGroup.objects.create(terms="县财政局,元江县财政局")
    assert tokenize_query("元江县财政局") == ["元江县财政局"]
    assert "县财政局" in expand_synonyms("元江县财政局")
    analysis.reset_lexicon()


def test_jieba_cache_lives_under_the_data_dir(settings):
    """jieba's dictionary cache (made when its Python tokenizer is first needed) is kept
    under DATA_DIR, not in /tmp."""
    lexicon = analysis.get_lexicon()
    lexicon.tokenizer  # noqa: B018 - built on first use
    cache_dir = settings.JIEBA_CACHE_DIR
    assert any(p.name.endswith(".cache") for p in cache_dir.iterdir())


def test_pair_stream_closes_each_han_run_with_its_last_character():
    tokens = [t for t, _ in analysis.pair_tokens("预算执行 api v2，税")]
    assert tokens == ["预算", "算执", "执行", "行", "api", "v2", "税"]
    assert analysis.pair_positions("预算预算")["预算"] == [0, 2]


def test_word_positions_stack_sub_words_on_their_word():
    positions = analysis.word_positions("知识管理制度")
    assert positions["知识"] == positions["知识管理"] or "知识" in positions


def test_query_analysis_is_cached_per_lexicon():
    first = tokenize_query("知识管理 制度")
    lexicon = analysis.get_lexicon()
    assert "知识管理 制度" in lexicon.query_cache
    assert tokenize_query("知识管理 制度") == first
    first.append("changed")  # callers get their own list
    assert tokenize_query("知识管理 制度") != first


def test_digits_do_not_swallow_the_han_text_after_them():
    tokens = [t for t, _ in analysis.pair_tokens("1950年中央人民政府")]
    assert tokens[:3] == ["1950", "年中", "中央"] and "民政" in tokens
    assert [g for g, _ in han_bigrams("2019年度")] == ["2019", "年度"]


def test_the_loaded_dictionary_is_left_out_of_full_garbage_collections():
    import gc

    from search.analysis import get_lexicon, reset_lexicon

    reset_lexicon()
    get_lexicon()
    # jieba's dictionary (a quarter of a million objects) is in the permanent generation,
    # which full collections do not walk
    assert gc.get_freeze_count() > 100_000
