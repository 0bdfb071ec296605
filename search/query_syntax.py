"""The search box's syntax (检索式), turned into modelsearch query objects.

    预算 审计        both words (space = AND)
    预算 | 决算      either word (| = OR; binds tighter than the space)
    预算 -草案       exclude a word (- = NOT)
    "预算 执行"      an exact phrase (ASCII or Chinese quotes)

So ``预算 | 决算 审计 -草案`` reads (预算 OR 决算) AND 审计 AND NOT 草案.
The parser is lenient: an unclosed quote runs to the end of the box and a stray
``|`` is ignored; it refuses only what cannot be searched (nothing to look for,
or a query too long), with a Chinese message.
"""

from dataclasses import dataclass, field

from modelsearch.query import And, Not, Or, Phrase, PlainText, SearchQuery

MAX_QUERY_CHARS = 200
MAX_TERMS = 20

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


def _lex(text: str) -> tuple[list[tuple[str, str, bool]], list[str]]:
    """Split into tokens: ("or", "|", False) or ("term", text, phrase) with a
    leading "-" kept as ("not", "-", False)."""
    tokens: list[tuple[str, str, bool]] = []
    notices: list[str] = []
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
        word = text[i:j]
        if word.strip("-－"):
            tokens.append(("term", word, False))
        i = j
    return tokens, notices


def parse_query(text: str) -> ParsedQuery:
    """Parse the search box; raises QuerySyntaxError for a query that cannot be run."""
    text = (text or "").strip()
    if len(text) > MAX_QUERY_CHARS:
        raise QuerySyntaxError(f"检索式过长（不超过 {MAX_QUERY_CHARS} 个字符），请精简后再试。")
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
        raise QuerySyntaxError(f"检索词过多（不超过 {MAX_TERMS} 个），请精简后再试。")
    if groups and all(g[0].negated for g in groups):
        raise QuerySyntaxError(
            "检索式不能只包含排除词（以“-”开头的词），请至少输入一个要查找的词。"
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
