import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from budget.importing import import_file
from budget.measures import execution_table, time_progress
from budget.models import Figure, ImportBatch
from cms.usage.models import ExportRegistration, UsageRecord

from .conftest import LONG_HEADER, csv_bytes

pytestmark = pytest.mark.django_db

ROWS = [
    LONG_HEADER,
    # this year: 2010101 under 人大事务, by two departments; 2050202 county total
    [2026, 0, "一般公共预算", "2010101", "", "101", "", "年初预算", "100"],
    [2026, 9, "一般公共预算", "2010101", "", "101", "", "调整预算", "120"],
    [2026, 8, "一般公共预算", "2010101", "", "101", "", "执行", "40"],
    [2026, 9, "一般公共预算", "2010101", "", "101", "", "执行", "20"],
    [2026, 0, "一般公共预算", "2010101", "", "201", "", "年初预算", "50"],
    [2026, 9, "一般公共预算", "2010101", "", "201", "", "累计执行", "45"],
    [2026, 0, "一般公共预算", "2050202", "", "", "", "年初预算", "200"],
    [2026, 9, "一般公共预算", "2050202", "", "", "", "累计执行", "=cmd|' /C calc'!A0"],
    # last year, same period
    [2025, 9, "一般公共预算", "2010101", "", "101", "", "累计执行", "50"],
]


@pytest.fixture
def figures(classification, departments):
    rows = [list(r) for r in ROWS]
    rows[8][8] = "150"
    result = import_file(csv_bytes(rows), "data.csv")
    assert result.ok, result.errors
    return result


def test_measures_roll_up_and_derive(figures):
    rows = execution_table(2026, 9, "general", all_levels=True)
    by_code = {r.code: r for r in rows}
    item = by_code["2010101"]
    # departments resolved one by one: adjusted 120 (dept 101) + initial 50 (201 not adjusted)
    assert item.adjusted == Decimal("1700000")
    assert item.initial == Decimal("1500000")
    assert item.cumulative == Decimal("1050000")  # 40 + 20 + 45 万元
    assert item.month_amount == Decimal("200000")
    assert item.prior_cumulative == Decimal("500000")
    assert by_code["201"].cumulative == item.cumulative
    assert by_code["205"].cumulative == Decimal("1500000")
    assert time_progress(9) == Decimal("75.00")
    rate = by_code["205"].execution_rate
    assert rate == Decimal("75.00") and by_code["205"].progress_gap == Decimal("0.00")
    assert item.yoy == Decimal("110.00")


def test_execution_view_drills_down(client, deputy_user, figures):
    client.force_login(deputy_user)
    response = client.get(reverse("budget:execution"), {"year": 2026, "month": 9})
    assert response.status_code == 200
    html = response.content.decode()
    assert "一般公共服务支出" in html and "教育支出" in html
    assert "parent=201" in html and "<svg" in html
    response = client.get(
        reverse("budget:execution"), {"year": 2026, "month": 9, "parent": "20101"}
    )
    html = response.content.decode()
    assert "2010101" in html and "行政运行" in html and "105.00" in html


