"""相关材料 of a suggestion: policies and budget lines, found two ways.

* **Explicit links** staff add (``SuggestionLink``: a policy page, or a budget subject code of
  a year) come first, marked 工作人员关联.
* **Similarity**: the suggestion's key terms (its words, title words first, then the most
  frequent words of its content; the generic words of suggestion writing left out) are
  searched as one OR query through the site search (``search.registry``), so the same
  permission rules apply as in the search page: a user sees only policies his or her role may
  read. Budget subjects of the suggestion's year (or the latest year with a classification)
  whose names contain a key term, and the lead unit, are offered as budget lines.

Budget lines link to the figure views under /budget/ and are shown only to users who may
query data (the budget views refuse everyone else).
"""

from __future__ import annotations

import functools
import operator
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q

from suggestions.opinions.budget_links import department_link, subject_links

from .hot_topics import stop_words, topic_words

BUDGET_PERMISSION = "cms.query_data"
DEFAULT_TERMS = 8
DEFAULT_POLICIES = 6
DEFAULT_SUBJECTS = 6
# subject names that name no subject matter (every department has them)
GENERIC_SUBJECT_NAMES = ("行政运行", "一般行政管理事务", "机关服务", "事业运行")
# words that occur in the names of whole families of subjects (一般公共服务支出, 商品和服务支出,
# 保障性安居工程支出): matching on them alone offers unrelated lines
GENERIC_SUBJECT_WORDS = frozenset({"服务", "管理", "支出", "事务", "工程", "保障", "其他", "建设"})


