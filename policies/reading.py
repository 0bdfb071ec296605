"""What the reading page shows: the table of contents, articles with their anchors, search
words highlighted, citations of documents in the library turned into links."""

import re
from dataclasses import dataclass, field

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from . import detection
from .choices import RelationKind, Validity
from .models import Excerpt, PolicyPage

CITATION_RE = re.compile(
    rf"《(?P<title>[^《》\n]{{2,80}})》(?P<article>第{detection.NUM_CLASS}+条(?:之[{detection.CN_NUM}]+)?)?"
)
MAX_TERMS = 8


def search_terms(query: str) -> list[str]:
    """The words of the query that brought the reader here (longest first, so the longer
    of two overlapping words wins)."""
    terms = [t for t in re.split(r"[\s,，;；]+", (query or "").strip()) if t][:MAX_TERMS]
    return sorted(set(terms), key=len, reverse=True)


def _highlight(escaped: str, terms: list[str]) -> str:
    if not terms:
        return escaped
    pattern = "|".join(re.escape(escape(term)) for term in terms)
    return re.sub(f"({pattern})", r'<mark class="hit">\1</mark>', escaped)


def _title_variants(title: str) -> list[str]:
    variants = {title}
    if title.startswith("中华人民共和国"):
        variants.add(title[len("中华人民共和国") :])
    else:
        variants.add("中华人民共和国" + title)
    return list(variants)


def citation_targets(texts: list[str]) -> dict[str, str]:
    """Cited title → URL of the live document with that title (or its 中华人民共和国 form)."""
    names = set()
    for text in texts:
        for match in CITATION_RE.finditer(text):
            names.update(_title_variants(match.group("title")))
    if not names:
        return {}
    found = {}
    for page in PolicyPage.objects.live().filter(title__in=names).order_by("-issued_on"):
        for variant in _title_variants(page.title):
            found.setdefault(variant, page.url)
    return found


def _citation_anchor(label: str) -> str:
    match = detection.ARTICLE_RE.match(label)
    if not match:
        return ""
    try:
        number = detection.cn_to_int(match.group("num"))
        sub = detection.cn_to_int(match.group("sub")) if match.group("sub") else 0
    except ValueError:
        return ""
    return detection.article_label(number, sub)


def render_text(text: str, terms: list[str], targets: dict[str, str]) -> SafeString:
    out, position = [], 0
    for match in CITATION_RE.finditer(text):
        out.append(_highlight(escape(text[position : match.start()]), terms))
        url = targets.get(match.group("title"))
        inner = _highlight(escape(match.group(0)), terms)
        if url:
            anchor = _citation_anchor(match.group("article") or "")
            href = f"{url}#{anchor}" if anchor else url
            out.append(f'<a class="citation" href="{escape(href)}">{inner}</a>')
        else:
            out.append(inner)
        position = match.end()
    out.append(_highlight(escape(text[position:]), terms))
    return mark_safe("".join(out))


@dataclass
class ArticleView:
    label: str
    anchor: str
    paragraphs: list[SafeString]
    text: str
    hit: bool = False


@dataclass
class DivisionView:
    heading: str
    anchor: str
    level: int


@dataclass
class Reading:
    preamble: list[SafeString] = field(default_factory=list)
    items: list = field(default_factory=list)
    tail: list[SafeString] = field(default_factory=list)
    toc: list = field(default_factory=list)
    hits: int = 0


def build_reading(page: PolicyPage, query: str = "") -> Reading:
    structure = page.structure()
    terms = search_terms(query)
    all_text = [*structure.preamble, *structure.tail] + [a.text for a in structure.articles]
    targets = citation_targets(all_text)
    reading = Reading(
        preamble=[render_text(line, terms, targets) for line in structure.preamble],
        tail=[render_text(line, terms, targets) for line in structure.tail],
    )
    division_count = 0
    for item in structure.items:
        if isinstance(item, detection.Division):
            division_count += 1
            view = DivisionView(item.heading, f"division-{division_count}", item.level)
            reading.items.append(view)
            reading.toc.append(view)
        else:
            hit = bool(terms) and any(term in item.text for term in terms)
            reading.hits += hit
            view = ArticleView(
                label=item.label,
                anchor=item.anchor,
                paragraphs=[render_text(p, terms, targets) for p in item.paragraphs],
                text=item.text,
                hit=hit,
            )
            reading.items.append(view)
            reading.toc.append(view)
    return reading


def status_context(page: PolicyPage) -> dict:
    """The status a policy page and its print view show, worked out once (two queries each
    time ``current_status`` is asked)."""
    status = page.current_status
    return {
        "current_status": status,
        "status_label": Validity(status).label,
        "is_repealed": status == Validity.REPEALED,
        "repealed_by": page.repealed_by,
    }


def reading_context(request, page: PolicyPage) -> dict:
    from .services import is_bookmarked

    query = request.GET.get("q", "")[:200]
    user = request.user
    return {
        "reading": build_reading(page, query),
        "query": query,
        "bookmarked": is_bookmarked(user, page),
        "my_excerpts": Excerpt.objects.filter(user=user, page=page)
        if user.is_authenticated
        else [],
        "versions": page.versions(),
        **status_context(page),
        "revised_by": list(page.incoming(RelationKind.REVISES)),
        "bases": list(page.outgoing(RelationKind.BASIS).live()),
        "based_on_this": list(page.incoming(RelationKind.BASIS)),
        "originals": [f for f in page.files.all() if f.file],
        "can_edit": user.has_perm("cms.publish_material"),
    }
