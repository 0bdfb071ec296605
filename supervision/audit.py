"""审计整改: registering findings, the one table of rectification transitions, progress
reports with evidence, overdue reminders and who may see or do what.

Staff (cms.run_workflows) register findings and may send a finished one back; the liaison of
the responsible unit (or staff) reports progress, amounts and evidence. Readers with
cms.query_data see every finding; a liaison sees only his or her units' findings.
Evidence goes through the same checks as every other upload (policies.extraction: size,
type, readable content), and nothing is stored when a check fails.
"""

import datetime
import hashlib
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from budget.departments import acts_for, department_ids_for, is_department_scoped
from cms.uploads import UploadRefused, check_uploaded_file
from cms.usage.steps import record_step
from policies.extraction import ExtractionError, extract, max_upload_bytes

from .choices import RectificationStatus
from .models import AuditFinding, FindingEvent, RectificationReport

REGISTER_PERMISSION = "cms.run_workflows"
QUERY_PERMISSION = "cms.query_data"

S = RectificationStatus
# from → {to: action}. A report may keep the status (进展) or move it forward; only staff
# send a finished finding back (退回重新整改).
TRANSITIONS = {
    S.NONE: {S.NONE: "报告整改进展", S.PARTIAL: "报告部分整改", S.DONE: "报告整改完成"},
    S.PARTIAL: {S.PARTIAL: "报告整改进展", S.DONE: "报告整改完成"},
    S.DONE: {S.PARTIAL: "退回重新整改"},
}
STAFF_ONLY = {(S.DONE, S.PARTIAL)}


class RectificationError(ValidationError):
    pass


def _event(finding, user, action, from_status="", to_status="", note=""):
    return record_step(FindingEvent, user, action, from_status, to_status, note, finding=finding)


def can_register(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(REGISTER_PERMISSION))


def findings_for(user):
    if not getattr(user, "is_authenticated", False):
        return AuditFinding.objects.none()
    if user.has_perm(QUERY_PERMISSION) or user.has_perm(REGISTER_PERMISSION):
        return AuditFinding.objects.all()
    if is_department_scoped(user):
        return AuditFinding.objects.filter(department_id__in=department_ids_for(user))
    return AuditFinding.objects.none()


def can_report(user, finding: AuditFinding) -> bool:
    if can_register(user):
        return True
    return is_department_scoped(user) and acts_for(user, finding.department)


def allowed_statuses(finding: AuditFinding, user) -> dict:
    moves = dict(TRANSITIONS[S(finding.status)])
    if not can_register(user):
        moves = {to: a for to, a in moves.items() if (finding.status, to) not in STAFF_ONLY}
    return moves


@transaction.atomic
def register(user, **fields) -> AuditFinding:
    if not can_register(user):
        raise PermissionDenied("您没有登记审计查出问题的权限")
    finding = AuditFinding(**fields)
    finding.full_clean()
    finding.save()
    _event(finding, user, "登记问题", "", finding.status, finding.problem[:200])
    _notify_unit(finding, f"审计查出问题已交办：{finding.problem[:50]}")
    return finding


def _money(value, label) -> Decimal:
    value = Decimal(value or 0)
    if value < 0:
        raise RectificationError(f"{label}不能为负数")
    if value != value.quantize(Decimal("0.01")):
        raise RectificationError(f"{label}最多精确到分")
    return value


def _read_evidence(uploaded):
    limit = max_upload_bytes()
    if uploaded.size and uploaded.size > limit:
        raise RectificationError(f"佐证材料超过 {limit // (1024 * 1024)} MB 的上限")
    name = (uploaded.name or "").rsplit("/", 1)[-1]
    try:  # the one upload check: type by content, before anything is stored
        data = check_uploaded_file(uploaded, "material")
    except UploadRefused as error:
        raise RectificationError(error.messages[0]) from None
    try:
        extracted = extract(data, name)
    except ExtractionError as error:
        raise RectificationError(f"无法读取佐证材料“{name}”：{error}") from None
    return data, name, extracted.text


