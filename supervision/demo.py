"""Demo data: 20 audit findings in every state (some overdue, one sent back) and a plausible county's
government debt — five years of limits and balances (the
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

from budget.choices import BudgetKind
from supervision.choices import AlertGrade, RuleKind, RuleScope

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
    from supervision.models import AlertRule

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
    from .alerts import evaluate_all

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
    ensure_budget_rules()
    ensure_rules()
    raised = evaluate_all()
    load_audit_demo(today, stdout)
    load_asset_demo(today, stdout)
    load_fiscal_demo(today, stdout)
    if stdout is not None:
        for label, rows in loaded:
            if rows is not None:
                stdout.write(f"政府债务：导入{label} {rows} 行\n")
        if raised:
            stdout.write(f"监督预警：产生 {len(raised)} 条预警\n")


def ensure_budget_rules() -> None:
    """The rules on budget execution (budget/'s demo figures make some of them fire)."""
    from supervision.choices import RuleScope
    from supervision.models import AlertRule

    rules = [
        (
            "一般公共预算支出进度落后（按类）",
            RuleKind.EXECUTION_LAG,
            RuleScope.CATEGORY,
            15,
            100,
            AlertGrade.GENERAL,
        ),
        (
            "单位支出进度落后",
            RuleKind.EXECUTION_LAG,
            RuleScope.DEPARTMENT,
            15,
            50,
            AlertGrade.IMPORTANT,
        ),
        (
            "三公经费超预算",
            RuleKind.THREE_PUBLIC_OVER,
            RuleScope.DEPARTMENT,
            0,
            0,
            AlertGrade.IMPORTANT,
        ),
        (
            "年底突击花钱（12月支出超过全年四成）",
            RuleKind.YEAR_END_RUSH,
            RuleScope.DEPARTMENT,
            40,
            50,
            AlertGrade.GENERAL,
        ),
        (
            "决算与年初预算偏离过大",
            RuleKind.FINAL_DEVIATION,
            RuleScope.DEPARTMENT,
            25,
            50,
            AlertGrade.MAJOR,
        ),
    ]
    for name, kind, scope, threshold, minimum, grade in rules:
        AlertRule.objects.get_or_create(
            name=name,
            defaults={
                "kind": kind,
                "scope": scope,
                "threshold": Decimal(threshold),
                "min_amount": Decimal(minimum),
                "grade": grade,
                "budget": BudgetKind.GENERAL,
            },
        )


# --- audit findings ---------------------------------------------------------------------------

AUDIT_SOURCE = "关于{year}年度县级预算执行和其他财政收支的审计工作报告"
# problem, requirement, amount (万元, "" = none), final status, days to deadline (negative = past)
FINDINGS = [
    ("部分项目资金滞留未拨付", "立即拨付滞留资金", "326.5", "done", -40),
    ("超范围列支会议费", "收回违规列支资金，上缴财政", "12.8", "done", -30),
    ("政府采购未按规定公开招标", "完善采购内控制度，追究相关人员责任", "", "done", -25),
    ("专项资金挤占挪用用于日常经费", "归还原资金渠道", "85.0", "done", -20),
    ("往来款项长期挂账未清理", "清理往来款，调整账目", "210.3", "done", -10),
    ("固定资产未入账", "补记资产账", "46.2", "done", 10),
    ("结转结余资金未按规定收回统筹", "收回结转结余资金", "158.0", "done", 15),
    ("公务用车运行费超标准", "压减公务用车支出", "6.4", "done", 20),
    ("项目绩效目标未实现", "开展绩效评价并整改", "", "partial", -15),
    ("债券资金闲置超过一年", "加快项目建设进度或调整用途", "1200.0", "partial", -5),
    ("工程项目超概算", "核减超概算部分，完善审批", "305.7", "partial", 30),
    ("非税收入未及时缴库", "及时缴入国库", "94.6", "partial", 45),
    ("惠民补贴资金发放不准确", "追回多发资金", "23.9", "partial", 60),
    ("预算编制不细化，代编预算比例偏高", "细化预算编制", "", "partial", 90),
    ("国有资产出租未经审批", "补办审批，规范出租收入管理", "18.0", "none", -12),
    ("扶贫项目资产未确权移交", "完成资产确权移交", "", "none", -3),
    ("社保基金欠缴未清理", "追缴欠缴基金", "67.2", "none", 20),
    ("基本建设项目未办理竣工决算", "办理竣工财务决算", "", "none", 40),
    ("医疗服务收费不规范", "清退多收费用", "9.7", "none", 75),
    ("政府投资项目前期论证不充分", "建立项目储备论证制度", "", "none", 120),
]

# a finding reported done and sent back by staff (已整改 → 部分整改, 退回重新整改), so that
# every move of audit.TRANSITIONS appears in the demo
SENT_BACK = {"工程项目超概算"}


def load_audit_demo(today=None, stdout=None):
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile

    from budget.models import Department

    from . import audit
    from .models import AuditFinding

    today = today or timezone.localdate()
    year = today.year - 1
    source = AUDIT_SOURCE.format(year=year)
    if AuditFinding.objects.filter(source_report=source).exists():
        return 0
    staff = get_user_model().objects.filter(username="staff").first()
    units = list(Department.objects.filter(is_active=True, parent__isnull=True).order_by("code"))
    if staff is None or not units:
        return 0
    for index, (problem, requirement, amount, status, days) in enumerate(FINDINGS, start=1):
        amount_yuan = Decimal(amount) * 10000 if amount else None
        finding = audit.register(
            staff,
            year=year,
            source_report=source,
            number=f"{year}-{index:02d}",
            problem=problem,
            amount=amount_yuan,
            department=units[(index * 7) % len(units)],
            requirement=requirement,
            deadline=today + datetime.timedelta(days=days),
        )
        if status in ("partial", "done"):
            half = (amount_yuan / 2).quantize(Decimal("0.01")) if amount_yuan else 0
            audit.report_progress(
                finding,
                staff,
                status="partial",
                progress="已制定整改方案并部分完成",
                recovered=half,
            )
        if problem in SENT_BACK:
            audit.report_progress(
                finding, staff, status="done", progress="已核减超概算部分",
                evidence=SimpleUploadedFile(
                    f"{year}-{index:02d}核减说明.txt", "超概算部分已核减。".encode()
                ),
            )  # fmt: skip
            audit.report_progress(
                finding, staff, status="partial",
                progress="退回：未附概算调整批复，超概算部分尚未完成审批，请补充后再报",
            )  # fmt: skip
        if status == "done":
            rest = amount_yuan - half if amount_yuan else 0
            evidence = SimpleUploadedFile(
                f"{year}-{index:02d}整改佐证.txt",
                f"{problem}：已按要求完成整改，{requirement}。".encode(),
            )
            audit.report_progress(
                finding, staff, status="done", progress="整改完成", corrected=rest,
                evidence=evidence,
            )  # fmt: skip
    if stdout is not None:
        stdout.write(f"审计整改：登记 {len(FINDINGS)} 个审计查出问题\n")
    return len(FINDINGS)


# --- 国有资产 ---------------------------------------------------------------------------------------

# code, unit, 资产总额, 负债总额, 固定资产, 土地, 车辆, 车辆金额 (万元, last year); this year
# grows by the unit's own rate (‰) so the year-over-year view has something to show
UNIT_ASSETS = [
    ("101001", "县人民政府办公室", 4820.6, 312.4, 3650.2, 980.0, 6, 128.5, 25),
    ("102001", "县发展和改革局", 1260.3, 96.8, 820.5, 0, 2, 36.2, 12),
    ("103001", "县财政局", 6350.8, 1820.5, 4120.6, 1350.0, 4, 82.4, -8),
    ("104001", "县教育体育局", 38650.2, 2140.8, 30120.0, 5200.0, 9, 156.0, 63),
    ("104101", "县第一中学", 21480.5, 860.2, 18230.4, 3100.0, 2, 38.6, 41),
    ("104201", "县民族中学", 16320.7, 1210.6, 13850.9, 2650.0, 1, 19.8, 22),
    ("105001", "县卫生健康局", 2650.4, 180.3, 1890.6, 420.0, 3, 54.0, 5),
    ("105101", "县人民医院", 42860.9, 15620.4, 31240.8, 3860.0, 12, 486.5, 78),
    ("105201", "县中医医院", 12450.6, 4380.2, 9620.3, 1420.0, 5, 168.2, 35),
    ("106001", "县农业农村和科学技术局", 5380.2, 420.6, 3960.8, 860.0, 5, 96.4, -15),
    ("107001", "县自然资源局", 3920.5, 265.8, 2450.3, 610.0, 6, 118.0, 9),
    ("108001", "县住房和城乡建设局", 7840.3, 2960.7, 5120.4, 1280.0, 4, 86.5, 18),
    ("109001", "县交通运输局", 9620.8, 3150.2, 7480.6, 1650.0, 5, 102.3, 47),
    ("110001", "县水务局", 14250.6, 4820.5, 12380.2, 2240.0, 4, 74.8, 56),
    ("111001", "县公安局", 11860.4, 860.3, 8920.7, 1960.0, 38, 1420.6, 14),
]
# 统一社会信用代码, enterprise, 资产总额, 负债总额, 营业收入, 利润总额 (万元, last year), growth ‰,
# this year's 利润总额
ENTERPRISES = [
    (
        "91530428MA6K000011",
        "县城市建设投资开发有限责任公司",
        265400.0,
        158200.0,
        18650.0,
        1230.5,
        52,
        1460.2,
    ),
    ("91530428MA6K000022", "县交通建设投资有限公司", 86520.4, 51380.6, 6240.8, 320.4, 31, 286.9),
    ("91530428MA6K000033", "县水务产业投资有限公司", 42860.2, 24150.8, 5380.6, 410.2, 18, 452.6),
    ("91530428MA6K000044", "县农业产业发展有限公司", 12650.8, 7820.4, 3960.2, -186.4, -22, -245.8),
    ("91530428MA6K000055", "县国有资本运营有限公司", 58320.6, 19860.2, 2650.4, 860.8, 64, 1024.5),
]


def _grow(value, per_mille):
    return (Decimal(str(value)) * (1000 + per_mille) / 1000).quantize(Decimal("0.01"))


def asset_rows(today: datetime.date | None = None):
    """(unit rows, enterprise rows) for last year and this year, in the template's columns."""
    year = (today or timezone.localdate()).year
    units, enterprises = [], []
    for code, name, assets, debts, fixed, land, cars, cars_value, rate in UNIT_ASSETS:
        for y, grow in ((year - 1, 0), (year, rate)):
            a, d, f = _grow(assets, grow), _grow(debts, grow // 2), _grow(fixed, grow)
            units.append([y, code, name, a, d, a - d, f, land or "", cars, cars_value])
    for code, name, assets, debts, revenue, profit, rate, profit_now in ENTERPRISES:
        for y, grow, p in ((year - 1, 0, profit), (year, rate, profit_now)):
            a, d = _grow(assets, grow), _grow(debts, grow)
            enterprises.append([y, code, name, a, d, a - d, _grow(revenue, grow), p])
    return units, enterprises


def load_asset_demo(today=None, stdout=None):
    """Two years of a county's state-asset report (15 units, 5 enterprises); loaded once."""
    units, enterprises = asset_rows(today)
    loaded = [
        (label, _load(kind, f"{DEMO_PREFIX}_{label}.csv", rows))
        for label, kind, rows in (
            ("行政事业性国有资产", ImportKind.UNIT_ASSETS, units),
            ("企业国有资产", ImportKind.ENTERPRISE_ASSETS, enterprises),
        )
    ]
    if stdout is not None:
        for label, rows in loaded:
            if rows is not None:
                stdout.write(f"国有资产：导入{label} {rows} 行\n")


# --- revenue, transfers and the four fiscal rules; one problem found by hand -----------------

FISCAL_RULES = [
    # name, kind, scope, threshold, minimum (万元), grade
    (
        "一般公共预算收支缺口超过收入总计的5%",
        RuleKind.BUDGET_BALANCE,
        RuleScope.CATEGORY,
        5,
        0,
        AlertGrade.MAJOR,
    ),
    (
        "转移支付下达进度落后序时进度15个百分点以上",
        RuleKind.TRANSFER_LAG,
        RuleScope.CATEGORY,
        15,
        100,
        AlertGrade.MAJOR,
    ),
    (
        "单位结转结余超过调整预算的6%",
        RuleKind.IDLE_BALANCE,
        RuleScope.DEPARTMENT,
        6,
        50,
        AlertGrade.IMPORTANT,
    ),
    ("税收收入占比低于70%", RuleKind.TAX_SHARE, RuleScope.CATEGORY, 70, 0, AlertGrade.GENERAL),
]

# Share of 收入总计 (= 支出总计 incl. 上解, the budget balances) and how far each has come in by
# the month relative to time progress, this year and last. This year taxes lag, non-tax runs
# ahead and 专项转移支付 is issued slowly; 调入资金 is then what leaves execution 8% short of
# spending (last year: what balances it).
REVENUE_PLAN = [
    # code, name, share of the budget, pace this year, pace last year ("" = all in January)
    ("10101", "增值税", "0.084", "0.93", "0.98"),
    ("10104", "企业所得税", "0.029", "0.93", "0.98"),
    ("10106", "个人所得税", "0.012", "0.93", "0.98"),
    ("10109", "城市维护建设税", "0.019", "0.93", "0.98"),
    ("10110", "房产税", "0.012", "0.93", "0.98"),
    ("10111", "印花税", "0.007", "0.93", "0.98"),
    ("10112", "城镇土地使用税", "0.017", "0.93", "0.98"),
    ("10113", "土地增值税", "0.024", "0.93", "0.98"),
    ("10114", "车船税", "0.007", "0.93", "0.98"),
    ("10119", "契税", "0.029", "0.93", "0.98"),
    ("10302", "专项收入", "0.035", "1.15", "1.02"),
    ("10304", "行政事业性收费收入", "0.030", "1.15", "1.02"),
    ("10305", "罚没收入", "0.015", "1.15", "1.02"),
    ("10307", "国有资源（资产）有偿使用收入", "0.020", "1.15", "1.02"),
    ("11002", "一般性转移支付收入", "0.380", "0.88", "1.00"),
    ("11003", "专项转移支付收入", "0.160", "0.55", "0.97"),
    ("11008", "上年结余收入", "0.030", "", ""),
]
FUNDS_IN_SHARE = Decimal("0.090")  # 11009 调入资金 in the budget
REMITTED_SHARE = Decimal("0.02")  # 2300601 一般上解支出, of local spending
FISCAL_FILE = "{prefix}_{year}年1-{month}月一般公共预算收入和转移性收支.csv"


def _fiscal_rows(year, month, spending_base, spending_done, this_year=True):
    """County totals of revenue (收入分类) and 上解支出 for one year, as rows of the budget's
    long form (万元). Amounts are derived from the demo's own spending, so that the budget
    balances and this year's execution shows the gap the demo rules are meant to find."""
    from budget.measures import time_progress

    progress = time_progress(month) / 100
    remitted = (spending_base * REMITTED_SHARE).quantize(Decimal(100))
    total = spending_base + remitted
    rows, collected = [], Decimal(0)

    def add(code, name, kind, budget_amount, done, linear=True):
        label = BudgetKind.GENERAL.label
        rows.append([year, 0, label, code, name, "", "", "年初预算", _wan(budget_amount), kind])
        for m in range(1, month + 1):
            cumulative = done * Decimal(m) / month if linear else done
            rows.append([year, m, label, code, name, "", "", "累计执行", _wan(cumulative), kind])

    for code, name, share, pace_now, pace_before in REVENUE_PLAN:
        pace = pace_now if this_year else pace_before
        amount = (total * Decimal(share)).quantize(Decimal(100))
        done = amount if not pace else (amount * progress * Decimal(pace)).quantize(Decimal(100))
        collected += done
        add(code, name, "收入分类", amount, done, linear=bool(pace))
    spent = spending_done + (remitted * progress).quantize(Decimal(100))
    target = spent * (Decimal("0.92") if this_year else Decimal(1))
    funds_in = max(Decimal(0), (target - collected).quantize(Decimal(100)))
    add("11009", "调入资金", "收入分类", (total * FUNDS_IN_SHARE).quantize(Decimal(100)), funds_in)
    add(
        "2300601",
        "一般上解支出",
        "支出功能分类",
        remitted,
        (remitted * progress).quantize(Decimal(100)),
    )
    return rows


def _wan(yuan: Decimal) -> str:
    return f"{yuan / 10000:.2f}"


def load_fiscal_demo(today=None, stdout=None) -> list:
    """Revenue and transfers of this year's demo period (read from the budget demo's spending),
    the four fiscal rules, and one problem found by hand. Skipped without budget figures."""
    from budget.classification import load_subjects
    from budget.importing import TEMPLATE_HEADERS
    from budget.importing import import_file as import_budget_file
    from budget.measures import execution_table, total_row
    from budget.models import ImportBatch

    from .alerts import evaluate_rule, latest_execution_period
    from .fiscal_rules import FINDERS, SUBJECTS
    from .models import AlertRule

    period = latest_execution_period(BudgetKind.GENERAL)
    if period is None:
        return []
    year, month = period
    for y, m in ((year - 1, 12), (year, month)):
        load_subjects(y, SUBJECTS)
        name = FISCAL_FILE.format(prefix=DEMO_PREFIX, year=y, month=m)
        if ImportBatch.objects.filter(filename=name).exists():
            continue
        spending = total_row(execution_table(y, m, BudgetKind.GENERAL), m)
        if not spending.adjusted:
            continue
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([*TEMPLATE_HEADERS, "科目分类"])
        writer.writerows(_fiscal_rows(y, m, spending.adjusted, spending.cumulative or 0, y == year))
        result = import_budget_file(buffer.getvalue().encode("utf-8"), name, username="演示数据")
        if not result.ok:
            raise RuntimeError(f"演示数据导入失败：{result.errors[:3]}")
        if stdout is not None:
            stdout.write(f"监督事项：导入 {name}，{result.rows} 行\n")
    for rule_name, kind, scope, threshold, minimum, grade in FISCAL_RULES:
        AlertRule.objects.get_or_create(
            name=rule_name,
            defaults={
                "kind": kind,
                "scope": scope,
                "threshold": Decimal(threshold),
                "min_amount": Decimal(minimum),
                "grade": grade,
                "budget": BudgetKind.GENERAL,
            },
        )
    raised = []
    for rule in AlertRule.objects.filter(is_active=True, kind__in=list(FINDERS)):
        raised.extend(evaluate_rule(rule))
    problem = _demo_problem(year, month)
    if stdout is not None:
        if raised:
            stdout.write(f"监督事项：财政收支规则产生 {len(raised)} 条预警\n")
        if problem is not None:
            stdout.write(f"监督事项：登记人工发现问题“{problem.title[:30]}…”\n")
    return raised


DEMO_PROBLEM = ("036", "2140104")  # 县交通运输局, 公路建设


def _demo_problem(year, month):
    """The highway money of the transport bureau, read from the demo's figures and recorded
    as staff would after a query: once."""
    from budget.amounts import format_percent, format_wan
    from budget.measures import department_table
    from budget.models import Department

    from . import problems
    from .alerts import alert_handlers

    if problems.manual_alerts().filter(key__startswith="人工:", year=year).exists():
        return None
    unit_code, code = DEMO_PROBLEM
    department = Department.objects.filter(code=unit_code).first()
    recorder = alert_handlers().order_by("username").filter(username="staff").first() or (
        alert_handlers().order_by("username").first()
    )
    if department is None or recorder is None:
        return None
    rows = department_table(year, month, BudgetKind.GENERAL, code=code)
    row = next((r for r in rows if r.department_id == department.pk), None)
    if row is None or not row.adjusted:
        return None
    return problems.record_problem(
        recorder,
        title=(
            f"{department.name}{year}年1-{month}月公路建设资金执行率"
            f"{format_percent(row.execution_rate)}，明显低于序时进度"
        ),
        description=(
            "在对交通运输领域专项资金的联网查询分析中发现：公路建设项目资金支出缓慢，"
            "部分项目尚未开工，资金可能形成沉淀。建议请该局说明项目进展、未支出原因和后续安排。"
        ),
        source="联网查询：交通运输支出执行情况专项分析",
        figures={
            "调整预算数（万元）": format_wan(row.adjusted),
            "累计执行数（万元）": format_wan(row.cumulative),
            "执行率": format_percent(row.execution_rate),
            "序时进度": format_percent(row.time_progress),
        },
        grade=AlertGrade.IMPORTANT,
        year=year,
        month=month,
        department=department,
        code=code,
    )
