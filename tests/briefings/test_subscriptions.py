"""Push to deputies (issue 17 item 8): readers choose kinds of material and channels; the
department's scheduled upload tells them once; the default 印送 takes the subscribers; the
published briefing reaches them through the channels they chose."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from briefings import drafting, subscriptions
from briefings.choices import SubscriptionChannel, SubscriptionStatus
from briefings.models import (
    BriefingEvent,
    MaterialSubscription,
    MaterialType,
    ScheduledItem,
    SubscriptionEvent,
)
from briefings.services import can_read_briefing, plan_year
from briefings.uploads import SUBSCRIBERS_NOTIFIED, upload_material
from cms import roles
from cms.notifications.models import Message
from cms.usage.models import AppendOnlyError

from .conftest import approve, make_briefing

pytestmark = pytest.mark.django_db

INBOX, EMAIL = SubscriptionChannel.INBOX, SubscriptionChannel.EMAIL


@pytest.fixture
def member(make_user):
    """A deputy's own account (人大代表): no query seat."""
    return make_user(roles.DEPUTY_MEMBER, username="member", email="member@rd.local")


@pytest.fixture
def half_year():
    return MaterialType.objects.get(code="half-year-briefing")


@pytest.fixture
def analysis(departments):
    """The finance bureau's quarterly analysis, pushed by the department on schedule."""
    material_type = MaterialType.objects.get(code="finance-quarterly-analysis")
    material_type.responsible_department = departments["finance"]
    material_type.save()
    plan_year(2026, [material_type])
    return material_type


# --- transitions and events ----------------------------------------------------------------


def test_subscribe_and_unsubscribe_follow_the_table_and_leave_events(member, quarterly):
    subscription = subscriptions.subscribe(member, quarterly, INBOX)
    assert subscription.status == SubscriptionStatus.SUBSCRIBED
    with pytest.raises(ValidationError, match="不能改为"):
        subscriptions.subscribe(member, quarterly, INBOX)
    with pytest.raises(ValidationError, match="不能改为"):
        subscriptions.unsubscribe(member, quarterly, EMAIL)  # never chosen
    subscriptions.unsubscribe(member, quarterly, INBOX)
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.UNSUBSCRIBED
    events = list(SubscriptionEvent.objects.filter(subscription=subscription))
    assert [(e.action, e.from_status, e.to_status) for e in events] == [
        ("订阅", "unsubscribed", "subscribed"),
        ("退订", "subscribed", "unsubscribed"),
    ]
    assert events[0].actor == member and "站内消息" in events[0].note
    # the failed attempts left no event; the rows cannot be changed or removed
    assert SubscriptionEvent.objects.count() == 2
    with pytest.raises(AppendOnlyError):
        events[0].delete()
    assert set(subscriptions.TRANSITIONS) == set(SubscriptionStatus)


def test_who_may_choose_what(member, quarterly, analysis, make_user, liaison_user):
    # a deputy's own account: the routine briefings only
    offered = set(subscriptions.offered_types(member).values_list("code", flat=True))
    assert {"quarterly-briefing", "half-year-briefing", "annual-report"} <= offered
    assert analysis.code not in offered and "special-query-report" not in offered
    with pytest.raises(PermissionDenied):
        subscriptions.subscribe(member, analysis, INBOX)
    # a query seat reads everything and may choose everything active
    seat = make_user(roles.DEPUTY, username="seat")
    assert (
        subscriptions.offered_types(seat).count()
        == MaterialType.objects.filter(is_active=True).count()
    )
    subscriptions.subscribe(seat, analysis, EMAIL)
    # a department liaison and an account without a role have no access to materials
    nobody = make_user(None, username="nobody")
    for user in (liaison_user, nobody):
        assert not subscriptions.may_subscribe(user)
        with pytest.raises(PermissionDenied):
            subscriptions.subscribe(user, quarterly, INBOX)
    assert not MaterialSubscription.objects.filter(user__in=[member, liaison_user, nobody])
    # withdrawing is always possible, also when the kind is no longer offered
    analysis.is_active = False
    analysis.save()
    subscriptions.set_choices(seat, set())
    assert not subscriptions.choices_of(seat)


# --- the page --------------------------------------------------------------------------------


