"""Statistics of 代表建议 for a term (届) or a year: pure functions over querysets.

The measures people watch (domain.md §4):

* 办复率 = answered ÷ assigned: of the suggestions handed to a unit (交办), how many have had
  their first written answer;
* 按期办结率 = answered on time ÷ answered: the first answer dated on or before the due date
  (the extended date where an extension was granted and explained to the deputy);
* 满意率 = (满意 + 基本满意) ÷ evaluated, and 满意 alone ÷ evaluated: each suggestion counts once,
  by the deputy's latest evaluation (after re-handling the second verdict replaces the first).

A motion turned into a suggestion (已转为建议) is counted once, as the suggestion it became.
Every figure is an aggregate over suggestions and units: nothing here names a deputy.
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import F, QuerySet
from django.utils import timezone

from .choices import ANSWERED_STATES, EvaluationResult, Status

# Who may open the statistics: staff who run the workflows, and everyone who may query data
# (代表/专家 see aggregate counts and rates, never a deputy's name or contact details).
STATISTICS_PERMISSIONS = ("cms.run_workflows", "cms.query_data")
# The list of overdue items (numbers, titles, units) is a working list of the office.
OVERDUE_LIST_PERMISSION = "cms.run_workflows"

NOT_YET_ASSIGNED = (Status.SUBMITTED, Status.REGISTERED, Status.CONVERTED)
SATISFIED_RESULTS = (EvaluationResult.SATISFIED, EvaluationResult.BASICALLY)


def can_view_statistics(user) -> bool:
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and any(user.has_perm(p) for p in STATISTICS_PERMISSIONS)
    )


def can_view_overdue_list(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(OVERDUE_LIST_PERMISSION))


def rate(numerator: int, denominator: int) -> Decimal | None:
    """A percentage with one decimal place; None when there is nothing to divide by."""
    if not denominator:
        return None
    value = Decimal(numerator) * 100 / Decimal(denominator)
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def format_rate(value: Decimal | None) -> str:
    return "—" if value is None else f"{value}%"


# --- scope ---------------------------------------------------------------------------


def in_scope(queryset: QuerySet, *, term=None, year: int | None = None) -> QuerySet:
    """Suggestions of one term and/or submitted in one year, without converted motions,
    items handled as letters and the deputies' drafts (not yet with the office)."""
    queryset = queryset.exclude(
        status__in=[Status.CONVERTED, Status.LETTER, Status.DRAFT, Status.RETURNED]
    )
    if term is not None:
        queryset = queryset.filter(term=term)
    if year:
        queryset = queryset.filter(submitted_on__year=year)
    return queryset


def assigned(queryset: QuerySet) -> QuerySet:
    return queryset.filter(assigned_on__isnull=False).exclude(status__in=NOT_YET_ASSIGNED)


def answered(queryset: QuerySet) -> QuerySet:
    return queryset.filter(status__in=ANSWERED_STATES)


def answered_on_time(queryset: QuerySet) -> QuerySet:
    """First answer on or before the (possibly extended) due date, as
    ``services.answered_on_time`` judges one suggestion."""
    return answered(queryset).filter(
        first_answered_on__isnull=False, due_on__isnull=False, first_answered_on__lte=F("due_on")
    )


def overdue(queryset: QuerySet, today: datetime.date | None = None) -> QuerySet:
    """Still owed an answer and past the date it is owed: the office's own rule
    (``services.overdue``), so the statistics and the reminders count the same items."""
    from .services import overdue as overdue_items

    return queryset.filter(pk__in=overdue_items(today or timezone.localdate()).values("pk"))


def latest_evaluations(queryset: QuerySet) -> dict[int, str]:
    """suggestion id → result of its lead deputy's latest evaluation (the one that decides)."""
    from .models import Evaluation

    results: dict[int, str] = {}
    rows = (
        Evaluation.objects.filter(suggestion__in=queryset.values("pk"), is_lead=True)
        .order_by("suggestion_id", "evaluated_on", "pk")
        .values_list("suggestion_id", "result")
    )
    for suggestion_id, result in rows:
        results[suggestion_id] = result  # later rows replace earlier ones
    return results


