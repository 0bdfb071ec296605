"""代表建议: terms, deputies, suggestions and every step of their handling (domain.md §4).

State changes go through ``suggestions.services``; these models hold data only.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from wagtail.search import index

from cms.usage.models import AppendOnlyModel, AppendOnlyQuerySet

from .choices import (
    ConsultationForm,
    CoSignStatus,
    EvaluationResult,
    Period,
    Status,
    SuggestionKind,
)

CHINESE_DIGITS = "〇一二三四五六七八九"


def chinese_number(n: int) -> str:
    """18 → 十八, 3 → 三, 20 → 二十 (届次 and 会次 are written this way)."""
    if n < 10:
        return CHINESE_DIGITS[n]
    if n < 20:
        return "十" + (CHINESE_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        tens, ones = divmod(n, 10)
        return CHINESE_DIGITS[tens] + "十" + (CHINESE_DIGITS[ones] if ones else "")
    return str(n)


class Term(models.Model):
    """届: a term of the county people's congress."""

    number = models.PositiveSmallIntegerField("届次", unique=True)
    start_date = models.DateField("起始日期", null=True, blank=True)
    end_date = models.DateField("截止日期", null=True, blank=True)
    is_current = models.BooleanField("本届", default=False)

    class Meta:
        verbose_name = "届次"
        verbose_name_plural = "届次"
        ordering = ["-number"]

    def __str__(self):
        return f"第{chinese_number(self.number)}届"


class Session(models.Model):
    """次: a session (会议) of a term; 闭会期间 suggestions belong to the session they follow."""

    term = models.ForeignKey(
        Term, verbose_name="届次", on_delete=models.PROTECT, related_name="sessions"
    )
    number = models.PositiveSmallIntegerField("会次")
    start_date = models.DateField("开幕日期", null=True, blank=True)
    end_date = models.DateField("闭幕日期", null=True, blank=True)
    cosign_deadline = models.DateField(
        "联名截止日期",
        null=True,
        blank=True,
        help_text="代表在线联名（附议）的最后一天；不填则不限",
    )

    class Meta:
        verbose_name = "会次"
        verbose_name_plural = "会次"
        ordering = ["term", "number"]
        constraints = [
            models.UniqueConstraint(fields=["term", "number"], name="suggestions_session_unique")
        ]

    def __str__(self):
        return f"{self.term}第{chinese_number(self.number)}次会议"


class Category(models.Model):
    """分类 of a term (e.g. 财政经济, 农业农村 …)."""

    term = models.ForeignKey(
        Term, verbose_name="届次", on_delete=models.CASCADE, related_name="categories"
    )
    name = models.CharField("分类名称", max_length=40)
    sort_order = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = "建议分类"
        verbose_name_plural = "建议分类"
        ordering = ["term", "sort_order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["term", "name"], name="suggestions_category_unique")
        ]

    def __str__(self):
        return self.name


class AnswerClass(models.Model):
    """答复类别 of a term (A 已解决或基本解决 …); some need a later follow-up (跟踪督办)."""

    term = models.ForeignKey(
        Term, verbose_name="届次", on_delete=models.CASCADE, related_name="answer_classes"
    )
    code = models.CharField("类别代码", max_length=4)
    label = models.CharField("类别名称", max_length=40)
    needs_follow_up = models.BooleanField("需跟踪落实", default=False)
    counts_as_resolved = models.BooleanField("计为已解决", default=False)
    sort_order = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = "答复类别"
        verbose_name_plural = "答复类别"
        ordering = ["term", "sort_order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["term", "code"], name="suggestions_answerclass_unique")
        ]

    def __str__(self):
        return f"{self.code}类 {self.label}"


class Deputy(models.Model):
    """代表. Phone, ID number, employer and address are personal details (cms/personal.py)."""

    personal_detail_fields = ("phone", "id_number", "employer", "address")

    name = models.CharField("姓名", max_length=50)
    delegation = models.CharField("代表团", max_length=60, blank=True)
    terms = models.ManyToManyField(
        Term, verbose_name="所属届次", blank=True, related_name="deputies"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="系统账号",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deputy",
    )
    phone = models.CharField("联系电话", max_length=40, blank=True)
    id_number = models.CharField("身份证号", max_length=18, blank=True)
    employer = models.CharField("工作单位", max_length=120, blank=True)
    address = models.CharField("通讯地址", max_length=200, blank=True)
    is_active = models.BooleanField("在任", default=True)
    must_change_password = models.BooleanField("首次登录须修改密码", default=False, editable=False)

    class Meta:
        verbose_name = "代表"
        verbose_name_plural = "代表"
        ordering = ["delegation", "name"]

    def __str__(self):
        return f"{self.name}（{self.delegation}）" if self.delegation else self.name


