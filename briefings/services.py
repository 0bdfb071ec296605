"""The rules of working materials: the schedule and its reminders, who signs off, 第×期
numbering, what happens on publication, and who may read what.

Scheduled items move through ONE table of transitions (TRANSITIONS); every change writes a
ScheduleEvent, every step of a briefing a BriefingEvent.
"""

from __future__ import annotations

import calendar
import datetime
import logging

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from wagtail.models import Page, Site, TaskState

from budget.departments import department_ids_for, is_department_scoped
from cms import roles
from cms.notifications.services import notify
from cms.sequences import locked_counter
from cms.workdays.services import add_workdays

from . import subscriptions
from .choices import Cadence, ItemState, ItemStatus, ResponsibleKind
from .models import (
    MANAGE_PERMISSION,
    READ_PERMISSION,
    BriefingEvent,
    BriefingIndexPage,
    BriefingPage,
    HeadApprovalTask,
    IssueCounter,
    MaterialType,
    ScheduledItem,
    ScheduleEvent,
)

log = logging.getLogger(__name__)

QUARTER_NAMES = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}
HALF_NAMES = {1: "上半年", 2: "下半年"}

# ScheduledItem.status: from → allowed targets
TRANSITIONS = {
    ItemStatus.OPEN: {ItemStatus.DONE, ItemStatus.CANCELLED},
    ItemStatus.DONE: {ItemStatus.OPEN},  # reopened when its briefing is unpublished
    ItemStatus.CANCELLED: {ItemStatus.OPEN},
}


def remind_workdays_before() -> int:
    return int(getattr(settings, "BRIEFINGS_REMIND_WORKDAYS_BEFORE", 3))


def overdue_repeat_days() -> int:
    return int(getattr(settings, "BRIEFINGS_OVERDUE_REPEAT_DAYS", 7))


# --- periods -------------------------------------------------------------------------------


def _month_end(year: int, month: int) -> datetime.date:
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def periods_for(cadence: str, year: int) -> list[tuple[int, datetime.date, datetime.date, str]]:
    """(period, first day, last day, label) of each period of *year*; none for 不定期."""
    if cadence == Cadence.MONTHLY:
        return [
            (m, datetime.date(year, m, 1), _month_end(year, m), f"{year}年{m}月")
            for m in range(1, 13)
        ]
    if cadence == Cadence.QUARTERLY:
        return [
            (q, datetime.date(year, 3 * q - 2, 1), _month_end(year, 3 * q), f"{year}年{name}")
            for q, name in QUARTER_NAMES.items()
        ]
    if cadence == Cadence.HALF_YEAR:
        return [
            (h, datetime.date(year, 6 * h - 5, 1), _month_end(year, 6 * h), f"{year}年{name}")
            for h, name in HALF_NAMES.items()
        ]
    if cadence == Cadence.ANNUAL:
        return [(1, datetime.date(year, 1, 1), datetime.date(year, 12, 31), f"{year}年度")]
    return []


def period_label(cadence: str, year: int, period: int) -> str:
    for number, _start, _end, label in periods_for(cadence, year):
        if number == period:
            return label
    return f"{year}年"


def period_end_month(cadence: str, period: int) -> int:
    """The last month a period covers: 第三季度 → 9, 上半年 → 6."""
    return {
        Cadence.MONTHLY: period,
        Cadence.QUARTERLY: 3 * period,
        Cadence.HALF_YEAR: 6 * period,
        Cadence.ANNUAL: 12,
    }.get(cadence, 12)


def due_date_for(material_type: MaterialType, period_end: datetime.date):
    """N working days after the period ends (a DueDate: .provisional when the year's
    holiday notice is not in the calendar yet)."""
    return add_workdays(period_end, material_type.due_workdays)


# --- the schedule ------------------------------------------------------------------------


