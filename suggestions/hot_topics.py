"""热点议题: the words that stand out in the suggestions of a period, with their trend.

Words come from the site's own lexicon (search.analysis: jieba with the domain dictionary
in search/dict/ and the administrators' terms), so 绩效目标 or 预算调整方案 stay whole words
here as they do in search. jieba's part-of-speech tagger over that lexicon keeps nouns,
verbal nouns and dictionary words of two or more characters with a Han character, without
the search stop words and without the generic words of suggestion writing (建议, 项目,
资金 …).

Scoring is TF-IDF-like over documents: a word's document frequency in the period times its
inverse document frequency in a background (by default every suggestion), so a word that is
in every suggestion of every year ranks low however often it appears.

Trend compares the word's share of the period's suggestions with its share of the previous
period's: 新出现 (absent before), 上升 / 下降 (share changed by more than the threshold,
default 20 %), 持平 otherwise.

A word must appear in at least ``SUGGESTIONS_HOT_TOPIC_MIN_COUNT`` suggestions (default 3)
to be shown: the list is an aggregate visible to 代表/专家, and a word found in one or two
suggestions could point at a suggestion the reader may not see.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet

from search.analysis import get_lexicon, is_han, normalize

# The generic vocabulary of suggestion writing: frequent everywhere, telling nothing.
GENERIC_WORDS = frozenset(
    """
    建议 关于 加强 进一步 提高 问题 工作 解决 推进 完善 加快 我县 全县 相关 部门 有关 情况 目前
    存在 实施 开展 落实 提升 做好 积极 不断 增加 加大 方面 群众 政府 希望 要求 通过 需要 没有
    一些 部分 进行 以及 县里 我们 他们 这些 那些 其中 已经 可以 应当 应该 能够 由于 因此 所以
    但是 同时 根据 按照 对于 为了 如何 怎样 较大 较多 较少 严重 明显 当前 今年 去年 明年 近年
    近年来 多年 逐步 切实 认真 及时 有效 有力 力度 措施 办法 机制 保障 支持 重视 研究 考虑
    统筹 协调 推动 促进 提出 反映 出现 造成 导致 影响 作为 采取 给予 方式 方面 领域 地方 地区
    特别 尤其 主要 重要 重点 一定 一是 二是 三是 四是 五是 本县 县城 各地 各级 有关部门 相关部门
    县政府 县委 代表 办理 答复 意见 批评 议案 工作者 人员 改善 扶持 发展 水平 突出 不足
    严重不足 投入 实际 有效性 目标 任务 项目 资金 经费 内容 结果 主体
    年龄 情形 条件 时间 标准 人数 数量 比例 能力 环境 质量 单位 责任 制度 政策
    """.split()
)

DEFAULT_MIN_COUNT = 3
DEFAULT_LIMIT = 30
DEFAULT_TREND_THRESHOLD = 0.2
# analysed words are cached per suggestion and version of its text
CACHE_PREFIX = "suggestions:hot-words:v2"
CACHE_SECONDS = 7 * 24 * 3600

_NUMBERISH = re.compile(r"^[\d.%第]+")


def min_count() -> int:
    return int(getattr(settings, "SUGGESTIONS_HOT_TOPIC_MIN_COUNT", DEFAULT_MIN_COUNT))


def trend_threshold() -> float:
    return float(
        getattr(settings, "SUGGESTIONS_HOT_TOPIC_TREND_THRESHOLD", DEFAULT_TREND_THRESHOLD)
    )


def stop_words() -> frozenset[str]:
    extra = getattr(settings, "SUGGESTIONS_HOT_TOPIC_EXTRA_STOPWORDS", ())
    return GENERIC_WORDS | get_lexicon().stop_words | frozenset(extra)


# Part-of-speech tags kept: nouns of every kind (n, nr, ns, nt, nz, ng …), verbal nouns (vn,
# 管护, 培训) and words of the domain dictionary, which jieba tags x. Verbs, adjectives and
# adverbs (缺少, 现有, 难以) say how a suggestion argues, not what it is about.
KEPT_TAGS = ("n", "vn", "x")

_pos_tokenizer: tuple[int, object] | None = None


def _tagger():
    """jieba's part-of-speech tagger over the search lexicon (rebuilt with it)."""
    global _pos_tokenizer
    lexicon = get_lexicon()
    if _pos_tokenizer is None or _pos_tokenizer[0] != id(lexicon):
        import jieba.posseg

        _pos_tokenizer = (id(lexicon), jieba.posseg.POSTokenizer(lexicon.tokenizer))
    return _pos_tokenizer[1]


