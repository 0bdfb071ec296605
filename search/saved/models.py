from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models


class SavedSearch(models.Model):
    """保存的检索: a user's query with its filters; with a subscription the user is told
    (站内消息) when new material they may see matches it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="用户",
        on_delete=models.CASCADE,
        related_name="saved_searches",
    )
    name = models.CharField("名称", max_length=100)
    query = models.CharField("检索式", max_length=200)
    filters = models.JSONField("筛选条件", default=dict, blank=True)
    sort = models.CharField("排序", max_length=20, default="relevance")
    subscribed = models.BooleanField("订阅新结果", default=False)
    created_at = models.DateTimeField("保存时间", auto_now_add=True)
    updated_at = models.DateTimeField("修改时间", auto_now=True)
    # When the results that existed at subscription time were recorded as known;
    # only material found after that is announced.
    baseline_at = models.DateTimeField("订阅基线时间", null=True, blank=True)
    last_checked_at = models.DateTimeField("上次检查", null=True, blank=True)

    class Meta:
        verbose_name = "保存的检索"
        verbose_name_plural = "保存的检索"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="saved_search_unique_name"),
        ]

    def __str__(self):
        return self.name


class SavedSearchDelivery(models.Model):
    """One item a saved search already knows about: announced to the user
    (``notified``) or already there when the subscription started. A row per
    (saved search, item) is what makes every item announced at most once."""

    saved_search = models.ForeignKey(
        SavedSearch, verbose_name="保存的检索", on_delete=models.CASCADE, related_name="deliveries"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.CASCADE, related_name="+"
    )
    content_type = models.ForeignKey(ContentType, verbose_name="类型", on_delete=models.CASCADE)
    object_key = models.CharField("对象编号", max_length=64)
    notified = models.BooleanField("已通知", default=False)
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "检索订阅记录"
        verbose_name_plural = "检索订阅记录"
        constraints = [
            models.UniqueConstraint(
                fields=["saved_search", "content_type", "object_key"],
                name="saved_search_delivery_once",
            ),
        ]
        indexes = [models.Index(fields=["user", "content_type", "object_key"])]

    def __str__(self):
        return f"{self.saved_search} · {self.content_type_id}:{self.object_key}"
