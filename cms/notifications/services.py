"""Sending notices to people: a row in each inbox now, an e-mail after commit.

    from cms.notifications.services import notify
    notify([user], "第3期季度简报已发布", url="/briefings/3/", category="briefings")
    notify([user], "…", email=True, inbox=False)   # e-mail only: not shown in the inbox

The inbox rows are written in the caller's transaction, so they vanish with it on
a rollback; the e-mail task is queued only once that transaction commits.
"""

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from .models import Message

SUBJECT_MAX = Message._meta.get_field("subject").max_length
URL_MAX = Message._meta.get_field("url").max_length


class NotificationError(ValueError):
    pass


def is_site_path(url: str) -> bool:
    """Only paths on this site ("/inbox/"), never another host or scheme."""
    return (
        bool(url)
        and url.startswith("/")
        and not url.startswith("//")
        and "\\" not in url
        and url_has_allowed_host_and_scheme(url, allowed_hosts=None)
    )


def _recipient_list(recipients) -> list:
    if recipients is None:
        return []
    if hasattr(recipients, "pk") and not isinstance(recipients, Iterable):
        recipients = [recipients]
    seen, people = set(), []
    for user in recipients:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        people.append(user)
    return people


def notify(
    recipients,
    subject: str,
    body: str = "",
    url: str = "",
    category: str = "",
    email: bool = True,
    inbox: bool = True,
) -> list[Message]:
    """Put a message in each active recipient's inbox; e-mail those with an address.

    *recipients* is a user or an iterable of users (duplicates and inactive
    accounts are skipped). *url* must be a path on this site. With ``inbox=False`` the
    notice goes by e-mail only: a row is still written (it is what the mail task sends and
    marks sent) but the inbox does not show it, and people without an address are skipped.
    Returns the new rows.
    """
    if not inbox and not email:
        raise NotificationError("消息至少要通过站内消息或电子邮件之一发送。")
    subject = (subject or "").strip()
    if not subject:
        raise NotificationError("消息标题不能为空。")
    if len(subject) > SUBJECT_MAX:
        raise NotificationError(f"消息标题不能超过 {SUBJECT_MAX} 个字。")
    url = (url or "").strip()
    if url and not is_site_path(url):
        raise NotificationError("消息链接只能是本站地址（以 / 开头）。")
    if len(url) > URL_MAX:
        raise NotificationError(f"消息链接不能超过 {URL_MAX} 个字符。")

    people = _recipient_list(recipients)
    if not inbox:
        people = [user for user in people if user.email]
    if not people:
        return []
    now = timezone.now()
    messages = Message.objects.bulk_create(
        [
            Message(
                recipient=user,
                subject=subject,
                body=body or "",
                url=url,
                category=category or "",
                created_at=now,
                in_inbox=inbox,
            )
            for user in people
        ]
    )
    if email:
        ids = [m.pk for m, user in zip(messages, people, strict=True) if user.email]
        if ids:
            from .tasks import send_message_emails

            transaction.on_commit(lambda: send_message_emails.delay(ids))
    return messages


def unread_count(user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Message.objects.for_user(user).unread().count()


def mark_read(message: Message) -> None:
    if message.read_at is None:
        message.read_at = timezone.now()
        message.save(update_fields=["read_at"])


def mark_all_read(user) -> int:
    """Mark every unread message of *user* read; returns how many changed."""
    return Message.objects.for_user(user).unread().update(read_at=timezone.now())
