"""代表建议: who may see what, the one table of allowed steps, deadlines, numbering.

Every state change is a function here: it checks the table (``STEPS``) and the actor,
changes the suggestion in one transaction, writes one append-only ``TimelineEvent`` and
notifies people after commit. Views, admin, the import and the demo loader call these
functions; they never set ``Suggestion.status`` themselves.

Deadlines (domain.md §4; the numbers are settings, these are the defaults):
  要求办结日期 = 交办 + 3 calendar months (SUGGESTIONS_ANSWER_MONTHS);
  延期 up to 交办 + 6 months (SUGGESTIONS_EXTENDED_MONTHS), with an explanation to the deputy;
  协办意见 due 交办 + 1 month (SUGGESTIONS_CO_UNIT_MONTHS);
  退办 only within 7 working days of 交办 (SUGGESTIONS_RETURN_WORKDAYS, cms.workdays);
  再次答复 due 重新办理 + 2 months (SUGGESTIONS_SECOND_ANSWER_MONTHS).
"""

import contextlib
import contextvars
import datetime
import hashlib
import os
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import BooleanField, Case, Exists, F, Max, OuterRef, Q, Value, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from budget.departments import department_ids_for, is_department_scoped
from budget.models import Department
from cms.notifications.services import notify
from cms.sequences import locked_counter
from cms.uploads import check_upload
from cms.workdays import add_months, add_workdays

from .choices import ConsultationForm, CoSignStatus, EvaluationResult, Status, SuggestionKind
from .models import (
    AnswerClass,
    Attachment,
    Consultation,
    CoSignInvitation,
    CoUnitView,
    Deputy,
    Evaluation,
    FollowUp,
    Message,
    Reply,
    Session,
    SessionCounter,
    Suggestion,
    SuggestionLink,
    TimelineEvent,
)

STAFF_PERMISSION = "cms.run_workflows"

# who may take a step
STAFF = "staff"  # 工作人员 (cms.run_workflows), also on behalf of a unit or a deputy
LEAD_UNIT = "lead_unit"  # liaison of the 主办单位
CO_UNIT = "co_unit"  # liaison of a 协办单位
DEPUTY = "deputy"  # the 领衔代表 himself or herself
COSIGNER = "cosigner"  # a 附议代表 who signed
INVITEE = "invitee"  # a deputy invited to co-sign who has not answered yet

ACTOR_LABELS = {
    STAFF: "工作人员",
    LEAD_UNIT: "主办单位",
    CO_UNIT: "协办单位",
    DEPUTY: "领衔代表",
    COSIGNER: "附议代表",
    INVITEE: "受邀联名代表",
}

S = Status
# with the office and not finished
LIVE = tuple(s for s in Status if s not in (S.CLOSED, S.CONVERTED, S.LETTER, S.DRAFT, S.RETURNED))
# the deputy's own, before or between the office's review
WRITING = (S.DRAFT, S.RETURNED)
# a thread is open from submission until the item is closed or handled otherwise
TALKING = (S.RETURNED, *LIVE)


@dataclass(frozen=True)
class Step:
    label: str
    sources: tuple
    targets: tuple  # () = the status does not change
    actors: frozenset


# --- the one table of allowed steps ------------------------------------------------------
STEPS: dict[str, Step] = {
    # the deputy writes online (domain.md §11)
    "draft": Step("起草", (), (S.DRAFT,), frozenset({DEPUTY})),
    "edit_draft": Step("修改", WRITING, (), frozenset({DEPUTY})),
    "deputy_attach": Step("上传附件", WRITING, (), frozenset({DEPUTY})),
    "invite": Step("邀请联名", WRITING, (), frozenset({DEPUTY})),
    "sign": Step("联名", (*WRITING, S.SUBMITTED), (), frozenset({INVITEE})),
    "decline": Step("谢绝联名", (*WRITING, S.SUBMITTED), (), frozenset({INVITEE})),
    "deputy_submit": Step("提交", WRITING, (S.SUBMITTED,), frozenset({DEPUTY})),
    # the office records a paper suggestion, and reviews (审查) what deputies submit
    "submit": Step("提出", (), (S.SUBMITTED,), frozenset({STAFF})),
    "register": Step("登记/审查", (S.SUBMITTED,), (S.REGISTERED,), frozenset({STAFF})),
    "return_for_revision": Step("退回修改", (S.SUBMITTED,), (S.RETURNED,), frozenset({STAFF})),
    "to_letter": Step("转为来信", (S.SUBMITTED,), (S.LETTER,), frozenset({STAFF})),
    "convert": Step(
        "议案转为建议", (S.SUBMITTED, S.REGISTERED), (S.CONVERTED,), frozenset({STAFF})
    ),
    "assign": Step("交办", (S.REGISTERED,), (S.ASSIGNED,), frozenset({STAFF})),
    "request_return": Step(
        "申请退办", (S.ASSIGNED,), (S.RETURN_REQUESTED,), frozenset({LEAD_UNIT, STAFF})
    ),
    "approve_return": Step("同意退办", (S.RETURN_REQUESTED,), (S.REGISTERED,), frozenset({STAFF})),
    "reject_return": Step("不同意退办", (S.RETURN_REQUESTED,), (S.ASSIGNED,), frozenset({STAFF})),
    "start_handling": Step("开始办理", (S.ASSIGNED,), (S.HANDLING,), frozenset({LEAD_UNIT, STAFF})),
    "co_unit_view": Step(
        "提交协办意见", (S.ASSIGNED, S.HANDLING, S.REHANDLING), (), frozenset({CO_UNIT, STAFF})
    ),
    "extend": Step("延期办理", (S.ASSIGNED, S.HANDLING), (), frozenset({STAFF})),
    "answer": Step(
        "书面答复", (S.ASSIGNED, S.HANDLING), (S.ANSWERED,), frozenset({LEAD_UNIT, STAFF})
    ),
    "evaluate": Step(
        "代表评价", (S.ANSWERED,), (S.EVALUATED, S.DISSATISFIED), frozenset({DEPUTY, STAFF})
    ),
    "cosigner_evaluate": Step(
        "附议代表评价",
        (S.ANSWERED, S.EVALUATED, S.DISSATISFIED, S.REHANDLING, S.CLOSED),
        (),
        frozenset({COSIGNER}),
    ),
    "message": Step("沟通", TALKING, (), frozenset({DEPUTY, COSIGNER, LEAD_UNIT, CO_UNIT, STAFF})),
    "consult": Step(
        "面商", (S.ASSIGNED, S.HANDLING, S.REHANDLING), (), frozenset({LEAD_UNIT, STAFF})
    ),
    "rehandle": Step("重新办理", (S.DISSATISFIED,), (S.REHANDLING,), frozenset({STAFF})),
    "second_answer": Step(
        "再次答复", (S.REHANDLING,), (S.ANSWERED,), frozenset({LEAD_UNIT, STAFF})
    ),
    "close": Step(
        "办结", (S.ANSWERED, S.EVALUATED, S.DISSATISFIED), (S.CLOSED,), frozenset({STAFF})
    ),
    "follow_up": Step("跟踪落实", (S.EVALUATED, S.CLOSED), (), frozenset({STAFF, LEAD_UNIT})),
    "key_supervision": Step("重点督办", LIVE, (), frozenset({STAFF})),
    "attach": Step("添加附件", LIVE + (S.CLOSED,), (), frozenset({STAFF})),
    "link": Step("添加相关链接", tuple(Status), (), frozenset({STAFF})),
}


