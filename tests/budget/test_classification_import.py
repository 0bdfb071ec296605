"""import_classification: the Ministry of Finance's list, per year, all-or-nothing."""

import json

import pytest
from django.core.management import call_command
from django.db import transaction

from budget.classification import import_classification, load_subjects
from budget.models import Subject
from supervision.fiscal_rules import SUBJECTS

from .conftest import csv_bytes, xlsx_bytes
from .subjects import store_subjects

pytestmark = pytest.mark.django_db

LIST = [
    ["2027年政府收支分类科目"],
    ["科目编码", "科目名称", "科目类别"],
    ["201", "一般公共服务支出", "支出功能分类"],
    ["20101", "人大事务", "支出功能分类"],
    ["2010101", "行政运行", "支出功能分类"],
    ["2010102", "一般行政管理事务", ""],
    ["301", "工资福利支出", "支出经济分类"],
    ["30101", "基本工资", "经济分类"],
    ["101", "税收收入", "收入分类"],
    ["10101", "增值税", "收入分类"],
    ["1010101", "国内增值税", "收入分类"],
    ["101010101", "国有企业增值税", "收入分类"],
]


def test_full_list_with_parents_by_code_length():
    result = import_classification(csv_bytes(LIST), "科目表.csv")
    assert result.ok, result.errors
    assert result.year == 2027 and result.rows == 10 and result.created == 10
    item = Subject.objects.get(year=2027, kind="function", code="2010101")
    assert item.parent.code == "20101" and item.parent.parent.code == "201"
    assert item.level == 2
    assert Subject.objects.get(year=2027, kind="function", code="2010102").parent.code == "20101"
    assert Subject.objects.get(year=2027, kind="economic", code="30101").parent.code == "301"
    target = Subject.objects.get(year=2027, kind="revenue", code="101010101")
    assert target.level == 3 and target.parent.code == "1010101"


def test_xlsx_without_kind_column_and_year_option():
    rows = [["科目编码", "科目名称"], [201, "一般公共服务支出"], [20101, "人大事务"], [301, "工资"]]
    result = import_classification(xlsx_bytes(rows), "list.xlsx", year=2028)
    assert result.ok, result.errors
    assert Subject.objects.get(year=2028, code="301").kind == "economic"
    assert Subject.objects.get(year=2028, code="20101").kind == "function"


def test_reimport_updates_names_and_keeps_other_years():
    import_classification(csv_bytes(LIST), "2027.csv")
    import_classification(csv_bytes(LIST), "2026.csv", year=2026)
    renamed = [list(r) for r in LIST]
    renamed[4][1] = "行政运行（机关）"
    result = import_classification(csv_bytes(renamed), "2027.csv")
    assert result.ok and result.created == 0 and result.updated == 1 and result.unchanged == 9
    assert Subject.objects.get(year=2027, code="2010101").name == "行政运行（机关）"
    assert Subject.objects.get(year=2026, code="2010101").name == "行政运行"


@pytest.mark.parametrize(
    "change, row, expected",
    [
        (lambda rows: rows[4].__setitem__(0, "20101A"), 5, "只包含数字"),
        (lambda rows: rows[4].__setitem__(0, "201010"), 5, "位数不对"),
        (lambda rows: rows[4].__setitem__(1, ""), 5, "科目名称为空"),
        (lambda rows: rows[6].__setitem__(2, "其他分类"), 7, "科目类别“其他分类”无效"),
        (lambda rows: rows.append(["2010101", "重复", "支出功能分类"]), 13, "与第 5 行重复"),
        (lambda rows: rows.append(["2050101", "孤儿", "支出功能分类"]), 13, "上级科目 20501"),
        (lambda rows: rows.append(["401", "未知", ""]), 13, "无法从科目编码 401 判断"),
        (lambda rows: rows[5].__setitem__(1, "名" * 101), 6, "超过 100 个字"),
    ],
)
def test_bad_rows_store_nothing(change, row, expected):
    rows = [list(r) for r in LIST]
    change(rows)
    result = import_classification(csv_bytes(rows), "2027.csv")
    assert not result.ok
    assert any(e.row == row and expected in e.message for e in result.errors), result.errors
    assert not Subject.objects.filter(year=2027).exists()


