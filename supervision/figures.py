"""Figures of supervision that documents may cite, beside budget's (budget/figures.py):

- 政府债务 (source "debt"): 限额, 余额, 尚可举借 and 余额占限额 per year and category (or all
  categories), and the county's indicators 债务率, 偿债率, 利息支出率 with their inputs;
- 国有资产 (source "assets"): the 行政事业性 or 企业 totals of a year, or one unit's or
  enterprise's row (by name), e.g. 资产总额, 负债总额, 资产负债率;
- 审计整改 (source "audit"): the findings of a year (optionally of one unit and its
  sub-units): counts by status, 涉及金额, 追回/调账 amounts, 整改完成率.

Each spec is the same shape as budget.figures.FigureSpec (see that module) and is registered
there from SupervisionConfig.ready. Values are 元 for amounts, percent for rates, a number for
counts — the way they are stored in FigureCitation.value.
"""

from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Count, Sum
from django.urls import reverse

from budget.amounts import format_percent, format_wan
from budget.figures import FigureSpecError
from budget.measures import ratio_percent

from .choices import DebtCategory, RectificationStatus

ZERO = Decimal(0)


def _year(data) -> int:
    try:
        year = int(data.get("year"))
    except (TypeError, ValueError):
        raise FigureSpecError("年度必须是整数") from None
    if not 1990 <= year <= 2100:
        raise FigureSpecError("年度不在有效范围内")
    return year


class _SupervisionSpec:
    """What the three sources share: the address, the key, the formatting."""

    measures: dict = {}
    percent_measures: frozenset = frozenset()
    count_measures: frozenset = frozenset()

    def as_dict(self) -> dict:
        return {"source": self.source, **{f: getattr(self, f) for f in self.fields}}

    @property
    def key(self) -> str:
        return "|".join([self.source, *(str(getattr(self, f)) for f in self.fields)])

    def url(self) -> str:
        return reverse("supervision:figure") + "?" + urlencode(self.as_dict())

    @property
    def is_percent(self) -> bool:
        return self.measure in self.percent_measures

    @property
    def measure_label(self) -> str:
        return self.measures[self.measure]

    def format(self, value) -> str:
        if value is None:
            return "暂无数据"
        if self.is_percent:
            return format_percent(value)
        if self.measure in self.count_measures:
            return f"{int(value)}个"
        return f"{format_wan(value)}万元"

    def check_key(self) -> None:
        if len(self.key) > 200:
            raise FigureSpecError("名称过长")


# --- 政府债务 ---------------------------------------------------------------------------------

DEBT_MEASURES = {
    "limit": "债务限额",
    "balance": "债务余额",
    "headroom": "尚可举借额度",
    "limit_usage": "余额占限额",
    "debt_ratio": "债务率",
    "service_ratio": "偿债率",
    "interest_ratio": "利息支出率",
    "capacity": "综合财力",
    "principal_paid": "当年偿还本金",
    "interest_paid": "当年支付利息",
}
DEBT_COUNTY_ONLY = {
    "debt_ratio",
    "service_ratio",
    "interest_ratio",
    "capacity",
    "principal_paid",
    "interest_paid",
}