def report_progress(
    finding: AuditFinding,
    user,
    *,
    status: str,
    progress: str,
    recovered=0,
    corrected=0,
    evidence=None,
) -> RectificationReport:
    """File one progress report and move the finding, or refuse in Chinese and store nothing."""
    if not can_report(user, finding):
        raise PermissionDenied("您只能报告本单位审计查出问题的整改情况")
    progress = (progress or "").strip()
    if not progress:
        raise RectificationError("请填写整改进展")
    recovered = _money(recovered, "追回或上缴金额")
    corrected = _money(corrected, "调账或归还原资金渠道金额")
    file_data = _read_evidence(evidence) if evidence is not None else None
    with transaction.atomic():
        finding = AuditFinding.objects.select_for_update().get(pk=finding.pk)
        current = S(finding.status)
        try:
            target = S(status)
        except ValueError:
            raise RectificationError(f"未知的整改状态“{status}”") from None
        if target not in TRANSITIONS[current]:
            raise RectificationError(f"该问题当前为“{current.label}”，不能改为“{target.label}”")
        if target not in allowed_statuses(finding, user):
            raise PermissionDenied("只有工作人员可以退回已整改的问题")
        if (
            target == S.DONE
            and file_data is None
            and not finding.reports.exclude(evidence="").exists()
        ):
            raise RectificationError("报告整改完成须附佐证材料")
        total = finding.recovered + finding.corrected + recovered + corrected
        if finding.amount is not None and total > finding.amount:
            raise RectificationError("累计整改金额超过问题涉及金额，请核对")
        report = RectificationReport(
            finding=finding,
            reported_by=user,
            progress=progress,
            recovered=recovered,
            corrected=corrected,
            status=target,
        )
        if file_data is not None:
            data, name, text = file_data
            report.evidence_name = name[:255]
            report.evidence_sha256 = hashlib.sha256(data).hexdigest()
            report.evidence_text = text
            report.evidence.save(name[:100], ContentFile(data), save=False)
        try:
            report.save()
            finding.status = target
            finding.recovered += recovered
            finding.corrected += corrected
            if target != current:
                finding.overdue_notified_on = None
            finding.save()
            note = progress[:300]
            if recovered or corrected:
                note += f"（追回或上缴 {recovered} 元，调账或归还 {corrected} 元）"
            if file_data is not None:
                note += f"；佐证材料：{report.evidence_name}"
            _event(finding, user, TRANSITIONS[current][target], current, target, note)
        except Exception:
            if report.evidence:
                report.evidence.delete(save=False)
            raise
    return report


def _handlers():
    from supervision.alerts import alert_handlers

    return list(alert_handlers())


def _notify_unit(finding, subject, include_handlers=False):
    from cms.notifications.services import notify

    recipients = list(finding.department.liaisons.filter(is_active=True))
    if include_handlers:
        recipients += _handlers()
    if recipients:
        notify(
            recipients,
            subject[:100],
            body=finding.problem[:500],
            url=reverse("supervision:finding", args=[finding.pk]),
            category="supervision",
        )


@transaction.atomic
def remind_overdue(today: datetime.date | None = None) -> list[AuditFinding]:
    """Tell the unit's liaisons and the handlers once about each finding past its deadline."""
    today = today or timezone.localdate()
    overdue = (
        AuditFinding.objects.exclude(status=S.DONE)
        .filter(deadline__lt=today)
        .filter(Q(overdue_notified_on__isnull=True) | Q(overdue_notified_on__lte=F("deadline")))
        .select_related("department")
    )
    reminded = []
    for finding in overdue:
        _notify_unit(
            finding,
            f"审计整改已逾期（期限 {finding.deadline:%Y-%m-%d}）：{finding.problem[:40]}",
            include_handlers=True,
        )
        finding.overdue_notified_on = today
        finding.save(update_fields=["overdue_notified_on", "updated_at"])
        _event(finding, None, "逾期提醒", note=f"整改期限 {finding.deadline:%Y-%m-%d} 已过")
        reminded.append(finding)
    return reminded
