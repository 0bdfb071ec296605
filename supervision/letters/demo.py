"""Demo letters: the approver register and letters for some demo alerts, in several states
(draft, awaiting approval, signed, sent and not yet received, received and overdue — the
major one with its extension to 15 working days —, answered, closed).

Idempotent: an alert that already has a letter is left alone; accounts and signers are
get-or-create. Runs after the budget demo (which raises the alerts).
"""

import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from cms import roles
from supervision.choices import AlertGrade, AlertStatus
from supervision.models import Alert

from . import services
from .choices import SignerCapacity
from .models import Letter, LetterSigner

# username, display name, organisation, capacity, password
DEMO_SIGNERS = [
    (
        "head",
        "刘建华（预算工委主任）",
        "县人大常委会预算工委",
        SignerCapacity.OFFICE_HEAD,
        "Head-2026!",
    ),
    ("leader", "周国强（常委会副主任）", "县人大常委会", SignerCapacity.LEADER, "Leader-2026!"),
]

# the states the demo letters are left in, in the order alerts of each grade are used
PLAN = {
    AlertGrade.GENERAL: ["answered", "overdue", "draft"],
    AlertGrade.IMPORTANT: ["closed", "sent", "submitted"],
    AlertGrade.MAJOR: ["approved", "overdue"],
}


def _signer_account(username, name, org, password):
    """A STAFF account for the signer when a seat is free; otherwise the demo admin signs."""
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user
    try:
        roles.check_seat(roles.STAFF)
    except roles.SeatLimitReached:
        return User.objects.filter(username="admin").first()
    user = User.objects.create(
        username=username, display_name=name, organisation=org, email=f"{username}@rd.local"
    )
    user.set_password(password)
    user.save()
    user.groups.add(Group.objects.get(name=roles.STAFF))
    return user


def ensure_signers():
    signers = {}
    for username, name, org, capacity, password in DEMO_SIGNERS:
        user = _signer_account(username, name, org, password)
        if user is None:
            continue
        LetterSigner.objects.get_or_create(
            user=user, capacity=capacity, defaults={"note": "演示数据"}
        )
        signers[capacity] = user
    return signers


def _answer_text(letter) -> bytes:
    unit = letter.department.name if letter.department else "我单位"
    return (
        f"关于《{letter.title}》的答复\n\n"
        f"{letter.recipients}：\n"
        f"收到贵委{letter.doc_number}后，{unit}高度重视，逐项核对了有关数据。"
        "支出进度偏慢主要是部分项目招标延后、资金拨付需按工程进度分期办理。"
        "下一步将加快项目实施，按月跟踪执行进度，确保年底前完成预算目标。\n\n"
        f"{unit}（盖章）\n主要负责人签字：王德明\n"
    ).encode()


def _walk(letter, state, staff, signers, liaison, today):
    """Take a fresh draft through the workflow up to *state*."""
    if state == "draft":
        return letter
    letter = services.act(letter, "submit", staff)
    if state == "submitted":
        return letter
    approver = signers[services.APPROVER_FOR_KIND[letter.kind]]
    letter = services.act(letter, "approve", approver)
    if state == "approved":
        return letter
    days_ago = 35 if state == "overdue" else (25 if state in ("answered", "closed") else 3)
    sent_on = today - datetime.timedelta(days=days_ago)
    # the demo signs on the day it sends
    Letter.objects.filter(pk=letter.pk).update(
        approved_at=timezone.make_aware(datetime.datetime.combine(sent_on, datetime.time(9)))
    )
    letter.refresh_from_db()
    letter = services.send(letter, staff, sent_on=sent_on, via="机要交换")
    if state == "sent":  # left 待签收: its deadline is still the estimate from sending
        return letter
    answerer = liaison if liaison and services.can_answer(liaison, letter) else staff
    # the department signs for it the next day; the answer clock starts there
    letter = services.record_receipt(
        letter, answerer, min(today, sent_on + datetime.timedelta(days=1))
    )
    if "extend" in services.allowed_moves(letter, signers[services.APPROVER_FOR_KIND[letter.kind]]):
        letter = services.act(
            letter,
            "extend",
            signers[services.APPROVER_FOR_KIND[letter.kind]],
            note="涉及多个部门和转移支付资金，需县政府统筹核实，同意延期。",
        )
    if state == "overdue":
        return letter
    answered_on = min(today, sent_on + datetime.timedelta(days=12))
    short_name = (letter.department.name if letter.department else "县").removeprefix("县")[:2]
    services.record_answer(
        letter,
        answerer,
        data=_answer_text(letter),
        filename="书面答复.txt",
        answered_on=answered_on,
        reference=f"{short_name}函〔{today.year}〕{letter.pk}号",
        signed_by="王德明",
    )
    letter.refresh_from_db()
    if state == "closed":
        letter = services.act(
            letter, "close", staff, note="答复已说明原因并提出整改措施，予以办结。"
        )
    return letter


def load_demo(stdout=None, today=None):
    today = today or timezone.localdate()
    User = get_user_model()
    staff = User.objects.filter(username="staff").first()
    liaison = User.objects.filter(username="liaison").first()
    if staff is None:
        return
    with transaction.atomic():
        signers = ensure_signers()
    if set(signers) != {SignerCapacity.OFFICE_HEAD, SignerCapacity.LEADER}:
        return
    made = []
    for grade, states in PLAN.items():
        alerts = list(
            Alert.objects.filter(grade=grade)
            .exclude(status=AlertStatus.CLOSED)
            .order_by("-year", "-month", "pk")
        )
        # the finance bureau's alerts first, so the demo liaison has letters to answer
        alerts.sort(key=lambda a: 0 if a.department and "财政" in a.department.name else 1)
        # alerts closed since (by staff or other demo loaders) still count as used
        used = Alert.objects.filter(grade=grade, letters__isnull=False).distinct().count()
        fresh = [a for a in alerts if not a.letters.exists()]
        for state, alert in zip(states[used:], fresh, strict=False):
            with transaction.atomic():
                letter = services.create_from_alert(alert, staff)
                letter = _walk(letter, state, staff, signers, liaison, today)
            made.append((letter, state))
    if stdout is not None and made:
        stdout.write(f"预警函件：生成 {len(made)} 件（{'、'.join(s for _l, s in made)}）\n")
