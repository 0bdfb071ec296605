import time

import pytest
from django.utils import timezone

from briefings.demo import load_demo_briefings
from briefings.models import BriefingPage, DepartmentUpload, MaterialSubscription, ScheduledItem
from budget.demo import load_demo as load_budget_demo
from cms.demo import create_demo_accounts
from cms.notifications.models import Message

pytestmark = pytest.mark.django_db


def test_demo_year_of_materials_is_idempotent():
    create_demo_accounts()
    load_budget_demo()
    started = time.monotonic()
    load_demo_briefings()
    elapsed = time.monotonic() - started
    year = timezone.localdate().year
    live = BriefingPage.objects.live().order_by("issue_number")
    assert [(p.material_type.code, p.period, p.issue_number) for p in live] == [
        ("quarterly-briefing", 1, 1),
        ("quarterly-briefing", 2, 2),
        ("half-year-briefing", 1, 3),
        ("quarterly-briefing", 3, 4),
    ]
    pushed_to_deputy = Message.objects.filter(recipient__username="deputy", category="briefings")
    assert pushed_to_deputy.count() == 4
    # the demo deputies' subscriptions: member1 is on the quarterly issues' 印送 and hears of
    # them in the inbox; member2 chose the half-year one by e-mail only (not in the inbox)
    quarterly = live.filter(material_type__code="quarterly-briefing")
    assert all(p.recipient_readers.filter(username="member1").exists() for p in quarterly)
    member1 = Message.objects.for_user(quarterly[0].recipient_readers.get()).filter(
        category="briefings"
    )
    assert member1.count() == 3
    half = live.get(material_type__code="half-year-briefing")
    assert half.recipient_readers.filter(username="member2").exists()
    member2 = Message.objects.filter(recipient__username="member2", category="briefings")
    assert member2.count() == 1 and not member2.get().in_inbox
    subscriptions = MaterialSubscription.objects.filter(status="subscribed").count()
    awaiting = BriefingPage.objects.get(live=False)
    assert awaiting.workflow_in_progress and awaiting.issue_number is None
    assert DepartmentUpload.objects.filter(is_late=True).exists()
    assert DepartmentUpload.objects.filter(is_late=False).exists()
    assert ScheduledItem.objects.filter(
        material_type__code="audit-quarterly-report", period=3, status="open"
    ).exists()  # never uploaded: overdue
    q4 = ScheduledItem.objects.get(material_type__code="quarterly-briefing", year=year, period=4)
    assert q4.status == "open" and q4.due_date > timezone.localdate()
    counts = (
        BriefingPage.objects.count(),
        DepartmentUpload.objects.count(),
        ScheduledItem.objects.count(),
    )
    load_demo_briefings()
    assert (
        BriefingPage.objects.count(),
        DepartmentUpload.objects.count(),
        ScheduledItem.objects.count(),
    ) == counts
    assert MaterialSubscription.objects.filter(status="subscribed").count() == subscriptions == 3
    assert elapsed < 30
