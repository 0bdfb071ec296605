"""Figures cited in documents: what a citation names, its value, and who cites it.

A budget citation names a year, a month (0 = the whole year), a budget, a classification
code, optionally a department, and a measure (a stored phase or a derived one such as 执行率).
Its key is the canonical text of those parts; a document keeps one FigureCitation per key.

Other apps add sources of figures (supervision/figures.py: 政府债务, 国有资产, 审计整改) with
register_source(); their specs carry ``source`` in their data and their keys start with it,
so a budget key (which starts with the year) never meets one of theirs. Every spec class
offers: from_data, check_shape, validate, key, as_dict, compute, format, url, period_label,
default_label, is_percent, and the class attributes ``source`` and ``source_label``.

Documents are published pages (record_citations, from budget/signals.py) or documents that
are not pages (record_document_citations: signed letters, generated audit reports). Who may
see that a document cites a figure is decided per kind of document (visible_citations).
"""

from dataclasses import asdict, dataclass
from decimal import Decimal
from urllib.parse import urlencode

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from .amounts import format_percent, format_wan
from .choices import PERCENT_MEASURES, BudgetKind, ClassificationKind, Measure
from .models import CitingDocument, Department, FigureCitation, Subject

FREEZE = "frozen"
LIVE = "live"
MODE_CHOICES = [(FREEZE, "发布时冻结"), (LIVE, "实时（随数据更新）")]


class FigureSpecError(ValueError):
    pass


BUDGET = "budget"


@dataclass(frozen=True)
class FigureSpec:
    source = BUDGET
    source_label = "预算"

    year: int
    month: int
    budget: str
    code: str
    measure: str
    kind: str = ClassificationKind.FUNCTION
    department: str = ""  # 单位编码

    @classmethod
    def from_data(cls, data) -> "FigureSpec":
        try:
            spec = cls(
                year=int(data.get("year")),
                month=int(data.get("month") or 0),
                budget=str(data.get("budget") or BudgetKind.GENERAL),
                code=str(data.get("code") or "").strip(),
                measure=str(data.get("measure") or Measure.CUMULATIVE),
                kind=str(data.get("kind") or ClassificationKind.FUNCTION),
                department=str(data.get("department") or "").strip(),
            )
        except (TypeError, ValueError):
            raise FigureSpecError("年度和月份必须是整数") from None
        spec.check_shape()
        return spec

    def check_shape(self) -> None:
        if not 1990 <= self.year <= 2100:
            raise FigureSpecError("年度不在有效范围内")
        if not 0 <= self.month <= 12:
            raise FigureSpecError("月份必须在 0（全年）到 12 之间")
        if self.budget not in BudgetKind.values:
            raise FigureSpecError("预算类型无效")
        if self.kind not in ClassificationKind.values:
            raise FigureSpecError("科目分类无效")
        if self.measure not in Measure.values:
            raise FigureSpecError("指标无效")
        if not self.code:
            raise FigureSpecError("请填写科目编码")

    def validate(self) -> None:
        """Check against the data: the code valid in that year, the department known."""
        self.check_shape()
        if not Subject.objects.filter(year=self.year, kind=self.kind, code=self.code).exists():
            raise FigureSpecError(f"科目编码 {self.code} 在 {self.year} 年的科目表中不存在")
        if self.department and not Department.objects.filter(code=self.department).exists():
            raise FigureSpecError(f"单位编码 {self.department} 不存在")
        if self.month == 0 and self.measure in (
            Measure.MONTH,
            Measure.CUMULATIVE,
            Measure.EXECUTION_RATE,
            Measure.TIME_PROGRESS,
            Measure.PROGRESS_GAP,
            Measure.PRIOR_CUMULATIVE,
            Measure.YOY,
        ):
            raise FigureSpecError("执行类指标需要选择月份（1-12）")

    @property
    def key(self) -> str:
        return "|".join(
            str(v)
            for v in (
                self.year,
                self.month,
                self.budget,
                self.kind,
                self.code,
                self.department,
                self.measure,
            )
        )

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def is_percent(self) -> bool:
        return self.measure in PERCENT_MEASURES

    @property
    def period_label(self) -> str:
        if self.month == 0 or self.measure in (Measure.INITIAL, Measure.FINAL):
            return f"{self.year}年"
        if self.measure == Measure.MONTH:
            return f"{self.year}年{self.month}月"
        return f"{self.year}年1-{self.month}月" if self.month > 1 else f"{self.year}年1月"

    @property
    def budget_label(self) -> str:
        return BudgetKind(self.budget).label

    @property
    def measure_label(self) -> str:
        return Measure(self.measure).label

    def subject_name(self) -> str:
        return (
            Subject.objects.filter(year=self.year, kind=self.kind, code=self.code)
            .values_list("name", flat=True)
            .first()
            or ""
        )

    def department_name(self) -> str:
        if not self.department:
            return ""
        return (
            Department.objects.filter(code=self.department).values_list("name", flat=True).first()
            or ""
        )

    def url(self) -> str:
        return reverse("budget:figure") + "?" + urlencode(self.as_dict())

    def default_label(self) -> str:
        parts = (self.department_name(), self.subject_name(), self.measure_label)
        return " ".join(part for part in parts if part)

    def format(self, value: Decimal | None) -> str:
        if value is None:
            return "暂无数据"
        if self.is_percent:
            return format_percent(value)
        return f"{format_wan(value)}万元"

    def compute(self) -> Decimal | None:
        """The value now: 元 for amounts, percent for rates."""
        from .measures import measures_for, time_progress

        if self.measure == Measure.TIME_PROGRESS:
            return time_progress(self.month)
        department_ids = None
        if self.department:
            department = Department.objects.filter(code=self.department).first()
            if department is None:
                return None
            department_ids = department.descendant_ids()
        row = measures_for(
            self.year,
            self.month or 12,
            self.budget,
            self.code,
            kind=self.kind,
            department_ids=department_ids,
        )
        if row is None:
            return None
        return {
            Measure.INITIAL: row.initial,
            Measure.ADJUSTED: row.adjusted,
            Measure.MONTH: row.month_amount,
            Measure.CUMULATIVE: row.cumulative,
            Measure.FINAL: row.final,
            Measure.EXECUTION_RATE: row.execution_rate,
            Measure.PROGRESS_GAP: row.progress_gap,
            Measure.PRIOR_CUMULATIVE: row.prior_cumulative,
            Measure.YOY: row.yoy,
        }[Measure(self.measure)]


