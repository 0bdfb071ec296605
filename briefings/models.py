"""Working materials (工作资料): material types, the schedule, briefing pages, renditions and
the materials departments push.

Rules live in services.py (schedule, numbering, sign-off, uploads); this module holds data.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.shortcuts import render
from modelcluster.fields import ParentalManyToManyField
from wagtail import blocks
from wagtail.admin.panels import FieldPanel, FieldRowPanel, HelpPanel, MultiFieldPanel
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.fields import StreamField
from wagtail.images.blocks import ImageChooserBlock
from wagtail.models import Page, PagePermissionTester, Task, TaskState
from wagtail.search import index

from cms.usage.models import AppendOnlyModel, StepEvent
from supervision.blocks import figure_blocks

from .choices import (
    Cadence,
    ItemStatus,
    MaterialKind,
    RenditionKind,
    RenditionStatus,
    ResponsibleKind,
    SubscriptionChannel,
    SubscriptionStatus,
)

READ_PERMISSION = "cms.query_data"
MANAGE_PERMISSION = "cms.publish_material"


def default_due_workdays() -> int:
    return int(getattr(settings, "BRIEFINGS_DUE_WORKDAYS", 15))


def default_editor() -> str:
    return getattr(settings, "BRIEFINGS_EDITOR", "县人大常委会预算工委")


def default_print_count() -> int:
    return int(getattr(settings, "BRIEFINGS_PRINT_COUNT", 40))


class RecipientGroup(models.Model):
    """A named group on a distribution list (印送), e.g. 县人大常委会领导; its members get the push."""

    name = models.CharField("名称", max_length=100, unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name="成员", blank=True, related_name="+"
    )
    sort_order = models.PositiveIntegerField("排序", default=0)

    class Meta:
        verbose_name = "印送对象"
        verbose_name_plural = "印送对象"
        ordering = ["sort_order", "name"]

    def __str__(self):
        return self.name


class MaterialType(models.Model):
    """A kind of material on the schedule: the office's own briefings and the reports the
    departments push. Cadence, who is responsible and the due rule are data, not code."""

    name = models.CharField("名称", max_length=100, unique=True)
    code = models.SlugField("代码", max_length=40, unique=True)
    kind = models.CharField("类别", max_length=16, choices=MaterialKind.choices)
    cadence = models.CharField("周期", max_length=16, choices=Cadence.choices)
    responsible_kind = models.CharField(
        "责任方", max_length=16, choices=ResponsibleKind.choices, default=ResponsibleKind.STAFF
    )
    responsible_department = models.ForeignKey(
        "budget.Department",
        verbose_name="报送单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="责任方为报送单位时必填；提醒发给该单位的联络员。",
    )
    due_workdays = models.PositiveSmallIntegerField(
        "期限（期末后工作日数）",
        default=default_due_workdays,
        help_text="本期结束后第几个工作日为截止日。简报默认 15 个工作日。",
    )
    is_briefing_issue = models.BooleanField(
        "编入简报期号", default=True, help_text="发布时占用当年“第×期”编号。"
    )
    default_recipient_groups = models.ManyToManyField(
        RecipientGroup, verbose_name="默认印送对象", blank=True, related_name="+"
    )
    default_recipient_departments = models.ManyToManyField(
        "budget.Department", verbose_name="默认印送单位", blank=True, related_name="+"
    )
    is_active = models.BooleanField("启用", default=True)
    sort_order = models.PositiveIntegerField("排序", default=0)

    class Meta:
        verbose_name = "资料类型"
        verbose_name_plural = "资料类型"
        ordering = ["sort_order", "name"]

    def __str__(self):
        return self.name

    def clean(self):
        if self.responsible_kind == ResponsibleKind.DEPARTMENT and not self.responsible_department:
            raise ValidationError(
                {"responsible_department": "责任方为报送单位时，请选择报送单位。"}
            )


class ScheduledItem(models.Model):
    """One material due for one period: 2026年第三季度简报, due 15 working days after 9月30日."""

    material_type = models.ForeignKey(
        MaterialType, verbose_name="资料类型", on_delete=models.PROTECT, related_name="items"
    )
    year = models.PositiveSmallIntegerField("年度")
    period = models.PositiveSmallIntegerField(
        "期间", help_text="季度 1-4、半年 1-2、月份 1-12、年度 1；不定期为 0"
    )
    title = models.CharField("事项", max_length=200)
    period_start = models.DateField("期间开始")
    period_end = models.DateField("期间结束")
    due_date = models.DateField("截止日期")
    due_provisional = models.BooleanField(
        "截止日期暂定", default=False, help_text="当年节假日安排尚未录入，截止日期可能变化"
    )
    status = models.CharField(
        "状态", max_length=16, choices=ItemStatus.choices, default=ItemStatus.OPEN
    )
    done_at = models.DateTimeField("完成时间", null=True, blank=True)
    is_late = models.BooleanField("逾期完成", default=False)
    briefing = models.ForeignKey(
        "briefings.BriefingPage",
        verbose_name="简报",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="scheduled_items",
    )
    reminded_on = models.DateField("到期提醒日期", null=True, blank=True)
    overdue_reminded_on = models.DateField("逾期提醒日期", null=True, blank=True)
    note = models.TextField("备注", blank=True)

    class Meta:
        verbose_name = "报送计划"
        verbose_name_plural = "报送计划"
        ordering = ["due_date", "material_type__sort_order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["material_type", "year", "period"],
                condition=models.Q(period__gt=0),
                name="briefings_item_unique_period",
            )
        ]

    def __str__(self):
        return self.title

    @property
    def responsible_department(self):
        return self.material_type.responsible_department


class ScheduleEvent(AppendOnlyModel):
    """What happened to a scheduled item (planned, reminded, done, cancelled)."""

    item = models.ForeignKey(
        ScheduledItem, verbose_name="事项", on_delete=models.CASCADE, related_name="events"
    )
    at = models.DateTimeField("时间", auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField("事项", max_length=50)
    note = models.TextField("说明", blank=True)

    class Meta:
        verbose_name = "计划记录"
        verbose_name_plural = "计划记录"
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.item} · {self.action}"


# --- briefing pages -----------------------------------------------------------------------


class SimpleTableBlock(blocks.StructBlock):
    """A table typed as text: one row a line, cells separated by “|”."""

    title = blocks.CharBlock(label="表题", required=False, max_length=200)
    headers = blocks.CharBlock(label="表头", help_text="各列标题，以 | 分隔", max_length=1000)
    rows = blocks.TextBlock(label="表格内容", help_text="每行一行，单元格以 | 分隔")
    note = blocks.CharBlock(label="注", required=False, max_length=500)

    class Meta:
        icon = "table"
        label = "表格"
        template = "briefings/blocks/table.html"

    @staticmethod
    def split(value):
        headers = [c.strip() for c in (value.get("headers") or "").split("|")]
        rows = [
            [c.strip() for c in line.split("|")]
            for line in (value.get("rows") or "").splitlines()
            if line.strip()
        ]
        return headers, rows

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        context["headers"], context["rows"] = self.split(value)
        return context


class CaptionedImageBlock(blocks.StructBlock):
    image = ImageChooserBlock(label="图片")
    caption = blocks.CharBlock(label="图题", required=False, max_length=200)

    class Meta:
        icon = "image"
        label = "图片"
        template = "briefings/blocks/image.html"


def briefing_body_blocks():
    return [
        ("heading", blocks.CharBlock(label="小标题", form_classname="title")),
        ("paragraph", blocks.RichTextBlock(label="段落", features=["bold", "italic", "ol", "ul"])),
        ("table", SimpleTableBlock()),
        ("image", CaptionedImageBlock()),
        *figure_blocks(),  # 预算, 政府债务, 国有资产, 审计整改 (supervision/blocks.py)
    ]


class BriefingIndexPage(Page):
    """工作资料库: the published briefings are its children."""

    intro = models.TextField("导语", blank=True)

    content_panels = Page.content_panels + ["intro"]
    parent_page_types = ["cms.HomePage"]
    subpage_types = ["briefings.BriefingPage"]
    max_count = 1

    class Meta:
        verbose_name = "工作资料库"

    def serve(self, request, *args, **kwargs):
        from .services import readable_briefings
        from .subscriptions import may_subscribe

        if not request.user.is_authenticated:
            raise PermissionDenied("请先登录。")
        pages = readable_briefings(request.user).order_by("-issue_year", "-issue_number")
        subscriber = may_subscribe(request.user)
        if not pages.exists() and not request.user.has_perm(READ_PERMISSION) and not subscriber:
            raise PermissionDenied("您的角色无权阅读简报。")
        return render(
            request,
            "briefings/index_page.html",
            {
                "page": self,
                "briefings": pages[:200],
                "section": "library",
                "may_subscribe": subscriber,
            },
        )


class BriefingPermissionTester(PagePermissionTester):
    """Only the person who signs off (负责同志) may publish a briefing; drafters submit it."""

    def can_publish(self):
        from .services import is_sign_off_person

        return super().can_publish() and is_sign_off_person(self.user)


class BriefingPage(Page):
    """One issue of a briefing (简报) or report: 第×期 is given on first publication."""

    material_type = models.ForeignKey(
        MaterialType, verbose_name="资料类型", on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField("年度")
    period = models.PositiveSmallIntegerField("期间", default=0, help_text="季度 1-4、半年 1-2")
    period_label = models.CharField("期间说明", max_length=50, blank=True)
    editor = models.CharField("编印单位", max_length=100, default=default_editor)
    editor_note = models.TextField("编者按", blank=True)
    body = StreamField(briefing_body_blocks(), verbose_name="正文", blank=True)
    attachments = StreamField(
        [("document", DocumentChooserBlock(label="附件"))], verbose_name="附件", blank=True
    )
    recipient_groups = ParentalManyToManyField(
        RecipientGroup, verbose_name="印送对象", blank=True, related_name="+"
    )
    recipient_departments = ParentalManyToManyField(
        "budget.Department", verbose_name="印送单位", blank=True, related_name="+"
    )
    # Readers who subscribed to this kind of material when the draft was made (they may
    # read the issue and are pushed to through the channels they chose).
    recipient_readers = ParentalManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name="订阅读者", blank=True, related_name="+"
    )
    print_count = models.PositiveIntegerField("印数", default=default_print_count)
    # The last month of budget execution data the draft was computed from (set when drafted
    # from data); less than the period's last month means the period's data is incomplete.
    data_month = models.PositiveSmallIntegerField(
        "数据截至月份", null=True, blank=True, editable=False
    )
    # Kept across revisions (see with_content_json): given once, never reused.
    issue_year = models.PositiveSmallIntegerField("期号年度", null=True, blank=True, editable=False)
    issue_number = models.PositiveIntegerField("期号", null=True, blank=True, editable=False)

    content_panels = [
        # drafting from the schedule opens this editor: a way back to the site's own pages
        HelpPanel(template="briefings/admin/back_links.html", heading="返回网站"),
        *Page.content_panels,
        MultiFieldPanel(
            [
                FieldRowPanel(["material_type", "year", "period"]),
                FieldRowPanel(["period_label", "editor", "print_count"]),
            ],
            heading="基本信息",
        ),
        FieldPanel("editor_note"),
        FieldPanel("body"),
        FieldPanel("attachments"),
        MultiFieldPanel(
            [
                FieldPanel("recipient_groups"),
                FieldPanel("recipient_departments"),
                FieldPanel("recipient_readers"),
            ],
            heading="印送",
        ),
    ]
    parent_page_types = ["briefings.BriefingIndexPage"]
    subpage_types = []

    search_fields = Page.search_fields + [
        index.SearchField("editor_note"),
        index.SearchField("body"),
        index.SearchField("period_label"),
        index.FilterField("year"),
        index.FilterField("issue_year"),
    ]

    class Meta:
        verbose_name = "简报"
        verbose_name_plural = "简报"
        constraints = [
            models.UniqueConstraint(
                fields=["issue_year", "issue_number"],
                condition=models.Q(issue_number__isnull=False),
                name="briefings_issue_number_unique",
            )
        ]

    @property
    def period_end_month(self) -> int | None:
        from .services import period_end_month

        if not self.period:
            return None
        return period_end_month(self.material_type.cadence, self.period)

    @property
    def data_incomplete(self) -> bool:
        """Drafted from data that stops before the period's last month."""
        end = self.period_end_month
        return bool(self.data_month and end and self.data_month < end)

    @property
    def issue_label(self) -> str:
        if not self.issue_number:
            return "（发布时编号）"
        return f"{self.issue_year}年第{self.issue_number}期"

    def with_content_json(self, content):
        obj = super().with_content_json(content)
        # the number belongs to the page, not to a revision: a later revision keeps it
        obj.issue_year = self.issue_year
        obj.issue_number = self.issue_number
        return obj

    def permissions_for_user(self, user):
        return BriefingPermissionTester(user, self)

    def publish(self, revision, user=None, *args, **kwargs):
        from .services import check_may_publish

        check_may_publish(self, revision, user)
        self._publishing_user = user
        return super().publish(revision, user, *args, **kwargs)

    def serve(self, request, *args, **kwargs):
        from .services import can_read_briefing

        if not can_read_briefing(request.user, self):
            raise PermissionDenied("您无权阅读这份简报。")
        from cms.usage.services import record_restricted_view

        record_restricted_view(request, self)
        return render(
            request,
            "briefings/briefing_page.html",
            {
                "page": self,
                "renditions": self.renditions.filter(status=RenditionStatus.OK).order_by(
                    "kind", "-created_at"
                ),
                "may_render": request.user.has_perm(MANAGE_PERMISSION),
                "masthead": getattr(settings, "BRIEFINGS_MASTHEAD", ""),
                "section": "library",
            },
        )

    def recipient_names(self) -> list[str]:
        names = [g.name for g in self.recipient_groups.all()]
        names += [d.name for d in self.recipient_departments.all()]
        readers = [str(u) for u in self.recipient_readers.filter(is_active=True)]
        if readers:
            names.append("订阅读者（" + "、".join(readers) + "）")
        return names