@transaction.atomic
def plan_year(year: int, material_types=None) -> list[ScheduledItem]:
    """Create the missing items of *year* for every active type with a cadence; refresh
    provisional due dates of open items (the holiday notice may have arrived since)."""
    created = []
    if material_types is None:
        material_types = MaterialType.objects.filter(is_active=True)
    types = material_types
    for material_type in types:
        for period, start, end, label in periods_for(material_type.cadence, year):
            due = due_date_for(material_type, end)
            item = ScheduledItem.objects.filter(
                material_type=material_type, year=year, period=period
            ).first()
            if item is None:
                item = ScheduledItem.objects.create(
                    material_type=material_type,
                    year=year,
                    period=period,
                    title=f"{label}{material_type.name}",
                    period_start=start,
                    period_end=end,
                    due_date=due.as_date(),
                    due_provisional=due.provisional,
                )
                ScheduleEvent.objects.create(
                    item=item,
                    action="列入计划",
                    note=f"截止日期 {due:%Y-%m-%d}" + ("（暂定）" if due.provisional else ""),
                )
                created.append(item)
            elif item.status == ItemStatus.OPEN and (
                item.due_provisional or item.due_date != due.as_date()
            ):
                if item.due_date != due.as_date() or item.due_provisional != due.provisional:
                    ScheduleEvent.objects.create(
                        item=item,
                        action="调整截止日期",
                        note=f"{item.due_date:%Y-%m-%d} → {due:%Y-%m-%d}"
                        + ("（暂定）" if due.provisional else ""),
                    )
                    item.due_date = due.as_date()
                    item.due_provisional = due.provisional
                    item.save(update_fields=["due_date", "due_provisional"])
    return created


@transaction.atomic
def add_ad_hoc_item(material_type, title, due_date, user=None) -> ScheduledItem:
    """An item without a cadence (专项查询分析报告: as soon as the query is done)."""
    if not title.strip():
        raise ValidationError("请填写事项名称。")
    item = ScheduledItem.objects.create(
        material_type=material_type,
        year=due_date.year,
        period=0,
        title=title.strip(),
        period_start=due_date,
        period_end=due_date,
        due_date=due_date,
    )
    ScheduleEvent.objects.create(item=item, actor=user, action="列入计划", note="不定期事项")
    return item


def periods_in_review() -> set[tuple[int, int, int]]:
    """(material type, year, period) of every briefing submitted to the head and not yet
    approved or sent back: its schedule item says 审核中, not 未到期 / 即将到期."""
    from wagtail.models import WorkflowState

    page_ids = [
        int(pk)
        for pk in WorkflowState.objects.filter(
            status=WorkflowState.STATUS_IN_PROGRESS,
            base_content_type=ContentType.objects.get_for_model(Page),
        ).values_list("object_id", flat=True)
        if str(pk).isdigit()
    ]
    if not page_ids:
        return set()
    return set(
        BriefingPage.objects.filter(pk__in=page_ids).values_list(
            "material_type_id", "year", "period"
        )
    )


def period_key(item: ScheduledItem) -> tuple[int, int, int]:
    return (item.material_type_id, item.year, item.period)


def item_state(item: ScheduledItem, today=None, in_review: set | None = None) -> str:
    """The state the schedule shows. *in_review* (``periods_in_review()``) may be passed by a
    caller that asks for many items; an overdue item stays 已逾期 while its briefing is reviewed."""
    today = today or timezone.localdate()
    if item.status == ItemStatus.DONE:
        return ItemState.DONE
    if item.status == ItemStatus.CANCELLED:
        return ItemState.CANCELLED
    if item.due_date < today:
        return ItemState.OVERDUE
    if in_review is None:
        in_review = periods_in_review()
    if period_key(item) in in_review:
        return ItemState.IN_REVIEW
    if add_workdays(today, remind_workdays_before()).as_date() >= item.due_date:
        return ItemState.DUE
    return ItemState.UPCOMING


def _in_review_q(in_review) -> Q:
    condition = Q(pk__in=[])
    for material_type_id, year, period in in_review:
        condition |= Q(material_type_id=material_type_id, year=year, period=period)
    return condition


def items_in_state(state: str, today=None, queryset=None):
    """The schedule list's filters as querysets."""
    today = today or timezone.localdate()
    qs = queryset if queryset is not None else ScheduledItem.objects.all()
    qs = qs.select_related("material_type", "material_type__responsible_department")
    soon = add_workdays(today, remind_workdays_before()).as_date()
    if state == ItemState.DONE:
        return qs.filter(status=ItemStatus.DONE).order_by("-done_at")
    if state == ItemState.CANCELLED:
        return qs.filter(status=ItemStatus.CANCELLED)
    open_items = qs.filter(status=ItemStatus.OPEN)
    if state == ItemState.OVERDUE:
        return open_items.filter(due_date__lt=today)
    reviewed = _in_review_q(periods_in_review())
    if state == ItemState.IN_REVIEW:
        return open_items.filter(reviewed, due_date__gte=today)
    if state == ItemState.DUE:
        return open_items.filter(due_date__gte=today, due_date__lte=soon).exclude(reviewed)
    if state == ItemState.UPCOMING:
        return open_items.filter(due_date__gt=soon).exclude(reviewed)
    raise ValueError(state)


