from django.conf import settings
from django.db import models


class AppendOnlyError(Exception):
    pass


class UsageAction(models.TextChoices):
    LOGIN = "login", "登录"
    LOGIN_FAILED = "login_failed", "登录失败"
    LOGOUT = "logout", "退出"
    SEARCH = "search", "检索"
    VIEW_RESTRICTED = "view_restricted", "查看受限材料"
    UPLOAD = "upload", "上传"
    EXPORT = "export", "导出"
    PERMISSION_CHANGE = "permission_change", "权限变更"
    CREDENTIAL = "credential", "凭证变更"
    DENIED = "denied", "越权访问被拒绝"


class UsageRecordQuerySet(models.QuerySet):
    def delete(self):
        raise AppendOnlyError("使用记录只能追加，不能删除。")

    def update(self, **kwargs):
        raise AppendOnlyError("使用记录只能追加，不能修改。")


class UsageRecord(models.Model):
    """使用记录: one append-only row per use of the system."""

    created_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="用户",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="usage_records",
    )
    username = models.CharField("账号", max_length=150, blank=True)
    action = models.CharField("操作", max_length=32, choices=UsageAction.choices, db_index=True)
    ip_address = models.GenericIPAddressField("地址", null=True, blank=True)
    path = models.CharField("网址", max_length=500, blank=True)
    object_type = models.CharField("对象类型", max_length=100, blank=True)
    object_id = models.CharField("对象编号", max_length=64, blank=True)
    object_repr = models.CharField("对象", max_length=300, blank=True)
    detail = models.TextField("详情", blank=True)

    objects = UsageRecordQuerySet.as_manager()

    class Meta:
        verbose_name = "使用记录"
        verbose_name_plural = "使用记录"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.username} {self.get_action_display()}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("使用记录只能追加，不能修改。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("使用记录只能追加，不能删除。")