def _limit(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def key_terms(title: str, content: str, limit: int | None = None) -> list[str]:
    """The words that say what the suggestion is about (the hot-topic words: nouns and
    dictionary terms, generic words left out), title words first, then by frequency."""
    limit = limit or _limit("SUGGESTIONS_RELATED_TERMS", DEFAULT_TERMS)
    return list(_key_terms(title, content, limit, stop_words()))


@functools.lru_cache(maxsize=512)
def _key_terms(title: str, content: str, limit: int, stop: frozenset[str]) -> tuple[str, ...]:
    """key_terms, remembered per text and stop list: tagging a suggestion's text is most of
    what its detail page costs, and the page is read far more often than it is edited."""
    counts = Counter(topic_words(content, stop))
    for word in dict.fromkeys(topic_words(title, stop)):
        counts[word] += 3
    ranked = sorted(counts, key=lambda w: (-counts[w], -len(w), w))
    return tuple(ranked[:limit])


@dataclass
class RelatedItem:
    title: str
    url: str
    source: str  # "link" (staff) or "similar"
    note: str = ""

    @property
    def source_label(self) -> str:
        return "工作人员关联" if self.source == "link" else "内容相近"


@dataclass
class RelatedMaterial:
    terms: list[str] = field(default_factory=list)
    policies: list[RelatedItem] = field(default_factory=list)
    budget_lines: list[RelatedItem] = field(default_factory=list)
    shows_budget: bool = False

    @property
    def is_empty(self) -> bool:
        return not self.policies and not self.budget_lines


def _policy_types() -> list[str]:
    from search.registry import searchables

    return [entry.key for entry in searchables() if entry.key.startswith("policies.")]


def _visible_page(user, page) -> bool:
    from search.registry import searchable_for

    specific = page.specific
    entry = searchable_for(specific)
    if entry is None:
        return False
    return entry.visible_to(user).filter(pk=page.pk).exists()


#: hits per type looked at for the similar policies (articles of one policy count once):
#: the first try, and the most
SIMILAR_FIRST_HITS_PER_TYPE = 40
SIMILAR_HITS_PER_TYPE = 300
#: how long the similar policies of a suggestion are kept (the key changes with the index)
SIMILAR_CACHE_SECONDS = 600


def _index_generation():
    """The state of the search index for policies and their articles (None for a backend
    that cannot say): a commit that changes one of them gives a new value, so what was kept
    for the old one is not used; a commit that touched only other types (an answer uploaded
    to a suggestion) keeps it (search.result_cache)."""
    from modelsearch.backends import get_search_backend

    from policies.models import PolicyArticle, PolicyPage

    state = getattr(get_search_backend(), "result_generation", None)
    return None if state is None else state((PolicyPage, PolicyArticle))


def similar_policies(user, terms: list[str], limit: int, exclude_urls=()) -> list[RelatedItem]:
    """The policies closest to ``terms`` that ``user`` may read. Worked out once per index
    commit for the same terms and reading right (a suggestion's page is opened again and
    again; the OR query of its words scores every statute that holds one of them)."""
    import hashlib

    from django.core.cache import cache

    from policies.models import READ_PERMISSION

    generation = _index_generation()
    if generation is None:
        return _similar_policies(user, terms, limit, exclude_urls)
    key = (
        "suggestions:similar:"
        + hashlib.sha256(
            repr(
                (generation, terms, limit, sorted(exclude_urls), user.has_perm(READ_PERMISSION))
            ).encode()
        ).hexdigest()
    )
    items = cache.get(key)
    if items is None:
        items = _similar_policies(user, terms, limit, exclude_urls)
        cache.set(key, items, SIMILAR_CACHE_SECONDS)
    return items


def _similar_policies(user, terms: list[str], limit: int, exclude_urls=()) -> list[RelatedItem]:
    from search.query_syntax import QuerySyntaxError, parse_query
    from search.registry import collect_hits

    types = _policy_types()
    if not terms or not types:  # an empty type list would mean every type to collect_hits
        return []
    try:
        parsed = parse_query(" | ".join(terms))
    except QuerySyntaxError:
        return []
    # Most suggestions find their few policies among the first hits of each type: ask for
    # those first (loading 300 hits of each type is most of the cost), and for all 300 only
    # when the walk reached the end of a type's shorter list, where the answer could differ.
    for per_type in (SIMILAR_FIRST_HITS_PER_TYPE, SIMILAR_HITS_PER_TYPE):
        hits = collect_hits(user, parsed, types=types, limit=per_type)
        items, exact = _pick_policies(hits, per_type, limit, exclude_urls)
        if exact:
            break
    return items


def _pick_policies(hits, per_type: int, limit: int, exclude_urls) -> tuple[list, bool]:
    """The first ``limit`` policies of ``hits`` (best first), and whether they are the
    ones that more hits per type would give: no type whose list was cut at ``per_type``
    was used up before the walk ended."""
    hits = sorted(hits, key=lambda h: (-h.score, h.rank))
    left = Counter(hit.searchable.key for hit in hits)
    cut = {key for key, count in left.items() if count >= per_type}
    items, seen = [], set(exclude_urls)
    for hit in hits:
        key = hit.searchable.key
        left[key] -= 1
        # an article (条) of a policy stands for its policy: list the document once
        obj = hit.obj
        page = getattr(obj, "page", None)
        title, url = (page.title, page.url) if page is not None else (hit.title, hit.url)
        if url and url not in seen:
            seen.add(url)
            items.append(RelatedItem(title, url, "similar", hit.type_label))
            if len(items) >= limit:
                break
        if key in cut and left[key] == 0:
            return items, False
    else:
        return items, not cut
    return items, True


def _subject_year(suggestion) -> int | None:
    from budget.models import Subject

    year = suggestion.submitted_on.year if suggestion.submitted_on else None
    if year and Subject.objects.filter(year=year).exists():
        return year
    return Subject.objects.order_by("-year").values_list("year", flat=True).first()


def similar_subjects(terms: list[str], year: int | None, limit: int) -> list:
    """Subjects of ``year`` whose names contain a key term, most terms matched first,
    then the more general level (类 before 款 before 项)."""
    from budget.models import Subject

    if not terms or not year:
        return []
    wanted = list(dict.fromkeys(t for t in terms if t not in GENERIC_SUBJECT_WORDS))
    if not wanted:
        return []
    scored: Counter = Counter()
    subjects = {}
    # one query for all the terms; each subject scores one per term its name contains
    matching = functools.reduce(operator.or_, (Q(name__contains=term) for term in wanted))
    for subject in Subject.objects.filter(matching, year=year):
        if subject.name in GENERIC_SUBJECT_NAMES:
            continue
        found = sum(1 for term in wanted if term in subject.name)
        if found:
            subjects[subject.pk] = subject
            scored[subject.pk] += found
    ranked = sorted(
        subjects.values(), key=lambda s: (-scored[s.pk], s.level, s.kind != "function", s.code)
    )
    return ranked[:limit]


def related_material(user, suggestion) -> RelatedMaterial:
    """What the detail page of ``suggestion`` shows under 相关材料, for ``user``."""
    from budget.models import Subject

    material = RelatedMaterial(
        terms=key_terms(suggestion.title, suggestion.content),
        shows_budget=bool(user and user.has_perm(BUDGET_PERMISSION)),
    )
    links = list(suggestion.links.select_related("page"))
    for link in links:
        if link.page_id and _visible_page(user, link.page):
            page = link.page.specific
            material.policies.append(RelatedItem(page.title, page.url or "", "link", link.note))
    material.policies += similar_policies(
        user,
        material.terms,
        _limit("SUGGESTIONS_RELATED_POLICIES", DEFAULT_POLICIES),
        exclude_urls={item.url for item in material.policies},
    )
    if not material.shows_budget:
        return material
    linked_pks = set()
    for link in links:
        if not link.subject_code:
            continue
        subject = Subject.objects.filter(year=link.subject_year, code=link.subject_code).first()
        if subject is None:
            material.budget_lines.append(
                RelatedItem(
                    f"{link.subject_year}年 科目{link.subject_code}",
                    "",
                    "link",
                    "该年度科目表中没有此编码",
                )
            )
            continue
        linked_pks.add(subject.pk)
        for budget_link in subject_links(subject)[:1]:
            material.budget_lines.append(
                RelatedItem(
                    budget_link.label, budget_link.url, "link", link.note or budget_link.note
                )
            )
    year = _subject_year(suggestion)
    if suggestion.lead_unit_id:
        unit = department_link(suggestion.lead_unit, year)
        material.budget_lines.append(
            RelatedItem(unit.label, unit.url, "similar", "主办单位 · " + unit.note)
        )
    for subject in similar_subjects(
        material.terms, year, _limit("SUGGESTIONS_RELATED_SUBJECTS", DEFAULT_SUBJECTS)
    ):
        if subject.pk in linked_pks:
            continue
        budget_link = subject_links(subject)[0]
        material.budget_lines.append(
            RelatedItem(budget_link.label, budget_link.url, "similar", budget_link.note)
        )
    return material
