"""查询申请登记 (元谋 办法 第五条): who asked for a special query, what, when, the answer,
the exports made while answering, and every step of its handling."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from cms.usage.models import ExportRegistration, StepEvent


class RequesterKind(models.TextChoices):
    COMMITTEE = "committee", "专门委员会"
    MEMBER = "member", "常委会组成人员"
    DEPUTY = "deputy", "人大代表"


class QueryStatus(models.TextChoices):
    REGISTERED = "registered", "登记"
    IN_PROGRESS = "in_progress", "办理中"
    ANSWERED = "answered", "已答复"
    ARCHIVED = "archived", "已归档"
    RETURNED = "returned", "退回"
    REJECTED = "rejected", "不予受理"


OPEN_STATUSES = (QueryStatus.REGISTERED, QueryStatus.IN_PROGRESS)


class QueryRequest(models.Model):
    requester_kind = models.CharField("提出方", max_length=16, choices=RequesterKind.choices)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="提出人账号",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="query_requests",
    )
    requester_name = models.CharField("提出人或委员会名称", max_length=100)
    subject = models.CharField("查询事项", max_length=200)
    question = models.TextField("查询内容")
    received_on = models.DateField("收到日期")
    due_on = models.DateField("答复期限")
    status = models.CharField(
        "状态",
        max_length=16,
        choices=QueryStatus.choices,
        default=QueryStatus.REGISTERED,
        db_index=True,
    )
    reason = models.TextField("退回或不予受理理由", blank=True)
    answer = models.TextField("答复内容", blank=True)
    answered_at = models.DateTimeField("答复时间", null=True, blank=True)
    answer_file = models.FileField("答复文件", upload_to="supervision/queries/%Y/%m/", blank=True)
    answer_file_name = models.CharField("答复文件名", max_length=255, blank=True)
    answer_sha256 = models.CharField("答复文件 SHA-256", max_length=64, blank=True)
    exports = models.ManyToManyField(
        ExportRegistration, verbose_name="答复时的导出备案", blank=True, related_name="+"
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    overdue_notified_on = models.DateField("逾期提醒日期", null=True, blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "查询申请"
        verbose_name_plural = "查询申请登记"
        ordering = ["due_on", "id"]

    def __str__(self):
        return f"查询申请 {self.pk}：{self.subject}"

    def is_overdue(self, today=None) -> bool:
        today = today or timezone.localdate()
        return self.status in OPEN_STATUSES and self.due_on < today


class QueryRequestEvent(StepEvent):
    """Every step of a query request, append-only."""

    request = models.ForeignKey(
        QueryRequest, verbose_name="查询申请", on_delete=models.PROTECT, related_name="events"
    )

    class Meta:
        verbose_name = "查询申请办理记录"
        verbose_name_plural = "查询申请办理记录"
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.request_id} {self.action}"
