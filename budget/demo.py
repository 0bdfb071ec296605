"""Demo data: a plausible county's four budgets, about 60 budget units, this year's monthly
execution to date and last year's final accounts, loaded through the import service as
two long-form files, and a few alert rules that fire. Idempotent and fast (a few seconds).
"""

import csv
import io
import random
from decimal import Decimal

from django.utils import timezone

from .choices import BudgetKind
from .classification import load_subjects, standard_subjects
from .importing import TEMPLATE_HEADERS, import_file
from .models import Department, ImportBatch

DEMO_PREFIX = "演示数据"
SEED = 20260101

# code, name, parent code, function 项 codes the unit spends on (行政运行 first)
DEPARTMENTS = [
    ("001", "县人大常委会办公室", "", ["2010101", "2010102", "2010104", "2010106", "2010108"]),
    ("002", "县政协办公室", "", ["2010201", "2010204"]),
    ("003", "县人民政府办公室", "", ["2010301", "2010302", "2010303", "2010350"]),
    ("004", "县发展和改革局", "", ["2010401", "2010402"]),
    ("005", "县统计局", "", ["2010501", "2010507"]),
    ("006", "县财政局", "", ["2010601", "2010602", "2010607", "2010650", "227"]),
    ("007", "县审计局", "", ["2010801", "2010804"]),
    ("008", "县纪委监委", "", ["2011101", "2011102"]),
    ("009", "县商务局", "", ["2011301", "2011308"]),
    ("010", "县档案馆", "", ["2012601", "2012604"]),
    ("011", "县总工会", "", ["2012901"]),
    ("012", "县委办公室", "", ["2013101", "2013102"]),
    ("013", "县委组织部", "", ["2013201", "2013202"]),
    ("014", "县委宣传部", "", ["2013301"]),
    ("015", "县委统战部", "", ["2013401"]),
    ("016", "县公安局", "", ["2040201", "2040202", "2040203", "2040299"]),
    ("017", "县人民检察院", "", ["2040401"]),
    ("018", "县人民法院", "", ["2040501"]),
    ("019", "县司法局", "", ["2040601", "2040604"]),
    ("020", "县教育体育局", "", ["2050101", "2050102", "2050803", "2050901", "2070307"]),
    ("020001", "县第一中学", "020", ["2050204"]),
    ("020002", "县第二中学", "020", ["2050203"]),
    ("020003", "县实验小学", "020", ["2050202"]),
    ("020004", "县幼儿园", "020", ["2050201"]),
    ("020005", "县职业高级中学", "020", ["2050302"]),
    ("021", "县科学技术协会", "", ["2060101", "2060701", "2060702"]),
    ("022", "县文化和旅游局", "", ["2070101", "2070109"]),
    ("022001", "县图书馆", "022", ["2070104"]),
    ("023", "县融媒体中心", "", ["2070801"]),
    ("024", "县人力资源和社会保障局", "", ["2080101", "2080109", "2080704", "2080705"]),
    (
        "025",
        "县民政局",
        "",
        ["2080201", "2080208", "2081001", "2081002", "2081901", "2081902", "2082001"],
    ),
    ("026", "县退役军人事务局", "", ["2082801", "2080801", "2080802"]),
    ("027", "县机关事务服务中心", "", ["2080505", "2080506", "2210201"]),
    ("028", "县卫生健康局", "", ["2100101", "2100408", "2100409"]),
    ("028001", "县人民医院", "028", ["2100201"]),
    ("028002", "县中医医院", "028", ["2100202"]),
    ("028003", "县疾病预防控制中心", "028", ["2100401"]),
    ("028004", "城关镇卫生院", "028", ["2100302"]),
    ("029", "县医疗保障局", "", ["2101101", "2101102", "2101202"]),
    ("030", "市生态环境局元江分局", "", ["2110101", "2110301", "2110302", "2110401"]),
    ("031", "县住房和城乡建设局", "", ["2120101", "2120303", "2210105", "2210108"]),
    ("032", "县城市管理综合执法局", "", ["2120104", "2120501"]),
    (
        "033",
        "县农业农村局",
        "",
        ["2130101", "2130104", "2130108", "2130199", "2130504", "2130505", "2130705"],
    ),
    ("034", "县林业和草原局", "", ["2130201", "2130234"]),
    ("035", "县水利局", "", ["2130301", "2130306", "2130314"]),
    ("036", "县交通运输局", "", ["2140101", "2140104", "2140106"]),
    ("037", "县工业和信息化局", "", ["2150899"]),
    ("038", "县自然资源局", "", ["2200101", "2200106"]),
    ("039", "县应急管理局", "", ["2240101"]),
    ("040", "县消防救援大队", "", ["2240204"]),
    ("041", "县粮食和物资储备中心", "", ["2220101"]),
    ("042", "城关镇人民政府", "", ["2010301", "2130705", "2120501"]),
    ("043", "甘庄街道办事处", "", ["2010301", "2130705"]),
    ("044", "曼来镇人民政府", "", ["2010301", "2130705"]),
    ("045", "因远镇人民政府", "", ["2010301", "2130705"]),
    ("046", "澧江街道办事处", "", ["2010301", "2120501"]),
    ("047", "羊街乡人民政府", "", ["2010301", "2130705"]),
    ("048", "那诺乡人民政府", "", ["2010301", "2130705"]),
    ("049", "洼垤乡人民政府", "", ["2010301", "2130705"]),
    ("050", "咪哩乡人民政府", "", ["2010301", "2130705"]),
]