def test_department_view(client, staff_user, figures, departments):
    client.force_login(staff_user)
    response = client.get(reverse("budget:departments"), {"year": 2026, "month": 9, "code": "201"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "县财政局" in html and "县教育局" in html


@pytest.mark.parametrize("name", ["final", "three_public", "compare", "trend"])
def test_other_reports_render(client, staff_user, figures, name):
    client.force_login(staff_user)
    response = client.get(reverse(f"budget:{name}"), {"year": 2026, "month": 9})
    assert response.status_code == 200


def test_bad_parameters_are_refused(client, staff_user, figures):
    client.force_login(staff_user)
    response = client.get(reverse("budget:execution"), {"year": "abc", "month": 20})
    assert response.status_code == 400


def test_liaison_cannot_view(client, liaison_user, figures):
    client.force_login(liaison_user)
    assert client.get(reverse("budget:execution")).status_code == 403
    assert UsageRecord.objects.filter(action="denied").exists()


def test_anonymous_is_sent_to_login(client, figures):
    response = client.get(reverse("budget:execution"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_export_is_registered_and_neutralises_formulas(
    client, staff_user, classification, departments
):
    Figure.objects.all().delete()
    # a name that looks like a formula reaches the export through the classification
    from budget.models import Subject

    Subject.objects.filter(year=2026, code="201").update(name='=HYPERLINK("x")')
    result = import_file(csv_bytes(ROWS[:4]), "data.csv")
    assert result.ok
    client.force_login(staff_user)
    url = reverse("budget:export") + "?report=execution&year=2026&month=9&budget=general"
    response = client.get(url)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [c.value for row in sheet.iter_rows() for c in row]
    assert '\'=HYPERLINK("x")' in values
    assert Decimal(str(sheet["D2"].value)) == Decimal("120")  # 调整预算数 in 万元
    registration = ExportRegistration.objects.get()
    assert registration.module == "预算数据" and registration.row_count == 2


def test_deputy_exports_with_purpose(client, deputy_user, figures):
    client.force_login(deputy_user)
    url = reverse("budget:export") + "?report=final&year=2026"
    assert client.get(url).status_code == 200  # the purpose form
    assert not ExportRegistration.objects.exists()
    response = client.post(url, {"purpose": "准备预算初审发言材料"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert ExportRegistration.objects.get().purpose == "准备预算初审发言材料"


def test_liaison_cannot_export(client, liaison_user, figures):
    client.force_login(liaison_user)
    response = client.get(reverse("budget:export") + "?report=execution&year=2026&month=9")
    assert response.status_code == 403
    assert not ExportRegistration.objects.exists()


def test_deputy_cannot_import(client, deputy_user, classification):
    client.force_login(deputy_user)
    upload = io.BytesIO(csv_bytes(ROWS[:3]))
    upload.name = "x.csv"
    response = client.post(reverse("budget:imports"), {"file": upload})
    assert response.status_code == 403
    assert not ImportBatch.objects.exists()
    page = client.get(reverse("budget:imports")).content.decode()
    assert 'enctype="multipart/form-data"' not in page


def test_liaison_cannot_import(client, liaison_user, classification, departments):
    client.force_login(liaison_user)
    upload = io.BytesIO(csv_bytes(ROWS[:3]))
    upload.name = "x.csv"
    response = client.post(reverse("budget:imports"), {"file": upload})
    assert response.status_code == 403
    assert not ImportBatch.objects.exists()


def test_staff_imports_through_the_page(client, staff_user, classification, departments):
    client.force_login(staff_user)
    upload = io.BytesIO(csv_bytes(ROWS[:3]))
    upload.name = "x.csv"
    response = client.post(reverse("budget:imports"), {"file": upload})
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "budget:batch", args=[batch.pk]
    )
    assert batch.imported_by == staff_user
    assert UsageRecord.objects.filter(action="upload", object_id=str(batch.pk)).exists()
    bad = io.BytesIO(
        csv_bytes([LONG_HEADER, [2026, 9, "一般公共预算", "2010101", "", "", "", "执行", "x"]])
    )
    bad.name = "bad.csv"
    response = client.post(reverse("budget:imports"), {"file": bad})
    assert response.status_code == 400
    assert "第" not in "" and "不是数字" in response.content.decode()
    assert ImportBatch.objects.count() == 1


def test_templates_download(client, staff_user):
    client.force_login(staff_user)
    response = client.get(reverse("budget:template", args=["csv"]))
    assert response.content.decode("utf-8-sig").startswith("年度,月份,预算类型")
    response = client.get(reverse("budget:template", args=["xlsx"]))
    assert load_workbook(io.BytesIO(response.content)).active["I1"].value == "金额(万元)"
    assert client.get(reverse("budget:template", args=["doc"])).status_code == 404


def test_budget_report_command(figures, capsys):
    call_command("budget_report", "--year", "2026", "--month", "9", "--json")
    rows = json.loads(capsys.readouterr().out)
    by_code = {r["code"]: r for r in rows}
    assert by_code["205"]["cumulative"] == "150.00"
    assert by_code["205"]["execution_rate"] == "75.00"
    call_command("budget_report", "--year", "2026", "--month", "9", "--budget", "一般公共预算")
    out = capsys.readouterr().out
    assert "2050202" in out and "75.00%" in out


def test_page_without_parameters_fills_the_period_inputs(client, deputy_user, figures):
    """Before: 年度 / 截至月份 were blank while the page showed 2026 / 1-9."""
    client.force_login(deputy_user)
    html = client.get(reverse("budget:execution")).content.decode()
    assert 'name="year" value="2026"' in html and 'name="month" value="9"' in html


def test_progress_gap_is_in_points_not_percent(client, deputy_user, figures):
    client.force_login(deputy_user)
    html = client.get(reverse("budget:execution"), {"year": 2026, "month": 9}).content.decode()
    table = html[html.index("进度差（百分点）") :]
    row = table[table.index("一般公共服务支出") :][:1500]
    # 执行率 61.76% against 序时进度 75.00%: 13.24 百分点 behind, without “%”
    assert "61.76%" in row and ">-13.24<" in row and "-13.24%" not in row, row


def test_final_accounts_open_on_the_latest_year_with_final_figures(
    client, staff_user, classification
):
    rows = [
        LONG_HEADER,
        [2025, 0, "一般公共预算", "2010101", "", "", "", "决算", "90"],
        [2026, 9, "一般公共预算", "2010101", "", "", "", "累计执行", "45"],
    ]
    assert import_file(csv_bytes(rows), "x.csv").ok
    client.force_login(staff_user)
    html = client.get(reverse("budget:final")).content.decode()
    assert 'name="year" value="2025"' in html and "2025年" in html


def test_trend_axis_has_round_ticks():
    from budget.charts import nice_ticks

    assert nice_ticks(0, 24432.5) == [0, 5000, 10000, 15000, 20000, 25000]
    assert nice_ticks(0, 6108) == [0, 2000, 4000, 6000, 8000]


def test_chart_labels_are_whole_and_large_enough():
    """Bar labels are never cut, the treemap wraps a long name, the trend's tick labels and
    legend entries have room (before: labels truncated at ~9 px, legend entries overlapping)."""
    import re
    from types import SimpleNamespace

    from budget.charts import FONT_SIZE, line_chart, rate_chart, treemap

    assert FONT_SIZE >= 20  # ~12 px on screen when two charts sit side by side at 1366 px
    long_name = "农林水支出中的农业农村综合改革与乡村振兴专项"
    row = SimpleNamespace(
        code="213",
        name=long_name,
        execution_rate=Decimal("61.76"),
        adjusted=Decimal("1200"),
        progress_gap=Decimal("-13.24"),
        has_children=False,
    )
    bars = str(rate_chart([row], Decimal("75"), "执行率"))
    assert f"213 {long_name}</text>" in bars
    cells = str(treemap([row], "结构"))
    shown = "".join(re.findall(r'fill="#fff">([^<]+)</text>', cells))
    assert long_name in shown  # wrapped over lines in one big cell, not cut with “…”
    trend = str(
        line_chart(
            [("2026年累计执行", [(1, 50_000_000), (2, 1_250_000_000)]), ("2025年同期", [(1, 1)])],
            "趋势",
        )
    )
    assert ">125,000</text>" in trend or ">150,000</text>" in trend
    width = int(re.search(r'<line x1="(\d+)"', trend).group(1))
    assert width - 6 >= 7 * FONT_SIZE * 0.6  # the widest tick label fits left of the axis
    legend = [float(x) for x in re.findall(r'<rect x="([\d.]+)" y="\d+" width="12"', trend)]
    assert legend[1] - legend[0] >= 16 + 7 * FONT_SIZE  # “2026年累计执行” does not run over