# --- the clock ---------------------------------------------------------------------------
# The demo loader replays a year of handling: it runs the steps "as of" past dates, quietly.
_as_of: contextvars.ContextVar = contextvars.ContextVar("suggestions_as_of", default=None)


def current_date() -> datetime.date:
    state = _as_of.get()
    return state[0] if state else timezone.localdate()


today = current_date


def now() -> datetime.datetime:
    state = _as_of.get()
    if not state:
        return timezone.now()
    return timezone.make_aware(datetime.datetime.combine(state[0], datetime.time(9, 30)))


def _quiet() -> bool:
    state = _as_of.get()
    return bool(state and state[1])


@contextlib.contextmanager
def as_of(date: datetime.date, quiet: bool = True):
    """Run steps as if on *date* (timeline times, default dates); *quiet* sends no messages."""
    token = _as_of.set((date, quiet))
    try:
        yield
    finally:
        _as_of.reset(token)


class TransitionError(ValidationError):
    """An illegal step: the message says why, in Chinese; nothing was changed."""


# --- settings ----------------------------------------------------------------------------


def setting(name: str, default):
    return getattr(settings, name, default)


def answer_months() -> int:
    return int(setting("SUGGESTIONS_ANSWER_MONTHS", 3))


def extended_months() -> int:
    return int(setting("SUGGESTIONS_EXTENDED_MONTHS", 6))


def co_unit_months() -> int:
    return int(setting("SUGGESTIONS_CO_UNIT_MONTHS", 1))


def return_workdays() -> int:
    return int(setting("SUGGESTIONS_RETURN_WORKDAYS", 7))


def second_answer_months() -> int:
    return int(setting("SUGGESTIONS_SECOND_ANSWER_MONTHS", 2))


def motion_min_deputies() -> int:
    return int(setting("SUGGESTIONS_MOTION_MIN_DEPUTIES", 10))


def reminder_days() -> int:
    return int(setting("SUGGESTIONS_REMINDER_DAYS", 7))


# --- who sees and who acts -----------------------------------------------------------------


def is_staff(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(STAFF_PERMISSION))


def staff_users():
    """Active 工作人员 accounts: they receive the office's reminders."""
    from django.contrib.auth import get_user_model

    from cms import roles

    return list(
        get_user_model().objects.filter(is_active=True, groups__name=roles.STAFF).distinct()
    )


def deputy_of(user) -> Deputy | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Deputy.objects.filter(user=user).first()


def is_liaison(user) -> bool:
    return is_department_scoped(user) and not is_staff(user)


def is_deputy_account(user) -> bool:
    """A deputy's own account (人大代表) or a query seat (代表/专家)."""
    from cms import roles

    return deputy_of(user) is not None or roles.has_role(user, roles.DEPUTY, roles.DEPUTY_MEMBER)


def visible_to(user):
    """The suggestions *user* may see: staff all but the deputies' drafts; a deputy own,
    co-signed, invited-to and public ones; a liaison those assigned to the department (lead or
    co-unit); anyone else none. A draft is seen only by its lead deputy and the invited."""
    qs = Suggestion.objects.all()
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    if is_staff(user):
        return qs.exclude(status=S.DRAFT)
    condition = Q(pk__in=[])
    matched = False
    deputy = deputy_of(user)
    if deputy is not None:
        condition |= Q(lead_deputy=deputy) | Q(co_signers=deputy)
        condition |= Q(
            invitations__deputy=deputy,
            invitations__status__in=[CoSignStatus.INVITED, CoSignStatus.SIGNED],
        )
        matched = True
    if is_deputy_account(user):
        condition |= Q(is_public=True) & ~Q(status__in=WRITING)
        matched = True
    if is_department_scoped(user):
        ids = department_ids_for(user)
        condition |= Q(lead_unit_id__in=ids) | Q(co_units__in=ids)
        matched = True
    if not matched:
        return qs.none()
    return qs.filter(pk__in=Suggestion.objects.filter(condition).values("pk"))


# statuses in which a unit owes something: the lead unit an answer (or a return request), a
# co-unit its 协办意见 (the STEPS "answer", "second_answer", "request_return", "co_unit_view")
UNIT_ACTING = (S.ASSIGNED, S.HANDLING, S.REHANDLING)


def liaison_order(queryset, user):
    """The liaison's list in the order of work: first the items waiting for one of *user*'s
    units (lead unit: not yet answered; co-unit: no 协办意见 from that unit yet), soonest due
    first, marked ``needs_action``; then all the others, most recently assigned first."""
    ids = department_ids_for(user)
    co_unit = Suggestion.co_units.through.objects.filter(
        suggestion_id=OuterRef("pk"), department_id__in=ids
    )
    view_given = CoUnitView.objects.filter(suggestion_id=OuterRef("pk"), unit_id__in=ids)
    waiting = Q(status__in=UNIT_ACTING) & (
        Q(lead_unit_id__in=ids) | (Exists(co_unit) & ~Exists(view_given))
    )
    return queryset.annotate(
        needs_action=Case(
            When(waiting, then=Value(True)), default=Value(False), output_field=BooleanField()
        ),
        action_due=Case(
            When(waiting & Q(status=S.REHANDLING), then=Coalesce("second_due_on", "due_on")),
            When(waiting & ~Q(lead_unit_id__in=ids), then=Coalesce("co_unit_due_on", "due_on")),
            When(waiting, then=F("due_on")),
            default=None,
        ),
    ).order_by(
        F("needs_action").desc(),
        F("action_due").asc(nulls_last=True),
        F("assigned_on").desc(nulls_last=True),
        "-pk",
    )


def can_view(user, suggestion: Suggestion) -> bool:
    return visible_to(user).filter(pk=suggestion.pk).exists()


def actor_roles(user, suggestion: Suggestion) -> set[str]:
    """The capacities in which *user* may act on *suggestion*."""
    found = set()
    if not getattr(user, "is_authenticated", False):
        return found
    if is_staff(user):
        found.add(STAFF)
    if is_department_scoped(user):
        ids = set(department_ids_for(user))
        if suggestion.lead_unit_id in ids:
            found.add(LEAD_UNIT)
        if suggestion.pk and ids & set(suggestion.co_units.values_list("pk", flat=True)):
            found.add(CO_UNIT)
    deputy = deputy_of(user)
    if deputy is not None and suggestion.pk:
        if deputy.pk == suggestion.lead_deputy_id:
            found.add(DEPUTY)
        elif suggestion.co_signers.filter(pk=deputy.pk).exists():
            found.add(COSIGNER)
        if suggestion.invitations.filter(deputy=deputy, status=CoSignStatus.INVITED).exists():
            found.add(INVITEE)
    return found


