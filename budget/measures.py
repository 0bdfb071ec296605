"""Execution measures: 年初预算数, 调整预算数, 本月执行数, 累计执行数 and what derives from them.

The stored figures may sit at any level (项 only, or 类/款/项 as a finance system exports
them) and may be county totals (no department) or department rows. Two rules make the
numbers add up whatever arrived:

- a figure given for a code wins; a code without one is the sum of its children;
- county totals given without a department win; otherwise the departments' rows are summed.

执行率 = 累计执行 ÷ 调整预算 (调整预算数 = 年初 + 调增 − 调减, so a year without an
adjustment uses 年初预算数); 序时进度 = months elapsed ÷ 12 at the month's end;
进度差 = 执行率 − 序时进度; 同比 = 累计执行 ÷ 上年同期累计执行 − 1.
"""

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Sum

from .amounts import to_wan
from .choices import LEVEL_LENGTHS, THREE_PUBLIC_CODES, BudgetKind, ClassificationKind, Phase
from .models import Figure, Subject, level_of, parent_code

HUNDRED = Decimal(100)
DEFAULT_CACHE_SECONDS = 3600
PERCENT_PLACES = Decimal("0.01")
AMOUNT_FIELDS = ("initial", "adjusted", "month", "cumulative", "final", "prior_cumulative")


def time_progress(month: int) -> Decimal:
    """序时进度 at the end of *month*, in percent (September → 75.00)."""
    if not 0 <= month <= 12:
        raise ValueError("月份必须在 1 到 12 之间")
    return (Decimal(month) * HUNDRED / 12).quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP)


def ratio_percent(numerator, denominator) -> Decimal | None:
    if numerator is None or not denominator:
        return None
    return (Decimal(numerator) * HUNDRED / Decimal(denominator)).quantize(
        PERCENT_PLACES, rounding=ROUND_HALF_UP
    )


@dataclass
class Measures:
    """The amounts of one code (and department) at one month, in 元."""

    initial: Decimal | None = None
    adjusted: Decimal | None = None
    month: Decimal | None = None
    cumulative: Decimal | None = None
    final: Decimal | None = None
    prior_cumulative: Decimal | None = None

    def add(self, other: "Measures") -> None:
        for name in AMOUNT_FIELDS:
            theirs = getattr(other, name)
            if theirs is not None:
                mine = getattr(self, name)
                setattr(self, name, theirs if mine is None else mine + theirs)

    @property
    def budget_base(self) -> Decimal | None:
        """调整预算数, or 年初预算数 when the year has no adjustment."""
        return self.adjusted if self.adjusted is not None else self.initial


@dataclass
class ExecutionRow:
    code: str
    name: str
    level: int
    measures: Measures
    time_progress: Decimal
    has_children: bool = False
    department_id: int | None = None
    department_name: str = ""

    @property
    def initial(self):
        return self.measures.initial

    @property
    def adjusted(self):
        return self.measures.budget_base

    @property
    def month_amount(self):
        return self.measures.month

    @property
    def cumulative(self):
        return self.measures.cumulative

    @property
    def final(self):
        return self.measures.final

    @property
    def prior_cumulative(self):
        return self.measures.prior_cumulative

    @property
    def execution_rate(self) -> Decimal | None:
        return ratio_percent(self.cumulative, self.adjusted)

    @property
    def progress_gap(self) -> Decimal | None:
        rate = self.execution_rate
        return None if rate is None else rate - self.time_progress

    @property
    def yoy(self) -> Decimal | None:
        """同比增长 (%)."""
        if self.cumulative is None or not self.prior_cumulative:
            return None
        return ratio_percent(self.cumulative - self.prior_cumulative, self.prior_cumulative)

    @property
    def final_vs_initial(self) -> Decimal | None:
        """决算 against 年初预算: deviation in percent."""
        if self.final is None or not self.initial:
            return None
        return ratio_percent(self.final - self.initial, self.initial)

    @property
    def final_vs_adjusted(self) -> Decimal | None:
        if self.final is None or not self.adjusted:
            return None
        return ratio_percent(self.final - self.adjusted, self.adjusted)

    def wan(self, name: str):
        return to_wan(getattr(self, name))


