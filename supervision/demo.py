"""Demo data: a plausible county's government debt — five years of limits and balances (the
balance near but below the limit), a dozen bonds of which a few mature within the year (one
with no repayment source), their interest and principal payments, and the debt alert rules.
Loaded through the import service as three files; idempotent (a file already imported is
not imported again, a rule that exists is kept).
"""

import csv
import datetime
import io
from decimal import Decimal

from django.utils import timezone

from budget.choices import AlertGrade, BudgetKind, RuleKind

from .choices import ImportKind
from .debt import add_months
from .importing import COLUMNS, import_file
from .models import SupervisionBatch

DEMO_PREFIX = "演示数据"

# year offset from this year, 一般 limit, 一般 balance, 专项 limit, 专项 balance,
# 综合财力, 一般公共预算和政府性基金预算支出 (万元)
POSITIONS = [
    (-4, 142000, 128600, 158000, 139800, 251000, 238000),
    (-3, 151000, 139200, 176000, 161300, 259000, 246500),
    (-2, 163000, 151800, 197000, 182400, 266000, 255200),
    (-1, 174000, 164300, 214000, 203100, 272500, 261800),
    (0, 185000, 176520.35, 230000, 221000, 281300, 268400),
]

# code, name, 一般/专项, type, term, amount (万元), rate %, maturity in months from today,
# use, project, repayment source ("" = not yet arranged)
BONDS = [
    (
        "2019A07",
        "2019年某省政府一般债券（七期）",
        "一般债务",
        "新增债券",
        7,
        9000,
        "3.41",
        3,
        "教育",
        "县第二中学迁建工程",
        "一般公共预算收入",
    ),
    (
        "2021S03",
        "2021年某省政府专项债券（三期）",
        "专项债务",
        "新增债券",
        5,
        12000,
        "3.12",
        5,
        "产业园区基础设施",
        "工业园区标准厂房",
        "",
    ),
    (
        "2016R02",
        "2016年某省政府置换债券（二期）",
        "一般债务",
        "置换债券",
        10,
        6500,
        "2.98",
        8,
        "置换存量债务",
        "",
        "再融资债券",
    ),
    (
        "2023R05",
        "2023年某省政府再融资一般债券（五期）",
        "一般债务",
        "再融资债券",
        3,
        4800,
        "2.66",
        11,
        "偿还到期债券本金",
        "",
        "一般公共预算收入",
    ),
    (
        "2020S11",
        "2020年某省政府专项债券（十一期）",
        "专项债务",
        "新增债券",
        10,
        20000,
        "3.35",
        70,
        "棚户区改造",
        "城北片区棚户区改造",
        "国有土地使用权出让收入",
    ),
    (
        "2022A02",
        "2022年某省政府一般债券（二期）",
        "一般债务",
        "新增债券",
        10,
        15000,
        "2.95",
        84,
        "农村公路",
        "县乡道路提升改造工程",
        "一般公共预算收入",
    ),
    (
        "2022S08",
        "2022年某省政府专项债券（八期）",
        "专项债务",
        "新增债券",
        15,
        26000,
        "3.05",
        150,
        "水利",
        "城乡供水一体化工程",
        "供水项目收入",
    ),
    (
        "2023A04",
        "2023年某省政府一般债券（四期）",
        "一般债务",
        "新增债券",
        7,
        11000,
        "2.71",
        62,
        "卫生健康",
        "县人民医院住院楼",
        "一般公共预算收入",
    ),
    (
        "2024S01",
        "2024年某省政府专项债券（一期）",
        "专项债务",
        "新增债券",
        20,
        30000,
        "2.62",
        215,
        "冷链物流",
        "农产品冷链物流园",
        "物流园经营收入",
    ),
    (
        "2024A06",
        "2024年某省政府一般债券（六期）",
        "一般债务",
        "新增债券",
        10,
        9500,
        "2.35",
        110,
        "生态环保",
        "县城污水管网改造",
        "一般公共预算收入",
    ),
    (
        "2025S04",
        "2025年某省政府专项债券（四期）",
        "专项债务",
        "新增债券",
        30,
        18000,
        "2.28",
        340,
        "保障性住房",
        "县城保障性租赁住房",
        "租金收入",
    ),
    (
        "2025R02",
        "2025年某省政府再融资一般债券（二期）",
        "一般债务",
        "再融资债券",
        5,
        7200,
        "1.98",
        48,
        "偿还到期债券本金",
        "",
        "一般公共预算收入",
    ),
]

