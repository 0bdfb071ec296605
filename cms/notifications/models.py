from django.conf import settings
from django.db import models
from django.utils import timezone


class MessageQuerySet(models.QuerySet):
    def unread(self):
        return self.filter(read_at__isnull=True)

    def for_user(self, user):
        """The messages in *user*'s inbox (an e-mail-only notice is not one of them)."""
        return self.filter(recipient=user, in_inbox=True)

    def inbox_order(self):
        """Unread first, then newest first."""
        return self.order_by(models.F("read_at").asc(nulls_first=True), "-created_at", "-id")


class Message(models.Model):
    """站内消息: one message in one person's inbox."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="收件人",
        on_delete=models.CASCADE,
        related_name="messages",
    )
    subject = models.CharField("标题", max_length=200)
    body = models.TextField("正文", blank=True)
    url = models.CharField(
        "链接", max_length=500, blank=True, help_text="站内地址，例如 /policies/12/"
    )
    category = models.CharField(
        "来源", max_length=50, blank=True, db_index=True, help_text="发出消息的模块，例如 briefings"
    )
    created_at = models.DateTimeField("时间", default=timezone.now, db_index=True)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)
    emailed_at = models.DateTimeField("邮件发送时间", null=True, blank=True)
    # False for a notice the recipient chose to get by e-mail only: the row is what the mail
    # task sends (and records as sent), but it is not shown in the inbox.
    in_inbox = models.BooleanField("显示在收件箱", default=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        verbose_name = "站内消息"
        verbose_name_plural = "站内消息"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notif_recipient_read")]

    def __str__(self):
        return self.subject

    @property
    def is_read(self):
        return self.read_at is not None
