"""Import of the office's assignment list: row-level Chinese errors, all or nothing."""

import datetime
import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import Workbook

from suggestions import importer
from suggestions.choices import Status
from suggestions.models import Suggestion

pytestmark = pytest.mark.django_db

HEADERS = ["编号", "标题", "领衔代表", "分类", "主办单位", "协办单位", "交办日期", "附议代表"]


def xlsx(rows, headers=HEADERS):
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


GOOD = [
    [12, "关于加快因远镇农村饮水工程建设的建议", "王秀兰", "农业农村", "035", "006 县财政局", datetime.date(2026, 2, 20), "代表0、代表1"],
    [13, "关于公开乡镇财政预算明细的建议", "李文华", "财政经济", "县财政局", "", "2026/2/21", ""],
]  # fmt: skip


def test_good_file_creates_assigned_items_with_timelines(staff, session, units, deputies):
    result = importer.import_workbook(xlsx(GOOD), user=staff, session=session)
    assert result.ok, result.errors
    first, second = Suggestion.objects.order_by("number")
    assert (first.number, second.number) == (12, 13)
    assert first.status == Status.ASSIGNED and first.assigned_on == datetime.date(2026, 2, 20)
    assert first.due_on == datetime.date(2026, 5, 20)
    assert first.lead_unit == units["water"] and list(first.co_units.all()) == [units["finance"]]
    assert first.co_signers.count() == 2
    assert second.assigned_on == datetime.date(2026, 2, 21)
    assert list(first.events.values_list("action", flat=True)) == ["submit", "register", "assign"]
    # the next number continues after the imported ones, without gaps
    from suggestions.services import next_number

    assert next_number(session) == 14


@pytest.mark.parametrize(
    "rows, expected",
    [
        ([[1, "标题", "王秀兰", "农业农村", "999 县不存在局", "", "2026-02-20", ""]], "第 4 行：主办单位：找不到单位“999 县不存在局”"),
        ([[1, "标题", "王秀兰", "农业农村", "006", "", "2026-02-30", ""]], "第 4 行：交办日期：日期“2026-02-30”无法识别"),
        ([[1, "标题", "王秀兰", "农业农村", "006", "", "下个月", ""]], "第 4 行：交办日期"),
        ([[1, "标题", "查无此人", "农业农村", "006", "", "2026-02-20", ""]], "找不到代表“查无此人”"),
        ([[1, "标题", "王秀兰", "体育竞技", "006", "", "2026-02-20", ""]], "分类“体育竞技”不在第十八届的分类中"),
        ([["十二", "标题", "王秀兰", "农业农村", "006", "", "2026-02-20", ""]], "编号“十二”应为正整数"),
        ([[1, "", "王秀兰", "农业农村", "006", "", "2026-02-20", ""]], "标题不能为空"),
        ([[1, "甲", "王秀兰", "农业农村", "006", "006", "2026-02-20", ""]], "主办单位不能同时是协办单位"),
        ([[1, "甲", "王秀兰", "农业农村", "006", "", "2026-02-20", ""], [1, "乙", "王秀兰", "农业农村", "006", "", "2026-02-20", ""]], "第 5 行：编号 1 与第 4 行重复"),
    ],
)  # fmt: skip
def test_bad_rows_import_nothing(staff, session, units, deputies, rows, expected):
    result = importer.import_workbook(xlsx(GOOD + rows), user=staff, session=session)
    assert not result.ok
    assert any(expected in str(e) for e in result.errors), [str(e) for e in result.errors]
    assert not Suggestion.objects.exists()  # the good rows were not imported either


def test_existing_number_is_refused(staff, session, units, deputies, make_suggestion):
    make_suggestion()  # number 1
    result = importer.import_workbook(
        xlsx([[1, "甲", "王秀兰", "农业农村", "006", "", "2026-02-20", ""]]),
        user=staff,
        session=session,
    )
    assert "已有编号为 1 的建议" in str(result.errors[0])
    assert Suggestion.objects.count() == 1


def test_wrong_headers(staff, session):
    result = importer.import_workbook(
        xlsx(GOOD, headers=["序号", "题目", "代表"]), user=staff, session=session
    )
    assert str(result.errors[0]).startswith(
        "第 1 行：缺少必需的列：编号、标题、领衔代表、分类、主办单位、交办日期"
    )


def test_empty_and_garbage_files(staff, session):
    assert str(importer.import_workbook(b"", user=staff, session=session).errors[0]) == "文件是空的"
    garbage = importer.import_workbook(
        b"\x00\x01not a spreadsheet" * 50, user=staff, session=session
    )
    assert "不是有效的 XLSX 表格" in str(garbage.errors[0])
    only_header = importer.import_workbook(xlsx([]), user=staff, session=session)
    assert str(only_header.errors[0]) == "表格中没有数据行"
    blank = importer.import_workbook(xlsx([], headers=[]), user=staff, session=session)
    assert "没有表头" in str(blank.errors[0])


def test_session_from_columns(staff, session, units, deputies):
    headers = HEADERS + ["届次", "会次"]
    rows = [GOOD[0] + ["第十八届", "五"], GOOD[1] + [18, 9]]
    result = importer.import_workbook(xlsx(rows, headers), user=staff)
    assert "第 3 行：找不到届次“18”会次“9”" in [str(e) for e in result.errors]


def test_page_shows_row_errors(client, staff, session, units, deputies):
    client.force_login(staff)
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = xlsx([[1, "标题", "王秀兰", "农业农村", "县不存在局", "", "2026-02-20", ""]])
    response = client.post(
        reverse("suggestions:import"),
        {"session": session.pk, "file": SimpleUploadedFile("清单.xlsx", bad)},
    )
    assert response.status_code == 200
    assert "第 2 行：主办单位：找不到单位“县不存在局”" in response.content.decode()
    good = SimpleUploadedFile("清单.xlsx", xlsx(GOOD))
    response = client.post(reverse("suggestions:import"), {"session": session.pk, "file": good})
    assert response.status_code == 302 and Suggestion.objects.count() == 2


def test_deputy_cannot_import(client, deputies):
    client.force_login(deputies["user_a"])
    assert client.get(reverse("suggestions:import")).status_code == 403


def test_command_json(staff, session, units, deputies, tmp_path, capsys):
    path = tmp_path / "list.xlsx"
    path.write_bytes(xlsx([[1, "标题", "王秀兰", "农业农村", "县不存在局", "", "2026-02-20", ""]]))
    with pytest.raises(SystemExit):
        call_command("import_suggestions", str(path), "--term", "18", "--session", "5", "--json")
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False and "县不存在局" in out["errors"][0]
    path.write_bytes(xlsx(GOOD))
    call_command(
        "import_suggestions", str(path), "--term", "18", "--session", "5", "--user", staff.username
    )
    assert Suggestion.objects.count() == 2
