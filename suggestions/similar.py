"""Similar earlier suggestions (类似建议) while a deputy writes, and likely duplicates for the
office's review queue.

The draft's key terms (``related.key_terms``: its words, title words first, generic words of
suggestion writing left out) are searched as one OR query through the site search backend,
limited to suggestions the user may see (``services.visible_to``: a deputy his or her own,
co-signed and public ones; staff all but drafts). Each case comes with its term, lead unit and
latest answer class. A case is a *likely duplicate* when it shares at least half of the
draft's key terms and is of the same term (届).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

from .choices import Status
from .related import key_terms

DEFAULT_LIMIT = 5
SUGGESTION_TYPE = "suggestions.suggestion"


def candidate_limit() -> int:
    """How many best search hits are read (not the search page's up-to-2000 per type)."""
    return int(getattr(settings, "SUGGESTIONS_SIMILAR_CANDIDATES", 30))


def suggestion_hits(user, parsed, limit: int | None = None) -> list[tuple]:
    """(suggestion, normalised score) of the best *limit* hits *user* may see."""
    from search.registry import best_of_type

    return best_of_type(SUGGESTION_TYPE, user, parsed, limit or candidate_limit())


def shared_terms(terms: list[str], suggestion) -> list[str]:
    """The draft's key terms that an earlier suggestion's title or text contains. (Segmenting
    every candidate again to compare key-term lists cost ~10 ms a candidate, most of a
    lookup made while the deputy types; a plain containment test says the same.)"""
    text = f"{suggestion.title}\n{suggestion.content}"
    return [t for t in terms if t in text]


def duplicate_overlap() -> float:
    return float(getattr(settings, "SUGGESTIONS_DUPLICATE_OVERLAP", 0.5))


def latest_answer_classes(pks) -> dict:
    """{suggestion pk: the answer class of its latest reply}, in one query."""
    from .models import Reply

    answers = {}
    rows = (
        Reply.objects.filter(suggestion_id__in=pks)
        .select_related("answer_class")
        .order_by("suggestion_id", "-round")
    )
    for reply in rows:
        answers.setdefault(reply.suggestion_id, str(reply.answer_class))
    return answers


@dataclass
class SimilarCase:
    suggestion: object
    score: float
    shared: list[str] = field(default_factory=list)
    overlap: float = 0.0
    answer_class: str = ""
    unit: str = ""
    likely_duplicate: bool = False


def similar_cases(
    user, title: str, content: str, *, exclude_pk=None, term=None, limit: int = DEFAULT_LIMIT
) -> tuple[list[str], list[SimilarCase]]:
    """(the draft's key terms, the most similar suggestions *user* may see)."""
    from search.query_syntax import QuerySyntaxError, parse_query

    terms = key_terms(title or "", content or "")
    if not terms:
        return terms, []
    try:
        parsed = parse_query(" | ".join(terms))
    except QuerySyntaxError:
        return terms, []
    wanted = set(terms)
    kept = [
        (s, score)
        for s, score in suggestion_hits(user, parsed, max(candidate_limit(), limit * 3))
        if s.pk != exclude_pk and s.status not in (Status.DRAFT, Status.RETURNED)
    ][:limit]
    answers = latest_answer_classes([s.pk for s, _score in kept])
    cases = []
    for s, score in kept:
        shared = shared_terms(terms, s)
        overlap = len(shared) / len(wanted)
        cases.append(
            SimilarCase(
                suggestion=s,
                score=score,
                shared=shared,
                overlap=overlap,
                answer_class=answers.get(s.pk, ""),
                unit=s.lead_unit.name if s.lead_unit_id else "",
                likely_duplicate=bool(
                    term is not None and s.term_id == term.pk and overlap >= duplicate_overlap()
                ),
            )
        )
    return terms, cases


def likely_duplicates(user, suggestion, limit: int = 3) -> list[SimilarCase]:
    """Suggestions of the same term that say much the same as *suggestion* (review queue)."""
    _, cases = similar_cases(
        user,
        suggestion.title,
        suggestion.content,
        exclude_pk=suggestion.pk,
        term=suggestion.term,
        limit=limit * 3,
    )
    return [c for c in cases if c.likely_duplicate][:limit]
