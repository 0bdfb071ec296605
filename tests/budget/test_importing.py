import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from budget.choices import BatchStatus, Phase
from budget.importing import ImportOptions, import_file, metadata_from_text
from budget.models import Figure, ImportBatch, Subject

from .conftest import LONG_HEADER, csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

GOOD_ROWS = [
    LONG_HEADER,
    [2026, 0, "一般公共预算", "2010101", "行政运行", "", "", "年初预算", "312.5"],
    [2026, 9, "一般公共预算", "2010101", "行政运行", "", "", "累计执行", "236.80"],
    [2026, 9, "一般公共预算", "2050202", "小学教育", "201", "县教育局", "执行", "1,204.123456"],
]


def messages(result):
    return [(e.row, e.message) for e in result.errors]


def test_long_csv_is_stored_exactly_in_yuan(classification, departments):
    result = import_file(csv_bytes(GOOD_ROWS), "2026年9月.csv")
    assert result.ok, messages(result)
    assert result.rows == 3
    batch = ImportBatch.objects.get(pk=result.batch)
    assert len(batch.sha256) == 64 and batch.file_format == "long"
    school = Figure.objects.get(code="2050202")
    assert school.amount == Decimal("12041234.56")
    assert school.department == departments["education"]
    assert school.subject == Subject.objects.get(year=2026, kind="function", code="2050202")
    assert Figure.objects.get(code="2010101", phase=Phase.INITIAL).amount == Decimal("3125000.00")


def test_gbk_csv_is_read(classification, departments):
    result = import_file(csv_bytes(GOOD_ROWS, encoding="gbk"), "gbk.csv")
    assert result.ok, messages(result)
    assert Figure.objects.count() == 3


def test_long_xlsx_is_read(classification, departments):
    rows = [GOOD_ROWS[0]] + [[*r[:8], float(r[8].replace(",", ""))] for r in GOOD_ROWS[1:]]
    result = import_file(xlsx_bytes(rows), "数据.xlsx")
    assert result.ok, messages(result)
    assert Figure.objects.get(code="2050202").amount == Decimal("12041234.56")


@pytest.mark.parametrize(
    "row, expected",
    [
        (["2026", "9", "一般公共预算", "2019999", "", "", "", "执行", "1"], "没有科目名称"),
        (["2026", "9", "一般公共预算", "20199991", "错码", "", "", "执行", "1"], "位数不对"),
        (
            ["2026", "9", "一般公共预算", "2010101", "行政运行", "", "", "执行", "一百万"],
            "不是数字",
        ),
        (
            ["2026", "9", "一般公共预算", "2010101", "行政运行", "", "", "调整预算", "-5"],
            "不能为负数",
        ),
        (
            ["2026", "9", "一般公共预算", "2010101", "行政运行", "999", "", "执行", "5"],
            "单位编码 999 不存在",
        ),
        (
            ["2026", "13", "一般公共预算", "2010101", "行政运行", "", "", "执行", "5"],
            "月份“13”无效",
        ),
        (
            ["2026", "9", "地方预算", "2010101", "行政运行", "", "", "执行", "5"],
            "预算类型“地方预算”无效",
        ),
        (
            ["2026", "9", "一般公共预算", "2010101", "行政运行", "", "", "计划", "5"],
            "阶段“计划”无效",
        ),
        (
            ["2026", "", "一般公共预算", "2010101", "行政运行", "", "", "执行", "5"],
            "执行数必须填写月份",
        ),
        (["", "", "", "", "合计", "", "", "", "999"], "合计行"),
        (
            ["2026", "9", "一般公共预算", "2010101", "行政运行", "", "", "执行", "=SUM(I2:I3)"],
            "公式",
        ),
    ],
)
def test_bad_long_rows_are_reported_and_nothing_is_stored(
    classification, departments, row, expected
):
    rows = [*GOOD_ROWS, row]
    result = import_file(csv_bytes(rows), "bad.csv")
    assert not result.ok
    assert any(r == 5 and expected in m for r, m in messages(result)), messages(result)
    assert Figure.objects.count() == 0 and ImportBatch.objects.count() == 0


