import datetime
import hashlib
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from cms.usage.models import ExportRegistration, UsageAction, UsageRecord
from cms.usage.services import record_usage

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(rf, staff_user, deputy_user):
    def make(user, action, detail, address):
        request = rf.get("/policies/")
        request.META["REMOTE_ADDR"] = address
        request.user = user
        return record_usage(request, action, detail=detail)

    return {
        "search": make(staff_user, UsageAction.SEARCH, "检索：三公经费", "10.0.0.5"),
        "restricted": make(deputy_user, UsageAction.VIEW_RESTRICTED, "查看代表信息", "10.9.9.9"),
        "upload": make(staff_user, UsageAction.UPLOAD, "上传：预算草案", "10.0.0.6"),
    }


def listed(response, *needles):
    body = response.content.decode()
    return [needle in body for needle in needles]


@pytest.mark.parametrize("reader", ["admin_user_role", "archivist_user"])
def test_readers_see_the_report_newest_first(request, client, records, reader):
    client.force_login(request.getfixturevalue(reader))
    response = client.get("/usage/records/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "使用记录" in body
    assert body.index("上传：预算草案") < body.index("查看代表信息") < body.index("检索：三公经费")
    assert "导出 Excel（备案登记）" in body
    assert client.get("/usage/exports/").status_code == 200
    # readable at 1366 px: names and addresses on one line, long paths wrap
    assert 'class="w-whitespace-nowrap"' in body or "w-whitespace-nowrap" in body
    assert "usage-wrap" in body and "usage/report.css" in body


@pytest.mark.parametrize("other", ["staff_user", "deputy_user", "liaison_user"])
def test_others_are_refused(request, client, other):
    user = request.getfixturevalue(other)
    client.force_login(user)
    for url in ("/usage/records/", "/usage/exports/", "/usage/records/export/"):
        response = client.get(url)
        assert response.status_code == 403, url
    assert UsageRecord.objects.filter(user=user, action=UsageAction.DENIED).count() == 3


def test_filters_filter(client, admin_user_role, records, staff_user):
    client.force_login(admin_user_role)
    url = "/usage/records/"

    by_action = client.get(url, {"action": "upload"})
    assert listed(by_action, "上传：预算草案", "检索：三公经费", "查看代表信息") == [
        True,
        False,
        False,
    ]
    by_user = client.get(url, {"user": staff_user.pk})
    assert listed(by_user, "上传：预算草案", "检索：三公经费", "查看代表信息") == [
        True,
        True,
        False,
    ]
    by_address = client.get(url, {"ip_address": "10.9."})
    assert listed(by_address, "上传：预算草案", "检索：三公经费", "查看代表信息") == [
        False,
        False,
        True,
    ]
    by_keyword = client.get(url, {"q": "三公"})
    assert listed(by_keyword, "上传：预算草案", "检索：三公经费", "查看代表信息") == [
        False,
        True,
        False,
    ]
    today = timezone.localdate()
    in_range = client.get(url, {"created_at_from": today, "created_at_to": today})
    assert all(listed(in_range, "上传：预算草案", "检索：三公经费"))
    yesterday = today - datetime.timedelta(days=1)
    out_of_range = client.get(url, {"created_at_to": yesterday})
    assert listed(out_of_range, "上传：预算草案", "检索：三公经费") == [False, False]


def test_report_is_paginated(client, archivist_user):
    for n in range(55):
        record_usage(None, UsageAction.SEARCH, user=archivist_user, detail=f"第{n}次检索")
    client.force_login(archivist_user)
    first = client.get("/usage/records/", {"action": "search"})
    assert "第54次检索" in first.content.decode()
    assert "第0次检索" not in first.content.decode()
    second = client.get("/usage/records/", {"action": "search", "p": 2})
    assert "第0次检索" in second.content.decode()


def test_filtered_export_goes_through_registration(client, archivist_user, records):
    client.force_login(archivist_user)
    response = client.get("/usage/records/export/", {"action": "upload", "q": "预算"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("时间", "账号", "用户", "操作")
    assert len(rows) == 2
    assert rows[1][3] == "上传" and rows[1][7] == "上传：预算草案"

    registration = ExportRegistration.objects.get()
    assert registration.module == "使用记录"
    assert registration.description == "使用记录（操作：上传；关键词：预算）"
    assert registration.row_count == 1
    assert registration.sha256 == hashlib.sha256(response.content).hexdigest()
    assert UsageRecord.objects.filter(action=UsageAction.EXPORT, user=archivist_user).exists()


def test_registration_list_filters(client, admin_user_role, archivist_user):
    client.force_login(archivist_user)
    client.get("/usage/records/export/", {"action": "search"})
    client.force_login(admin_user_role)
    client.get("/usage/records/export/", {"action": "upload"})

    listing = client.get("/usage/exports/", {"user": archivist_user.pk})
    assert listing.status_code == 200
    body = listing.content.decode()
    assert "使用记录（操作：检索）" in body and "使用记录（操作：上传）" not in body
    by_keyword = client.get("/usage/exports/", {"q": "上传"}).content.decode()
    assert "使用记录（操作：上传）" in by_keyword and "使用记录（操作：检索）" not in by_keyword


def test_registration_found_by_digest_prefix(client, archivist_user):
    client.force_login(archivist_user)
    client.get("/usage/records/export/", {"action": "search"})
    registration = ExportRegistration.objects.get()
    found = client.get("/usage/exports/", {"q": registration.sha256[:12].upper()})
    assert registration.filename in found.content.decode()
