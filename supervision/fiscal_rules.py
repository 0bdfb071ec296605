"""The four fiscal rules the county measures name (元谋 第三条, 犍为 实施方案): kinds of the
alert rule (RuleKind) whose findings this app computes from budget figures; supervision.alerts
raises, handles, reminds and turns them into letters like every other alert.

Codes are those of the 政府收支分类科目 (SUBJECTS below; loaded with the demo, and present
in the Ministry's yearly classification):

- 收支不平衡（含调入调出资金） — 收入总计 = every revenue 类 (本级收入 101/103 …, 债务收入 105,
  转移性收入 110 incl. 11009 调入资金); 支出总计 = every function 类 (本级支出 …, 转移性支出 230
  incl. 23008 调出资金). Two findings: the budget (调整预算, else 年初预算) is unbalanced when
  |收入总计 − 支出总计| ÷ 收入总计 exceeds the threshold (%); execution to the latest month has
  a gap when 累计支出总计 − 累计收入总计 exceeds the threshold (%) of 累计收入总计. Differences
  below the rule's minimum amount are not reported.
- 转移支付下达进度落后 — per transfer subject (11002 一般性转移支付收入, 11003 专项转移支付收入):
  下达进度 = amount the upper level has issued and the county has booked (累计执行) ÷ the
  budgeted amount; fires when it is behind 序时进度 by more than the threshold (points).
  The figures carry no 指标 records, so the county's own onward issue to departments is not
  visible here; staff record such a lag by hand (supervision.problems).
- 结转结余过大 — per department (scope 按单位) or 类 (else), in the latest year with 决算数 or
  December execution: 结转结余 = 调整预算数 − 支出 (决算数, else 12月累计执行数); fires when
  it exceeds the threshold (% of 调整预算数).
- 税收收入占比偏低 — 税收收入 (101) ÷ 本级收入 (every revenue 类 except 105 债务收入 and 110
  转移性收入), cumulative to the latest month; fires when below the threshold (%).

Every finding's figures carry the inputs, so the alert page and the letter show them.
"""

from decimal import Decimal

from django.db.models import Max, Q

from budget.amounts import UNIT_FACTORS, WAN, format_percent, format_wan
from budget.choices import BudgetKind, ClassificationKind, Phase
from budget.measures import department_table, execution_table, ratio_percent, time_progress
from budget.models import Figure

from .alerts import Finding, latest_execution_period
from .choices import RuleKind, RuleScope

REVENUE = ClassificationKind.REVENUE
FUNCTION = ClassificationKind.FUNCTION

TAX_REVENUE = "101"
DEBT_REVENUE = "105"
TRANSFER_REVENUE = "110"
FUNDS_IN = "11009"  # 调入资金
TRANSFERS = ("11002", "11003")  # 一般性 / 专项转移支付收入
TRANSFER_SPENDING = "230"
FUNDS_OUT = "23008"  # 调出资金
NOT_OWN_REVENUE = {DEBT_REVENUE, TRANSFER_REVENUE}

# The subjects these rules read, as (kind, code, name) for budget.classification.load_subjects.
SUBJECTS = [
    (REVENUE, "105", "债务收入"),
    (REVENUE, "10504", "地方政府债务收入"),
    (REVENUE, "110", "转移性收入"),
    (REVENUE, "11001", "返还性收入"),
    (REVENUE, "11002", "一般性转移支付收入"),
    (REVENUE, "11003", "专项转移支付收入"),
    (REVENUE, "11006", "上解收入"),
    (REVENUE, "11008", "上年结余收入"),
    (REVENUE, "11009", "调入资金"),
    (REVENUE, "11011", "债务转贷收入"),
    (REVENUE, "11015", "动用预算稳定调节基金"),
    (FUNCTION, "230", "转移性支出"),
    (FUNCTION, "23006", "上解支出"),
    (FUNCTION, "23008", "调出资金"),
    (FUNCTION, "23009", "年终结余"),
    (FUNCTION, "23011", "债务转贷支出"),
    (FUNCTION, "23015", "安排预算稳定调节基金"),
]

ZERO = Decimal(0)


def _min_amount(rule) -> Decimal:
    return Decimal(rule.min_amount) * UNIT_FACTORS[WAN]


def _rows(year, month, budget, kind) -> dict:
    return {r.code: r for r in execution_table(year, month, budget, kind=kind, all_levels=True)}


def _value(rows, code, field):
    row = rows.get(code)
    value = getattr(row, field) if row is not None else None
    return value if value is not None else ZERO


def _sum_top(rows, field, exclude=()) -> Decimal | None:
    values = [
        getattr(r, field)
        for code, r in rows.items()
        if r.level == 0 and code not in exclude and getattr(r, field) is not None
    ]
    return sum(values, ZERO) if values else None


def _period_label(year, month) -> str:
    return f"{year}年1-{month}月" if month else f"{year}年"


def _budget_label(rule) -> str:
    return BudgetKind(rule.budget).label


# --- 收支平衡 --------------------------------------------------------------------------------


