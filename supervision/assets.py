"""国有资产 figures read for pages and exports: the yearly totals of 行政事业性 and 企业国有资产,
year-over-year changes, and per-unit / per-enterprise rows beside last year's.

资产负债率 = 负债总额 ÷ 资产总额; 增减率 = (本年 − 上年) ÷ |上年|. A missing figure leaves the
change empty, never zero.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, Sum

from budget.measures import ratio_percent

from .models import EnterpriseAssets, UnitAssets

UNIT_SUMS = (
    "total_assets",
    "total_liabilities",
    "net_assets",
    "fixed_assets",
    "land",
    "vehicles",
    "vehicles_value",
)
ENTERPRISE_SUMS = ("total_assets", "total_liabilities", "equity", "revenue", "profit")


@dataclass(frozen=True)
class Change:
    current: Decimal | None
    previous: Decimal | None

    @property
    def delta(self):
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous

    @property
    def percent(self):
        """增减率 against the size of last year's figure (a loss that halves is −50%)."""
        if self.delta is None or not self.previous:
            return None
        return ratio_percent(self.delta, abs(self.previous))


def debt_ratio(liabilities, assets):
    """资产负债率 in percent."""
    return ratio_percent(liabilities, assets)


def years() -> list[int]:
    # ordered by the year alone: the models' ordering would make DISTINCT run over every row
    found = set()
    for model in (UnitAssets, EnterpriseAssets):
        found |= set(model.objects.order_by("year").values_list("year", flat=True).distinct())
    return sorted(found)


def _totals(model, fields) -> dict[int, dict]:
    """The sums per year, kept in the cache under a key that changes with the data: the newest
    row id, the row count and the newest import batch (imports are how rows change, and a
    changed row is re-pointed at its batch). A SUM over 100,000 rows cost ~150 ms a page."""
    from django.core.cache import cache

    from .models import SupervisionBatch

    # three cheap reads: COUNT(*) on the smallest index, the last id and batch from the key
    count = model.objects.count()
    last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
    batch = SupervisionBatch.objects.order_by("-pk").values_list("pk", flat=True).first()
    key = f"supervision:asset-totals:{model._meta.model_name}:{count}:{last}:{batch}"
    found = cache.get(key)
    if found is not None:
        return found
    rows = (
        model.objects.order_by("year")
        .values("year")
        .annotate(count=Count("pk"), **{f: Sum(f) for f in fields})
    )
    found = {row.pop("year"): row for row in rows}
    cache.set(key, found, 3600)
    return found


def unit_totals() -> dict[int, dict]:
    """{year: {count, total_assets, …}} for 行政事业性国有资产."""
    return _totals(UnitAssets, UNIT_SUMS)


def enterprise_totals() -> dict[int, dict]:
    return _totals(EnterpriseAssets, ENTERPRISE_SUMS)


def compare(current: dict | None, previous: dict | None, name: str) -> Change:
    return Change((current or {}).get(name), (previous or {}).get(name))


def ratio_change(current: dict | None, previous: dict | None) -> Change:
    """资产负债率 this year and last; its delta is in 百分点."""

    def ratio(totals):
        if not totals:
            return None
        return debt_ratio(totals.get("total_liabilities"), totals.get("total_assets"))

    return Change(ratio(current), ratio(previous))


@dataclass
class Paired:
    """One unit's or enterprise's row this year with last year's row of the same name."""

    current: object
    previous: object | None

    def change(self, name) -> Change:
        old = getattr(self.previous, name) if self.previous is not None else None
        return Change(getattr(self.current, name), old)

    @property
    def debt_ratio(self):
        return debt_ratio(self.current.total_liabilities, self.current.total_assets)

    @property
    def previous_debt_ratio(self):
        if self.previous is None:
            return None
        return debt_ratio(self.previous.total_liabilities, self.previous.total_assets)


def rows_of(model, year: int, q: str = ""):
    """This year's rows in the order of the tables, optionally those whose name or code
    contains *q*."""
    qs = model.objects.filter(year=year)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__icontains=q))
    return qs.order_by("code", "name")


def paired(model, year: int, rows=None) -> list[Paired]:
    """Each of this year's rows (all, or the page *rows*) beside last year's row of the same
    name; for a page only the names on it are read from last year."""
    if rows is None:
        rows = list(rows_of(model, year))
        last = {r.name: r for r in model.objects.filter(year=year - 1)}
    else:
        rows = list(rows)
        names = [r.name for r in rows]
        last = {r.name: r for r in model.objects.filter(year=year - 1, name__in=names)}
    return [Paired(row, last.get(row.name)) for row in rows]
