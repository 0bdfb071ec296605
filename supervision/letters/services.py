"""The rules of 通报 and letters (函) that follow an alert (domain.md §6).

* grade → kind: 一般 → 联网查询情况通报 to the department; 重要 → 函 to the department;
  重大 → 函 to the county government.
* approval (签发): the budget office head (预算工委负责同志) for 通报 and letters to a
  department, the standing-committee leader in charge (分管常委会领导) for letters to the
  county government. Who holds which capacity is the LetterSigner register.
* the 发文字号 (``元人预函〔2026〕7号``) is taken at 签发, per series and year, from a locked
  sequence row: never reused, no gaps (a signed letter cannot be cancelled).
* the department answers in writing, signed by its head (签字负责人, required), within
  LETTERS_ANSWER_WORKDAYS (10) working days of the day it received the letter (签收日期,
  recorded by staff or the department's liaison). Until the receipt is recorded, answer_due
  is an estimate counted from the day the letter was sent.
* 15 working days (LETTERS_EXTENDED_ANSWER_WORKDAYS) for a 重大 issue is an extension the
  letter's approver grants once, with a reason (the ``extend`` move).

``MOVES`` is the one table of allowed transitions. Every change writes a LetterEvent.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from budget.departments import acts_for, department_ids_for, is_department_scoped
from budget.models import Department
from cms.sequences import locked_counter
from cms.workdays import add_workdays
from supervision.choices import AlertGrade, AlertStatus, RuleKind
from supervision.models import Alert

from .choices import LetterKind, LetterStatus, SignerCapacity
from .models import Letter, LetterAnswer, LetterEvent, LetterSequence, LetterSigner

WORKFLOW_PERMISSIONS = ("cms.handle_alerts", "cms.run_workflows")

KIND_FOR_GRADE = {
    AlertGrade.GENERAL: LetterKind.BULLETIN,
    AlertGrade.IMPORTANT: LetterKind.DEPARTMENT,
    AlertGrade.MAJOR: LetterKind.GOVERNMENT,
}
SERIES_FOR_KIND = {
    LetterKind.BULLETIN: "bulletin",
    LetterKind.DEPARTMENT: "letter",
    LetterKind.GOVERNMENT: "letter",
}
APPROVER_FOR_KIND = {
    LetterKind.BULLETIN: SignerCapacity.OFFICE_HEAD,
    LetterKind.DEPARTMENT: SignerCapacity.OFFICE_HEAD,
    LetterKind.GOVERNMENT: SignerCapacity.LEADER,
}
# the alert status a sent letter moves its alert to
ALERT_STATUS_FOR_KIND = {
    LetterKind.BULLETIN: AlertStatus.BULLETIN,
    LetterKind.DEPARTMENT: AlertStatus.LETTER,
    LetterKind.GOVERNMENT: AlertStatus.LETTER,
}

DRAFTER = "drafter"  # staff who run the letter workflow
APPROVER = "approver"  # the signer the kind requires
ANSWERER = "answerer"  # workflow staff, or a liaison acting for the letter's department

S = LetterStatus


@dataclass(frozen=True)
class Move:
    label: str
    source: frozenset
    target: str
    who: str
    note_required: bool = False
    # a step that cannot be taken back asks for an explicit tick (the sentence the user ticks)
    confirm: str = ""


# --- the one table of transitions -------------------------------------------------------
MOVES = {
    "submit": Move("送审", frozenset({S.DRAFT}), S.SUBMITTED, DRAFTER),
    "return": Move("退回修改", frozenset({S.SUBMITTED}), S.DRAFT, APPROVER, note_required=True),
    "approve": Move(
        "签发",
        frozenset({S.SUBMITTED}),
        S.APPROVED,
        APPROVER,
        confirm="我已核对函件全文，确认签发（签发即取得发文字号，不能撤回）",
    ),
    "send": Move("发出", frozenset({S.APPROVED}), S.SENT, DRAFTER),
    # receipt and extension keep the letter 已发出; they move its answer clock
    "receive": Move("登记签收", frozenset({S.SENT}), S.SENT, ANSWERER),
    "extend": Move("延期至15个工作日", frozenset({S.SENT}), S.SENT, APPROVER, note_required=True),
    "answer": Move("登记书面答复", frozenset({S.SENT, S.ANSWERED}), S.ANSWERED, ANSWERER),
    "close": Move("办结", frozenset({S.ANSWERED}), S.CLOSED, DRAFTER, note_required=True),
    "cancel": Move(
        "作废",
        frozenset({S.DRAFT, S.SUBMITTED}),
        S.CANCELLED,
        DRAFTER,
        note_required=True,
        confirm="确认作废本函件（作废后不能恢复）",
    ),
}
# moves done through their own form (answer: a file; send: a date and a channel;
# receive: a date); extend is a simple move whose note is the reason
SIMPLE_MOVES = ("submit", "return", "approve", "extend", "close", "cancel")


class LetterError(ValidationError):
    """A refused step; the message is for the user."""


# --- who may do what -------------------------------------------------------------------------


def can_draft(user) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and any(user.has_perm(p) for p in WORKFLOW_PERMISSIONS)
    )


def capacities(user) -> set[str]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    return set(
        LetterSigner.objects.filter(user=user, is_active=True).values_list("capacity", flat=True)
    )


def can_approve(user, letter: Letter) -> bool:
    return APPROVER_FOR_KIND[LetterKind(letter.kind)] in capacities(user)


def can_answer(user, letter: Letter) -> bool:
    if can_draft(user):
        return True
    return is_department_scoped(user) and acts_for(user, letter.department)


def _may(user, move: Move, letter: Letter) -> bool:
    if move.who == APPROVER:
        return can_approve(user, letter)
    if move.who == ANSWERER:
        return can_answer(user, letter)
    return can_draft(user)


def _not_now(letter: Letter, name: str) -> str:
    """Why a move the table allows in this status does not apply to this letter ("" if it does)."""
    if name == "receive" and letter.is_received:
        return f"签收日期已登记为 {letter.received_on:%Y-%m-%d}，不能重复登记。"
    if name == "extend":
        if letter.alert.grade != AlertGrade.MAJOR:
            return "只有重大问题的函件可以延期至15个工作日答复。"
        if letter.is_extended or letter.answer_workdays >= extended_answer_workdays():
            return "本函件已延期过一次，不能再次延期。"
    return ""


def allowed_moves(letter: Letter, user) -> dict[str, Move]:
    return {
        name: move
        for name, move in MOVES.items()
        if letter.status in move.source and _may(user, move, letter) and not _not_now(letter, name)
    }


def letters_for(user):
    """Letters a user may see: staff and signers all; a liaison those of his or her
    department once sent (drafts are internal)."""
    if not getattr(user, "is_authenticated", False):
        return Letter.objects.none()
    if can_draft(user) or capacities(user):
        return Letter.objects.all()
    if is_department_scoped(user):
        return Letter.objects.filter(
            department_id__in=department_ids_for(user),
            status__in=[S.SENT, S.ANSWERED, S.CLOSED],
        )
    return Letter.objects.none()


def answers_for(user):
    return LetterAnswer.objects.filter(letter__in=letters_for(user).values("pk"))


def _event(letter, user, action, from_status="", to_status="", note=""):
    from cms.usage.steps import record_step

    return record_step(LetterEvent, user, action, from_status, to_status, note, letter=letter)


def _notify(users, subject, letter, body=""):
    from django.urls import reverse

    from cms.notifications.services import notify

    users = [u for u in users if u is not None]
    if users:
        notify(
            users,
            subject[:100],
            body=body or letter.title,
            url=reverse("letters:detail", args=[letter.pk]),
            category="letters",
        )


def _lock(letter: Letter) -> Letter:
    return Letter.objects.select_for_update().get(pk=letter.pk)


def check_confirmed(name: str, confirmed: bool) -> None:
    """A step marked ``confirm`` in MOVES is taken only when the user ticked its sentence."""
    move = MOVES.get(name)
    if move is not None and move.confirm and not confirmed:
        raise LetterError(f"请先勾选“{move.confirm}”，再点“{move.label}”。本次未作任何改动。")


def _check(letter: Letter, name: str, user, note: str) -> Move:
    move = MOVES[name]
    current = LetterStatus(letter.status)
    if letter.status not in move.source:
        raise LetterError(f"函件当前为“{current.label}”，不能“{move.label}”。")
    if not _may(user, move, letter):
        if move.who == APPROVER:
            needed = APPROVER_FOR_KIND[LetterKind(letter.kind)]
            raise PermissionDenied(
                f"{LetterKind(letter.kind).label}须由{needed.label}签发，您不在审批人名单中。"
            )
        raise PermissionDenied(f"您没有“{move.label}”函件的权限。")
    refusal = _not_now(letter, name)
    if refusal:
        raise LetterError(refusal)
    if move.note_required and not (note or "").strip():
        if name == "extend":
            raise LetterError("延期须填写理由。")
        raise LetterError(f"“{move.label}”须填写说明。")
    return move


# --- texts drafted from the alert ------------------------------------------------------------


def _issuer() -> str:
    return getattr(settings, "LETTERS_ISSUER", "县人大常委会预算工作委员会")


def _government() -> str:
    return getattr(settings, "LETTERS_GOVERNMENT", "县人民政府")


def answer_workdays() -> int:
    """Working days a department has to answer, counted from receipt (every grade)."""
    return int(getattr(settings, "LETTERS_ANSWER_WORKDAYS", 10))


def extended_answer_workdays() -> int:
    """Working days after an extension granted for a 重大 issue."""
    return int(getattr(settings, "LETTERS_EXTENDED_ANSWER_WORKDAYS", 15))


def _set_answer_due(letter: Letter) -> None:
    """answer_due from the receipt date, or estimated from the sending date until then."""
    start = letter.received_on or letter.sent_on
    if start is None:
        return
    due = add_workdays(start, letter.answer_workdays)
    letter.answer_due = due
    letter.answer_due_provisional = bool(getattr(due, "provisional", False))
    letter.overdue_notified_on = None


def due_text(letter: Letter) -> str:
    """The deadline as a sentence for notes and messages."""
    if not letter.answer_due:
        return "答复期限未定"
    text = f"答复期限 {letter.answer_due:%Y-%m-%d}"
    if letter.answer_due_provisional:
        text += "（暂定）"
    if letter.is_received:
        text += f"（自签收日起{letter.answer_workdays}个工作日）"
    else:
        text += f"（待签收，按发出日期估算{letter.answer_workdays}个工作日）"
    return text


def default_department(alert: Alert):
    """The unit an alert concerns; an alert on a subject (科目) concerns the finance bureau."""
    if alert.department_id:
        return alert.department
    return (
        Department.objects.filter(is_active=True, name__contains="财政局", parent__isnull=True)
        .order_by("code")
        .first()
    )


def draft_texts(alert: Alert, department) -> dict:
    kind = KIND_FOR_GRADE[AlertGrade(alert.grade)]
    unit = department.name if department else "有关单位"
    days = answer_workdays()
    subject = alert.title.rstrip("。")
    # the title names the unit, the year and what the rule found; the details go in the body
    rule_name = re.sub(r"[（(][^）)]*[）)]", "", alert.rule.name).strip()
    topic = f"{unit}{alert.year}年{rule_name}"
    period = f"{alert.year}年{'1—' + str(alert.month) + '月' if alert.month else '度'}数据"
    if alert.rule.kind == RuleKind.MANUAL:  # found by hand: no rule to name, its description
        topic = f"{unit}{alert.year}年预算管理中"
        found = f"我委在预算联网监督查询分析中发现：{subject}（{period}，等级“{alert.get_grade_display()}”）。"
        if alert.description:
            found += "\n" + alert.description
    else:
        found = (
            f"我委通过预算联网监督系统查询发现：{subject}"
            f"（{period}，预警规则“{alert.rule.name}”，等级“{alert.get_grade_display()}”）。"
        )
    if kind == LetterKind.BULLETIN:
        title = f"关于{topic}的联网查询情况通报"
        recipients = unit
        cc = ""
        body = "\n".join(
            [
                found,
                "经与你单位沟通了解，现将有关情况通报如下，请你单位认真核实，说明原因并提出改进措施。",
                f"请于收到本通报之日起{days}个工作日内，将经单位主要负责人签字的书面说明报送我委。",
                "特此通报。",
            ]
        )
    elif kind == LetterKind.DEPARTMENT:
        title = f"关于{topic}有关问题的函"
        recipients = unit
        cc = ""
        body = "\n".join(
            [
                found,
                "上述问题涉及预算编制和执行，根据预算联网监督工作有关规定，请你单位对有关情况作出说明，"
                "分析原因，提出整改措施。",
                f"请于收到本函之日起{days}个工作日内书面答复我委（须经单位主要负责人签字）。",
                "特此函告。",
            ]
        )
    else:
        title = f"关于{topic}有关问题的函"
        recipients = _government()
        cc = unit if department else ""
        body = "\n".join(
            [
                found,
                "上述问题涉及预算平衡、重点支出、转移支付或常委会预算决议的执行，"
                "经常委会分管领导同意，现函请县人民政府督促有关部门核实情况、说明原因并落实整改。",
                f"请于收到本函之日起{days}个工作日内将办理情况书面答复。",
                "特此函告。",
            ]
        )
    return {"kind": kind, "title": title[:200], "recipients": recipients, "cc": cc, "body": body}


# --- steps -----------------------------------------------------------------------------------


@transaction.atomic
def create_from_alert(alert: Alert, user, department=None) -> Letter:
    if not can_draft(user):
        raise PermissionDenied("您没有起草预警函件的权限。")
    alert = Alert.objects.select_related("rule", "department").get(pk=alert.pk)
    if alert.status == AlertStatus.CLOSED:
        raise LetterError("预警已关闭，不能再起草函件。")
    department = department or default_department(alert)
    texts = draft_texts(alert, department)
    letter = Letter.objects.create(
        alert=alert,
        department=department,
        kind=texts["kind"],
        title=texts["title"],
        recipients=texts["recipients"],
        cc=texts["cc"],
        body=texts["body"],
        figures=dict(alert.figures or {}),
        series=SERIES_FOR_KIND[texts["kind"]],
        owner=user,
        answer_workdays=answer_workdays(),
    )
    _event(letter, user, "起草", "", S.DRAFT, f"由预警“{alert.title[:80]}”生成")
    return letter


@transaction.atomic
def update_draft(letter: Letter, user, *, title, recipients, body, cc="") -> Letter:
    if not can_draft(user):
        raise PermissionDenied("您没有修改函件的权限。")
    letter = _lock(letter)
    if letter.status != S.DRAFT:
        raise LetterError(
            f"函件当前为“{LetterStatus(letter.status).label}”，只有草稿可以修改（已送审的请先退回）。"
        )
    title, recipients, body, cc = (v.strip() for v in (title, recipients, body, cc or ""))
    if not title or not recipients or not body:
        raise LetterError("标题、主送和正文都不能为空。")
    letter.title, letter.recipients, letter.body, letter.cc = title[:200], recipients, body, cc
    _clear_renditions(letter)
    letter.save()
    _event(letter, user, "修改草稿")
    return letter


def next_number(series: str, year: int) -> int:
    """Take the next number of *series* in *year*. Call inside a transaction."""
    sequence = locked_counter(LetterSequence, series=series, year=year)
    LetterSequence.objects.filter(pk=sequence.pk).update(last_number=F("last_number") + 1)
    sequence.refresh_from_db(fields=["last_number"])
    return sequence.last_number


def format_doc_number(series: str, year: int, number: int) -> str:
    prefixes = getattr(settings, "LETTERS_DOC_NUMBER_PREFIXES", {}) or {}
    prefix = prefixes.get(series, "")
    return f"{prefix}〔{year}〕{number}号"


@transaction.atomic
def act(letter: Letter, name: str, user, note: str = "", *, confirmed: bool = True) -> Letter:
    """One of the SIMPLE_MOVES, or a refusal (Chinese message) that changes nothing.

    The pages pass ``confirmed`` (the tick box of a step marked ``confirm``); code that takes a
    step itself (demo, commands) has nothing to tick."""
    if name not in SIMPLE_MOVES:
        raise LetterError("未知的操作。")
    letter = _lock(letter)
    move = _check(letter, name, user, note)
    check_confirmed(name, confirmed)
    note = (note or "").strip()
    from_status = letter.status
    letter.status = move.target
    if name == "approve":
        today = timezone.localdate()
        letter.year = today.year
        letter.number = next_number(letter.series, letter.year)
        letter.doc_number = format_doc_number(letter.series, letter.year, letter.number)
        letter.approved_by = user
        letter.approved_at = timezone.now()
        _clear_renditions(letter)
        note = f"发文字号 {letter.doc_number}" + (f"；{note}" if note else "")
    if name == "extend":
        letter.answer_workdays = extended_answer_workdays()
        letter.extension_reason = note
        letter.extended_by = user
        letter.extended_at = timezone.now()
        _set_answer_due(letter)
        note = f"理由：{note}；{due_text(letter)}"
    letter.save()
    if from_status == move.target:  # a step that keeps the status (extend)
        _event(letter, user, move.label, note=note)
    else:
        _event(letter, user, move.label, from_status, move.target, note)
    if name in ("submit",):
        signers = LetterSigner.objects.filter(
            capacity=APPROVER_FOR_KIND[LetterKind(letter.kind)], is_active=True
        ).select_related("user")
        _notify([s.user for s in signers], f"待签发：{letter.title[:60]}", letter)
    elif name in ("return", "approve", "extend") and letter.owner_id != getattr(user, "pk", None):
        _notify([letter.owner], f"函件{move.label}：{letter.title[:60]}", letter, body=note)
    if name == "approve":
        from supervision.citations import record_letter_citations  # 被引用 (budget/figures.py)

        record_letter_citations(letter)
        transaction.on_commit(lambda: _queue_rendition(letter.pk))
    return letter


def _alert_follow(letter: Letter, user, target: str, note: str) -> str:
    """Move the alert along with its letter when the user may handle alerts; say what happened."""
    from supervision import alerts

    alert = letter.alert
    if not alerts.can_handle(user):
        return ""
    if target not in alerts.allowed_transitions(alert):
        return ""
    try:
        with transaction.atomic():
            alerts.transition(alert, target, user, note=note)
    except ValidationError:
        return ""
    return f"预警改为“{AlertStatus(target).label}”"


@transaction.atomic
def send(letter: Letter, user, sent_on: datetime.date | None = None, via: str = "") -> Letter:
    letter = _lock(letter)
    move = _check(letter, "send", user, "")
    today = timezone.localdate()
    sent_on = sent_on or today
    if sent_on > today:
        raise LetterError("发出日期不能晚于今天。")
    if letter.approved_at and sent_on < timezone.localtime(letter.approved_at).date():
        raise LetterError("发出日期不能早于签发日期。")
    from_status = letter.status
    letter.status = move.target
    letter.sent_on = sent_on
    letter.sent_via = (via or "").strip()[:50]
    _set_answer_due(letter)
    letter.save()
    followed = _alert_follow(
        letter, user, ALERT_STATUS_FOR_KIND[LetterKind(letter.kind)], f"{letter.doc_number}"
    )
    note = f"{sent_on:%Y-%m-%d} 发出" + (f"（{letter.sent_via}）" if letter.sent_via else "")
    note += f"，{due_text(letter)}"
    if followed:
        note += f"；{followed}"
    _event(letter, user, move.label, from_status, move.target, note)
    return letter


@transaction.atomic
def record_receipt(letter: Letter, user, received_on: datetime.date | None) -> Letter:
    """The date the department received (签收) the letter; the answer clock starts there."""
    letter = _lock(letter)
    move = _check(letter, "receive", user, "")
    if received_on is None:
        raise LetterError("请填写签收日期。")
    if received_on > timezone.localdate():
        raise LetterError("签收日期不能晚于今天。")
    if letter.sent_on and received_on < letter.sent_on:
        raise LetterError(f"签收日期不能早于函件发出日期（{letter.sent_on:%Y-%m-%d}）。")
    letter.received_on = received_on
    letter.received_recorded_by = user
    letter.received_recorded_at = timezone.now()
    _set_answer_due(letter)
    letter.save()
    _event(letter, user, move.label, note=f"{received_on:%Y-%m-%d} 签收，{due_text(letter)}")
    if letter.owner_id and letter.owner_id != getattr(user, "pk", None):
        _notify([letter.owner], f"部门已签收：{letter.title[:60]}", letter, body=due_text(letter))
    return letter


def _answer_limit() -> int:
    return int(getattr(settings, "LETTERS_ANSWER_MAX_BYTES", 20 * 1024 * 1024))


def record_answer(
    letter: Letter,
    user,
    *,
    data: bytes,
    filename: str,
    answered_on: datetime.date | None = None,
    reference: str = "",
    signed_by: str = "",
) -> LetterAnswer:
    """Attach the department's written answer (the file is kept, its text extracted)."""
    from policies.extraction import ExtractionError, extract

    filename = (filename or "").strip().replace("/", "_").replace("\\", "_")[:255]
    if not filename:
        raise LetterError("请选择答复文件。")
    if len(data) > _answer_limit():
        raise LetterError(f"答复文件不能超过 {_answer_limit() // (1024 * 1024)} MB。")
    from cms.uploads import UploadRefused, check_upload

    try:
        check_upload(filename, data, "letter_answer")
    except UploadRefused as error:
        raise LetterError(error.messages[0]) from None
    today = timezone.localdate()
    answered_on = answered_on or today
    if answered_on > today:
        raise LetterError("答复日期不能晚于今天。")
    # Check state and permission before the (slow) extraction, and again under the lock.
    current = Letter.objects.select_related("alert").get(pk=letter.pk)
    _check(current, "answer", user, "")
    signed_by = (signed_by or "").strip()
    if not signed_by:
        raise LetterError("请填写签字负责人：书面答复须经单位主要负责人签字，未填写的不予登记。")
    if current.sent_on and answered_on < current.sent_on:
        raise LetterError("答复日期不能早于函件发出日期。")
    if current.received_on and answered_on < current.received_on:
        raise LetterError(f"答复日期不能早于签收日期（{current.received_on:%Y-%m-%d}）。")
    try:
        extracted = extract(data, filename)
    except ExtractionError as exc:
        raise LetterError(str(exc)) from None

    stored = []
    try:
        with transaction.atomic():
            letter = _lock(letter)
            move = _check(letter, "answer", user, "")
            answer = LetterAnswer(
                letter=letter,
                filename=filename,
                sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
                text=extracted.text,
                answered_on=answered_on,
                reference=(reference or "").strip()[:100],
                signed_by=signed_by[:50],
                is_late=bool(letter.answer_due and answered_on > letter.answer_due),
                uploaded_by=user,
            )
            answer.file.save(filename, ContentFile(data), save=False)
            stored.append(answer.file.name)
            answer.save()
            from_status = letter.status
            letter.status = move.target
            if not letter.answered_on:
                letter.answered_on = answered_on
            letter.save()
            note = f"{answered_on:%Y-%m-%d} 答复" + (
                f"，{answer.reference}" if answer.reference else ""
            )
            note += f"，签字负责人 {answer.signed_by}"
            if answer.is_late:
                note += f"（逾期，{due_text(letter)}）"
            followed = _alert_follow(
                letter, user, AlertStatus.ANSWERED, answer.reference or f"答复 {filename}"
            )
            if followed:
                note += f"；{followed}"
            _event(letter, user, move.label, from_status, move.target, note)
            if letter.owner_id and letter.owner_id != getattr(user, "pk", None):
                _notify([letter.owner], f"收到书面答复：{letter.title[:60]}", letter, body=note)
    except Exception:
        from django.core.files.storage import default_storage

        for name in stored:
            default_storage.delete(name)
        raise
    return answer


