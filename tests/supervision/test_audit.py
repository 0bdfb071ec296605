import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from budget.models import Department
from cms.notifications.models import Message
from cms.usage.models import AppendOnlyError
from supervision import audit
from supervision.audit_report import render, summary
from supervision.choices import RectificationStatus as S
from supervision.models import AuditFinding, FindingEvent, RectificationReport

pytestmark = pytest.mark.django_db


def docx_upload(text, name="整改佐证.docx"):
    from docx import Document

    document = Document()
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


@pytest.fixture
def units(liaison_user):
    education = Department.objects.create(code="201", name="县教育局")
    health = Department.objects.create(code="301", name="县卫生健康局")
    education.liaisons.add(liaison_user)
    return {"education": education, "health": health}


def finding(staff_user, department, **changes):
    fields = {
        "year": 2025,
        "source_report": "关于2025年度县级预算执行和其他财政收支的审计工作报告",
        "number": "2025-01",
        "problem": "学生资助资金滞留未拨付",
        "amount": Decimal("1200000.00"),
        "department": department,
        "requirement": "立即拨付滞留资金",
        "deadline": timezone.localdate() + datetime.timedelta(days=30),
    }
    fields.update(changes)
    return audit.register(staff_user, **fields)


def test_register_to_done_with_evidence_and_events(staff_user, liaison_user, units):
    item = finding(staff_user, units["education"])
    assert Message.objects.filter(recipient=liaison_user).exists()  # the unit is told
    audit.report_progress(
        item, liaison_user, status=S.PARTIAL, progress="已拨付一半", recovered=Decimal("600000")
    )
    with pytest.raises(audit.RectificationError, match="须附佐证材料"):
        audit.report_progress(item, liaison_user, status=S.DONE, progress="全部拨付")
    report = audit.report_progress(
        item,
        liaison_user,
        status=S.DONE,
        progress="剩余资金已全部拨付到校",
        corrected=Decimal("600000"),
        evidence=docx_upload("拨付凭证 第二批 60 万元"),
    )
    item.refresh_from_db()
    assert item.status == S.DONE and item.rectified_amount == Decimal("1200000.00")
    assert report.evidence_sha256 and "拨付凭证" in report.evidence_text
    assert list(item.events.values_list("action", flat=True)) == [
        "登记问题",
        "报告部分整改",
        "报告整改完成",
    ]
    # a liaison may not reopen; staff may
    with pytest.raises(PermissionDenied):
        audit.report_progress(item, liaison_user, status=S.PARTIAL, progress="重开")
    audit.report_progress(item, staff_user, status=S.PARTIAL, progress="佐证不足，退回")
    item.refresh_from_db()
    assert item.status == S.PARTIAL
    # reports and events are append-only
    with pytest.raises(AppendOnlyError):
        report.save()
    with pytest.raises(AppendOnlyError):
        FindingEvent.objects.filter(finding=item).delete()


def test_bad_input_is_refused_and_nothing_stored(staff_user, liaison_user, units):
    item = finding(staff_user, units["education"])
    with pytest.raises(audit.RectificationError, match="超过问题涉及金额"):
        audit.report_progress(
            item, liaison_user, status=S.PARTIAL, progress="x", recovered=Decimal("1300000")
        )
    with pytest.raises(audit.RectificationError, match="内容不是Word（DOCX）文档.*已拒绝，未保存"):
        audit.report_progress(
            item,
            liaison_user,
            status=S.DONE,
            progress="完成",
            evidence=SimpleUploadedFile("证明.docx", b"not a zip"),
        )
    with pytest.raises(audit.RectificationError, match="不支持的文件类型"):
        audit.report_progress(
            item,
            liaison_user,
            status=S.DONE,
            progress="完成",
            evidence=SimpleUploadedFile("证明.exe", b"MZ\x90\x00"),
        )
    with pytest.raises(audit.RectificationError, match="请填写整改进展"):
        audit.report_progress(item, liaison_user, status=S.PARTIAL, progress="  ")
    with pytest.raises(audit.RectificationError, match="负数"):
        audit.report_progress(
            item, liaison_user, status=S.PARTIAL, progress="x", recovered=Decimal("-1")
        )
    assert RectificationReport.objects.count() == 0
    item.refresh_from_db()
    assert item.status == S.NONE and item.recovered == 0


