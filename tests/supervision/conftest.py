import csv
import io

# budget's fixtures, for the alert tests (they lived in tests/budget/ before the move)
from tests.budget.conftest import classification, departments  # noqa: F401

POSITIONS_HEADER = [
    "年度",
    "债务类型",
    "债务限额(万元)",
    "债务余额(万元)",
    "综合财力(万元)",
    "一般公共预算和政府性基金预算支出(万元)",
]
BONDS_HEADER = [
    "债券编码",
    "债券名称",
    "债务类型",
    "债券类型",
    "发行日期",
    "发行金额(万元)",
    "票面利率(%)",
    "期限(年)",
    "到期日期",
    "资金用途",
    "项目名称",
    "偿还资金来源",
]
REPAYMENTS_HEADER = ["债券编码", "支付日期", "偿还本金(万元)", "支付利息(万元)", "资金来源"]


def csv_bytes(rows, encoding="utf-8"):
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def county_positions():
    return [
        POSITIONS_HEADER,
        [2025, "一般债务", "180000", "168000", "150000", "260000"],
        [2025, "专项债务", "220000", "205000", "", ""],
        [2026, "一般债务", "185000", "176520.35", "152300", "268400"],
        [2026, "专项债务", "230000", "221000", "", ""],
    ]