def _transition(item: ScheduledItem, target: str, user=None, action="", note="") -> None:
    if target not in TRANSITIONS[ItemStatus(item.status)]:
        raise ValidationError(
            f"“{item}”当前为“{item.get_status_display()}”，不能改为“{ItemStatus(target).label}”。"
        )
    item.status = target
    ScheduleEvent.objects.create(
        item=item, actor=user, action=action or ItemStatus(target).label, note=note
    )


@transaction.atomic
def mark_done(item: ScheduledItem, user=None, when=None, note="", briefing=None) -> ScheduledItem:
    item = ScheduledItem.objects.select_for_update().get(pk=item.pk)
    if item.status == ItemStatus.DONE:
        return item
    when = when or timezone.now()
    late = timezone.localtime(when).date() > item.due_date
    _transition(
        item,
        ItemStatus.DONE,
        user,
        action="完成",
        note=(note + ("（逾期）" if late else "")).strip(),
    )
    item.done_at = when
    item.is_late = late
    if briefing is not None:
        item.briefing = briefing
    item.save()
    return item


@transaction.atomic
def reopen(item: ScheduledItem, user=None, note="") -> ScheduledItem:
    item = ScheduledItem.objects.select_for_update().get(pk=item.pk)
    _transition(item, ItemStatus.OPEN, user, action="重新打开", note=note)
    item.done_at = None
    item.is_late = False
    item.save()
    return item


@transaction.atomic
def cancel(item: ScheduledItem, user=None, note="") -> ScheduledItem:
    item = ScheduledItem.objects.select_for_update().get(pk=item.pk)
    _transition(item, ItemStatus.CANCELLED, user, action="取消", note=note)
    item.save()
    return item