class SessionCounter(models.Model):
    """The last number given in a session; locked while a new suggestion is numbered."""

    session = models.OneToOneField(Session, on_delete=models.CASCADE, related_name="counter")
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "编号计数"
        verbose_name_plural = "编号计数"

    def __str__(self):
        return f"{self.session} 已编至 {self.last_number} 号"


class Suggestion(index.Indexed, models.Model):
    """议案、建议、批评和意见: one item and where its handling stands."""

    term = models.ForeignKey(
        Term, verbose_name="届次", on_delete=models.PROTECT, related_name="suggestions"
    )
    session = models.ForeignKey(
        Session, verbose_name="会次", on_delete=models.PROTECT, related_name="suggestions"
    )
    # taken when the office registers an item a deputy wrote online (gap-free, SessionCounter)
    number = models.PositiveIntegerField("编号", null=True, blank=True)
    kind = models.CharField(
        "类型", max_length=16, choices=SuggestionKind.choices, default=SuggestionKind.SUGGESTION
    )
    period = models.CharField(
        "提出时间", max_length=16, choices=Period.choices, default=Period.DURING
    )
    title = models.CharField("标题（案由）", max_length=300)
    content = models.TextField("内容", blank=True)
    category = models.ForeignKey(
        Category,
        verbose_name="分类",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="suggestions",
    )
    lead_deputy = models.ForeignKey(
        Deputy, verbose_name="领衔代表", on_delete=models.PROTECT, related_name="led_suggestions"
    )
    co_signers = models.ManyToManyField(
        Deputy, verbose_name="附议代表", blank=True, related_name="cosigned_suggestions"
    )
    is_public = models.BooleanField("公开", default=False)
    key_supervision = models.BooleanField("重点督办", default=False)
    supervising_leader = models.CharField("督办领导", max_length=60, blank=True)
    status = models.CharField(
        "状态", max_length=20, choices=Status.choices, default=Status.SUBMITTED, db_index=True
    )
    submitted_on = models.DateField("提出日期")
    registered_on = models.DateField("登记日期", null=True, blank=True)
    lead_unit = models.ForeignKey(
        "budget.Department",
        verbose_name="主办单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="led_suggestions",
    )
    co_units = models.ManyToManyField(
        "budget.Department",
        verbose_name="协办单位",
        blank=True,
        related_name="cohandled_suggestions",
    )
    assigned_on = models.DateField("交办日期", null=True, blank=True)
    due_on = models.DateField("要求办结日期", null=True, blank=True)
    extended = models.BooleanField("已延期", default=False)
    extension_reason = models.TextField("延期说明", blank=True)
    co_unit_due_on = models.DateField("协办意见期限", null=True, blank=True)
    return_deadline = models.DateField("退办申请截止日期", null=True, blank=True)
    return_deadline_provisional = models.BooleanField("退办期限暂定", default=False)
    second_due_on = models.DateField("再次答复期限", null=True, blank=True)
    first_answered_on = models.DateField("首次答复日期", null=True, blank=True)
    answered_on = models.DateField("最近答复日期", null=True, blank=True)
    closed_on = models.DateField("办结日期", null=True, blank=True)
    reminded_for = models.DateField("已提醒的期限", null=True, blank=True)
    converted_from = models.OneToOneField(
        "self",
        verbose_name="由议案转来",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="converted_to",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("录入时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    # only the suggestion's own text: never a deputy's contact details
    search_fields = [
        index.SearchField("title", boost=3),
        index.AutocompleteField("title"),
        index.SearchField("content"),
        index.SearchField("lead_deputy_name"),
        index.SearchField("category_name"),
        index.SearchField("unit_names"),
        index.FilterField("status"),
        index.FilterField("term_id"),
        index.FilterField("is_public"),
    ]

    class Meta:
        verbose_name = "代表建议"
        verbose_name_plural = "代表建议"
        ordering = ["-term__number", "-session__number", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["session", "number"], name="suggestions_number_unique")
        ]
        indexes = [models.Index(fields=["status", "due_on"])]

    def __str__(self):
        return f"{self.code} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("suggestions:detail", args=[self.pk])

    @property
    def code(self) -> str:
        """编号 as written in the office: 届-次-号, e.g. 18-3-027."""
        if self.number is None:
            return "（未编号）"
        return f"{self.term.number}-{self.session.number}-{self.number:03d}"

    def lead_deputy_name(self) -> str:
        return self.lead_deputy.name if self.lead_deputy_id else ""

    def category_name(self) -> str:
        return self.category.name if self.category_id else ""

    def unit_names(self) -> str:
        names = [self.lead_unit.name] if self.lead_unit_id else []
        if self.pk:
            names += [d.name for d in self.co_units.all()]
        return " ".join(names)

    @property
    def effective_due_on(self):
        """The date the current answer is owed: the second-answer date while re-handling."""
        if self.status == Status.REHANDLING and self.second_due_on:
            return self.second_due_on
        return self.due_on


def attachment_path(instance, filename):
    return f"suggestions/{instance.suggestion_id}/{filename}"


class Attachment(models.Model):
    """附件 of a suggestion (the deputy's text, photos, the office's 交办单 …)."""

    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField("文件", upload_to=attachment_path, max_length=300)
    name = models.CharField("文件名", max_length=200)
    size = models.PositiveBigIntegerField("大小", default=0)
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "附件"
        verbose_name_plural = "附件"
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.name


class Reply(models.Model):
    """书面答复 of the lead unit; round 2 is the answer after re-handling."""

    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="replies")
    round = models.PositiveSmallIntegerField("答复轮次", default=1)
    unit = models.ForeignKey(
        "budget.Department",
        verbose_name="答复单位",
        on_delete=models.PROTECT,
        related_name="suggestion_replies",
    )
    answer_class = models.ForeignKey(
        AnswerClass, verbose_name="答复类别", on_delete=models.PROTECT, related_name="replies"
    )
    answered_on = models.DateField("答复日期")
    signed_by = models.CharField("签发人", max_length=60)
    summary = models.TextField("答复要点", blank=True)
    document = models.FileField("答复文件", upload_to=attachment_path, max_length=300, blank=True)
    document_name = models.CharField("文件名", max_length=200, blank=True)
    document_sha256 = models.CharField("SHA-256", max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "答复"
        verbose_name_plural = "答复"
        ordering = ["suggestion", "round"]
        constraints = [
            models.UniqueConstraint(
                fields=["suggestion", "round"], name="suggestions_reply_round_unique"
            )
        ]

    def __str__(self):
        return f"{self.suggestion.code} 第{self.round}次答复"


class CoUnitView(models.Model):
    """协办意见: a co-unit's view sent to the lead unit."""

    suggestion = models.ForeignKey(
        Suggestion, on_delete=models.CASCADE, related_name="co_unit_views"
    )
    unit = models.ForeignKey(
        "budget.Department",
        verbose_name="协办单位",
        on_delete=models.PROTECT,
        related_name="suggestion_views",
    )
    text = models.TextField("协办意见")
    document = models.FileField("意见文件", upload_to=attachment_path, max_length=300, blank=True)
    document_name = models.CharField("文件名", max_length=200, blank=True)
    document_sha256 = models.CharField("SHA-256", max_length=64, blank=True)
    submitted_on = models.DateField("提交日期")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "协办意见"
        verbose_name_plural = "协办意见"
        ordering = ["submitted_on", "id"]

    def __str__(self):
        return f"{self.suggestion.code} {self.unit.name}协办意见"


class Evaluation(models.Model):
    """代表评价 of one answer."""

    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="evaluations")
    reply = models.ForeignKey(
        Reply, verbose_name="所评答复", on_delete=models.PROTECT, related_name="evaluations"
    )
    result = models.CharField("评价", max_length=16, choices=EvaluationResult.choices)
    comment = models.TextField("意见", blank=True)
    evaluated_on = models.DateField("评价日期")
    deputy = models.ForeignKey(
        Deputy, verbose_name="评价代表", on_delete=models.PROTECT, related_name="evaluations"
    )
    # the lead deputy's evaluation decides the step; co-signers may add theirs
    is_lead = models.BooleanField("领衔代表评价", default=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "代表评价"
        verbose_name_plural = "代表评价"
        ordering = ["evaluated_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reply", "deputy"], name="suggestions_evaluation_once_per_deputy"
            )
        ]

    def __str__(self):
        return f"{self.suggestion.code} {self.get_result_display()}"