# --- measures ------------------------------------------------------------------------


@dataclass
class Measures:
    """The counts behind the rates of one group (all suggestions, a unit, a category)."""

    total: int = 0
    assigned: int = 0
    answered: int = 0
    on_time: int = 0
    overdue: int = 0
    evaluated: int = 0
    satisfied: int = 0
    basically: int = 0
    dissatisfied: int = 0
    # co-signers' own evaluations (they do not decide the step; shown beside the lead's)
    cosigner_evaluated: int = 0
    cosigner_satisfied: int = 0  # 满意 + 基本满意
    consulted: int = 0  # answered items with a 面商 on or before the first answer
    key_total: int = 0  # 重点督办 items
    key_done: int = 0  # … answered and rated 满意 or 基本满意 by the lead deputy

    @property
    def answer_rate(self) -> Decimal | None:  # 办复率
        return rate(self.answered, self.assigned)

    @property
    def on_time_rate(self) -> Decimal | None:  # 按期办结率
        return rate(self.on_time, self.answered)

    @property
    def satisfaction_rate(self) -> Decimal | None:  # 满意率（含基本满意）
        return rate(self.satisfied + self.basically, self.evaluated)

    @property
    def fully_satisfied_rate(self) -> Decimal | None:  # 满意率（仅满意）
        return rate(self.satisfied, self.evaluated)

    @property
    def consultation_rate(self) -> Decimal | None:  # 面商率
        return rate(self.consulted, self.answered)

    @property
    def key_supervision_rate(self) -> Decimal | None:  # 重点督办件满意办结率
        return rate(self.key_done, self.key_total)

    @property
    def cosigner_satisfaction_rate(self) -> Decimal | None:  # 附议代表满意率（含基本满意）
        return rate(self.cosigner_satisfied, self.cosigner_evaluated)


def cosigner_evaluations(queryset: QuerySet) -> Counter:
    """Results of the co-signers' evaluations of the suggestions' latest answers."""
    from .models import Evaluation

    latest = {}
    rows = (
        Evaluation.objects.filter(suggestion__in=queryset.values("pk"), is_lead=False)
        .order_by("suggestion_id", "deputy_id", "evaluated_on", "pk")
        .values_list("suggestion_id", "deputy_id", "result")
    )
    for suggestion_id, deputy_id, result in rows:
        latest[(suggestion_id, deputy_id)] = result
    return Counter(latest.values())


def measures(queryset: QuerySet, today: datetime.date | None = None) -> Measures:
    latest = latest_evaluations(queryset)
    results = Counter(latest.values())
    co = cosigner_evaluations(queryset)
    consulted = (
        answered(queryset)
        .filter(consultations__held_on__lte=F("first_answered_on"))
        .values("pk")
        .distinct()
        .count()
    )
    key_ids = list(queryset.filter(key_supervision=True).values_list("pk", flat=True))
    key_done = sum(1 for pk in key_ids if latest.get(pk) in SATISFIED_RESULTS)
    return Measures(
        total=queryset.count(),
        assigned=assigned(queryset).count(),
        answered=answered(queryset).count(),
        on_time=answered_on_time(queryset).count(),
        overdue=overdue(queryset, today).count(),
        evaluated=sum(results.values()),
        satisfied=results[EvaluationResult.SATISFIED],
        basically=results[EvaluationResult.BASICALLY],
        dissatisfied=results[EvaluationResult.DISSATISFIED],
        cosigner_evaluated=sum(co.values()),
        cosigner_satisfied=co[EvaluationResult.SATISFIED] + co[EvaluationResult.BASICALLY],
        consulted=consulted,
        key_total=len(key_ids),
        key_done=key_done,
    )