def test_code_valid_in_another_year_is_added_with_a_warning(classification):
    Subject.objects.create(year=2025, kind="function", code="2010105", name="人大立法")
    rows = [LONG_HEADER, [2026, 9, "一般公共预算", "2010105", "人大立法", "", "", "执行", "1"]]
    result = import_file(csv_bytes(rows), "x.csv")
    assert result.ok, messages(result)
    assert [(w.row, w.message) for w in result.warnings] == [
        (
            2,
            "科目编码 2010105“人大立法”不在 2026 年的支出功能分类科目表中（该编码见于 2025 年），"
            "已按本文件新增该科目，请核对编码",
        )
    ]
    added = Subject.objects.get(year=2026, kind="function", code="2010105")
    assert added.name == "人大立法" and added.parent.code == "20101"
    assert Figure.objects.get(code="2010105").subject == added


def test_duplicated_rows_name_the_first(classification, departments):
    rows = [*GOOD_ROWS, GOOD_ROWS[2]]
    result = import_file(csv_bytes(rows), "dup.csv")
    assert (5, "与第 3 行重复（同一年度、月份、预算、科目、单位和阶段）") in messages(result)
    assert Figure.objects.count() == 0


def test_every_bad_row_is_reported(classification):
    rows = [LONG_HEADER] + [
        [2026, 9, "一般公共预算", "2010101", "行政运行", "", "", "执行", "abc"] for _ in range(3)
    ]
    result = import_file(csv_bytes(rows), "x.csv")
    assert [r for r, _m in messages(result)] == [2, 3, 4]


def test_merged_cells_are_refused(classification):
    rows = [
        LONG_HEADER,
        [2026, 9, "一般公共预算", "2010101", "行政运行", "", "", "执行", 1],
        [2026, 9, "一般公共预算", "2010102", "一般行政管理事务", "", "", "执行", 2],
    ]
    result = import_file(xlsx_bytes(rows, merge=["A2:A3"]), "merged.xlsx")
    assert not result.ok
    assert any(r == 2 and "合并单元格 A2:A3" in m for r, m in messages(result))
    assert Figure.objects.count() == 0


def test_formulas_in_xlsx_are_refused(classification):
    rows = [LONG_HEADER, [2026, 9, "一般公共预算", "2010101", "行政运行", "", "", "执行", "=1+2"]]
    result = import_file(xlsx_bytes(rows), "formula.xlsx")
    assert not result.ok and "公式" in messages(result)[0][1]


@pytest.mark.parametrize(
    "content, name, expected",
    [
        (b"", "empty.csv", "文件是空的"),
        (b"\n\n", "blank.csv", "没有任何内容"),
        (b"a,b\n1,2\n", "other.csv", "未找到表头"),
        (b"\xd0\xcf\x11\xe0old", "old.xls", "不支持旧版 Excel"),
        (b"not a zip", "fake.xlsx", "不是有效的 Excel"),
        (csv_bytes([LONG_HEADER]), "header-only.csv", "没有数据行"),
    ],
)
def test_unusable_files(classification, content, name, expected):
    result = import_file(content, name)
    assert not result.ok and expected in result.errors[0].message


def test_fifty_megabyte_file_is_refused(classification):
    result = import_file(b"x" * (50 * 1024 * 1024), "big.csv")
    assert not result.ok
    assert "50.0 MB" in result.errors[0].message and "超过上限" in result.errors[0].message


WIDE = [
    ["2026年1-9月一般公共预算支出执行情况表"],
    ["单位：万元"],
    ["科目编码", "科目名称", "年初预算数", "调整预算数", "本月执行数", "累计执行数", "执行率"],
    ["", "合计", 1000, 1100, 80, 700, "63.6%"],
    ["201", "一般公共服务支出", 1000, 1100, 80, 700, ""],
    ["20101", "人大事务", 1000, 1100, 80, 700, ""],
    ["2010101", "行政运行", 600, 650, 50, 420, ""],
    ["2010102", "一般行政管理事务", 400, 450, 30, 280, ""],
]


