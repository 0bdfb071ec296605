"""The search box's syntax (检索式), turned into modelsearch query objects.

    预算 审计        both words (space = AND; also AND / 和 between words)
    预算 | 决算      either word (| = OR, also OR / 或; binds tighter than the space)
    预算 -草案       exclude a word (- = NOT, also NOT before a word)
    "预算 执行"      an exact phrase (ASCII or Chinese quotes)

So ``预算 | 决算 审计 -草案`` reads (预算 OR 决算) AND 审计 AND NOT 草案. AND, OR and NOT
are operators in any letter case; 和 and 或 standing alone between words are too.
The parser is lenient: an unclosed quote runs to the end of the box, a stray ``|`` is
ignored, brackets and other symbols that cannot be searched are dropped (with a notice),
and the wording of a question (怎么, 如何, 什么, 哪些, 是否, 吗, 呢 …) is left out, so
“政府债务怎么管理” searches 政府债务 管理. It refuses, with a Chinese message saying what
to narrow, only what cannot be searched or would cost too much: nothing to look for, a
query too long, too many words, too many single characters.
"""

import re
from dataclasses import dataclass, field

from modelsearch.query import And, Not, Or, Phrase, PlainText, SearchQuery

MAX_QUERY_CHARS = 200
#: Terms of the box (words between spaces, phrases).
MAX_TERMS = 20
#: Words after segmentation, over every term (each word is a look-up in every field of
#: every searchable type).
MAX_WORDS = 16
#: One-character words: each is the union of every character pair starting with it, the
#: most expensive kind of word; 20 of them took 10–13 s (issue 15).
MAX_SINGLE_CHARS = 4

_AND_WORDS = {"and", "&", "&&", "和", "并且", "且"}
_OR_WORDS = {"or", "或", "或者"}
_NOT_WORDS = {"not"}

#: Question wording, longest first; removed from words (not from quoted phrases).
#: “有哪些规定”, “报哪里” and the like ask about the rest of the question, so the
#: question's own verb goes with the question word.
QUESTION_WORDS = (
    "有哪些规定", "有哪些要求", "有什么规定", "有什么要求", "是怎么规定的", "报哪个部门",
    "为什么", "怎么样", "怎么办", "是什么", "什么是", "有哪些", "有什么", "是不是", "能不能",
    "可不可以", "应该如何", "应当如何", "如何规定", "怎么规定", "报哪里", "向哪里",
    "如何", "怎么", "怎样", "什么", "哪些", "哪个", "哪里", "是否", "能否", "可否", "请问",
)  # fmt: skip
#: Modal verbs of a question (“预算调整需要报哪里批准”): in a question they join what is
#: asked about, so the words are searched without them; outside a question they stay.
QUESTION_MODALS = ("需要", "应该", "应当", "必须", "可以", "能够")
_MODAL_RE = re.compile("|".join(map(re.escape, QUESTION_MODALS)))
#: Question particles, removed only at the end of a word (吗啡, 呢绒 keep theirs).
QUESTION_ENDINGS = ("吗", "呢", "吧", "啊", "?", "？")
_QUESTION_RE = re.compile("|".join(map(re.escape, QUESTION_WORDS)))
#: Characters that mean nothing to the search (brackets, wildcards, other query languages'
#: operators) when a term consists of nothing else.
_SYMBOLS_ONLY_RE = re.compile(r"^[\W_]+$")
_EDGE_BRACKETS = "()（）[]【】{}<>《》"

_QUOTES = {'"': '"', "“": "”", "”": "”", "「": "」", "＂": "＂"}
_OR_MARKS = {"|", "｜"}
_NOT_MARKS = {"-", "－"}
_SPACES = {" ", "\t", "\n", "\r", "\u3000"}


class QuerySyntaxError(ValueError):
    """A query the search cannot run; str(error) is the Chinese message for the user."""


@dataclass(frozen=True)
class Term:
    text: str
    phrase: bool = False
    negated: bool = False

    def as_query(self) -> SearchQuery:
        node = Phrase(self.text) if self.phrase else PlainText(self.text)
        return Not(node) if self.negated else node

    def as_syntax(self) -> str:
        body = f'"{self.text}"' if self.phrase else self.text
        return f"-{body}" if self.negated else body