@dataclass
class _Raw:
    """Given figures of one code: phase → month → amount."""

    phases: dict = field(default_factory=lambda: defaultdict(dict))


def _resolve(raw: _Raw, month: int) -> Measures:
    phases = raw.phases
    m = Measures()
    m.initial = phases[Phase.INITIAL].get(0)
    adjusted = {k: v for k, v in phases[Phase.ADJUSTED].items() if k <= month}
    # 调整预算数 = 年初 + 调增 − 调减: without an adjustment it is the initial budget
    m.adjusted = adjusted[max(adjusted)] if adjusted else m.initial
    m.final = phases[Phase.FINAL].get(0)
    execution = phases[Phase.EXECUTION]
    cumulative = phases[Phase.CUMULATIVE]
    if month in cumulative:
        m.cumulative = cumulative[month]
    else:
        months = [v for k, v in execution.items() if 1 <= k <= month]
        if months:
            m.cumulative = sum(months, Decimal(0))
    if month in execution:
        m.month = execution[month]
    elif month in cumulative:
        previous = cumulative.get(month - 1, Decimal(0) if month == 1 else None)
        if previous is not None:
            m.month = cumulative[month] - previous
    return m


def _load(year, month, budget, kind, department_ids, group_by_department, phases=None):
    """Given figures grouped by (department or None, code) → _Raw.

    County totals (no department) keep the key (None, code); department rows keep their
    department so that each department is resolved on its own before they are added."""
    qs = Figure.objects.filter(year=year, budget=budget, kind=kind, month__lte=month)
    if department_ids is not None:
        qs = qs.filter(department_id__in=department_ids)
    if phases:
        qs = qs.filter(phase__in=phases)
    rows = qs.values_list("department_id", "code", "phase", "month").annotate(amount=Sum("amount"))
    result = defaultdict(_Raw)
    for department, code, phase, figure_month, amount in rows.order_by():
        result[(department, code)].phases[phase][figure_month] = amount
    return result


def _resolve_groups(raws: dict, month: int, kind: str, group_by_department: bool):
    """{group: {code: Measures}}; without grouping, departments are summed per code and
    county totals win field by field where given."""
    groups: dict = defaultdict(dict)
    totals: dict = {}
    for (department, code), raw in raws.items():
        if level_of(kind, code) is None:
            continue
        measures = _resolve(raw, month)
        if department is None:
            totals[code] = measures
            continue
        key = department if group_by_department else None
        if code in groups[key]:
            groups[key][code].add(measures)
        else:
            groups[key][code] = measures
    if not group_by_department:
        merged = groups[None]
        for code, given in totals.items():
            summed = merged.get(code)
            if summed is None:
                merged[code] = given
                continue
            for name in AMOUNT_FIELDS:
                if getattr(given, name) is not None:
                    setattr(summed, name, getattr(given, name))
    return groups


def _roll_up(measures_by_code: dict, kind: str) -> dict:
    """Fill parents from children where the parent has no figure of its own."""
    lengths = LEVEL_LENGTHS[kind]
    for length in reversed(lengths[1:]):
        children = [c for c in measures_by_code if len(c) == length]
        sums: dict[str, Measures] = {}
        for code in children:
            parent = parent_code(kind, code)
            sums.setdefault(parent, Measures()).add(measures_by_code[code])
        for parent, total in sums.items():
            own = measures_by_code.get(parent)
            if own is None:
                measures_by_code[parent] = total
                continue
            for name in AMOUNT_FIELDS:
                if getattr(own, name) is None and getattr(total, name) is not None:
                    setattr(own, name, getattr(total, name))
    return measures_by_code


def data_version() -> str:
    """Changes whenever an import stores figures: the newest batch and its time."""
    from .models import ImportBatch

    newest = ImportBatch.objects.order_by("-pk").values_list("pk", "imported_at").first()
    return f"{newest[0]}-{newest[1].timestamp()}" if newest else "empty"


def _cached(name: str, parts: tuple, compute):
    """compute(), cached per data version: figures change only through imports, which add a
    batch, so an import makes every earlier entry unreachable."""
    seconds = int(getattr(settings, "BUDGET_CACHE_SECONDS", DEFAULT_CACHE_SECONDS))
    if seconds <= 0:
        return compute()
    key = f"budget:{name}:{data_version()}:" + ":".join(str(part) for part in parts)
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, seconds)
    return value