def test_page_shows_and_changes_only_the_readers_own_choices(client, member, quarterly, make_user):
    other = make_user(roles.DEPUTY_MEMBER, username="other")
    subscriptions.subscribe(other, quarterly, INBOX)
    client.force_login(member)
    url = reverse("briefings:subscriptions")
    page = client.get(url).content.decode()
    assert "我的资料订阅" in page and "季度简报" in page and "电子邮件" in page
    assert "部门报送材料" not in page  # not offered to this role, nor linked
    response = client.post(
        url, {"choice": [f"{quarterly.pk}:email"], "user": other.pk}, follow=True
    )
    assert "新订阅 1 项" in response.content.decode()
    assert subscriptions.choices_of(member) == {(quarterly.pk, "email")}
    assert subscriptions.choices_of(other) == {(quarterly.pk, "inbox")}  # untouched
    # unticking everything unsubscribes
    client.post(url, {})
    assert subscriptions.choices_of(member) == set()
    assert SubscriptionEvent.objects.filter(subscription__user=member).count() == 2
    # the page is linked from the deputy's navigation (工作资料 → the library, or this page
    # when there is none yet), from the library page and from the section's own menu
    from django.test import RequestFactory

    from briefings.services import ensure_index_page
    from cms.nav import nav_for

    request = RequestFactory().get("/")
    request.user = member
    assert [i.url for i in nav_for(request) if i.label == "工作资料"] == [url]
    library = ensure_index_page()
    assert [i.url for i in nav_for(request) if i.label == "工作资料"] == [library.url]
    assert url in client.get(library.url).content.decode()
    assert url in client.get(url).content.decode()


def test_page_refuses_kinds_not_offered_and_roles_without_access(
    client, member, analysis, liaison_user, make_user
):
    client.force_login(member)
    url = reverse("briefings:subscriptions")
    response = client.post(url, {"choice": [f"{analysis.pk}:inbox"]})
    assert response.status_code == 403
    assert client.post(url, {"choice": ["x:inbox"]}).status_code == 403
    assert not MaterialSubscription.objects.exists()
    for user in (liaison_user, make_user(None, username="norole")):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 403 and "无权访问" in response.content.decode()
        assert client.post(url, {"choice": [f"{analysis.pk}:inbox"]}).status_code == 403
    client.logout()
    assert client.get(url).status_code == 302  # to the login page


