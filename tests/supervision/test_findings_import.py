"""Importing audit findings (审计查出问题) from CSV/XLSX: row errors in Chinese, all or nothing,
registration events and the unit's liaisons told once; and the streaming XLSX reader, which
must give the rows budget's openpyxl reader gives."""

import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from budget.models import Department
from cms import roles
from cms.notifications.models import Message
from supervision.choices import ImportKind
from supervision.importing import COLUMNS, import_file, template_csv
from supervision.models import AuditFinding, FindingEvent, SupervisionBatch

from .conftest import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

HEADER = [c.header for c in COLUMNS[ImportKind.FINDINGS]]


def row(number="2025-01", **changes):
    values = {
        "年度": "2025",
        "来源报告": "2025年度本级预算执行审计报告",
        "问题编号": number,
        "问题": f"挤占专项资金用于公用经费（{number}）",
        "涉及金额(万元)": "86.5",
        "责任单位编码": "",
        "责任单位": "县财政局",
        "整改要求": "归还原资金渠道",
        "整改方式": "分阶段整改",
        "整改期限": "2026-06-30",
    }
    values.update(changes)
    return [values[h] for h in HEADER]


@pytest.fixture
def units(make_user):
    finance = Department.objects.create(code="101", name="县财政局")
    education = Department.objects.create(code="201", name="县教育局")
    Department.objects.create(code="301", name="县卫生院")
    Department.objects.create(code="302", name="县卫生院")  # two units of one name
    liaison = make_user(roles.LIAISON, username="fin_liaison")
    finance.liaisons.add(liaison)
    return {"finance": finance, "education": education, "liaison": liaison}


def test_findings_are_registered_with_events_and_one_message_per_unit(units, make_user):
    staff = make_user(roles.STAFF, username="clerk")
    rows = [
        HEADER,
        row("2025-01"),
        row("2025-02", **{"涉及金额(万元)": "", "整改方式": ""}),
        row("2025-03", **{"责任单位编码": "201", "责任单位": "县教育局", "整改方式": "持续"}),
    ]
    result = import_file(csv_bytes(rows), "findings.csv", ImportKind.FINDINGS, user=staff)
    assert result.ok, result.errors
    assert result.changes == {"added": 3, "changed": 0, "unchanged": 0, "years": [2025]}
    first = AuditFinding.objects.get(number="2025-01")
    assert first.amount == Decimal("865000.00") and first.status == "none"
    assert first.department == units["finance"] and first.mode == "staged"
    assert first.deadline == datetime.date(2026, 6, 30)
    second = AuditFinding.objects.get(number="2025-02")
    assert second.amount is None and second.mode == "immediate"
    assert AuditFinding.objects.get(number="2025-03").mode == "continuing"
    events = FindingEvent.objects.filter(action="登记问题")
    assert events.count() == 3 and {e.actor for e in events} == {staff}
    assert all(f"第{result.batch}批" in e.note for e in events)
    # the finance liaison is told once, with the count; the education unit has no liaison
    messages = Message.objects.filter(recipient=units["liaison"])
    assert [m.subject for m in messages] == ["审计查出问题已交办：2 个问题（县财政局）"]

    # the same file again registers nothing twice
    again = import_file(csv_bytes(rows), "findings.csv", ImportKind.FINDINGS, user=staff)
    assert again.ok and again.changes["added"] == 0 and again.changes["unchanged"] == 3
    assert AuditFinding.objects.count() == 3 and FindingEvent.objects.count() == 3


def test_bad_rows_are_reported_and_nothing_is_stored(units):
    rows = [
        HEADER,
        row("2025-01"),
        row("2025-01"),  # 3: duplicate
        row("2025-03", **{"责任单位": "县交通局"}),  # 4: unknown
        row("2025-04", **{"责任单位": "县卫生院"}),  # 5: two of that name
        row("2025-05", **{"责任单位编码": "201"}),  # 6: code of another unit
        row("2025-06", **{"整改期限": "2026-02-30", "整改方式": "马上改"}),  # 7
        row("2025-07", **{"问题": "", "涉及金额(万元)": "-3"}),  # 8
        row("2025-08", **{"涉及金额(万元)": "=A1*2"}),  # 9: a formula
    ]
    result = import_file(csv_bytes(rows), "f.csv", ImportKind.FINDINGS)
    assert not result.ok
    by_row = {e.row: e.message for e in result.errors}
    assert "与第 2 行重复" in by_row[3]
    assert "“县交通局”不是有效的预算单位" in by_row[4]
    assert "有多个预算单位名为“县卫生院”，请填写责任单位编码" in by_row[5]
    assert "对应“县教育局”，与填写的“县财政局”不一致" in by_row[6]
    assert "不是存在的日期" in by_row[7] and "不是有效的整改方式" in by_row[7]
    assert "问题不能为空" in by_row[8] and "不能为负数" in by_row[8]
    assert "公式" in by_row[9]
    assert not AuditFinding.objects.exists() and not SupervisionBatch.objects.exists()


