"""Daily reminders (提醒) and overdue lists (逾期清单) of 代表建议.

* An answer due within SUGGESTIONS_REMINDER_DAYS: the lead unit's liaisons and the staff get
  one reminder per due date (``Suggestion.reminded_for`` remembers it; an extension or a
  re-handling resets it).
* Every run: staff receive the list of all overdue items, each unit's liaisons the list of
  their own unit's overdue items (as lead unit).
"""

import datetime
from collections import defaultdict

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from cms.notifications.services import notify

from . import services
from .models import Suggestion


def _line(s: Suggestion) -> str:
    unit = s.lead_unit.name if s.lead_unit_id else "未交办"
    return f"{s.code} {s.title[:40]}（{unit}，期限 {s.effective_due_on:%Y-%m-%d}）"


def run_reminders(today: datetime.date | None = None) -> dict:
    today = today or timezone.localdate()
    staff = services.staff_users()
    reminded = 0
    related = ("term", "session", "lead_unit")
    for s in services.due_soon(today).select_related(*related).order_by("due_on", "pk"):
        due = s.effective_due_on
        if s.reminded_for == due:
            continue
        days = (due - today).days
        subject = f"{s.code} 将于 {due:%Y-%m-%d} 到期（还有 {days} 天）"
        with transaction.atomic():
            notify(
                services.unit_users([s.lead_unit]),
                subject,
                body=f"“{s.title}”请按期书面答复代表。",
                url=services.department_url(s),
                category="代表建议",
            )
            notify(staff, subject, body=s.title, url=s.get_absolute_url(), category="代表建议")
            Suggestion.objects.filter(pk=s.pk).update(reminded_for=due)
        reminded += 1

    late = list(services.overdue(today).select_related(*related).order_by("due_on", "pk"))
    if late and staff:
        notify(
            staff,
            f"代表建议逾期未答复 {len(late)} 件",
            body="\n".join(_line(s) for s in late),
            url=reverse("suggestions:list") + "?overdue=1",
            category="代表建议",
        )
    by_unit = defaultdict(list)
    for s in late:
        if s.lead_unit_id:
            by_unit[s.lead_unit].append(s)
    units_told = 0
    for unit, items in by_unit.items():
        users = services.unit_users([unit])
        if not users:
            continue
        notify(
            users,
            f"{unit.name}：代表建议逾期未答复 {len(items)} 件",
            body="\n".join(_line(s) for s in items),
            url=reverse("suggestions:department") + "?overdue=1",
            category="代表建议",
        )
        units_told += 1
    return {"reminded": reminded, "overdue": len(late), "units_notified": units_told}
