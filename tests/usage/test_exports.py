import csv
import hashlib
import io
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook

from cms.usage.exports import XLSX_CONTENT_TYPE, neutralise
from cms.usage.models import ExportRegistration, UsageAction, UsageRecord

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.usage.urls")]

URL = "/test-export/"


def download_name(response):
    header = response["Content-Disposition"]
    assert header.startswith("attachment; filename*=utf-8''")
    return unquote(header.split("''", 1)[1])


def test_neutralise_formula_starts():
    for dangerous in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(dangerous) == "'" + dangerous
    assert neutralise("预算") == "预算"
    assert neutralise(-1) == -1


def test_deputy_gets_the_purpose_form_first(client, deputy_user):
    client.force_login(deputy_user)
    response = client.get(URL)
    body = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "导出备案登记" in body and "用途" in body and "测试用数据表" in body
    assert 'name="purpose"' in body
    assert ExportRegistration.objects.count() == 0
    assert not UsageRecord.objects.filter(action=UsageAction.EXPORT).exists()


@pytest.mark.parametrize(
    ("purpose", "message"),
    [("", "请填写导出用途"), ("  ", "请填写导出用途"), ("备用", "至少需要 4 个字")],
)
def test_deputy_without_a_real_purpose_is_refused(client, deputy_user, purpose, message):
    client.force_login(deputy_user)
    response = client.post(URL, {"purpose": purpose})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert message in response.content.decode()
    assert ExportRegistration.objects.count() == 0


def test_deputy_with_purpose_gets_a_registered_xlsx(client, deputy_user):
    client.force_login(deputy_user)
    response = client.post(URL, {"purpose": "准备预算初审发言"}, REMOTE_ADDR="10.2.3.4")

    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    name = download_name(response)
    assert name.startswith("测试导出_") and name.endswith(".xlsx")

    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.title == "测试导出"
    assert [c.value for c in sheet[1]] == ["名称", "数值", "备注"]
    assert all(c.font.b for c in sheet[1])
    assert [c.value for c in sheet[2]] == ["预算工委", 12, "正常文本"]
    assert [c.value for c in sheet[3]] == ["'=1+1", 2, "'+SUM(A1:A2)"]
    assert sheet["A3"].data_type == "s"
    assert [c.value for c in sheet[4]] == ["'@cmd", -3, "'-危险"]

    registration = ExportRegistration.objects.get()
    assert registration.user == deputy_user
    assert registration.role == "代表/专家"
    assert registration.purpose == "准备预算初审发言"
    assert registration.description == "测试用数据表"
    assert registration.module == "测试模块"
    assert registration.filename == name
    assert registration.file_format == "xlsx"
    assert registration.row_count == 3
    assert registration.byte_size == len(response.content)
    assert registration.sha256 == hashlib.sha256(response.content).hexdigest()
    assert registration.ip_address == "10.2.3.4"

    usage = UsageRecord.objects.get(action=UsageAction.EXPORT)
    assert usage.user == deputy_user
    assert usage.object_id == str(registration.pk)
    assert registration.sha256 in usage.detail and "准备预算初审发言" in usage.detail


def test_purpose_form_keeps_the_query_string(client, deputy_user):
    client.force_login(deputy_user)
    body = client.get(URL + "?format=csv").content.decode()
    assert 'action="/test-export/?format=csv"' in body
    response = client.post(URL + "?format=csv", {"purpose": "核对数据口径"})
    assert download_name(response).endswith(".csv")


def test_staff_gets_the_file_straight_away(client, staff_user):
    client.force_login(staff_user)
    response = client.get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    registration = ExportRegistration.objects.get()
    assert registration.user == staff_user
    assert registration.role == "工作人员"
    assert registration.purpose == ""
    assert registration.sha256 == hashlib.sha256(response.content).hexdigest()
    assert UsageRecord.objects.filter(action=UsageAction.EXPORT, user=staff_user).count() == 1