@transaction.atomic
def remind_overdue_answers(today=None) -> list[Letter]:
    """Tell each overdue letter's owner once that the department's answer is late."""
    today = today or timezone.localdate()
    overdue = (
        Letter.objects.filter(status=S.SENT, answer_due__lt=today)
        .filter(Q(overdue_notified_on__isnull=True) | Q(overdue_notified_on__lte=F("answer_due")))
        .select_related("owner", "department")
        .select_for_update(of=("self",))
    )
    reminded = []
    for letter in overdue:
        recipients = [letter.owner] if letter.owner_id else []
        if not recipients:
            from supervision.alerts import alert_handlers

            recipients = list(alert_handlers())
        _notify(
            recipients,
            f"书面答复已逾期（期限 {letter.answer_due:%Y-%m-%d}）：{letter.title[:50]}",
            letter,
            body=due_text(letter),
        )
        Letter.objects.filter(pk=letter.pk).update(overdue_notified_on=today)
        _event(letter, None, "逾期提醒", note=f"{due_text(letter)} 已过")
        reminded.append(letter)
    return reminded


# --- renditions ------------------------------------------------------------------------------


def _clear_renditions(letter: Letter) -> None:
    """Edits and 签发 make earlier renditions stale; the files go after commit."""
    names = [f.name for f in (letter.docx_file, letter.pdf_file) if f]
    letter.docx_file = ""
    letter.pdf_file = ""
    letter.rendition_status = ""
    letter.rendition_error = ""
    letter.rendered_at = None
    if names:
        from django.core.files.storage import default_storage

        def _delete():
            for name in names:
                default_storage.delete(name)

        transaction.on_commit(_delete)


