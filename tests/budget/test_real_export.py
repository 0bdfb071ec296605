"""Issue 16 part 2: a finance system's 执行情况表 into a new instance, and issue 15: budget
spreadsheets read in streaming mode with row and expansion limits."""

import json
import time
from decimal import Decimal

import pytest
from django.core.management import call_command

from budget.choices import Phase
from budget.classification import import_classification, load_subjects, standard_subjects
from budget.importing import import_file, read_table
from budget.models import Figure, Subject

from .conftest import bloated_xlsx, csv_bytes, xlsx_bytes
from .exports import ITEMS, NAMES, export_xlsx

pytestmark = pytest.mark.django_db

SUBJECT_COUNT = len(ITEMS) + len(NAMES)


def warnings_of(result):
    return [(w.row, w.message) for w in result.warnings]


def test_export_into_a_new_instance_takes_the_classification_from_the_file(tmp_path, capsys):
    path = tmp_path / "2026年1-9月一般公共预算支出执行情况表.xlsx"
    path.write_bytes(export_xlsx())
    call_command("import_budget", str(path), "--json")
    result = json.loads(capsys.readouterr().out)
    assert result["status"] == "ok", result["errors"]
    assert result["warnings"] == [
        {
            "row": None,
            "message": f"2026 年的支出功能分类科目表尚未录入：本年科目表取自本文件，共 "
            f"{SUBJECT_COUNT} 个科目（编码和名称按本文件，上级按编码位数）；之后导入财政部"
            "科目表（import_classification）可校正名称，已导入的数字不受影响",
        }
    ]
    info = Subject.objects.get(year=2026, kind="function", code="2010607")
    assert info.name == "信息化建设" and info.parent.code == "20106"
    assert info.parent.parent.code == "201" and info.level == 2
    assert Subject.objects.get(code="2010608").name == "财政委托业务支出"
    assert Subject.objects.filter(year=2026).count() == SUBJECT_COUNT
    cumulative = Figure.objects.get(code="2010607", phase=Phase.CUMULATIVE)
    assert (cumulative.month, cumulative.amount) == (9, Decimal("963000.00"))
    assert Figure.objects.get(code="201", phase=Phase.INITIAL).amount == Decimal("11925000.00")


def test_a_later_classification_corrects_names_without_touching_figures():
    items = [(*ITEMS[0][:1], "行政运行（财政导出简称）", *ITEMS[0][2:]), *ITEMS[1:]]
    assert import_file(export_xlsx(items), "export.xlsx").ok
    before = sorted(Figure.objects.values_list("pk", "subject_id", "amount"))
    listing = [
        ["科目编码", "科目名称"],
        *[[c, n] for _k, c, n in standard_subjects() if c[0] == "2"],
    ]
    result = import_classification(csv_bytes(listing), "2026年政府收支分类科目.csv")
    assert result.ok, result.errors
    assert Subject.objects.get(year=2026, code="2010101").name == "行政运行"
    assert result.updated == 1
    assert sorted(Figure.objects.values_list("pk", "subject_id", "amount")) == before


def test_codes_missing_from_the_year_s_classification_are_added_with_a_warning_each():
    load_subjects(2026)
    extra = [("2010105", "人大立法", "10.00", "10.00", "1.00", "6.00")]
    names = dict(NAMES)
    items = [*ITEMS[:3], *extra, *ITEMS[3:]]
    result = import_file(export_xlsx(items, names), "export.xlsx")
    assert result.ok, result.errors
    assert warnings_of(result) == [
        (
            11,
            "科目编码 2010105“人大立法”不在 2026 年的支出功能分类科目表中，"
            "已按本文件新增该科目，请核对编码",
        ),
        (
            15,
            "科目编码 2010608“财政委托业务支出”不在 2026 年的支出功能分类科目表中，"
            "已按本文件新增该科目，请核对编码",
        ),
    ]
    assert Subject.objects.get(year=2026, code="2010105").parent.name == "人大事务"


def test_what_is_really_wrong_is_still_refused():
    items = [*ITEMS, ("201019", "错误编码", "1.00", "1.00", "0.00", "0.00")]
    names = NAMES
    content = export_xlsx(items, names | {"20101": "人大事务"})
    result = import_file(content, "export.xlsx")
    assert not result.ok
    assert any("位数不对" in e.message for e in result.errors)
    assert not Subject.objects.exists() and not Figure.objects.exists()


def test_demo_codes_are_the_official_ones():
    codes = {code: name for _kind, code, name in standard_subjects()}
    assert codes["2010607"] == "信息化建设"
    assert "2010608" not in codes  # the subset lists no 财政委托业务支出
    assert codes["2130314"] == "防汛"
    from budget.demo import DEPARTMENTS

    used = {code for *_d, items in DEPARTMENTS for code in items}
    assert used <= set(codes)


# --- issue 15: streaming reads with limits -------------------------------------------------

WIDE = [
    ["2026年1-9月一般公共预算支出执行情况表"],
    ["单位：万元"],
    ["科目编码", "科目名称", "年初预算数", "调整预算数", "本月执行数", "累计执行数"],
    ["201", "一般公共服务支出", 100, 110, 8, 70],
    ["20101", "人大事务", 100, 110, 8, 70],
    ["2010101", "行政运行", 100, 110, 8, 70],
]


def test_a_sheet_declaring_the_whole_grid_is_read_row_by_row():
    """Before: 2,000 formatted empty rows under a declared A1:XFD1048576 gave 2,008 rows of
    16,384 cells each (2.4 s, 400 MB); 200,000 such rows (1.6 MB on disk) never finished."""
    content = bloated_xlsx(WIDE, blank_rows=200_000)
    assert len(content) < 2 * 1024 * 1024
    started = time.monotonic()
    sheet = read_table(content, "x.xlsx")
    assert time.monotonic() - started < 30
    assert [number for number, _values in sheet.rows] == [1, 2, 3, 4, 5, 6]
    assert max(len(values) for _n, values in sheet.rows) == 6
    assert sheet.notes == [
        "第 7 行起连续 10000 行为空，其后的内容未读取；如有数据，请删除中间的空行后重新导入"
    ]
    result = import_file(content, "x.xlsx")
    assert result.ok, result.errors
    assert (None, sheet.notes[0]) in warnings_of(result)


def test_row_limit_gives_a_chinese_message(settings):
    settings.BUDGET_IMPORT_MAX_ROWS = 4
    for content, name in ((xlsx_bytes(WIDE), "x.xlsx"), (csv_bytes(WIDE), "x.csv")):
        result = import_file(content, name)
        assert not result.ok
        assert result.errors[0].message.startswith("表格超过 4 行数据，超出一次导入的上限")


def test_expansion_limit_gives_a_chinese_message(settings):
    settings.BUDGET_IMPORT_MAX_EXPANDED_BYTES = 1024 * 1024
    result = import_file(bloated_xlsx(WIDE, blank_rows=20_000), "x.xlsx")
    assert not result.ok
    assert "工作表解压后有" in result.errors[0].message
    assert "超过上限 1 MB" in result.errors[0].message


def test_data_far_to_the_right_is_refused():
    rows = [list(r) for r in WIDE]
    rows[3] = [*rows[3], *([None] * 200), "x"]
    result = import_file(xlsx_bytes(rows), "x.xlsx")
    assert not result.ok and "超过 100 列" in result.errors[0].message
