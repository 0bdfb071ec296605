import pytest
from django.urls import reverse
from django.utils import timezone

from cms.notifications.models import Message
from cms.notifications.services import notify

pytestmark = pytest.mark.django_db


def _message(user, subject="消息", url="", read=False):
    return Message.objects.create(
        recipient=user, subject=subject, url=url, read_at=timezone.now() if read else None
    )


def test_inbox_lists_own_messages_unread_first(client, staff_user, deputy_user):
    old_unread = _message(staff_user, "较早的未读消息")
    _message(staff_user, "已读的新消息", read=True)
    _message(deputy_user, "别人的消息")
    client.force_login(staff_user)
    body = client.get("/inbox/").content.decode()
    assert "别人的消息" not in body
    assert body.index(old_unread.subject) < body.index("已读的新消息")
    assert "1 条未读" in body


def test_inbox_paginates(client, staff_user):
    Message.objects.bulk_create(
        [Message(recipient=staff_user, subject=f"第{i}条") for i in range(25)]
    )
    client.force_login(staff_user)
    first = client.get("/inbox/").content.decode()
    assert "第 1 / 2 页" in first
    second = client.get("/inbox/?page=2").content.decode()
    assert second.count("is-unread") == 5


def test_open_marks_read_and_redirects_to_site_path(client, staff_user):
    message = _message(staff_user, url="/calendar/?month=2026-10")
    client.force_login(staff_user)
    response = client.get(f"/inbox/{message.pk}/open/")
    assert response.status_code == 302
    assert response["Location"] == "/calendar/?month=2026-10"
    message.refresh_from_db()
    assert message.read_at is not None


def test_open_never_redirects_off_site(client, staff_user):
    # Written around the service (which refuses such links) to prove the view checks too.
    message = _message(staff_user, url="https://example.com/")
    client.force_login(staff_user)
    response = client.get(f"/inbox/{message.pk}/open/")
    assert response.status_code == 302
    assert response["Location"] == f"/inbox/{message.pk}/"
    body = client.get(response["Location"]).content.decode()
    assert "example.com" not in body


def test_open_without_url_shows_the_message(client, staff_user):
    message = Message.objects.create(recipient=staff_user, subject="通知", body="第一行\n第二行")
    client.force_login(staff_user)
    response = client.get(f"/inbox/{message.pk}/open/", follow=True)
    body = response.content.decode()
    assert "第一行<br>第二行" in body


def test_another_users_message_is_404(client, staff_user, deputy_user):
    message = _message(deputy_user, "代表的消息")
    client.force_login(staff_user)
    assert client.get(f"/inbox/{message.pk}/").status_code == 404
    assert client.get(f"/inbox/{message.pk}/open/").status_code == 404
    message.refresh_from_db()
    assert message.read_at is None


def test_mark_all_read_only_touches_own_messages(client, staff_user, deputy_user):
    _message(staff_user)
    _message(staff_user)
    theirs = _message(deputy_user)
    client.force_login(staff_user)
    assert client.get("/inbox/read-all/").status_code == 405
    response = client.post("/inbox/read-all/", follow=True)
    assert "已将 2 条消息标为已读" in response.content.decode()
    assert not Message.objects.filter(recipient=staff_user, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_inbox_requires_login(client):
    assert client.get("/inbox/").status_code == 302


def test_home_page_shows_unread_badge_and_panel(client, staff_user):
    notify([staff_user], "请审核第3期简报", url="/inbox/", email=False)
    notify([staff_user], "建议交办提醒", email=False)
    client.force_login(staff_user)
    body = client.get("/").content.decode()
    assert 'class="inbox-badge inbox-badge--unread" href="/inbox/"' in body
    assert ">2</span>" in body
    assert "<h2>未读消息</h2>" in body and "请审核第3期简报" in body


def test_home_page_without_unread_has_no_panel(client, staff_user):
    _message(staff_user, "旧消息", read=True)
    client.force_login(staff_user)
    body = client.get("/").content.decode()
    assert 'class="inbox-badge" href="/inbox/"' in body
    assert "<h2>未读消息</h2>" not in body


def test_demo_welcome_is_sent_once():
    """The welcome loader on the demo accounts, run twice (the whole demo loaded twice is
    tests/cms/test_site.py::test_load_demo_is_idempotent)."""
    from io import StringIO

    from cms.demo import DEMO_ACCOUNTS, create_demo_accounts
    from cms.notifications.wagtail_hooks import load_demo_welcome_messages

    create_demo_accounts()
    out = StringIO()
    load_demo_welcome_messages(out)
    load_demo_welcome_messages(out)
    assert Message.objects.filter(category="welcome").count() == len(DEMO_ACCOUNTS)
    assert out.getvalue().count("发送了欢迎消息") == 1
    staff = Message.objects.get(category="welcome", recipient__username="staff")
    assert staff.url == reverse("workdays:calendar")
