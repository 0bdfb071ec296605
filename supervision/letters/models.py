"""通报 and letters (函) that follow budget alerts, their 发文字号, events and written answers."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from wagtail.search import index

from cms.fields import OrderedJSONField
from cms.usage.models import AppendOnlyModel, AppendOnlyQuerySet, StepEvent

from .choices import LetterKind, LetterStatus, RenditionStatus, SignerCapacity


class LetterSigner(models.Model):
    """Who may approve (签发): the budget office head for 通报 and letters to departments,
    the standing-committee leader in charge for letters to the county government."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="账号",
        on_delete=models.CASCADE,
        related_name="letter_signer_roles",
    )
    capacity = models.CharField("审批身份", max_length=16, choices=SignerCapacity.choices)
    is_active = models.BooleanField("有效", default=True)
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "函件审批人"
        verbose_name_plural = "函件审批人"
        ordering = ["capacity", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "capacity"], name="letters_signer_unique")
        ]

    def __str__(self):
        return f"{self.user}（{self.get_capacity_display()}）"


class LetterSequence(models.Model):
    """The last 发文字号 number used per series and year; locked while a number is taken."""

    series = models.CharField("系列", max_length=16)
    year = models.PositiveSmallIntegerField("年度")
    last_number = models.PositiveIntegerField("已用至", default=0)

    class Meta:
        verbose_name = "发文字号序列"
        verbose_name_plural = "发文字号序列"
        constraints = [
            models.UniqueConstraint(fields=["series", "year"], name="letters_sequence_unique")
        ]

    def __str__(self):
        return f"{self.series} {self.year}：{self.last_number}"


class Letter(index.Indexed, models.Model):
    alert = models.ForeignKey(
        "supervision.Alert", verbose_name="预警", on_delete=models.PROTECT, related_name="letters"
    )
    department = models.ForeignKey(
        "budget.Department",
        verbose_name="所涉单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="letters",
    )
    kind = models.CharField("文种", max_length=16, choices=LetterKind.choices)
    status = models.CharField(
        "状态", max_length=16, choices=LetterStatus.choices, default=LetterStatus.DRAFT
    )
    title = models.CharField("标题", max_length=200)
    recipients = models.CharField("主送", max_length=300)
    cc = models.CharField("抄送", max_length=300, blank=True)
    body = models.TextField("正文")
    figures = OrderedJSONField("预警数据（起草时）", default=dict, blank=True)

    series = models.CharField("字号系列", max_length=16)
    year = models.PositiveSmallIntegerField("字号年度", null=True, blank=True)
    number = models.PositiveIntegerField("字号序号", null=True, blank=True)
    doc_number = models.CharField("发文字号", max_length=60, blank=True)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="承办人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_letters",
    )
    created_at = models.DateTimeField("起草时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="签发人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField("签发时间", null=True, blank=True)
    sent_on = models.DateField("发出日期", null=True, blank=True)
    sent_via = models.CharField("送达方式", max_length=50, blank=True)
    # the department's receipt (签收) starts the answer clock; until then answer_due is an
    # estimate counted from sent_on
    received_on = models.DateField("签收日期", null=True, blank=True)
    received_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="签收登记人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    received_recorded_at = models.DateTimeField("签收登记时间", null=True, blank=True)
    answer_workdays = models.PositiveSmallIntegerField("答复时限（工作日）", default=10)
    extension_reason = models.TextField("延期理由", blank=True)
    extended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="批准延期人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    extended_at = models.DateTimeField("延期批准时间", null=True, blank=True)
    answer_due = models.DateField("答复期限", null=True, blank=True)
    answer_due_provisional = models.BooleanField("期限暂定", default=False)
    answered_on = models.DateField("答复日期", null=True, blank=True)
    overdue_notified_on = models.DateField("逾期提醒日期", null=True, blank=True)

    docx_file = models.FileField("DOCX 版本", upload_to="letters/renditions/", blank=True)
    pdf_file = models.FileField("PDF 版本", upload_to="letters/renditions/", blank=True)
    rendition_status = models.CharField(
        "版本状态", max_length=16, choices=RenditionStatus.choices, blank=True
    )
    rendition_error = models.TextField("版本生成错误", blank=True)
    rendered_at = models.DateTimeField("版本生成时间", null=True, blank=True)

    search_fields = [
        index.SearchField("title", boost=2),
        index.SearchField("doc_number", boost=2),
        index.SearchField("body"),
        index.SearchField("recipients"),
        index.AutocompleteField("title"),
        index.FilterField("department_id"),
        index.FilterField("status"),
        index.FilterField("kind"),
    ]

    class Meta:
        verbose_name = "预警函件"
        verbose_name_plural = "预警函件"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["series", "year", "number"],
                condition=models.Q(number__isnull=False),
                name="letters_doc_number_unique",
            )
        ]

    def __str__(self):
        return f"{self.doc_number} {self.title}" if self.doc_number else self.title

    def get_absolute_url(self):
        return reverse("letters:detail", args=[self.pk])

    @property
    def is_awaiting_answer(self) -> bool:
        return self.status == LetterStatus.SENT

    @property
    def is_received(self) -> bool:
        return self.received_on is not None

    @property
    def is_extended(self) -> bool:
        return self.extended_at is not None

    def is_overdue(self, today=None) -> bool:
        today = today or timezone.localdate()
        return bool(self.is_awaiting_answer and self.answer_due and self.answer_due < today)

    def recipient_list(self) -> list[str]:
        return [r.strip() for r in self.recipients.replace("，", "、").split("、") if r.strip()]

    def cc_list(self) -> list[str]:
        return [r.strip() for r in self.cc.replace("，", "、").split("、") if r.strip()]


class LetterEvent(StepEvent):
    """Every step of a letter, append-only."""

    letter = models.ForeignKey(
        Letter, verbose_name="函件", on_delete=models.PROTECT, related_name="events"
    )

    class Meta:
        verbose_name = "函件记录"
        verbose_name_plural = "函件记录"
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.letter_id} {self.action}"

    def from_label(self):
        return LetterStatus(self.from_status).label if self.from_status else ""

    def to_label(self):
        return LetterStatus(self.to_status).label if self.to_status else ""


class LetterAnswer(index.Indexed, AppendOnlyModel):
    """A department's written answer (书面答复), kept as uploaded with its extracted text."""

    letter = models.ForeignKey(
        Letter, verbose_name="函件", on_delete=models.PROTECT, related_name="answers"
    )
    file = models.FileField("答复文件", upload_to="letters/answers/%Y/")
    filename = models.CharField("文件名", max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64)
    size = models.PositiveIntegerField("大小（字节）")
    text = models.TextField("答复正文（提取）", blank=True)
    answered_on = models.DateField("答复日期")
    reference = models.CharField("答复文号", max_length=100, blank=True)
    signed_by = models.CharField("签字负责人", max_length=50, blank=True)
    is_late = models.BooleanField("逾期答复", default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="上传人",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    search_fields = [
        index.SearchField("text"),
        index.SearchField("reference", boost=2),
        index.SearchField("filename"),
        index.RelatedFields(
            "letter", [index.SearchField("title", boost=2), index.SearchField("doc_number")]
        ),
        index.FilterField("letter_id"),
    ]

    class Meta:
        verbose_name = "部门书面答复"
        verbose_name_plural = "部门书面答复"
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return f"{self.letter.title}的答复" + (f"（{self.reference}）" if self.reference else "")

    def get_absolute_url(self):
        return reverse("letters:detail", args=[self.letter_id]) + f"#answer-{self.pk}"
