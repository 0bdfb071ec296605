import datetime
from decimal import Decimal

import pytest

from supervision.choices import BondType, DebtCategory, ImportKind
from supervision.importing import import_file, template_csv, template_xlsx
from supervision.models import Bond, DebtPosition, DebtYear, Repayment, SupervisionBatch

from .conftest import (
    BONDS_HEADER,
    REPAYMENTS_HEADER,
    county_positions,
    csv_bytes,
    xlsx_bytes,
)

pytestmark = pytest.mark.django_db


def bond_row(code="B001", **changes):
    row = {
        "债券编码": code,
        "债券名称": f"2023年某省政府一般债券（{code}）",
        "债务类型": "一般债务",
        "债券类型": "新增债券",
        "发行日期": "2023-04-18",
        "发行金额(万元)": "12000",
        "票面利率(%)": "2.85",
        "期限(年)": "7",
        "到期日期": "",
        "资金用途": "农村公路建设",
        "项目名称": "县乡道路提升改造工程",
        "偿还资金来源": "一般公共预算收入",
    }
    row.update(changes)
    return [row[h] for h in BONDS_HEADER]


def test_positions_store_limits_balances_and_indicator_inputs():
    result = import_file(csv_bytes(county_positions()), "限额.csv", ImportKind.POSITIONS)
    assert result.ok, result.errors
    assert result.changes == {"added": 4, "changed": 0, "unchanged": 0}
    general = DebtPosition.objects.get(year=2026, category=DebtCategory.GENERAL)
    assert general.limit == Decimal("1850000000.00")
    assert general.balance == Decimal("1765203500.00")
    inputs = DebtYear.objects.get(year=2026)
    assert inputs.capacity == Decimal("1523000000.00")
    assert inputs.expenditure == Decimal("2684000000.00")
    # the same file again changes nothing; a changed balance is an update, not a new row
    again = county_positions()
    again[3][3] = "177000"
    result = import_file(csv_bytes(again), "限额.csv", ImportKind.POSITIONS)
    assert result.changes == {"added": 0, "changed": 1, "unchanged": 3}
    assert DebtPosition.objects.count() == 4


def test_bonds_from_xlsx_compute_maturity_and_keep_codes_as_text():
    rows = [
        BONDS_HEADER,
        bond_row("0023001"),
        bond_row("0023002", **{"债券类型": "再融资", "到期日期": "2028/6/30", "偿还资金来源": ""}),
    ]
    rows[1][4] = datetime.datetime(2023, 4, 18)  # a real Excel date cell
    result = import_file(xlsx_bytes(rows), "债券.xlsx", ImportKind.BONDS)
    assert result.ok, result.errors
    first = Bond.objects.get(code="0023001")
    assert first.maturity_date == datetime.date(2030, 4, 18)
    assert first.amount == Decimal("120000000.00") and first.rate == Decimal("2.85")
    second = Bond.objects.get(code="0023002")
    assert second.bond_type == BondType.REFINANCE
    assert second.maturity_date == datetime.date(2028, 6, 30)
    assert second.repayment_source == ""
    batch = SupervisionBatch.objects.get()
    assert batch.rows == 2 and batch.kind == ImportKind.BONDS and len(batch.sha256) == 64


def test_bad_rows_are_reported_with_row_numbers_and_nothing_is_stored():
    rows = [
        BONDS_HEADER,
        bond_row("B001"),
        bond_row("B002", **{"债务类型": "地方债"}),
        bond_row("B003", **{"发行日期": "2023-02-30", "票面利率(%)": "abc"}),
        bond_row("B001"),
        bond_row("B005", **{"期限(年)": "40", "发行金额(万元)": "=A1*2"}),
        bond_row("B006", **{"到期日期": "2020-01-01"}),
    ]
    result = import_file(csv_bytes(rows), "债券.csv", ImportKind.BONDS)
    assert not result.ok
    by_row = {e.row: e.message for e in result.errors}
    assert "“地方债”不是有效的债务类型" in by_row[3]
    assert "不是存在的日期" in by_row[4] and "票面利率(%)“abc”不是数字" in by_row[4]
    assert "与第 2 行重复" in by_row[5]
    assert "期限(年)“40”应为 1—30 之间的整数年" in by_row[6] and "公式" in by_row[6]
    assert "到期日期应晚于发行日期" in by_row[7]
    assert Bond.objects.count() == 0 and SupervisionBatch.objects.count() == 0


