"""The debt tables shown on pages and exported: history with indicators, maturity profile,
bonds. Cells and tables are budget/'s, so both modules render and export alike."""

import datetime

from budget.amounts import format_wan
from budget.reports import Cell, Table, amount_cell, percent_cell, points_cell

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


# --- 国有资产 --------------------------------------------------------------------------------------


def _change_cells(change, amount=True):
    make = amount_cell if amount else (lambda v: Cell(v, "" if v is None else str(v), css="num"))
    return [
        make(change.current),
        make(change.previous),
        make(change.delta),
        percent_cell(change.percent),
    ]


def asset_totals_report(year: int, units=None, enterprises=None) -> Table:
    """The yearly totals; *units* and *enterprises* are unit_totals() and enterprise_totals()
    when the caller has them already (the page draws its chart from the same sums)."""
    from .assets import compare, enterprise_totals, ratio_change, unit_totals

    units = unit_totals() if units is None else units
    enterprises = enterprise_totals() if enterprises is None else enterprises
    table = Table(
        title=f"{year}年国有资产总体情况（金额单位：万元）",
        headers=["类别", "项目", f"{year}年", f"{year - 1}年", "增减额", "增减率"],
        note="增减率 = (本年 − 上年) ÷ |上年|；资产负债率 = 负债总额 ÷ 资产总额，其增减额以百分点计。",
    )
    for label, totals, items in (
        (
            "行政事业性国有资产",
            units,
            [
                ("单位数（户）", "count", False),
                ("资产总额", "total_assets", True),
                ("负债总额", "total_liabilities", True),
                ("净资产", "net_assets", True),
                ("其中：固定资产", "fixed_assets", True),
                ("其中：土地", "land", True),
                ("车辆（辆）", "vehicles", False),
                ("车辆金额", "vehicles_value", True),
            ],
        ),
        (
            "企业国有资产",
            enterprises,
            [
                ("企业数（户）", "count", False),
                ("资产总额", "total_assets", True),
                ("负债总额", "total_liabilities", True),
                ("所有者权益", "equity", True),
                ("营业收入", "revenue", True),
                ("利润总额", "profit", True),
            ],
        ),
    ):
        current, previous = totals.get(year), totals.get(year - 1)
        for item, name, amount in items:
            table.rows.append(
                [Cell(label), Cell(item), *_change_cells(compare(current, previous, name), amount)]
            )
        ratio = ratio_change(current, previous)
        table.rows.append(
            [
                Cell(label),
                Cell("资产负债率"),
                percent_cell(ratio.current),
                percent_cell(ratio.previous),
                points_cell(ratio.delta),
                Cell(None),
            ]
        )
    return table


def unit_assets_report(year: int, rows=None) -> Table:
    """All of the year's rows (exports), or the page *rows* of them."""

    from .assets import paired
    from .models import UnitAssets

    table = Table(
        title=f"{year}年行政事业性国有资产（分单位，金额单位：万元）",
        headers=[
            "单位编码",
            "单位名称",
            "资产总额",
            "上年资产总额",
            "资产增减率",
            "负债总额",
            "净资产",
            "上年净资产",
            "固定资产",
            "土地",
            "车辆（辆）",
            "车辆金额",
            "资产负债率",
            "上年资产负债率",
        ],
    )
    for row in paired(UnitAssets, year, rows):
        u, assets, net = row.current, row.change("total_assets"), row.change("net_assets")
        table.rows.append(
            [
                Cell(u.code),
                Cell(u.name),
                amount_cell(assets.current),
                amount_cell(assets.previous),
                percent_cell(assets.percent),
                amount_cell(u.total_liabilities),
                amount_cell(net.current),
                amount_cell(net.previous),
                amount_cell(u.fixed_assets),
                amount_cell(u.land),
                Cell(u.vehicles, "" if u.vehicles is None else str(u.vehicles), css="num"),
                amount_cell(u.vehicles_value),
                percent_cell(row.debt_ratio),
                percent_cell(row.previous_debt_ratio),
            ]
        )
    return table


def enterprise_assets_report(year: int, rows=None) -> Table:
    """All of the year's rows (exports), or the page *rows* of them."""

    from .assets import paired
    from .models import EnterpriseAssets

    table = Table(
        title=f"{year}年企业国有资产（分企业，金额单位：万元）",
        headers=[
            "企业名称",
            "资产总额",
            "上年资产总额",
            "资产增减率",
            "负债总额",
            "所有者权益",
            "营业收入",
            "上年营业收入",
            "营业收入增减率",
            "利润总额",
            "上年利润总额",
            "利润增减额",
            "资产负债率",
            "上年资产负债率",
        ],
    )
    for row in paired(EnterpriseAssets, year, rows):
        e = row.current
        assets, revenue, profit = (
            row.change("total_assets"),
            row.change("revenue"),
            row.change("profit"),
        )
        table.rows.append(
            [
                Cell(e.name),
                amount_cell(assets.current),
                amount_cell(assets.previous),
                percent_cell(assets.percent),
                amount_cell(e.total_liabilities),
                amount_cell(e.equity),
                amount_cell(revenue.current),
                amount_cell(revenue.previous),
                percent_cell(revenue.percent),
                amount_cell(profit.current),
                amount_cell(profit.previous),
                amount_cell(profit.delta),
                percent_cell(row.debt_ratio),
                percent_cell(row.previous_debt_ratio),
            ]
        )
    return table