def allowed_steps(user, suggestion: Suggestion) -> list[str]:
    """Steps the table allows *user* to take now (for buttons; the step still checks)."""
    mine = actor_roles(user, suggestion)
    return [
        name
        for name, step in STEPS.items()
        if suggestion.status in step.sources and mine & step.actors and _extra_ok(name, suggestion)
    ]


def _extra_ok(name: str, suggestion: Suggestion) -> bool:
    try:
        _extra_checks(name, suggestion)
    except TransitionError:
        return False
    return True


def _extra_checks(name: str, s: Suggestion, today: datetime.date | None = None) -> None:
    """Conditions beyond the table: the clock and the item's own data."""
    today = today or current_date()
    if name in ("sign", "decline") and s.session.cosign_deadline:
        if today > s.session.cosign_deadline:
            raise TransitionError(
                f"联名截止日期（{s.session.cosign_deadline:%Y-%m-%d}）已过，不能再联名或谢绝"
            )
    if name == "convert" and s.kind != SuggestionKind.MOTION:
        raise TransitionError("只有议案可以转为建议")
    if name == "request_return" and s.return_deadline and today > s.return_deadline:
        raise TransitionError(
            f"退办申请须在交办后 {return_workdays()} 个工作日内提出（截至 {s.return_deadline:%Y-%m-%d}），已逾期"
        )
    if name == "extend" and s.extended:
        raise TransitionError("该件已延期过一次，不能再次延期")
    if name == "rehandle" and s.replies.filter(round=2).exists():
        raise TransitionError("该件已再次答复，不能再重新办理，请办结")
    if name == "follow_up":
        reply = s.replies.order_by("-round").first()
        if reply is None or not reply.answer_class.needs_follow_up:
            raise TransitionError("只有答复类别需跟踪落实的建议才能登记跟踪情况")


def _check(name: str, s: Suggestion, user) -> tuple[Step, str]:
    step = STEPS[name]
    mine = actor_roles(user, s)
    if not mine & step.actors:
        who = "、".join(ACTOR_LABELS[a] for a in sorted(step.actors))
        raise PermissionDenied(f"“{step.label}”只能由{who}办理")
    if s.status not in step.sources:
        raise TransitionError(f"建议 {s.code} 当前为“{Status(s.status).label}”，不能“{step.label}”")
    _extra_checks(name, s)
    # the capacity recorded in the timeline: the most specific one that fits
    for capacity in (DEPUTY, COSIGNER, INVITEE, LEAD_UNIT, CO_UNIT, STAFF):
        if capacity in mine and capacity in step.actors:
            return step, capacity
    return step, STAFF  # pragma: no cover


def _locked(s: Suggestion) -> Suggestion:
    return Suggestion.objects.select_for_update().select_related("term", "session").get(pk=s.pk)


def _actor(user):
    if user is not None and getattr(user, "is_authenticated", False):
        return user, user.get_full_name() or user.get_username()
    return None, "系统"


def _event(s, user, name, from_status="", note="", documents=(), label=None):
    actor, actor_name = _actor(user)
    return TimelineEvent.objects.create(
        suggestion=s,
        at=now(),
        actor=actor,
        actor_name=actor_name,
        action=name,
        label=label or STEPS[name].label,
        from_status=from_status,
        to_status=s.status if s.status != from_status else "",
        note=note,
        documents=list(documents),
        due_on=s.effective_due_on,
    )


def _apply(s: Suggestion, target) -> str:
    before = s.status
    if target is not None:
        s.status = target
    return before


# --- files -------------------------------------------------------------------------------

ALLOWED_EXTENSIONS = {
    ".pdf", ".ofd", ".doc", ".docx", ".wps", ".xls", ".xlsx", ".txt", ".md",
    ".jpg", ".jpeg", ".png", ".zip",
}  # fmt: skip


