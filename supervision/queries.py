"""查询申请登记 (第五条): registering a query request, the one table of its transitions,
the answer with its file and exports, overdue reminders, and who may see or do what.

Staff and administrators (cms.run_workflows) register and handle every request. Deputies
(代表/专家 and 人大代表) file their own requests and see only those. Liaisons and other roles
have no part in this register. The answer is due QUERY_REQUEST_DUE_WORKDAYS working days
after receipt (cms.workdays); the answer file goes through the one upload check.
"""

import datetime
import hashlib

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Case, IntegerField, Q, Value, When
from django.urls import reverse
from django.utils import timezone

from cms.roles import DEPUTY, DEPUTY_MEMBER, has_role
from cms.uploads import check_uploaded_file
from cms.usage.models import ExportRegistration
from cms.usage.steps import record_step
from cms.workdays.services import add_workdays

from .query_models import OPEN_STATUSES, QueryRequest, QueryRequestEvent, QueryStatus

MANAGE_PERMISSION = "cms.run_workflows"
DEFAULT_DUE_WORKDAYS = 10
ANSWER_UPLOAD_PURPOSE = "letter_answer"

S = QueryStatus
# from → {to: action}. Answering goes through answer() (it needs the text); 退回 and 不予受理
# need a reason. A returned request may be registered again once the requester has clarified.
TRANSITIONS = {
    S.REGISTERED: {S.IN_PROGRESS: "开始办理", S.RETURNED: "退回", S.REJECTED: "不予受理"},
    S.IN_PROGRESS: {S.ANSWERED: "答复", S.RETURNED: "退回", S.REJECTED: "不予受理"},
    S.ANSWERED: {S.ARCHIVED: "归档", S.IN_PROGRESS: "重新办理"},
    S.RETURNED: {S.REGISTERED: "重新登记"},
    S.REJECTED: {},
    S.ARCHIVED: {},
}
NEEDS_REASON = {S.RETURNED, S.REJECTED}  # and 重新办理 (已答复 → 办理中)


class QueryRequestError(ValidationError):
    pass


def due_workdays() -> int:
    return int(getattr(settings, "QUERY_REQUEST_DUE_WORKDAYS", DEFAULT_DUE_WORKDAYS))


def due_date(received_on: datetime.date) -> datetime.date:
    return add_workdays(received_on, due_workdays()).as_date()


def can_manage(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(MANAGE_PERMISSION))


def is_deputy(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and has_role(user, DEPUTY, DEPUTY_MEMBER))


def can_use(user) -> bool:
    return can_manage(user) or is_deputy(user)