# 三公经费 budgets by unit come from the economic classification.
THREE_PUBLIC = ["30212", "30217", "31013", "30231"]

OTHER_BUDGETS = {
    BudgetKind.FUND: ["2120801", "2120802", "2120803", "2296002", "2296008", "2320411"],
    BudgetKind.STATE_CAPITAL: ["2230199", "2230201"],
    BudgetKind.SOCIAL_INSURANCE: ["2090101", "2091001", "2091101", "2091201", "2091301"],
}

# Units whose spending lags this year, and units with last year's year-end rush.
LAGGING = {"031", "036", "033"}
YEAR_END_RUSH = {"035", "038"}
FINAL_GAP = {"036"}
THREE_PUBLIC_OVER = {"016"}


def _money(rng, low, high) -> Decimal:
    return Decimal(rng.randint(low, high)) * 100  # whole hundreds of 元


def _adjust(rng, initial: Decimal) -> Decimal:
    """调整预算数 = 年初 + 调增 − 调减: a few percent either way."""
    change = Decimal(str(round(rng.uniform(-0.03, 0.12), 4)))
    return initial + (initial * change).quantize(Decimal(100))


def _wan(yuan: Decimal) -> str:
    return f"{yuan / 10000:.6f}".rstrip("0").rstrip(".")


def _monthly_shares(rng, months, rush=False, lag=False):
    weights = [1.0 + rng.random() * 0.4 for _ in range(12)]
    if rush:
        weights[11] = sum(weights[:11]) * 1.3
    else:
        weights[11] *= 1.6
    total = sum(weights)
    share = 0.72 if lag else rng.uniform(0.93, 1.0)
    return [w / total * share for w in weights[:months]]


def _execution_rows(year, budget, code, unit, initial, adjusted, months, last_month):
    rows = [[year, 0, BudgetKind(budget).label, code, "", unit, "", "年初预算", _wan(initial)]]
    rows.append(
        [year, last_month, BudgetKind(budget).label, code, "", unit, "", "调整预算", _wan(adjusted)]
    )
    spent = Decimal(0)
    for month, share in enumerate(months, start=1):
        amount = (adjusted * Decimal(str(round(share, 6)))).quantize(Decimal(100))
        spent += amount
        rows.append(
            [year, month, BudgetKind(budget).label, code, "", unit, "", "执行", _wan(amount)]
        )
    return rows, spent