def read_upload(upload) -> tuple[str, bytes]:
    """Name and content of an uploaded file, or a Chinese ValidationError."""
    name = os.path.basename(getattr(upload, "name", "") or "").strip()
    if not name:
        raise ValidationError("文件没有名称")
    stem, ext = os.path.splitext(name)
    ext = ext.lower()
    if len(name) > 120:  # keep the stored name within its column, extension intact
        name = stem[: 120 - len(ext)] + ext
    if ext not in ALLOWED_EXTENSIONS:
        raise ValidationError(
            f"不支持的文件类型“{ext or name}”，请上传 PDF、OFD、Word、Excel、图片或文本文件"
        )
    limit = int(setting("SUGGESTIONS_ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024))
    if getattr(upload, "size", 0) and upload.size > limit:
        raise ValidationError(f"文件“{name}”超过 {limit // (1024 * 1024)} MB")
    data = upload.read()
    if not data:
        raise ValidationError(f"文件“{name}”是空的")
    if len(data) > limit:
        raise ValidationError(f"文件“{name}”超过 {limit // (1024 * 1024)} MB")
    check_upload(name, data, "suggestion")  # type by content: an .exe named .pdf is refused
    return name, data


def _store(field_file, name: str, data: bytes) -> str:
    """Save *data* into a FileField (without saving the row); returns its SHA-256."""
    field_file.save(name, ContentFile(data), save=False)
    return hashlib.sha256(data).hexdigest()


def _document(kind: str, obj, name: str) -> dict:
    return {"kind": kind, "id": obj.pk, "name": name}


# --- numbering ----------------------------------------------------------------------------


def _counter(session: Session) -> SessionCounter:
    """The session's counter row, locked. Two first numbers in a new session race on
    the insert; the loser waits for the winner's row and locks it."""
    if SessionCounter.objects.filter(session=session).exists():
        return locked_counter(SessionCounter, session=session)
    highest = Suggestion.objects.filter(session=session).aggregate(m=Max("number"))["m"] or 0
    return locked_counter(SessionCounter, defaults={"last_number": highest}, session=session)


def next_number(session: Session, explicit: int | None = None) -> int:
    """The next number in *session* (call inside a transaction: the counter stays locked
    until commit, so concurrent submissions get consecutive numbers without gaps). An
    explicit number (from the office's list) must be free; the counter moves past it."""
    counter = _counter(session)
    if explicit is not None:
        if explicit < 1:
            raise ValidationError("编号必须是正整数")
        if Suggestion.objects.filter(session=session, number=explicit).exists():
            raise ValidationError(f"{session}已有编号为 {explicit} 的建议")
        number = explicit
    else:
        number = counter.last_number + 1
    if number > counter.last_number:
        counter.last_number = number
        counter.save(update_fields=["last_number"])
    return number


# --- the steps ------------------------------------------------------------------------------


def _require_staff(user, label):
    if not is_staff(user):
        raise PermissionDenied(f"“{label}”只能由工作人员办理")


def _validate_parts(term, session, category, kind, lead_deputy, co_signers):
    if session.term_id != term.pk:
        raise ValidationError(f"{session}不属于{term}")
    if category is not None and category.term_id != term.pk:
        raise ValidationError(f"分类“{category}”不属于{term}")
    if kind not in SuggestionKind.values:
        raise ValidationError(f"未知的类型“{kind}”")
    if lead_deputy in co_signers:
        raise ValidationError("领衔代表不能同时是附议代表")


@transaction.atomic
def submit(
    user,
    *,
    term,
    session,
    title: str,
    lead_deputy: Deputy,
    submitted_on: datetime.date | None = None,
    content: str = "",
    category=None,
    kind: str = SuggestionKind.SUGGESTION,
    period: str = "during",
    co_signers=(),
    is_public: bool = False,
    number: int | None = None,
    note: str = "",
) -> Suggestion:
    """提出: record a suggestion as handed in; it gets the next number of its session."""
    _require_staff(user, STEPS["submit"].label)
    title = (title or "").strip()
    if not title:
        raise ValidationError("标题（案由）不能为空")
    co_signers = list(co_signers)
    _validate_parts(term, session, category, kind, lead_deputy, co_signers)
    s = Suggestion(
        term=term,
        session=session,
        number=next_number(session, number),
        kind=kind,
        period=period,
        title=title[:300],
        content=(content or "").strip(),
        category=category,
        lead_deputy=lead_deputy,
        is_public=is_public,
        status=S.SUBMITTED,
        submitted_on=submitted_on or today(),
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    s.full_clean(exclude=["co_signers", "co_units"])
    s.save()
    if co_signers:
        s.co_signers.set(co_signers)
    _event(s, user, "submit", note=note)
    return s


@transaction.atomic
def register(s: Suggestion, user, note: str = "", on: datetime.date | None = None) -> Suggestion:
    """登记/审查. A 议案 needs SUGGESTIONS_MOTION_MIN_DEPUTIES deputies (lead + co-signers)."""
    s = _locked(s)
    _check("register", s, user)
    if s.kind == SuggestionKind.MOTION:
        count = 1 + s.co_signers.count()
        if count < motion_min_deputies():
            raise TransitionError(
                f"议案须由 {motion_min_deputies()} 名以上代表联名提出，本件只有 {count} 名；"
                "可转为建议办理"
            )
    if s.category_id is None:
        raise TransitionError("登记前请选择分类")
    before = _apply(s, S.REGISTERED)
    s.registered_on = on or today()
    if s.number is None:  # written online: the number is taken now, gap-free
        s.number = next_number(s.session)
    s.save()
    lapsed = s.invitations.filter(status=CoSignStatus.INVITED)
    lapsed_names = "、".join(lapsed.values_list("deputy__name", flat=True))
    lapsed.update(status=CoSignStatus.LAPSED, answered_at=now())
    text = f"编号 {s.code}" + (f"；未回复联名邀请：{lapsed_names}" if lapsed_names else "")
    _event(s, user, "register", before, "；".join(filter(None, [text, note])))
    _notify_later(
        _deputy_users(s), f"您的建议“{s.title[:40]}”已登记，编号 {s.code}", deputy_url(s), note
    )
    return s


@transaction.atomic
def convert_to_suggestion(s: Suggestion, user, note: str = "") -> Suggestion:
    """议案转为建议: the motion is closed as converted; a new 建议 keeps the link."""
    s = _locked(s)
    _check("convert", s, user)
    new = Suggestion(
        term=s.term,
        session=s.session,
        number=next_number(s.session),
        kind=SuggestionKind.SUGGESTION,
        period=s.period,
        title=s.title,
        content=s.content,
        category=s.category,
        lead_deputy=s.lead_deputy,
        is_public=s.is_public,
        status=S.SUBMITTED,
        submitted_on=s.submitted_on,
        converted_from=s,
        created_by=user,
    )
    new.save()
    new.co_signers.set(s.co_signers.all())
    before = _apply(s, S.CONVERTED)
    s.save()
    _event(s, user, "convert", before, note or f"转为建议 {new.code}")
    _event(new, user, "submit", note=f"由议案 {s.code} 转来")
    return new


def _deputy_users(s: Suggestion):
    deputies = [s.lead_deputy, *s.co_signers.all()]
    return [d.user for d in deputies if d.user_id and d.user.is_active]


def unit_users(departments):
    ids = [d.pk for d in departments if d is not None]
    if not ids:
        return []
    users = []
    for dept in Department.objects.filter(pk__in=ids).prefetch_related("liaisons"):
        users.extend(u for u in dept.liaisons.all() if u.is_active)
    # a unit's parent's liaisons act for it too
    for dept in Department.objects.filter(pk__in=ids).select_related("parent"):
        parent = dept.parent
        while parent is not None:
            users.extend(u for u in parent.liaisons.all() if u.is_active)
            parent = parent.parent
    return users


def _notify_later(recipients, subject, url, body=""):
    recipients = list(recipients)
    if recipients and not _quiet():
        transaction.on_commit(
            lambda: notify(recipients, subject[:200], body=body, url=url, category="代表建议")
        )


def deputy_url(s: Suggestion) -> str:
    return reverse("suggestions:mine_detail", args=[s.pk])


def department_url(s: Suggestion) -> str:
    return reverse("suggestions:department_detail", args=[s.pk])


def _set_assignment_dates(s: Suggestion, assigned_on: datetime.date) -> None:
    s.assigned_on = assigned_on
    s.due_on = add_months(assigned_on, answer_months())
    s.co_unit_due_on = add_months(assigned_on, co_unit_months())
    deadline = add_workdays(assigned_on, return_workdays())
    s.return_deadline = deadline
    s.return_deadline_provisional = bool(getattr(deadline, "provisional", False))
    s.extended = False
    s.extension_reason = ""
    s.reminded_for = None


@transaction.atomic
def assign(
    s: Suggestion,
    user,
    *,
    lead_unit: Department,
    co_units=(),
    assigned_on: datetime.date | None = None,
    note: str = "",
) -> Suggestion:
    """交办 to a lead unit (主办) and co-units (协办); sets every due date."""
    s = _locked(s)
    _check("assign", s, user)
    if lead_unit is None:
        raise TransitionError("交办须指定主办单位")
    co_units = [d for d in co_units if d is not None]
    if any(d.pk == lead_unit.pk for d in co_units):
        raise TransitionError("主办单位不能同时是协办单位")
    if not lead_unit.is_active or any(not d.is_active for d in co_units):
        raise TransitionError("不能交办给已停用的单位")
    assigned_on = assigned_on or today()
    if s.registered_on and assigned_on < s.registered_on:
        raise TransitionError("交办日期不能早于登记日期")
    before = _apply(s, S.ASSIGNED)
    s.lead_unit = lead_unit
    _set_assignment_dates(s, assigned_on)
    s.save()
    s.co_units.set(co_units)
    names = "、".join(d.name for d in co_units)
    text = f"主办：{lead_unit.name}" + (f"；协办：{names}" if names else "")
    _event(s, user, "assign", before, "；".join(filter(None, [text, note])))
    _notify_later(
        _deputy_users(s),
        f"您的建议“{s.title[:40]}”已交办{lead_unit.name}办理",
        deputy_url(s),
        f"要求办结日期：{s.due_on:%Y-%m-%d}",
    )
    _notify_later(
        unit_users([lead_unit, *co_units]),
        f"交办：{s.code}“{s.title[:40]}”",
        department_url(s),
        f"要求办结日期：{s.due_on:%Y-%m-%d}；协办意见期限：{s.co_unit_due_on:%Y-%m-%d}；"
        f"如需退办请于 {s.return_deadline:%Y-%m-%d} 前提出",
    )
    return s


@transaction.atomic
def request_return(s: Suggestion, user, reason: str) -> Suggestion:
    """申请退办: the lead unit says the item is not its business (within 7 working days)."""
    s = _locked(s)
    _check("request_return", s, user)
    reason = (reason or "").strip()
    if not reason:
        raise TransitionError("申请退办须说明理由")
    before = _apply(s, S.RETURN_REQUESTED)
    s.save()
    _event(s, user, "request_return", before, reason)
    return s


@transaction.atomic
def decide_return(s: Suggestion, user, approve: bool, note: str = "") -> Suggestion:
    """同意退办 (back to 已登记, to be assigned again) or 不同意退办 (back to 已交办)."""
    name = "approve_return" if approve else "reject_return"
    s = _locked(s)
    _check(name, s, user)
    note = (note or "").strip()
    if not approve and not note:
        raise TransitionError("不同意退办须说明理由")
    before = _apply(s, STEPS[name].targets[0])
    if approve:
        old_unit = s.lead_unit.name if s.lead_unit_id else ""
        s.lead_unit = None
        s.assigned_on = s.due_on = s.co_unit_due_on = s.return_deadline = None
        s.save()
        s.co_units.clear()
        note = "；".join(filter(None, [f"原主办单位：{old_unit}", note]))
    else:
        s.save()
    _event(s, user, name, before, note)
    return s


@transaction.atomic
def start_handling(s: Suggestion, user, note: str = "") -> Suggestion:
    s = _locked(s)
    _check("start_handling", s, user)
    before = _apply(s, S.HANDLING)
    s.save()
    _event(s, user, "start_handling", before, note)
    return s


@transaction.atomic
def add_co_unit_view(
    s: Suggestion, user, *, unit: Department, text: str, document=None, on=None
) -> CoUnitView:
    """协办意见 of one co-unit, sent to the lead unit."""
    s = _locked(s)
    _check("co_unit_view", s, user)
    if not s.co_units.filter(pk=unit.pk).exists():
        raise TransitionError(f"{unit.name}不是本件的协办单位")
    if not is_staff(user) and unit.pk not in department_ids_for(user):
        raise PermissionDenied("您不能代其他单位提交协办意见")
    text = (text or "").strip()
    if not text:
        raise TransitionError("请填写协办意见")
    view = CoUnitView(
        suggestion=s, unit=unit, text=text, submitted_on=on or today(), created_by=user
    )
    if document is not None:
        name, data = read_upload(document)
        view.document_sha256 = _store(view.document, name, data)
        view.document_name = name
    view.save()
    docs = [_document("view", view, view.document_name)] if view.document_name else []
    _event(s, user, "co_unit_view", s.status, f"{unit.name}：{text}", docs)
    _notify_later(
        unit_users([s.lead_unit]), f"{unit.name}提交了 {s.code} 的协办意见", department_url(s)
    )
    return view


@transaction.atomic
def extend(
    s: Suggestion, user, *, reason: str, new_due_on: datetime.date | None = None
) -> Suggestion:
    """延期: up to 交办 + 6 months; the explanation goes to the deputy."""
    s = _locked(s)
    _check("extend", s, user)
    reason = (reason or "").strip()
    if not reason:
        raise TransitionError("延期须向代表说明理由")
    limit = add_months(s.assigned_on, extended_months())
    new_due_on = new_due_on or limit
    if new_due_on > limit:
        raise TransitionError(
            f"延期后的办结日期不能晚于交办后 {extended_months()} 个月（{limit:%Y-%m-%d}）"
        )
    if s.due_on and new_due_on <= s.due_on:
        raise TransitionError(f"延期后的办结日期须晚于原期限 {s.due_on:%Y-%m-%d}")
    old = s.due_on
    s.due_on = new_due_on
    s.extended = True
    s.extension_reason = reason
    s.reminded_for = None
    s.save()
    _event(
        s,
        user,
        "extend",
        s.status,
        f"办结日期由 {old:%Y-%m-%d} 延至 {new_due_on:%Y-%m-%d}：{reason}",
    )
    _notify_later(
        _deputy_users(s),
        f"您的建议“{s.title[:40]}”延期办理",
        deputy_url(s),
        f"新的办结日期：{new_due_on:%Y-%m-%d}。说明：{reason}",
    )
    return s


def _answer(name, s, user, *, answer_class, signed_by, answered_on, summary, document):
    s = _locked(s)
    _check(name, s, user)
    if answer_class is None or answer_class.term_id != s.term_id:
        raise TransitionError("请选择本届的答复类别")
    signed_by = (signed_by or "").strip()
    if not signed_by:
        raise TransitionError("答复须注明签发人")
    summary = (summary or "").strip()
    if document is None and not summary:
        raise TransitionError("请上传答复文件或填写答复要点")
    answered_on = answered_on or today()
    if s.assigned_on and answered_on < s.assigned_on:
        raise TransitionError("答复日期不能早于交办日期")
    if answered_on > today():
        raise TransitionError("答复日期不能晚于今天")
    round_ = 2 if name == "second_answer" else 1
    reply = Reply(
        suggestion=s,
        round=round_,
        unit=s.lead_unit,
        answer_class=answer_class,
        answered_on=answered_on,
        signed_by=signed_by,
        summary=summary,
        created_by=user,
    )
    if document is not None:
        doc_name, data = read_upload(document)
        reply.document_sha256 = _store(reply.document, doc_name, data)
        reply.document_name = doc_name
    try:
        with transaction.atomic():
            reply.save()
    except IntegrityError:
        raise TransitionError("该件本轮已有答复") from None
    before = _apply(s, S.ANSWERED)
    s.answered_on = answered_on
    if round_ == 1:
        s.first_answered_on = answered_on
    s.save()
    docs = [_document("reply", reply, reply.document_name)] if reply.document_name else []
    _event(s, user, name, before, f"答复类别：{answer_class}；签发人：{signed_by}", docs)
    _notify_later(
        _deputy_users(s),
        f"您的建议“{s.title[:40]}”已{'再次' if round_ == 2 else ''}答复，请评价",
        deputy_url(s),
        f"答复单位：{s.lead_unit.name}；答复类别：{answer_class}",
    )
    return reply


@transaction.atomic
def answer(
    s, user, *, answer_class, signed_by, answered_on=None, summary="", document=None
) -> Reply:
    """书面答复 of the lead unit, with its answer class (A/B/C/D)."""
    return _answer(
        "answer", s, user, answer_class=answer_class, signed_by=signed_by,
        answered_on=answered_on, summary=summary, document=document,
    )  # fmt: skip


@transaction.atomic
def second_answer(
    s, user, *, answer_class, signed_by, answered_on=None, summary="", document=None
) -> Reply:
    """再次答复 after re-handling."""
    return _answer(
        "second_answer", s, user, answer_class=answer_class, signed_by=signed_by,
        answered_on=answered_on, summary=summary, document=document,
    )  # fmt: skip


@transaction.atomic
def evaluate(s: Suggestion, user, *, result: str, comment: str = "", on=None) -> Evaluation:
    """代表评价 of the latest answer: 满意 / 基本满意 / 不满意 (+ comment)."""
    s = _locked(s)
    _check("evaluate", s, user)
    if result not in EvaluationResult.values:
        raise TransitionError("请选择满意、基本满意或不满意")
    comment = (comment or "").strip()
    if result == EvaluationResult.DISSATISFIED and not comment:
        raise TransitionError("评价为不满意时请写明意见，以便重新办理")
    reply = s.replies.order_by("-round").first()
    if reply is None or Evaluation.objects.filter(reply=reply, is_lead=True).exists():
        raise TransitionError("没有待评价的答复")
    evaluation = Evaluation.objects.create(
        suggestion=s,
        reply=reply,
        result=result,
        comment=comment,
        evaluated_on=on or today(),
        deputy=s.lead_deputy,
        is_lead=True,
        recorded_by=user,
    )
    target = S.DISSATISFIED if result == EvaluationResult.DISSATISFIED else S.EVALUATED
    before = _apply(s, target)
    s.save()
    label = EvaluationResult(result).label
    who = "" if deputy_of(user) == s.lead_deputy else "（工作人员代为登记）"
    _event(s, user, "evaluate", before, f"{label}{who}" + (f"：{comment}" if comment else ""))
    if result == EvaluationResult.DISSATISFIED:
        staff = [u for u in staff_users() if u.pk != user.pk]
        _notify_later(staff, f"代表对 {s.code} 的答复不满意", s.get_absolute_url(), comment)
    return evaluation


@transaction.atomic
def rehandle(s: Suggestion, user, note: str = "") -> Suggestion:
    """重新办理 after 不满意; the second answer is due in SUGGESTIONS_SECOND_ANSWER_MONTHS."""
    s = _locked(s)
    _check("rehandle", s, user)
    before = _apply(s, S.REHANDLING)
    s.second_due_on = add_months(today(), second_answer_months())
    s.reminded_for = None
    s.save()
    _event(s, user, "rehandle", before, note or f"再次答复期限：{s.second_due_on:%Y-%m-%d}")
    _notify_later(
        unit_users([s.lead_unit]),
        f"{s.code} 代表不满意，请重新办理",
        department_url(s),
        f"再次答复期限：{s.second_due_on:%Y-%m-%d}",
    )
    return s


@transaction.atomic
def close(s: Suggestion, user, note: str = "", on=None) -> Suggestion:
    """办结. Without the deputy's evaluation (or after 不满意) a reason is required."""
    s = _locked(s)
    _check("close", s, user)
    note = (note or "").strip()
    if s.status != S.EVALUATED and not note:
        raise TransitionError("代表尚未评价或不满意时办结，须说明理由")
    before = _apply(s, S.CLOSED)
    s.closed_on = on or today()
    s.save()
    _event(s, user, "close", before, note)
    _notify_later(_deputy_users(s), f"您的建议“{s.title[:40]}”已办结", deputy_url(s), note)
    return s


@transaction.atomic
def add_follow_up(s: Suggestion, user, *, progress: str, completed=False, on=None) -> FollowUp:
    """跟踪落实 of an answer in class B (正在解决或列入规划) or any class flagged so."""
    s = _locked(s)
    _check("follow_up", s, user)
    progress = (progress or "").strip()
    if not progress:
        raise TransitionError("请填写落实情况")
    reply = s.replies.order_by("-round").first()
    follow = FollowUp.objects.create(
        suggestion=s,
        reply=reply,
        followed_on=on or today(),
        progress=progress,
        completed=bool(completed),
        created_by=user,
    )
    _event(s, user, "follow_up", s.status, progress + ("（已落实）" if completed else ""))
    return follow


@transaction.atomic
def set_key_supervision(s: Suggestion, user, *, on: bool, leader: str = "") -> Suggestion:
    """重点督办 with the supervising leader (督办领导)."""
    s = _locked(s)
    _check("key_supervision", s, user)
    leader = (leader or "").strip()
    if on and not leader:
        raise TransitionError("重点督办须填写督办领导")
    s.key_supervision = bool(on)
    s.supervising_leader = leader if on else ""
    s.save()
    _event(
        s, user, "key_supervision", s.status,
        f"列为重点督办，督办领导：{leader}" if on else "取消重点督办",
        label="重点督办" if on else "取消重点督办",
    )  # fmt: skip
    return s


@transaction.atomic
def add_attachment(s: Suggestion, user, upload) -> Attachment:
    """添加附件: staff at any step; the lead deputy while writing (through the one upload
    check, ``read_upload``)."""
    s = _locked(s)
    name = "deputy_attach" if s.status in WRITING else "attach"
    _check(name, s, user)
    name, data = read_upload(upload)
    att = Attachment(suggestion=s, name=name, size=len(data), uploaded_by=user)
    att.sha256 = _store(att.file, name, data)
    att.save()
    step_name = "deputy_attach" if s.status in WRITING else "attach"
    _event(s, user, step_name, s.status, name, [_document("attachment", att, name)])
    return att


@transaction.atomic
def add_link(
    s: Suggestion, user, *, page=None, subject_year=None, subject_code="", note=""
) -> SuggestionLink:
    """A related policy page or budget subject (科目编码 + 年度) staff link by hand."""
    s = _locked(s)
    _check("link", s, user)
    subject_code = (subject_code or "").strip()
    if page is None and not (subject_year and subject_code):
        raise TransitionError("请选择政策页面，或填写科目年度和科目编码")
    if page is not None and subject_code:
        raise TransitionError("一条链接只能指向政策页面或预算科目之一")
    if page is None:
        from budget.models import Subject

        if not Subject.objects.filter(year=subject_year, code=subject_code).exists():
            raise TransitionError(f"{subject_year}年没有编码为 {subject_code} 的预算科目")
    link = SuggestionLink.objects.create(
        suggestion=s, page=page, subject_year=subject_year if page is None else None,
        subject_code=subject_code, note=(note or "").strip(), created_by=user,
    )  # fmt: skip
    _event(s, user, "link", s.status, str(link))
    return link


# --- the deputy writes online: drafts, 联名, submission (domain.md §11) --------------------


def _own_deputy(user) -> Deputy:
    deputy = deputy_of(user)
    if deputy is None or not deputy.is_active:
        raise PermissionDenied("只有名册中在任代表的账号可以在线提出建议")
    return deputy


def _clean_text(term, session, title, content, category, kind, period):
    title = (title or "").strip()
    if not title:
        raise ValidationError("标题（案由）不能为空")
    if len(title) > 300:
        raise ValidationError("标题（案由）不能超过 300 字")
    if session.term_id != term.pk:
        raise ValidationError(f"{session}不属于{term}")
    if category is not None and category.term_id != term.pk:
        raise ValidationError(f"分类“{category}”不属于{term}")
    if kind not in SuggestionKind.values:
        raise ValidationError(f"未知的类型“{kind}”")
    if period not in ("during", "between"):
        raise ValidationError("请选择大会期间或闭会期间")
    return title, (content or "").strip()


@transaction.atomic
def create_draft(
    user,
    *,
    session: Session,
    title: str,
    content: str = "",
    category=None,
    kind: str = SuggestionKind.SUGGESTION,
    period: str = "during",
) -> Suggestion:
    """起草: a deputy starts a suggestion of his or her own; no number until 登记."""
    deputy = _own_deputy(user)
    term = session.term
    title, content = _clean_text(term, session, title, content, category, kind, period)
    s = Suggestion(
        term=term,
        session=session,
        number=None,
        kind=kind,
        period=period,
        title=title,
        content=content,
        category=category,
        lead_deputy=deputy,
        status=S.DRAFT,
        submitted_on=today(),
        created_by=user,
    )
    s.save()
    _event(s, user, "draft")
    return s


@transaction.atomic
def edit_draft(
    s: Suggestion, user, *, title: str, content: str = "", category=None, kind=None, period=None
) -> Suggestion:
    """修改 a draft (or a suggestion returned for revision): the lead deputy only."""
    s = _locked(s)
    _check("edit_draft", s, user)
    kind = kind or s.kind
    period = period or s.period
    title, content = _clean_text(s.term, s.session, title, content, category, kind, period)
    changed = (title, content, category and category.pk, kind, period) != (
        s.title, s.content, s.category_id, s.kind, s.period,
    )  # fmt: skip
    s.title, s.content, s.category, s.kind, s.period = title, content, category, kind, period
    s.save()
    if changed and s.status == S.RETURNED:
        _event(s, user, "edit_draft", s.status, "按审查意见修改")
    return s


@transaction.atomic
def invite(s: Suggestion, user, deputies) -> list[CoSignInvitation]:
    """邀请联名: the lead deputy invites deputies of the term to co-sign."""
    s = _locked(s)
    _check("invite", s, user)
    deadline = s.session.cosign_deadline
    if deadline and today() > deadline:
        raise TransitionError(f"联名截止日期（{deadline:%Y-%m-%d}）已过，不能再邀请")
    made = []
    for deputy in deputies:
        if deputy.pk == s.lead_deputy_id:
            raise TransitionError("领衔代表不能邀请自己联名")
        if not deputy.is_active or not deputy.terms.filter(pk=s.term_id).exists():
            raise TransitionError(f"{deputy.name}不是{s.term}在任代表")
        invitation, created = CoSignInvitation.objects.get_or_create(
            suggestion=s, deputy=deputy, defaults={"invited_at": now()}
        )
        if not created and invitation.status != CoSignStatus.INVITED:
            continue  # answered already: an answer is not asked twice
        made.append(invitation)
    if not made:
        raise TransitionError("请选择要邀请的代表（已回复的代表不再重复邀请）")
    names = "、".join(i.deputy.name for i in made)
    _event(s, user, "invite", s.status, f"邀请 {names} 联名")
    body = f"截止日期：{deadline:%Y-%m-%d}" if deadline else ""
    _notify_later(
        [i.deputy.user for i in made if i.deputy.user_id and i.deputy.user.is_active],
        f"{s.lead_deputy.name}代表邀请您联名“{s.title[:40]}”",
        deputy_url(s),
        body,
    )
    return made


@transaction.atomic
def answer_invitation(s: Suggestion, user, *, sign: bool) -> CoSignInvitation:
    """联名 or 谢绝联名 by the invited deputy himself or herself, before the deadline."""
    name = "sign" if sign else "decline"
    s = _locked(s)
    _check(name, s, user)
    deputy = deputy_of(user)
    invitation = CoSignInvitation.objects.select_for_update().get(
        suggestion=s, deputy=deputy, status=CoSignStatus.INVITED
    )
    invitation.status = CoSignStatus.SIGNED if sign else CoSignStatus.DECLINED
    invitation.answered_at = now()
    invitation.save()
    if sign:
        s.co_signers.add(deputy)
    _event(s, user, name, s.status, deputy.name)
    _notify_later(
        [s.lead_deputy.user] if s.lead_deputy.user_id else [],
        f"{deputy.name}代表{'同意联名' if sign else '谢绝联名'}“{s.title[:40]}”",
        deputy_url(s),
    )
    return invitation


@transaction.atomic
def deputy_submit(s: Suggestion, user, note: str = "") -> Suggestion:
    """提交 to the office (first time or after revision); goes forward with those who signed."""
    s = _locked(s)
    _check("deputy_submit", s, user)
    if not s.title.strip() or not s.content.strip():
        raise TransitionError("提交前请填写标题和内容")
    if s.category_id is None:
        raise TransitionError("提交前请选择分类")
    before = _apply(s, S.SUBMITTED)
    s.submitted_on = today()
    s.save()
    signed = "、".join(s.co_signers.order_by("name").values_list("name", flat=True))
    pending = s.invitations.filter(status=CoSignStatus.INVITED).count()
    text = f"附议代表：{signed or '无'}" + (
        f"；{pending} 位代表尚未回复联名邀请" if pending else ""
    )
    _event(s, user, "deputy_submit", before, "；".join(filter(None, [text, note])))
    staff = [u for u in staff_users() if u.pk != user.pk]
    _notify_later(
        staff, f"代表提交建议待审查：{s.lead_deputy.name}“{s.title[:40]}”", s.get_absolute_url()
    )
    _notify_later(_deputy_users(s), f"您的建议“{s.title[:40]}”已提交，待审查", deputy_url(s))
    return s


def _review_decision(s, user, step, status, reason, what, outcome):
    """One office review step that sends the item away with a reason (退回修改, 转为来信)."""
    s = _locked(s)
    _check(step, s, user)
    reason = (reason or "").strip()
    if not reason:
        raise TransitionError(f"{what}须说明理由")
    before = _apply(s, status)
    s.save()
    _event(s, user, step, before, reason)
    _notify_later(_deputy_users(s), f"您的建议“{s.title[:40]}”{outcome}", deputy_url(s), reason)
    return s


@transaction.atomic
def return_for_revision(s: Suggestion, user, reason: str) -> Suggestion:
    """退回修改: back to the deputy with the reason; the history stays."""
    return _review_decision(
        s, user, "return_for_revision", S.RETURNED, reason, "退回修改", "被退回修改"
    )


@transaction.atomic
def turn_into_letter(s: Suggestion, user, reason: str) -> Suggestion:
    """转为来信: a personal petition or a matter outside the county's powers."""
    return _review_decision(s, user, "to_letter", S.LETTER, reason, "转为来信", "转为来信办理")


# --- conversations and 面商 ------------------------------------------------------------------


def capacity_label(user, s: Suggestion) -> str:
    mine = actor_roles(user, s)
    for capacity in (DEPUTY, COSIGNER, LEAD_UNIT, CO_UNIT, STAFF):
        if capacity in mine:
            if capacity in (LEAD_UNIT, CO_UNIT):
                ids = set(department_ids_for(user))
                units = [s.lead_unit] if capacity == LEAD_UNIT else list(s.co_units.all())
                names = [d.name for d in units if d and d.pk in ids]
                return f"{ACTOR_LABELS[capacity]}{('·' + names[0]) if names else ''}"
            return ACTOR_LABELS[capacity]
    return ""


@transaction.atomic
def post_message(s: Suggestion, user, text: str) -> Message:
    """沟通记录: a message in the suggestion's thread; the other side is notified."""
    s = _locked(s)
    _check("message", s, user)
    text = (text or "").strip()
    if not text:
        raise TransitionError("请填写沟通内容")
    if len(text) > 5000:
        raise TransitionError("一条沟通内容不能超过 5000 字")
    actor, name = _actor(user)
    capacity = capacity_label(user, s)
    message = Message.objects.create(
        suggestion=s, author=actor, author_name=name, capacity=capacity, text=text, at=now()
    )
    _event(s, user, "message", s.status, f"{capacity}：{text[:200]}")
    others = [u for u in _deputy_users(s) if u.pk != user.pk]
    _notify_later(others, f"{s.code} 有新的沟通记录", deputy_url(s), text[:200])
    if s.lead_unit_id:
        units = [u for u in unit_users([s.lead_unit]) if u.pk != user.pk]
        _notify_later(units, f"{s.code} 有新的沟通记录", department_url(s), text[:200])
    return message


@transaction.atomic
def record_consultation(
    s: Suggestion, user, *, held_on, form: str, participants: str, summary: str
) -> Consultation:
    """面商 record of the lead unit (meeting, visit, phone …) before its answer."""
    s = _locked(s)
    _check("consult", s, user)
    if form not in ConsultationForm.values:
        raise TransitionError("请选择面商形式")
    participants = (participants or "").strip()
    summary = (summary or "").strip()
    if not participants:
        raise TransitionError("请填写参加人员")
    if not summary:
        raise TransitionError("请填写面商情况")
    if held_on is None:
        raise TransitionError("请填写面商日期")
    if held_on > today():
        raise TransitionError("面商日期不能晚于今天")
    if s.assigned_on and held_on < s.assigned_on:
        raise TransitionError("面商日期不能早于交办日期")
    record = Consultation.objects.create(
        suggestion=s,
        unit=s.lead_unit,
        held_on=held_on,
        form=form,
        participants=participants[:300],
        summary=summary,
        created_by=user,
    )
    _event(
        s, user, "consult", s.status,
        f"{held_on:%Y-%m-%d} {ConsultationForm(form).label}；参加人员：{participants}；{summary}",
    )  # fmt: skip
    return record


def consulted_before_answer(s: Suggestion) -> bool:
    """面商 held on or before the first answer (counted in 面商率)."""
    qs = s.consultations.all()
    if s.first_answered_on:
        qs = qs.filter(held_on__lte=s.first_answered_on)
    return qs.exists()


@transaction.atomic
def cosigner_evaluate(s: Suggestion, user, *, result: str, comment: str = "") -> Evaluation:
    """附议代表评价: a co-signer's own view of the latest answer; the step does not change."""
    s = _locked(s)
    _check("cosigner_evaluate", s, user)
    if result not in EvaluationResult.values:
        raise TransitionError("请选择满意、基本满意或不满意")
    deputy = deputy_of(user)
    reply = s.replies.order_by("-round").first()
    if reply is None:
        raise TransitionError("没有待评价的答复")
    if Evaluation.objects.filter(reply=reply, deputy=deputy).exists():
        raise TransitionError("您已评价过本次答复")
    evaluation = Evaluation.objects.create(
        suggestion=s,
        reply=reply,
        result=result,
        comment=(comment or "").strip(),
        evaluated_on=today(),
        deputy=deputy,
        is_lead=False,
        recorded_by=user,
    )
    label = EvaluationResult(result).label
    note = f"{deputy.name}：{label}" + (f"：{evaluation.comment}" if evaluation.comment else "")
    _event(s, user, "cosigner_evaluate", s.status, note)
    return evaluation


# --- deadlines and late items -------------------------------------------------------------


def overdue(today: datetime.date | None = None):
    """Items whose answer is owed and past due (first answer or second answer)."""
    today = today or current_date()
    return Suggestion.objects.filter(
        Q(status__in=[S.ASSIGNED, S.RETURN_REQUESTED, S.HANDLING], due_on__lt=today)
        | Q(status=S.REHANDLING, second_due_on__lt=today)
    )


def due_soon(today: datetime.date | None = None, days: int | None = None):
    """Items whose answer is owed within *days* (SUGGESTIONS_REMINDER_DAYS) from today."""
    today = today or current_date()
    horizon = today + datetime.timedelta(days=reminder_days() if days is None else days)
    return Suggestion.objects.filter(
        Q(
            status__in=[S.ASSIGNED, S.RETURN_REQUESTED, S.HANDLING],
            due_on__gte=today,
            due_on__lte=horizon,
        )
        | Q(status=S.REHANDLING, second_due_on__gte=today, second_due_on__lte=horizon)
    )


def is_overdue(s: Suggestion, today: datetime.date | None = None) -> bool:
    today = today or current_date()
    due = s.effective_due_on
    return bool(
        s.status in (S.ASSIGNED, S.RETURN_REQUESTED, S.HANDLING, S.REHANDLING)
        and due
        and due < today
    )


def answered_on_time(s: Suggestion) -> bool | None:
    """按期答复: the first answer came by the (possibly extended) due date; None if unanswered."""
    if not s.first_answered_on or not s.due_on:
        return None
    return s.first_answered_on <= s.due_on


def co_unit_views_missing(s: Suggestion) -> list[Department]:
    given = set(s.co_unit_views.values_list("unit_id", flat=True))
    return [d for d in s.co_units.all() if d.pk not in given]


def all_steps_table() -> list[dict]:
    """The table for the docs page and tests: step, from, to, who."""
    rows = []
    for name, step in STEPS.items():
        rows.append(
            {
                "name": name,
                "label": step.label,
                "from": [Status(x).label for x in step.sources],
                "to": [Status(x).label for x in step.targets],
                "actors": [ACTOR_LABELS[a] for a in sorted(step.actors)],
            }
        )
    return rows


def setup_term(number: int, *, start_date=None, end_date=None, current=True):
    """A term with the default categories and answer classes (choices.DEFAULT_*)."""
    from .choices import DEFAULT_ANSWER_CLASSES, DEFAULT_CATEGORIES
    from .models import Category, Term

    term, _ = Term.objects.get_or_create(
        number=number,
        defaults={"start_date": start_date, "end_date": end_date, "is_current": current},
    )
    for i, name in enumerate(DEFAULT_CATEGORIES):
        Category.objects.get_or_create(term=term, name=name, defaults={"sort_order": i})
    for i, (code, label, follow) in enumerate(DEFAULT_ANSWER_CLASSES):
        AnswerClass.objects.get_or_create(
            term=term,
            code=code,
            defaults={
                "label": label,
                "needs_follow_up": follow,
                "counts_as_resolved": code == "A",
                "sort_order": i,
            },
        )
    return term