def same_value(a: Decimal | None, b: Decimal | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return Decimal(a).quantize(Decimal("0.0001")) == Decimal(b).quantize(Decimal("0.0001"))


# --- sources -------------------------------------------------------------------------------

# source → spec class. Budget's own is here; supervision registers 债务, 国有资产 and 审计
# from its AppConfig.ready (budget does not import supervision).
SOURCES: dict[str, type] = {BUDGET: FigureSpec}


def register_source(spec_class) -> None:
    SOURCES[spec_class.source] = spec_class


def source_label(source: str) -> str:
    spec_class = SOURCES.get(source)
    return spec_class.source_label if spec_class else source


def spec_from_data(data, source: str | None = None):
    """The spec named by *data* (a block value, a query string, a stored citation's spec)."""
    source = source or str(data.get("source") or BUDGET)
    spec_class = SOURCES.get(source)
    if spec_class is None:
        raise FigureSpecError("数据来源无效")
    return spec_class.from_data(data)


# --- citations ---------------------------------------------------------------------------


def _walk(block, value):
    """Every (figure block, value) pair inside a stream, struct or list value."""
    from wagtail import blocks as wagtail_blocks

    from .blocks import CitedFigureBlock

    if isinstance(block, CitedFigureBlock):
        yield block, value
        return
    if isinstance(block, wagtail_blocks.StreamBlock):
        for child in value:
            yield from _walk(child.block, child.value)
    elif isinstance(block, wagtail_blocks.StructBlock):
        for name, child_block in block.child_blocks.items():
            yield from _walk(child_block, value.get(name))
    elif isinstance(block, wagtail_blocks.ListBlock):
        for child in value:
            yield from _walk(block.child_block, child)


def cited_specs(page) -> dict:
    """The figures a page cites: key → (spec, frozen)."""
    from wagtail.fields import StreamField

    specific = page.specific
    found = {}
    for model_field in specific._meta.get_fields():
        if not isinstance(model_field, StreamField):
            continue
        stream = getattr(specific, model_field.name)
        for block, value in _walk(model_field.stream_block, stream):
            try:
                spec = block.spec_of(value)
            except FigureSpecError:
                continue
            frozen = (value.get("mode") or FREEZE) == FREEZE
            # one frozen citation of a key freezes the key for the whole page
            previous = found.get(spec.key)
            found[spec.key] = (spec, frozen or (previous[1] if previous else False))
    return found


@dataclass(frozen=True)
class Document:
    """What cites: a page (by id), or a letter / audit report with its title and address."""

    kind: str
    key: str
    title: str = ""
    url: str = ""
    page_id: int | None = None


def page_document(page) -> Document:
    return Document(CitingDocument.PAGE, str(page.pk), page_id=page.pk)


@transaction.atomic
def record_document_citations(
    document: Document, specs: dict, values: dict | None = None
) -> list[FigureCitation]:
    """The document's citations become exactly *specs* (key → (spec, frozen)); frozen ones
    keep *values*[key] when given (the figure the document printed), else the value now."""
    mine = FigureCitation.objects.filter(document=document.kind, document_key=document.key)
    mine.exclude(figure_key__in=list(specs)).delete()
    now = timezone.now()
    saved = []
    for key, (spec, frozen) in specs.items():
        value = None
        if frozen:
            value = values[key] if values is not None and key in values else spec.compute()
        citation, _ = FigureCitation.objects.update_or_create(
            document=document.kind,
            document_key=document.key,
            figure_key=key,
            defaults={
                "page_id": document.page_id,
                "document_title": document.title[:300],
                "document_url": document.url[:500],
                "source": spec.source,
                "spec": spec.as_dict(),
                "frozen": frozen,
                "value": value,
                "published_at": now,
            },
        )
        saved.append(citation)
    return saved


def record_citations(page) -> list[FigureCitation]:
    """On publication: the page's citations become exactly what it cites now,
    and frozen ones keep the value of this moment."""
    return record_document_citations(page_document(page), cited_specs(page))


def forget_citations(page) -> None:
    FigureCitation.objects.filter(page=page).delete()


def forget_document_citations(kind: str, key: str) -> None:
    FigureCitation.objects.filter(document=kind, document_key=str(key)).delete()


def _published():
    return FigureCitation.objects.filter(Q(page__isnull=True) | Q(page__live=True)).select_related(
        "page"
    )


def citing_pages(spec):
    """Published documents that cite *spec* (whoever asks; see citing_documents)."""
    return _published().filter(figure_key=spec.key).order_by("-published_at")


# --- who may see that a document cites a figure --------------------------------------------

QUERY = "cms.query_data"

# A page is listed to those who may read it: per page type (app_label.model → dotted path of
# a function (user, page) → bool); other page types (预算分析) to those who query budget data.
PAGE_READERS = {
    "briefings.briefingpage": "briefings.services.can_read_briefing",
    "policies.policypage": "budget.figures.can_read_library",
}
# Documents that are not pages: kind → function (user, keys) → the keys the user may open.
# supervision registers letters (letters_for) and audit reports (those who may draft them).
DOCUMENT_READERS: dict = {}


def register_document_reader(kind: str, reader) -> None:
    DOCUMENT_READERS[kind] = reader


def can_read_library(user, page) -> bool:
    return user.has_perm("cms.read_library")


def _page_readable(user, page) -> bool:
    from django.utils.module_loading import import_string

    path = PAGE_READERS.get(page.specific_class._meta.label_lower if page.specific_class else "")
    if path is None:
        return user.has_perm(QUERY)
    return bool(import_string(path)(user, page))


def visible_citations(citations, user) -> list[FigureCitation]:
    """The citations among *citations* whose document *user* may open; nothing else."""
    if not getattr(user, "is_authenticated", False):
        return []
    citations = list(citations)
    shown = set()
    by_kind: dict[str, set] = {}
    for c in citations:
        if c.document == CitingDocument.PAGE:
            if c.page_id and _page_readable(user, c.page):
                shown.add(c.pk)
        else:
            by_kind.setdefault(c.document, set()).add(c.document_key)
    readable = {
        kind: set(DOCUMENT_READERS[kind](user, keys)) if kind in DOCUMENT_READERS else set()
        for kind, keys in by_kind.items()
    }
    for c in citations:
        if c.document != CitingDocument.PAGE and c.document_key in readable.get(c.document, ()):
            shown.add(c.pk)
    return [c for c in citations if c.pk in shown]


def citing_documents(spec, user) -> list[FigureCitation]:
    """被引用: the published documents citing *spec* that *user* may open."""
    return visible_citations(citing_pages(spec), user)


def source_citations(source: str, user, limit: int = 50) -> list:
    """Documents citing any figure of *source* that *user* may open, newest first, as
    (citation, spec, frozen value shown) triples: the 被引用 panels of the debt, asset and
    audit pages."""
    rows = visible_citations(
        _published().filter(source=source).order_by("-published_at")[: limit * 4], user
    )[:limit]
    pairs = []
    for citation in rows:
        try:
            spec = spec_from_data(citation.spec, source)
        except FigureSpecError:
            continue
        pairs.append((citation, spec, spec.format(citation.value) if citation.frozen else ""))
    return pairs


# --- showing a cited figure ----------------------------------------------------------------


@dataclass
class RenderedFigure:
    spec: object
    label: str
    value: Decimal | None
    display: str
    url: str
    frozen: bool = False
    frozen_at: object = None
    current_display: str = ""
    changed: bool = False
    pending: bool = False  # frozen mode, not yet published


def render_figure(spec, mode: str, page=None, label: str = "", document=None) -> RenderedFigure:
    current = spec.compute()
    result = RenderedFigure(
        spec=spec,
        label=label or spec.default_label(),
        value=current,
        display=spec.format(current),
        url=spec.url(),
    )
    if mode != FREEZE:
        return result
    result.frozen = True
    if document is None and page is not None and getattr(page, "pk", None):
        document = page_document(page)
    citation = None
    if document is not None:
        citation = FigureCitation.objects.filter(
            document=document.kind, document_key=document.key, figure_key=spec.key, frozen=True
        ).first()
    if citation is None:
        result.pending = True
        return result
    result.value = citation.value
    result.display = spec.format(citation.value)
    result.frozen_at = citation.published_at
    if not same_value(citation.value, current):
        result.changed = True
        result.current_display = spec.format(current)
    return result