def _departments_digest(department_ids) -> str:
    departments = ",".join(str(d) for d in sorted(department_ids)) if department_ids else "-"
    return hashlib.sha256(departments.encode()).hexdigest()[:16]


def _measures_tree(year, month, budget, kind, department_ids=None, group_by_department=False):
    return _cached(
        "tree",
        (year, month, budget, kind, _departments_digest(department_ids), int(group_by_department)),
        lambda: _compute_tree(year, month, budget, kind, department_ids, group_by_department),
    )


def _compute_tree(year, month, budget, kind, department_ids, group_by_department):
    county = department_ids is None and not group_by_department and 1 <= month <= 12
    current = _rollup_tree(year, month, budget, kind) if county else None
    if current is None:
        current = _resolve_groups(
            _load(year, month, budget, kind, department_ids, group_by_department),
            month,
            kind,
            group_by_department,
        )
    prior_county = _rollup_tree(year - 1, month, budget, kind) if county else None
    prior = prior_county
    if prior is None:
        prior = _resolve_groups(
            _load(
                year - 1,
                month,
                budget,
                kind,
                department_ids,
                group_by_department,
                phases=(Phase.EXECUTION, Phase.CUMULATIVE),
            ),
            month,
            kind,
            group_by_department,
        )
    for group, tree in prior.items():
        for code, measures in tree.items():
            if measures.cumulative is None:
                continue
            current[group].setdefault(code, Measures()).prior_cumulative = measures.cumulative
    return {group: _roll_up(tree, kind) for group, tree in current.items()}


# --- rollups: county totals per code and month, written at import ------------------------


def _rollup_tree(year, month, budget, kind):
    """{None: {code: Measures}} from the stored rollups, or None when they are not built."""
    from .models import FigureRollup, RollupScope

    if not RollupScope.objects.filter(year=year, budget=budget, kind=kind).exists():
        return None
    tree = {}
    rows = FigureRollup.objects.filter(year=year, budget=budget, kind=kind, month=month)
    for code, initial, adjusted, month_amount, cumulative, final in rows.values_list(
        "code", "initial", "adjusted", "month_amount", "cumulative", "final"
    ):
        tree[code] = Measures(
            initial=initial,
            adjusted=adjusted,
            month=month_amount,
            cumulative=cumulative,
            final=final,
        )
    return defaultdict(dict, {None: tree})


def _first_month(raw: _Raw) -> int:
    return min((m for months in raw.phases.values() for m in months), default=0)


def _resolve_by_month(raw: _Raw, first: int):
    """_resolve(raw, m) for m = 1..12 in one pass: yields (month, [initial, adjusted, month,
    cumulative, final]) from the first month the code has a figure."""
    phases = raw.phases
    initial = phases[Phase.INITIAL].get(0)
    final = phases[Phase.FINAL].get(0)
    adjustments = phases[Phase.ADJUSTED]
    execution = phases[Phase.EXECUTION]
    cumulative = phases[Phase.CUMULATIVE]
    adjusted = adjustments.get(0)
    executed = None
    for month in range(1, 13):
        if month in adjustments:
            adjusted = adjustments[month]
        if month in execution:
            amount = execution[month]
            executed = amount if executed is None else executed + amount
        if month < first:
            continue
        total = cumulative[month] if month in cumulative else executed
        this_month = execution.get(month)
        if this_month is None and month in cumulative:
            previous = cumulative.get(month - 1, Decimal(0) if month == 1 else None)
            if previous is not None:
                this_month = cumulative[month] - previous
        yield (
            month,
            [initial, adjusted if adjusted is not None else initial, this_month, total, final],
        )


ROLLUP_FIELDS = ("initial", "adjusted", "month", "cumulative", "final")


