"""预算数据: classification, departments, import batches, figures and citations.

Alert rules and alerts live in supervision/ (supervision/alert_models.py).

Amounts are stored exactly, as decimals in 元 with two places; pages show them in 万元.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from wagtail.admin.panels import FieldPanel
from wagtail.fields import StreamField
from wagtail.models import Page

from .blocks import AnalysisBodyBlock
from .choices import (
    LEVEL_LENGTHS,
    LEVEL_NAMES,
    BatchFormat,
    BatchStatus,
    BudgetKind,
    ClassificationKind,
    Phase,
)

AMOUNT = {"max_digits": 18, "decimal_places": 2}


def level_of(kind: str, code: str) -> int | None:
    """0 for 类, 1 for 款, 2 for 项, 3 for 目; None when the length fits no level."""
    lengths = LEVEL_LENGTHS.get(kind, ())
    return lengths.index(len(code)) if len(code) in lengths else None


def parent_code(kind: str, code: str) -> str:
    level = level_of(kind, code)
    if not level:
        return ""
    return code[: LEVEL_LENGTHS[kind][level - 1]]


class Subject(models.Model):
    """科目: one code of the classification as valid in one year."""

    year = models.PositiveSmallIntegerField("年度", db_index=True)
    kind = models.CharField("分类", max_length=16, choices=ClassificationKind.choices)
    code = models.CharField("科目编码", max_length=12)
    name = models.CharField("科目名称", max_length=100)
    level = models.PositiveSmallIntegerField("级次", default=0)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级科目",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        verbose_name = "收支科目"
        verbose_name_plural = "收支科目"
        ordering = ["year", "kind", "code"]
        constraints = [
            models.UniqueConstraint(fields=["year", "kind", "code"], name="budget_subject_unique")
        ]

    def __str__(self):
        return f"{self.year} {self.code} {self.name}"

    def save(self, *args, **kwargs):
        self.level = level_of(self.kind, self.code) or 0
        super().save(*args, **kwargs)

    @property
    def level_name(self) -> str:
        return LEVEL_NAMES[self.level] if self.level < len(LEVEL_NAMES) else ""


class Department(models.Model):
    """预算单位, a tree: a 主管部门 holds its 二级单位."""

    code = models.CharField("单位编码", max_length=20, unique=True)
    name = models.CharField("单位名称", max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    is_active = models.BooleanField("有效", default=True)
    # 部门联络员: the accounts that act for this unit (and its 二级单位). Suggestions,
    # letters and pushed materials assigned to the unit are scoped through this link.
    liaisons = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name="部门联络员",
        blank=True,
        related_name="liaison_departments",
    )

    class Meta:
        verbose_name = "预算单位"
        verbose_name_plural = "预算单位"
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"

    def descendant_ids(self) -> list[int]:
        ids, frontier = [self.pk], [self.pk]
        while frontier:
            frontier = list(
                Department.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
            )
            ids.extend(frontier)
        return ids


class ImportBatch(models.Model):
    """One import: the file, its digest, who and when, what it replaced."""

    filename = models.CharField("文件名", max_length=255)
    file = models.FileField("原始文件", upload_to="budget/imports/%Y/%m/", blank=True)
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    file_format = models.CharField("格式", max_length=8, choices=BatchFormat.choices)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="导入人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    imported_by_name = models.CharField("导入人账号", max_length=150, blank=True)
    imported_at = models.DateTimeField("导入时间", auto_now_add=True)
    rows = models.PositiveIntegerField("行数", default=0)
    scope = models.CharField("范围", max_length=500, db_index=True)
    scope_label = models.CharField("范围说明", max_length=500, blank=True)
    status = models.CharField(
        "状态", max_length=16, choices=BatchStatus.choices, default=BatchStatus.ACTIVE
    )
    replaces = models.ForeignKey(
        "self",
        verbose_name="替换的批次",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replaced_by",
    )
    changes = models.JSONField("变化", default=dict, blank=True)

    class Meta:
        verbose_name = "导入批次"
        verbose_name_plural = "导入批次"
        ordering = ["-imported_at", "-id"]

    def __str__(self):
        return f"第{self.pk}批 {self.filename}"


class FigureQuerySet(models.QuerySet):
    def for_period(self, year, budget=None):
        qs = self.filter(year=year)
        return qs.filter(budget=budget) if budget else qs


class Figure(models.Model):
    """One amount: year, month (0 = whole year), budget, code, department, phase."""

    batch = models.ForeignKey(
        ImportBatch, verbose_name="导入批次", on_delete=models.CASCADE, related_name="figures"
    )
    year = models.PositiveSmallIntegerField("年度")
    month = models.PositiveSmallIntegerField("月份", default=0, help_text="0 表示全年")
    budget = models.CharField("预算类型", max_length=16, choices=BudgetKind.choices)
    kind = models.CharField("分类", max_length=16, choices=ClassificationKind.choices)
    code = models.CharField("科目编码", max_length=12)
    subject = models.ForeignKey(
        Subject, verbose_name="科目", on_delete=models.PROTECT, related_name="figures"
    )
    department = models.ForeignKey(
        Department,
        verbose_name="预算单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="figures",
    )
    phase = models.CharField("阶段", max_length=16, choices=Phase.choices)
    amount = models.DecimalField("金额（元）", **AMOUNT)

    objects = FigureQuerySet.as_manager()

    class Meta:
        verbose_name = "预算数据"
        verbose_name_plural = "预算数据"
        indexes = [
            models.Index(fields=["year", "budget", "phase", "month"], name="budget_fig_period"),
            models.Index(fields=["year", "kind", "code"], name="budget_fig_code"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "month", "budget", "kind", "code", "phase"],
                condition=Q(department__isnull=True),
                name="budget_figure_unique_total",
            ),
            models.UniqueConstraint(
                fields=["year", "month", "budget", "kind", "code", "phase", "department"],
                condition=Q(department__isnull=False),
                name="budget_figure_unique_department",
            ),
        ]

    def __str__(self):
        return f"{self.year}-{self.month} {self.code} {self.get_phase_display()} {self.amount}"


class FigureRollup(models.Model):
    """County totals of one code at one month end, resolved and rolled up (类/款/项).

    Written only by the importer (imports are the only writers of figures), for every
    year, budget and classification a batch touches; the execution view and
    budget_report read these few hundred rows instead of aggregating the figures."""

    year = models.PositiveSmallIntegerField("年度")
    month = models.PositiveSmallIntegerField("月份")
    budget = models.CharField("预算类型", max_length=16, choices=BudgetKind.choices)
    kind = models.CharField("分类", max_length=16, choices=ClassificationKind.choices)
    code = models.CharField("科目编码", max_length=12)
    initial = models.DecimalField("年初预算数", max_digits=20, decimal_places=2, null=True)
    adjusted = models.DecimalField("调整预算数", max_digits=20, decimal_places=2, null=True)
    month_amount = models.DecimalField("本月执行数", max_digits=20, decimal_places=2, null=True)
    cumulative = models.DecimalField("累计执行数", max_digits=20, decimal_places=2, null=True)
    final = models.DecimalField("决算数", max_digits=20, decimal_places=2, null=True)

    class Meta:
        verbose_name = "执行汇总"
        verbose_name_plural = "执行汇总"
        constraints = [
            models.UniqueConstraint(
                fields=["year", "budget", "kind", "month", "code"], name="budget_rollup_unique"
            )
        ]

    def __str__(self):
        return f"{self.year}-{self.month} {self.budget} {self.code}"


class RollupScope(models.Model):
    """Marks a year, budget and classification whose rollups are built and current."""

    year = models.PositiveSmallIntegerField("年度")
    budget = models.CharField("预算类型", max_length=16, choices=BudgetKind.choices)
    kind = models.CharField("分类", max_length=16, choices=ClassificationKind.choices)
    last_month = models.PositiveSmallIntegerField("最后执行月份", default=0)
    built_at = models.DateTimeField("汇总时间", auto_now=True)

    class Meta:
        verbose_name = "执行汇总范围"
        verbose_name_plural = "执行汇总范围"
        constraints = [
            models.UniqueConstraint(
                fields=["year", "budget", "kind"], name="budget_rollup_scope_unique"
            )
        ]

    def __str__(self):
        return f"{self.year} {self.budget} {self.kind}"


# --- figures cited by documents -------------------------------------------------------


class CitingDocument(models.TextChoices):
    PAGE = "page", "页面"
    LETTER = "letter", "函件"
    AUDIT_REPORT = "audit_report", "审计整改情况报告"


class FigureCitation(models.Model):
    """A document cites a figure; frozen citations keep the value it showed when it went out.

    The document is a published Wagtail page (``page`` set), or something that is not a page:
    a signed letter, a generated 审计查出问题整改情况报告 — named by ``document`` (its kind)
    and ``document_key`` (the letter's id, the report's year), with the title and address it
    had then. ``source`` says whose figure it is (budget/figures.py SOURCES)."""

    page = models.ForeignKey(
        Page,
        verbose_name="页面",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="budget_citations",
    )
    document = models.CharField(
        "引用文档类型", max_length=16, choices=CitingDocument.choices, default=CitingDocument.PAGE
    )
    document_key = models.CharField("引用文档编号", max_length=40)
    document_title = models.CharField("引用文档标题", max_length=300, blank=True)
    document_url = models.CharField("引用文档地址", max_length=500, blank=True)
    source = models.CharField("数据来源", max_length=16, default="budget", db_index=True)
    figure_key = models.CharField("数据键", max_length=200, db_index=True)
    spec = models.JSONField("数据说明")
    frozen = models.BooleanField("发布时冻结", default=False)
    value = models.DecimalField("发布时的值", max_digits=20, decimal_places=4, null=True)
    published_at = models.DateTimeField("发布时间")

    class Meta:
        verbose_name = "数据引用"
        verbose_name_plural = "数据引用"
        ordering = ["-published_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "document_key", "figure_key"], name="budget_citation_unique"
            ),
            models.CheckConstraint(
                condition=Q(document="page", page__isnull=False)
                | (~Q(document="page") & Q(page__isnull=True)),
                name="budget_citation_page_iff_page_document",
            ),
        ]

    def __str__(self):
        return f"{self.title} → {self.figure_key}"

    @property
    def title(self) -> str:
        if self.page_id:
            return self.page.title
        return self.document_title

    @property
    def url(self) -> str:
        if self.page_id:
            return self.page.url or ""
        return self.document_url


class BudgetAnalysisPage(Page):
    """预算分析: a written analysis that cites figures through the figure block."""

    summary = models.TextField("摘要", blank=True)
    # budget's figure block and those other apps register (supervision: 债务, 国有资产, 审计)
    body = StreamField(AnalysisBodyBlock, verbose_name="正文", blank=True)

    content_panels = Page.content_panels + [FieldPanel("summary"), FieldPanel("body")]
    template = "budget/analysis_page.html"

    class Meta:
        verbose_name = "预算分析"