def test_page_post_needs_the_csrf_token(member, quarterly):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(member)
    url = reverse("briefings:subscriptions")
    response = browser.post(url, {"choice": [f"{quarterly.pk}:inbox"]})
    assert response.status_code == 403
    assert not MaterialSubscription.objects.exists()
    token = browser.get(url).context["csrf_token"]
    response = browser.post(
        url, {"choice": [f"{quarterly.pk}:inbox"], "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert subscriptions.choices_of(member) == {(quarterly.pk, "inbox")}


# --- channels ---------------------------------------------------------------------------------


def test_email_only_goes_to_the_mail_not_the_inbox(
    client, member, quarterly, make_user, django_capture_on_commit_callbacks
):
    both = make_user(roles.DEPUTY_MEMBER, username="both", email="both@rd.local")
    inbox_only = make_user(roles.DEPUTY_MEMBER, username="inboxonly", email="io@rd.local")
    subscriptions.subscribe(member, quarterly, EMAIL)
    for channel in (INBOX, EMAIL):
        subscriptions.subscribe(both, quarterly, channel)
    subscriptions.subscribe(inbox_only, quarterly, INBOX)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        sent = subscriptions.deliver(
            subscriptions.channels_by_reader(quarterly), "测试推送", url="/briefings-library/"
        )
    assert sent == 3
    assert sorted(m.to[0] for m in mail.outbox) == ["both@rd.local", "member@rd.local"]
    # the e-mail-only notice is recorded as mailed but not in the inbox
    hidden = Message.objects.get(recipient=member)
    assert not hidden.in_inbox and hidden.emailed_at is not None
    assert not Message.objects.for_user(member).exists()
    client.force_login(member)
    assert "测试推送" not in client.get(reverse("notifications:inbox")).content.decode()
    assert client.get(reverse("notifications:detail", args=[hidden.pk])).status_code == 404
    assert Message.objects.for_user(both).count() == 1
    assert Message.objects.get(recipient=inbox_only).emailed_at is None


# --- department uploads ----------------------------------------------------------------------


def test_department_upload_tells_subscribers_once(
    analysis, departments, make_user, member, django_capture_on_commit_callbacks
):
    liaison = make_user(roles.LIAISON, username="finliaison")
    departments["finance"].liaisons.add(liaison)
    reader = make_user(roles.DEPUTY, username="reader", email="reader@rd.local")
    subscriptions.subscribe(reader, analysis, INBOX)
    subscriptions.subscribe(reader, analysis, EMAIL)
    item = ScheduledItem.objects.get(material_type=analysis, year=2026, period=1)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        upload = upload_material(
            liaison, item, SimpleUploadedFile("一季度分析.txt", "一季度支出进度偏慢。".encode())
        )
    message = Message.objects.get(recipient=reader)
    assert "已报送" in message.subject and message.url == upload.get_absolute_url()
    assert [m.to for m in mail.outbox] == [["reader@rd.local"]]
    # a replacement upload for the same item is not announced again
    with django_capture_on_commit_callbacks(execute=True):
        upload_material(
            liaison, item, SimpleUploadedFile("一季度分析（修订）.txt", "修订稿。".encode())
        )
    assert Message.objects.filter(recipient=reader).count() == 1 and len(mail.outbox) == 1
    assert item.events.filter(action=SUBSCRIBERS_NOTIFIED).count() == 1
    # the next period's item is announced on its own arrival
    q2 = ScheduledItem.objects.get(material_type=analysis, year=2026, period=2)
    upload_material(liaison, q2, SimpleUploadedFile("二季度.txt", "二季度。".encode()))
    assert Message.objects.filter(recipient=reader).count() == 2
    # nobody else heard of it (the uploading liaison and an unsubscribed deputy)
    assert not Message.objects.filter(recipient__in=[liaison, member], category="briefings")


# --- the default 印送 and the push on publication --------------------------------------------


def test_default_distribution_keeps_the_list_and_adds_subscribers(
    figures, staff_user, quarterly, half_year, member, make_user
):
    bystander = make_user(roles.DEPUTY_MEMBER, username="bystander")
    subscriptions.subscribe(member, quarterly, EMAIL)
    subscriptions.subscribe(member, half_year, INBOX)
    page, _ = drafting.create_draft(staff_user, quarterly, 2026, 3)
    assert set(page.recipient_groups.all()) == set(quarterly.default_recipient_groups.all())
    assert page.recipient_groups.exists()
    assert list(page.recipient_readers.all()) == [member]
    assert any(name.startswith("订阅读者") for name in page.recipient_names())
    half, _ = drafting.create_draft(staff_user, half_year, 2026, 2)
    assert set(half.recipient_groups.all()) == set(half_year.default_recipient_groups.all())
    assert list(half.recipient_readers.all()) == [member]
    assert bystander not in half.recipient_readers.all()
    # a subscription made after the draft does not change that draft's list
    subscriptions.subscribe(bystander, quarterly, INBOX)
    page.refresh_from_db()
    assert bystander not in page.recipient_readers.all()


def test_draft_is_saved_once_with_its_distribution_in_the_revision(
    figures, staff_user, quarterly, member
):
    """The 印送 lists go in with the page's first save (no second save, so one search-index
    write fewer in the drafting request) and are in the revision the editor opens."""
    from django.db.models.signals import post_save

    from briefings.models import BriefingPage

    subscriptions.subscribe(member, quarterly, INBOX)
    saves = []

    def count(sender, instance, **kwargs):
        saves.append(kwargs.get("update_fields"))

    post_save.connect(count, sender=BriefingPage, dispatch_uid="test-draft-saves")
    try:
        page, _ = drafting.create_draft(staff_user, quarterly, 2026, 3)
    finally:
        post_save.disconnect(dispatch_uid="test-draft-saves", sender=BriefingPage)
    # add_child's insert, then save_revision's update of the revision pointers
    assert len(saves) == 2 and saves[0] is None and saves[1] is not None
    page = BriefingPage.objects.get(pk=page.pk)
    defaults = set(quarterly.default_recipient_groups.all())
    assert defaults and set(page.recipient_groups.all()) == defaults
    assert set(page.recipient_departments.all()) == set(
        quarterly.default_recipient_departments.all()
    )
    latest = page.get_latest_revision_as_object()
    assert set(latest.recipient_groups.all()) == defaults
    assert list(latest.recipient_readers.all()) == [member]


def test_published_briefing_reaches_subscribers_through_their_channels(
    workflow, quarterly, drafter, head, member, make_user, django_capture_on_commit_callbacks
):
    seat = make_user(roles.DEPUTY, username="seat", email="seat@rd.local")
    late = make_user(roles.DEPUTY_MEMBER, username="late", email="late@rd.local")
    subscriptions.subscribe(member, quarterly, EMAIL)  # e-mail only
    subscriptions.subscribe(seat, quarterly, INBOX)  # inbox only, reads everything anyway
    page = make_briefing(quarterly, period=3)
    page.recipient_readers.set([member])
    page.save_revision()
    # subscribed after the list was made: not on it, may not read it, not told
    subscriptions.subscribe(late, quarterly, INBOX)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        page = approve(page, drafter, head)
    assert can_read_briefing(member, page) and not can_read_briefing(late, page)
    assert not Message.objects.for_user(member).exists()
    assert "member@rd.local" in [m.to[0] for m in mail.outbox]
    assert Message.objects.for_user(seat).filter(category="briefings").count() == 1
    assert "seat@rd.local" not in [m.to[0] for m in mail.outbox]
    assert not Message.objects.filter(recipient=late).exists()
    assert BriefingEvent.objects.filter(page=page, action="印送", note__contains="订阅读者 2 人")