def responsible_users(item: ScheduledItem) -> list:
    """Who is reminded: the department's liaisons, or the staff (工作人员)."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    material_type = item.material_type
    if material_type.responsible_kind == ResponsibleKind.DEPARTMENT:
        department = material_type.responsible_department
        if department is None:
            return []
        return list(department.liaisons.filter(is_active=True).order_by("pk"))
    return list(User.objects.filter(is_active=True, groups__name=roles.STAFF).order_by("pk"))


def _reminder_url(item: ScheduledItem) -> str:
    from django.urls import reverse

    if item.material_type.responsible_kind == ResponsibleKind.DEPARTMENT:
        return reverse("briefings:uploads")
    return reverse("briefings:schedule")


def send_reminders(today=None) -> int:
    """Remind before the due date (once) and when overdue (every few days). Returns the
    number of items reminded."""
    today = today or timezone.localdate()
    soon = add_workdays(today, remind_workdays_before()).as_date()
    count = 0
    open_items = ScheduledItem.objects.filter(status=ItemStatus.OPEN).select_related(
        "material_type", "material_type__responsible_department"
    )
    for item in open_items.filter(due_date__gte=today, due_date__lte=soon, reminded_on=None):
        with transaction.atomic():
            people = responsible_users(item)
            notify(
                people,
                f"即将到期：{item.title}",
                body=f"“{item.title}”应于 {item.due_date:%Y年%m月%d日} 前完成"
                + ("（截止日期暂定，当年节假日安排尚未录入）。" if item.due_provisional else "。"),
                url=_reminder_url(item),
                category="briefings",
            )
            item.reminded_on = today
            item.save(update_fields=["reminded_on"])
            ScheduleEvent.objects.create(
                item=item, action="到期提醒", note=f"提醒 {len(people)} 人"
            )
            count += 1
    repeat = datetime.timedelta(days=overdue_repeat_days())
    overdue = open_items.filter(due_date__lt=today).filter(
        Q(overdue_reminded_on=None) | Q(overdue_reminded_on__lte=today - repeat)
    )
    for item in overdue:
        with transaction.atomic():
            people = responsible_users(item)
            notify(
                people,
                f"已逾期：{item.title}",
                body=f"“{item.title}”截止日期为 {item.due_date:%Y年%m月%d日}，目前尚未完成。",
                url=_reminder_url(item),
                category="briefings",
            )
            item.overdue_reminded_on = today
            item.save(update_fields=["overdue_reminded_on"])
            ScheduleEvent.objects.create(
                item=item, action="逾期提醒", note=f"提醒 {len(people)} 人"
            )
            count += 1
    return count


def plan_and_remind(today=None) -> dict:
    today = today or timezone.localdate()
    # last year's annual items fall due in this year
    annual = MaterialType.objects.filter(is_active=True, cadence=Cadence.ANNUAL)
    created = plan_year(today.year - 1, annual) + plan_year(today.year)
    reminded = send_reminders(today)
    return {"planned": len(created), "reminded": reminded}


# --- sign-off (负责同志) -----------------------------------------------------------------


def sign_off_tasks():
    return HeadApprovalTask.objects.filter(active=True)


def is_sign_off_person(user) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return sign_off_tasks().filter(approver=user).exists()


def _approved_states(page):
    ct = ContentType.objects.get_for_model(HeadApprovalTask)
    return TaskState.objects.filter(
        workflow_state__object_id=str(page.pk),
        workflow_state__base_content_type=ContentType.objects.get_for_model(Page),
        task__content_type=ct,
        status=TaskState.STATUS_APPROVED,
    )


def revision_is_approved(page, revision) -> bool:
    """The head's approval covers every revision that existed when it was given: an edit
    made after approval needs approval again."""
    if revision is None:
        return False
    return _approved_states(page).filter(finished_at__gte=revision.created_at).exists()


def _incomplete_confirmed(page, revision) -> bool:
    """The sign-off person confirmed, in the workflow, publishing with incomplete data
    (after the revision being published was made)."""
    from .models import CONFIRMED_INCOMPLETE

    events = BriefingEvent.objects.filter(page_id=page.pk, action=CONFIRMED_INCOMPLETE)
    if revision is not None:
        events = events.filter(at__gte=revision.created_at)
    approvers = set(sign_off_tasks().values_list("approver_id", flat=True))
    return events.filter(actor_id__in=approvers).exists()


def check_may_publish(page, revision, user) -> None:
    """Refuse to publish a briefing the head has not approved. The head's own publish
    counts as approval (it is recorded as such)."""
    specific = getattr(page, "specific", page)
    if getattr(specific, "data_incomplete", False) and not _incomplete_confirmed(page, revision):
        from wagtail.actions.publish_revision import PublishPermissionError

        raise PublishPermissionError(
            f"本期简报的数据截至{specific.data_month}月，未覆盖全期（应至"
            f"{specific.period_end_month}月）：须由负责同志在审批中选择“确认数据截至"
            f"{specific.data_month}月并批准”后才能发布。"
        )
    if revision_is_approved(page, revision):
        return
    if user is not None and is_sign_off_person(user):
        BriefingEvent.objects.create(page_id=page.pk, actor=user, action="负责同志直接签发")
        return
    from wagtail.actions.publish_revision import PublishPermissionError

    raise PublishPermissionError("简报须经负责同志审批后才能发布，请先“提交审核”。")


# --- numbering --------------------------------------------------------------------------


def _lock_counter(year: int) -> IssueCounter:
    return locked_counter(IssueCounter, defaults={"last_number": 0}, year=year)


def assign_issue_number(page_id: int, when=None) -> BriefingPage:
    """Give a published briefing the next 第×期 of its publication year, once. The year's
    counter row is locked for the transaction, so two publications never share a number
    and no number is skipped; a republished page keeps the number it has."""
    with transaction.atomic():
        page = BriefingPage.objects.select_for_update().get(pk=page_id)
        if page.issue_number or not page.material_type.is_briefing_issue:
            return page
        when = when or page.first_published_at or timezone.now()
        year = timezone.localtime(when).year
        counter = _lock_counter(year)
        counter.last_number += 1
        counter.save(update_fields=["last_number"])
        BriefingPage.objects.filter(pk=page.pk).update(
            issue_year=year, issue_number=counter.last_number
        )
        page.issue_year, page.issue_number = year, counter.last_number
        BriefingEvent.objects.create(page=page, action="编号", note=page.issue_label)
    return page


# --- reading ---------------------------------------------------------------------------


def recipients_of(page: BriefingPage) -> list:
    """Everyone the briefing is pushed to: members of its 印送 groups and the liaisons of
    its 印送 departments."""
    people, seen = [], set()
    for group in page.recipient_groups.all():
        for user in group.members.filter(is_active=True):
            if user.pk not in seen:
                seen.add(user.pk)
                people.append(user)
    for department in page.recipient_departments.all():
        for user in department.liaisons.filter(is_active=True):
            if user.pk not in seen:
                seen.add(user.pk)
                people.append(user)
    return people


def readable_briefings(user):
    """Live briefings this user may read: every one for 查询 users, otherwise the ones
    sent to the user's department or distribution group, or to the user as a subscribed
    reader (印送 订阅读者)."""
    live = BriefingPage.objects.live()
    if not getattr(user, "is_authenticated", False):
        return live.none()
    if user.has_perm(READ_PERMISSION):
        return live
    condition = Q(recipient_groups__members=user) | Q(recipient_readers=user)
    if is_department_scoped(user):
        condition |= Q(recipient_departments__in=department_ids_for(user))
    return live.filter(pk__in=BriefingPage.objects.filter(condition).values("pk"))


def can_read_briefing(user, page) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.has_perm(MANAGE_PERMISSION):
        return True  # drafters preview unpublished briefings
    return readable_briefings(user).filter(pk=page.pk).exists()


# --- publication ---------------------------------------------------------------------------


def on_published(page: BriefingPage, user=None) -> None:
    """Number, record, close the scheduled item, push to recipients, order renditions."""
    first_time = not page.events.filter(action="发布").exists()
    page = assign_issue_number(page.pk)
    BriefingEvent.objects.create(
        page=page, actor=user, action="发布" if first_time else "重新发布", note=page.issue_label
    )
    item = ScheduledItem.objects.filter(
        material_type=page.material_type, year=page.year, period=page.period, period__gt=0
    ).first()
    if item is not None and item.status == ItemStatus.OPEN:
        mark_done(item, user=user, when=page.last_published_at, briefing=page)
    if first_time:
        people = recipients_of(page)
        subject = f"{page.material_type.name}：{page.title}（{page.issue_label}）"
        body = f"{page.editor}编印的《{page.title}》已发布，请阅。"
        if people:
            notify(people, subject, body=body, url=page.url or "", category="briefings")
        # subscribed readers not already told as members of the 印送 list, through the
        # channels they chose, if they may read this issue
        told = {user.pk for user in people}
        readers = {
            user: channels
            for user, channels in subscriptions.channels_by_reader(page.material_type).items()
            if user.pk not in told and can_read_briefing(user, page)
        }
        subscriptions.deliver(readers, subject, body=body, url=page.url or "", category="briefings")
        note = f"推送 {len(people)} 人" + (f"，订阅读者 {len(readers)} 人" if readers else "")
        BriefingEvent.objects.create(page=page, action="印送", note=note)
    page_id = page.pk
    revision_id = page.live_revision_id

    def _render():
        from .tasks import render_briefing

        render_briefing.delay(page_id, revision_id)

    transaction.on_commit(_render)


def on_unpublished(page: BriefingPage, user=None) -> None:
    BriefingEvent.objects.create(page=page, actor=user, action="撤回发布", note=page.issue_label)
    for item in ScheduledItem.objects.filter(briefing=page, status=ItemStatus.DONE):
        reopen(item, user=user, note="简报已撤回发布")


# --- the library page ----------------------------------------------------------------------

INDEX_SLUG = "briefings-library"
INDEX_TITLE = "工作资料库"


@transaction.atomic
def ensure_index_page() -> BriefingIndexPage:
    existing = BriefingIndexPage.objects.first()
    if existing:
        return existing
    site = Site.objects.filter(is_default_site=True).first() or Site.objects.first()
    parent = site.root_page if site else Page.get_first_root_node()
    page = BriefingIndexPage(
        title=INDEX_TITLE, slug=INDEX_SLUG, intro="本委季度简报、半年简报、年报和专项报告。"
    )
    parent.add_child(instance=page)
    page.save_revision().publish()
    return page


@transaction.atomic
def ensure_workflow(approver) -> HeadApprovalTask:
    """The sign-off workflow on the library: one step, approved by *approver* only."""
    from wagtail.models import Workflow, WorkflowPage, WorkflowTask

    index = ensure_index_page()
    task = HeadApprovalTask.objects.filter(active=True).first()
    if task is None:
        task = HeadApprovalTask.objects.create(name="负责同志审批", approver=approver)
    workflow, _ = Workflow.objects.get_or_create(name="简报审批")
    WorkflowTask.objects.get_or_create(workflow=workflow, task=task, defaults={"sort_order": 0})
    WorkflowPage.objects.update_or_create(page=index, defaults={"workflow": workflow})
    return task


def may_manage(user) -> bool:
    return getattr(user, "is_authenticated", False) and user.has_perm(MANAGE_PERMISSION)


def require_manager(user) -> None:
    if not may_manage(user):
        raise PermissionDenied("只有工作人员可以管理工作资料。")