def test_wide_table_reads_title_and_subtotals(classification):
    result = import_file(xlsx_bytes(WIDE, merge=["A1:G1"]), "执行情况.xlsx")
    assert result.ok, messages(result)
    assert result.file_format == "wide"
    cumulative = Figure.objects.get(code="2010101", phase=Phase.CUMULATIVE)
    assert (cumulative.year, cumulative.month, cumulative.budget) == (2026, 9, "general")
    assert cumulative.amount == Decimal("4200000.00")
    assert Figure.objects.get(code="2010101", phase=Phase.INITIAL).month == 0
    assert Figure.objects.filter(code="201").count() == 4


def test_wide_subtotal_mismatch_is_an_error(classification):
    rows = [list(r) for r in WIDE]
    rows[5][5] = 900
    result = import_file(xlsx_bytes(rows), "x.xlsx")
    assert not result.ok
    assert any(r == 6 and "与其下级科目之和" in m for r, m in messages(result)), messages(result)
    assert Figure.objects.count() == 0


def test_wide_without_period_needs_options(classification):
    rows = [["单位：元"], *WIDE[2:]]
    result = import_file(csv_bytes(rows), "export.csv")
    assert not result.ok and "--year" in result.errors[0].message
    result = import_file(
        csv_bytes(rows), "export.csv", ImportOptions(year=2026, month=9, budget="general")
    )
    assert result.ok, messages(result)
    assert Figure.objects.get(code="2010101", phase=Phase.CUMULATIVE).amount == Decimal("420")


def test_wide_period_from_file_name():
    meta = metadata_from_text("2026年1-9月政府性基金预算支出执行情况表.xlsx")
    assert meta == {"year": 2026, "month": 9, "budget": "fund"}


def test_reimport_replaces_and_reports_changes(classification, departments):
    first = import_file(csv_bytes(GOOD_ROWS), "a.csv")
    changed = [list(r) for r in GOOD_ROWS]
    changed[2][8] = "240.00"
    second = import_file(csv_bytes(changed[:3]), "b.csv")
    assert second.ok
    assert second.changes["changed"] == 1 and second.changes["removed"] == 0
    assert Figure.objects.get(code="2010101", phase=Phase.CUMULATIVE).amount == Decimal("2400000")
    # the school row belongs to another scope and stays
    assert Figure.objects.filter(code="2050202").exists()
    third = import_file(csv_bytes(GOOD_ROWS), "c.csv")
    assert third.changes["changed"] == 1 and third.changes["unchanged"] == 2
    assert ImportBatch.objects.get(pk=first.batch).status == BatchStatus.SUPERSEDED
    assert ImportBatch.objects.get(pk=second.batch).status == BatchStatus.SUPERSEDED
    assert ImportBatch.objects.get(pk=third.batch).replaces_id == first.batch
    assert Figure.objects.count() == 3


def test_command_json_output(classification, departments, tmp_path, capsys):
    path = tmp_path / "budget.csv"
    path.write_bytes(csv_bytes(GOOD_ROWS))
    call_command("import_budget", str(path), "--json")
    payload = json.loads(capsys.readouterr().out)
    assert payload["status"] == "ok" and payload["rows"] == 3 and payload["errors"] == []
    assert ImportBatch.objects.filter(pk=payload["batch"]).exists()


def test_command_json_errors_exit_nonzero(classification, tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_bytes(
        csv_bytes([LONG_HEADER, [2026, 9, "一般公共预算", "9", "x", "", "", "执行", "1"]])
    )
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_budget", str(path), "--json")
    assert exit_info.value.code == 1
    payload = json.loads(capsys.readouterr().out)
    assert payload["status"] == "error" and payload["batch"] is None
    assert payload["errors"][0]["row"] == 2 and "位数不对" in payload["errors"][0]["message"]