@dataclass
class ParsedQuery:
    """The user's text, the query object for the backend and the words to highlight."""

    text: str
    query: SearchQuery | None
    groups: list[list[Term]] = field(default_factory=list)  # AND of ORs
    notices: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return self.query is None

    @property
    def positive_terms(self) -> list[str]:
        """Words and phrases to look for (and to mark in snippets), without exclusions."""
        seen, out = set(), []
        for group in self.groups:
            for term in group:
                if not term.negated and term.text not in seen:
                    seen.add(term.text)
                    out.append(term.text)
        return out

    @property
    def negative_terms(self) -> list[str]:
        return [t.text for g in self.groups for t in g if t.negated]


_FILLERS = {"的", "是", "了", "有", "要", "该", "我", "我们", "请", "一下"}


def _strip_question(word: str) -> tuple[list[str], list[str]]:
    """The words of ``word`` without question wording, and the wording removed."""
    removed = [m.group(0) for m in _QUESTION_RE.finditer(word)]
    ended = []
    for piece in _QUESTION_RE.sub(" ", word).split():
        while piece and piece.endswith(QUESTION_ENDINGS):
            removed.append(piece[-1])
            piece = piece[:-1]
        ended.append(piece)
    if not removed:
        return [word], []
    pieces = []
    for piece in ended:
        removed.extend(m.group(0) for m in _MODAL_RE.finditer(piece))
        pieces.extend(p for p in _MODAL_RE.sub(" ", piece).split() if p not in _FILLERS)
    return pieces, removed  # no pieces: the word was nothing but question wording


def _lex(text: str) -> tuple[list[tuple[str, str, bool]], list[str]]:
    """Split into tokens: ("or", "|", False) or ("term", text, phrase) with a
    leading "-" kept as ("not", "-", False)."""
    tokens: list[tuple[str, str, bool]] = []
    notices: list[str] = []
    operators: list[str] = []
    dropped: list[str] = []
    questions: list[str] = []
    only_questions: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _SPACES:
            i += 1
            continue
        if ch in _OR_MARKS:
            tokens.append(("or", ch, False))
            i += 1
            continue
        if ch in _NOT_MARKS and i + 1 < n and text[i + 1] not in _SPACES:
            tokens.append(("not", ch, False))
            i += 1
            continue
        if ch in _QUOTES:
            closing = _QUOTES[ch]
            end = text.find(closing, i + 1)
            if end == -1:
                notices.append("引号未配对，已将引号后的全部内容作为短语检索。")
                end = n
            phrase = " ".join(text[i + 1 : end].split())
            if phrase:
                tokens.append(("term", phrase, True))
            i = end + 1
            continue
        j = i
        while (
            j < n and text[j] not in _SPACES and text[j] not in _OR_MARKS and text[j] not in _QUOTES
        ):
            j += 1
        raw = text[i:j]
        i = j
        word = raw.strip(_EDGE_BRACKETS)
        lowered = word.lower()
        if lowered in _AND_WORDS and tokens:
            operators.append(word)  # the space already means AND
            continue
        if lowered in _OR_WORDS and tokens:
            operators.append(word)
            tokens.append(("or", word, False))
            continue
        if lowered in _NOT_WORDS:
            operators.append(word)
            tokens.append(("not", word, False))
            continue
        if not word.strip("-－") or _SYMBOLS_ONLY_RE.match(word):
            if raw.strip():
                dropped.append(raw)
            continue
        if word != raw:
            dropped.extend(ch for ch in raw if ch in "()（）[]{}<>")  # 《》【】 are usual
        if tokens and tokens[-1][0] == "not":
            tokens.append(("term", word, False))  # an exclusion is kept as typed
            continue
        pieces, removed = _strip_question(word)
        if not pieces:
            only_questions.append(word)
        questions.extend(removed)
        tokens.extend(("term", piece, False) for piece in pieces)
    if only_questions and not any(kind == "term" for kind, _v, _p in tokens):
        # nothing but a question word (“什么”): search it as typed
        tokens.extend(("term", word, False) for word in only_questions)
        questions = []
    if operators:
        marks = "、".join(dict.fromkeys(operators))
        notices.append(
            f"已将“{marks}”作为逻辑运算符：空格或 AND/和 表示“并且”，| 或 OR/或 表示“或者”，"
            "- 或 NOT 表示“排除”。"
        )
    if dropped:
        shown = " ".join(dict.fromkeys(dropped))
        notices.append(f"已忽略无法检索的符号：{shown}（检索式不支持括号和通配符）。")
    if questions:
        words = " ".join(t[1] for t in tokens if t[0] == "term")
        shown = "、".join(f"“{q}”" for q in dict.fromkeys(questions))
        notices.append(f"已略去提问用语{shown}，按关键词检索：{words}")
    return tokens, notices


