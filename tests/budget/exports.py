"""A 1–9月 一般公共预算支出执行情况表 shaped like a finance system's export: a merged title
row, the unit line, a two-row header (预算数 over 年初/调整, 执行数 over 本月/累计), the 合计
row, then 类/款/项 rows with codes and names, each 类 and 款 the sum of its rows below.
Codes and names are those of the 2026 政府收支分类科目 (支出功能分类)."""

import io
from decimal import Decimal

# (code, name, 年初预算数, 调整预算数, 本月执行数, 累计执行数) for the 项; 类/款 are summed.
ITEMS = [
    ("2010101", "行政运行", "312.50", "320.00", "25.30", "236.80"),
    ("2010104", "人大会议", "45.00", "45.00", "0.00", "41.20"),
    ("2010108", "代表工作", "60.00", "66.00", "4.10", "38.75"),
    ("2010601", "行政运行", "520.00", "528.40", "43.00", "391.60"),
    ("2010607", "信息化建设", "180.00", "180.00", "12.00", "96.30"),
    ("2010608", "财政委托业务支出", "75.00", "82.00", "6.40", "51.10"),
    ("2050201", "学前教育", "1,260.00", "1,310.00", "98.20", "905.40"),
    ("2050202", "小学教育", "4,820.00", "4,905.50", "402.30", "3,604.90"),
    ("2050203", "初中教育", "3,115.00", "3,150.00", "251.00", "2,288.45"),
    ("2080505", "机关事业单位基本养老保险缴费支出", "2,104.00", "2,104.00", "175.30", "1,577.70"),
    ("2080506", "机关事业单位职业年金缴费支出", "842.00", "842.00", "70.10", "631.00"),
    ("2130301", "行政运行", "210.00", "214.00", "17.20", "158.00"),
    ("2130314", "防汛", "150.00", "260.00", "30.00", "212.60"),
]
NAMES = {
    "201": "一般公共服务支出",
    "20101": "人大事务",
    "20106": "财政事务",
    "205": "教育支出",
    "20502": "普通教育",
    "208": "社会保障和就业支出",
    "20805": "行政事业单位养老支出",
    "213": "农林水支出",
    "21303": "水利",
}
TITLE = "2026年1-9月一般公共预算支出执行情况表"


def _wan(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def rows(items=ITEMS, names=NAMES):
    """The table's data rows: 合计 first, then each 类, its 款 and their 项, in code order."""
    sums = {}
    for code, _name, *amounts in items:
        for prefix in (code[:3], code[:5]):
            totals = sums.setdefault(prefix, [Decimal(0)] * 4)
            for i, amount in enumerate(amounts):
                totals[i] += _wan(amount)
    grand = [sum((sums[c][i] for c in sums if len(c) == 3), Decimal(0)) for i in range(4)]
    out = [["", "合计", *grand, ""]]
    done = set()
    for code, name, *amounts in items:
        for prefix in (code[:3], code[:5]):
            if prefix not in done:
                done.add(prefix)
                out.append([prefix, names[prefix], *sums[prefix], ""])
        out.append([code, name, *(_wan(a) for a in amounts), ""])
    for row in out:
        adjusted, cumulative = row[3], row[5]
        row[6] = f"{cumulative / adjusted * 100:.2f}%" if adjusted else ""
    return out


def export_xlsx(items=ITEMS, names=NAMES, title=TITLE) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "支出执行情况"
    sheet.append([title])
    sheet.append(["编制单位：县财政局", "", "", "", "", "", "单位：万元"])
    sheet.append(["科目编码", "科目名称", "预算数", "", "执行数", "", "执行率"])
    sheet.append(["", "", "年初预算数", "调整预算数", "本月执行数", "累计执行数", ""])
    for ref in ("A1:G1", "A3:A4", "B3:B4", "C3:D3", "E3:F3", "G3:G4"):
        sheet.merge_cells(ref)
    for row in rows(items, names):
        sheet.append([row[0], row[1], *(float(v) for v in row[2:6]), row[6]])
    sheet.append(["", "注：本表数据来源于预算管理一体化系统", "", "", "", "", ""])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