RULES = [
    ("政府债务余额接近限额（达到限额的95%）", RuleKind.DEBT_NEAR_LIMIT, 95, AlertGrade.MAJOR),
    ("债务率超过警戒线（120%）", RuleKind.DEBT_RATIO, 120, AlertGrade.MAJOR),
    ("偿债率超过警戒线（15%）", RuleKind.DEBT_SERVICE_RATIO, 15, AlertGrade.IMPORTANT),
    ("利息支出率超过警戒线（10%）", RuleKind.DEBT_INTEREST_RATIO, 10, AlertGrade.IMPORTANT),
    ("债券6个月内到期未落实偿还资金来源", RuleKind.DEBT_MATURITY_UNFUNDED, 6, AlertGrade.IMPORTANT),
]


def _csv(kind, rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.header for c in COLUMNS[kind]])
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _bonds(today):
    rows, schedule = [], []
    for code, name, cat, kind, term, amount, rate, months, use, project, source in BONDS:
        maturity = add_months(today, months)
        issue = add_months(maturity, -12 * term)
        rows.append(
            [
                code,
                name,
                cat,
                kind,
                issue.isoformat(),
                amount,
                rate,
                term,
                maturity.isoformat(),
                use,
                project,
                source,
            ]
        )
        schedule.append((code, issue, maturity, Decimal(amount), Decimal(rate)))
    return rows, schedule


def _repayments(schedule, today):
    """Yearly interest on each anniversary already passed; nothing repaid early."""
    rows = []
    for code, issue, maturity, amount, rate in schedule:
        for year in range(issue.year + 1, maturity.year + 1):
            day = issue.replace(year=year)
            if day > today or day >= maturity:
                break
            interest = (amount * rate / 100).quantize(Decimal("0.01"))
            source = "一般公共预算" if code[4] in "AR" else "政府性基金预算"
            rows.append([code, day.isoformat(), "", str(interest), source])
    return rows


def _load(kind, name, rows):
    if SupervisionBatch.objects.filter(filename=name).exists():
        return None
    result = import_file(_csv(kind, rows), name, kind, username="演示数据")
    if not result.ok:
        raise RuntimeError(f"演示数据导入失败：{[e.message for e in result.errors[:3]]}")
    return result.rows


def ensure_rules():
    from budget.models import AlertRule

    for name, kind, threshold, grade in RULES:
        AlertRule.objects.get_or_create(
            name=name,
            defaults={
                "kind": kind,
                "threshold": Decimal(threshold),
                "grade": grade,
                "budget": BudgetKind.GENERAL,
            },
        )


def load_demo(stdout=None, today: datetime.date | None = None):
    from budget.alerts import evaluate_rule
    from budget.models import AlertRule

    from .debt_rules import FINDERS

    today = today or timezone.localdate()
    year = today.year
    positions = []
    for offset, gl, gb, sl, sb, capacity, expenditure in POSITIONS:
        positions.append([year + offset, "一般债务", gl, gb, capacity, expenditure])
        positions.append([year + offset, "专项债务", sl, sb, "", ""])
    bonds, schedule = _bonds(today)
    loaded = [
        (label, _load(kind, f"{DEMO_PREFIX}_{label}.csv", rows))
        for label, kind, rows in (
            ("债务限额余额", ImportKind.POSITIONS, positions),
            ("债券明细", ImportKind.BONDS, bonds),
            ("还本付息", ImportKind.REPAYMENTS, _repayments(schedule, today)),
        )
    ]
    ensure_rules()
    raised = []
    for rule in AlertRule.objects.filter(is_active=True, kind__in=list(FINDERS)):
        raised.extend(evaluate_rule(rule))
    if stdout is not None:
        for label, rows in loaded:
            if rows is not None:
                stdout.write(f"政府债务：导入{label} {rows} 行\n")
        if raised:
            stdout.write(f"政府债务：产生 {len(raised)} 条预警\n")
