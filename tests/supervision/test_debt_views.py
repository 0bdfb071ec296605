import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cms.usage.models import ExportRegistration
from supervision.choices import ImportKind
from supervision.debt import history, maturity_profile
from supervision.importing import import_file
from supervision.models import Bond, SupervisionBatch

from .conftest import BONDS_HEADER, REPAYMENTS_HEADER, county_positions, csv_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def county():
    today = timezone.localdate()
    soon = today + datetime.timedelta(days=100)
    later = today.replace(year=today.year + 3)
    rows = [
        BONDS_HEADER,
        [
            "G1",
            "一般债券一期",
            "一般债务",
            "新增债券",
            "2021-05-10",
            "8000",
            "3.1",
            "5",
            soon.isoformat(),
            "学校建设",
            "第二中学新校区",
            "",
        ],
        [
            "S1",
            "专项债券一期",
            "专项债务",
            "新增债券",
            "2022-06-01",
            "15000",
            "3.2",
            "7",
            later.isoformat(),
            "园区基础设施",
            "工业园区道路",
            "专项收入",
        ],
        [
            "R1",
            "再融资债券一期",
            "一般债务",
            "再融资债券",
            "2024-03-01",
            "5000",
            "2.4",
            "3",
            later.isoformat(),
            "偿还到期债券本金",
            "",
            "一般公共预算",
        ],
    ]
    assert import_file(csv_bytes(county_positions()), "p.csv", ImportKind.POSITIONS).ok
    assert import_file(csv_bytes(rows), "b.csv", ImportKind.BONDS).ok
    pays = [
        REPAYMENTS_HEADER,
        ["S1", "2026-06-01", "1000", "480", "专项收入"],
        ["G1", "2026-05-10", "", "248", "一般公共预算"],
    ]
    assert import_file(csv_bytes(pays), "r.csv", ImportKind.REPAYMENTS).ok
    return {"soon": soon, "later": later}


def test_indicators_show_their_inputs(county):
    row = next(r for r in history() if r.year == 2026)
    assert row.balance == Decimal("3975203500.00")  # 176520.35 + 221000 万元
    assert row.limit == Decimal("4150000000.00")
    assert row.debt_ratio == Decimal("261.01")  # 397520.35 ÷ 152300
    assert row.principal_paid == Decimal("10000000.00")
    assert row.interest_paid == Decimal("7280000.00")
    assert row.service_ratio == Decimal("1.13")  # (1000 + 728) ÷ 152300
    assert row.interest_ratio == Decimal("0.27")  # 728 ÷ 268400
    assert next(r for r in history() if r.year == 2025).service_ratio == Decimal("0.00")


def test_maturity_profile_subtracts_repaid_principal(county):
    later = county["later"].year
    row = next(r for r in maturity_profile() if r.year == later)
    assert row.bonds == 2
    assert row.issued == Decimal("200000000.00")
    assert row.special == Decimal("140000000.00")  # 15000 − 1000 万元 repaid
    assert row.general == Decimal("50000000.00")
    assert row.unfunded == 0
    soon = next(r for r in maturity_profile() if r.year == county["soon"].year)
    assert soon.unfunded >= Decimal("80000000.00")


def test_deputy_reads_the_pages_with_charts(client, deputy_user, county):
    client.force_login(deputy_user)
    page = client.get(reverse("supervision:debt"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "<svg" in text and "政府债务风险指标及其计算依据" in text and "261.01%" in text
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    page = client.get(reverse("supervision:maturity"), {"months": "6"})
    text = page.content.decode()
    assert page.status_code == 200 and "今后 6 个月内到期的债券" in text
    assert "一般债券一期" in text and "未落实" in text
    page = client.get(reverse("supervision:bonds"), {"category": "special"})
    assert "专项债券一期" in page.content.decode()
    assert "一般债券一期" not in page.content.decode()
    # a deputy reads, but does not import
    page = client.get(reverse("supervision:imports"))
    assert page.status_code == 200 and "上传文件" not in page.content.decode()
    upload = client.post(
        reverse("supervision:imports"),
        {"kind": "positions", "file": _upload(county_positions())},
    )
    assert upload.status_code == 403


def _upload(rows, name="p.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, csv_bytes(rows), content_type="text/csv")


def test_liaison_and_anonymous_are_refused(client, liaison_user):
    for name in (
        "supervision:debt",
        "supervision:maturity",
        "supervision:bonds",
        "supervision:imports",
    ):
        assert client.get(reverse(name)).status_code == 302  # to the login page
    client.force_login(liaison_user)
    for name in (
        "supervision:debt",
        "supervision:maturity",
        "supervision:bonds",
        "supervision:imports",
    ):
        assert client.get(reverse(name)).status_code == 403
    upload = client.post(
        reverse("supervision:imports"), {"kind": "positions", "file": _upload(county_positions())}
    )
    assert upload.status_code == 403 and SupervisionBatch.objects.count() == 0
    response = client.get(reverse("supervision:template", args=["bonds", "xlsx"]))
    assert response.status_code == 403


def test_staff_upload_shows_row_errors_and_stores_nothing(client, staff_user):
    client.force_login(staff_user)
    rows = county_positions()
    rows[2][2] = "很多"
    response = client.post(
        reverse("supervision:imports"), {"kind": "positions", "file": _upload(rows)}
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "导入失败，未写入任何数据" in text and "“很多”不是数字" in text
    assert SupervisionBatch.objects.count() == 0
    response = client.post(
        reverse("supervision:imports"), {"kind": "positions", "file": _upload(county_positions())}
    )
    batch = SupervisionBatch.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "supervision:batch", args=[batch.pk]
    )
    from cms.usage.models import UsageRecord

    assert UsageRecord.objects.filter(action="upload", detail__contains="债务限额余额").exists()


def test_templates_download(client, staff_user):
    client.force_login(staff_user)
    response = client.get(reverse("supervision:template", args=["bonds", "xlsx"]))
    assert response.status_code == 200 and response.content.startswith(b"PK")
    response = client.get(reverse("supervision:template", args=["bonds", "csv"]))
    assert "债券编码" in response.content.decode("utf-8-sig")
    assert client.get(reverse("supervision:template", args=["nope", "csv"])).status_code == 404
    assert client.get(reverse("supervision:template", args=["bonds", "pdf"])).status_code == 404


def test_deputy_export_is_registered_with_purpose(client, deputy_user, county):
    client.force_login(deputy_user)
    url = reverse("supervision:export") + "?report=indicators"
    first = client.get(url)
    assert first.status_code == 200 and ExportRegistration.objects.count() == 0  # asks why
    response = client.post(url, {"purpose": "审查年度债务报告"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    registration = ExportRegistration.objects.get()
    assert registration.purpose == "审查年度债务报告"
    assert "政府债务风险指标" in registration.description


def test_export_refused_without_permission(client, liaison_user, county):
    client.force_login(liaison_user)
    response = client.get(reverse("supervision:export") + "?report=history")
    assert response.status_code == 403
    assert ExportRegistration.objects.count() == 0
    assert Bond.objects.count() == 3