class FollowUp(models.Model):
    """跟踪落实 of an answer whose class needs follow-up (正在解决或列入规划)."""

    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="follow_ups")
    reply = models.ForeignKey(
        Reply, verbose_name="所跟踪答复", on_delete=models.PROTECT, related_name="follow_ups"
    )
    followed_on = models.DateField("跟踪日期")
    progress = models.TextField("落实情况")
    completed = models.BooleanField("已落实", default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "跟踪落实"
        verbose_name_plural = "跟踪落实"
        ordering = ["followed_on", "id"]

    def __str__(self):
        return f"{self.suggestion.code} 跟踪 {self.followed_on}"


class SuggestionLink(models.Model):
    """A related item staff link by hand: a policy page, or a budget subject (科目) of a year."""

    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="links")
    page = models.ForeignKey(
        "wagtailcore.Page",
        verbose_name="政策页面",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    subject_year = models.PositiveSmallIntegerField("科目年度", null=True, blank=True)
    subject_code = models.CharField("科目编码", max_length=12, blank=True)
    note = models.CharField("说明", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("添加时间", auto_now_add=True)

    class Meta:
        verbose_name = "相关链接"
        verbose_name_plural = "相关链接"
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(page__isnull=False, subject_code="")
                    | models.Q(page__isnull=True, subject_year__isnull=False)
                    & ~models.Q(subject_code="")
                ),
                name="suggestions_link_page_or_subject",
            )
        ]

    def __str__(self):
        if self.page_id:
            return self.page.title
        return f"{self.subject_year}年 科目{self.subject_code}"


