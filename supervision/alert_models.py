"""预警 (alerts) and the rules that raise them. They moved here from budget/ (issue 18); the
tables keep their names (budget_alertrule, budget_alert, budget_alertevent) so no data moved."""

from django.conf import settings
from django.db import models
from wagtail.admin.panels import FieldPanel

from budget.choices import BudgetKind
from budget.models import Department
from cms.fields import OrderedJSONField
from cms.usage.models import StepEvent

from .choices import AlertGrade, AlertStatus, RuleKind, RuleScope


class AlertRule(models.Model):
    """A rule staff configure: what to watch, its threshold and the grade of what it finds."""

    name = models.CharField("规则名称", max_length=100)
    kind = models.CharField("规则类型", max_length=32, choices=RuleKind.choices)
    scope = models.CharField(
        "比较层级",
        max_length=16,
        choices=RuleScope.choices,
        default=RuleScope.CATEGORY,
        help_text="仅用于“执行进度落后于序时进度”。",
    )
    budget = models.CharField(
        "预算类型", max_length=16, choices=BudgetKind.choices, default=BudgetKind.GENERAL
    )
    threshold = models.DecimalField(
        "阈值",
        max_digits=8,
        decimal_places=2,
        help_text="进度落后：百分点；12月支出：占全年的百分比；决算偏离：百分比；三公经费：超出预算的百分比（0 表示任何超出）；"
        "债务余额接近限额：余额占限额的百分比；债务率、偿债率、利息支出率：警戒线（%）；"
        "债券到期未落实偿还资金来源：提前预警的月数；"
        "收支不平衡：差额占收入总计的百分比；转移支付下达进度：落后序时进度的百分点；"
        "结转结余：未支出部分占调整预算的百分比；税收收入占比：最低占比（%）；人工发现问题：不使用。",
    )
    min_amount = models.DecimalField(
        "最小金额（万元）",
        max_digits=14,
        decimal_places=2,
        default=0,
        help_text="调整预算数低于此值的科目或单位不参与比较，避免小额科目误报。",
    )
    grade = models.CharField(
        "等级", max_length=16, choices=AlertGrade.choices, default=AlertGrade.GENERAL
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="默认负责人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    is_active = models.BooleanField("启用", default=True)

    panels = [
        FieldPanel("name"),
        FieldPanel("kind"),
        FieldPanel("scope"),
        FieldPanel("budget"),
        FieldPanel("threshold"),
        FieldPanel("min_amount"),
        FieldPanel("grade"),
        FieldPanel("owner"),
        FieldPanel("is_active"),
    ]

    class Meta:
        db_table = "budget_alertrule"  # the table keeps the name it had under budget/
        verbose_name = "预警规则"
        verbose_name_plural = "预警规则"
        ordering = ["name"]

    def __str__(self):
        return self.name


class Alert(models.Model):
    """预警: what a rule found for one subject or department in one period."""

    rule = models.ForeignKey(
        AlertRule, verbose_name="规则", on_delete=models.PROTECT, related_name="alerts"
    )
    key = models.CharField("对象键", max_length=200)
    year = models.PositiveSmallIntegerField("年度")
    month = models.PositiveSmallIntegerField("月份", default=0)
    budget = models.CharField("预算类型", max_length=16, choices=BudgetKind.choices)
    code = models.CharField("科目编码", max_length=12, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name="预算单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alerts",
    )
    title = models.CharField("标题", max_length=300)
    description = models.TextField("问题描述", blank=True)
    figures = OrderedJSONField("相关数据", default=dict)
    grade = models.CharField("等级", max_length=16, choices=AlertGrade.choices)
    status = models.CharField(
        "状态", max_length=16, choices=AlertStatus.choices, default=AlertStatus.NEW
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="负责人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="budget_alerts",
    )
    source_query = models.ForeignKey(
        "supervision.QueryRequest",
        verbose_name="来源查询",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="problems",
        help_text="人工发现问题：在哪一件查询申请的查询分析中发现（第七条）。",
    )
    due_date = models.DateField("办理期限", null=True, blank=True)
    due_provisional = models.BooleanField("期限暂定", default=False)
    overdue_notified_on = models.DateField("逾期提醒日期", null=True, blank=True)
    created_at = models.DateTimeField("产生时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        db_table = "budget_alert"
        verbose_name = "预警"
        verbose_name_plural = "预警"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "key", "year", "month"], name="budget_alert_unique"
            )
        ]

    def __str__(self):
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status != AlertStatus.CLOSED

    def is_overdue(self, today=None) -> bool:
        from django.utils import timezone

        today = today or timezone.localdate()
        return bool(self.is_open and self.due_date and self.due_date < today)


class AlertEvent(StepEvent):
    """Every step of an alert, append-only."""

    alert = models.ForeignKey(
        Alert, verbose_name="预警", on_delete=models.PROTECT, related_name="events"
    )
    due_date = models.DateField("办理期限", null=True, blank=True)

    class Meta:
        db_table = "budget_alertevent"
        verbose_name = "预警处理记录"
        verbose_name_plural = "预警处理记录"
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.alert_id} {self.action}"