class BriefingEvent(AppendOnlyModel):
    """Submitted, approved, sent back, numbered, published, pushed, rendered."""

    page = models.ForeignKey(
        BriefingPage, verbose_name="简报", on_delete=models.CASCADE, related_name="events"
    )
    at = models.DateTimeField("时间", auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField("事项", max_length=50)
    note = models.TextField("说明", blank=True)

    class Meta:
        verbose_name = "简报记录"
        verbose_name_plural = "简报记录"
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.page} · {self.action}"


class IssueCounter(models.Model):
    """The last 第×期 given in a year; locked while a number is taken."""

    year = models.PositiveSmallIntegerField("年度", unique=True)
    last_number = models.PositiveIntegerField("已用至", default=0)

    class Meta:
        verbose_name = "简报期号"
        verbose_name_plural = "简报期号"

    def __str__(self):
        return f"{self.year}年 已用至第{self.last_number}期"


CONFIRM_INCOMPLETE = "approve_incomplete"
CONFIRMED_INCOMPLETE = "确认数据不完整"


class HeadApprovalTask(Task):
    """A workflow step only one named person (the budget office head, 负责同志) may approve."""

    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="负责同志",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="只有此人可以批准或退回。",
    )

    admin_form_fields = Task.admin_form_fields + ["approver"]

    class Meta:
        verbose_name = "负责同志审批"
        verbose_name_plural = "负责同志审批"

    def _is_approver(self, user) -> bool:
        return bool(user and user.is_authenticated and user.pk == self.approver_id)

    def user_can_access_editor(self, obj, user):
        return self._is_approver(user)

    def locked_for_user(self, obj, user):
        # while the head reviews, the drafter cannot change what is being reviewed
        return not self._is_approver(user)

    def user_can_lock(self, obj, user):
        return self._is_approver(user)

    def get_actions(self, obj, user):
        if not self._is_approver(user):
            return []
        if getattr(obj, "data_incomplete", False):
            # a period-end briefing whose data stops early: approval states it knowingly
            return [
                ("reject", "退回修改", True),
                (
                    CONFIRM_INCOMPLETE,
                    f"确认数据截至{obj.data_month}月并批准",
                    True,
                ),
            ]
        return [
            ("reject", "退回修改", True),
            ("approve", "批准", False),
            ("approve", "附意见批准", True),
        ]

    def on_action(self, task_state, user, action_name, **kwargs):
        if not self._is_approver(user):
            raise PermissionDenied("只有负责同志可以审批简报。")
        page = task_state.workflow_state.content_object.specific
        if action_name == CONFIRM_INCOMPLETE:
            BriefingEvent.objects.create(
                page=page,
                actor=user,
                action=CONFIRMED_INCOMPLETE,
                note=f"数据截至{page.data_month}月，本期应至{page.period_end_month}月",
            )
            action_name = "approve"
        elif action_name == "approve" and getattr(page, "data_incomplete", False):
            raise PermissionDenied(
                f"本期数据截至{page.data_month}月，未覆盖全期，须选择“确认数据截至"
                f"{page.data_month}月并批准”。"
            )
        return super().on_action(task_state, user, action_name, **kwargs)

    def get_task_states_user_can_moderate(self, user, **kwargs):
        if self._is_approver(user):
            return self.task_states.filter(status=TaskState.STATUS_IN_PROGRESS)
        return TaskState.objects.none()

    @classmethod
    def get_description(cls):
        return "只有指定的负责同志可以批准或退回"