def build_rollups(year: int, budget: str, kind: str) -> int:
    """Recompute the rollups of one year, budget and classification from its figures,
    resolved as the views resolve them (departments one by one, then summed; county totals
    win field by field; parents filled from children), for each month end."""
    from .models import FigureRollup, RollupScope

    FigureRollup.objects.filter(year=year, budget=budget, kind=kind).delete()
    raws = _load(year, 12, budget, kind, None, False)
    summed = defaultdict(dict)  # month → code → [five amounts], departments added up
    given = defaultdict(dict)  # month → code → county totals given without a department
    last_month = 0
    for (department, code), raw in raws.items():
        if level_of(kind, code) is None:
            continue
        for phase in (Phase.EXECUTION, Phase.CUMULATIVE):
            if raw.phases[phase]:
                last_month = max(last_month, max(raw.phases[phase]))
        target = given if department is None else summed
        for month, values in _resolve_by_month(raw, _first_month(raw)):
            into = target[month]
            mine = into.get(code)
            if mine is None:
                into[code] = values
                continue
            for i, value in enumerate(values):
                if value is not None:
                    mine[i] = value if mine[i] is None else mine[i] + value
    pending = []
    for month in range(1, 13):
        tree = {}
        codes = set(summed[month]) | set(given[month])
        for code in codes:
            values = list(summed[month].get(code) or [None] * 5)
            for i, value in enumerate(given[month].get(code) or ()):
                if value is not None:
                    values[i] = value
            tree[code] = Measures(**dict(zip(ROLLUP_FIELDS, values, strict=True)))
        for code, m in _roll_up(tree, kind).items():
            pending.append(
                FigureRollup(
                    year=year,
                    month=month,
                    budget=budget,
                    kind=kind,
                    code=code,
                    initial=m.initial,
                    adjusted=m.adjusted,
                    month_amount=m.month,
                    cumulative=m.cumulative,
                    final=m.final,
                )
            )
    FigureRollup.objects.bulk_create(pending, batch_size=2000)
    RollupScope.objects.update_or_create(
        year=year, budget=budget, kind=kind, defaults={"last_month": last_month}
    )
    return len(pending)


def rebuild_rollups(scopes=None) -> int:
    """Rebuild the given (year, budget, kind) scopes, or every scope that has figures."""
    if scopes is None:
        scopes = set(Figure.objects.values_list("year", "budget", "kind").distinct().order_by())
        from .models import FigureRollup, RollupScope

        RollupScope.objects.exclude(
            pk__in=[
                pk
                for pk, y, b, k in RollupScope.objects.values_list("pk", "year", "budget", "kind")
                if (y, b, k) in scopes
            ]
        ).delete()
        FigureRollup.objects.exclude(year__in={s[0] for s in scopes}).delete()
    return sum(build_rollups(*scope) for scope in sorted(scopes))


def subject_names(year: int, kind: str) -> dict[str, str]:
    return dict(Subject.objects.filter(year=year, kind=kind).values_list("code", "name"))


def execution_table(
    year: int,
    month: int,
    budget: str,
    kind: str = ClassificationKind.FUNCTION,
    parent: str = "",
    department_ids=None,
    all_levels: bool = False,
) -> list[ExecutionRow]:
    """Rows for the children of *parent* (类 when empty), or every code with *all_levels*."""
    tree = _measures_tree(year, month, budget, kind, department_ids).get(None, {})
    names = subject_names(year, kind)
    progress = time_progress(month)
    lengths = LEVEL_LENGTHS[kind]
    parents_with_children = {parent_code(kind, c) for c in tree}
    rows = []
    for code in sorted(tree):
        if not all_levels:
            if parent:
                if parent_code(kind, code) != parent:
                    continue
            elif len(code) != lengths[0]:
                continue
        rows.append(
            ExecutionRow(
                code=code,
                name=names.get(code, "（科目表中无此编码）"),
                level=level_of(kind, code),
                measures=tree[code],
                time_progress=progress,
                has_children=code in parents_with_children,
            )
        )
    return rows


def total_row(rows: list[ExecutionRow], month: int) -> ExecutionRow:
    """合计 of top-level rows (rows of one parent add up to their parent)."""
    total = Measures()
    for row in rows:
        total.add(row.measures)
    return ExecutionRow(
        code="", name="合计", level=-1, measures=total, time_progress=time_progress(month)
    )