class CoSignInvitation(models.Model):
    """联名邀请: the lead deputy invites a deputy, who signs or declines before the deadline."""

    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="invitations")
    deputy = models.ForeignKey(
        Deputy, verbose_name="受邀代表", on_delete=models.CASCADE, related_name="invitations"
    )
    status = models.CharField(
        "状态", max_length=12, choices=CoSignStatus.choices, default=CoSignStatus.INVITED
    )
    invited_at = models.DateTimeField("邀请时间", default=timezone.now)
    answered_at = models.DateTimeField("回复时间", null=True, blank=True)

    class Meta:
        verbose_name = "联名邀请"
        verbose_name_plural = "联名邀请"
        ordering = ["invited_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["suggestion", "deputy"], name="suggestions_invitation_unique"
            )
        ]

    def __str__(self):
        return f"{self.deputy.name} {self.get_status_display()}"


class Message(models.Model):
    """沟通记录: one message in the thread of a suggestion (deputy, unit liaison, staff)."""

    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发言人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    author_name = models.CharField("发言人", max_length=150)
    capacity = models.CharField("身份", max_length=40)
    text = models.TextField("内容")
    at = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        verbose_name = "沟通记录"
        verbose_name_plural = "沟通记录"
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.author_name}（{self.capacity}）{self.at:%Y-%m-%d %H:%M}"


class Consultation(models.Model):
    """面商: the unit's contact with the deputy before answering (meeting, visit, phone …)."""

    suggestion = models.ForeignKey(
        Suggestion, on_delete=models.CASCADE, related_name="consultations"
    )
    unit = models.ForeignKey(
        "budget.Department", verbose_name="办理单位", on_delete=models.PROTECT, related_name="+"
    )
    held_on = models.DateField("面商日期")
    form = models.CharField("面商形式", max_length=12, choices=ConsultationForm.choices)
    participants = models.CharField("参加人员", max_length=300)
    summary = models.TextField("面商情况")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "面商记录"
        verbose_name_plural = "面商记录"
        ordering = ["held_on", "id"]

    def __str__(self):
        return f"{self.unit.name} {self.held_on} {self.get_form_display()}"


class TimelineEvent(AppendOnlyModel):
    """Every step of a suggestion, append-only: who, when, what, with which documents."""

    suggestion = models.ForeignKey(Suggestion, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField("时间", default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_name = models.CharField("操作人", max_length=150, blank=True)
    action = models.CharField("动作", max_length=32)
    label = models.CharField("事项", max_length=60)
    from_status = models.CharField("原状态", max_length=20, blank=True)
    to_status = models.CharField("新状态", max_length=20, blank=True)
    note = models.TextField("说明", blank=True)
    # [{"kind": "attachment" | "reply" | "view", "id": 1, "name": "答复.pdf"}]
    documents = models.JSONField("相关文件", default=list, blank=True)
    due_on = models.DateField("当时期限", null=True, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = "办理过程记录"
        verbose_name_plural = "办理过程记录"
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.suggestion_id} {self.label}"

    @property
    def from_status_label(self) -> str:
        return Status(self.from_status).label if self.from_status else ""

    @property
    def to_status_label(self) -> str:
        return Status(self.to_status).label if self.to_status else ""


__all__ = [
    "AnswerClass",
    "Attachment",
    "Category",
    "CoSignInvitation",
    "CoUnitView",
    "Consultation",
    "Deputy",
    "Evaluation",
    "EvaluationResult",
    "FollowUp",
    "Message",
    "Period",
    "Reply",
    "Session",
    "SessionCounter",
    "Status",
    "Suggestion",
    "SuggestionKind",
    "SuggestionLink",
    "Term",
    "TimelineEvent",
]