def test_missing_header_and_broken_files_are_refused():
    result = import_file(csv_bytes([["名称", "金额"], ["x", "1"]]), "x.csv", ImportKind.BONDS)
    assert not result.ok and "未找到债券明细的表头" in result.errors[0].message
    result = import_file(b"PK\x03\x04garbage", "x.xlsx", ImportKind.POSITIONS)
    assert not result.ok and "无法打开 XLSX 文件" in result.errors[0].message
    result = import_file(b"", "x.csv", ImportKind.POSITIONS)
    assert "0 字节" in result.errors[0].message
    result = import_file(csv_bytes(county_positions()), "x.csv", "nonsense")
    assert "未知的数据类型" in result.errors[0].message
    assert SupervisionBatch.objects.count() == 0


def test_gbk_csv_is_read():
    result = import_file(
        csv_bytes(county_positions(), encoding="gbk"), "限额.csv", ImportKind.POSITIONS
    )
    assert result.ok, result.errors


def test_conflicting_yearly_inputs_are_refused():
    rows = county_positions()
    rows[2][4] = "150001"  # 综合财力 of 2025 written twice, differently
    result = import_file(csv_bytes(rows), "x.csv", ImportKind.POSITIONS)
    assert not result.ok
    assert result.errors[0].row == 3 and "综合财力与第 2 行填写的不一致" in result.errors[0].message


def test_repayments_need_a_registered_bond_and_cannot_exceed_principal():
    assert import_file(csv_bytes([BONDS_HEADER, bond_row("B001")]), "b.csv", "bonds").ok
    rows = [
        REPAYMENTS_HEADER,
        ["B001", "2024-04-18", "", "342", "一般公共预算"],
        ["B999", "2024-04-18", "", "10", ""],
        ["B001", "2025-04-18", "0", "0", ""],
    ]
    result = import_file(csv_bytes(rows), "r.csv", ImportKind.REPAYMENTS)
    by_row = {e.row: e.message for e in result.errors}
    assert "债券编码“B999”未登记" in by_row[3]
    assert "不能都为空或零" in by_row[4]
    assert Repayment.objects.count() == 0
    good = [REPAYMENTS_HEADER, ["B001", "2024-04-18", "", "342", "一般公共预算"]]
    assert import_file(csv_bytes(good), "r.csv", ImportKind.REPAYMENTS).ok
    over = [REPAYMENTS_HEADER, ["B001", "2030-04-18", "12000.01", "342", ""]]
    result = import_file(csv_bytes(over), "r.csv", ImportKind.REPAYMENTS)
    assert "累计偿还本金超过发行金额" in result.errors[0].message
    assert Repayment.objects.get().interest == Decimal("3420000.00")


@pytest.mark.parametrize("kind", list(ImportKind))
def test_downloaded_templates_import_as_they_are(kind):
    if kind == ImportKind.FINDINGS:  # the example's responsible unit
        from budget.models import Department

        Department.objects.create(code="101", name="县教育体育局")
    if kind == ImportKind.REPAYMENTS:
        assert import_file(template_csv(ImportKind.BONDS), "b.csv", ImportKind.BONDS).ok
        # the bond example already matures in the example row; pay its interest
    result = import_file(template_csv(kind), "t.csv", kind)
    assert result.ok, result.errors
    result = import_file(template_xlsx(kind), "t.xlsx", kind)
    assert result.ok, result.errors
    assert result.changes["unchanged"] == 1