def test_refused_files():
    assert "空的" in import_classification(b"", "x.csv").errors[0].message
    no_year = import_classification(csv_bytes(LIST[1:]), "list.csv")
    assert not no_year.ok and "--year" in no_year.errors[0].message
    no_header = import_classification(csv_bytes([["a", "b"], ["201", "x"]]), "2027.csv")
    assert "未找到表头" in no_header.errors[0].message
    merged = [["科目编码", "科目名称"], ["201", "一般公共服务支出"], ["20101", "人大事务"]]
    result = import_classification(xlsx_bytes(merged, merge=["A2:A3"]), "x.xlsx", year=2027)
    assert not result.ok and "合并单元格" in result.errors[0].message
    assert result.errors[0].row == 2
    formula = [["科目编码", "科目名称"], ["201", "=A1"]]
    result = import_classification(xlsx_bytes(formula), "2027年.xlsx")
    assert not result.ok and "公式" in result.errors[0].message
    assert not Subject.objects.exists()


def test_parent_already_stored_for_the_year_is_accepted():
    import_classification(csv_bytes(LIST), "2027.csv")
    extra = [["科目编码", "科目名称"], ["2010104", "人大会议"]]
    result = import_classification(csv_bytes(extra), "additions.csv", year=2027)
    assert result.ok and result.kept == 10
    assert Subject.objects.get(year=2027, code="2010104").parent.code == "20101"


def test_gbk_csv_is_read():
    result = import_classification(csv_bytes(LIST, encoding="gbk"), "2027.csv")
    assert result.ok and result.rows == 10


def test_command_json_and_exit_code(tmp_path, capsys):
    good = tmp_path / "2027年科目表.csv"
    good.write_bytes(csv_bytes(LIST[1:]))
    call_command("import_classification", str(good), "--json")
    payload = json.loads(capsys.readouterr().out)
    assert payload["status"] == "ok" and payload["year"] == 2027 and payload["created"] == 10
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([["科目编码", "科目名称"], ["20x", "坏"]]))
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_classification", str(bad), "--year", "2029", "--json")
    assert exit_info.value.code == 1
    payload = json.loads(capsys.readouterr().out)
    assert payload["status"] == "error" and payload["errors"][0]["row"] == 2
    assert not Subject.objects.filter(year=2029).exists()


def _stored_subjects(year):
    """(kind, code, name, level, parent's code) in the order the rows were inserted."""
    return [
        (s.kind, s.code, s.name, s.level, s.parent.code if s.parent else None)
        for s in Subject.objects.filter(year=year).select_related("parent").order_by("pk")
    ]


@pytest.mark.parametrize("rows", [None, SUBJECTS], ids=["standard", "fiscal-rules"])
def test_the_test_set_up_stores_what_load_subjects_stores(rows):
    """tests/budget/subjects.py replays load_subjects' rows in bulk for the fixtures: the same
    subjects, parents, levels and insertion order as load_subjects itself."""
    with transaction.atomic():
        assert load_subjects(2031, rows) > 0
        expected = _stored_subjects(2031)
        transaction.set_rollback(True)
    for _ in range(2):  # the first run keeps load_subjects' rows, the second replays them
        with transaction.atomic():
            created = store_subjects(2031, rows)
            assert created == len(expected)
            assert _stored_subjects(2031) == expected
            transaction.set_rollback(True)
    # a year that has subjects already is merged by load_subjects itself
    load_subjects(2031, [row[:3] for row in expected[:3]])
    assert store_subjects(2031, rows) == len(expected) - 3
    assert sorted(_stored_subjects(2031)) == sorted(expected)