def _queue_rendition(letter_id: int) -> None:
    from .tasks import render_letter

    render_letter.delay(letter_id)


@transaction.atomic
def request_rendition(letter: Letter, user) -> Letter:
    if not can_draft(user):
        raise PermissionDenied("您没有生成函件文档的权限。")
    letter = _lock(letter)
    if letter.status == S.CANCELLED:
        raise LetterError("已作废的函件不再生成文档。")
    letter.rendition_status = "pending"
    letter.rendition_error = ""
    letter.save(update_fields=["rendition_status", "rendition_error", "updated_at"])
    transaction.on_commit(lambda: _queue_rendition(letter.pk))
    return letter


def report_document(letter: Letter):
    """The letter as an officialdoc.ReportDocument (GB/T 9704 layout)."""
    from briefings import officialdoc as od

    blocks = [od.Paragraph(letter.body)]
    if letter.figures:
        blocks.append(
            od.Table(
                ["项目", "数值"],
                [[str(k), str(v)] for k, v in letter.figures.items()],
                title="预警相关数据",
            )
        )
    date = (
        timezone.localtime(letter.approved_at).date()
        if letter.approved_at
        else timezone.localdate()
    )
    return od.ReportDocument(
        title=letter.title,
        issuer=_issuer(),
        recipients=letter.recipient_list(),
        date=date,
        blocks=blocks,
        doc_number=letter.doc_number,
        cc=letter.cc_list(),
        letterhead=_issuer(),
    )


