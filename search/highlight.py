"""Snippets with the matched words marked: ``highlight(text, query)``.

Everything outside the ``<mark>`` tags is HTML-escaped, so hostile markup inside a
document comes out as inert text. Matching happens on the normalised text (NFKC,
lowercase) but the snippet shows the original characters.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from search.analysis import expand_synonyms, is_han, normalize, parse_query

ELLIPSIS = "…"


def query_terms(query: str | Iterable[str]) -> list[str]:
    """The strings to mark for ``query``: its phrases, its words and their synonyms,
    longest first so that 三公经费 wins over 经费."""
    if isinstance(query, str):
        parsed = parse_query(query)
        terms = [*parsed.phrases]
        for term in parsed.terms:
            terms.extend(expand_synonyms(term))
    else:
        terms = [normalize(t) for t in query]
    cleaned = {t.strip() for t in terms if t and t.strip()}
    return sorted(cleaned, key=lambda t: (-len(t), t))


@functools.lru_cache(maxsize=1024)
def _normalised_with_map(text: str) -> tuple[str, list[int] | range]:
    """Normalise character by character, remembering which original index each
    normalised character came from (NFKC may expand one character into several).
    Remembered for the last texts seen: the same hits are shown again and again (paging,
    facets, the same words searched by several people); callers only read the result."""
    lowered = text.lower()
    if len(lowered) == len(text) and unicodedata.is_normalized("NFKC", lowered):
        # the common case (already NFKC, lowercasing keeps the length): 1:1 positions
        return lowered, range(len(text))
    # each distinct character normalised once (a statute's full-width punctuation is not NFKC,
    # so long texts took this path character by character)
    table = {}
    for ch in set(text):
        norm = unicodedata.normalize("NFKC", ch).lower() if ord(ch) > 127 else ch.lower()
        if norm != ch:
            table[ch] = norm
    if all(len(norm) == 1 for norm in table.values()):
        return text.translate(str.maketrans(table)), range(len(text))
    chars: list[str] = []
    origin: list[int] = []
    for index, ch in enumerate(text):
        norm = table.get(ch, ch)
        for piece in norm:
            chars.append(piece)
            origin.append(index)
    return "".join(chars), origin


def _term_pattern(term: str) -> re.Pattern:
    escaped = re.escape(term)
    if is_han(term):
        return re.compile(escaped)
    # ASCII words match whole words only: "tax" must not light up "syntax".
    return re.compile(rf"(?<![0-9a-z]){escaped}(?![0-9a-z])")


def find_spans(text: str, terms: Iterable[str]) -> list[tuple[int, int]]:
    """Non-overlapping (start, end) spans of ``terms`` in ``text`` (original indices)."""
    norm, origin = _normalised_with_map(text)
    taken = [False] * len(norm)
    spans = []
    for term in terms:
        for match in _term_pattern(term).finditer(norm):
            s, e = match.span()
            if s == e or any(taken[s:e]):
                continue
            for i in range(s, e):
                taken[i] = True
            spans.append((origin[s], origin[e - 1] + 1))
    spans.sort()
    return spans


def _best_window(spans, length: int, max_chars: int) -> tuple[int, int]:
    """The window of ``max_chars`` covering the most matches, with a little lead-in."""
    if length <= max_chars:
        return 0, length
    if not spans:
        return 0, max_chars
    best_start, best_count = spans[0][0], 0
    j = 0
    for i, (start, _end) in enumerate(spans):
        j = max(j, i)
        while j + 1 < len(spans) and spans[j + 1][1] <= start + max_chars:
            j += 1
        count = j - i + 1
        if count > best_count:
            best_start, best_count = start, count
    lead = min(max_chars // 5, best_start)
    start = max(0, best_start - lead)
    end = min(length, start + max_chars)
    start = max(0, end - max_chars)
    return start, end


def highlight(text: str, query, max_chars: int | None = 200) -> SafeString:
    """Escape ``text``, wrap the words matching ``query`` in ``<mark>``, and cut it down
    to the most relevant ``max_chars`` characters (``None`` keeps the whole text)."""
    text = text or ""
    terms = query_terms(query) if query else []
    spans = find_spans(text, terms) if terms else []
    start, end = (0, len(text)) if max_chars is None else _best_window(spans, len(text), max_chars)
    parts = []
    if start > 0:
        parts.append(ELLIPSIS)
    cursor = start
    for s, e in spans:
        if s < start or e > end:
            continue
        parts.append(escape(text[cursor:s]))
        parts.append(f"<mark>{escape(text[s:e])}</mark>")
        cursor = e
    parts.append(escape(text[cursor:end]))
    if end < len(text):
        parts.append(ELLIPSIS)
    return mark_safe("".join(parts))
