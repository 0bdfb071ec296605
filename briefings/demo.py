"""Demo data: a year of working materials. The quarterly briefings for Q1–Q3 and the half-year
briefing are drafted from the budget data, signed off by the office head through the
workflow and published (第1—4期); the finance bureau's and audit bureau's pushed reports are
uploaded, some late, one missing (overdue); a special-query report awaits sign-off; the Q4
items are upcoming. Idempotent: a second run changes nothing.
"""

import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from cms import roles

from .choices import ItemStatus
from .defaults import ensure_defaults
from .models import (
    BriefingPage,
    DepartmentUpload,
    MaterialType,
    RecipientGroup,
    ScheduledItem,
)
from .services import ensure_index_page, ensure_workflow, plan_year

HEAD = ("head", "刘强（预算工委负责同志）", "Head-2026!")

# (type code, period, days after the due date it was published; negative = early)
PUBLISHED = [
    ("quarterly-briefing", 1, -3),
    ("quarterly-briefing", 2, -1),
    ("half-year-briefing", 1, 2),
    ("quarterly-briefing", 3, -2),
]
# (type code, period, days after the due date of the upload; None = not uploaded)
PUSHED = [
    ("finance-quarterly-analysis", 1, -2),
    ("finance-quarterly-analysis", 2, 4),
    ("finance-quarterly-analysis", 3, -1),
    ("audit-quarterly-report", 1, -5),
    ("audit-quarterly-report", 2, 6),
    ("audit-quarterly-report", 3, None),
]
MONTHLY_TABLES = ["four-budgets-tables", "department-execution-tables"]


def _head_user():
    User = get_user_model()
    username, name, password = HEAD
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "display_name": name,
            "organisation": "县人大常委会预算工委",
            "email": f"{username}@rd.local",
        },
    )
    if created:
        user.set_password(password)
        user.save()
        user.groups.add(Group.objects.get(name=roles.STAFF))
    return user


def _aware(day: datetime.date, hour=10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 0)))


def _publish_through_workflow(page, drafter, head):
    workflow = page.get_workflow()
    workflow.start(page, drafter)
    page.refresh_from_db()
    state = page.current_workflow_task_state
    state.task.specific.on_action(state, head, "approve", comment="同意印发。")


# The demo deputies' own choices (accounts in cms.demo): username → [(type code, channel)]
DEMO_SUBSCRIPTIONS = {
    "member1": [("quarterly-briefing", "inbox"), ("quarterly-briefing", "email")],
    "member2": [("half-year-briefing", "email")],  # e-mail only: not in the inbox
}


def _subscriptions():
    from . import subscriptions

    User = get_user_model()  # noqa: N806
    for username, wanted in DEMO_SUBSCRIPTIONS.items():
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None or not subscriptions.may_subscribe(user):
            continue
        current = subscriptions.choices_of(user)
        for code, channel in wanted:
            material_type = MaterialType.objects.get(code=code)
            if (material_type.pk, channel) not in current:
                subscriptions.subscribe(user, material_type, channel)


def _briefings(year, drafter, head, stdout):
    from .drafting import create_draft

    published = 0
    for code, period, offset in PUBLISHED:
        material_type = MaterialType.objects.get(code=code)
        page, created = create_draft(drafter, material_type, year, period)
        if page.live or not created:
            continue
        page.editor_note = "本期简报根据县财政局报送的预算执行数据编写，数据截至期末。"
        page.save_revision(user=drafter)
        _publish_through_workflow(page, drafter, head)
        page.refresh_from_db()
        item = ScheduledItem.objects.filter(
            material_type=material_type, year=year, period=period
        ).first()
        if item is not None:
            when = _aware(item.due_date + datetime.timedelta(days=offset))
            BriefingPage.objects.filter(pk=page.pk).update(
                first_published_at=when, last_published_at=when
            )
            ScheduledItem.objects.filter(pk=item.pk).update(
                done_at=when, is_late=offset > 0, status=ItemStatus.DONE, briefing=page
            )
        published += 1
    if stdout and published:
        stdout.write(f"工作资料：发布简报 {published} 期")