def _ids_by(queryset: QuerySet, key: str) -> dict:
    groups: dict = {}
    for pk, value in queryset.values_list("pk", key):
        groups.setdefault(value, set()).add(pk)
    return groups


@dataclass
class CountRow:
    key: object
    label: str
    count: int
    share: Decimal | None = None


def counts_by_status(queryset: QuerySet) -> list[CountRow]:
    counts = Counter(queryset.values_list("status", flat=True))
    total = sum(counts.values())
    return [
        CountRow(
            status.value, status.label, counts[status.value], rate(counts[status.value], total)
        )
        for status in Status
        if counts[status.value]
    ]


def counts_by_category(queryset: QuerySet) -> list[CountRow]:
    from .models import Category

    counts = Counter(queryset.values_list("category_id", flat=True))
    total = sum(counts.values())
    names = dict(Category.objects.filter(pk__in=[k for k in counts if k]).values_list("pk", "name"))
    order = {
        pk: i
        for i, pk in enumerate(
            Category.objects.filter(pk__in=list(names))
            .order_by("sort_order", "name")
            .values_list("pk", flat=True)
        )
    }
    rows = [
        CountRow(pk, names.get(pk, "未分类") if pk else "未分类", n, rate(n, total))
        for pk, n in counts.items()
    ]
    return sorted(rows, key=lambda r: (r.key is None, order.get(r.key, 0), -r.count))


@dataclass
class UnitRow:
    unit_id: int | None
    code: str
    name: str
    measures: Measures
    rank: int = 0
    co_handled: int = 0


def unit_rows(queryset: QuerySet, today: datetime.date | None = None) -> list[UnitRow]:
    """Per lead unit (主办单位): its measures, ranked by 办复率, then 按期办结率, then 满意率,
    then the number handled. Suggestions not yet assigned have no unit and are left out."""
    from budget.models import Department

    handled = assigned(queryset)
    groups = _ids_by(handled, "lead_unit_id")
    units = {d.pk: d for d in Department.objects.filter(pk__in=[k for k in groups if k])}
    co_counts = Counter(handled.filter(co_units__isnull=False).values_list("co_units", flat=True))
    rows = []
    for unit_id, ids in groups.items():
        if unit_id is None:
            continue
        unit = units[unit_id]
        rows.append(
            UnitRow(
                unit_id,
                unit.code,
                unit.name,
                measures(queryset.filter(pk__in=ids), today),
                co_handled=co_counts.get(unit_id, 0),
            )
        )

    def key(row: UnitRow):
        m = row.measures
        return (
            -(m.answer_rate or Decimal(-1)),
            -(m.on_time_rate or Decimal(-1)),
            -(m.satisfaction_rate or Decimal(-1)),
            -m.assigned,
            row.code,
        )

    rows.sort(key=key)
    previous, rank = None, 0
    for index, row in enumerate(rows, start=1):
        current = key(row)[:3]
        if current != previous:
            rank = index
        row.rank = rank
        previous = current
    return rows


# --- 办理工作考评: the yearly score of the units ------------------------------------------

# component → (label, Measures property, basis); the weights are the setting
# SUGGESTIONS_UNIT_SCORE_WEIGHTS (percent points; any non-negative numbers, normalised)
SCORE_COMPONENTS = {
    "answer_rate": ("办复率", "answer_rate"),
    "on_time_rate": ("按期办结率", "on_time_rate"),
    "satisfaction_rate": ("满意率", "satisfaction_rate"),
    "consultation_rate": ("面商率", "consultation_rate"),
    "key_supervision_rate": ("重点督办满意办结率", "key_supervision_rate"),
}
DEFAULT_SCORE_WEIGHTS = {
    "answer_rate": 25,
    "on_time_rate": 20,
    "satisfaction_rate": 30,
    "consultation_rate": 15,
    "key_supervision_rate": 10,
}