def build_rows(year: int, month: int, final: bool) -> list[list]:
    """Long-form rows of one year: by unit for the general budget, county totals otherwise."""
    rng = random.Random(SEED + year)
    rows = []
    for unit, _name, _parent, codes in DEPARTMENTS:
        for index, code in enumerate(codes):
            scale = (800, 4000) if index == 0 else (100, 2500)
            initial = _money(rng, *scale) * 10
            adjusted = _adjust(rng, initial)
            lag = unit in LAGGING and not final and index > 0
            rush = unit in YEAR_END_RUSH and final
            shares = _monthly_shares(rng, month, rush=rush, lag=lag)
            unit_rows, spent = _execution_rows(
                year, BudgetKind.GENERAL, code, unit, initial, adjusted, shares, month
            )
            rows += unit_rows
            if final:
                if unit in FINAL_GAP:
                    spent = (initial * Decimal("1.35")).quantize(Decimal(100))
                rows.append([year, 0, "一般公共预算", code, "", unit, "", "决算", _wan(spent)])
        for code in THREE_PUBLIC:
            if rng.random() < 0.4 and unit not in THREE_PUBLIC_OVER:
                continue
            initial = _money(rng, 20, 300)
            over = unit in THREE_PUBLIC_OVER and not final
            shares = [s * (1.5 if over else 0.85) for s in _monthly_shares(rng, month)]
            unit_rows, spent = _execution_rows(
                year, BudgetKind.GENERAL, code, unit, initial, initial, shares, month
            )
            for row in unit_rows:
                row.insert(len(TEMPLATE_HEADERS), "支出经济分类")
            rows += unit_rows
    for budget, codes in OTHER_BUDGETS.items():
        for code in codes:
            initial = _money(rng, 2000, 30000) * 10
            adjusted = _adjust(rng, initial)
            shares = _monthly_shares(rng, month)
            budget_rows, spent = _execution_rows(
                year, budget, code, "", initial, adjusted, shares, month
            )
            rows += budget_rows
            if final:
                rows.append(
                    [year, 0, BudgetKind(budget).label, code, "", "", "", "决算", _wan(spent)]
                )
    for row in rows:
        if len(row) == len(TEMPLATE_HEADERS):
            row.append("支出功能分类")
    return rows


def _csv(rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*TEMPLATE_HEADERS, "科目分类"])
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def ensure_departments() -> int:
    created = 0
    by_code = {d.code: d for d in Department.objects.all()}
    for code, name, parent, _codes in DEPARTMENTS:
        if code in by_code:
            continue
        by_code[code] = Department.objects.create(code=code, name=name, parent=by_code.get(parent))
        created += 1
    link_demo_liaison(by_code)
    return created


# The demo liaison account (cms.demo) acts for the finance bureau.
DEMO_LIAISON = ("liaison", "006")


def link_demo_liaison(by_code) -> None:
    from django.contrib.auth import get_user_model

    username, code = DEMO_LIAISON
    user = get_user_model().objects.filter(username=username).first()
    if user is not None and code in by_code:
        by_code[code].liaisons.add(user)


def demo_period(today=None):
    today = today or timezone.localdate()
    if today.month == 1:
        return today.year, 1
    return today.year, today.month - 1


def load_demo(stdout=None, today=None):
    year, month = demo_period(today)
    for y in (year - 1, year):
        load_subjects(y, standard_subjects())
    departments = ensure_departments()
    imported = []
    for y, m, final in ((year - 1, 12, True), (year, month, False)):
        name = f"{DEMO_PREFIX}_{y}年1-{m}月预算执行.csv"
        if ImportBatch.objects.filter(filename=name).exists():
            continue
        result = import_file(_csv(build_rows(y, m, final)), name, username="演示数据")
        if not result.ok:
            raise RuntimeError(f"演示数据导入失败：{result.errors[:3]}")
        imported.append((name, result.rows))
    if stdout is not None:
        for name, rows in imported:
            stdout.write(f"预算数据：导入 {name}，{rows} 行\n")
        if departments:
            stdout.write(f"预算数据：登记 {departments} 个预算单位\n")