def topic_words(text: str, stop: frozenset[str] | None = None) -> list[str]:
    """The candidate topic words of one text, in order, with repetitions."""
    stop = stop_words() if stop is None else stop
    words = []
    for pair in _tagger().cut(normalize(text)):
        word, tag = pair.word.strip(), pair.flag
        if len(word) < 2 or word in stop or not tag.startswith(KEPT_TAGS):
            continue
        if not is_han(word) or _NUMBERISH.match(word):
            continue
        words.append(word)
    return words


def keywords(text: str, stop: frozenset[str] | None = None) -> set[str]:
    """The distinct candidate topic words of one text."""
    return set(topic_words(text, stop))


def _text_of(title: str, content: str) -> str:
    return f"{title}\n{content}"


def words_by_suggestion(queryset: QuerySet) -> dict[int, set[str]]:
    """suggestion id → its topic words (title + content), cached per text version."""
    rows = list(queryset.values_list("pk", "title", "content", "updated_at"))
    keys = {
        pk: f"{CACHE_PREFIX}:{pk}:{updated.timestamp() if updated else 0}"
        for pk, _t, _c, updated in rows
    }
    cached = cache.get_many(list(keys.values()))
    stop = stop_words()
    result: dict[int, set[str]] = {}
    missing = {}
    for pk, title, content, _updated in rows:
        hit = cached.get(keys[pk])
        if hit is not None:
            result[pk] = set(hit)
            continue
        words = keywords(_text_of(title, content), stop)
        result[pk] = words
        missing[keys[pk]] = sorted(words)
    if missing:
        cache.set_many(missing, CACHE_SECONDS)
    return result


def document_frequency(words: Iterable[set[str]]) -> Counter:
    counts: Counter = Counter()
    for found in words:
        counts.update(found)
    return counts


@dataclass
class Topic:
    word: str
    count: int  # suggestions of the period that contain the word
    share: float  # count ÷ suggestions of the period
    score: float
    previous_count: int
    previous_share: float | None
    trend: str  # "new" | "up" | "down" | "flat"

    @property
    def trend_label(self) -> str:
        return TREND_LABELS[self.trend]

    @property
    def share_percent(self) -> str:
        return f"{self.share * 100:.1f}%"

    @property
    def previous_share_percent(self) -> str:
        return "—" if self.previous_share is None else f"{self.previous_share * 100:.1f}%"


TREND_LABELS = {"new": "新出现", "up": "上升", "down": "下降", "flat": "持平"}


def classify_trend(share: float, previous_count: int, previous_share: float | None) -> str:
    if not previous_count or not previous_share:
        return "new"
    threshold = trend_threshold()
    if share >= previous_share * (1 + threshold):
        return "up"
    if share <= previous_share * (1 - threshold):
        return "down"
    return "flat"


def hot_topics(
    current: QuerySet,
    previous: QuerySet | None = None,
    background: QuerySet | None = None,
    *,
    limit: int | None = None,
    minimum: int | None = None,
) -> list[Topic]:
    """The period's topics, best first.

    ``current``: the period's suggestions; ``previous``: the period before (for the trend);
    ``background``: what "usual" means (default: current and previous together, at least).
    """
    limit = DEFAULT_LIMIT if limit is None else limit
    minimum = min_count() if minimum is None else minimum
    current_words = words_by_suggestion(current)
    n_current = len(current_words)
    if not n_current:
        return []
    previous_words = words_by_suggestion(previous) if previous is not None else {}
    n_previous = len(previous_words)
    if background is not None:
        background_words = words_by_suggestion(background)
    else:
        background_words = {}
    # the background always contains the two periods themselves
    background_words = {**background_words, **current_words, **previous_words}
    n_background = len(background_words)

    df_current = document_frequency(current_words.values())
    df_previous = document_frequency(previous_words.values())
    df_background = document_frequency(background_words.values())

    topics = []
    for word, count in df_current.items():
        if count < minimum:
            continue
        idf = math.log((n_background + 1) / (df_background[word] + 1)) + 1.0
        share = count / n_current
        previous_count = df_previous[word]
        previous_share = previous_count / n_previous if n_previous else None
        topics.append(
            Topic(
                word=word,
                count=count,
                share=share,
                score=round(count * idf, 4),
                previous_count=previous_count,
                previous_share=previous_share,
                trend=classify_trend(share, previous_count, previous_share),
            )
        )
    topics.sort(key=lambda t: (-t.score, -t.count, t.word))
    return topics[:limit]


def with_keyword(queryset: QuerySet, word: str) -> QuerySet:
    """The suggestions of ``queryset`` whose topic words include ``word``."""
    word = (word or "").strip()
    if not word:
        return queryset.none()
    candidates = queryset.filter(title__icontains=word) | queryset.filter(content__icontains=word)
    ids = [pk for pk, words in words_by_suggestion(candidates.distinct()).items() if word in words]
    return queryset.filter(pk__in=ids)
