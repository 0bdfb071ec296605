from django.conf import settings
from django.db import models


class AppendOnlyError(Exception):
    pass


class AppendOnlyQuerySet(models.QuerySet):
    """Rows may be added, never changed or removed, not even in bulk."""

    def delete(self):
        raise AppendOnlyError(f"{self.model._meta.verbose_name}只能追加，不能删除。")

    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model._meta.verbose_name}只能追加，不能修改。")


class AppendOnlyModel(models.Model):
    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError(f"{self._meta.verbose_name}只能追加，不能修改。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{self._meta.verbose_name}只能追加，不能删除。")


class StepEvent(AppendOnlyModel):
    """One step in the life of a record (an alert, a letter, an archive item): who, when,
    what, from which status to which. A subclass adds the foreign key to its record, its
    own Meta names and any extra columns."""

    at = models.DateTimeField("时间", auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_name = models.CharField("操作人账号", max_length=150, blank=True)
    action = models.CharField("事项", max_length=50)
    from_status = models.CharField("原状态", max_length=16, blank=True)
    to_status = models.CharField("新状态", max_length=16, blank=True)
    note = models.TextField("说明", blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["at", "id"]


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
    LOGIN_LOCKED = "login_locked", "登录限制"
    LOGIN_UNLOCKED = "login_unlocked", "登录限制解除"


class UsageRecordQuerySet(AppendOnlyQuerySet):
    pass


class UsageRecord(AppendOnlyModel):
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


class ExportRegistration(AppendOnlyModel):
    """备案登记: who exported what, when, why, and the digest of the file they got.

    Written by cms.usage.exports.register_export for every export of every module."""

    created_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="用户",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="export_registrations",
    )
    username = models.CharField("账号", max_length=150, blank=True)
    role = models.CharField("导出时角色", max_length=50, blank=True)
    module = models.CharField("模块", max_length=50, blank=True, db_index=True)
    description = models.CharField("导出内容", max_length=500)
    purpose = models.TextField("用途", blank=True)
    filename = models.CharField("文件名", max_length=255)
    file_format = models.CharField("格式", max_length=16, blank=True)
    row_count = models.PositiveIntegerField("行数", default=0)
    byte_size = models.PositiveBigIntegerField("文件大小（字节）", default=0)
    sha256 = models.CharField("SHA-256 摘要", max_length=64)
    ip_address = models.GenericIPAddressField("地址", null=True, blank=True)
    path = models.CharField("网址", max_length=500, blank=True)
    # the one-time token of the confirmation page the export was submitted from: a second
    # submission of the same page (double click, resent form) finds it and registers nothing
    form_token = models.CharField(
        "确认页凭据", max_length=64, null=True, blank=True, unique=True, editable=False
    )

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = "导出备案登记"
        verbose_name_plural = "导出备案登记"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"备案登记 {self.pk}：{self.description}"
