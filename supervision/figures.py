"""Figures of supervision that documents may cite, beside budget's (budget/figures.py):

- 政府债务 (source "debt"): 限额, 余额, 尚可举借 and 余额占限额 per year and category (or all
  categories), and the county's indicators 债务率, 偿债率, 利息支出率 with their inputs;
- 国有资产 (source "assets"): the 行政事业性 or 企业 totals of a year, or one unit's or
  enterprise's row (by name), e.g. 资产总额, 负债总额, 资产负债率;
- 审计整改 (source "audit"): the findings of a year (optionally of one unit and its
  sub-units): counts by status, 涉及金额, 追回/调账 amounts, 整改完成率;
- 政府债券 (source "bond"): one bond by its code: 发行金额, 待偿本金, 到期日期 (stored as the
  number YYYYMMDD) and whether its 偿还资金来源 is settled (1 / 0);
- 预算汇总 (source "budget_sum"): budget figures no single FigureSpec names — a sum over
  several subject codes (三公经费) or over every 类 (a unit's whole budget), of the county or
  of one unit's own rows (as the unit alert rules read them, without its 二级单位), with the
  derived 超出预算比例 and 结转结余;
- 财政收支 (source "fiscal"): the totals of the fiscal rules (supervision/fiscal_rules.py) —
  收入总计, 支出总计 and their parts, 收支差额, 税收收入占比 — on a basis (预算数, 累计执行数,
  上年同期), computed by the rules' own functions.

The last three are what letters drafted from such alerts cite (supervision/citations.py).

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

    # the figure page (/supervision/figure/) links to this page and highlights this section
    section = ""

    def page_url(self) -> str:
        return reverse(f"supervision:{self.section}") + f"?year={self.year}"


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

    section = "debt"

    def page_url(self) -> str:
        return reverse("supervision:debt")

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

    section = "assets"

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

    section = "findings"

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


# --- 政府债券 ---------------------------------------------------------------------------------

BOND_MEASURES = {
    "amount": "发行金额",
    "outstanding": "待偿本金",
    "maturity": "到期日期",
    "funded": "偿还资金来源",
}


@dataclass(frozen=True)
class BondSpec(_SupervisionSpec):
    """One bond's figure. A date or a yes/no is stored as a number like every cited value:
    到期日期 as YYYYMMDD, 偿还资金来源 as 1 (已落实) or 0 (未落实)."""

    source = "bond"
    source_label = "政府债券"
    fields = ("code", "measure")
    measures = BOND_MEASURES
    section = "bonds"

    code: str  # 债券编码
    measure: str

    @classmethod
    def from_data(cls, data) -> "BondSpec":
        spec = cls(
            code=str(data.get("code") or "").strip(),
            measure=str(data.get("measure") or "outstanding"),
        )
        spec.check_shape()
        return spec

    def check_shape(self) -> None:
        if not self.code:
            raise FigureSpecError("请填写债券编码")
        if self.measure not in BOND_MEASURES:
            raise FigureSpecError("债券指标无效")
        self.check_key()

    def bond(self):
        from .models import Bond

        return Bond.objects.filter(code=self.code).first()

    def validate(self) -> None:
        self.check_shape()
        if self.bond() is None:
            raise FigureSpecError(f"债券编码 {self.code} 不存在")

    def page_url(self) -> str:
        return reverse("supervision:bonds") + "?" + urlencode({"q": self.code})

    @property
    def period_label(self) -> str:
        return ""

    def default_label(self) -> str:
        bond = self.bond()
        name = f"债券“{bond.name}”（{self.code}）" if bond else f"债券 {self.code} "
        return f"{name}{self.measure_label}"

    def format(self, value) -> str:
        if value is None:
            return "暂无数据"
        if self.measure == "maturity":
            day = f"{int(value):08d}"
            return f"{day[:4]}-{day[4:6]}-{day[6:]}"
        if self.measure == "funded":
            return "已落实" if value else "未落实"
        return super().format(value)

    def compute(self) -> Decimal | None:
        from .models import Repayment

        bond = self.bond()
        if bond is None:
            return None
        if self.measure == "amount":
            return bond.amount
        if self.measure == "outstanding":
            paid = Repayment.objects.filter(bond=bond).aggregate(p=Sum("principal"))["p"]
            return bond.amount - (paid or ZERO)
        if self.measure == "maturity":
            return Decimal(int(bond.maturity_date.strftime("%Y%m%d")))
        return Decimal(1 if bond.repayment_source.strip() else 0)


# --- 预算汇总: several codes, every 类, one unit's own rows --------------------------------------

BUDGET_SUM_MEASURES = {
    "initial": "年初预算数",
    "adjusted": "调整预算数",
    "month": "本月执行数",
    "cumulative": "累计执行数",
    "final": "决算数",
    "execution_rate": "执行率",
    "time_progress": "序时进度",
    "progress_gap": "进度差",
    "over_share": "超出预算比例",
    "idle": "结转结余",
    "idle_share": "结转结余占调整预算",
}
YEAR_MEASURES = {"initial", "final", "idle", "idle_share"}


def _check_period(year, month, budget, kind) -> None:
    from budget.choices import BudgetKind, ClassificationKind

    if not 1990 <= year <= 2100:
        raise FigureSpecError("年度不在有效范围内")
    if not 0 <= month <= 12:
        raise FigureSpecError("月份必须在 0（全年）到 12 之间")
    if budget not in BudgetKind.values:
        raise FigureSpecError("预算类型无效")
    if kind not in ClassificationKind.values:
        raise FigureSpecError("科目分类无效")


def _period(year, month, whole_year=False) -> str:
    if month == 0 or whole_year:
        return f"{year}年"
    return f"{year}年1-{month}月" if month > 1 else f"{year}年1月"


def _month(data) -> int:
    try:
        return int(data.get("month") or 0)
    except (TypeError, ValueError):
        raise FigureSpecError("月份必须是整数") from None


@dataclass(frozen=True)
class BudgetSumSpec(_SupervisionSpec):
    """A budget figure summed over ``codes`` (comma-separated; "" = every 类 of the kind),
    of the county or of one unit's own rows (``department``; its 二级单位 are units of their
    own, as in the per-unit alert rules and budget's 按单位 table)."""

    source = "budget_sum"
    source_label = "预算汇总"
    fields = ("year", "month", "budget", "kind", "codes", "department", "measure")
    measures = BUDGET_SUM_MEASURES
    percent_measures = frozenset(
        {"execution_rate", "time_progress", "progress_gap", "over_share", "idle_share"}
    )

    year: int
    month: int  # 0 = the whole year (computed at December)
    budget: str
    kind: str
    codes: str
    department: str  # 单位编码; "" = the county
    measure: str

    @classmethod
    def from_data(cls, data) -> "BudgetSumSpec":
        spec = cls(
            year=_year(data),
            month=_month(data),
            budget=str(data.get("budget") or "general"),
            kind=str(data.get("kind") or "function"),
            codes=",".join(c.strip() for c in str(data.get("codes") or "").split(",") if c.strip()),
            department=str(data.get("department") or "").strip(),
            measure=str(data.get("measure") or "cumulative"),
        )
        spec.check_shape()
        return spec

    @property
    def code_list(self) -> list[str]:
        return [c for c in self.codes.split(",") if c]

    def check_shape(self) -> None:
        _check_period(self.year, self.month, self.budget, self.kind)
        if self.measure not in BUDGET_SUM_MEASURES:
            raise FigureSpecError("指标无效")
        if any(not c.isdigit() for c in self.code_list):
            raise FigureSpecError("科目编码只能是数字，多个编码用逗号分隔")
        self.check_key()

    def _department(self):
        from budget.models import Department

        return Department.objects.filter(code=self.department).first()

    def validate(self) -> None:
        from budget.models import Subject

        self.check_shape()
        known = set(
            Subject.objects.filter(
                year=self.year, kind=self.kind, code__in=self.code_list
            ).values_list("code", flat=True)
        )
        missing = [c for c in self.code_list if c not in known]
        if missing:
            raise FigureSpecError(
                f"科目编码 {'、'.join(missing)} 在 {self.year} 年的科目表中不存在"
            )
        if self.department and self._department() is None:
            raise FigureSpecError(f"单位编码 {self.department} 不存在")

    def page_url(self) -> str:
        from budget.choices import THREE_PUBLIC_CODES
        from budget.reports import Params

        params = Params(
            year=self.year,
            month=self.month or 12,
            budget=self.budget,
            kind=self.kind,
            department=self._department() if self.department else None,
        )
        if set(self.code_list) == set(THREE_PUBLIC_CODES):
            return params.url("three_public")
        return params.url("departments" if self.department else "execution")

    @property
    def page_label(self) -> str:
        from budget.choices import THREE_PUBLIC_CODES

        if set(self.code_list) == set(THREE_PUBLIC_CODES):
            return "三公经费"
        return "按单位执行情况" if self.department else "预算执行情况"

    @property
    def period_label(self) -> str:
        return _period(self.year, self.month, self.measure in YEAR_MEASURES)

    def group_label(self) -> str:
        from budget.choices import THREE_PUBLIC_CODES, ClassificationKind
        from budget.models import Subject

        if not self.code_list:
            return "全部收入" if self.kind == ClassificationKind.REVENUE else "全部支出"
        if set(self.code_list) == set(THREE_PUBLIC_CODES):
            return "三公经费"
        names = dict(
            Subject.objects.filter(
                year=self.year, kind=self.kind, code__in=self.code_list
            ).values_list("code", "name")
        )
        return "、".join(names.get(c, c) for c in self.code_list)

    def default_label(self) -> str:
        department = self._department() if self.department else None
        return f"{department.name if department else ''}{self.group_label()}{self.measure_label}"

    def row(self):
        """The summed ExecutionRow, None without data — computed as the alert rules do
        (budget.measures: department_table for a unit, the county tree otherwise)."""
        from dataclasses import replace

        from budget.measures import (
            ExecutionRow,
            Measures,
            department_table,
            execution_table,
            measures_for,
            time_progress,
            total_row,
        )

        month = self.month or 12
        department = None
        if self.department:
            department = self._department()
            if department is None:
                return None
        total, found = Measures(), False
        for code in self.code_list or [""]:
            if department is not None:
                rows = department_table(
                    self.year,
                    month,
                    self.budget,
                    code=code,
                    kind=self.kind,
                    department_ids=[department.pk],
                )
                measures = next(
                    (r.measures for r in rows if r.department_id == department.pk), None
                )
            elif code:
                row = measures_for(self.year, month, self.budget, code, kind=self.kind)
                measures = row.measures if row else None
            else:
                rows = execution_table(self.year, month, self.budget, kind=self.kind)
                measures = total_row(rows, month).measures if rows else None
            if measures is not None:
                # each code's 调整预算数 falls back on its own 年初预算数
                total.add(replace(measures, adjusted=measures.budget_base))
                found = True
        if not found:
            return None
        return ExecutionRow(
            code=self.codes, name="", level=0, measures=total, time_progress=time_progress(month)
        )

    def compute(self) -> Decimal | None:
        row = self.row()
        if row is None:
            return None
        if self.measure in ("over_share", "idle", "idle_share"):
            base = row.adjusted
            if self.measure == "over_share":
                if row.cumulative is None:
                    return None
                return ratio_percent(row.cumulative - base, base) if base else None
            spent = row.final if row.final is not None else row.cumulative
            if base is None or spent is None:
                return None
            idle = base - spent
            return idle if self.measure == "idle" else ratio_percent(idle, base)
        return {
            "initial": row.initial,
            "adjusted": row.adjusted,
            "month": row.month_amount,
            "cumulative": row.cumulative,
            "final": row.final,
            "execution_rate": row.execution_rate,
            "time_progress": row.time_progress,
            "progress_gap": row.progress_gap,
        }[self.measure]