def balance_inputs(revenue: dict, spending: dict, field: str) -> dict | None:
    """收入总计, 支出总计 and their parts (元) on one basis ("adjusted" or "cumulative")."""
    income = _sum_top(revenue, field)
    outgo = _sum_top(spending, field)
    if income is None or outgo is None:
        return None
    transfers_in = _value(revenue, TRANSFER_REVENUE, field)
    funds_in = _value(revenue, FUNDS_IN, field)
    debt_in = _value(revenue, DEBT_REVENUE, field)
    transfers_out = _value(spending, TRANSFER_SPENDING, field)
    funds_out = _value(spending, FUNDS_OUT, field)
    return {
        "own_revenue": income - transfers_in - debt_in,
        "funds_in": funds_in,
        "other_transfers_in": transfers_in - funds_in,
        "debt_in": debt_in,
        "income": income,
        "own_spending": outgo - transfers_out,
        "funds_out": funds_out,
        "other_transfers_out": transfers_out - funds_out,
        "outgo": outgo,
    }


def _balance_figures(parts: dict, basis: str) -> dict:
    gap = parts["income"] - parts["outgo"]
    return {
        "口径": basis,
        "本级收入（万元）": format_wan(parts["own_revenue"]),
        "调入资金（万元）": format_wan(parts["funds_in"]),
        "其他转移性收入（万元）": format_wan(parts["other_transfers_in"]),
        "债务收入（万元）": format_wan(parts["debt_in"]),
        "收入总计（万元）": format_wan(parts["income"]),
        "本级支出（万元）": format_wan(parts["own_spending"]),
        "调出资金（万元）": format_wan(parts["funds_out"]),
        "其他转移性支出（万元）": format_wan(parts["other_transfers_out"]),
        "支出总计（万元）": format_wan(parts["outgo"]),
        "收支差额（万元）": format_wan(gap),
        "差额占收入总计": format_percent(ratio_percent(gap, parts["income"])),
    }


def budget_balance(rule):
    period = latest_execution_period(rule.budget, REVENUE)
    if not period:
        return None
    year, month = period
    revenue = _rows(year, month, rule.budget, REVENUE)
    spending = _rows(year, month, rule.budget, FUNCTION)
    threshold, minimum = Decimal(rule.threshold), _min_amount(rule)
    findings = []
    planned = balance_inputs(revenue, spending, "adjusted")
    if planned and planned["income"]:
        gap = planned["income"] - planned["outgo"]
        share = ratio_percent(abs(gap), planned["income"])
        if share > threshold and abs(gap) >= minimum:
            figures = _balance_figures(planned, "预算数（调整预算，未调整的为年初预算）")
            figures["预警线"] = format_percent(threshold)
            findings.append(
                Finding(
                    key="收支平衡:预算",
                    title=(
                        f"{year}年{_budget_label(rule)}预算收支不平衡：收入总计"
                        f"{format_wan(planned['income'])}万元（含调入资金"
                        f"{format_wan(planned['funds_in'])}万元），支出总计"
                        f"{format_wan(planned['outgo'])}万元（含调出资金"
                        f"{format_wan(planned['funds_out'])}万元），差额{format_wan(gap)}万元，"
                        f"占收入总计{format_percent(share)}"
                    ),
                    figures=figures,
                )
            )
    actual = balance_inputs(revenue, spending, "cumulative")
    if actual and actual["income"]:
        shortfall = actual["outgo"] - actual["income"]
        share = ratio_percent(shortfall, actual["income"])
        if shortfall > 0 and share > threshold and shortfall >= minimum:
            figures = _balance_figures(actual, f"累计执行数（{_period_label(year, month)}）")
            figures["预警线"] = format_percent(threshold)
            findings.append(
                Finding(
                    key="收支平衡:执行",
                    title=(
                        f"{_period_label(year, month)}{_budget_label(rule)}累计支出总计"
                        f"{format_wan(actual['outgo'])}万元，超过收入总计"
                        f"{format_wan(actual['income'])}万元（含调入资金"
                        f"{format_wan(actual['funds_in'])}万元），收支缺口"
                        f"{format_wan(shortfall)}万元，占收入总计{format_percent(share)}"
                    ),
                    figures=figures,
                )
            )
    return year, month, findings


# --- 转移支付下达 ----------------------------------------------------------------------------