@dataclass(frozen=True)
class DebtSpec(_SupervisionSpec):
    source = "debt"
    source_label = "政府债务"
    fields = ("year", "category", "measure")
    measures = DEBT_MEASURES
    percent_measures = frozenset({"limit_usage", "debt_ratio", "service_ratio", "interest_ratio"})

    year: int
    category: str  # "" = 一般债务 and 专项债务 together
    measure: str

    @classmethod
    def from_data(cls, data) -> "DebtSpec":
        spec = cls(
            year=_year(data),
            category=str(data.get("category") or "").strip(),
            measure=str(data.get("measure") or "balance"),
        )
        spec.check_shape()
        return spec

    def check_shape(self) -> None:
        if self.category and self.category not in DebtCategory.values:
            raise FigureSpecError("债务类型无效")
        if self.measure not in DEBT_MEASURES:
            raise FigureSpecError("债务指标无效")
        if self.category and self.measure in DEBT_COUNTY_ONLY:
            raise FigureSpecError(f"{self.measure_label}只按全县合计计算，请不要选择债务类型")

    def validate(self) -> None:
        from .debt import year_row

        self.check_shape()
        if year_row(self.year) is None:
            raise FigureSpecError(f"{self.year} 年没有政府债务数据")

    @property
    def category_label(self) -> str:
        return DebtCategory(self.category).label if self.category else "政府债务"

    @property
    def period_label(self) -> str:
        if self.measure in ("limit", "balance", "headroom", "limit_usage"):
            return f"{self.year}年末"
        return f"{self.year}年"

    def default_label(self) -> str:
        if self.measure in DEBT_COUNTY_ONLY:
            return self.measure_label
        return f"{self.category_label}{self.measure_label.removeprefix('债务')}"

    def compute(self) -> Decimal | None:
        from .debt import year_row

        row = year_row(self.year)
        if row is None:
            return None
        if self.category:
            limit, balance = row.limits.get(self.category), row.balances.get(self.category)
        else:
            limit, balance = row.limit, row.balance
        if self.measure == "limit":
            return limit
        if self.measure == "balance":
            return balance
        if self.measure == "headroom":
            return None if limit is None or balance is None else limit - balance
        if self.measure == "limit_usage":
            return ratio_percent(balance, limit)
        return {
            "debt_ratio": row.debt_ratio,
            "service_ratio": row.service_ratio,
            "interest_ratio": row.interest_ratio,
            "capacity": row.capacity,
            "principal_paid": row.principal_paid,
            "interest_paid": row.interest_paid,
        }[self.measure]


# --- 国有资产 ---------------------------------------------------------------------------------

ASSET_SCOPES = {"unit": "行政事业性国有资产", "enterprise": "企业国有资产"}
ASSET_MEASURES = {
    "total_assets": "资产总额",
    "total_liabilities": "负债总额",
    "net_assets": "净资产（所有者权益）",
    "debt_ratio": "资产负债率",
    "fixed_assets": "固定资产",
    "revenue": "营业收入",
    "profit": "利润总额",
    "count": "户数",
}
UNIT_ONLY = {"fixed_assets"}
ENTERPRISE_ONLY = {"revenue", "profit"}


@dataclass(frozen=True)
class AssetSpec(_SupervisionSpec):
    source = "assets"
    source_label = "国有资产"
    fields = ("year", "scope", "name", "measure")
    measures = ASSET_MEASURES
    percent_measures = frozenset({"debt_ratio"})
    count_measures = frozenset({"count"})

    year: int
    scope: str  # unit / enterprise
    name: str  # "" = the total of the scope
    measure: str

    @classmethod
    def from_data(cls, data) -> "AssetSpec":
        spec = cls(
            year=_year(data),
            scope=str(data.get("scope") or "unit"),
            name=str(data.get("name") or "").strip(),
            measure=str(data.get("measure") or "total_assets"),
        )
        spec.check_shape()
        return spec

    def check_shape(self) -> None:
        if self.scope not in ASSET_SCOPES:
            raise FigureSpecError("资产类别无效")
        if self.measure not in ASSET_MEASURES:
            raise FigureSpecError("资产指标无效")
        if self.scope == "unit" and self.measure in ENTERPRISE_ONLY:
            raise FigureSpecError(f"{self.measure_label}只适用于企业国有资产")
        if self.scope == "enterprise" and self.measure in UNIT_ONLY:
            raise FigureSpecError(f"{self.measure_label}只适用于行政事业性国有资产")
        if self.name and self.measure == "count":
            raise FigureSpecError("户数只按合计计算，请不要填写单位或企业名称")
        self.check_key()

    @property
    def model(self):
        from .assets_models import EnterpriseAssets, UnitAssets

        return UnitAssets if self.scope == "unit" else EnterpriseAssets

    def validate(self) -> None:
        self.check_shape()
        rows = self.model.objects.filter(year=self.year)
        if not rows.exists():
            raise FigureSpecError(f"{self.year} 年没有{ASSET_SCOPES[self.scope]}数据")
        if self.name and not rows.filter(name=self.name).exists():
            raise FigureSpecError(f"{self.year} 年的{ASSET_SCOPES[self.scope]}中没有“{self.name}”")

    @property
    def period_label(self) -> str:
        return f"{self.year}年"

    def default_label(self) -> str:
        return f"{self.name or ASSET_SCOPES[self.scope]}{self.measure_label}"

    def compute(self) -> Decimal | None:
        field = "equity" if self.scope == "enterprise" and self.measure == "net_assets" else None
        field = field or self.measure
        rows = self.model.objects.filter(year=self.year)
        if self.name:
            rows = rows.filter(name=self.name)
        if self.measure == "count":
            return Decimal(rows.count()) if rows.exists() else None
        totals = rows.aggregate(
            n=Count("pk"), assets=Sum("total_assets"), liabilities=Sum("total_liabilities")
        )
        if not totals["n"]:
            return None
        if self.measure == "debt_ratio":
            return ratio_percent(totals["liabilities"], totals["assets"])
        return rows.aggregate(v=Sum(field))["v"]