def test_liaison_sees_and_answers_only_own_unit(client, staff_user, liaison_user, units):
    own = finding(staff_user, units["education"])
    other = finding(staff_user, units["health"], number="2025-02", problem="药品采购未招标")
    with pytest.raises(PermissionDenied):
        audit.report_progress(other, liaison_user, status=S.PARTIAL, progress="x")
    with pytest.raises(PermissionDenied):
        audit.register(liaison_user, **{"year": 2025})
    client.force_login(liaison_user)
    page = client.get(reverse("supervision:findings")).content.decode()
    assert "学生资助资金滞留未拨付" in page and "药品采购未招标" not in page
    assert "登记审计查出问题" not in page
    assert client.get(reverse("supervision:finding", args=[other.pk])).status_code == 404
    response = client.post(
        reverse("supervision:finding", args=[own.pk]),
        {"status": S.PARTIAL, "progress": "已拨付一半", "recovered_wan": "60"},
    )
    assert response.status_code == 302
    own.refresh_from_db()
    assert own.status == S.PARTIAL and own.recovered == Decimal("600000.00")
    # the timeline names the person, not the account
    liaison_user.display_name = "李联络"
    liaison_user.save()
    page = client.get(reverse("supervision:finding", args=[own.pk])).content.decode()
    assert "李联络" in page and liaison_user.username not in page
    response = client.post(
        reverse("supervision:finding", args=[other.pk]), {"status": S.PARTIAL, "progress": "x"}
    )
    assert response.status_code == 404
    assert client.post(reverse("supervision:findings"), {"year": 2025}).status_code == 403
    assert client.get(reverse("supervision:audit_report", args=[2025])).status_code == 403
    assert client.get(reverse("supervision:debt")).status_code == 403


def test_deputy_reads_but_does_not_report(client, staff_user, deputy_user, units):
    item = finding(staff_user, units["education"])
    client.force_login(deputy_user)
    page = client.get(reverse("supervision:finding", args=[item.pk]))
    assert page.status_code == 200 and "报告整改情况" not in page.content.decode()
    response = client.post(
        reverse("supervision:finding", args=[item.pk]), {"status": S.PARTIAL, "progress": "x"}
    )
    assert response.status_code == 403


def test_staff_register_form_refuses_bad_input(client, staff_user, units):
    client.force_login(staff_user)
    response = client.post(reverse("supervision:findings"), {"year": "20x5", "problem": ""})
    assert response.status_code == 400 and AuditFinding.objects.count() == 0
    response = client.post(
        reverse("supervision:findings"),
        {
            "year": 2025,
            "source_report": "审计工作报告",
            "number": "1",
            "problem": "专项资金挤占挪用",
            "department": units["health"].pk,
            "requirement": "归还原资金渠道",
            "mode": "immediate",
            "deadline": "2026-12-31",
            "amount_wan": "35.5",
        },
    )
    item = AuditFinding.objects.get()
    assert response.status_code == 302 and item.amount == Decimal("355000.00")


def test_overdue_reminder_once(staff_user, liaison_user, units):
    today = timezone.localdate()
    late = finding(staff_user, units["education"], deadline=today - datetime.timedelta(days=3))
    finding(staff_user, units["health"], number="x", deadline=today + datetime.timedelta(days=3))
    before = Message.objects.filter(recipient=liaison_user).count()
    assert audit.remind_overdue(today) == [late]
    assert Message.objects.filter(recipient=liaison_user).count() == before + 1
    assert audit.remind_overdue(today) == []
    assert late.events.filter(action="逾期提醒").count() == 1
    from supervision.tasks import remind_overdue_findings

    assert remind_overdue_findings() == 0


def test_drafted_report_has_the_right_figures(staff_user, liaison_user, units):
    from docx import Document

    a = finding(staff_user, units["education"])
    finding(staff_user, units["health"], number="2", amount=Decimal("800000"))
    audit.report_progress(
        a,
        liaison_user,
        status=S.DONE,
        progress="完成",
        recovered=Decimal("1200000"),
        evidence=docx_upload("凭证"),
    )
    s = summary(2025)
    assert s["total"] == 2 and s["counts"][S.DONE] == 1 and s["done_share"] == Decimal("50.00")
    document = Document(io.BytesIO(render(2025)))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "关于2025年度审计查出问题整改情况的报告" in text
    assert "共 2 个，涉及金额 200.00 万元" in text
    assert "已整改 1 个，部分整改 0 个，未整改 1 个，整改完成率 50.00%" in text
    assert "追回资金 120.00 万元" in text
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    assert "县卫生健康局" in cells and "药品" not in cells
