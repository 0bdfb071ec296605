from django.conf import settings
from django.db import models

from cms.usage.models import AppendOnlyModel, AppendOnlyQuerySet


class CredentialAction(models.TextChoices):
    ENROL = "enrol", "登记"
    REMOVE = "remove", "删除"
    BACKUP_CODES = "backup_codes", "生成备用码"
    REVOKE = "revoke", "吊销"
    REPORT_LOST = "report_lost", "挂失"
    RESET = "reset", "重置"


class CredentialEvent(AppendOnlyModel):
    """凭证记录: one append-only row per change to a user's login credentials."""

    created_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="账户",
        on_delete=models.PROTECT,
        related_name="credential_events",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField("操作", max_length=32, choices=CredentialAction.choices)
    device = models.CharField("凭证", max_length=300, blank=True)
    reason = models.TextField("原因", blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = "凭证记录"
        verbose_name_plural = "凭证记录"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.user} {self.get_action_display()}"


class RevokedCredential(models.Model):
    """A device that was revoked (吊销). The device row itself is kept, unconfirmed,
    so that using it can be refused with a clear message; this row says why."""

    device_key = models.CharField("设备标识", max_length=200, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="账户",
        on_delete=models.PROTECT,
        related_name="revoked_credentials",
    )
    description = models.CharField("凭证", max_length=300)
    revoked_at = models.DateTimeField("吊销时间", auto_now_add=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="吊销人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.TextField("原因", blank=True)

    class Meta:
        verbose_name = "已吊销凭证"
        verbose_name_plural = "已吊销凭证"
        ordering = ["-revoked_at", "-id"]

    def __str__(self):
        return self.description


class LoginThrottle(models.Model):
    """登录限制: failed attempts of one account or one client address.

    A row per key ("account:<pk>" or "address:<ip>"); it is read and written only
    inside cms.credentials.throttle.guard, under a lock, so concurrent guesses are
    counted one after another. Past the limit each further failure doubles the wait
    (a growing delay, never a lock that stays shut)."""

    key = models.CharField("对象", max_length=200, unique=True)
    failures = models.PositiveIntegerField("连续失败次数", default=0)
    last_failure_at = models.DateTimeField("最近失败时间", null=True, blank=True)
    delayed_until = models.DateTimeField("等待至", null=True, blank=True)
    locked = models.BooleanField("限制中", default=False)

    class Meta:
        verbose_name = "登录限制"
        verbose_name_plural = "登录限制"

    def __str__(self):
        return self.key