def test_a_registered_finding_is_not_changed_by_an_import(units):
    assert import_file(csv_bytes([HEADER, row()]), "f.csv", ImportKind.FINDINGS).ok
    changed = [HEADER, row(**{"整改要求": "另行要求"}), row("2025-09")]
    result = import_file(csv_bytes(changed), "f.csv", ImportKind.FINDINGS)
    assert not result.ok
    assert "已经登记，内容与本行不同" in result.errors[0].message
    assert AuditFinding.objects.count() == 1
    assert AuditFinding.objects.get().requirement == "归还原资金渠道"


def test_findings_import_needs_the_register_permission(units, client, make_user):
    deputy = make_user(roles.DEPUTY)
    result = import_file(csv_bytes([HEADER, row()]), "f.csv", ImportKind.FINDINGS, user=deputy)
    assert not result.ok and result.errors[0].message == "您没有登记审计查出问题的权限"
    client.force_login(deputy)
    upload = io.BytesIO(csv_bytes([HEADER, row()]))
    upload.name = "f.csv"
    response = client.post(reverse("supervision:imports"), {"kind": "findings", "file": upload})
    assert response.status_code == 403
    assert not AuditFinding.objects.exists()


def test_findings_import_through_the_page(units, client, make_user):
    client.force_login(make_user(roles.STAFF))
    assert "审计查出问题导入模板" in client.get(reverse("supervision:imports")).content.decode()
    template = client.get(reverse("supervision:template", args=["findings", "csv"]))
    assert template.content.decode("utf-8-sig").splitlines()[0] == ",".join(HEADER)
    upload = io.BytesIO(xlsx_bytes([HEADER, row(), row("2025-02")]))
    upload.name = "审计查出问题.xlsx"
    response = client.post(reverse("supervision:imports"), {"kind": "findings", "file": upload})
    assert response.status_code == 302
    assert AuditFinding.objects.count() == 2
    page = client.get(reverse("supervision:findings")).content.decode()
    assert "<td>2025-02</td>" in page and "县财政局" in page


def test_template_notes_exist_for_every_kind():
    for kind in ImportKind:
        assert template_csv(kind).decode("utf-8-sig").startswith(COLUMNS[kind][0].header)


# --- the streaming XLSX reader ------------------------------------------------------------------


def workbook_bytes(build):
    from openpyxl import Workbook

    workbook = Workbook()
    build(workbook.active)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_streaming_reader_gives_the_rows_of_budgets_reader():
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    from budget.importing import read_xlsx as openpyxl_reader
    from supervision.xlsx_reader import read_xlsx

    def build(ws):
        ws.title = "数据"
        ws.append(["年度", "名称", "金额", None, "日期"])
        ws.append([2026, "县财政局", 12.5, None, datetime.date(2026, 3, 15)])
        ws.append([2026.0, " 空格 ", 1e20, True, datetime.datetime(2026, 3, 15, 12, 30)])
        ws["A5"] = "=SUM(B1:B2)"
        ws["C5"] = "末尾"
        ws["B7"] = CellRichText(["富", TextBlock(InlineFont(b=True), "文本")])
        ws["D8"], ws["E8"] = 0.1, "#N/A"
        ws["A10"] = 45000
        ws["A10"].number_format = "yyyy-mm-dd"
        ws["B10"] = 45000
        ws["B10"].number_format = "0.00"

    content = workbook_bytes(build)
    expected, got = openpyxl_reader(content), read_xlsx(content)
    assert got.rows == expected.rows and got.title_hint == expected.title_hint == "数据"
    assert got.rows[-1] == (10, [datetime.datetime(2023, 3, 15), 45000])


def test_streaming_reader_refuses_what_budgets_reader_refuses(settings):
    from budget.importing import ImportRefused
    from supervision.xlsx_reader import read_xlsx

    with pytest.raises(ImportRefused, match="无法打开 XLSX 文件"):
        read_xlsx(b"PK\x03\x04 not really a zip")
    settings.BUDGET_IMPORT_MAX_ROWS = 2
    content = workbook_bytes(lambda ws: [ws.append([i]) for i in range(1, 4)])
    with pytest.raises(ImportRefused, match="超过 2 行数据"):
        read_xlsx(content)
    settings.BUDGET_IMPORT_MAX_ROWS = 100
    settings.BUDGET_IMPORT_MAX_EXPANDED_BYTES = 200
    with pytest.raises(ImportRefused, match="解压后"):
        read_xlsx(content)
    result = import_file(b"PK\x03\x04 broken", "f.xlsx", ImportKind.FINDINGS)
    assert not result.ok and "无法打开 XLSX 文件" in result.errors[0].message