def department_table(
    year: int,
    month: int,
    budget: str,
    code: str = "",
    kind: str = ClassificationKind.FUNCTION,
    department_ids=None,
) -> list[ExecutionRow]:
    """One row per department: the department's figures under *code* (all codes when empty)."""
    from .models import Department

    trees = _measures_tree(
        year, month, budget, kind, department_ids=department_ids, group_by_department=True
    )
    progress = time_progress(month)
    lengths = LEVEL_LENGTHS[kind]
    departments = dict(Department.objects.values_list("pk", "name"))
    codes = dict(Department.objects.values_list("pk", "code"))
    rows = []
    for dept_id, tree in trees.items():
        if code:
            measures = tree.get(code)
        else:
            measures = Measures()
            for top, m in tree.items():
                if len(top) == lengths[0]:
                    measures.add(m)
        if measures is None:
            continue
        rows.append(
            ExecutionRow(
                code=codes.get(dept_id, ""),
                name=departments.get(dept_id, ""),
                level=0,
                measures=measures,
                time_progress=progress,
                department_id=dept_id,
                department_name=departments.get(dept_id, ""),
            )
        )
    rows.sort(key=lambda r: r.code)
    return rows


def measures_for(
    year, month, budget, code, kind=ClassificationKind.FUNCTION, department_ids=None
) -> ExecutionRow | None:
    """The row of one code (a figure cited by a document)."""
    tree = _measures_tree(year, month, budget, kind, department_ids).get(None, {})
    if code not in tree:
        return None
    return ExecutionRow(
        code=code,
        name=subject_names(year, kind).get(code, ""),
        level=level_of(kind, code) or 0,
        measures=tree[code],
        time_progress=time_progress(month),
    )


def monthly_cumulative(
    year, budget, code="", kind=ClassificationKind.FUNCTION, department_ids=None
):
    """累计执行数 at each month end, for the cumulative line chart: [(month, 元 or None)]."""
    return _cached(
        "cumulative",
        (year, budget, code, kind, _departments_digest(department_ids)),
        lambda: _compute_monthly_cumulative(year, budget, code, kind, department_ids),
    )


def _compute_monthly_cumulative(year, budget, code, kind, department_ids):
    tree_rows = _load(year, 12, budget, kind, department_ids, False)
    reported = [
        m
        for raw in tree_rows.values()
        for phase in (Phase.EXECUTION, Phase.CUMULATIVE)
        for m in raw.phases[phase]
    ]
    last_month = max(reported, default=0)
    measures_by_month = []
    for month in range(1, last_month + 1):
        tree = _roll_up(_resolve_groups(tree_rows, month, kind, False)[None], kind)
        if code:
            value = tree[code].cumulative if code in tree else None
        else:
            tops = [m.cumulative for c, m in tree.items() if len(c) == LEVEL_LENGTHS[kind][0]]
            tops = [v for v in tops if v is not None]
            value = sum(tops, Decimal(0)) if tops else None
        measures_by_month.append((month, value))
    return measures_by_month


def three_public_rows(year, month, budget=BudgetKind.GENERAL):
    """三公经费 by department and in total: (department or None, budget base, cumulative, 决算)."""
    return _cached(
        "three-public", (year, month, budget), lambda: _three_public_rows(year, month, budget)
    )


def _three_public_rows(year, month, budget):
    per_department = {}
    total = {"base": None, "cumulative": None, "final": None}

    def add(bucket, key, value):
        if value is not None:
            bucket[key] = value if bucket[key] is None else bucket[key] + value

    county_rows = execution_table(
        year, month, budget, kind=ClassificationKind.ECONOMIC, all_levels=True
    )
    for code in THREE_PUBLIC_CODES:
        for row in department_table(
            year, month, budget, code=code, kind=ClassificationKind.ECONOMIC
        ):
            bucket = per_department.setdefault(
                row.department_id,
                {
                    "base": None,
                    "cumulative": None,
                    "final": None,
                    "name": row.name,
                    "code": row.code,
                    "items": {},
                },
            )
            add(bucket, "base", row.adjusted)
            add(bucket, "cumulative", row.cumulative)
            add(bucket, "final", row.final)
            bucket["items"][code] = row
        for row in county_rows:
            if row.code == code:
                add(total, "base", row.adjusted)
                add(total, "cumulative", row.cumulative)
                add(total, "final", row.final)
    return per_department, total