class BriefingRendition(models.Model):
    """A DOCX or PDF made from one published revision, stored whole with its digest."""

    page = models.ForeignKey(
        BriefingPage, verbose_name="简报", on_delete=models.CASCADE, related_name="renditions"
    )
    revision_id = models.PositiveBigIntegerField("版本", null=True, blank=True)
    kind = models.CharField("格式", max_length=8, choices=RenditionKind.choices)
    status = models.CharField("状态", max_length=8, choices=RenditionStatus.choices)
    file = models.FileField("文件", upload_to="briefings/renditions/%Y/", blank=True)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True)
    size = models.PositiveIntegerField("大小（字节）", default=0)
    error = models.TextField("错误说明", blank=True)
    attempts = models.PositiveSmallIntegerField("尝试次数", default=1)
    created_at = models.DateTimeField("生成时间", auto_now_add=True)

    class Meta:
        verbose_name = "简报文件"
        verbose_name_plural = "简报文件"
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.page} · {self.get_kind_display()}"

    @property
    def filename(self) -> str:
        return f"{self.page.issue_label}{self.page.title}.{self.kind}"


# --- department uploads ------------------------------------------------------------------


class DepartmentUpload(index.Indexed, models.Model):
    """A material a department pushed for a scheduled item: the file, its text, when."""

    item = models.ForeignKey(
        ScheduledItem, verbose_name="报送事项", on_delete=models.PROTECT, related_name="uploads"
    )
    department = models.ForeignKey(
        "budget.Department", verbose_name="报送单位", on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField("标题", max_length=200)
    file = models.FileField("文件", upload_to="briefings/uploads/%Y/%m/")
    filename = models.CharField("原文件名", max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64)
    text = models.TextField("提取文本", blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="上传人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)
    is_late = models.BooleanField("逾期报送", default=False)

    search_fields = [
        index.SearchField("title", boost=2),
        index.SearchField("text"),
        index.AutocompleteField("title"),
        index.FilterField("department_id"),
    ]

    class Meta:
        verbose_name = "部门报送材料"
        verbose_name_plural = "部门报送材料"
        ordering = ["-uploaded_at", "-pk"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("briefings:upload", args=[self.pk])


# --- subscriptions (who chose which kinds of material, by which channel) ------------------


class MaterialSubscription(models.Model):
    """One reader's choice for one kind of material on one channel (站内消息 or 电子邮件).
    Changed only through briefings.subscriptions (its transition table)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="读者",
        on_delete=models.CASCADE,
        related_name="material_subscriptions",
    )
    material_type = models.ForeignKey(
        MaterialType,
        verbose_name="资料类型",
        on_delete=models.CASCADE,
        related_name="subscriptions",
    )
    channel = models.CharField("渠道", max_length=8, choices=SubscriptionChannel.choices)
    status = models.CharField(
        "状态",
        max_length=16,
        choices=SubscriptionStatus.choices,
        default=SubscriptionStatus.UNSUBSCRIBED,
    )
    changed_at = models.DateTimeField("变更时间", null=True, blank=True)

    class Meta:
        verbose_name = "资料订阅"
        verbose_name_plural = "资料订阅"
        ordering = ["material_type__sort_order", "material_type__name", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "material_type", "channel"], name="briefings_subscription_unique"
            )
        ]

    def __str__(self):
        return f"{self.user} · {self.material_type} · {self.get_channel_display()}"


class SubscriptionEvent(StepEvent):
    """订阅 or 退订 of one kind on one channel: who, when, from which state to which."""

    subscription = models.ForeignKey(
        MaterialSubscription, verbose_name="订阅", on_delete=models.CASCADE, related_name="events"
    )

    class Meta:
        verbose_name = "订阅记录"
        verbose_name_plural = "订阅记录"
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.subscription} · {self.action}"