# --- 财政收支: the fiscal rules' totals --------------------------------------------------------

FISCAL_BASES = {
    "adjusted": "预算数",
    "cumulative": "累计执行数",
    "prior_cumulative": "上年同期累计执行数",
}
# the parts of supervision.fiscal_rules.balance_inputs, then the derived ones
FISCAL_MEASURES = {
    "own_revenue": "本级收入",
    "funds_in": "调入资金",
    "other_transfers_in": "其他转移性收入",
    "debt_in": "债务收入",
    "income": "收入总计",
    "own_spending": "本级支出",
    "funds_out": "调出资金",
    "other_transfers_out": "其他转移性支出",
    "outgo": "支出总计",
    "balance_gap": "收支差额",
    "gap_share": "差额占收入总计",
    "tax_revenue": "税收收入",
    "other_own_revenue": "非税收入等其他本级收入",
    "tax_share": "税收收入占比",
}


@dataclass(frozen=True)
class FiscalSpec(_SupervisionSpec):
    """A county total of the fiscal rules on a basis, computed by the rules' own functions
    (a code without figures counts as 0 there, and so here)."""

    source = "fiscal"
    source_label = "财政收支"
    fields = ("year", "month", "budget", "basis", "measure")
    measures = FISCAL_MEASURES
    percent_measures = frozenset({"gap_share", "tax_share"})

    year: int
    month: int  # the month of the execution data read (0 = December)
    budget: str
    basis: str
    measure: str

    @classmethod
    def from_data(cls, data) -> "FiscalSpec":
        spec = cls(
            year=_year(data),
            month=_month(data),
            budget=str(data.get("budget") or "general"),
            basis=str(data.get("basis") or "cumulative"),
            measure=str(data.get("measure") or "income"),
        )
        spec.check_shape()
        return spec

    def check_shape(self) -> None:
        _check_period(self.year, self.month, self.budget, "revenue")
        if self.basis not in FISCAL_BASES:
            raise FigureSpecError("口径无效")
        if self.measure not in FISCAL_MEASURES:
            raise FigureSpecError("财政收支指标无效")

    def validate(self) -> None:
        self.check_shape()
        if self.compute() is None:
            raise FigureSpecError(f"{self.year}年没有{self.measure_label}的数据")

    page_label = "收入执行情况"

    def page_url(self) -> str:
        from budget.reports import Params

        return Params(
            year=self.year, month=self.month or 12, budget=self.budget, kind="revenue"
        ).url("execution")

    @property
    def period_label(self) -> str:
        month = self.month or 12
        if self.basis == "prior_cumulative":
            return f"{self.year - 1}年同期（1-{month}月）"
        if self.basis == "adjusted":
            return f"{self.year}年"
        return _period(self.year, month)

    def default_label(self) -> str:
        suffix = "（预算数）" if self.basis == "adjusted" else ""
        return f"{self.measure_label}{suffix}"

    def compute(self) -> Decimal | None:
        from .fiscal_rules import FUNCTION, REVENUE, _rows, balance_inputs, tax_share_of

        month = self.month or 12
        revenue = _rows(self.year, month, self.budget, REVENUE)
        if self.measure in ("own_revenue", "tax_revenue", "other_own_revenue", "tax_share"):
            # 本级收入 = every revenue 类 but 债务收入 and 转移性收入: needs no spending
            tax, own, share = tax_share_of(revenue, self.basis)
            if own is None:
                return None
            return {
                "own_revenue": own,
                "tax_revenue": tax or ZERO,
                "other_own_revenue": own - (tax or ZERO),
                "tax_share": share,
            }[self.measure]
        spending = _rows(self.year, month, self.budget, FUNCTION)
        parts = balance_inputs(revenue, spending, self.basis)
        if parts is None:
            return None
        gap = parts["income"] - parts["outgo"]
        if self.measure == "balance_gap":
            return gap
        if self.measure == "gap_share":
            return ratio_percent(gap, parts["income"])
        return parts[self.measure]


SPECS = (DebtSpec, AssetSpec, AuditSpec, BondSpec, BudgetSumSpec, FiscalSpec)
