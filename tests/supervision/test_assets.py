from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cms.usage.models import ExportRegistration
from supervision import demo
from supervision.assets import Change, enterprise_totals, paired, unit_totals
from supervision.choices import ImportKind
from supervision.importing import import_file
from supervision.models import EnterpriseAssets, SupervisionBatch, UnitAssets
from supervision.reports import asset_totals_report

from .conftest import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

UNIT_HEADER = [
    "年度",
    "单位编码",
    "单位名称",
    "资产总额(万元)",
    "负债总额(万元)",
    "净资产(万元)",
    "固定资产(万元)",
    "土地(万元)",
    "车辆(辆)",
    "车辆金额(万元)",
]
ENTERPRISE_HEADER = [
    "年度",
    "统一社会信用代码",
    "企业名称",
    "资产总额(万元)",
    "负债总额(万元)",
    "所有者权益(万元)",
    "营业收入(万元)",
    "利润总额(万元)",
]


def units():
    return [
        UNIT_HEADER,
        [2025, "101", "县教育体育局", "1000", "200", "800", "600", "100", "4", "80"],
        [2025, "102", "县卫生健康局", "500", "100", "", "300", "", "2", "40"],
        [2026, "101", "县教育体育局", "1200", "300", "900", "700", "100", "5", "90"],
        [2026, "102", "县卫生健康局", "450", "90", "360", "280", "", "2", "40"],
    ]


def enterprises():
    return [
        ENTERPRISE_HEADER,
        [2025, "", "县城投公司", "10000", "6000", "4000", "800", "100"],
        [2025, "", "县农业公司", "2000", "1500", "", "300", "-40"],
        [2026, "", "县城投公司", "11000", "7150", "", "1000", "150"],
        [2026, "", "县农业公司", "1800", "1500", "300", "240", "-60"],
    ]


@pytest.fixture
def county():
    assert import_file(xlsx_bytes(units()), "units.xlsx", ImportKind.UNIT_ASSETS).ok
    assert import_file(csv_bytes(enterprises()), "soe.csv", ImportKind.ENTERPRISE_ASSETS).ok


def test_good_files_are_imported_in_yuan_with_net_assets_filled(county):
    health = UnitAssets.objects.get(year=2025, name="县卫生健康局")
    assert health.net_assets == Decimal("4000000.00")  # 500 − 100 万元, left blank in the file
    assert health.land is None and health.vehicles == 2
    farm = EnterpriseAssets.objects.get(year=2025, name="县农业公司")
    assert farm.equity == Decimal("5000000.00") and farm.profit == Decimal("-400000.00")
    assert SupervisionBatch.objects.filter(kind=ImportKind.UNIT_ASSETS).count() == 1


def test_malformed_template_is_refused_with_row_numbers_and_nothing_stored():
    rows = units()
    rows[1][3] = "很多"  # row 2
    rows[2][5] = "999"  # row 3: 净资产 ≠ 资产 − 负债
    rows[3][6] = "5000"  # row 4: 固定资产 > 资产总额
    rows.append(rows[4][:])  # row 6 repeats row 5
    result = import_file(csv_bytes(rows), "bad.csv", ImportKind.UNIT_ASSETS)
    assert not result.ok
    found = {e.row: e.message for e in result.errors}
    assert "“很多”不是数字" in found[2]
    assert "净资产应等于资产总额减负债总额" in found[3]
    assert "固定资产不能大于资产总额" in found[4]
    assert "与第 5 行重复" in found[6]
    assert UnitAssets.objects.count() == 0 and SupervisionBatch.objects.count() == 0
    missing = import_file(
        csv_bytes([["年度", "企业名称"], [2026, "县城投公司"]]),
        "x.csv",
        ImportKind.ENTERPRISE_ASSETS,
    )
    assert not missing.ok and "未找到企业国有资产的表头" in missing.errors[0].message
    assert EnterpriseAssets.objects.count() == 0


def test_reimport_of_a_year_replaces_that_year_only(county):
    rows = [
        ENTERPRISE_HEADER,
        [2026, "", "县城投公司", "11500", "7150", "", "1000", "150"],
        [2026, "", "县文旅公司", "900", "300", "", "120", "10"],
    ]
    result = import_file(csv_bytes(rows), "soe2.csv", ImportKind.ENTERPRISE_ASSETS)
    assert result.ok
    assert result.changes["removed"] == 1 and result.changes["added"] == 1
    assert result.changes["changed"] == 1
    names_2026 = set(EnterpriseAssets.objects.filter(year=2026).values_list("name", flat=True))
    assert names_2026 == {"县城投公司", "县文旅公司"}
    assert EnterpriseAssets.objects.filter(year=2025).count() == 2  # other year kept
    batch = SupervisionBatch.objects.get(pk=result.batch)
    assert batch.changes["years"] == [2026]


