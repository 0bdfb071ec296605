"""The debt tables shown on pages and exported: history with indicators, maturity profile,
bonds. Cells and tables are budget/'s, so both modules render and export alike."""

import datetime

from budget.amounts import format_wan
from budget.reports import Cell, Table, amount_cell, percent_cell

from .choices import DebtCategory
from .debt import history, maturing_queryset, maturing_totals, maturity_profile

HISTORY_HEADERS = [
    "年度",
    "一般债务限额",
    "一般债务余额",
    "专项债务限额",
    "专项债务余额",
    "债务限额合计",
    "债务余额合计",
    "余额占限额",
    "尚可举借",
]
INDICATOR_HEADERS = [
    "年度",
    "债务余额",
    "综合财力",
    "债务率",
    "当年偿还本金",
    "当年支付利息",
    "偿债率",
    "一般公共预算和政府性基金预算支出",
    "利息支出率",
]


def history_report(rows=None) -> Table:
    rows = history() if rows is None else rows
    table = Table(
        title="政府债务限额与余额（万元）",
        headers=HISTORY_HEADERS,
        note="余额占限额 = 债务余额合计 ÷ 债务限额合计。",
    )
    for r in rows:
        table.rows.append(
            [
                Cell(r.year, str(r.year)),
                amount_cell(r.limits.get(DebtCategory.GENERAL)),
                amount_cell(r.balances.get(DebtCategory.GENERAL)),
                amount_cell(r.limits.get(DebtCategory.SPECIAL)),
                amount_cell(r.balances.get(DebtCategory.SPECIAL)),
                amount_cell(r.limit),
                amount_cell(r.balance),
                percent_cell(r.limit_usage),
                amount_cell(r.headroom),
            ]
        )
    return table


def indicator_report(rows=None) -> Table:
    rows = history() if rows is None else rows
    table = Table(
        title="政府债务风险指标及其计算依据（金额单位：万元）",
        headers=INDICATOR_HEADERS,
        note=(
            "债务率 = 债务余额 ÷ 综合财力；偿债率 = (当年偿还本金 + 当年支付利息) ÷ 综合财力；"
            "利息支出率 = 当年支付利息 ÷ 一般公共预算和政府性基金预算支出。缺少计算依据的指标留空。"
        ),
    )
    for r in rows:
        table.rows.append(
            [
                Cell(r.year, str(r.year)),
                amount_cell(r.balance),
                amount_cell(r.capacity),
                percent_cell(r.debt_ratio),
                amount_cell(r.principal_paid),
                amount_cell(r.interest_paid),
                percent_cell(r.service_ratio),
                amount_cell(r.expenditure),
                percent_cell(r.interest_ratio),
            ]
        )
    return table


def maturity_report(from_year=None, rows=None) -> Table:
    rows = maturity_profile(from_year) if rows is None else rows
    table = Table(
        title="政府债券到期分布（万元）",
        headers=[
            "到期年度",
            "债券只数",
            "发行金额",
            "已偿还本金",
            "待偿本金",
            "其中：一般债务",
            "其中：专项债务",
            "其中：未落实偿还资金来源",
        ],
    )
    for r in rows:
        table.rows.append(
            [
                Cell(r.year, str(r.year)),
                Cell(r.bonds, str(r.bonds), css="num"),
                amount_cell(r.issued),
                amount_cell(r.repaid),
                amount_cell(r.outstanding),
                amount_cell(r.general),
                amount_cell(r.special),
                amount_cell(r.unfunded),
            ]
        )
    return table


def maturing_report(months: int, today: datetime.date, limit: int | None = None) -> Table:
    """Bonds due within *months*; with *limit*, the page lists the first bonds and the note
    gives the count and total of all (the export has every row)."""
    table = Table(
        title=f"今后 {months} 个月内到期的债券（万元）",
        headers=[
            "债券编码",
            "债券名称",
            "债务类型",
            "到期日期",
            "发行金额",
            "待偿本金",
            "项目",
            "偿还资金来源",
        ],
    )
    bonds = maturing_queryset(months, today)
    count, outstanding = maturing_totals(bonds)
    table.note = f"共 {count} 只，待偿本金合计 {format_wan(outstanding)} 万元。"
    if limit is not None and count > limit:
        table.note += f"页面列出最早到期的 {limit} 只，导出 XLSX 包含全部。"
        bonds = bonds[:limit]
    for bond in bonds:
        table.rows.append(
            [
                Cell(bond.code),
                Cell(bond.name),
                Cell(bond.get_category_display()),
                Cell(bond.maturity_date, f"{bond.maturity_date:%Y-%m-%d}"),
                amount_cell(bond.amount),
                amount_cell(bond.amount - bond.repaid),
                Cell(bond.project),
                Cell(
                    bond.repayment_source or "未落实",
                    css="" if bond.repayment_source else "is-behind",
                ),
            ]
        )
    return table