def score_weights() -> dict[str, Decimal]:
    from django.conf import settings

    configured = getattr(settings, "SUGGESTIONS_UNIT_SCORE_WEIGHTS", None) or DEFAULT_SCORE_WEIGHTS
    unknown = set(configured) - set(SCORE_COMPONENTS)
    if unknown:
        raise ValueError(f"SUGGESTIONS_UNIT_SCORE_WEIGHTS 含未知指标：{'、'.join(sorted(unknown))}")
    weights = {k: Decimal(str(v)) for k, v in configured.items() if Decimal(str(v)) > 0}
    if not weights:
        raise ValueError("SUGGESTIONS_UNIT_SCORE_WEIGHTS 至少要有一项权重大于 0")
    return weights


def score_formula() -> str:
    weights = score_weights()
    total = sum(weights.values())
    parts = [f"{SCORE_COMPONENTS[k][0]} × {w / total * 100:.0f}%" for k, w in weights.items()]
    return " + ".join(parts) + "（某项无可计件数时不计该项，其余权重按比例放大）"


@dataclass
class UnitScore:
    unit: UnitRow
    components: list[tuple[str, Decimal | None, Decimal]]  # label, rate, weight share (%)
    score: Decimal | None
    rank: int = 0


def unit_scores(units: list[UnitRow]) -> list[UnitScore]:
    """办理工作考评: Σ weight × rate over the components that apply to the unit, ranked."""
    weights = score_weights()
    total = sum(weights.values())
    rows = []
    for unit in units:
        components, weighted, applied = [], Decimal(0), Decimal(0)
        for key, weight in weights.items():
            label, prop = SCORE_COMPONENTS[key]
            value = getattr(unit.measures, prop)
            components.append((label, value, (weight / total * 100).quantize(Decimal("0.1"))))
            if value is not None:
                weighted += weight * value
                applied += weight
        score = (weighted / applied).quantize(Decimal("0.1")) if applied else None
        rows.append(UnitScore(unit, components, score))
    rows.sort(key=lambda r: (r.score is None, -(r.score or 0), r.unit.code))
    previous, rank = object(), 0
    for index, row in enumerate(rows, start=1):
        if row.score != previous:
            rank = index
        row.rank = rank if row.score is not None else 0
        previous = row.score
    return rows


@dataclass
class OverdueRow:
    suggestion_id: int
    code: str
    title: str
    unit: str
    status: str
    due_on: datetime.date | None
    days_late: int
    key_supervision: bool


def overdue_rows(queryset: QuerySet, today: datetime.date | None = None) -> list[OverdueRow]:
    today = today or timezone.localdate()
    rows = []
    items = overdue(queryset, today).select_related("term", "session", "lead_unit")
    for s in items:
        due = s.effective_due_on
        rows.append(
            OverdueRow(
                s.pk,
                s.code,
                s.title,
                s.lead_unit.name if s.lead_unit_id else "",
                s.get_status_display(),
                due,
                (today - due).days if due else 0,
                s.key_supervision,
            )
        )
    return sorted(rows, key=lambda r: (-r.days_late, r.code))


@dataclass
class Statistics:
    overall: Measures
    by_status: list[CountRow]
    by_category: list[CountRow]
    units: list[UnitRow]
    overdue: list[OverdueRow] = field(default_factory=list)
    scores: list[UnitScore] = field(default_factory=list)


def compute(queryset: QuerySet, today: datetime.date | None = None) -> Statistics:
    """Everything the statistics page shows, for the suggestions in ``queryset``."""
    today = today or timezone.localdate()
    units = unit_rows(queryset, today)
    return Statistics(
        overall=measures(queryset, today),
        by_status=counts_by_status(queryset),
        by_category=counts_by_category(queryset),
        units=units,
        overdue=overdue_rows(queryset, today),
        scores=unit_scores(units),
    )
