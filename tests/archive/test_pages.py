import datetime

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from archive import services
from archive.models import AccessAction, AccessRecord, AppraisalDecision, ArchiveItem, ItemStatus
from cms.usage.models import AppendOnlyError, ExportRegistration, UsageAction, UsageRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def filed(file_now, archivist_user, export_registration):
    return file_now("usage.exportregistration", export_registration.pk, archivist_user)


def test_candidates_list_unfiled_records_and_filing_goes_through_the_button(
    client, archivist_user, export_registration, django_capture_on_commit_callbacks
):
    client.force_login(archivist_user)
    page = client.get(reverse("archive:candidates"))
    assert page.status_code == 200
    assert "2026年预算执行情况" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("archive:file"),
            {
                "source": "usage.exportregistration",
                "source_id": export_registration.pk,
                "retention": "D30",
                "class_code": "BGS",
                "classification": "",
            },
        )
    item = ArchiveItem.objects.get()
    assert response.status_code == 302 and response.url == reverse("archive:item", args=[item.pk])
    assert item.item_number.endswith("-D30-BGS-0001") and item.status == ItemStatus.FILED
    assert "2026年预算执行情况" not in client.get(reverse("archive:candidates")).content.decode()
    # filing again is refused with a message, nothing new
    response = client.post(
        reverse("archive:file"),
        {"source": "usage.exportregistration", "source_id": export_registration.pk},
        follow=True,
    )
    assert "该材料已归档" in response.content.decode() and ArchiveItem.objects.count() == 1


def test_only_file_records_may_file_or_see_candidates(
    client, staff_user, deputy_user, liaison_user, export_registration
):
    for user in (staff_user, deputy_user, liaison_user):
        client.force_login(user)
        assert client.get(reverse("archive:candidates")).status_code == 403
        response = client.post(
            reverse("archive:file"),
            {"source": "usage.exportregistration", "source_id": export_registration.pk},
        )
        assert response.status_code == 403
        assert client.get(reverse("archive:review")).status_code == 403
        assert client.get(reverse("archive:access")).status_code == 403
        assert client.post(reverse("archive:fixity")).status_code == 403
    assert not ArchiveItem.objects.exists()
    assert UsageRecord.objects.filter(action=UsageAction.DENIED).count() >= 15


def test_reading_is_for_archivist_admin_and_staff_only(
    client, filed, staff_user, deputy_user, liaison_user, admin_user_role
):
    for user, status in (
        (staff_user, 200),
        (admin_user_role, 200),
        (deputy_user, 403),
        (liaison_user, 403),
    ):
        client.force_login(user)
        assert client.get(reverse("archive:item", args=[filed.pk])).status_code == status
        assert client.get(reverse("archive:index")).status_code == status
        assert client.get(reverse("archive:catalogue")).status_code == status


def test_download_needs_a_purpose_and_every_access_is_registered(client, filed, staff_user):
    client.force_login(staff_user)
    detail = client.get(reverse("archive:item", args=[filed.pk]))
    body = detail.content.decode()
    assert filed.item_number in body and "归档章" in body and filed.files.first().sha256 in body
    rendition = filed.files.get(name="rendition.pdf")
    url = reverse("archive:download", args=[filed.pk, rendition.pk])
    refused = client.get(url)
    assert refused.status_code == 302  # back to the page: state a purpose first
    assert not AccessRecord.objects.filter(action=AccessAction.DOWNLOAD).exists()
    short = client.post(
        reverse("archive:item_purpose", args=[filed.pk]), {"purpose": "查"}, follow=True
    )
    assert "利用目的" in short.content.decode()
    client.post(reverse("archive:item_purpose", args=[filed.pk]), {"purpose": "编写年度工作总结"})
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    record = AccessRecord.objects.get(action=AccessAction.DOWNLOAD)
    assert record.user == staff_user and record.file == rendition
    assert record.purpose == "编写年度工作总结"
    assert AccessRecord.objects.filter(action=AccessAction.CONSULT, user=staff_user).exists()
    assert UsageRecord.objects.filter(action=UsageAction.VIEW_RESTRICTED, user=staff_user).exists()


def test_altered_file_is_not_handed_out(client, filed, archivist_user):
    client.force_login(archivist_user)
    client.post(reverse("archive:item_purpose", args=[filed.pk]), {"purpose": "核对原件内容"})
    stored = filed.files.get(name="metadata.json")
    (services.archive_root() / stored.relative_path).write_text("{}", encoding="utf-8")
    response = client.get(reverse("archive:download", args=[filed.pk, stored.pk]), follow=True)
    assert "摘要与归档时不一致" in response.content.decode()
    assert not AccessRecord.objects.filter(action=AccessAction.DOWNLOAD).exists()


