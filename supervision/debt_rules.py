"""Debt alert rules: kinds of AlertRule (supervision.choices.RuleKind) whose findings this
app computes; supervision.alerts raises, handles and reminds them like any other alert.

- 债务余额接近限额: threshold = share of the limit (%) at which a category's balance alerts;
- 债务率 / 偿债率 / 利息支出率超过警戒线: threshold = the line in %;
- 债券到期未落实偿还资金来源: threshold = months ahead to look.
"""

from decimal import Decimal

from django.utils import timezone

from budget.amounts import format_percent, format_wan
from supervision.alerts import Finding
from supervision.choices import RuleKind

from .choices import DebtCategory
from .debt import history, maturing_bonds


def _latest(predicate):
    rows = [r for r in history() if predicate(r)]
    return rows[-1] if rows else None


def near_limit(rule):
    row = _latest(lambda r: r.limits)
    if row is None:
        return None
    threshold = Decimal(rule.threshold)
    findings = []
    for category in DebtCategory:
        usage = row.category_usage(category)
        if usage is None or usage < threshold:
            continue
        limit, balance = row.limits[category], row.balances[category]
        state = "超过限额" if balance > limit else "接近限额"
        findings.append(
            Finding(
                key=f"限额:{category.value}",
                title=(
                    f"{row.year}年末{category.label}余额 {format_wan(balance)} 万元，"
                    f"为限额 {format_wan(limit)} 万元的 {format_percent(usage)}，{state}"
                    f"（预警线 {format_percent(threshold)}）"
                ),
                figures={
                    f"{category.label}限额（万元）": format_wan(limit),
                    f"{category.label}余额（万元）": format_wan(balance),
                    "余额占限额": format_percent(usage),
                    "尚可举借（万元）": format_wan(limit - balance),
                    "预警线": format_percent(threshold),
                },
            )
        )
    return row.year, 0, findings


def _indicator(name, value_of, inputs_of):
    def finder(rule):
        row = _latest(lambda r: value_of(r) is not None)
        if row is None:
            return None
        value, threshold = value_of(row), Decimal(rule.threshold)
        findings = []
        if value > threshold:
            findings.append(
                Finding(
                    key=name,
                    title=(
                        f"{row.year}年{name} {format_percent(value)}，"
                        f"超过警戒线 {format_percent(threshold)}"
                    ),
                    figures={
                        **inputs_of(row),
                        name: format_percent(value),
                        "警戒线": format_percent(threshold),
                    },
                )
            )
        return row.year, 0, findings

    return finder


debt_ratio = _indicator(
    "债务率",
    lambda r: r.debt_ratio,
    lambda r: {
        "债务余额（万元）": format_wan(r.balance),
        "综合财力（万元）": format_wan(r.capacity),
    },
)
service_ratio = _indicator(
    "偿债率",
    lambda r: r.service_ratio,
    lambda r: {
        "当年偿还本金（万元）": format_wan(r.principal_paid),
        "当年支付利息（万元）": format_wan(r.interest_paid),
        "综合财力（万元）": format_wan(r.capacity),
    },
)
interest_ratio = _indicator(
    "利息支出率",
    lambda r: r.interest_ratio,
    lambda r: {
        "当年支付利息（万元）": format_wan(r.interest_paid),
        "一般公共预算和政府性基金预算支出（万元）": format_wan(r.expenditure),
    },
)


def maturity_unfunded(rule):
    today = timezone.localdate()
    months = int(rule.threshold)
    findings = []
    for bond in maturing_bonds(months, today, unfunded_only=True):
        outstanding = bond.amount - bond.repaid
        findings.append(
            Finding(
                key=f"到期:{bond.code}",
                title=(
                    f"债券“{bond.name}”（{bond.code}）将于 {bond.maturity_date:%Y-%m-%d} 到期，"
                    f"待偿本金 {format_wan(outstanding)} 万元，尚未落实偿还资金来源"
                ),
                figures={
                    "债券编码": bond.code,
                    "债务类型": bond.get_category_display(),
                    "到期日期": f"{bond.maturity_date:%Y-%m-%d}",
                    "发行金额（万元）": format_wan(bond.amount),
                    "待偿本金（万元）": format_wan(outstanding),
                    "项目": bond.project,
                    "提前预警月数": str(months),
                },
            )
        )
    return today.year, 0, findings


FINDERS = {
    RuleKind.DEBT_NEAR_LIMIT: near_limit,
    RuleKind.DEBT_RATIO: debt_ratio,
    RuleKind.DEBT_SERVICE_RATIO: service_ratio,
    RuleKind.DEBT_INTEREST_RATIO: interest_ratio,
    RuleKind.DEBT_MATURITY_UNFUNDED: maturity_unfunded,
}
