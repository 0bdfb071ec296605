"""政府债务: the yearly position, the indicators with their inputs, and the maturity profile.

债务率 = 债务余额 ÷ 综合财力; 偿债率 = 当年还本付息 ÷ 综合财力; 利息支出率 = 当年利息支出 ÷
一般公共预算和政府性基金预算支出 (domain.md §10). An indicator whose input is missing is
shown as missing, never as zero.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    CharField,
    Count,
    DecimalField,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, ExtractYear, Substr

from budget.measures import ratio_percent

from .choices import DebtCategory
from .models import Bond, DebtPosition, DebtYear, Repayment

ZERO = Decimal(0)


@dataclass
class DebtYearRow:
    year: int
    limits: dict = field(default_factory=dict)  # category → 元
    balances: dict = field(default_factory=dict)
    capacity: Decimal | None = None
    expenditure: Decimal | None = None
    principal_paid: Decimal = ZERO
    interest_paid: Decimal = ZERO

    def _sum(self, values):
        return sum(values.values(), ZERO) if values else None

    @property
    def limit(self):
        return self._sum(self.limits)

    @property
    def balance(self):
        return self._sum(self.balances)

    @property
    def headroom(self):
        if self.limit is None or self.balance is None:
            return None
        return self.limit - self.balance

    @property
    def limit_usage(self):
        return ratio_percent(self.balance, self.limit)

    def category_usage(self, category):
        return ratio_percent(self.balances.get(category), self.limits.get(category))

    @property
    def service(self):
        return self.principal_paid + self.interest_paid

    @property
    def debt_ratio(self):
        return ratio_percent(self.balance, self.capacity)

    @property
    def service_ratio(self):
        return ratio_percent(self.service, self.capacity)

    @property
    def interest_ratio(self):
        return ratio_percent(self.interest_paid, self.expenditure)


def history() -> list[DebtYearRow]:
    """One row per year that has a position, inputs or payments, oldest first."""
    rows: dict[int, DebtYearRow] = {}

    def row(year):
        return rows.setdefault(year, DebtYearRow(year=year))

    for position in DebtPosition.objects.all():
        row(position.year).limits[position.category] = position.limit
        row(position.year).balances[position.category] = position.balance
    for inputs in DebtYear.objects.all():
        row(inputs.year).capacity = inputs.capacity
        row(inputs.year).expenditure = inputs.expenditure
    paid = (
        Repayment.objects.annotate(y=ExtractYear("date"))
        .values("y")
        .annotate(p=Sum("principal"), i=Sum("interest"))
    )
    for item in paid:
        row(item["y"]).principal_paid = item["p"] or ZERO
        row(item["y"]).interest_paid = item["i"] or ZERO
    return [rows[y] for y in sorted(rows)]


def year_row(year: int) -> DebtYearRow | None:
    return next((r for r in history() if r.year == year), None)


def latest_position_year() -> int | None:
    return DebtPosition.objects.order_by("-year").values_list("year", flat=True).first()


@dataclass
class MaturityYear:
    year: int
    bonds: int
    issued: Decimal
    repaid: Decimal
    general: Decimal
    special: Decimal
    unfunded: Decimal  # outstanding principal with no repayment source recorded

    @property
    def outstanding(self):
        return self.issued - self.repaid


def _year_of(field: str):
    """The year of a date column in plain SQL: ExtractYear is a Python function per row on
    SQLite, which costs most of a second over 100,000 bonds."""
    return Cast(Substr(Cast(field, CharField()), 1, 4), IntegerField())


def maturity_profile(from_year: int | None = None) -> list[MaturityYear]:
    """Principal falling due per year: issued, already repaid, and outstanding by category."""
    bonds = Bond.objects.all()
    if from_year is not None:  # a range on the indexed date, not a test on the computed year
        bonds = bonds.filter(maturity_date__gte=datetime.date(from_year, 1, 1))
    bonds = bonds.annotate(y=_year_of("maturity_date"))
    by_year = {
        item["y"]: item
        for item in bonds.values("y").annotate(
            n=Count("pk"),
            issued=Sum("amount"),
            general=Coalesce(Sum("amount", filter=Q(category=DebtCategory.GENERAL)), ZERO),
            special=Coalesce(Sum("amount", filter=Q(category=DebtCategory.SPECIAL)), ZERO),
            unfunded=Coalesce(Sum("amount", filter=Q(repayment_source="")), ZERO),
        )
    }
    repaid = Repayment.objects.all()
    if from_year is not None:
        repaid = repaid.filter(bond__maturity_date__gte=datetime.date(from_year, 1, 1))
    repaid = repaid.annotate(y=_year_of("bond__maturity_date"))
    repaid_by = {
        item["y"]: item
        for item in repaid.values("y").annotate(
            p=Sum("principal"),
            general=Coalesce(Sum("principal", filter=Q(bond__category=DebtCategory.GENERAL)), ZERO),
            special=Coalesce(Sum("principal", filter=Q(bond__category=DebtCategory.SPECIAL)), ZERO),
            unfunded=Coalesce(Sum("principal", filter=Q(bond__repayment_source="")), ZERO),
        )
    }
    rows = []
    for year in sorted(by_year):
        item, paid = by_year[year], repaid_by.get(year, {})
        rows.append(
            MaturityYear(
                year=year,
                bonds=item["n"],
                issued=item["issued"] or ZERO,
                repaid=paid.get("p") or ZERO,
                general=item["general"] - paid.get("general", ZERO),
                special=item["special"] - paid.get("special", ZERO),
                unfunded=item["unfunded"] - paid.get("unfunded", ZERO),
            )
        )
    return rows


def add_months(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return datetime.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def maturing_queryset(months: int, today: datetime.date, unfunded_only: bool = False):
    """Bonds maturing from *today* to *months* ahead with principal still outstanding, soonest
    first, annotated with ``repaid`` (principal paid so far), all in SQL."""
    amount = DecimalField(max_digits=18, decimal_places=2)
    paid = (
        Repayment.objects.filter(bond=OuterRef("pk"))
        .values("bond")
        .annotate(total=Sum("principal"))
        .values("total")
    )
    bonds = (
        Bond.objects.filter(maturity_date__gte=today, maturity_date__lte=add_months(today, months))
        .annotate(
            repaid=Coalesce(Subquery(paid, output_field=amount), Value(ZERO), output_field=amount)
        )
        .filter(amount__gt=F("repaid"))
        .order_by("maturity_date", "code")
    )
    if unfunded_only:
        bonds = bonds.filter(repayment_source="")
    return bonds


def maturing_bonds(months: int, today: datetime.date, unfunded_only: bool = False):
    return list(maturing_queryset(months, today, unfunded_only))


def maturing_totals(bonds) -> tuple[int, Decimal]:
    """Count and outstanding principal of a maturing_queryset."""
    # aliases distinct from the annotation: PostgreSQL cannot sum "repaid" under its own name
    totals = bonds.aggregate(n=Count("pk"), issued=Sum("amount"), paid=Sum("repaid"))
    return totals["n"], (totals["issued"] or ZERO) - (totals["paid"] or ZERO)