def _word_counts(groups: list[list[Term]]) -> tuple[int, list[str]]:
    """Words after segmentation over every term, and the one-character Han words."""
    from search.analysis import is_han, tokenize_query

    count, singles = 0, []
    for group in groups:
        for term in group:
            if term.phrase:
                count += 1
                continue
            words = tokenize_query(term.text)
            count += len(words)
            singles.extend(w for w in words if len(w) == 1 and is_han(w))
    return count, singles


def parse_query(text: str) -> ParsedQuery:
    """Parse the search box; raises QuerySyntaxError for a query that cannot be run."""
    text = (text or "").strip()
    if len(text) > MAX_QUERY_CHARS:
        raise QuerySyntaxError(
            f"检索式过长（{len(text)} 个字符，不超过 {MAX_QUERY_CHARS} 个），"
            "请只保留最关键的几个词后再试。"
        )
    tokens, notices = _lex(text)

    groups: list[list[Term]] = []
    negate_next = False
    join_next = False
    for kind, value, phrase in tokens:
        if kind == "not":
            negate_next = True
            continue
        if kind == "or":
            join_next = bool(groups)
            negate_next = False
            continue
        term = Term(value, phrase=phrase, negated=negate_next)
        if join_next and groups and not term.negated and not groups[-1][-1].negated:
            groups[-1].append(term)
        else:
            groups.append([term])
        negate_next = False
        join_next = False

    term_count = sum(len(g) for g in groups)
    if term_count > MAX_TERMS:
        raise QuerySyntaxError(
            f"检索词过多（{term_count} 个，不超过 {MAX_TERMS} 个），请只保留最关键的几个词后再试。"
        )
    if groups and all(g[0].negated for g in groups):
        raise QuerySyntaxError(
            "检索式不能只包含排除词（以“-”开头的词），请至少输入一个要查找的词。"
        )
    if groups:
        word_count, singles = _word_counts(groups)
        if len(singles) > MAX_SINGLE_CHARS:
            shown = " ".join(dict.fromkeys(singles[:8]))
            raise QuerySyntaxError(
                f"单字检索词过多（{len(singles)} 个：{shown}…，不超过 {MAX_SINGLE_CHARS} 个）。"
                "单字会匹配大量内容，请把单字连成词语（如“税收”“债务”），或用引号检索整句。"
            )
        if word_count > MAX_WORDS:
            raise QuerySyntaxError(
                f"检索式切分后的词语过多（{word_count} 个，不超过 {MAX_WORDS} 个），"
                "请删去次要的词，或把整句放进引号按短语检索。"
            )

    parsed = ParsedQuery(text=text, query=None, groups=groups, notices=notices)
    parsed.query = build_query(groups)
    return parsed


def build_query(groups: list[list[Term]]) -> SearchQuery | None:
    parts: list[SearchQuery] = []
    for group in groups:
        nodes = [term.as_query() for term in group]
        parts.append(nodes[0] if len(nodes) == 1 else Or(nodes))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else And(parts)


def groups_to_text(groups: list[list[Term]]) -> str:
    """Write groups back in the box's syntax (used to offer a shorter query)."""
    return " ".join(" | ".join(term.as_syntax() for term in group) for group in groups)
