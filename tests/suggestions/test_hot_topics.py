"""Hot topics: planted topics are found with their trend, generic words are not, a keyword
lists only the suggestions the reader may see, and only readers of statistics get the page."""

import datetime

import pytest
from django.urls import reverse

from suggestions import hot_topics
from suggestions.insights_views import hot_topic_periods, previous_session
from suggestions.models import Session, Suggestion

pytestmark = pytest.mark.django_db

PREVIOUS = datetime.date(2025, 3, 10)
CURRENT = datetime.date(2026, 3, 10)

GARBAGE = ("关于推进城区垃圾分类的建议", "城区生活垃圾分类收运设施不足，建议增设分类投放点。")
WATER = ("关于保障山区农村饮水安全的建议", "山区村组季节性缺水，农村饮水工程需要维修。")
TEA = ("关于扶持茶叶产业的建议", "茶叶加工厂规模小，茶农增收难。")
PARKING = ("关于在老城区建设公共停车场的建议", "老城区停车位紧张，停车场建设滞后。")
FILLERS = [
    ("关于改善乡村道路照明的建议", "夜间道路照明缺失。"),
    ("关于加强校园食品安全监管的建议", "学校食堂食品安全责任需要压实。"),
    ("关于增设社区养老服务站的建议", "高龄老人助餐需求大。"),
]


@pytest.fixture
def corpus(make_suggestion, deputies):
    """Previous year: 垃圾分类 6, 饮水 3, 茶叶 3, three one-offs (15).
    Current year: 停车场 4 (new), 饮水 6 (up), 垃圾分类 3 (down), 茶叶 3 (flat), one one-off (17)."""
    made = {"water_a": [], "water_b": []}

    def add(text, on, count, lead=None, **extra):
        return [
            make_suggestion(title=text[0], content=text[1], on=on, lead=lead, **extra)
            for _ in range(count)
        ]

    add(GARBAGE, PREVIOUS, 6)
    add(WATER, PREVIOUS, 3)
    add(TEA, PREVIOUS, 3)
    for text in FILLERS:
        add(text, PREVIOUS, 1)
    add(PARKING, CURRENT, 4)
    made["water_a"] = add(WATER, CURRENT, 3, lead=deputies["a"])
    made["water_b"] = add(WATER, CURRENT, 2, lead=deputies["b"])
    made["water_public"] = add(WATER, CURRENT, 1, lead=deputies["b"], is_public=True)
    add(GARBAGE, CURRENT, 3)
    add(TEA, CURRENT, 3)
    add(FILLERS[0], CURRENT, 1)
    return made


def test_keywords_drop_generic_words():
    words = hot_topics.keywords("关于进一步加强农村饮水安全保障工作的建议，希望有关部门解决。")
    assert {"农村", "饮水"} <= words
    assert not words & {"关于", "进一步", "加强", "建议", "希望", "有关部门", "解决", "的"}


def test_planted_topics_and_their_trend(corpus):
    _label, current, _previous_label, previous = hot_topic_periods(year=2026)
    assert current.count() == 17 and previous.count() == 15
    topics = {t.word: t for t in hot_topics.hot_topics(current, previous, Suggestion.objects.all())}
    assert topics["停车场"].trend == "new" and topics["停车场"].count == 4
    assert topics["饮水"].trend == "up" and topics["饮水"].count == 6
    assert topics["饮水"].previous_count == 3
    assert topics["垃圾"].trend == "down" and topics["垃圾"].previous_count == 6
    assert topics["茶叶"].trend == "flat"
    # a word in one suggestion only is not a topic (照明), nor is the vocabulary of every
    # suggestion (建议, 关于)
    assert not {"照明", "建议", "关于", "加强"} & set(topics)
    ranked = [t.word for t in hot_topics.hot_topics(current, previous, Suggestion.objects.all())]
    # new and frequent beats a word of every period
    assert ranked.index("停车场") < ranked.index("茶叶")
    assert ranked.index("饮水") < ranked.index("茶叶")


def test_minimum_count_is_a_setting(corpus, settings):
    settings.SUGGESTIONS_HOT_TOPIC_MIN_COUNT = 5
    _l, current, _p, previous = hot_topic_periods(year=2026)
    words = {t.word for t in hot_topics.hot_topics(current, previous)}
    assert "饮水" in words and "停车场" not in words


def test_with_keyword_checks_words_not_substrings(corpus):
    everything = Suggestion.objects.all()
    assert hot_topics.with_keyword(everything, "饮水").count() == 9
    # 停车 is inside 停车场 / 停车位 but is not a word of those texts
    assert hot_topics.with_keyword(everything, "车场").count() == 0


def test_previous_session_crosses_terms(term, session):
    from suggestions import services

    older = Session.objects.create(term=term, number=4)
    assert previous_session(session) == older
    earlier_term = services.setup_term(17, current=False)
    last_of_17 = Session.objects.create(term=earlier_term, number=6)
    Session.objects.create(term=earlier_term, number=2)
    assert previous_session(older) == last_of_17


def _page(client, user, **params):
    client.force_login(user)
    return client.get(reverse("suggestion_insights:hot_topics"), params)


def test_page_lists_topics_with_trend_and_chart(client, staff, corpus):
    response = _page(client, staff, year=2026)
    assert response.status_code == 200
    html = response.content.decode()
    assert "停车场" in html and "新出现" in html and "上升" in html and "下降" in html
    assert "<svg" in html
    assert "?year=2026&amp;keyword=%E5%81%9C%E8%BD%A6%E5%9C%BA" in html  # 停车场


def test_keyword_lists_what_the_reader_may_see(client, staff, deputies, corpus):
    titles = _page(client, staff, year=2026, keyword="饮水").context["keyword_suggestions"]
    assert len(titles) == 6
    response = _page(client, deputies["user_a"], year=2026, keyword="饮水")
    assert response.status_code == 200
    shown = {s.pk for s in response.context["keyword_suggestions"]}
    own = {s.pk for s in corpus["water_a"]}
    public = {s.pk for s in corpus["water_public"]}
    assert shown == own | public
    html = response.content.decode()
    assert "只列出您有权查看的建议" in html
    # nothing tells the deputy how many others exist
    assert "keyword_hidden" not in response.context
    for secret in ("13912345678", "530000197001011234", "秘密单位", "红河路", "李文华"):
        assert secret not in html


def test_liaison_is_refused(client, finance_liaison, corpus):
    assert _page(client, finance_liaison).status_code == 403


def test_bad_year_is_refused_with_a_message(client, staff, corpus):
    response = _page(client, staff, year="20x6")
    assert response.status_code == 400
