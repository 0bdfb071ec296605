"""智能分办: up to three suggested lead units for a suggestion at 交办, each with why.

Learned from the office's own past assignments, nearest-neighbour style: the suggestion's key
terms (``related.key_terms``) are searched through the site search among earlier suggestions
that were assigned to a lead unit (and not sent back: an approved 退办 clears the unit); each
neighbour votes for its lead unit with its relevance score (the search engine score,
normalised to the best hit), so several close neighbours outweigh one. The reasons shown are
the neighbours (code, title) and the key terms they share with the suggestion. Staff decide:
nothing is assigned automatically.

Limits (also in the closing note): it only knows units that handled similar text before; a new
unit, a reorganised one, or a topic never raised gets no suggestion or a wrong one; it reads
words, not the division of duties (三定方案), so a suggestion naming many sectors gets the units
of its most frequent words; with few past assignments the votes are noisy.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings

from .related import key_terms


def neighbours_count() -> int:
    return int(getattr(settings, "SUGGESTIONS_ASSIGNMENT_NEIGHBOURS", 15))


@dataclass
class UnitSuggestion:
    unit: object
    score: float
    examples: list = field(default_factory=list)  # [(suggestion, shared terms)]
    keywords: list[str] = field(default_factory=list)


def _with_parts(terms: list[str]) -> list[str]:
    """The key terms and the two-character head and tail of the longer ones: 卫生院 and 卫生室,
    供水管网 and 管网改造 are different words to the segmenter but the same subject to the
    office, and past suggestions are short, so whole words alone rarely meet."""
    words = dict.fromkeys(terms)
    for term in terms:
        if len(term) >= 3:
            words.setdefault(term[:2])
            words.setdefault(term[-2:])
    return list(words)


def suggest_units(user, title: str, content: str, *, exclude_pk=None, limit: int = 3):
    """Up to *limit* lead units, best first, from past assignments *user* may see."""
    from search.query_syntax import QuerySyntaxError, parse_query

    from .similar import shared_terms, suggestion_hits

    terms = key_terms(title or "", content or "")
    if not terms:
        return []
    try:
        parsed = parse_query(" | ".join(_with_parts(terms)))
    except QuerySyntaxError:
        return []
    hits = suggestion_hits(user, parsed, neighbours_count() * 3)
    votes: dict[int, UnitSuggestion] = {}
    shared_words: dict[int, dict[str, int]] = defaultdict(dict)
    used = 0
    for s, score in hits:
        if s.pk == exclude_pk or not s.lead_unit_id or not s.assigned_on:
            continue
        unit = s.lead_unit
        if not unit.is_active:
            continue
        shared = shared_terms(terms, s)
        entry = votes.setdefault(unit.pk, UnitSuggestion(unit, 0.0))
        entry.score += score
        if len(entry.examples) < 3:
            entry.examples.append((s, shared))
        for word in shared:
            shared_words[unit.pk][word] = shared_words[unit.pk].get(word, 0) + 1
        used += 1
        if used >= neighbours_count():
            break
    ranked = sorted(votes.values(), key=lambda v: (-v.score, v.unit.code))[:limit]
    for entry in ranked:
        words = shared_words[entry.unit.pk]
        entry.keywords = sorted(words, key=lambda w: (-words[w], terms.index(w)))[:6]
        entry.score = round(entry.score, 2)
    return ranked


def suggest_for(user, suggestion, limit: int = 3):
    return suggest_units(
        user, suggestion.title, suggestion.content, exclude_pk=suggestion.pk, limit=limit
    )