def test_staff_csv_is_neutralised_and_readable(client, staff_user):
    client.force_login(staff_user)
    response = client.get(URL + "?format=csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["名称", "数值", "备注"]
    assert rows[2] == ["'=1+1", "2", "'+SUM(A1:A2)"]
    assert ExportRegistration.objects.get().file_format == "csv"


def test_liaison_without_export_permission_is_refused(client, liaison_user):
    client.force_login(liaison_user)
    for response in (client.get(URL), client.post(URL, {"purpose": "想要导出看看"})):
        assert response.status_code == 403
        assert "无权导出" in response.content.decode()
    assert ExportRegistration.objects.count() == 0
    denied = UsageRecord.objects.filter(action=UsageAction.DENIED, user=liaison_user)
    assert denied.count() == 2
    assert denied.first().detail == "无权导出：测试用数据表"


def test_purpose_roles_come_from_settings(client, staff_user, settings):
    settings.EXPORT_PURPOSE_ROLES = ["工作人员"]
    client.force_login(staff_user)
    assert client.get(URL)["Content-Type"].startswith("text/html")
    assert ExportRegistration.objects.count() == 0


def test_anonymous_is_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def _confirmation_token(client):
    import re

    page = client.get(URL).content.decode()
    return re.search(r'name="export_token" value="([^"]+)"', page).group(1), page


def test_confirmation_page_says_what_is_exported_and_registered(client, deputy_user):
    client.force_login(deputy_user)
    token, page = _confirmation_token(client)
    assert "将导出" in page and "测试用数据表" in page
    assert "将登记" in page and "文件摘要" in page and "不会重复登记" in page
    assert ExportRegistration.objects.count() == 0


def test_resubmitting_the_confirmation_page_registers_once(client, deputy_user):
    """A double click or a resent form carries the same one-time token: the second gets a page
    saying the export is registered already, and nothing is written again."""
    client.force_login(deputy_user)
    token, _ = _confirmation_token(client)
    data = {"purpose": "准备预算初审发言", "export_token": token}
    first = client.post(URL, data)
    assert first.status_code == 200 and first["Content-Type"] == XLSX_CONTENT_TYPE
    second = client.post(URL, data)
    assert second.status_code == 409
    body = second.content.decode()
    assert "本次导出已登记，未重复登记" in body and "重新导出" in body
    registration = ExportRegistration.objects.get()
    assert registration.form_token and registration.filename in body
    assert UsageRecord.objects.filter(action=UsageAction.EXPORT).count() == 1
    # a new confirmation page is a new export, registered again
    token, _ = _confirmation_token(client)
    assert client.post(URL, {**data, "export_token": token}).status_code == 200
    assert ExportRegistration.objects.count() == 2


def test_a_forged_or_foreign_token_is_refused(client, deputy_user, make_user):
    from cms import roles

    other = make_user(roles.DEPUTY, username="deputy_other")
    client.force_login(other)
    foreign, _ = _confirmation_token(client)
    client.force_login(deputy_user)
    for token in ("forged", foreign):
        response = client.post(URL, {"purpose": "准备预算初审发言", "export_token": token})
        assert response.status_code == 400 and "确认页已失效" in response.content.decode()
    assert ExportRegistration.objects.count() == 0


def test_register_export_refuses_a_used_token_at_the_database(rf, deputy_user):
    """The rule itself, below the view: a used token raises AlreadyRegistered, writes nothing
    (two submissions racing past this check meet the unique index, which is caught the same)."""
    from cms.usage.exports import AlreadyRegistered, csv_export, register_export

    request = rf.post(URL)
    request.user = deputy_user
    export = csv_export("测试", ["a"], [[1]])
    first = register_export(
        request, export, description="测试", purpose="准备预算初审发言", form_token="n1"
    )
    with pytest.raises(AlreadyRegistered) as raised:
        register_export(
            request, export, description="测试", purpose="准备预算初审发言", form_token="n1"
        )
    assert raised.value.registration == first
    assert ExportRegistration.objects.count() == 1
