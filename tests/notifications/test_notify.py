import pytest
from django.core import mail
from django.db import transaction

from cms.notifications.models import Message
from cms.notifications.services import NotificationError, notify

pytestmark = pytest.mark.django_db


def test_notify_creates_inbox_rows_and_mails_after_commit(
    make_user, django_capture_on_commit_callbacks
):
    with_email = make_user(email="wang@rd.local", display_name="王芳")
    without_email = make_user(email="")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        rows = notify(
            [with_email, without_email, with_email],
            "第3期季度简报已发布",
            body="请查阅。",
            url="/briefings/3/",
            category="briefings",
        )
        assert len(mail.outbox) == 0  # nothing leaves before the commit
    assert len(callbacks) == 1
    assert len(rows) == 2  # the duplicate is skipped
    assert Message.objects.filter(recipient=with_email, category="briefings").count() == 1
    assert Message.objects.filter(recipient=without_email).count() == 1
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["wang@rd.local"]
    assert "第3期季度简报已发布" in sent.subject
    assert "王芳，您好" in sent.body and "/briefings/3/" in sent.body
    assert Message.objects.get(recipient=with_email).emailed_at is not None
    assert Message.objects.get(recipient=without_email).emailed_at is None


def test_rolled_back_transaction_sends_nothing(make_user, django_capture_on_commit_callbacks):
    user = make_user(email="a@rd.local")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                notify([user], "不会发出的消息")
                raise RuntimeError("roll back")
    assert callbacks == []
    assert not Message.objects.exists()
    assert mail.outbox == []


def test_email_false_and_single_recipient(make_user, django_capture_on_commit_callbacks):
    user = make_user(email="a@rd.local")
    with django_capture_on_commit_callbacks(execute=True):
        notify(user, "只进收件箱", email=False)
    assert Message.objects.filter(recipient=user).count() == 1
    assert mail.outbox == []


def test_inactive_users_are_skipped(make_user):
    user = make_user(email="a@rd.local", is_active=False)
    assert notify([user], "停用账户") == []
    assert not Message.objects.exists()


def test_email_task_sends_each_message_once(make_user, django_capture_on_commit_callbacks):
    from cms.notifications.tasks import send_message_emails

    user = make_user(email="a@rd.local")
    with django_capture_on_commit_callbacks(execute=True):
        (row,) = notify([user], "提醒")
    assert len(mail.outbox) == 1
    assert send_message_emails([row.pk]) == 0  # a retry does not mail twice
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    "url",
    ["https://example.com/x", "//example.com/x", "javascript:alert(1)", "relative/path", "/\\evil"],
)
def test_only_site_paths_are_accepted(make_user, url):
    user = make_user()
    with pytest.raises(NotificationError, match="本站地址"):
        notify([user], "标题", url=url)


def test_subject_is_required(make_user):
    with pytest.raises(NotificationError, match="标题不能为空"):
        notify([make_user()], "  ")
