"""Figures cited in documents: what a citation names, its value, and who cites it.

A citation names a year, a month (0 = the whole year), a budget, a classification code,
optionally a department, and a measure (a stored phase or a derived one such as 执行率).
Its key is the canonical text of those parts; pages keep one FigureCitation per key.
"""

from dataclasses import asdict, dataclass
from decimal import Decimal
from urllib.parse import urlencode

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from .amounts import format_percent, format_wan
from .choices import PERCENT_MEASURES, BudgetKind, ClassificationKind, Measure
from .models import Department, FigureCitation, Subject

FREEZE = "frozen"
LIVE = "live"
MODE_CHOICES = [(FREEZE, "发布时冻结"), (LIVE, "实时（随数据更新）")]


class FigureSpecError(ValueError):
    pass


@dataclass(frozen=True)
class FigureSpec:
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


# --- citations ---------------------------------------------------------------------------


def _walk(block, value):
    """Every (block, value) pair inside a stream, struct or list value."""
    from wagtail import blocks as wagtail_blocks

    from .blocks import FigureBlock

    if isinstance(block, FigureBlock):
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


def cited_specs(page) -> dict[str, tuple[FigureSpec, bool]]:
    """The figures a page cites: key → (spec, frozen)."""
    from wagtail.fields import StreamField

    specific = page.specific
    found = {}
    for model_field in specific._meta.get_fields():
        if not isinstance(model_field, StreamField):
            continue
        stream = getattr(specific, model_field.name)
        for _block, value in _walk(model_field.stream_block, stream):
            try:
                spec = FigureSpec.from_data(value)
            except FigureSpecError:
                continue
            frozen = (value.get("mode") or FREEZE) == FREEZE
            # one frozen citation of a key freezes the key for the whole page
            previous = found.get(spec.key)
            found[spec.key] = (spec, frozen or (previous[1] if previous else False))
    return found


@transaction.atomic
def record_citations(page) -> list[FigureCitation]:
    """On publication: the page's citations become exactly what it cites now,
    and frozen ones keep the value of this moment."""
    specs = cited_specs(page)
    FigureCitation.objects.filter(page=page).exclude(figure_key__in=list(specs)).delete()
    now = timezone.now()
    saved = []
    for key, (spec, frozen) in specs.items():
        citation, _ = FigureCitation.objects.update_or_create(
            page_id=page.pk,
            figure_key=key,
            defaults={
                "spec": spec.as_dict(),
                "frozen": frozen,
                "value": spec.compute() if frozen else None,
                "published_at": now,
            },
        )
        saved.append(citation)
    return saved


def forget_citations(page) -> None:
    FigureCitation.objects.filter(page=page).delete()


def citing_pages(spec: FigureSpec):
    """Published pages that cite *spec*."""
    return (
        FigureCitation.objects.filter(figure_key=spec.key, page__live=True)
        .select_related("page")
        .order_by("-published_at")
    )


@dataclass
class RenderedFigure:
    spec: FigureSpec
    label: str
    value: Decimal | None
    display: str
    url: str
    frozen: bool = False
    frozen_at: object = None
    current_display: str = ""
    changed: bool = False
    pending: bool = False  # frozen mode, not yet published


def render_figure(spec: FigureSpec, mode: str, page=None, label: str = "") -> RenderedFigure:
    current = spec.compute()
    label = label or " ".join(
        part for part in (spec.department_name(), spec.subject_name(), spec.measure_label) if part
    )
    result = RenderedFigure(
        spec=spec,
        label=label,
        value=current,
        display=spec.format(current),
        url=spec.url(),
    )
    if mode != FREEZE:
        return result
    result.frozen = True
    citation = None
    if page is not None and getattr(page, "pk", None):
        citation = FigureCitation.objects.filter(
            page_id=page.pk, figure_key=spec.key, frozen=True
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