def requests_for(user):
    """Every request for staff; a deputy's own; nothing for anyone else."""
    if can_manage(user):
        qs = QueryRequest.objects.all()
    elif is_deputy(user):
        qs = QueryRequest.objects.filter(requester=user)
    else:
        return QueryRequest.objects.none()
    today = timezone.localdate()
    overdue = Case(
        When(Q(status__in=OPEN_STATUSES) & Q(due_on__lt=today), then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return qs.annotate(overdue_rank=overdue).order_by("overdue_rank", "due_on", "pk")


def _event(item, user, action, from_status="", to_status="", note=""):
    return record_step(QueryRequestEvent, user, action, from_status, to_status, note, request=item)


def record_event(item: QueryRequest, user, action: str, note: str = "") -> QueryRequestEvent:
    """A step that changes no status (e.g. a problem found from the request), for other
    supervision modules: the row only, the caller checks who may do it."""
    return _event(item, user, action, note=note)


@transaction.atomic
def register(
    user, *, requester_kind, requester_name, subject, question, received_on, requester=None
) -> QueryRequest:
    """Staff register any request; a deputy files his or her own (as 人大代表)."""
    if can_manage(user):
        pass
    elif is_deputy(user):
        requester, requester_kind = user, "deputy"
        requester_name = requester_name or getattr(user, "display_name", "") or user.get_username()
    else:
        raise PermissionDenied("您没有登记查询申请的权限。")
    if not (subject or "").strip() or not (question or "").strip():
        raise QueryRequestError("查询事项和查询内容不能为空。")
    if not (requester_name or "").strip():
        raise QueryRequestError("请填写提出人或委员会名称。")
    if received_on > timezone.localdate():
        raise QueryRequestError("收到日期不能晚于今天。")
    item = QueryRequest.objects.create(
        requester_kind=requester_kind,
        requester=requester,
        requester_name=requester_name.strip(),
        subject=subject.strip(),
        question=question.strip(),
        received_on=received_on,
        due_on=due_date(received_on),
        registered_by=user,
    )
    _event(
        item,
        user,
        "登记",
        to_status=item.status,
        note=f"答复期限 {item.due_on:%Y-%m-%d}（{due_workdays()} 个工作日）",
    )
    return item


def allowed_moves(item: QueryRequest, user) -> dict:
    """The transitions this user may make now (answering is separate: see answer())."""
    if not can_manage(user):
        return {}
    return {
        to: action for to, action in TRANSITIONS.get(S(item.status), {}).items() if to != S.ANSWERED
    }


def _needs_reason(from_status, to_status) -> bool:
    if to_status == S.IN_PROGRESS:
        return from_status == S.ANSWERED
    return to_status in NEEDS_REASON


@transaction.atomic
def move(item: QueryRequest, user, to_status: str, reason: str = "") -> QueryRequest:
    if not can_manage(user):
        raise PermissionDenied("只有工作人员可以办理查询申请。")
    item = QueryRequest.objects.select_for_update().get(pk=item.pk)
    from_status = S(item.status)
    to_status = S(to_status) if to_status in S.values else None
    action = TRANSITIONS.get(from_status, {}).get(to_status) if to_status else None
    if action is None:
        raise QueryRequestError(f"状态为“{from_status.label}”的查询申请不能改为该状态。")
    if to_status == S.ANSWERED:
        raise QueryRequestError("答复请填写答复内容。")
    reason = (reason or "").strip()
    if _needs_reason(from_status, to_status) and not reason:
        raise QueryRequestError(f"{action}须说明理由。")
    item.status = to_status
    fields = ["status", "updated_at"]
    if to_status in (S.RETURNED, S.REJECTED):
        item.reason = reason
        fields.append("reason")
    item.save(update_fields=fields)
    _event(item, user, action, from_status, to_status, reason)
    return item


def exports_for_answer(item: QueryRequest, user):
    """Exports the answering user made since the request was received: candidates to link."""
    since = datetime.datetime.combine(item.received_on, datetime.time.min)
    return ExportRegistration.objects.filter(
        user=user, created_at__gte=timezone.make_aware(since)
    ).order_by("-created_at")


@transaction.atomic
def answer(item: QueryRequest, user, text: str, *, upload=None, exports=()) -> QueryRequest:
    if not can_manage(user):
        raise PermissionDenied("只有工作人员可以答复查询申请。")
    item = QueryRequest.objects.select_for_update().get(pk=item.pk)
    from_status = S(item.status)
    if S.ANSWERED not in TRANSITIONS.get(from_status, {}):
        raise QueryRequestError(f"状态为“{from_status.label}”的查询申请不能答复，请先开始办理。")
    text = (text or "").strip()
    if not text:
        raise QueryRequestError("答复内容不能为空。")
    allowed = set(exports_for_answer(item, user).values_list("pk", flat=True))
    chosen = [e for e in exports if e.pk in allowed]
    if len(chosen) != len(list(exports)):
        raise QueryRequestError("只能附上您在收到查询申请后导出的数据。")
    note = ""
    if upload is not None:
        data = check_uploaded_file(upload, ANSWER_UPLOAD_PURPOSE)  # refuses before storing
        item.answer_sha256 = hashlib.sha256(data).hexdigest()
        item.answer_file_name = upload.name[:255]
        item.answer_file.save(upload.name, ContentFile(data), save=False)
        note = f"答复文件 {item.answer_file_name}（SHA-256 {item.answer_sha256}）"
    item.answer = text
    item.answered_at = timezone.now()
    item.status = S.ANSWERED
    item.save()
    if chosen:
        item.exports.add(*chosen)
        note = (note + "；" if note else "") + "附导出备案 " + "、".join(str(e.pk) for e in chosen)
    _event(item, user, "答复", from_status, S.ANSWERED, note)
    if item.requester_id:
        from cms.notifications.services import notify

        notify(
            [item.requester],
            f"您的查询申请已答复：{item.subject}"[:100],
            body=text[:500],
            url=reverse("supervision:query", args=[item.pk]),
            category="supervision",
        )
    return item


def _staff():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    perm = Permission.objects.get(
        codename=MANAGE_PERMISSION.split(".")[1], content_type__app_label="cms"
    )
    return (
        get_user_model()
        .objects.filter(
            Q(groups__permissions=perm) | Q(user_permissions=perm) | Q(is_superuser=True),
            is_active=True,
        )
        .distinct()
    )


@transaction.atomic
def remind_overdue(today: datetime.date | None = None) -> list[QueryRequest]:
    """Tell staff once a day about each open request past its due date."""
    from cms.notifications.services import notify

    today = today or timezone.localdate()
    overdue = list(
        QueryRequest.objects.filter(status__in=OPEN_STATUSES, due_on__lt=today)
        .exclude(overdue_notified_on=today)
        .order_by("due_on", "pk")
    )
    if not overdue:
        return []
    staff = list(_staff())
    for item in overdue:
        notify(
            staff,
            f"查询申请已逾期（期限 {item.due_on:%Y-%m-%d}）：{item.subject}"[:100],
            body=f"{item.get_requester_kind_display()} {item.requester_name}：{item.question[:400]}",
            url=reverse("supervision:query", args=[item.pk]),
            category="supervision",
        )
        item.overdue_notified_on = today
        item.save(update_fields=["overdue_notified_on", "updated_at"])
        _event(item, None, "逾期提醒", note=f"答复期限 {item.due_on:%Y-%m-%d} 已过")
    return overdue
