"""Highlight spans point at the original text, whatever NFKC does to it."""

from search.highlight import _normalised_with_map, find_spans


def test_full_width_punctuation_keeps_positions():
    text = "第一条（目的）为加强ＰＰＰ项目的预算管理，制定本办法。"
    norm, origin = _normalised_with_map(text)
    assert norm == "第一条(目的)为加强ppp项目的预算管理,制定本办法。"
    assert list(origin) == list(range(len(text)))
    (span,) = find_spans(text, ["ppp项目"])
    assert text[span[0] : span[1]] == "ＰＰＰ项目"


def test_a_character_that_expands_maps_back_to_itself():
    text = "ﬁnance（预算）㎏"  # ﬁ → fi, ㎏ → kg
    norm, origin = _normalised_with_map(text)
    assert norm == "finance(预算)kg"
    assert len(origin) == len(norm) and origin[0] == origin[1] == 0
    spans = find_spans(text, ["预算", "kg"])
    assert [text[s:e] for s, e in spans] == ["预算", "㎏"]