def test_year_over_year_totals_and_rows(county):
    assert Change(Decimal(120), Decimal(100)).percent == Decimal("20.00")
    assert Change(Decimal(-60), Decimal(-40)).percent == Decimal("-50.00")  # loss grew
    assert Change(Decimal(5), None).delta is None
    totals = unit_totals()
    assert totals[2026]["total_assets"] == Decimal("16500000.00")
    assert totals[2025]["total_assets"] == Decimal("15000000.00")
    table = asset_totals_report(2026)
    by_item = {(r[0].text, r[1].text): r for r in table.rows}
    assets = by_item[("行政事业性国有资产", "资产总额")]
    assert [c.text for c in assets[2:]] == ["1,650.00", "1,500.00", "150.00", "10.00%"]
    ratio = by_item[("企业国有资产", "资产负债率")]
    # 2026: 8650 ÷ 12800 = 67.58%; 2025: 7500 ÷ 12000 = 62.50%
    assert [c.text for c in ratio[2:5]] == ["67.58%", "62.50%", "+5.08"]
    assert enterprise_totals()[2026]["profit"] == Decimal("900000.00")
    city = next(p for p in paired(EnterpriseAssets, 2026) if p.current.name == "县城投公司")
    assert city.debt_ratio == Decimal("65.00") and city.previous_debt_ratio == Decimal("60.00")
    assert city.change("revenue").percent == Decimal("25.00")


def test_deputy_reads_the_page_and_exports_through_the_registration(client, deputy_user, county):
    client.force_login(deputy_user)
    page = client.get(reverse("supervision:assets"))
    text = page.content.decode()
    assert page.status_code == 200 and "2026年国有资产总体情况" in text
    assert "<svg" in text and "县农业公司" in text and "83.33%" in text  # 1500 ÷ 1800
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    older = client.get(reverse("supervision:assets"), {"year": "2025"}).content.decode()
    assert "2025年行政事业性国有资产" in older
    url = reverse("supervision:asset_export") + "?report=units&year=2026"
    assert client.get(url).status_code == 200 and ExportRegistration.objects.count() == 0
    response = client.post(url, {"purpose": "审议国有资产管理情况报告"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    registration = ExportRegistration.objects.get()
    assert registration.purpose == "审议国有资产管理情况报告"
    bad = client.post(
        reverse("supervision:asset_export") + "?report=units&year=1999", {"purpose": "审议报告"}
    )
    assert bad.status_code == 400
    upload = client.post(
        reverse("supervision:imports"),
        {
            "kind": ImportKind.UNIT_ASSETS,
            "file": SimpleUploadedFile("u.csv", csv_bytes(units()), content_type="text/csv"),
        },
    )
    assert upload.status_code == 403


def test_liaison_and_anonymous_are_refused(client, liaison_user, county):
    for name in ("supervision:assets", "supervision:asset_export"):
        assert client.get(reverse(name)).status_code == 302  # to the login page
    client.force_login(liaison_user)
    assert client.get(reverse("supervision:assets")).status_code == 403
    export = client.post(
        reverse("supervision:asset_export") + "?report=units&year=2026", {"purpose": "看看数据"}
    )
    assert export.status_code == 403 and ExportRegistration.objects.count() == 0


def test_staff_import_through_the_page_and_templates(client, staff_user):
    client.force_login(staff_user)
    template = client.get(reverse("supervision:template", args=[ImportKind.UNIT_ASSETS, "xlsx"]))
    assert template.status_code == 200 and template.content.startswith(b"PK")
    text = client.get(
        reverse("supervision:template", args=[ImportKind.ENTERPRISE_ASSETS, "csv"])
    ).content.decode("utf-8-sig")
    assert "所有者权益(万元)" in text
    response = client.post(
        reverse("supervision:imports"),
        {
            "kind": ImportKind.UNIT_ASSETS,
            "file": SimpleUploadedFile("u.csv", csv_bytes(units()), content_type="text/csv"),
        },
    )
    assert response.status_code == 302 and UnitAssets.objects.count() == 4


def test_demo_assets_load_once(client, deputy_user):
    demo.load_asset_demo()
    counts = (UnitAssets.objects.count(), EnterpriseAssets.objects.count())
    assert counts == (2 * len(demo.UNIT_ASSETS), 2 * len(demo.ENTERPRISES))
    assert len(demo.UNIT_ASSETS) == 15 and len(demo.ENTERPRISES) == 5
    batches = SupervisionBatch.objects.count()
    demo.load_asset_demo()
    assert (UnitAssets.objects.count(), EnterpriseAssets.objects.count()) == counts
    assert SupervisionBatch.objects.count() == batches == 2
    client.force_login(deputy_user)
    text = client.get(reverse("supervision:assets")).content.decode()
    assert "县人民医院" in text and "县农业产业发展有限公司" in text and "<svg" in text