def test_catalogue_has_nine_columns_and_exports_xlsx_registered(client, filed, archivist_user):
    client.force_login(archivist_user)
    query = f"?year={filed.year}&retention=D10&class_code=YSGW"
    page = client.get(reverse("archive:catalogue") + query).content.decode()
    for header in ("序号", "档号", "文号", "责任者", "题名", "日期", "密级", "页数", "备注"):
        assert f"<th>{header}</th>" in page
    assert filed.date.strftime("%Y%m%d") in page
    response = client.get(reverse("archive:catalogue_export", args=["xlsx"]) + query)
    assert response.status_code == 200
    import io

    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header_row = next(i for i, r in enumerate(rows) if r and r[0] == "序号")
    assert list(rows[header_row]) == [
        "序号",
        "档号",
        "文号",
        "责任者",
        "题名",
        "日期",
        "密级",
        "页数",
        "备注",
    ]
    assert rows[header_row + 1][1] == filed.item_number
    assert ExportRegistration.objects.filter(module="立卷归档").count() == 1


def test_catalogue_docx_and_pdf(client, filed, archivist_user):
    client.force_login(archivist_user)
    query = f"?year={filed.year}&retention=D10&class_code=YSGW"
    docx = client.get(reverse("archive:catalogue_export", args=["docx"]) + query)
    assert docx.status_code == 200 and docx.content[:2] == b"PK"
    pdf = client.get(reverse("archive:catalogue_export", args=["pdf"]) + query)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert ExportRegistration.objects.filter(module="立卷归档").count() == 2
    # A4 landscape (before: US Letter, 792 × 612 pt), the office as author
    import io

    from docx import Document
    from pypdf import PdfReader

    box = PdfReader(io.BytesIO(pdf.content)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (842, 595)
    props = Document(io.BytesIO(docx.content)).core_properties
    assert props.author.endswith("人大常委会预算工委") and "python-docx" not in props.comments


def test_deputy_cannot_export_the_catalogue(client, filed, deputy_user):
    client.force_login(deputy_user)
    query = f"?year={filed.year}&retention=D10&class_code=YSGW"
    assert client.get(reverse("archive:catalogue_export", args=["xlsx"]) + query).status_code == 403


def test_retention_review_lists_expired_items_and_records_decisions(
    client, filed, archivist_user, staff_user
):
    today = datetime.date(filed.year + 11, 3, 1)
    assert [i for i, _ in services.due_for_appraisal(today)] == [filed]
    assert services.due_for_appraisal(datetime.date(filed.year + 10, 12, 31)) == []
    with pytest.raises(services.FilingError, match="理由"):
        services.decide_appraisal(filed, archivist_user, "extend", "", 2050, today=today)
    with pytest.raises(services.FilingError, match="以后的年份"):
        services.decide_appraisal(
            filed, archivist_user, "extend", "仍有参考价值", filed.year, today=today
        )
    services.decide_appraisal(
        filed, archivist_user, "extend", "仍有参考价值", today.year + 5, today=today
    )
    assert services.due_for_appraisal(today) == []
    later = datetime.date(today.year + 6, 1, 1)
    assert [i for i, _ in services.due_for_appraisal(later)] == [filed]
    services.decide_appraisal(filed, archivist_user, "destroy", "已无保存价值", today=later)
    assert services.due_for_appraisal(later) == []
    decisions = list(AppraisalDecision.objects.values_list("decision", flat=True))
    assert decisions == ["extend", "destroy"]
    with pytest.raises(AppendOnlyError):
        AppraisalDecision.objects.first().delete()
    client.force_login(archivist_user)
    assert client.get(reverse("archive:review")).status_code == 200


def test_policy_editor_action_links_to_the_filing_form(client, archivist_user, file_now):
    from policies import ingest
    from tests.policies.files import SAMPLE_NOTICE

    (record,) = ingest.import_path_data("notice.txt", SAMPLE_NOTICE.encode(), publish=True)
    client.force_login(archivist_user)
    url = reverse("archive:file") + f"?source=policies.policypage&source_id={record.page_id}"
    page = client.get(url)
    assert page.status_code == 200 and "保管期限" in page.content.decode()
    item = file_now("policies.policypage", record.page_id, archivist_user)
    assert "该材料已归档" in client.get(url).content.decode()
    assert item.is_filed


def test_usage_month_is_filed_with_csv(file_now, archivist_user, admin_user_role):
    from archive.source_adapters.usage_log import UsageMonth, finished_months

    month = UsageMonth(2026, 10)
    field = UsageRecord._meta.get_field("created_at")
    field.auto_now_add = False
    try:
        from django.utils import timezone

        when = timezone.make_aware(datetime.datetime(2026, 10, 15, 9))
        UsageRecord.objects.bulk_create(
            [
                UsageRecord(
                    created_at=when, username="deputy", action=UsageAction.LOGIN, detail="登录"
                )
            ]
        )
    finally:
        field.auto_now_add = True
    assert month in finished_months() or datetime.date.today() < datetime.date(2026, 11, 1)
    item = file_now("usage.month", "2026-10", archivist_user)
    assert item.is_filed and item.date == datetime.date(2026, 10, 31)
    csv_file = item.files.get(role="original")
    assert csv_file.name == "使用记录-2026-10.csv"
    data = (services.archive_root() / csv_file.relative_path).read_bytes().decode("utf-8-sig")
    assert "deputy" in data and "登录" in data


def test_failed_filing_does_not_redirect_off_site(client, archivist_user, export_registration):
    client.force_login(archivist_user)
    data = {
        "source": "usage.exportregistration",
        "source_id": "999999",
        "back": "https://evil.example/",
    }
    response = client.post(reverse("archive:file"), data)
    assert response.status_code == 302 and response.url == reverse("archive:candidates")


def test_retention_table_and_codes_are_kept_in_the_admin_by_the_archivist(
    client, archivist_user, staff_user
):
    client.force_login(archivist_user)
    for model in ("retentionrule", "archiveclass"):
        assert client.get(f"/admin/snippets/archive/{model}/").status_code == 200
    client.force_login(staff_user)
    assert client.get("/admin/snippets/archive/retentionrule/").status_code in (302, 403)


def test_archive_pages_show_names_and_no_server_paths(
    client, filed, archivist_user, staff_user, deputy_user, settings
):
    """People by their names (姓名; the account only when there is no name), files by 档号 and
    name: no account names, server folders or shell commands on the archive's pages."""
    from urllib.parse import unquote

    archivist_user.display_name = "李档案"
    archivist_user.save()
    staff_user.display_name = "王利用"
    staff_user.save()
    deputy_user.display_name = "赵代表"
    deputy_user.save()
    client.force_login(staff_user)
    client.post(reverse("archive:item_purpose", args=[filed.pk]), {"purpose": "编写年度工作总结"})
    rendition = filed.files.get(role="rendition")
    response = client.get(reverse("archive:download", args=[filed.pk, rendition.pk]))
    saved_as = unquote(response["Content-Disposition"].split("''", 1)[1])
    assert saved_as == f"{filed.item_number} {filed.title} 版式文件.pdf"
    today = datetime.date(filed.year + 11, 3, 1)
    services.decide_appraisal(filed, archivist_user, "keep", "仍有参考价值", today=today)
    (services.archive_root() / rendition.relative_path).write_bytes(b"%PDF-1.4 changed")

    client.force_login(archivist_user)
    report_page = client.post(reverse("archive:fixity"), follow=True).content.decode()
    assert "李档案手动核验" in report_page and "rendition.pdf" in report_page
    assert rendition.relative_path not in report_page
    pages = {
        "index": reverse("archive:index"),
        "item": reverse("archive:item", args=[filed.pk]),
        "access": reverse("archive:access"),
        "review": reverse("archive:review"),
        "fixity": reverse("archive:fixity"),
        "catalogue": reverse("archive:catalogue")
        + f"?year={filed.year}&retention=D10&class_code=YSGW",
        "candidates": reverse("archive:candidates"),
    }
    for name, url in pages.items():
        html = client.get(url).content.decode()
        for hidden in (
            str(settings.DATA_DIR),
            str(services.archive_root()),
            "manage.py",
            archivist_user.username,
            staff_user.username,
        ):
            assert hidden not in html, (name, hidden)
    item_page = client.get(pages["item"]).content.decode()
    assert "李档案" in item_page and "王利用" in item_page  # filed by / consulted by
    assert "王利用" in client.get(pages["access"]).content.decode()
    assert "李档案" in client.get(pages["review"]).content.decode()
