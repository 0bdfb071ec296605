"""E-mail copies of inbox messages, sent by the Celery worker after commit."""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from .models import Message


def site_base_url() -> str:
    base = settings.SITE_BASE_URL
    return base.rstrip("/")


def email_text(message: Message) -> str:
    lines = [f"{message.recipient}，您好：", ""]
    if message.body:
        lines += [message.body, ""]
    if message.url:
        lines += [f"查看详情：{site_base_url()}{message.url}", ""]
    lines.append(f"—— {settings.SITE_NAME}（系统自动发送，请勿直接回复）")
    return "\n".join(lines)


@shared_task(bind=True, max_retries=5, default_retry_delay=120)
def send_message_emails(self, message_ids):
    """Send one e-mail per message whose recipient has an address; each message is
    mailed at most once (emailed_at), so a retry resends only what failed."""
    pending = (
        Message.objects.filter(pk__in=message_ids, emailed_at__isnull=True)
        .exclude(recipient__email="")
        .select_related("recipient")
    )
    sent = 0
    for message in pending:
        try:
            send_mail(
                subject=f"[{settings.SITE_NAME}] {message.subject}",
                message=email_text(message),
                from_email=None,
                recipient_list=[message.recipient.email],
            )
        except OSError as exc:  # SMTP and file back ends fail with OSError subclasses
            raise self.retry(exc=exc) from exc
        Message.objects.filter(pk=message.pk).update(emailed_at=timezone.now())
        sent += 1
    return sent