# --- 审计整改 ---------------------------------------------------------------------------------

S = RectificationStatus
AUDIT_MEASURES = {
    "count": "审计查出问题",
    S.DONE.value: "已整改问题",
    S.PARTIAL.value: "部分整改问题",
    S.NONE.value: "未整改问题",
    "amount": "问题涉及金额",
    "recovered": "追回或上缴资金",
    "corrected": "调整账目、归还原资金渠道",
    "rectified": "已整改金额",
    "done_share": "整改完成率",
}


@dataclass(frozen=True)
class AuditSpec(_SupervisionSpec):
    source = "audit"
    source_label = "审计整改"
    fields = ("year", "department", "measure")
    measures = AUDIT_MEASURES
    percent_measures = frozenset({"done_share"})
    count_measures = frozenset({"count", S.DONE.value, S.PARTIAL.value, S.NONE.value})

    year: int
    department: str  # 单位编码; "" = every unit
    measure: str

    @classmethod
    def from_data(cls, data) -> "AuditSpec":
        spec = cls(
            year=_year(data),
            department=str(data.get("department") or "").strip(),
            measure=str(data.get("measure") or "count"),
        )
        spec.check_shape()
        return spec

    def check_shape(self) -> None:
        if self.measure not in AUDIT_MEASURES:
            raise FigureSpecError("审计整改指标无效")
        self.check_key()

    def _department(self):
        from budget.models import Department

        return Department.objects.filter(code=self.department).first()

    def validate(self) -> None:
        from .models import AuditFinding

        self.check_shape()
        if self.department and self._department() is None:
            raise FigureSpecError(f"单位编码 {self.department} 不存在")
        if not AuditFinding.objects.filter(year=self.year).exists():
            raise FigureSpecError(f"{self.year} 年没有登记审计查出问题")

    @property
    def period_label(self) -> str:
        return f"{self.year}年度"

    def department_name(self) -> str:
        department = self._department() if self.department else None
        return department.name if department else ""

    def department_ids(self) -> list[int] | None:
        """The unit and its sub-units, [] if the code is unknown, None for every unit."""
        if not self.department:
            return None
        department = self._department()
        return department.descendant_ids() if department else []

    def default_label(self) -> str:
        return f"{self.department_name()}{self.measure_label}"

    def findings(self):
        from .models import AuditFinding

        findings = AuditFinding.objects.filter(year=self.year)
        ids = self.department_ids()
        if ids is not None:
            findings = findings.filter(department_id__in=ids)
        return findings

    def compute(self) -> Decimal | None:
        totals = self.findings().aggregate(
            n=Count("pk"),
            amount=Sum("amount"),
            recovered=Sum("recovered"),
            corrected=Sum("corrected"),
        )
        n = totals["n"]
        if not n:
            return None
        if self.measure == "count":
            return Decimal(n)
        if self.measure in S.values:
            return Decimal(self.findings().filter(status=self.measure).count())
        if self.measure == "done_share":
            return ratio_percent(self.findings().filter(status=S.DONE).count(), n)
        if self.measure == "rectified":
            return (totals["recovered"] or ZERO) + (totals["corrected"] or ZERO)
        return totals[self.measure] or ZERO


SPECS = (DebtSpec, AssetSpec, AuditSpec)