def render_files(letter_id: int) -> Letter:
    """Build DOCX (and PDF when LibreOffice is present), then store both at once.

    Nothing is stored until every byte is ready, so a failure never leaves half a file.
    PDF failures other than a missing LibreOffice raise RenditionError for the task to retry.
    """
    from briefings import officialdoc as od

    letter = Letter.objects.select_related("alert").get(pk=letter_id)
    stamp = timezone.now().strftime("%Y%m%d%H%M%S")
    docx = od.render_report_docx(report_document(letter))
    pdf = b""
    pdf_note = ""
    if od.soffice_available():
        pdf = od.docx_to_pdf(docx, timeout=getattr(settings, "LETTERS_RENDITION_TIMEOUT", 120))
    else:
        pdf_note = "未安装 LibreOffice（soffice），只生成了 DOCX 版本。"
    from django.core.files.storage import default_storage

    new_names = []
    try:
        docx_name = default_storage.save(
            f"letters/renditions/letter-{letter.pk}-{stamp}.docx", ContentFile(docx)
        )
        new_names.append(docx_name)
        pdf_name = ""
        if pdf:
            pdf_name = default_storage.save(
                f"letters/renditions/letter-{letter.pk}-{stamp}.pdf", ContentFile(pdf)
            )
            new_names.append(pdf_name)
        with transaction.atomic():
            locked = _lock(letter)
            old = [f.name for f in (locked.docx_file, locked.pdf_file) if f]
            locked.docx_file.name = docx_name
            locked.pdf_file.name = pdf_name
            locked.rendition_status = "done"
            locked.rendition_error = pdf_note
            locked.rendered_at = timezone.now()
            locked.save(
                update_fields=[
                    "docx_file",
                    "pdf_file",
                    "rendition_status",
                    "rendition_error",
                    "rendered_at",
                    "updated_at",
                ]
            )
    except Exception:
        for name in new_names:
            default_storage.delete(name)
        raise
    for name in old:
        if name not in new_names:
            default_storage.delete(name)
    return locked


@transaction.atomic
def rendition_failed(letter_id: int, message: str) -> None:
    letter = Letter.objects.select_for_update().get(pk=letter_id)
    letter.rendition_status = "failed"
    letter.rendition_error = message
    letter.save(update_fields=["rendition_status", "rendition_error", "updated_at"])
    _event(letter, None, "文档生成失败", note=message)
    _notify([letter.owner], f"函件文档生成失败：{letter.title[:50]}", letter, body=message)