def _awaiting_sign_off(year, drafter):
    material_type = MaterialType.objects.get(code="special-query-report")
    if BriefingPage.objects.filter(material_type=material_type, year=year).exists():
        return
    index = ensure_index_page()
    page = BriefingPage(
        title=f"关于{year}年教育支出执行情况的专项查询分析报告",
        slug=f"special-query-{year}-education",
        material_type=material_type,
        year=year,
        period=0,
        period_label=f"{year}年1—10月",
        body=[
            ("heading", "查询情况"),
            (
                "paragraph",
                "<p>根据常委会工作安排，预算工委通过联网监督系统对教育支出执行情况进行了专项查询。</p>",
            ),
            ("heading", "存在的问题"),
            ("paragraph", "<p>部分学校项目支出进度偏慢，年底突击支出风险较大。</p>"),
        ],
        live=False,
    )
    index.add_child(instance=page)
    page.save_revision(user=drafter)
    page.get_workflow().start(page, drafter)


def _txt(title, department, body) -> SimpleUploadedFile:
    text = f"{title}\n\n报送单位：{department}\n\n{body}\n"
    return SimpleUploadedFile(f"{title}.txt", text.encode("utf-8"), content_type="text/plain")


def _upload(item, user, offset, body):
    from .uploads import upload_material

    if item is None or item.uploads.exists():
        return 0
    department = item.material_type.responsible_department
    upload = upload_material(user, item, _txt(item.title, department.name, body))
    when = _aware(item.due_date + datetime.timedelta(days=offset), hour=16)
    DepartmentUpload.objects.filter(pk=upload.pk).update(uploaded_at=when, is_late=offset > 0)
    ScheduledItem.objects.filter(pk=item.pk).update(done_at=when, is_late=offset > 0)
    return 1


def _pushed(year, month, liaison, staff):
    count = 0
    for code, period, offset in PUSHED:
        item = ScheduledItem.objects.filter(
            material_type__code=code, year=year, period=period
        ).first()
        if offset is None or item is None or item.due_date >= timezone.localdate():
            continue
        department = item.material_type.responsible_department
        user = (
            liaison if department and department.liaisons.filter(pk=liaison.pk).exists() else staff
        )
        count += _upload(
            item,
            user,
            offset,
            "一、预算执行总体情况\n本季度一般公共预算支出进度总体平稳，部分单位项目支出进度偏慢。\n"
            "二、存在的问题\n项目前期工作不充分，资金拨付滞后。\n三、下一步工作\n加快支出进度，规范预算执行。",
        )
    for code in MONTHLY_TABLES:
        for period in range(1, month + 1):
            item = ScheduledItem.objects.filter(
                material_type__code=code, year=year, period=period
            ).first()
            if item is None or item.due_date >= timezone.localdate():
                continue
            offset = 3 if period in (4, 8) else -1  # April and August came in late
            count += _upload(
                item,
                liaison,
                offset,
                f"{year}年{period}月预算执行分析表（一般公共预算、政府性基金预算、国有资本经营预算、"
                "社会保险基金预算）。",
            )
    return count


def load_demo_briefings(stdout=None, today=None):
    from budget.demo import demo_period

    ensure_defaults()
    year, month = demo_period(today)
    User = get_user_model()
    drafter = User.objects.filter(username="staff").first()
    liaison = User.objects.filter(username="liaison").first()
    if drafter is None:
        return
    with transaction.atomic():
        head = _head_user()
        ensure_workflow(head)
        deputy = User.objects.filter(username="deputy").first()
        if deputy is not None:  # so the demo deputy finds the issues in the inbox
            RecipientGroup.objects.get(name="县人大常委会领导、委员").members.add(deputy)
        _subscriptions()  # before drafting: the subscribers join the default 印送
        plan_year(year)
        _briefings(year, drafter, head, stdout)
        _awaiting_sign_off(year, drafter)
        if liaison is not None:
            uploaded = _pushed(year, month, liaison, drafter)
            if stdout and uploaded:
                stdout.write(f"工作资料：部门报送材料 {uploaded} 份")