def transfer_lag(rule):
    period = latest_execution_period(rule.budget, REVENUE)
    if not period:
        return None
    year, month = period
    revenue = _rows(year, month, rule.budget, REVENUE)
    threshold, minimum = Decimal(rule.threshold), _min_amount(rule)
    progress = time_progress(month)
    findings = []
    for code in TRANSFERS:
        row = revenue.get(code)
        if row is None or not row.adjusted or row.adjusted < max(minimum, Decimal("0.01")):
            continue
        issued = row.cumulative or ZERO
        rate = ratio_percent(issued, row.adjusted)
        gap = rate - progress
        if gap >= -threshold:
            continue
        due_by_now = (row.adjusted * progress / 100).quantize(Decimal("0.01"))
        findings.append(
            Finding(
                key=f"转移支付:{code}",
                title=(
                    f"{_period_label(year, month)}{row.name}累计下达{format_wan(issued)}万元，"
                    f"为预算{format_wan(row.adjusted)}万元的{format_percent(rate)}，"
                    f"序时进度{format_percent(progress)}，落后{-gap:.2f}个百分点"
                ),
                figures={
                    "科目": f"{code} {row.name}",
                    "预算数（万元）": format_wan(row.adjusted),
                    "累计下达（万元）": format_wan(issued),
                    "按序时应下达（万元）": format_wan(due_by_now),
                    "尚未下达（万元）": format_wan(row.adjusted - issued),
                    "下达进度": format_percent(rate),
                    "序时进度": format_percent(progress),
                    "进度差": format_percent(gap),
                    "预警线（百分点）": f"{threshold:.2f}",
                },
                code=code,
            )
        )
    return year, month, findings


# --- 结转结余 ---------------------------------------------------------------------------------


def _year_end_year(budget):
    return (
        Figure.objects.filter(budget=budget, kind=FUNCTION)
        .filter(Q(phase=Phase.FINAL) | Q(month=12, phase__in=[Phase.EXECUTION, Phase.CUMULATIVE]))
        .aggregate(y=Max("year"))["y"]
    )


def idle_balance(rule):
    year = _year_end_year(rule.budget)
    if not year:
        return None
    by_department = rule.scope == RuleScope.DEPARTMENT
    rows = (
        department_table(year, 12, rule.budget)
        if by_department
        else execution_table(year, 12, rule.budget)
    )
    threshold, minimum = Decimal(rule.threshold), _min_amount(rule)
    findings = []
    for row in rows:
        base = row.adjusted
        spent, basis = (row.final, "决算数") if row.final is not None else (row.cumulative, "")
        if not base or base < max(minimum, Decimal("0.01")) or spent is None:
            continue
        basis = basis or "12月累计执行数"
        idle = base - spent
        share = ratio_percent(idle, base)
        if idle <= 0 or share <= threshold:
            continue
        label = row.name if by_department else f"{row.code} {row.name}"
        findings.append(
            Finding(
                key=f"结转结余:{row.department_id or row.code}",
                title=(
                    f"{year}年 {label} 调整预算{format_wan(base)}万元，支出{format_wan(spent)}"
                    f"万元（{basis}），结转结余{format_wan(idle)}万元，占{format_percent(share)}"
                ),
                figures={
                    "调整预算数（万元）": format_wan(base),
                    f"{basis}（万元）": format_wan(spent),
                    "结转结余（万元）": format_wan(idle),
                    "结转结余占调整预算": format_percent(share),
                    "预警线": format_percent(threshold),
                },
                code="" if by_department else row.code,
                department_id=row.department_id,
            )
        )
    return year, 0, findings


# --- 税收收入占比 ----------------------------------------------------------------------------


def tax_share_of(rows, field) -> tuple:
    own = _sum_top(rows, field, exclude=NOT_OWN_REVENUE)
    tax = rows.get(TAX_REVENUE)
    tax = getattr(tax, field) if tax is not None else None
    return tax, own, ratio_percent(tax or ZERO, own) if own else None


def tax_share(rule):
    period = latest_execution_period(rule.budget, REVENUE)
    if not period:
        return None
    year, month = period
    revenue = _rows(year, month, rule.budget, REVENUE)
    tax, own, share = tax_share_of(revenue, "cumulative")
    threshold = Decimal(rule.threshold)
    findings = []
    if share is not None and own >= _min_amount(rule) and share < threshold:
        _tax, _own, planned = tax_share_of(revenue, "adjusted")
        _ptax, _pown, prior = tax_share_of(revenue, "prior_cumulative")
        findings.append(
            Finding(
                key="税收占比",
                title=(
                    f"{_period_label(year, month)}税收收入{format_wan(tax or ZERO)}万元，占本级"
                    f"{_budget_label(rule)}收入{format_wan(own)}万元的{format_percent(share)}，"
                    f"低于{format_percent(threshold)}"
                ),
                figures={
                    "税收收入（万元）": format_wan(tax or ZERO),
                    "非税收入等其他本级收入（万元）": format_wan(own - (tax or ZERO)),
                    "本级收入（万元）": format_wan(own),
                    "税收收入占比": format_percent(share),
                    "预算安排的税收占比": format_percent(planned) or "—",
                    "上年同期税收占比": format_percent(prior) or "—",
                    "最低占比": format_percent(threshold),
                },
                code=TAX_REVENUE,
            )
        )
    return year, month, findings


FINDERS = {
    RuleKind.BUDGET_BALANCE: budget_balance,
    RuleKind.TRANSFER_LAG: transfer_lag,
    RuleKind.IDLE_BALANCE: idle_balance,
    RuleKind.TAX_SHARE: tax_share,
}
